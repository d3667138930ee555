"""Behaviour the README sells, asserted so that a broken implementation fails:
conditioning steers the decoder, temperature annealing follows its schedule,
the straight-through Gumbel gradient is the soft sample's, and fit's cosine
schedule, checkpoint resume, early stopping and finetune's frozen warm-up work."""

import math

import keras
import numpy as np
import pytest
from keras import ops

import pallets_keras as pk
from pallets_keras.callbacks import TemperatureAnnealing
from pallets_keras.layers import GumbelSoftmax
from pallets_keras.models import build

TINY = dict(filters=(8, 16), units=(32,), latent_dim=6, embedding_dim=4, pixel_channels=4,
            categorical_dim=4, seed=0)


def tiny_model(variant, dataset, **kw):
    return build(variant, palette=dataset.palette, image_size=dataset.image_size,
                 label_names=dataset.label_names, **{**TINY, **kw})


def _numpy(x):
    if hasattr(x, "detach"):
        x = x.detach()
    return ops.convert_to_numpy(x)


# ------------------------------------------------------------- conditioning
@pytest.mark.parametrize("variant", ["cvae", "conv_cvae", "earring_gsvae"])
def test_labels_change_the_decoded_image(variant, tiny_dataset):
    model = tiny_model(variant, tiny_dataset)
    z = model.sample_latent(1, seed=0)
    a = model.decode_indices(z, labels=np.array([[0, 0, 0]], "float32"))
    b = model.decode_indices(z, labels=np.array([[1, 1, 1]], "float32"))
    assert (a != b).any(), "the decoder ignored its labels"
    # The same labels give the same image: the difference is the labels'.
    np.testing.assert_array_equal(a, model.decode_indices(z, labels=np.zeros((1, 3))))


def test_labeled_decoder_takes_no_labels(tiny_dataset):
    """labeled_* feed labels to the encoder only: the decoder has no label input."""
    model = tiny_model("labeled_vae", tiny_dataset)
    assert set(model.decoder.input) == {"z"}
    assert "labels" in model.encoder.input


# ---------------------------------------------------------------- annealing
def test_temperature_annealing_follows_its_schedule_off_the_clamp(tiny_dataset):
    model = tiny_model("gsvae", tiny_dataset)
    # 64 images / batch 8 = 8 steps per epoch; 2 epochs = 16 steps, updated every 4.
    schedule = {"tau0": 2.0, "tau_min": 0.05, "rate": 0.05, "update_every": 4}
    seen = []

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(float(_numpy(model.get_layer("gumbel_softmax").tau)))

    pk.fit(model, tiny_dataset, epochs=2, batch_size=8, temperature=schedule, verbose=0,
           callbacks=[Record()])
    want = [2.0 * math.exp(-0.05 * 8), 2.0 * math.exp(-0.05 * 16)]  # 1.34, 0.90
    assert seen == pytest.approx(want, rel=1e-5)
    assert min(want) > 10 * schedule["tau_min"]  # far from the floor
    cb = TemperatureAnnealing(**schedule)
    assert cb.value(0) == 2.0 and cb.value(10 ** 6) == 0.05
    assert cb.value(20) == pytest.approx(2.0 * math.exp(-1.0))


# ---------------------------------------------------- straight-through Gumbel
def _gradient(fn, x):
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.Variable(x)
        with tf.GradientTape() as tape:
            out = fn(x)
        return tape.gradient(out, x).numpy(), out.numpy()
    if backend == "jax":
        import jax

        value, grad = jax.value_and_grad(fn)(x)
        return np.asarray(grad), np.asarray(value)
    import torch

    v = torch.tensor(x, requires_grad=True)
    out = fn(v)
    out.backward()
    return v.grad.numpy(), out.detach().numpy()


def test_straight_through_gradient_is_the_soft_samples():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(3, 5, 6)).astype("float32")
    w = ops.convert_to_tensor(rng.normal(size=(3, 5, 6)).astype("float32"))
    # Fresh layers with one seed draw the same noise.
    hard_layer = GumbelSoftmax(temperature=0.7, hard=True, seed=11)
    soft_layer = GumbelSoftmax(temperature=0.7, hard=False, seed=11)
    hard_y = _numpy(GumbelSoftmax(temperature=0.7, hard=True, seed=11)(logits, training=True))
    soft_y = _numpy(GumbelSoftmax(temperature=0.7, hard=False, seed=11)(logits, training=True))
    # The forward value is the one-hot argmax of that soft sample...
    np.testing.assert_array_equal(hard_y, np.eye(6, dtype="float32")[soft_y.argmax(-1)])
    g_hard, v_hard = _gradient(lambda x: ops.sum(hard_layer(x, training=True) * w), logits)
    g_soft, v_soft = _gradient(lambda x: ops.sum(soft_layer(x, training=True) * w), logits)
    # ...and the gradient is the soft sample's, exactly (not just finite, non-zero).
    np.testing.assert_allclose(g_hard, g_soft, rtol=1e-5, atol=1e-6)
    assert np.abs(g_soft).sum() > 0
    np.testing.assert_allclose(v_hard, (hard_y * _numpy(w)).sum(), rtol=1e-5)
    np.testing.assert_allclose(v_soft, (soft_y * _numpy(w)).sum(), rtol=1e-5)
    assert not np.isclose(v_hard, v_soft)


# ------------------------------------------------------------ fit's options
class _LearningRates(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append(float(_numpy(self.model.optimizer.learning_rate)))


def test_cosine_schedule_decays_to_one_percent(tiny_dataset):
    model = tiny_model("onehot_ae", tiny_dataset)
    record = _LearningRates()
    pk.fit(model, tiny_dataset, epochs=2, batch_size=16, learning_rate=1e-2,
           lr_schedule="cosine", verbose=0, callbacks=[record])
    # 4 steps per epoch, 8 in all: half-way cos = 0, then the floor alpha = 1%.
    assert record.seen == pytest.approx([1e-2 * (0.01 + 0.99 * 0.5), 1e-4], rel=1e-4)
    constant = _LearningRates()
    pk.fit(tiny_model("onehot_ae", tiny_dataset), tiny_dataset, epochs=2, batch_size=16,
           learning_rate=1e-2, verbose=0, callbacks=[constant])
    assert constant.seen == pytest.approx([1e-2, 1e-2])
    with pytest.raises(ValueError, match="lr_schedule"):
        pk.fit(model, tiny_dataset, epochs=1, lr_schedule="linear", verbose=0)


class _Interrupt(keras.callbacks.Callback):
    """Records the weights after each epoch; cuts the run at `stop_at`."""

    def __init__(self, stop_at=None):
        super().__init__()
        self.stop_at, self.begun, self.weights_at_begin, self.weights_at_end = stop_at, [], [], []

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.stop_at:
            raise KeyboardInterrupt("cut")
        self.begun.append(epoch)
        self.weights_at_begin.append(self.model.get_weights())

    def on_epoch_end(self, epoch, logs=None):
        self.weights_at_end.append(self.model.get_weights())


def test_checkpoint_resume_continues_from_the_last_finished_epoch(tiny_dataset, tmp_path):
    model = tiny_model("onehot_ae", tiny_dataset)
    first = _Interrupt(stop_at=1)
    with pytest.raises(KeyboardInterrupt):
        pk.fit(model, tiny_dataset, epochs=3, batch_size=16, learning_rate=1e-2, seed=0,
               checkpoint_dir=tmp_path / "ck", verbose=0, callbacks=[first])
    assert first.begun == [0] and (tmp_path / "ck").exists()
    # A new process would build a fresh model: its weights are the checkpoint's.
    again = tiny_model("onehot_ae", tiny_dataset, seed=1)
    second = _Interrupt()
    history = pk.fit(again, tiny_dataset, epochs=3, batch_size=16, learning_rate=1e-2,
                     checkpoint_dir=tmp_path / "ck", verbose=0, callbacks=[second])
    assert second.begun == [1, 2] and len(history.history["loss"]) == 2
    for got, want in zip(second.weights_at_begin[0], first.weights_at_end[0]):
        np.testing.assert_array_equal(got, want)


class _Ruin(keras.callbacks.Callback):
    """From epoch 1 on, every pixel votes for colour 5 by 30 nats more each
    epoch: the validation loss can only get worse after epoch 0."""

    def on_epoch_begin(self, epoch, logs=None):
        if epoch >= 1:
            head = self.model.decoder.get_layer("palette_head")
            kernel, bias = head.get_weights()
            bias = np.zeros_like(bias)
            bias[5] = 30.0 * epoch
            head.set_weights([kernel, bias])


def test_early_stopping_stops_and_restores_the_best_weights(tiny_dataset):
    train, val = tiny_dataset.split(test_fraction=0.25, seed=0)
    model = tiny_model("onehot_ae", tiny_dataset)
    record = _Interrupt()
    history = pk.fit(model, train, validation=val, epochs=6, batch_size=16,
                     learning_rate=1e-6, early_stopping_patience=2, verbose=0,
                     callbacks=[record, _Ruin()])
    val_losses = history.history["val_loss"]
    # Best at epoch 0, two epochs without improvement, stop: 3 of 6 epochs.
    assert len(val_losses) == 3 and np.isfinite(val_losses).all()
    assert val_losses[0] < val_losses[1] < val_losses[2]
    # The weights kept are epoch 0's, not the ruined last ones.
    for got, want in zip(model.get_weights(), record.weights_at_end[0]):
        np.testing.assert_array_equal(got, want)
    # Without early stopping every epoch runs.
    history = pk.fit(tiny_model("onehot_ae", tiny_dataset), train, validation=val, epochs=4,
                     batch_size=16, learning_rate=1e-6, verbose=0, callbacks=[_Ruin()])
    assert len(history.history["loss"]) == 4


# ---------------------------------------------------------- finetune warm-up
def _body_and_ends(model):
    body, ends = {}, {}
    for sub in (model.encoder, model.decoder):
        for layer in sub.layers:
            if layer.weights:
                (ends if layer.name in model.data_end_layers else body)[layer.name] = [
                    _numpy(w).copy() for w in layer.weights]
    return body, ends


def test_finetune_warmup_freezes_the_body(tiny_dataset):
    model = tiny_model("onehot_vae", tiny_dataset)
    body0, ends0 = _body_and_ends(model)
    pk.finetune(model, tiny_dataset, epochs=1, warmup_epochs=1, batch_size=16,
                learning_rate=1e-2, verbose=0)
    body1, ends1 = _body_and_ends(model)
    assert body0.keys() == body1.keys() and body0 and ends0
    for name in body0:
        for a, b in zip(body0[name], body1[name]):
            np.testing.assert_array_equal(a, b, err_msg=f"{name} moved during warm-up")
    assert all(any(not np.array_equal(a, b) for a, b in zip(ends0[n], ends1[n]))
               for n in ends0), "the palette ends did not learn"
    # Unfrozen afterwards: a full epoch moves the body.
    assert all(layer.trainable for sub in (model.encoder, model.decoder)
               for layer in sub.layers)
    pk.finetune(model, tiny_dataset, epochs=1, warmup_epochs=0, batch_size=16,
                learning_rate=1e-2, verbose=0)
    body2, _ = _body_and_ends(model)
    assert any(not np.array_equal(a, b) for n in body1 for a, b in zip(body1[n], body2[n]))
