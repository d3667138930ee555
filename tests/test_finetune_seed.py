"""Fine-tuning repeats exactly with a seed, in the API and the CLI; progress
output suits where it goes. Tiny presets and sprites made here."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from _backend_share import one_per_backend
from PIL import Image

import pallets_keras as pk
from pallets_keras import Palette, zoo
from pallets_keras.datasets import folder

SPRITE_COLOURS = np.array([[0, 0, 0, 0], [10, 20, 30, 255], [200, 0, 0, 255],
                           [0, 200, 0, 255], [0, 0, 200, 255], [250, 250, 0, 128]],
                          np.uint8)


@pytest.fixture(scope="module")
def presets(tmp_path_factory):
    """Tiny untrained 8x8 conv presets (AE and VAE) on a 4-colour palette."""
    from pallets_keras.models import build

    root = tmp_path_factory.mktemp("presets")
    pal = Palette([[0, 0, 0, 0], [255, 255, 255, 255], [90, 90, 90, 255], [0, 0, 0, 255]])
    small = dict(palette=pal, image_size=(8, 8), filters=(4,), latent_dim=4, seed=0)
    return {name: str(zoo.save_preset(build(variant, **small), root / name))
            for name, variant in (("ae", "onehot_conv_ae"), ("vae", "onehot_conv_vae"))}


@pytest.fixture(scope="module")
def sheet(tmp_path_factory):
    """A 4x6 sheet of 16x16 sprites in 6 colours of their own (one translucent)."""
    rng = np.random.default_rng(0)
    tiles = np.zeros((24, 16, 16), int)
    for i in range(24):
        r, c = rng.integers(0, 8, 2)
        tiles[i, r:r + 8, c:c + 6] = 1 + i % 5
    rgba = SPRITE_COLOURS[tiles].reshape(4, 6, 16, 16, 4).swapaxes(1, 2).reshape(64, 96, 4)
    path = tmp_path_factory.mktemp("sprites") / "sheet.png"
    Image.fromarray(rgba, "RGBA").save(path)
    return path


def _churn():
    """Advances Keras' global random state, as any earlier work does."""
    keras.layers.Dense(7).build((None, 3))
    keras.random.normal((5,))


# One kind per backend (the code that seeds the re-made layers is the same):
# a VAE on TensorFlow, an autoencoder on JAX and PyTorch; both in a plain pytest.
KINDS = one_per_backend({"tensorflow": "vae", "jax": "ae", "torch": "ae"})


@pytest.mark.parametrize("kind", KINDS)
def test_finetune_repeats_with_a_seed(presets, sheet, kind):
    ds = folder.load(sheet, tile_size=16)
    runs = []
    for _ in range(2):
        _churn()
        model = zoo.load(presets[kind], palette=ds.palette, image_size=(16, 16))
        assert "palette_head" in model.reinitialized_layers
        new = {n: [w.copy() for w in model.decoder.get_layer(n).get_weights()]
               for n in model.reinitialized_layers if n in
               [layer.name for layer in model.decoder.layers]}
        _churn()
        history = pk.finetune(model, ds, epochs=2, warmup_epochs=1, batch_size=8, seed=0,
                              verbose=0)
        runs.append((new, history["loss"], model.get_weights()))
    (init_a, loss_a, weights_a), (init_b, loss_b, weights_b) = runs
    assert any(layer not in ("palette_head",) for layer in init_a)  # a re-made bottleneck
    for name in init_a:
        for a, b in zip(init_a[name], init_b[name]):
            np.testing.assert_array_equal(a, b, err_msg=name)
    assert loss_a == loss_b and len(loss_a) == 2
    for a, b in zip(weights_a, weights_b):
        np.testing.assert_array_equal(a, b)
    # Another seed starts the re-made layers elsewhere.
    other = zoo.load(presets[kind], palette=ds.palette, image_size=(16, 16), seed=1)
    moved = [n for n in init_a if n != "palette_head" and not all(
        np.array_equal(a, b) for a, b in zip(init_a[n], other.decoder.get_layer(n).get_weights()))]
    assert moved


def test_progress_verbosity(monkeypatch):
    from pallets_keras.training import progress_verbosity

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert progress_verbosity("auto") == 1 and progress_verbosity() == 1
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    assert progress_verbosity("auto") == 2
    assert [progress_verbosity(v) for v in (0, 1, 2)] == [0, 1, 2]


def test_cli_tile_size_parsing():
    import argparse

    from pallets_keras.cli import _tile_size

    assert _tile_size("16") == 16
    assert _tile_size("16,8") == (16, 8) and _tile_size("16x8") == (16, 8)
    for bad in ("0", "16,0", "a", "1,2,3", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            _tile_size(bad)


def _weights(path):
    return zoo.load(path, compile=False).get_weights()


@pytest.mark.backend_independent  # plumbing: its model work is tested per backend
def test_cli_finetune_repeats_with_a_seed(presets, sheet, tmp_path):
    env = {**os.environ}
    outs, procs = [], []
    for i, tile in enumerate(("16", "16,16")):
        out = tmp_path / f"tuned{i}"
        proc = subprocess.run(
            [sys.executable, "-m", "pallets_keras", "finetune", presets["ae"], "--data",
             str(sheet), "--tile-size", tile, "--epochs", "1", "--warmup-epochs", "0",
             "--batch-size", "8", "--seed", "0", "--no-eval", "-o", str(out)],
            capture_output=True, text=True, env=env, timeout=600)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip().splitlines()[-1] == str(out)
        outs.append(out)
        procs.append(proc)
    for proc in procs:  # not a terminal: one line per epoch, no bar redraws
        both = proc.stdout + proc.stderr
        assert "\x1b[" not in both and "\r" not in both and "\b" not in both
    metas = [json.loads((o / "metadata.json").read_text()) for o in outs]
    assert metas[0]["training"]["final_loss"] == metas[1]["training"]["final_loss"]
    assert metas[1]["data"]["tile_size"] == [16, 16]
    for a, b in zip(_weights(outs[0]), _weights(outs[1])):
        np.testing.assert_array_equal(a, b)
