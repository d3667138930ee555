"""The README's examples run as written.

Every fenced ```python and ```bash block of README.md runs, in the order of the
README, in one temporary folder: the Python blocks in one namespace (a later
block uses the names of an earlier one), the shell lines of each bash block in
one fresh Python process. A block preceded by

    <!-- skip-test: REASON -->

is left out; the skips are few and each says why (training for minutes, the
whole test suite).

The shell lines are the README's words, split as a shell splits them, and run
in one process per block so that the Keras import is paid once:
`pallets ARGS` calls `pallets_keras.cli.main(ARGS)` (the `pallets` entry
point), `python -m MODULE ARGS` runs the module as `__main__`; any other line
goes to bash. Each must exit with status 0.

Under KERAS_BACKEND=tensorflow only: the examples call the same library code
on every backend, which the rest of the suite tests three times.
"""

import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

BLOCK = re.compile(
    r"(?:<!--\s*skip-test:\s*(?P<reason>[^\n]*?)\s*-->\s*\n)?"
    r"^```(?P<lang>[a-z]*)[ \t]*\n(?P<code>.*?)^```[ \t]*$",
    re.M | re.S)


def blocks(text=None):
    """(language, code, skip reason or None, line number) of each fenced block."""
    text = README.read_text(encoding="utf-8") if text is None else text
    out = []
    for m in BLOCK.finditer(text):
        line = text.count("\n", 0, m.start("code"))
        out.append((m.group("lang"), m.group("code"), m.group("reason"), line))
    return out


def shell_lines(code):
    """The commands of a bash block: continuations joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", code)
    return [shlex.split(line, comments=True) for line in joined.splitlines()
            if shlex.split(line, comments=True)]


# One process per bash block: each line either `pallets ...`, `python -m ...`
# or a bash command, stopped at the first failure.
DRIVER = textwrap.dedent("""
    import runpy, subprocess, sys, json
    lines = json.loads(sys.argv[1])
    for argv in lines:
        print("$ " + " ".join(argv), flush=True)
        if argv[0] == "pallets":
            from pallets_keras.cli import main
            try:
                status = main(argv[1:])
            except SystemExit as e:
                status = e.code
        elif argv[:2] == ["python", "-m"]:
            sys.argv = argv[2:]
            try:
                runpy.run_module(argv[2], run_name="__main__", alter_sys=True)
                status = 0
            except SystemExit as e:
                status = e.code
        else:
            status = subprocess.run(["bash", "-c", " ".join(argv)]).returncode
        if status not in (0, None):
            print(f"exit status {status}: {' '.join(argv)}", file=sys.stderr)
            sys.exit(1)
""")


def test_blocks_found_and_skips_explained():
    found = blocks()
    assert {lang for lang, *_ in found} == {"python", "bash"}
    skipped = [(lang, reason, line) for lang, _, reason, line in found if reason is not None]
    assert all(len(reason) >= 20 for _, reason, _ in skipped), skipped
    assert len(skipped) <= 3, f"keep the skipped blocks few: {skipped}"
    runs = [lang for lang, _, reason, _ in found if reason is None]
    assert runs.count("python") >= 2 and runs.count("bash") >= 2


def test_block_parser():
    text = "x\n```python\na = 1\n```\n<!-- skip-test: trains for a long time -->\n" \
           "```bash\npallets x \\\n    --y 1  # note\n```\n"
    (l1, c1, r1, _), (l2, c2, r2, _) = blocks(text)
    assert (l1, c1, r1) == ("python", "a = 1\n", None)
    assert (l2, r2) == ("bash", "trains for a long time")
    assert shell_lines(c2) == [["pallets", "x", "--y", "1"]]


@pytest.mark.slow
def test_readme_runs_as_written(tmp_path, monkeypatch, backend, cpunks_cache, punks):
    if backend != "tensorflow":
        pytest.skip("the README's examples run once, under KERAS_BACKEND=tensorflow")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PALLETS_KERAS_HOME", str(cpunks_cache))  # the cache `punks` built
    monkeypatch.setenv("MPLBACKEND", "Agg")
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    namespace = {"__name__": "__readme__"}
    ran = 0
    for lang, code, reason, line in blocks():
        if reason is not None:
            continue
        where = f"README.md, the {lang} block at line {line + 1}"
        if lang == "python":
            try:
                exec(compile(code, where, "exec"), namespace)
            except Exception as e:
                raise AssertionError(f"{where} failed: {type(e).__name__}: {e}") from e
        elif lang == "bash":
            import json

            proc = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(shell_lines(code))],
                                  env=env, capture_output=True, text=True, timeout=600)
            assert proc.returncode == 0, (
                f"{where} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
        ran += 1
    assert ran >= 4
    # What the examples wrote, where the README says.
    for name in ("punks.png", "grid.png", "earrings.png", "from_n01.png", "strip.png",
                 "punk1.png", "my_sprites/creatures.png"):
        assert (tmp_path / name).is_file(), name
    assert any((tmp_path / "out").iterdir())
    assert namespace["sprites"].image_size == (32, 32)


def test_examples_copy(tmp_path):
    """`python -m pallets_keras.examples DIR` writes the files the README names,
    and refuses to overwrite them unless asked."""
    from pallets_keras import examples
    from pallets_keras.errors import PalletsValueError

    written = examples.copy(tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == sorted(examples.FILES)
    assert sum(p.stat().st_size for p in written) < 20_000          # a few KB
    with pytest.raises(PalletsValueError, match="punk1.png"):
        examples.copy(tmp_path)
    assert examples.copy(tmp_path, overwrite=True) == written
    assert examples.path("my_sprites/").is_dir()
    with pytest.raises(PalletsValueError, match="no example file"):
        examples.path("nope.png")


def test_examples_ship_in_the_wheel():
    """pyproject.toml lists the examples package and its PNGs (the wheel's
    package list is explicit), so `python -m pallets_keras.examples` works
    after `pip install pallets-keras`, not only from a checkout."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "pallets_keras.examples" in setuptools["packages"]
    patterns = setuptools.get("package-data", {}).get("pallets_keras.examples", [])
    from pallets_keras import examples

    for name in examples.FILES:
        assert any(Path("data", name).match(p) for p in patterns), (name, patterns)
