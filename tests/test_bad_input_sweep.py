"""Issue #15's sweep of bad inputs (scripts/sweep_bad_inputs.py): no user
data lost, no bad value accepted, no traceback for a user's mistake, and at
most 3 messages that do not name what is wrong.

Run once (`backend_independent`): arguments are checked before any backend
call, and the model work behind the valid edge cases is tested on every
backend by tests/test_validation.py and the model tests."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "sweep_bad_inputs.py"


@pytest.fixture(scope="module")
def sweep():
    spec = importlib.util.spec_from_file_location("sweep_bad_inputs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.backend_independent
def test_the_sweep_finds_no_lost_data_no_accepted_bad_value_and_few_unclear(sweep, tmp_path):
    cases = sweep.run_sweep(tmp_path)
    counts = sweep.summary(cases)
    bad = [(c.id, c.outcome, c.message) for c in cases if c.outcome not in ("clear", "right")]
    assert counts["lost"] == counts["accepted"] == counts["traceback"] == 0, bad
    assert counts["unclear"] <= 3, bad
    # The sweep covers both surfaces and every kind of case.
    assert len(cases) >= 90
    assert {c.surface for c in cases} == {"api", "cli"}
    assert counts["right"] >= 5 and any(c.kept is not None for c in cases)


@pytest.mark.backend_independent
def test_the_sweep_can_fail(sweep, tmp_path):
    """Its judge is not blind: a silent acceptance, an unnamed error and a
    lost file are each reported as such."""
    from pallets_keras.errors import PalletsValueError

    def raise_unnamed(ctx):
        raise PalletsValueError("something is wrong")

    def delete(ctx):
        (ctx["root"] / "mine.txt").unlink()

    ctx = {"root": tmp_path}
    (tmp_path / "mine.txt").write_text("x")
    accepted = sweep.Case("accepts", "api", lambda c: 1, ("seed",))
    unnamed = sweep.Case("unnamed", "api", raise_unnamed, ("seed",))
    lost = sweep.Case("deletes", "api", delete, ("seed",),
                      kept=lambda c: (c["root"] / "mine.txt").exists())
    assert sweep._run_api(accepted, ctx) == "accepted"
    assert sweep._run_api(unnamed, ctx) == "unclear"
    sweep._run_api(lost, ctx)
    assert not lost.kept(ctx)
