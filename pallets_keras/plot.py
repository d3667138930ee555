"""Pictures: image grids (native or upscaled without smoothing), curves, swatches."""

import math
from pathlib import Path

import numpy as np

from pallets_keras import io_utils


def image_grid(rgba, cols=None, scale=1, padding=1, background=(0, 0, 0, 0)):
    """Tiles images (N, H, W, 4) uint8 into one RGBA array, upscaled by an integer
    `scale` with nearest-neighbour (pixels stay sharp squares)."""
    rgba = np.asarray(rgba)
    if rgba.ndim != 4 or rgba.shape[-1] != 4 or rgba.dtype != np.uint8:
        raise ValueError(f"Expected (N, H, W, 4) uint8 images, got {rgba.shape} {rgba.dtype}.")
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise ValueError(f"scale must be an int >= 1, got {scale!r}.")
    n, h, w, _ = rgba.shape
    if n == 0:
        raise ValueError("No images to draw.")
    cols = cols or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.empty((rows * (h + padding) + padding, cols * (w + padding) + padding, 4), np.uint8)
    grid[:] = background
    for i in range(n):
        r, c = divmod(i, cols)
        y, x = padding + r * (h + padding), padding + c * (w + padding)
        grid[y:y + h, x:x + w] = rgba[i]
    if scale > 1:
        grid = grid.repeat(scale, axis=0).repeat(scale, axis=1)
    return grid


def save_png(rgba, path):
    """Writes one RGBA uint8 image as PNG, atomically."""
    from PIL import Image

    path = Path(path)
    with io_utils.atomic_path(path) as tmp:
        Image.fromarray(np.ascontiguousarray(rgba), "RGBA").save(tmp, format="PNG")
    return path


def save_grid(rgba, path, cols=None, scale=4, padding=1):
    """Draws `image_grid` and writes it to `path` (PNG). Returns the path."""
    return save_png(image_grid(rgba, cols=cols, scale=scale, padding=padding), path)


def show_grid(rgba, cols=None, scale=1, ax=None, title=None):
    """Shows images in a matplotlib axis, without smoothing."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    ax.imshow(image_grid(rgba, cols=cols, scale=scale), interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def training_curves(history, keys=None, ax=None):
    """Plots a Keras `History` (or its `.history` dict): each key and its val_ twin."""
    import matplotlib.pyplot as plt

    hist = getattr(history, "history", history)
    keys = keys or [k for k in hist if not k.startswith("val_")]
    if ax is None:
        _, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 3), squeeze=False)
        axes = axes[0]
    else:
        axes = [ax] * len(keys)
    for a, k in zip(axes, keys):
        a.plot(hist[k], label=k)
        if f"val_{k}" in hist:
            a.plot(hist[f"val_{k}"], label=f"val_{k}")
        a.set_xlabel("epoch")
        a.set_title(k)
        a.legend()
    return axes


def palette_swatches(palette, cols=16, ax=None):
    """Draws every palette colour as a square over a checkerboard (for alpha)."""
    import matplotlib.pyplot as plt

    colors = palette.colors if hasattr(palette, "colors") else np.asarray(palette, np.uint8)
    k = len(colors)
    rows = math.ceil(k / cols)
    img = np.zeros((rows, cols, 4), np.uint8)
    img.reshape(-1, 4)[:k] = colors
    checker = ((np.indices((rows * 8, cols * 8)).sum(0) // 4) % 2) * 60 + 160
    ax = ax or plt.gca()
    ax.imshow(checker, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    ax.imshow(img.repeat(8, 0).repeat(8, 1), interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(f"{k} colours")
    return ax
