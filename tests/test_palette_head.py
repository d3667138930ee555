"""The chunked palette head: the same loss, hits, gradients and argmax as the
whole-batch `Dense` + `losses.palette_crossentropy`, on every backend."""

import keras
import numpy as np
import pytest
from keras import ops

import pallets_keras as pk
from pallets_keras import losses
from pallets_keras.models import build
from pallets_keras.palette_head import palette_head_argmax, palette_head_crossentropy


def head_inputs(n=3, h=5, w=6, c=4, k=9, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, k, (n, h, w)).astype("int32"),
            rng.standard_normal((n, h, w, c)).astype("float32"),
            rng.standard_normal((c, k)).astype("float32"),
            rng.standard_normal(k).astype("float32"))


@pytest.mark.parametrize("chunk", [7, 16, 90, 4096])  # 90 pixels: ragged, exact, one chunk
def test_loss_hits_and_argmax_equal_the_whole_batch(chunk):
    indices, features, kernel, bias = head_inputs()
    logits = features @ kernel + bias
    nll, hits = palette_head_crossentropy(indices, features, kernel, bias, chunk)
    np.testing.assert_allclose(ops.convert_to_numpy(nll), ops.convert_to_numpy(
        losses.palette_crossentropy(indices, logits)), rtol=1e-5)
    np.testing.assert_array_equal(ops.convert_to_numpy(hits), ops.convert_to_numpy(
        losses.palette_hits(indices, logits)))
    assert ops.convert_to_numpy(nll).shape == (3,)
    np.testing.assert_array_equal(
        ops.convert_to_numpy(palette_head_argmax(features, kernel, bias, chunk)),
        logits.argmax(-1))


def one_sgd_step(model, x):
    # Plain SGD: the weights after one step are the weights minus lr * gradient,
    # so equal weights mean equal gradients.
    model.compile(optimizer=keras.optimizers.SGD(0.1), jit_compile=False)
    model.train_on_batch(x)
    return [np.asarray(ops.convert_to_numpy(w)) for w in model.weights]


def test_training_step_has_the_whole_batch_gradients(tiny_dataset, monkeypatch):
    model = build("onehot_conv_ae", palette=tiny_dataset.palette,
                  image_size=tiny_dataset.image_size, filters=(4, 8), latent_dim=5,
                  pixel_channels=4, seed=0)
    initial = model.get_weights()
    x = {"indices": tiny_dataset.indices[:16].astype("int32")}
    assert model.fuses_head
    assert sorted(model(x, training=True)) == ["pixel_features", "z"]
    assert "logits" in model(x, training=False)
    after_fused = one_sgd_step(model, x)
    assert not all(np.allclose(a, b) for a, b in zip(after_fused, initial))  # it moved
    model.set_weights(initial)
    monkeypatch.setenv("PALLETS_KERAS_FUSED_HEAD", "0")
    assert not model.fuses_head and "logits" in model(x, training=True)
    after_whole = one_sgd_step(model, x)
    for a, b in zip(after_fused, after_whole):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_fused_head_keeps_weight_files_and_only_serves_categorical(tiny_dataset, tmp_path):
    model = build("onehot_conv_ae", palette=tiny_dataset.palette,
                  image_size=tiny_dataset.image_size, filters=(4, 8), latent_dim=5, seed=0)
    x = {"indices": tiny_dataset.indices[:4].astype("int32")}
    model(x, training=True)  # builds the untracked features model
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    other = build("onehot_conv_ae", palette=tiny_dataset.palette,
                  image_size=tiny_dataset.image_size, filters=(4, 8), latent_dim=5, seed=1)
    other.load_weights(path)  # a model that never ran fused reads the same file
    for a, b in zip(model.weights, other.weights):
        np.testing.assert_array_equal(ops.convert_to_numpy(a), ops.convert_to_numpy(b))
    binary = build("onehot_conv_ae", palette=tiny_dataset.palette,
                   image_size=tiny_dataset.image_size, filters=(4, 8), latent_dim=5,
                   reconstruction_loss="binary", seed=0)
    rgba = build("rgba_conv_ae", palette=tiny_dataset.palette,
                 image_size=tiny_dataset.image_size, filters=(4, 8), latent_dim=5, seed=0)
    assert not binary.fuses_head and not rgba.fuses_head
    history = pk.fit(binary, tiny_dataset, epochs=1, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"][0])
