"""The six study notebooks: each a jupytext percent-format `.py` (the source,
a plain script linted by ruff), paired with a committed `.ipynb` that is
stripped and holds the same cells (`notebooks/sync_notebooks.py` writes it);
each notebook runs top to bottom (nbclient) with this interpreter's ipykernel,
and the cheapest study also runs as a plain script.

Execution happens under KERAS_BACKEND=tensorflow only (CI executes the
notebooks on one backend; the other backends skip it), in a temporary copy:
the repository's notebooks are never written.
"""

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
STUDIES = sorted(NB_DIR.glob("[0-9][0-9]_*.py"))
NOTEBOOKS = sorted(NB_DIR.glob("[0-9][0-9]_*.ipynb"))
PRESET_NAMES = sorted(p.stem for p in (ROOT / "zoo" / "recipes").glob("*.json"))

nbformat = pytest.importorskip("nbformat")


def _sync():
    """notebooks/sync_notebooks.py as a module (it imports jupytext)."""
    pytest.importorskip("jupytext")
    spec = importlib.util.spec_from_file_location("sync_notebooks",
                                                  NB_DIR / "sync_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _backend_first(code):
    """The backend is chosen before pallets_keras (and so Keras) is imported."""
    return code.index('os.environ.setdefault("KERAS_BACKEND"') < code.index("import pallets_keras")


def test_six_studies_each_paired():
    assert len(STUDIES) == 6
    assert [p.stem for p in NOTEBOOKS] == [p.stem for p in STUDIES]
    assert not (NB_DIR / "make_notebooks.py").exists()


@pytest.mark.parametrize("path", STUDIES, ids=lambda p: p.stem)
def test_study_is_a_percent_script(path):
    """Cells marked by `# %%`, and the backend chosen before Keras is imported."""
    text = path.read_text(encoding="utf-8")
    assert "\n# %% [markdown]\n" in text and "\n# %%\n" in text
    compile(text, str(path), "exec")
    assert _backend_first(text)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_stripped_and_in_sync(path):
    """No outputs in git, and the .ipynb is what sync_notebooks.py writes from the .py."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: outputs committed"
            assert cell.execution_count is None, f"{path.name}: execution count committed"
    sync = _sync()
    want = sync.build(path.with_suffix(".py"))
    assert [(c.cell_type, c.source) for c in nb.cells] == \
        [(c.cell_type, c.source) for c in want.cells], (
        f"{path.name} is out of date: run `python notebooks/sync_notebooks.py`")
    assert path.read_text(encoding="utf-8") == sync.render(want), (
        f"{path.name}: cell ids or metadata differ: run `python notebooks/sync_notebooks.py`")
    assert nb.cells[0].cell_type == "markdown", "a notebook opens with what it studies"
    assert _backend_first(next(c.source for c in nb.cells if c.cell_type == "code"))


def _presets_used(nb):
    """The zoo preset names quoted in a notebook's code cells."""
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    quoted = set(re.findall(r"""["']([a-z_]+)["']""", text))
    return sorted(quoted & set(PRESET_NAMES))


@pytest.fixture(scope="module")
def kernel_manager_factory(tmp_path_factory):
    """Kernel managers whose kernel is `sys.executable -m ipykernel_launcher`.

    A kernelspec installed in a temporary prefix pins the interpreter, so the
    notebooks run with this venv's Python and packages whatever other
    `python3` kernelspecs the machine has.
    """
    pytest.importorskip("nbclient")
    ipykernel_kernelspec = pytest.importorskip("ipykernel.kernelspec")
    from jupyter_client import KernelManager
    from jupyter_client.kernelspec import KernelSpecManager

    prefix = tmp_path_factory.mktemp("kernelspec")
    name = "pallets-keras-notebooks"
    ipykernel_kernelspec.install(kernel_name=name, prefix=str(prefix))
    kernels = prefix / "share" / "jupyter" / "kernels"
    spec = json.loads((kernels / name / "kernel.json").read_text())
    assert spec["argv"][0] == sys.executable
    ksm = KernelSpecManager(kernel_dirs=[str(kernels)])

    def make():
        return KernelManager(kernel_name=name, kernel_spec_manager=ksm)

    return make


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path, monkeypatch, backend, cpunks_cache, punks,
                       kernel_manager_factory):
    if backend != "tensorflow":
        pytest.skip("CI executes the notebooks on one backend: KERAS_BACKEND=tensorflow")
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    missing = [n for n in _presets_used(nb) if not (ROOT / "zoo" / n / "metadata.json").exists()]
    if missing:
        # tests/test_zoo.py fails on missing presets; this one names them.
        pytest.skip(f"{path.name} needs zoo presets not trained yet: {', '.join(missing)}")
    work = tmp_path / path.name
    shutil.copy(path, work)          # run a copy: outputs never reach the repository
    nb = nbformat.read(work, as_version=4)
    # A last cell reports the interpreter and backend the kernel really used.
    nb.cells.append(nbformat.v4.new_code_cell(
        "import sys, keras\nprint(sys.executable)\nprint(keras.backend.backend())"))
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    monkeypatch.setenv("PALLETS_KERAS_HOME", str(cpunks_cache))  # the cache `punks` built
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    monkeypatch.delenv("MPLBACKEND", raising=False)               # inline figures
    client = NotebookClient(nb, km=kernel_manager_factory(), timeout=300,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()                 # a failing cell raises CellExecutionError

    last = "".join(o.get("text", "") for o in nb.cells[-1].outputs).split()
    assert last == [sys.executable, "tensorflow"], last
    images = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
                 for o in c.outputs)
    assert images >= 2, f"{path.name} shows {images} figures"
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    assert nbformat.read(path, as_version=4).cells[1].outputs == []   # repo copy untouched


@pytest.mark.slow
def test_study_runs_as_a_plain_script(tmp_path, backend, cpunks_cache, punks):
    """`python notebooks/01_dataset.py` (the study that needs no model, seconds)."""
    if backend != "tensorflow":
        pytest.skip("the studies run on one backend: KERAS_BACKEND=tensorflow")
    env = dict(os.environ, KERAS_BACKEND="tensorflow", PALLETS_KERAS_HOME=str(cpunks_cache),
               TF_CPP_MIN_LOG_LEVEL="3", MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, str(NB_DIR / "01_dataset.py")], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "notebook ran in" in proc.stdout
