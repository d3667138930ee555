"""Fine-tuning trains until the held-out images stop improving: it converges on
a small generated set (AE and VAE), early stopping restores the best weights,
and the flips of the batch pipeline keep every palette index valid."""

import keras
import numpy as np
import pytest

import pallets_keras as pk
from pallets_keras import Palette, metrics, zoo
from pallets_keras.datasets.pixel_dataset import PixelDataset
from pallets_keras.errors import PalletsValueError
from pallets_keras.training import SpriteBatches, holdout

PALETTE = Palette([[0, 0, 0, 0], [255, 255, 255, 255], [90, 90, 90, 255], [0, 0, 0, 255],
                   [200, 0, 0, 255]])


def quadrant_sprites(n=300, seed=0):
    """8x8 sprites: four 4x4 quadrants, each one of four opaque colours, with a
    clear 2-pixel column at the left (so a flip is not a no-op). Guessing each
    pixel's most common colour gets about a quarter of the visible pixels."""
    rng = np.random.default_rng(seed)
    q = rng.integers(1, 5, (n, 2, 2))
    idx = np.repeat(np.repeat(q, 4, 1), 4, 2).astype("uint8")
    idx[:, :, :2] = 0
    return PixelDataset(PALETTE, idx, name="quadrants")


@pytest.fixture(scope="module")
def presets(tmp_path_factory):
    """Tiny 8x8 conv presets (AE, and VAE with a light KL) on another palette,
    so that `zoo.load(..., palette=)` re-makes their palette ends."""
    from pallets_keras.models import build

    root = tmp_path_factory.mktemp("presets")
    pal = Palette([[0, 0, 0, 0], [255, 255, 255, 255], [0, 0, 0, 255]])
    small = dict(palette=pal, image_size=(8, 8), filters=(8,), latent_dim=8, seed=0)
    return {"ae": str(zoo.save_preset(build("onehot_conv_ae", **small), root / "ae")),
            "vae": str(zoo.save_preset(build("onehot_conv_vae", beta=0.05, **small),
                                       root / "vae"))}


@pytest.mark.parametrize("kind", ["ae", "vae"])
def test_finetune_converges_above_the_baseline(presets, kind):
    ds = quadrant_sprites()
    model = zoo.load(presets[kind], palette=ds.palette, image_size=(8, 8), seed=0)
    history = pk.finetune(model, ds, epochs=30, warmup_epochs=1, batch_size=32,
                          learning_rate=1e-2, body_learning_rate=1e-2, verbose=0, seed=0)
    report = history.report
    # The held-out split is taken automatically, 10% with a fixed seed.
    train, val = holdout(ds)
    assert report["held_out_images"] == len(val) == 30
    base = metrics.baseline(train.indices, val.indices, ds.palette)
    assert base["pixel_accuracy_foreground"] < 0.4
    print(kind, report, base)
    assert report["held_out_pixel_accuracy_visible"] >= 0.9, report
    assert report["held_out_pixel_accuracy"] >= base["pixel_accuracy"] + 0.3, report
    # The report is measured on the weights the model holds now.
    again = pk.training.reconstruction_accuracy(model, val)
    assert again["pixel_accuracy_visible"] == report["held_out_pixel_accuracy_visible"]
    assert len(history["val_loss"]) == report["epochs_run"] <= 30
    assert report["stopped_by"] in ("early_stopping", "epochs")


class _Sabotage(keras.callbacks.Callback):
    """From epoch `start` on, scrambles the weights before the epoch trains, so
    the validation loss gets far worse than the best epoch's; records the
    weights and validation loss of every epoch."""

    def __init__(self, start):
        super().__init__()
        self.start, self.snapshots, self.val_losses = start, [], []
        self.rng = np.random.default_rng(0)

    def on_epoch_begin(self, epoch, logs=None):
        if epoch >= self.start:
            if hasattr(self.model, "jax_state_sync"):
                self.model.jax_state_sync()
            self.model.set_weights([w + self.rng.normal(0, 3, w.shape).astype(w.dtype)
                                    for w in self.model.get_weights()])

    def on_epoch_end(self, epoch, logs=None):
        self.snapshots.append(self.model.get_weights())
        self.val_losses.append(logs["val_loss"])


def test_early_stopping_restores_the_best_weights(presets):
    ds = quadrant_sprites(120)
    model = zoo.load(presets["ae"], palette=ds.palette, image_size=(8, 8), seed=0)
    spy = _Sabotage(start=4)
    history = pk.finetune(model, ds, epochs=50, warmup_epochs=0, batch_size=32,
                          learning_rate=1e-2, early_stopping_patience=2,
                          reduce_lr_patience=None, callbacks=[spy], verbose=0, seed=0)
    report = history.report
    assert report["stopped_by"] == "early_stopping", report
    assert report["epochs_run"] == len(spy.val_losses) < 10
    best = int(np.argmin(spy.val_losses))
    assert best < 4 < report["epochs_run"]
    assert report["best_epoch"] == best + 1
    assert spy.val_losses[-1] > spy.val_losses[best]
    for now, then in zip(model.get_weights(), spy.snapshots[best]):
        np.testing.assert_array_equal(now, then)
    last = spy.snapshots[-1]
    assert any(not np.array_equal(a, b) for a, b in zip(last, spy.snapshots[best]))


def test_flips_keep_palette_indices_valid():
    ds = quadrant_sprites(50)
    labels = np.arange(50)[:, None] % 2
    inputs = {"indices": ds.indices, "labels": labels.astype("float32")}
    batches = SpriteBatches(inputs, 16, flip=True, seed=0)
    assert len(batches) == 4
    flipped = kept = 0
    for _epoch in range(3):
        seen = []
        for i in range(len(batches)):
            batch = batches[i]
            idx = batch["indices"]
            assert idx.dtype == np.uint8 and idx.ndim == 3
            assert idx.min() >= 0 and idx.max() < len(PALETTE)
            rows = batches.order[i * 16:(i + 1) * 16]
            seen.extend(rows)
            np.testing.assert_array_equal(batch["labels"], inputs["labels"][rows])
            for image, row in zip(idx, rows):
                original = ds.indices[row]
                if np.array_equal(image, original):
                    kept += 1
                else:
                    np.testing.assert_array_equal(image, original[:, ::-1])
                    flipped += 1
        assert sorted(seen) == list(range(50))  # every image once per epoch
        batches.on_epoch_end()
    assert flipped > 30 and kept > 30
    # Seeded: the same order and flips again.
    a = SpriteBatches(inputs, 16, flip=True, seed=1)
    b = SpriteBatches(inputs, 16, flip=True, seed=1)
    np.testing.assert_array_equal(a[0]["indices"], b[0]["indices"])
    # Without flips the images are the originals.
    plain = SpriteBatches(inputs, 16, flip=False, seed=0)
    np.testing.assert_array_equal(plain[0]["indices"], ds.indices[plain.order[:16]])


def test_finetune_validation_none_and_bad_arguments(presets):
    ds = quadrant_sprites(40)
    model = zoo.load(presets["ae"], palette=ds.palette, image_size=(8, 8), seed=0)
    history = pk.finetune(model, ds, epochs=2, warmup_epochs=1, batch_size=16,
                          validation=None, verbose=0)
    assert "held_out_pixel_accuracy" not in history.report and "val_loss" not in history
    assert history.report["epochs_run"] == 2
    with pytest.raises(PalletsValueError, match="validation"):
        pk.finetune(model, ds, epochs=2, validation="held-out", verbose=0)
    with pytest.raises(PalletsValueError, match="early_stopping_patience"):
        pk.finetune(model, ds, epochs=2, early_stopping_patience=0, verbose=0)
