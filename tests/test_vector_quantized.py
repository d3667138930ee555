"""The vector-quantized latent (VQ-VAE), added through the axis registry as
one file (`pallets_keras/models/latents/vector_quantized.py`) and its layer:
its loss terms against hand-computed values, the straight-through gradient,
and a model of it that trains, encodes, samples from the categorical priors
and round-trips a preset."""

import keras
import numpy as np
import pytest

from pallets_keras import zoo
from pallets_keras.layers import VectorQuantizer
from pallets_keras.models import build, registry, variants
from pallets_keras.models.latents import VectorQuantizedLatent
from pallets_keras.priors import fit_prior
from pallets_keras.training import fit

TINY = dict(filters=(8,), units=(16,), latent_dim=4, num_codes=6, code_dim=3,
            embedding_dim=4, pixel_channels=4, seed=0)


@pytest.fixture
def vq_variant():
    variants.register_variant("test_conv_vqvae", "onehot", "conv", "vector_quantized", "none",
                              override=True)
    yield "test_conv_vqvae"
    variants._AXES.pop("test_conv_vqvae", None)
    variants._OVERRIDES.pop("test_conv_vqvae", None)


def test_the_quantizer_picks_the_most_similar_code_with_a_straight_through_gradient():
    vq = VectorQuantizer(num_codes=3, code_dim=2, seed=0)
    vq.build((None, 2, 2))
    vq.codebook.assign(np.array([[1, 0], [0, 2], [-1, -1]], "float32"))
    x = np.array([[[3, 0.5], [-0.1, 5]]], "float32")  # nearest by angle: code 0, code 1
    sims, quantized, encoded, chosen = (keras.ops.convert_to_numpy(t) for t in vq(x))
    unit = x / np.linalg.norm(x, axis=-1, keepdims=True)
    np.testing.assert_allclose(encoded, unit, rtol=1e-5)
    np.testing.assert_array_equal(sims.argmax(-1), [[0, 1]])
    np.testing.assert_allclose(chosen, [[[1, 0], [0, 1]]], atol=1e-6)
    np.testing.assert_allclose(quantized, chosen, atol=1e-6)  # forward: the code
    np.testing.assert_allclose(sims[0, 0], unit[0, 0] @ np.array(
        [[1, 0], [0, 1], [-2 ** -0.5, -2 ** -0.5]]).T, rtol=1e-5)
    # Backward: d(sum(quantized * w))/dx equals d(sum(encoded * w))/dx.
    w = np.array([[[0.3, -2.0], [1.5, 0.7]]], "float32")
    wt = keras.ops.convert_to_tensor(w)
    grads = [_grad(lambda t, i=i: keras.ops.sum(keras.ops.multiply(vq(t)[i], wt)), x)
             for i in (1, 2)]
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-6)
    assert np.abs(grads[0]).sum() > 0


def _grad(f, x):
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return np.asarray(jax.grad(f)(x))
    if backend == "torch":
        import torch

        t = torch.tensor(x, requires_grad=True)
        f(t).backward()
        return t.grad.numpy()
    import tensorflow as tf

    t = tf.Variable(x)
    with tf.GradientTape() as tape:
        y = f(t)
    return tape.gradient(y, t).numpy()


def test_the_codebook_and_commitment_terms_by_hand():
    encoded = np.array([[[1, 0], [0, 1]], [[0.6, 0.8], [1, 0]]], "float32")
    chosen = np.array([[[1, 0], [1, 0]], [[0, 1], [1, 0]]], "float32")
    term = VectorQuantizedLatent().regularizer(
        {"latent_encoded": encoded, "latent_chosen": chosen})
    sq = ((encoded - chosen) ** 2).sum(axis=(1, 2))  # 2 and 0.36 + 0.04 = 0.4
    np.testing.assert_allclose(keras.ops.convert_to_numpy(term), 1.25 * sq, rtol=1e-6)
    np.testing.assert_allclose(1.25 * sq, [2.5, 0.5], rtol=1e-6)


def test_a_vq_model_trains_encodes_samples_and_round_trips(vq_variant, tiny_dataset,
                                                            tmp_path):
    model = build(vq_variant, palette=tiny_dataset.palette, image_size=(8, 8), **TINY)
    assert model.latent_shape == (4, 6)
    assert registry.get_latent(model.latent).code_kind == "categorical"
    assert model.build_options["num_codes"] == 6 and model.build_options["code_dim"] == 3
    history = fit(model, tiny_dataset, epochs=3, batch_size=16, learning_rate=1e-2, seed=0,
                  verbose=0)
    assert "vq_loss" in history.history and np.isfinite(history.history["vq_loss"]).all()
    assert history.history["loss"][-1] < history.history["loss"][0]
    codes = model.encode(tiny_dataset.indices[:5])
    assert codes.shape == (5, 24)  # one-hot: 4 variables of 6 codes
    np.testing.assert_array_equal(codes.reshape(5, 4, 6).sum(-1), 1)
    # Decoding a code gives the reconstruction (the decoder sees the chosen vectors).
    np.testing.assert_array_equal(model.decode(codes), model.reconstruct(tiny_dataset.indices[:5]))
    # The training prior and the priors of categorical codes serve it unchanged.
    assert model.sample(3, seed=0).shape == (3, 8, 8, 4)
    fit_prior(model, tiny_dataset, "autoregressive_categorical")
    punks = model.sample(4, seed=1, prior="autoregressive_categorical")
    assert set(map(tuple, np.unique(punks.reshape(-1, 4), axis=0).tolist())) <= set(
        map(tuple, tiny_dataset.palette.colors.tolist()))
    path = zoo.save_preset(model, tmp_path / "vq")
    again = zoo.load(path, compile=False)
    np.testing.assert_array_equal(again.encode(tiny_dataset.indices[:5]), codes)
    np.testing.assert_array_equal(again.sample(4, seed=1, prior="autoregressive_categorical"),
                                  punks)
