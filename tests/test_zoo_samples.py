"""The sample figures the zoo publishes hold: re-measured through
`model.sample` and the punk judge, against the numbers each preset records
(docs/zoo.md, README), each preset once per `make test` on one backend in
turn (the demo's preset on all three)."""

import pytest
from _backend_share import backend_share

from pallets_keras import zoo
from pallets_keras.datasets import cpunks
from pallets_keras.judge import Judge
from pallets_keras.sample_quality import sample_figures

# Sampling is seeded (numpy draws the codes) and decoding is an argmax, so a
# backend changes a figure only through float rounding at near-ties.
TOLERANCE = {"fpd": ("rel", 0.05), "nearest_hamming": ("rel", 0.05)}
DEFAULT_ABS = 0.03


@pytest.fixture(scope="module")
def punk_split(cpunks_cache):
    return cpunks.load(cache_dir=cpunks_cache).split()


# Every preset that records sample figures is re-measured once per `make test`:
# the demo's preset on every backend, the others dealt out among the three
# backends (tests/_backend_share.py), so each backend decodes a third of the zoo.
EVERY_BACKEND = ("onehot_conv_vae",)


def _presets_here():
    names = [n for n in zoo.list_models()
             if any(k.startswith("sample_") for k in zoo.info(n)["metrics"])]
    return backend_share(names, every=EVERY_BACKEND)


@pytest.mark.slow
@pytest.mark.parametrize("name", _presets_here())
def test_recorded_sample_figures_hold(name, punk_split):
    train, test = punk_split
    recorded = {k[len("sample_"):]: v for k, v in zoo.info(name)["metrics"].items()
                if k.startswith("sample_")}
    assert {"fpd", "precision", "recall", "density", "coverage", "novelty"} <= set(recorded)
    model = zoo.load(name, compile=False)
    assert model.default_prior == zoo.info(name)["sample_prior"]
    got = sample_figures(model, Judge.from_preset("punk_judge"), test, train, n=1000, seed=0)
    for key, want in recorded.items():
        kind, tol = TOLERANCE.get(key, ("abs", DEFAULT_ABS))
        if kind == "rel":
            assert got[key] == pytest.approx(want, rel=tol), key
        else:
            assert got[key] == pytest.approx(want, abs=tol), key


@pytest.mark.slow
def test_the_fitted_prior_beats_the_training_prior(punk_split):
    """What the priors are for: on onehot_conv_vae the fitted mixture draws
    samples nearer the real punks than N(0, I) does."""
    train, test = punk_split
    model = zoo.load("onehot_conv_vae", compile=False)
    judge = Judge.from_preset("punk_judge")
    fitted = sample_figures(model, judge, test, n=500, seed=0)
    n01 = sample_figures(model, judge, test, n=500, seed=0, prior="training")
    assert model.default_prior == "gaussian_mixture"
    assert fitted["fpd"] < 0.7 * n01["fpd"]
    assert fitted["precision"] > n01["precision"] and fitted["coverage"] > n01["coverage"]


# Once per make test: the judge's per-backend figures are re-measured on every
# backend by tests/test_judge.py, the baseline is numpy.
@pytest.mark.backend_independent
def test_the_published_real_data_floor_and_baseline_hold(punk_split):
    """docs/zoo.md's yardsticks: the real-data floor (1,000 training punks
    against the test split, through the judge; recorded in
    docs/samples/figures.json) and the constant-image baseline."""
    import json
    import re
    from pathlib import Path

    from pallets_keras.metrics import baseline
    from pallets_keras.sample_quality import real_floor

    train, test = punk_split
    docs = Path(__file__).resolve().parents[1] / "docs"
    recorded = json.loads((docs / "samples" / "figures.json").read_text())["floor"]
    got = real_floor(Judge.from_preset("punk_judge"), train, test, n=1000, seed=0)
    for key, want in recorded.items():
        kind, tol = TOLERANCE.get(key, ("abs", DEFAULT_ABS))
        assert got[key] == (pytest.approx(want, rel=tol) if kind == "rel"
                            else pytest.approx(want, abs=tol)), key
    text = (docs / "zoo.md").read_text()
    pixel, fg = re.search(r"Baseline .*?pixel accuracy ([\d.]+)%, foreground ([\d.]+)%",
                          text).groups()
    b = baseline(train.indices, test.indices, train.palette)
    assert f"{100 * b['pixel_accuracy']:.2f}" == pixel
    assert f"{100 * b['pixel_accuracy_foreground']:.2f}" == fg
