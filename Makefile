# Two commands do all set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BACKENDS := tensorflow jax torch
PYTEST_ARGS ?=

.PHONY: demo test install clean bench constraints notebooks lint

# constraints.txt pins every package to the version the tests passed with, so a
# new release upstream cannot break a fresh clone; refresh it with
# `make constraints` after upgrading on purpose (and re-running `make test`).
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[jax,torch,dev]"
	touch $@

constraints: install
	$(PY) -m pip freeze --exclude-editable | sed 's/+cpu$$//' > constraints.txt

install: $(VENV)/.installed

# The main job: a grid of 64 punks from the best-measuring unconditional preset
# (onehot_conv_vae with its fitted prior; docs/zoo.md#samples).
demo: install
	$(VENV)/bin/pallets generate onehot_conv_vae -n 64 --seed 0 --scale 4 -o out/punks.png

# The whole suite once per backend, on two pytest-xdist workers (the tests are
# mostly single-threaded compile and Python time); fails if any backend fails.
test: install
	@status=0; for b in $(BACKENDS); do \
	  echo "=== KERAS_BACKEND=$$b"; \
	  KERAS_BACKEND=$$b $(PY) -m pytest -q -n 2 $(PYTEST_ARGS) || status=1; \
	done; exit $$status

bench: install
	$(PY) bench/bench_data.py
	$(PY) bench/bench_palette_head.py
	$(PY) bench/bench_time_to_quality.py
	$(PY) bench/bench_models.py

clean:
	rm -rf $(VENV) build dist *.egg-info

# The notebooks' .ipynb files, written from their jupytext sources (outputs stripped).
notebooks: install
	$(PY) notebooks/sync_notebooks.py

lint: install
	$(VENV)/bin/ruff check pallets_keras tests scripts bench notebooks
