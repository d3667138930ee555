"""Priors: the registry, the fits against known answers, sampling through
`model.sample(prior=...)`, and storage in presets."""

import numpy as np
import pytest

from pallets_keras import zoo
from pallets_keras.errors import PalletsKeyError, PalletsValueError
from pallets_keras.models import build
from pallets_keras.priors import (
    AutoregressiveCategoricalPrior,
    CategoricalMixturePrior,
    GaussianMixturePrior,
    StandardNormalPrior,
    UniformCategoricalPrior,
    fit_prior,
    get_prior_class,
    prior_names,
)

TINY = dict(filters=(8, 16), units=(32,), latent_dim=6, embedding_dim=4, pixel_channels=4,
            categorical_dim=4, seed=0)


def tiny(variant, ds):
    return build(variant, palette=ds.palette, image_size=ds.image_size,
                 label_names=ds.label_names, **TINY)


def test_registry_knows_every_prior():
    assert prior_names() == ["autoregressive_categorical", "categorical_mixture",
                             "gaussian_mixture", "label_posterior", "standard_normal",
                             "uniform_categorical"]
    assert get_prior_class("gaussian_mixture") is GaussianMixturePrior
    with pytest.raises(PalletsKeyError, match="known"):
        get_prior_class("flow")


def test_gaussian_mixture_recovers_two_clusters():
    rng = np.random.default_rng(0)
    codes = np.concatenate([rng.normal(-5, 0.5, (700, 2)), rng.normal(5, 1.0, (300, 2))])
    prior = GaussianMixturePrior.fit(codes, num_components=2, seed=0)
    order = np.argsort(prior.means[:, 0])
    np.testing.assert_allclose(prior.weights[order], [0.7, 0.3], atol=0.02)
    np.testing.assert_allclose(prior.means[order], [[-5, -5], [5, 5]], atol=0.15)
    z = prior.sample(4000, np.random.default_rng(1))
    assert z.dtype == np.float32 and z.shape == (4000, 2)
    assert abs((z[:, 0] < 0).mean() - 0.7) < 0.03
    # Spread of the wide cluster's draws is its own (1.0), not the narrow one's.
    assert np.std(z[z[:, 0] > 0, 0]) == pytest.approx(1.0, abs=0.1)
    half = GaussianMixturePrior.fit(codes, num_components=2, seed=0, scale=0.5)
    zh = half.sample(4000, np.random.default_rng(1))
    assert np.std(zh[zh[:, 0] > 0, 0]) == pytest.approx(0.5, abs=0.06)


def test_categorical_mixture_keeps_co_occurrence():
    # Two variables of 3 classes that always agree: independent uniform
    # categoricals agree a third of the time, the mixture nearly always.
    rng = np.random.default_rng(0)
    c = rng.integers(0, 3, 3000)
    classes = np.stack([c, c], 1)
    prior = CategoricalMixturePrior.fit(classes, num_classes=3, num_components=3, seed=0)
    z = prior.sample(2000, np.random.default_rng(1)).reshape(2000, 2, 3).argmax(-1)
    assert (z[:, 0] == z[:, 1]).mean() > 0.97
    assert np.bincount(z[:, 0], minlength=3).min() > 550  # all three classes drawn
    u = UniformCategoricalPrior(2, 3).sample(2000, np.random.default_rng(1))
    u = u.reshape(2000, 2, 3).argmax(-1)
    assert (u[:, 0] == u[:, 1]).mean() < 0.4


def test_autoregressive_categorical_learns_each_factor():
    # c0 ~ (0.5, 0.3, 0.2); c1 = c0; c2 = (c0 + 1) % 3 nine times in ten,
    # else uniform. The exact log-probability of each code is known.
    rng = np.random.default_rng(0)
    c0 = rng.choice(3, 6000, p=[0.5, 0.3, 0.2])
    c2 = np.where(rng.random(6000) < 0.9, (c0 + 1) % 3, rng.integers(0, 3, 6000))
    classes = np.stack([c0, c0, c2], 1)
    prior = AutoregressiveCategoricalPrior.fit(classes, num_classes=3, regularization=0.01)
    np.testing.assert_allclose(np.exp(prior.bias[0]) / np.exp(prior.bias[0]).sum(),
                               [0.5, 0.3, 0.2], atol=0.02)
    z = prior.sample(3000, np.random.default_rng(1))
    assert z.shape == (3000, 9) and z.dtype == np.float32 and (z.sum(1) == 3).all()
    z = z.reshape(3000, 3, 3).argmax(-1)
    assert (z[:, 0] == z[:, 1]).mean() > 0.99
    assert abs((z[:, 2] == (z[:, 0] + 1) % 3).mean() - (0.9 + 0.1 / 3)) < 0.02
    assert abs(np.bincount(z[:, 0], minlength=3)[0] / 3000 - 0.5) < 0.03
    # log p(0, 0, 1) = log 0.5 + log 1 + log(0.9 + 0.1/3)
    got = prior.log_prob(np.array([[0, 0, 1], [0, 1, 1]]))
    assert got[0] == pytest.approx(np.log(0.5) + np.log(0.9 + 0.1 / 3), abs=0.05)
    assert got[1] < got[0] - 5  # c1 != c0 was never seen
    # Stored as arrays: a round trip draws the same codes.
    again = AutoregressiveCategoricalPrior.from_config(prior.get_config(), prior.get_arrays())
    np.testing.assert_array_equal(again.sample(50, np.random.default_rng(2)),
                                  prior.sample(50, np.random.default_rng(2)))
    with pytest.raises(PalletsValueError, match="integer array"):
        AutoregressiveCategoricalPrior.fit(classes.astype(float), num_classes=3)


def test_training_priors_draw_what_sample_always_drew():
    # The default prior reproduces the draws of earlier versions exactly.
    rng = np.random.default_rng(3)
    expected = rng.standard_normal((5, 6)).astype("float32")
    np.testing.assert_array_equal(StandardNormalPrior(6).sample(5, np.random.default_rng(3)),
                                  expected)
    rng = np.random.default_rng(3)
    onehot = np.eye(4, dtype="float32")[rng.integers(0, 4, size=(5, 8))].reshape(5, -1)
    np.testing.assert_array_equal(
        UniformCategoricalPrior(8, 4).sample(5, np.random.default_rng(3)), onehot)


@pytest.mark.parametrize("variant, kind", [("onehot_vae", "gaussian_mixture"),
                                           ("gsvae", "categorical_mixture"),
                                           ("gsvae", "autoregressive_categorical"),
                                           ("conv_cvae", "gaussian_mixture"),
                                           ("onehot_conv_ae", "gaussian_mixture")])
def test_fit_prior_then_sample_and_save(variant, kind, tiny_dataset, tmp_path):
    model = tiny(variant, tiny_dataset)
    training = model.default_prior  # None for a plain autoencoder
    options = {} if kind == "autoregressive_categorical" else dict(num_components=3, seed=0)
    prior = fit_prior(model, tiny_dataset, kind, **options)
    assert prior.kind == kind and model.default_prior == kind
    assert sorted(model.priors) == sorted([p for p in (training, kind) if p])
    lab = {"odd": 1} if model.is_conditional else None
    a = model.sample(6, labels=lab, seed=0)
    np.testing.assert_array_equal(a, model.sample(6, labels=lab, seed=0, prior=kind))
    z_fit = model.sample_latent(64, seed=0)
    if training:
        z_train = model.sample_latent(64, seed=0, prior="training")
        assert not np.allclose(z_fit, z_train)
    else:
        with pytest.raises(PalletsValueError, match="trained against no prior"):
            model.sample_latent(4, seed=0, prior="training")
    # The preset stores the fitted prior and its choice as default.
    zoo.save_preset(model, tmp_path / "p")
    loaded = zoo.load(tmp_path / "p")
    assert loaded.default_prior == kind
    np.testing.assert_array_equal(loaded.sample_latent(64, seed=0), z_fit)
    np.testing.assert_array_equal(loaded.sample(6, labels=lab, seed=0), a)
    assert "priors.npz" in zoo.info(tmp_path / "p")["files"]


def test_prior_errors(tiny_dataset):
    vae = tiny("onehot_vae", tiny_dataset)
    with pytest.raises(PalletsKeyError, match="fit_prior"):
        vae.sample(2, prior="gaussian_mixture")
    with pytest.raises(PalletsValueError, match="gumbel"):
        vae.add_prior(UniformCategoricalPrior(2, 3))
    with pytest.raises(PalletsValueError, match="codes"):
        vae.add_prior(StandardNormalPrior(5))
    ae = tiny("onehot_ae", tiny_dataset)
    with pytest.raises(PalletsValueError, match="fit_prior"):
        ae.sample(2)
    with pytest.raises(PalletsValueError, match="serves gumbel"):
        fit_prior(ae, tiny_dataset, "categorical_mixture")


def test_label_posterior_draws_codes_of_matching_training_images():
    from pallets_keras.priors import LabelPosteriorPrior

    labels = np.array([[1, 0, 0], [0, 1, 0], [0, 1, 1], [0, 1, 1]], bool)
    prior = LabelPosteriorPrior(latent_dim=2, num_labels=3, scale=1.0)
    prior.packed_labels = np.packbits(labels, axis=1)
    prior.means = np.array([[0, 0], [10, 10], [20, 20], [30, 30]], np.float16)
    prior.stds = np.full((4, 2), 0.01, np.float16)
    rng = np.random.default_rng(0)
    z = prior.sample(400, rng, labels=np.tile([0.0, 1.0, 1.0], (400, 1)))
    # Rows 2 and 3 match exactly: each drawn about half the time, never 0 or 1.
    near = np.round(z[:, 0] / 10).astype(int)
    assert set(near) == {2, 3} and abs((near == 2).mean() - 0.5) < 0.1
    np.testing.assert_allclose(z[:, 0], z[:, 1], atol=0.1)
    # No exact match: the nearest label set (Hamming 1) wins.
    z = prior.sample(50, rng, labels=np.tile([1.0, 0.0, 1.0], (50, 1)))
    assert set(np.round(z[:, 0] / 10).astype(int)) == {0}
    with pytest.raises(PalletsValueError, match="labels"):
        prior.sample(2, rng)


def test_label_posterior_on_a_conditional_model(tiny_dataset, tmp_path):
    model = tiny("conv_cvae", tiny_dataset)
    fit_prior(model, tiny_dataset, "label_posterior", default=True)
    z_odd = model.sample_latent(32, seed=0, labels={"odd": 1})
    z_even = model.sample_latent(32, seed=0, labels={"odd": 0})
    assert not np.allclose(z_odd, z_even)
    a = model.sample(8, labels={"odd": 1, "low": 1}, seed=0)
    zoo.save_preset(model, tmp_path / "p")
    loaded = zoo.load(tmp_path / "p")
    assert loaded.default_prior == "label_posterior"
    np.testing.assert_array_equal(loaded.sample(8, labels={"odd": 1, "low": 1}, seed=0), a)
    with pytest.raises(PalletsValueError, match="conditional model"):
        fit_prior(tiny("onehot_vae", tiny_dataset), tiny_dataset, "label_posterior")
    gs = tiny("earring_gsvae", tiny_dataset)
    fit_prior(gs, tiny_dataset, "label_posterior")
    codes = gs.sample_latent(5, seed=0, labels={"odd": 1}).reshape(5, -1, 4)
    assert (codes.sum(-1) == 1).all()  # one-hot per categorical variable
