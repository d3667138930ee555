"""The label-free pixel feature space (`PixelFeatures`) and sample quality in it."""

import numpy as np
import pytest

from pallets_keras.errors import PalletsValueError
from pallets_keras.pixel_features import PixelFeatures, pixel_sample_quality


@pytest.mark.backend_independent
def test_clear_pixels_are_one_point_whatever_their_rgb(tiny_palette):
    from pallets_keras import Palette

    # Two clear colours with different RGB: premultiplied, both are zeros.
    cols = np.array([[0, 0, 0, 0], [255, 0, 0, 0], [10, 200, 30, 255]], np.uint8)
    palette = Palette(cols)
    features = PixelFeatures(palette)
    a = np.zeros((1, 4, 4), np.uint8)
    b = np.full((1, 4, 4), 1, np.uint8)
    c = np.full((1, 4, 4), 2, np.uint8)
    assert np.array_equal(features.pixels(a), features.pixels(b))
    # Full-resolution pixels then the 2x2 average: 4*4*4 + 2*2*4 values.
    assert features.pixels(c).shape == (1, 80)
    assert features.pixels(c)[0, :4].tolist() == pytest.approx([10 / 255, 200 / 255, 30 / 255, 1])
    # RGBA images give the same vectors as their indices.
    assert np.array_equal(features.pixels(palette.decode(c)), features.pixels(c))


@pytest.mark.backend_independent
def test_features_separate_real_from_shifted_and_refuse_misuse(tiny_dataset):
    train, test = tiny_dataset.split(test_fraction=0.5, seed=0)
    features = PixelFeatures(tiny_dataset.palette, n_components=8).fit(train.indices)
    with pytest.raises(PalletsValueError, match="not fitted"):
        PixelFeatures(tiny_dataset.palette)(test.indices)
    with pytest.raises(PalletsValueError, match="size"):
        features(np.zeros((3, 4, 4), np.uint8))
    with pytest.raises(PalletsValueError, match="positive int"):
        PixelFeatures(tiny_dataset.palette, n_components=0)
    from pallets_keras.sample_quality import precision_recall_density_coverage

    real = features(test.indices)
    assert real.shape == (32, 8)
    same = precision_recall_density_coverage(real, features(train.indices), k=3)
    # Blank images (all clear) are far from every coloured square.
    blank = precision_recall_density_coverage(real, features(np.zeros_like(test.indices)), k=3)
    assert same["precision"] > 0.5 and same["recall"] > 0.5
    assert blank["precision"] == 0.0 and blank["recall"] <= 0.1


def test_pixel_sample_quality_of_a_model(tiny_dataset):
    from pallets_keras.models import build

    train, test = tiny_dataset.split(test_fraction=0.5, seed=0)
    model = build("onehot_conv_vae", palette=train.palette, image_size=train.image_size,
                  latent_dim=4, filters=(4, 8), seed=0)
    out = pixel_sample_quality(model, train, test, n=40, seed=0, k=3)
    assert set(out) == {"fpd", "precision", "recall", "density", "coverage", "floor_fpd",
                        "floor_precision", "floor_recall", "floor_density", "floor_coverage"}
    assert all(0.0 <= out[key] <= 1.0 for key in ("precision", "recall", "coverage"))
    # An untrained decoder draws noise, far from the sprites; real images are not.
    assert out["fpd"] > out["floor_fpd"]
    assert out["floor_precision"] > out["precision"]
    assert out == pixel_sample_quality(model, train, test, n=40, seed=0, k=3)
