"""Fine-tuning a zoo preset on a new pixel set: another palette, 32x32 sprites."""

import numpy as np
import pytest
from PIL import Image

import pallets_keras as pk
from pallets_keras import zoo
from pallets_keras.datasets import folder

BASE = "onehot_conv_vae"


@pytest.fixture(scope="module")
def sprites(punks, tmp_path_factory):
    """A sprite sheet the test makes: 640 punks recoloured (RGB inverted), padded to
    32x32 and written as one PNG sheet; loaded back with a 48-colour palette."""
    rgba = punks.rgba(slice(0, 640)).copy()
    opaque = rgba[..., 3] > 0
    rgba[..., :3][opaque] = 255 - rgba[..., :3][opaque]
    tiles = np.zeros((640, 32, 32, 4), np.uint8)
    tiles[:, 4:28, 4:28] = rgba
    sheet = tiles.reshape(20, 32, 32, 32, 4).transpose(0, 2, 1, 3, 4).reshape(640, 1024, 4)
    path = tmp_path_factory.mktemp("sprites") / "sheet.png"
    Image.fromarray(sheet, "RGBA").save(path)
    ds = folder.load(path, tile_size=32, max_colors=48)
    assert ds.image_size == (32, 32) and len(ds.palette) <= 48 and len(ds) == 640
    return ds


# A quality comparison, run once per make test: fine-tuning itself runs on
# every backend (test_finetune_seed.py, test_finetune_converge.py).
@pytest.mark.slow
@pytest.mark.backend_independent
def test_finetune_beats_scratch(sprites, tmp_path):
    train, val = sprites.split(test_fraction=0.2, seed=0)
    adapted = zoo.load(BASE, palette=sprites.palette, image_size=(32, 32))
    assert adapted.palette == sprites.palette
    history = pk.finetune(adapted, train, epochs=4, warmup_epochs=1, batch_size=64,
                          learning_rate=3e-3, validation=val, verbose=0, seed=0)
    scratch = pk.models.build(BASE, palette=sprites.palette, image_size=(32, 32),
                              **adapted.build_options)
    scratch_history = pk.fit(scratch, train, epochs=4, batch_size=64, learning_rate=3e-3,
                             validation=val, verbose=0, seed=0)
    tuned_loss = history["val_reconstruction_loss"][-1]
    scratch_loss = scratch_history.history["val_reconstruction_loss"][-1]
    print(f"val reconstruction: fine-tuned {tuned_loss:.1f}, scratch {scratch_loss:.1f} nats")
    assert tuned_loss < scratch_loss, (tuned_loss, scratch_loss)
    # The fine-tuned model is a preset like any other.
    path = zoo.save_preset(adapted, tmp_path / "my_sprites")
    again = zoo.load(path)
    assert again.palette == sprites.palette and again.image_size == (32, 32)
    np.testing.assert_array_equal(again.sample(4, seed=0), adapted.sample(4, seed=0))
