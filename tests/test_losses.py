"""The loss and metric functions against plain numpy references, on every backend."""

import numpy as np
from keras import ops

from pallets_keras import losses


def _logits(seed=0, shape=(3, 4, 5, 7)):
    rng = np.random.default_rng(seed)
    logits = (rng.standard_normal(shape) * 3).astype("float32")
    indices = rng.integers(0, shape[-1], shape[:-1]).astype("uint8")
    return indices, logits


def test_palette_crossentropy_matches_numpy():
    indices, logits = _logits()
    shifted = logits - logits.max(-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    want = -np.take_along_axis(log_p, indices[..., None].astype(int), -1)[..., 0].sum((1, 2))
    got = ops.convert_to_numpy(losses.palette_crossentropy(indices, logits))
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_palette_crossentropy_is_stable_for_large_logits():
    indices, logits = _logits(1)
    got = ops.convert_to_numpy(losses.palette_crossentropy(indices, logits * 1e4))
    assert np.isfinite(got).all() and (got >= 0).all()


def test_palette_hits_equal_argmax():
    indices, logits = _logits(2)
    indices[0, 0, 0] = logits[0, 0, 0].argmax()  # at least one hit
    got = ops.convert_to_numpy(losses.palette_hits(indices, logits))
    want = (logits.argmax(-1) == indices).astype("float32")
    np.testing.assert_array_equal(got, want)
    assert 0 < want.sum() < want.size


def test_gaussian_kl_zero_at_prior_and_positive_elsewhere():
    zero = ops.convert_to_numpy(losses.gaussian_kl(np.zeros((2, 3), "float32"),
                                                   np.zeros((2, 3), "float32")))
    np.testing.assert_allclose(zero, 0, atol=1e-6)
    mean = np.array([[1.0, 0.0, 0.0]], "float32")
    np.testing.assert_allclose(
        ops.convert_to_numpy(losses.gaussian_kl(mean, np.zeros((1, 3), "float32"))), [0.5],
        rtol=1e-6)


def test_categorical_kl_zero_for_uniform_and_log_c_for_one_hot():
    uniform = np.zeros((1, 2, 4), "float32")
    np.testing.assert_allclose(ops.convert_to_numpy(losses.categorical_kl(uniform)), 0,
                               atol=1e-6)
    peaked = np.full((1, 2, 4), -1e4, "float32")
    peaked[..., 0] = 0
    np.testing.assert_allclose(ops.convert_to_numpy(losses.categorical_kl(peaked)),
                               [2 * np.log(4)], rtol=1e-5)


def test_rgba_losses_take_numpy_and_vanish_at_target():
    target = np.random.default_rng(3).random((2, 3, 3, 4)).astype("float32")
    np.testing.assert_allclose(
        ops.convert_to_numpy(losses.rgba_squared_error(target, target)), 0, atol=1e-7)
    bce = ops.convert_to_numpy(losses.rgba_binary_crossentropy(target, target))
    worse = ops.convert_to_numpy(losses.rgba_binary_crossentropy(target, 1 - target))
    assert (bce < worse).all()
