"""Pictures: grid layout and image formats (issue 15)."""

import numpy as np
import pytest
from PIL import Image

from pallets_keras import plot
from pallets_keras.errors import PalletsError, PalletsValueError

# numpy-only code: run once, under PyTorch (conftest.py deselects it elsewhere).
pytestmark = pytest.mark.backend_independent


@pytest.mark.parametrize("n, cols, shape", [
    (1, None, (1, 1)), (2, None, (1, 2)), (5, None, (2, 3)), (64, None, (8, 8)),
    (2, 50, (1, 2)), (10, 3, (4, 3)), (7, 7, (1, 7)),
])
def test_grid_shape(n, cols, shape):
    assert plot.grid_shape(n, cols) == shape


def test_image_grid_never_draws_empty_columns():
    grid = plot.image_grid(np.zeros((2, 8, 8, 4), np.uint8), cols=50, scale=2)
    assert grid.shape == ((8 + 2) * 2, (2 * 9 + 1) * 2, 4)


@pytest.mark.parametrize("kwargs", [dict(cols=0), dict(cols=2.5), dict(scale=0),
                                    dict(scale=True)])
def test_image_grid_bad_arguments(kwargs):
    with pytest.raises(PalletsError, match=f"^{next(iter(kwargs))}="):
        plot.image_grid(np.zeros((2, 8, 8, 4), np.uint8), **kwargs)


@pytest.mark.parametrize("name", ["grid.bmp", "grid", "grid.png.txt", "grid.tiff"])
def test_unknown_extensions_are_refused(name, tmp_path):
    with pytest.raises(PalletsValueError, match=r"\.png, \.gif, \.webp, \.jpg, \.jpeg"):
        plot.save_grid(np.zeros((1, 8, 8, 4), np.uint8), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_formats_follow_the_extension(tmp_path):
    rng = np.random.default_rng(0)
    rgba = rng.integers(0, 256, (8, 8, 4)).astype(np.uint8)
    rgba[..., 3] = np.where(rgba[..., 3] > 128, 255, 0)
    for name, fmt in [("a.png", "PNG"), ("a.WEBP", "WEBP"), ("a.gif", "GIF"),
                      ("a.jpg", "JPEG"), ("a.jpeg", "JPEG")]:
        path = plot.save_image(rgba, tmp_path / name)
        with Image.open(path) as image:
            assert image.format == fmt, name
            back = np.asarray(image.convert("RGBA"))
        if fmt in ("PNG", "WEBP"):  # lossless, alpha kept
            np.testing.assert_array_equal(back, rgba)
        elif fmt == "GIF":  # transparency kept
            np.testing.assert_array_equal(back[..., 3] == 0, rgba[..., 3] == 0)
        else:  # no alpha: transparent pixels drawn on white
            assert back.shape == rgba.shape and (back[..., 3] == 255).all()
