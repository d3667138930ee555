"""New pixel sets: a folder of sprites, or sprite sheets cut into tiles.

`load` reads every file Pillow reads (PNG, GIF, BMP, XPM, TGA, WebP, ...; in
sorted path order, so the result is deterministic), converts every mode to
RGBA uint8, takes every frame of an animated GIF or APNG, optionally cuts
each image into tiles (with Tiled's `margin` and `spacing`), builds or
accepts a `Palette`, and maps every pixel to a palette index. What it changed
on the way is in `dataset.load_report` (a `LoadReport`), and a warning says
so whenever pixels changed colour.

Conversion rules:

- Paletted (`P`, with a transparent index), grey (`L`, `LA`), `RGB` (with a
  `tRNS` colour) and `RGBA` go through PIL's `convert("RGBA")`, so alpha is
  kept. 16-bit grey (`I;16`, and `I` holding 0-65535) is scaled to 0-255 by
  `round(v / 257)`; 16-bit colour PNGs (RGB, RGBA) keep the high byte of each
  channel, as Pillow reads them, alpha included.
- Formats without alpha (BMP, JPEG) give opaque sprites.
- Fully transparent pixels (alpha 0) all look the same; they are stored as
  (0, 0, 0, 0), whatever their RGB was.
"""

import dataclasses
import logging
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

from pallets_keras.datasets.pixel_dataset import PixelDataset
from pallets_keras.errors import PalletsFileNotFoundError, PalletsTypeError, PalletsValueError
from pallets_keras.palette import (
    MAX_COLORS,
    QUANTIZERS,
    Palette,
    _pack,
    check_max_colors,
    unique_colors,
)

log = logging.getLogger(__name__)

RAGGED = ("error", "drop", "pad")
FRAMES = ("all", "first")
# Pillow registers these extensions but reads only their headers without an
# extra plugin or program (h5py, ghostscript, ...): not sprite files.
_STUB_FORMATS = frozenset({"BUFR", "GRIB", "HDF5", "WMF", "MPEG", "EPS"})
# Pixels per step of the colour-error pass: bounds its temporaries.
_CHUNK = 1 << 20
_SOURCE_DTYPE = [("file", object), ("frame", np.int32), ("row", np.int32),
                 ("col", np.int32)]


def image_extensions():
    """The file extensions `load` reads: every format this Pillow opens,
    lowercase, e.g. (".apng", ".bmp", ..., ".xpm")."""
    from PIL import Image

    Image.init()
    return tuple(sorted(ext for ext, fmt in Image.registered_extensions().items()
                        if fmt in Image.OPEN and fmt not in _STUB_FORMATS))


@dataclasses.dataclass(frozen=True)
class LoadReport:
    """What `load` read, skipped and changed: a short summary.

    `repr` is one line and `str` a few; `sources` (one row per image) is an
    array attribute and never printed. For backward compatibility a report
    also reads like the dict it used to be: `report["share_changed"]`.

    Attributes:
        path: the folder or file loaded.
        files: number of image files read.
        frames: number of frames read (more than `files` when some are
            animated and `frames="all"`).
        images: number of images in the data set.
        image_size: (height, width) of every image.
        tile_size: (height, width), or None for whole images.
        margin, spacing: the sheet layout used (pixels, Tiled's meaning).
        ragged: the `ragged` policy; `ragged_files`: files whose size was
            not a whole number of tiles; `ragged_tiles`: partial tiles at
            their edges that were dropped or padded.
        skipped_files: ((name, reason), ...) for every file not read.
        empty_tiles_skipped: fully transparent tiles left out.
        near_empty_dropped: tiles under `min_coverage` left out.
        duplicates_dropped: tiles identical to an earlier one left out.
        colors_found: distinct RGBA colours in the images as read.
        palette_size: colours in the palette.
        quantized: whether the palette was made by `Palette.quantize`.
        quantizer: the quantizer's method, or None.
        pixels_changed, share_changed: pixels whose colour changed.
        colors_changed: distinct source colours not in the palette.
        mean_color_error: mean Euclidean RGBA distance (0-255 units) between
            a pixel as read and as loaded, over all pixels.
        alpha_changed: pixels whose alpha changed.
        opaque_lost: opaque pixels (alpha 255) that are no longer opaque.
        transparent_canonicalized: alpha-0 pixels whose RGB was set to 0.
        sources: structured array, one row per image: `file` (str),
            `frame`, `row`, `col` (int; -1 when not cut from a sheet).
    """

    path: str
    files: int
    frames: int
    images: int
    image_size: tuple
    tile_size: tuple = None
    margin: int = 0
    spacing: int = 0
    ragged: str = "error"
    ragged_files: int = 0
    ragged_tiles: int = 0
    skipped_files: tuple = ()
    empty_tiles_skipped: int = 0
    near_empty_dropped: int = 0
    duplicates_dropped: int = 0
    colors_found: int = 0
    palette_size: int = 0
    quantized: bool = False
    quantizer: str = None
    pixels_changed: int = 0
    share_changed: float = 0.0
    colors_changed: int = 0
    mean_color_error: float = 0.0
    alpha_changed: int = 0
    opaque_lost: int = 0
    transparent_canonicalized: int = 0
    sources: np.ndarray = dataclasses.field(default=None, repr=False, compare=False)

    # A mapping view, as the report was a dict before.
    def keys(self):
        return [f.name for f in dataclasses.fields(self)]

    def __getitem__(self, key):
        if key not in self.keys():
            raise KeyError(key)
        return getattr(self, key)

    def to_dict(self):
        """The figures as a JSON-ready dict (without `sources`)."""
        out = {k: getattr(self, k) for k in self.keys() if k != "sources"}
        out["skipped_files"] = [list(s) for s in self.skipped_files]
        out["image_size"] = list(self.image_size)
        out["tile_size"] = None if self.tile_size is None else list(self.tile_size)
        return out

    def __repr__(self):
        h, w = self.image_size
        frames = f" ({self.frames} frames)" if self.frames != self.files else ""
        colours = (f"{self.colors_found} -> {self.palette_size} colours ({self.quantizer})"
                   if self.quantized else f"{self.palette_size} colours")
        changed = (f", {100 * self.share_changed:.2f}% pixels changed (mean error "
                   f"{self.mean_color_error:.2f}, alpha changed {self.alpha_changed})"
                   if self.pixels_changed else "")
        skipped = f", {len(self.skipped_files)} files skipped" if self.skipped_files else ""
        return (f"<LoadReport {self.path}: {self.images} images {h}x{w} from "
                f"{self.files} files{frames}, {colours}{changed}{skipped}>")

    def __str__(self):
        h, w = self.image_size
        lines = [f"{self.path}: {self.images} images {h}x{w} from {self.files} files, "
                 f"{self.frames} frames"]
        if self.tile_size is not None:
            th, tw = self.tile_size
            lines.append(
                f"tiles {th}x{tw} (margin {self.margin}, spacing {self.spacing}): "
                f"{self.empty_tiles_skipped} empty, {self.near_empty_dropped} near-empty, "
                f"{self.duplicates_dropped} duplicates left out; {self.ragged_files} "
                f"ragged files ({self.ragged_tiles} partial tiles, ragged={self.ragged!r})")
        elif self.duplicates_dropped or self.near_empty_dropped:
            lines.append(f"{self.near_empty_dropped} near-empty and "
                         f"{self.duplicates_dropped} duplicate images left out")
        how = f"quantized with {self.quantizer}" if self.quantized else "exact"
        lines.append(
            f"colours: {self.colors_found} found, palette of {self.palette_size} ({how}); "
            f"{self.pixels_changed} pixels changed ({100 * self.share_changed:.2f}%), "
            f"mean colour error {self.mean_color_error:.2f}, alpha changed on "
            f"{self.alpha_changed} ({self.opaque_lost} opaque pixels no longer opaque)")
        for name, reason in self.skipped_files[:5]:
            lines.append(f"skipped {name}: {reason}")
        if len(self.skipped_files) > 5:
            lines.append(f"... and {len(self.skipped_files) - 5} more skipped files")
        return "\n".join(lines)


# ------------------------------------------------------------------ files
def _files(path, recursive):
    """(files to read, ((name, reason), ...) skipped) under `path`."""
    extensions = image_extensions()
    if path.is_file():
        if path.suffix.lower() not in extensions:
            raise PalletsValueError(
                f"{path} is not an image this loader reads: Pillow has no reader for "
                f"{path.suffix or 'files without an extension'!r} (it reads "
                f"{', '.join(e for e in extensions if e in ('.png', '.gif', '.bmp', '.xpm'))}"
                ", ... any case; see folder.image_extensions()).")
        return [path], ()
    pattern = "**/*" if recursive else "*"
    files, skipped = [], []
    for f in sorted(path.glob(pattern), key=lambda f: f.relative_to(path).as_posix()):
        rel = f.relative_to(path)
        if not f.is_file():
            continue
        if any(part.startswith(".") for part in rel.parts):
            skipped.append((rel.as_posix(), "hidden"))
        elif f.suffix.lower() not in extensions:
            skipped.append((rel.as_posix(), f"not an image format Pillow reads "
                                            f"({f.suffix or 'no extension'})"))
        else:
            files.append(f)
    if not files:
        hint = ""
        if not recursive and any(d.is_dir() for d in path.iterdir()):
            hint = " It has subfolders: pass recursive=True to search them."
        seen = f" (skipped: {', '.join(n for n, _ in skipped[:5])})" if skipped else ""
        raise PalletsValueError(
            f"No images in {path}{seen}: this loader reads the formats Pillow reads "
            f"(.png, .gif, .bmp, .xpm, ...; see folder.image_extensions()), hidden "
            f"files are skipped.{hint}")
    return files, tuple(skipped)


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
            raise PalletsValueError(
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


def read_image(path):
    """(H, W, 4) uint8 RGBA of one image file's first frame, alpha kept, in
    any format Pillow reads (the reader `load` and the CLI share).

    Raises:
        PalletsValueError: the file is not an image Pillow can read.

    Example:
    >>> # rgba = read_image("punk1.png")
    """
    return _read(path, frames="first", hint="Re-export it as PNG")[0][1]


def _read(file, frames="all", hint="Re-export it as PNG, or move it out of the folder"):
    """[(frame index, (H, W, 4) uint8 RGBA, transparent pixels that had RGB
    other than 0), ...] for every frame of `file` (the first only with
    frames="first"); `hint` ends the error for an unreadable file."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        with Image.open(file) as image:
            if frames == "first":
                image.seek(0)
                image.load()
                return [(0, *_to_rgba(image))]
            # Pillow composes each GIF/APNG frame over the previous ones as
            # the format says (disposal, blending): the frames as shown.
            return [(i, *_to_rgba(frame))
                    for i, frame in enumerate(ImageSequence.Iterator(image))]
    except (UnidentifiedImageError, OSError, SyntaxError, EOFError, ValueError) as e:
        raise PalletsValueError(
            f"Cannot read {file} as an image ({type(e).__name__}: {e}). {hint}.") from e


# ------------------------------------------------------------------ tiles
def _tile_hw(tile_size):
    if tile_size is None:
        return None
    hw = (tile_size, tile_size) if np.ndim(tile_size) == 0 else tuple(tile_size)
    if len(hw) != 2 or not all(
            isinstance(t, (int, np.integer)) and not isinstance(t, bool) and t >= 1
            for t in hw):
        raise PalletsValueError(
            f"tile_size must be a positive int or (height, width), got {tile_size!r}.")
    return int(hw[0]), int(hw[1])


def _layout(n_px, tile, margin, spacing):
    """Along one axis: (whole tiles, pixels of a partial tile after them)."""
    avail = n_px - margin
    if avail < tile:
        return 0, max(avail, 0)
    n = (avail + spacing) // (tile + spacing)
    leftover = avail - (n * tile + (n - 1) * spacing)
    # A trailing margin (as wide as the leading one) or trailing spacing is
    # part of the sheet's layout, not a partial tile.
    if leftover == margin or leftover <= spacing:
        return n, 0
    return n, leftover - spacing


def _cut(rgba, hw, margin, spacing, ragged, file):
    """(tiles (n, th, tw, 4), tiles per row, partial tiles dropped or padded)."""
    from numpy.lib.stride_tricks import sliding_window_view

    (H, W), (th, tw) = rgba.shape[:2], hw
    n_r, part_h = _layout(H, th, margin, spacing)
    n_c, part_w = _layout(W, tw, margin, spacing)
    layout = f" with margin {margin} and spacing {spacing}" if margin or spacing else ""
    partial = 0
    if part_h or part_w:
        partial = (n_r + bool(part_h)) * (n_c + bool(part_w)) - n_r * n_c
        if ragged == "error":
            if not n_r or not n_c:
                raise PalletsValueError(
                    f"{file} is {W}x{H} (width x height), smaller than one {tw}x{th} "
                    f"tile{layout}. Pass ragged='pad' (--ragged pad) to pad it to a whole "
                    f"tile with transparency, a tile_size of at most "
                    f"({H - margin}, {W - margin}) as (height, width) (--tile-size "
                    f"{H - margin},{W - margin}), or tile_size=None (no --tile-size) to "
                    "load whole images.")
            raise PalletsValueError(
                f"{file} is {W}x{H} (width x height), not a whole number of {tw}x{th} "
                f"tiles{layout}: it holds {n_c}x{n_r} tiles and a partial one of "
                f"{part_w or tw}x{part_h or th} pixels at its right or bottom edge. Pass "
                f"ragged='drop' (--ragged drop) to leave the partial tiles out or "
                f"ragged='pad' (--ragged pad) to pad them with transparency, or give "
                f"the tile_size, margin and spacing "
                f"the sheet was drawn with (Tiled's names: margin around the sheet, "
                f"spacing between tiles).")
        if ragged == "pad":
            pad_h = th - part_h if part_h else 0
            pad_w = tw - part_w if part_w else 0
            rgba = np.pad(rgba, ((0, pad_h), (0, pad_w), (0, 0)))
            n_r, n_c = n_r + bool(part_h), n_c + bool(part_w)
    if not n_r or not n_c:
        return np.zeros((0, th, tw, 4), np.uint8), n_c, partial
    # A strided view of every th x tw window; the grid of tiles is every
    # (tile + spacing)-th window from the margin on. One copy, of the tiles.
    windows = sliding_window_view(rgba, (th, tw), axis=(0, 1))
    grid = windows[margin::th + spacing, margin::tw + spacing][:n_r, :n_c]
    tiles = np.ascontiguousarray(grid.transpose(0, 1, 3, 4, 2)).reshape(-1, th, tw, 4)
    return tiles, n_c, partial


def _first_occurrences(images):
    """Mask of the images that are not a copy of an earlier one."""
    flat = np.ascontiguousarray(images.reshape(len(images), -1))
    rows = flat.view(np.dtype((np.void, flat.shape[1]))).ravel()
    _, first = np.unique(rows, return_index=True)
    keep = np.zeros(len(images), bool)
    keep[first] = True
    return keep


def _changes(source, palette, indices):
    """(mean Euclidean RGBA error, pixels whose alpha changed, opaque pixels
    made non-opaque), chunk by chunk so memory stays bounded."""
    src, idx = source.reshape(-1, 4), indices.reshape(-1)
    total, alpha, lost = 0.0, 0, 0
    for i in range(0, len(src), _CHUNK):
        a = src[i : i + _CHUNK]
        b = palette.colors[idx[i : i + _CHUNK]]
        moved = _pack(a) != _pack(b)
        if not moved.any():
            continue
        d = a[moved].astype(np.int32) - b[moved].astype(np.int32)
        total += float(np.sqrt((d * d).sum(-1)).sum())
        alpha += int(np.count_nonzero(d[:, 3]))
        lost += int(np.count_nonzero((a[moved, 3] == 255) & (b[moved, 3] != 255)))
    return total / max(len(src), 1), alpha, lost


# ------------------------------------------------------------------ load
def load(path, tile_size=None, palette=None, max_colors=256, recursive=False, *,
         margin=0, spacing=0, ragged="error", frames="all", drop_duplicates=False,
         min_coverage=0.0, quantizer="kmeans"):
    """Loads a folder of sprites (or sprite sheets) as a `PixelDataset`.

    Args:
        path: a folder of images, or one image file (a sheet). Every format
            Pillow reads is read (`image_extensions()`); other files are
            skipped and named in the report.
        tile_size: None (each image is one sprite; all must share a size), an
            int, or (height, width): each image is a sheet cut into tiles of
            that size, row by row; fully transparent tiles are skipped.
        palette: optional `Palette` to encode with. Off-palette colours are
            snapped to the nearest palette colour (opaque ones to an opaque
            colour), with a warning.
        max_colors: int >= 1. Without `palette`: when the images use at most
            this many colours the palette is exact; otherwise it is
            `Palette.quantize(images, max_colors, method=quantizer)` and every
            pixel is snapped to it, with a warning saying how many changed and
            by how much. Any number of source colours works.
        recursive: bool, also read the subfolders.
        margin: int >= 0, pixels around the tile grid of a sheet (Tiled's
            name); a trailing margin at the right and bottom is allowed.
        spacing: int >= 0, pixels between tiles (Tiled's name).
        ragged: what to do with a sheet that is not a whole number of tiles
            (including an image smaller than one tile): "error" (default: a
            ragged edge usually means a wrong tile_size, margin or spacing,
            which would misalign every tile, so it is not guessed), "drop"
            (leave out the partial tiles) or "pad" (pad them with
            transparency). Reported in `ragged_files` and `ragged_tiles`.
        frames: "all" (default: every frame of an animated GIF or APNG is its
            own image, or its own sheet) or "first".
        drop_duplicates: bool, leave out images identical to an earlier one.
        min_coverage: float in [0, 1), leave out images whose share of
            visible (alpha > 0) pixels is below it (near-empty tiles); fully
            transparent tiles of a sheet are always left out.
        quantizer: the `method` of `Palette.quantize` ("kmeans" by default).

    Returns:
        A `PixelDataset` without labels, named after the folder (or file),
        whose `load_report` is a `LoadReport`: a short summary (files read
        and skipped with reasons, frames, tiles left out, colours found,
        pixels changed, mean colour error, alpha changed) whose `sources`
        array gives each image's file, frame, tile row and column.

    Raises:
        FileNotFoundError: `path` does not exist.
        PalletsValueError: no images, an unreadable image, a ragged sheet
            with ragged="error", images of different sizes, or a bad option.
        PalletsTypeError: an option of the wrong type.

    Example:
    >>> sprites = load("my_sprites/", tile_size=32, max_colors=64)
    >>> sprites.load_report  # one line: images, colours, pixels changed
    >>> atlas = load("atlas.png", tile_size=(32, 32), ragged="drop", margin=1,
    ...              spacing=1, drop_duplicates=True)
    >>> train, test = sprites.split(test_fraction=0.1, seed=0)
    """
    max_colors = check_max_colors(max_colors, quantizer, "quantizer")
    if palette is not None and not isinstance(palette, Palette):
        raise PalletsTypeError(
            f"palette must be a pallets_keras.Palette, got {type(palette).__name__}; "
            "build one with `Palette(colors)` or `Palette.load(path)`.")
    for key, value in (("margin", margin), ("spacing", spacing)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise PalletsValueError(f"{key} must be an int >= 0 (pixels), got {value!r}.")
    for key, value, allowed in (("ragged", ragged, RAGGED), ("frames", frames, FRAMES),
                                ("quantizer", quantizer, QUANTIZERS)):
        if value not in allowed:
            raise PalletsValueError(
                f"{key} must be one of {', '.join(map(repr, allowed))}, got {value!r}.")
    if isinstance(min_coverage, bool) or not (
            isinstance(min_coverage, (int, float, np.floating)) and 0 <= min_coverage < 1):
        raise PalletsValueError(f"min_coverage must be a float in [0, 1), got {min_coverage!r}.")
    hw = _tile_hw(tile_size)
    if hw is None and (margin or spacing):
        raise PalletsValueError("margin and spacing describe a sheet: pass tile_size too.")
    root = Path(path).expanduser()
    if not root.exists():
        raise PalletsFileNotFoundError(
            f"No such folder or image file: {root}. Pass a folder of sprites (PNG, "
            "GIF, BMP, XPM, ...) or one sprite sheet.")
    files, skipped_files = _files(root, recursive)
    base = root.parent if root.is_file() else root
    name = root.stem if root.is_file() else root.resolve().name

    images, sources = [], []
    unreadable = []
    n_frames = empty = ragged_files = ragged_tiles = hidden = 0
    for file in files:
        rel = file.relative_to(base).as_posix()
        try:
            read = _read(file, frames)
        except PalletsValueError as e:
            if root.is_file():
                raise
            # One damaged file in a folder of sprites: skipped, named in the
            # report and in a warning, rather than losing the whole folder.
            cause = e.__cause__
            unreadable.append((rel, f"unreadable ({type(cause).__name__}: {cause})"))
            continue
        n_frames += len(read)
        for frame, rgba, n_hidden in read:
            label = rel if len(read) == 1 else f"{rel} (frame {frame})"
            hidden += n_hidden
            if hw is None:
                images.append(rgba[None])
                sources.append((rel, frame, -1, -1))
                continue
            tiles, per_row, partial = _cut(rgba, hw, margin, spacing, ragged, label)
            ragged_tiles += partial
            ragged_files += bool(partial) and frame == 0
            keep = (tiles[..., 3] != 0).any(axis=(1, 2))
            empty += int((~keep).sum())
            images.append(tiles[keep])
            sources += [(rel, frame, int(i) // per_row, int(i) % per_row)
                        for i in np.flatnonzero(keep)]

    if hw is None:
        sizes = Counter(im.shape[1:3] for im in images)
        if len(sizes) > 1:
            (common, n), = sizes.most_common(1)
            bad = [f"{s[0]} ({im.shape[2]}x{im.shape[1]})"
                   for im, s in zip(images, sources) if im.shape[1:3] != common]
            more = f" and {len(bad) - 20} more" if len(bad) > 20 else ""
            raise PalletsValueError(
                f"Images differ in size: the most common is {common[1]}x{common[0]} "
                f"(width x height, {n} of {len(images)} images); these differ: "
                f"{', '.join(bad[:20])}{more}. Resize them to one size, or pass "
                "tile_size to cut sheets into tiles.")
    if unreadable:
        skipped_files += tuple(unreadable)
        if not images:
            named = "; ".join(f"{n}: {r}" for n, r in unreadable[:5])
            raise PalletsValueError(
                f"No image in {root} could be read: {named}. Re-export them as PNG.")
        warnings.warn(
            f"folder.load({str(root)!r}) skipped {len(unreadable)} unreadable files: "
            + "; ".join(f"{n} {r}" for n, r in unreadable[:5])
            + ("; ..." if len(unreadable) > 5 else "") + ". Re-export them as PNG, or move "
            "them out of the folder.", stacklevel=2)
    rgba = np.concatenate(images) if images else np.zeros((0, *hw, 4), np.uint8)
    del images
    sources = np.array(sources, dtype=_SOURCE_DTYPE).reshape(-1)
    if not len(rgba):
        raise PalletsValueError(
            f"Every {hw[1]}x{hw[0]} tile in {root} is fully transparent or left out: "
            "no sprites.")
    keep = np.ones(len(rgba), bool)
    near_empty = duplicates = 0
    if min_coverage:
        coverage = (rgba[..., 3] != 0).mean(axis=(1, 2))
        keep &= coverage >= min_coverage
        near_empty = int((~keep).sum())
    if drop_duplicates:
        unique = _first_occurrences(rgba)
        duplicates = int((keep & ~unique).sum())
        keep &= unique
    if not keep.all():
        if not keep.any():
            raise PalletsValueError(
                f"All {len(rgba)} images of {root} were left out ({near_empty} under "
                f"min_coverage={min_coverage}, {duplicates} duplicates).")
        rgba, sources = rgba[keep], sources[keep]

    colors_found = len(unique_colors(rgba))
    if palette is None and colors_found > MAX_COLORS and max_colors > MAX_COLORS:
        # max_colors above a palette's most would mean "keep every colour",
        # which no palette can.
        raise PalletsValueError(
            f"{root} holds {colors_found:,} distinct colours, more than a palette's "
            f"{MAX_COLORS:,}, and max_colors={max_colors} asks to keep them all. Pass "
            f"max_colors <= {MAX_COLORS} to quantize them (pixel art uses a few: 16-256 "
            "quantize in seconds).")
    quantized = palette is None and colors_found > max_colors
    if palette is None:
        palette = (Palette.quantize(rgba, max_colors, name=name, method=quantizer)
                   if quantized else Palette.from_images(rgba, name=name))
    indices, snap = palette.encode(rgba, snap=True, return_report=True)
    error, alpha_changed, opaque_lost = _changes(rgba, palette, indices)
    report = LoadReport(
        path=str(root), files=len(files), frames=n_frames, images=len(rgba),
        image_size=tuple(rgba.shape[1:3]), tile_size=hw, margin=int(margin),
        spacing=int(spacing), ragged=ragged, ragged_files=int(ragged_files),
        ragged_tiles=int(ragged_tiles), skipped_files=skipped_files,
        empty_tiles_skipped=empty, near_empty_dropped=near_empty,
        duplicates_dropped=duplicates, colors_found=colors_found,
        palette_size=len(palette), quantized=quantized,
        quantizer=quantizer if quantized else None, pixels_changed=snap.pixels_moved,
        share_changed=snap.share_moved, colors_changed=len(snap.colors_moved),
        mean_color_error=round(error, 4), alpha_changed=alpha_changed,
        opaque_lost=opaque_lost, transparent_canonicalized=hidden, sources=sources)
    if snap.pixels_moved:
        why = (f"quantized {colors_found} colours to {len(palette)} (max_colors="
               f"{max_colors}, {quantizer})" if quantized else
               f"{len(snap.colors_moved)} colours are not in the given palette")
        warnings.warn(
            f"folder.load({str(root)!r}): {why}; {snap}; mean colour error {error:.2f} "
            f"(RGBA, 0-255), alpha changed on {alpha_changed} pixels ({opaque_lost} "
            "opaque pixels no longer opaque).", stacklevel=2)
    if skipped_files:
        log.info("folder.load(%s) skipped %d files: %s", root, len(skipped_files),
                 "; ".join(f"{n} ({r})" for n, r in skipped_files[:10]))
    log.info("Loaded %r", report)
    ds = PixelDataset(palette, indices, name=name)
    ds.load_report = report
    return ds
