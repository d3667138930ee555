"""Pictures: image grids (native or upscaled without smoothing), curves, swatches."""

import math
from pathlib import Path

import numpy as np

from pallets_keras import io_utils, validation
from pallets_keras.errors import PalletsValueError


def grid_shape(n, cols=None):
    """(rows, cols) of the grid `image_grid` draws for n images: a square-ish
    grid by default, and never more columns than images.

    Example:
    >>> grid_shape(2, cols=50)
    (1, 2)
    """
    # More columns than images would only draw empty cells: one row of n then.
    cols = min(cols or math.ceil(math.sqrt(n)), n)
    return math.ceil(n / cols), cols


def image_grid(rgba, cols=None, scale=1, padding=1, background=(0, 0, 0, 0)):
    """Tiles images (N, H, W, 4) uint8 into one RGBA array, upscaled by an integer
    `scale` with nearest-neighbour (pixels stay sharp squares).

    Args:
        rgba: uint8 (N, H, W, 4).
        cols: int, columns (default: a square-ish grid); more than N draws
            one row of N.
        scale: int >= 1, upscale factor.
        padding: int, transparent pixels between and around the tiles.
        background: RGBA of the padding.

    Returns:
        uint8 (rows * (H + padding) + padding, cols * (W + padding) + padding, 4),
        times `scale`.

    Raises:
        PalletsError: images of another form, a bad `cols` or `scale`.

    Example:
    >>> image_grid(np.zeros((2, 8, 8, 4), np.uint8), cols=50).shape
    (10, 19, 4)
    """
    rgba = np.asarray(rgba)
    if rgba.ndim != 4 or rgba.shape[-1] != 4 or rgba.dtype != np.uint8:
        raise PalletsValueError(
            f"Expected (N, H, W, 4) uint8 images, got {rgba.shape} {rgba.dtype}.")
    validation.check_positive_int("scale", scale)
    n, h, w, _ = rgba.shape
    if n == 0:
        raise PalletsValueError("No images to draw.")
    if cols is not None:
        validation.check_positive_int("cols", cols)
    rows, cols = grid_shape(n, cols)
    grid = np.empty((rows * (h + padding) + padding, cols * (w + padding) + padding, 4), np.uint8)
    grid[:] = background
    for i in range(n):
        r, c = divmod(i, cols)
        y, x = padding + r * (h + padding), padding + c * (w + padding)
        grid[y:y + h, x:x + w] = rgba[i]
    if scale > 1:
        grid = grid.repeat(scale, axis=0).repeat(scale, axis=1)
    return grid


# Extensions the image writers take, and Pillow's format for each.
IMAGE_FORMATS = {".png": "PNG", ".gif": "GIF", ".webp": "WEBP", ".jpg": "JPEG",
                 ".jpeg": "JPEG"}


def image_format(path):
    """Pillow's format name for a path's extension (case-insensitive).

    Call it before the work, so a wrong name fails at once.

    Args:
        path: the image file to write.

    Returns:
        "PNG", "GIF", "WEBP" or "JPEG".

    Raises:
        PalletsValueError: an extension that is missing or not one of
            .png, .gif, .webp, .jpg, .jpeg (or WebP without Pillow support).

    Example:
    >>> image_format("grid.JPG")
    'JPEG'
    """
    suffix = Path(path).suffix.lower()
    known = ", ".join(IMAGE_FORMATS)
    if suffix not in IMAGE_FORMATS:
        what = f"extension {suffix!r}" if suffix else "no extension"
        raise PalletsValueError(f"{path}: {what}; image files are written as {known} "
                                "(PNG keeps every pixel exact).")
    fmt = IMAGE_FORMATS[suffix]
    if fmt == "WEBP":
        from PIL import features

        if not features.check("webp"):
            raise PalletsValueError(f"{path}: this Pillow was built without WebP; use .png.")
    return fmt


def save_image(rgba, path):
    """Writes one RGBA uint8 image, atomically, in the format its extension names.

    PNG and WebP (lossless) keep every pixel, alpha included; GIF keeps up to
    256 colours and fully transparent pixels; JPEG has no alpha (transparent
    pixels become white) and its compression moves colours off the palette.

    Args:
        rgba: uint8 (H, W, 4).
        path: file name ending in .png, .gif, .webp, .jpg or .jpeg.

    Returns:
        The path, as a `Path`.

    Raises:
        PalletsValueError: an extension `image_format` refuses.

    Example:
    >>> save_image(np.zeros((8, 8, 4), np.uint8), "tile.webp")
    PosixPath('tile.webp')
    """
    from PIL import Image

    path = Path(path)
    fmt = image_format(path)
    image = Image.fromarray(np.ascontiguousarray(rgba), "RGBA")
    options = {}
    if fmt == "JPEG":
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, image).convert("RGB")
        options = {"quality": 95, "subsampling": 0}
    elif fmt == "WEBP":
        options = {"lossless": True, "exact": True}
    with io_utils.atomic_path(path) as tmp:
        image.save(tmp, format=fmt, **options)
    return path


def save_png(rgba, path):
    """Writes one RGBA uint8 image as PNG, atomically, whatever the extension."""
    from PIL import Image

    path = Path(path)
    with io_utils.atomic_path(path) as tmp:
        Image.fromarray(np.ascontiguousarray(rgba), "RGBA").save(tmp, format="PNG")
    return path


def save_grid(rgba, path, cols=None, scale=4, padding=1):
    """Draws `image_grid` and writes it to `path` in the format its extension
    names (see `save_image`). Returns the path.

    Example:
    >>> save_grid(model.sample(16, seed=0), "punks.png", scale=8)
    """
    image_format(path)  # before drawing: a wrong name fails at once
    return save_image(image_grid(rgba, cols=cols, scale=scale, padding=padding), path)


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
