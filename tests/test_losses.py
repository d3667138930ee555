"""The loss and metric functions against plain numpy references, on every backend."""

import numpy as np
import pytest
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


# ------------------------------------------------- hand-computed references
def _np(x):
    return ops.convert_to_numpy(x).astype("float64")


def test_palette_crossentropy_sums_each_image_by_hand():
    ln = np.log
    # Two 1x2 images over 3 colours.
    logits = np.array([[[[0, 0, 0], [ln(2), 0, 0]]],        # p = 1/3, 2/4 for targets 0, 0
                       [[[0, ln(3), 0], [0, 0, 0]]]],       # p = 3/5, 1/3 for targets 1, 2
                      "float32")
    indices = np.array([[[0, 0]], [[1, 2]]], "uint8")
    np.testing.assert_allclose(_np(losses.palette_crossentropy(indices, logits)),
                               [ln(3) + ln(2), ln(5 / 3) + ln(3)], rtol=1e-6)


def test_palette_binary_crossentropy_by_hand():
    # One pixel, 2 colours, true colour 0: -log sigmoid(0) - log(1 - sigmoid(ln 3)).
    logits = np.array([[[[0.0, np.log(3)]]]], "float32")
    got = _np(losses.palette_binary_crossentropy(np.zeros((1, 1, 1), "uint8"), logits))
    np.testing.assert_allclose(got, [np.log(2) + np.log(4)], rtol=1e-6)
    # Sums over pixels and channels, per image.
    two = np.concatenate([logits, logits], axis=2)
    batch = np.concatenate([two, -two])
    got = _np(losses.palette_binary_crossentropy(np.zeros((2, 1, 2), "uint8"), batch))
    # Image 1, per pixel: -log sigmoid(0) = log 2 and -log(1 - sigmoid(-ln 3)) = log(4/3).
    np.testing.assert_allclose(got, [2 * np.log(8), 2 * (np.log(2) + np.log(4 / 3))],
                               rtol=1e-6)


def test_rgba_binary_crossentropy_by_hand():
    target = np.array([[[[1.0, 0.0, 0.5, 1.0]]],
                       [[[1.0, 0.0, 1.0, 0.0]]]], "float32")
    pred = np.array([[[[0.5, 0.25, 0.5, 0.8]]],
                     [[[1.0, 0.0, 1.0, 0.0]]]], "float32")  # exact: only the clip's 1e-6
    want = [np.log(2) + np.log(4 / 3) + np.log(2) + np.log(5 / 4), -4 * np.log(1 - 1e-6)]
    np.testing.assert_allclose(_np(losses.rgba_binary_crossentropy(target, pred)), want,
                               rtol=1e-5, atol=1e-5)


def test_rgba_squared_error_by_hand():
    target = np.zeros((2, 1, 2, 4), "float32")
    pred = np.zeros((2, 1, 2, 4), "float32")
    pred[0, 0, 0] = [0.5, 0.25, 0.0, 1.0]
    pred[0, 0, 1] = [0.0, 0.0, 0.0, 0.5]
    pred[1, 0, 1, 2] = 0.1
    np.testing.assert_allclose(_np(losses.rgba_squared_error(target, pred)),
                               [0.25 + 0.0625 + 1.0 + 0.25, 0.01], rtol=1e-6)


def test_gaussian_kl_by_hand():
    mean = np.array([[1.0, 0.0], [0.0, -2.0]], "float32")
    log_var = np.array([[0.0, np.log(2)], [np.log(0.5), 0.0]], "float32")
    # 0.5 * (var + mean^2 - 1 - log var), summed per row.
    want = [0.5 + 0.5 * (1 - np.log(2)), 0.5 * (-0.5 + np.log(2)) + 2.0]
    np.testing.assert_allclose(_np(losses.gaussian_kl(mean, log_var)), want, rtol=1e-6)


def test_categorical_kl_by_hand():
    # Image 0: variable 1 is q = (3/4, 1/4), variable 2 uniform; C = 2.
    # Image 1: q = (1/2, 1/2) and (1/4, 3/4).
    logits = np.log(np.array([[[3.0, 1.0], [1.0, 1.0]],
                              [[1.0, 1.0], [1.0, 3.0]]], "float32"))
    one = 0.75 * np.log(2 * 0.75) + 0.25 * np.log(2 * 0.25)
    np.testing.assert_allclose(_np(losses.categorical_kl(logits)), [one, one], rtol=1e-5)
    # Three classes: q = (1/2, 1/4, 1/4) -> sum q log(3 q).
    q = np.array([0.5, 0.25, 0.25])
    got = _np(losses.categorical_kl(np.log(q).astype("float32")[None, None]))
    np.testing.assert_allclose(got, [(q * np.log(3 * q)).sum()], rtol=1e-5)


def test_label_binary_crossentropy_by_hand():
    labels = np.array([[1, 0, 1], [0, 0, 0]], "float32")
    logits = np.array([[0.0, np.log(3), -np.log(3)], [0.0, 0.0, 0.0]], "float32")
    # Row 0: log 2 + log 4 + log 4; row 1: 3 log 2.
    np.testing.assert_allclose(_np(losses.label_binary_crossentropy(labels, logits)),
                               [5 * np.log(2), 3 * np.log(2)], rtol=1e-6)
    big = np.array([[1e4, -1e4]], "float32")  # stable far out: ~0 for right labels
    np.testing.assert_allclose(_np(losses.label_binary_crossentropy(
        np.array([[1, 0]], "float32"), big)), [0.0], atol=1e-6)


def test_palette_hits_count_ties_as_hits():
    logits = np.array([[[[1.0, 1.0, 0.0], [0.0, 2.0, 2.0], [3.0, 0.0, 0.0]]]], "float32")
    got = ops.convert_to_numpy(losses.palette_hits(np.array([[[1, 1, 1]]]), logits))
    np.testing.assert_array_equal(got, [[[1.0, 1.0, 0.0]]])


# ------------------------------------------- the model's total, assembled
TINY = dict(units=(8,), latent_dim=3, embedding_dim=2, pixel_channels=2, categorical_dim=2,
            seed=0)


def _pal():
    from pallets_keras import Palette

    return Palette([[0, 0, 0, 0], [255, 0, 0, 255], [0, 51, 255, 255]])


def _loss(model, x, y_pred):
    return float(ops.convert_to_numpy(model.compute_loss(x=x, y_pred=y_pred)))


def test_rgba_model_loss_is_the_mean_per_image_sum():
    from pallets_keras.models import build

    indices = np.array([[[0, 1]], [[2, 2]]], "int32")
    rgba = np.full((2, 1, 2, 4), 0.5, "float32")
    target = np.array([[[[0, 0, 0, 0], [1, 0, 0, 1]]],
                       [[[0, 0.2, 1, 1], [0, 0.2, 1, 1]]]], "float64")
    sq = ((target - 0.5) ** 2).sum((1, 2, 3))
    bce = (-(target * np.log(0.5) + (1 - target) * np.log(0.5))).sum((1, 2, 3))
    for loss, per_image in (("mse", sq), ("bce", bce)):
        model = build("rgba_ae", palette=_pal(), image_size=(1, 2), reconstruction_loss=loss,
                      **TINY)
        got = _loss(model, {"indices": indices}, {"rgba": rgba})
        assert got == pytest.approx(per_image.mean(), rel=1e-5), loss


def test_labeled_cvae_loss_adds_beta_kl_and_weighted_label_loss():
    from pallets_keras.models import build

    model = build("labeled_cvae", palette=_pal(), image_size=(1, 2), num_labels=2, beta=0.5,
                  label_weight=3.0, **TINY)
    indices = np.array([[[0, 1]], [[2, 2]]], "int32")
    labels = np.array([[1, 0], [0, 1]], "float32")
    logits = np.zeros((2, 1, 2, 3), "float32")          # rec: 2 ln 3 per image
    z_mean = np.array([[1, 0, 0], [0, 0, 0]], "float32")  # KL: 0.5 and 0
    z_log_var = np.zeros((2, 3), "float32")
    label_logits = np.zeros((2, 2), "float32")          # 2 ln 2 per image
    got = _loss(model, {"indices": indices, "labels": labels},
                {"logits": logits, "z_mean": z_mean, "z_log_var": z_log_var,
                 "label_logits": label_logits})
    assert got == pytest.approx(2 * np.log(3) + 0.5 * 0.25 + 3.0 * 2 * np.log(2), rel=1e-6)
