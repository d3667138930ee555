"""Writes each study's `.ipynb` from its jupytext percent-format `.py`.

The `.py` files (`notebooks/[0-9][0-9]_*.py`) are the source: plain Python
scripts (`python notebooks/01_dataset.py` runs one), linted by ruff, whose
`# %%` comments mark the notebook cells. The `.ipynb` files are generated from
them with outputs stripped and stable cell ids, so regenerating gives no diff:

    .venv/bin/python notebooks/sync_notebooks.py           # write every .ipynb
    .venv/bin/python notebooks/sync_notebooks.py 03        # only 03_*.ipynb
    .venv/bin/python notebooks/sync_notebooks.py --check   # exit 1 when one is stale

Edit the `.py` (or the notebook in Jupyter with the jupytext extension, which
keeps the pair in sync), run this, and commit both. `tests/test_notebooks.py`
checks the pairs and executes every notebook under KERAS_BACKEND=tensorflow.
"""

import argparse
import sys
from pathlib import Path

import jupytext
import nbformat

HERE = Path(__file__).resolve().parent

METADATA = {
    "jupytext": {"formats": "ipynb,py:percent"},
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def sources(names=()):
    """The studies' `.py` files, all or those whose name or number is in `names`."""
    paths = sorted(HERE.glob("[0-9][0-9]_*.py"))
    if names:
        paths = [p for p in paths if p.stem in names or p.name in names
                 or p.name.split("_")[0] in names]
    return paths


def build(py_path):
    """The stripped notebook of one `.py` study (an `nbformat.NotebookNode`)."""
    py_path = Path(py_path)
    nb = jupytext.read(py_path, fmt="py:percent")
    stem = py_path.name.split("_")[0]
    for i, cell in enumerate(nb.cells):
        cell.id = f"{stem}-{i:02d}"          # stable ids: regenerating gives no diff
        cell.metadata = {}
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata = {k: dict(v) for k, v in METADATA.items()}
    nbformat.validate(nb)
    return nb


def render(nb):
    """The file text `main` writes for a notebook."""
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*",
                        help="studies to write, e.g. 03 or 03_generation_with_vae")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when an .ipynb differs from its .py")
    args = parser.parse_args(argv)
    stale = []
    for py in sources(args.names):
        ipynb = py.with_suffix(".ipynb")
        text = render(build(py))
        if ipynb.exists() and ipynb.read_text(encoding="utf-8") == text:
            continue
        if args.check:
            stale.append(ipynb.name)
            continue
        ipynb.write_text(text, encoding="utf-8")
        print(f"wrote notebooks/{ipynb.name}")
    if stale:
        print("out of date (run `python notebooks/sync_notebooks.py`): " + ", ".join(stale),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
