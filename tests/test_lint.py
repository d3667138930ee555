"""ruff (configured in pyproject.toml, [tool.ruff]) finds nothing to fix in the
library, the tests, the scripts, the benchmarks and the notebooks' `.py` sources.

Fix with `.venv/bin/ruff check --fix PATH` (imports, unused names) or by hand.
"""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.backend_independent

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["pallets_keras", "tests", "scripts", "bench", "notebooks"]


def test_ruff_check_is_clean():
    pytest.importorskip("ruff")
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise",
         *PATHS],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"ruff check found problems:\n{proc.stdout}{proc.stderr}"
