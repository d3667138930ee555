"""New pixel sets: a folder of sprites, or sprite sheets cut into tiles.

`load` reads PNG, GIF and BMP files (in sorted path order, so the result is
deterministic), converts every mode to RGBA uint8, optionally cuts each image
into tiles, builds or accepts a `Palette`, and maps every pixel to a palette
index. What it changed on the way is in `dataset.load_report`, and a warning
says so whenever pixels changed colour.

Conversion rules:

- Paletted (`P`, with a transparent index), grey (`L`, `LA`), `RGB` (with a
  `tRNS` colour) and `RGBA` go through PIL's `convert("RGBA")`, so alpha is
  kept. 16-bit grey (`I;16`, and `I` holding 0-65535) is scaled to 0-255 by
  `round(v / 257)`.
- An animated GIF gives its first frame only.
- PIL reads BMP without alpha: a BMP sprite is opaque.
- Fully transparent pixels (alpha 0) all look the same; they are stored as
  (0, 0, 0, 0), whatever their RGB was.
"""

import logging
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

from pallets_keras.datasets.pixel_dataset import PixelDataset
from pallets_keras.palette import Palette

log = logging.getLogger(__name__)

EXTENSIONS = (".png", ".gif", ".bmp")


def _files(path, recursive):
    if path.is_file():
        if path.suffix.lower() not in EXTENSIONS:
            raise ValueError(
                f"{path} is not an image this loader reads; accepted extensions "
                f"are {', '.join(EXTENSIONS)} (any case).")
        return [path]
    pattern = "**/*" if recursive else "*"
    files = sorted(
        (f for f in path.glob(pattern)
         if f.is_file() and f.suffix.lower() in EXTENSIONS
         and not any(part.startswith(".") for part in f.relative_to(path).parts)),
        key=lambda f: f.relative_to(path).as_posix())
    if not files:
        hint = ""
        if not recursive and any(d.is_dir() for d in path.iterdir()):
            hint = " It has subfolders: pass recursive=True to search them."
        raise ValueError(
            f"No images in {path}: accepted extensions are "
            f"{', '.join(EXTENSIONS)} (any case; hidden files are skipped).{hint}")
    return files


def to_rgba(image):
    """A PIL image (any mode) as an (H, W, 4) uint8 RGBA array, alpha kept.

    16-bit grey (`I;16*`, `I`) is scaled from 0-65535 to 0-255; fully
    transparent pixels become (0, 0, 0, 0).
    """
    return _to_rgba(image)[0]


def _to_rgba(image):
    """`to_rgba`, and how many alpha-0 pixels had an RGB other than 0."""
    if image.mode.startswith("I;16") or image.mode == "I":
        v = np.asarray(image).astype(np.int64)
        if v.size and (v.min() < 0 or v.max() > 65535):
            raise ValueError(
                f"{image.mode} image values must lie in 0-65535, got "
                f"[{v.min()}, {v.max()}].")
        grey = ((v + 128) // 257).astype(np.uint8)  # round(v / 257)
        alpha = np.full_like(grey, 255)
        trns = image.info.get("transparency")
        if isinstance(trns, int):
            alpha[v == trns] = 0
        rgba = np.stack([grey, grey, grey, alpha], -1)
    else:
        rgba = np.array(image.convert("RGBA"), dtype=np.uint8)
    clear = rgba[..., 3] == 0
    hidden = int(np.count_nonzero(rgba[clear].any(-1)))
    rgba[clear] = 0
    return rgba, hidden


def _read(file):
    """(H, W, 4) uint8 RGBA of `file`, and how many transparent pixels it had
    with RGB other than 0."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(file) as image:
            image.seek(0)  # an animated GIF: its first frame
            image.load()
            return _to_rgba(image)
    except (UnidentifiedImageError, OSError, SyntaxError, EOFError, ValueError) as e:
        raise ValueError(
            f"Cannot read {file} as an image ({type(e).__name__}: {e}). Re-export "
            f"it as PNG, GIF or BMP, or move it out of the folder.") from e


def _tile_hw(tile_size):
    if tile_size is None:
        return None
    hw = (tile_size, tile_size) if np.ndim(tile_size) == 0 else tuple(tile_size)
    if len(hw) != 2 or not all(
            isinstance(t, (int, np.integer)) and not isinstance(t, bool) and t >= 1
            for t in hw):
        raise ValueError(
            f"tile_size must be a positive int or (height, width), got {tile_size!r}.")
    return int(hw[0]), int(hw[1])


def _cut(rgba, hw, file):
    (H, W), (th, tw) = rgba.shape[:2], hw
    if H % th or W % tw:
        raise ValueError(
            f"{file} is {W}x{H} (width x height), not a whole number of {tw}x{th} "
            f"tiles. Crop or pad the sheet to a multiple of the tile size (e.g. "
            f"{W - W % tw}x{H - H % th}), or pass the tile_size it was drawn with.")
    tiles = rgba.reshape(H // th, th, W // tw, tw, 4).swapaxes(1, 2)
    return tiles.reshape(-1, th, tw, 4), W // tw


def load(path, tile_size=None, palette=None, max_colors=256, recursive=False):
    """Loads a folder of sprites (or sprite sheets) as a `PixelDataset`.

    Args:
        path: a folder of PNG/GIF/BMP files, or one image file (a sheet).
        tile_size: None (each file is one sprite; all must share a size), an
            int, or (height, width): each file is a sheet cut into tiles of
            that size, row by row; fully transparent tiles are skipped.
        palette: optional `Palette` to encode with. Off-palette colours are
            snapped to the nearest palette colour, with a warning.
        max_colors: int >= 1. Without `palette`: when the images use at most
            this many colours the palette is exact (`Palette.from_images`);
            otherwise it is `Palette.quantize(images, max_colors)` and every
            pixel is snapped to it, with a warning saying how many changed.
        recursive: bool, also read the subfolders.

    Returns:
        A `PixelDataset` without labels, named after the folder (or file),
        whose `load_report` dict holds: `path`, `files`, `images`,
        `tile_size`, `empty_tiles_skipped`, `image_size`, `colors_found`,
        `palette_size`, `quantized`, `pixels_changed`, `share_changed`,
        `colors_changed`, `transparent_canonicalized` (alpha-0 pixels whose
        RGB was set to 0) and `sources` (per image: file, tile row, tile
        column; None for whole files).

    Example:
    >>> sprites = load("my_sprites/", tile_size=32, max_colors=64)
    >>> report = sprites.load_report  # e.g. report["share_changed"]: 0.0
    >>> train, test = sprites.split(test_fraction=0.1, seed=0)
    """
    if isinstance(max_colors, bool) or not isinstance(max_colors, (int, np.integer)):
        raise TypeError(f"max_colors must be an int, got {max_colors!r}.")
    if max_colors < 1:
        raise ValueError(f"max_colors must be >= 1, got {max_colors}.")
    if palette is not None and not isinstance(palette, Palette):
        raise TypeError(
            f"palette must be a pallets_keras.Palette, got {type(palette).__name__}; "
            "build one with `Palette(colors)` or `Palette.load(path)`.")
    hw = _tile_hw(tile_size)
    root = Path(path).expanduser()
    if not root.exists():
        raise FileNotFoundError(
            f"No such folder or image file: {root}. Pass a folder of PNG/GIF/BMP "
            "sprites or one sprite sheet.")
    files = _files(root, recursive)
    base = root.parent if root.is_file() else root
    name = root.stem if root.is_file() else root.resolve().name

    images, sources, skipped, hidden = [], [], 0, 0
    for file in files:
        rel = file.relative_to(base).as_posix()
        rgba, n_hidden = _read(file)
        hidden += n_hidden
        if hw is None:
            images.append(rgba[None])
            sources.append((rel, None, None))
            continue
        tiles, per_row = _cut(rgba, hw, rel)
        keep = (tiles[..., 3] != 0).any(axis=(1, 2))
        skipped += int((~keep).sum())
        images.append(tiles[keep])
        sources += [(rel, int(i) // per_row, int(i) % per_row) for i in np.flatnonzero(keep)]

    if hw is None:
        sizes = Counter(im.shape[1:3] for im in images)
        if len(sizes) > 1:
            (common, n), = sizes.most_common(1)
            bad = [f"{s[0]} ({im.shape[2]}x{im.shape[1]})"
                   for im, s in zip(images, sources) if im.shape[1:3] != common]
            more = f" and {len(bad) - 20} more" if len(bad) > 20 else ""
            raise ValueError(
                f"Images differ in size: the most common is {common[1]}x{common[0]} "
                f"(width x height, {n} of {len(images)} files); these differ: "
                f"{', '.join(bad[:20])}{more}. Resize them to one size, or pass "
                "tile_size to cut sheets into tiles.")
    rgba = np.concatenate(images)
    if not len(rgba):
        raise ValueError(
            f"Every {hw[1]}x{hw[0]} tile in {root} is fully transparent: no sprites.")

    exact = Palette.from_images(rgba, name=name)
    quantized = palette is None and len(exact) > max_colors
    if palette is None:
        palette = Palette.quantize(rgba, max_colors, name=name) if quantized else exact
    indices, snap = palette.encode(rgba, snap=True, return_report=True)
    report = {
        "path": str(root), "files": len(files), "images": len(rgba),
        "tile_size": hw, "empty_tiles_skipped": skipped,
        "image_size": tuple(rgba.shape[1:3]), "colors_found": len(exact),
        "palette_size": len(palette), "quantized": quantized,
        "pixels_changed": snap.pixels_moved, "share_changed": snap.share_moved,
        "colors_changed": len(snap.colors_moved),
        "transparent_canonicalized": hidden, "sources": sources,
    }
    if snap.pixels_moved:
        why = (f"quantized {len(exact)} colours to {len(palette)} (max_colors="
               f"{max_colors})" if quantized else
               f"{len(snap.colors_moved)} colours are not in the given palette")
        warnings.warn(f"folder.load({str(root)!r}): {why}; {snap}.", stacklevel=2)
    log.info("Loaded %s: %d images %dx%d from %d files, %d colours, %d empty tiles "
             "skipped, %.2f%% of pixels changed", root, len(rgba), rgba.shape[1],
             rgba.shape[2], len(files), len(palette), skipped, 100 * snap.share_moved)
    ds = PixelDataset(palette, indices, name=name)
    ds.load_report = report
    return ds
