"""`PalettePreprocessor`: images and labels, in the forms users pass them, as a
model's inputs.

A `PaletteAutoencoder` takes int32 palette indices (N, H, W) and, when it is
conditioned, float32 labels (N, L). Users pass RGBA sprites or indices, one
image or a batch, and labels as a dict of names or an array; the preprocessor
checks and converts them, and raises a `PalletsError` naming the argument for
anything else. Every model has one (`model.preprocessor`), made from its
palette, image size and labels.
"""

import difflib

import numpy as np

from pallets_keras import validation
from pallets_keras.errors import PalletsKeyError, PalletsTypeError, PalletsValueError


class PalettePreprocessor:
    """Converts images and labels into the arrays a palette model takes.

    Images: RGBA uint8 (N, H, W, 4), whose colours outside the palette are
    snapped to the nearest palette colour, or palette indices (N, H, W); one
    image may come without its batch axis. Labels: a dict {name: 0/1} (other
    labels 0), an (L,) array for every image or an (N, L) array.

    Args:
        palette: the `Palette` the model draws with.
        image_size: (height, width), the size of the model's images.
        label_names: list of the L label names the model knows, or None.
        takes_labels: bool, whether the model takes labels (into its encoder,
            at least); a model that does not refuses them.
        variant: str or None, the model's variant name, for messages.

    Example:
    >>> from pallets_keras import Palette
    >>> palette = Palette([[0, 0, 0, 0], [255, 217, 38, 255]])
    >>> prep = PalettePreprocessor(palette, (2, 2), label_names=["earring", "hat"],
    ...                            takes_labels=True)
    >>> prep.indices(np.array([[0, 1], [1, 0]])).shape
    (1, 2, 2)
    >>> prep.labels_array({"hat": 1}, 2).tolist()
    [[0.0, 1.0], [0.0, 1.0]]
    """

    def __init__(self, palette, image_size, label_names=None, takes_labels=False,
                 variant=None):
        self.palette = palette
        self.image_size = tuple(image_size)
        self.label_names = list(label_names or [])
        self.takes_labels = bool(takes_labels)
        self.variant = variant

    @property
    def palette_size(self):
        """K, the number of colours in the palette."""
        return len(self.palette)

    @property
    def num_labels(self):
        """L, the number of labels."""
        return len(self.label_names)

    def indices(self, x, name="x"):
        """Images in their documented forms -> checked int32 indices (N, H, W).

        Args:
            x: RGBA uint8 (N, H, W, 4), palette indices (N, H, W), or one image
                without its batch axis: (H, W, 4) RGBA or (H, W) indices.
            name: str, the argument's name in error messages.

        Returns:
            int32 (N, H, W), every value a palette index.

        Raises:
            PalletsError: anything else (naming `name`), e.g. an empty batch,
                another size, floats, or indices outside the palette.
        """
        if x is None or isinstance(x, (str, bytes, dict, set)):
            raise PalletsTypeError(
                f"{name}: expected images as an array, RGBA uint8 (N, H, W, 4) or palette "
                f"indices (N, H, W), got {type(x).__name__}. Read image files with "
                "PIL.Image.open(path).convert('RGBA') and numpy.asarray.")
        try:
            x = np.asarray(x)
        except ValueError as e:  # ragged nested lists
            raise PalletsValueError(f"{name}: images must all have the same shape ({e}).") \
                from None
        if x.dtype.kind not in "uif":
            raise PalletsTypeError(f"{name}: images must be numbers (uint8 RGBA or integer "
                                   f"palette indices), got dtype {x.dtype}.")
        h, w = self.image_size
        if x.ndim == 3 and x.shape == (h, w, 4) and x.shape[1:] != (h, w):
            x = x[None]  # one RGBA image without its batch axis
        if x.ndim == 2:
            x = x[None]  # one index image without its batch axis
        if x.ndim == 4 and x.shape[-1] == 4:
            if x.dtype != np.uint8:
                if x.dtype.kind == "f" or (x.size and (x.min() < 0 or x.max() > 255)):
                    raise PalletsTypeError(
                        f"{name}: RGBA images must be uint8 in [0, 255], got {x.dtype}"
                        + (" (floats in [0, 1]? use (x * 255).round().astype('uint8'))"
                           if x.dtype.kind == "f" else "") + ".")
                x = x.astype(np.uint8)
            if len(x) == 0:
                raise PalletsValueError(f"{name}: an empty batch (shape {x.shape}); pass at "
                                        "least one image.")
            x = self.palette.encode(x, snap=True)
        if x.ndim != 3:
            raise PalletsValueError(
                f"{name}: expected images as RGBA (N, H, W, 4) uint8 or palette indices "
                f"(N, H, W) for this {h}x{w} model, got shape {x.shape}.")
        if len(x) == 0:
            raise PalletsValueError(f"{name}: an empty batch (shape {x.shape}); pass at "
                                    "least one image.")
        if tuple(x.shape[1:]) != self.image_size:
            raise PalletsValueError(
                f"{name}: this model takes {h}x{w} images, got {x.shape[1]}x{x.shape[2]} "
                f"(shape {x.shape}). Resize the sprites, or adapt the model: "
                f"zoo.load(name, image_size=({x.shape[1]}, {x.shape[2]})).")
        if not np.issubdtype(x.dtype, np.integer):
            raise PalletsTypeError(
                f"{name}: palette indices must be integers, got {x.dtype}. RGBA images "
                "need their 4 channels last: (N, H, W, 4).")
        if x.min() < 0 or x.max() >= self.palette_size:
            raise PalletsValueError(
                f"{name}: palette indices must lie in [0, {self.palette_size}) for this "
                f"model's {self.palette_size}-colour palette, got [{x.min()}, {x.max()}]. A "
                "data set with another palette needs zoo.load(name, palette=...) first.")
        return x.astype("int32")

    def snap(self, rgba):
        """Palette indices of RGBA uint8 images (..., 4), each colour outside the
        palette taken as its nearest palette colour, without a warning (an
        RGBA model's output is rarely exactly on the palette)."""
        return self.palette.encode(rgba, snap=True, return_report=True)[0]

    def labels_array(self, labels, n, name="labels"):
        """Labels as (n, L) float32 from an array, or a dict {name: 0/1} (other
        labels 0). None for unconditioned models.

        Args:
            labels: None, a dict {label name: 0 or 1}, an (L,) array (the same
                labels for every image) or an (n, L) array of 0/1 values or
                probabilities in [0, 1].
            n: int, the number of images.
            name: str, the argument's name in error messages.

        Returns:
            float32 (n, L), or None for a model without labels.

        Raises:
            PalletsTypeError: labels given as a label name, a list of names, ...
            PalletsKeyError: a dict naming a label the model does not have.
            PalletsValueError: a wrong shape, a value outside [0, 1], labels
                for a model that takes none, or none for one that needs them.
        """
        if not self.takes_labels:
            if labels is not None:
                raise PalletsValueError(f"{name}: {self.variant or 'this model'} is not "
                                        "conditioned on labels; drop `labels=`.")
            return None
        if labels is None:
            raise PalletsValueError(
                f"{name}: {self.variant or 'this model'} is conditioned on {self.num_labels} "
                "labels: pass labels=, as an (n, L) array or a dict like {'earring': 1}.")
        validation.check_labels_arg(labels, name)
        if isinstance(labels, dict):
            out = np.zeros((n, self.num_labels), "float32")
            for label, value in labels.items():
                if label not in self.label_names:
                    close = difflib.get_close_matches(str(label), self.label_names, n=3)
                    raise PalletsKeyError(
                        f"{name}: unknown label {label!r}." +
                        (f" Did you mean {close}?" if close else " See model.label_names."))
                if isinstance(value, (str, bytes)) or value not in (0, 1, True, False):
                    raise PalletsValueError(f"{name}: label {label!r} must be 0 or 1, got "
                                            f"{value!r}.")
                out[:, self.label_names.index(label)] = value
            return out
        try:
            # Checked in float64: a cast first would turn 1e300 into inf (with a
            # warning) and -1e-300 into a harmless-looking -0.
            labels = np.asarray(labels, "float64")
        except (TypeError, ValueError):
            raise PalletsTypeError(
                f"{name}: an array of 0/1 values or a dict like {{'earring': 1}} is needed; "
                f"got {type(labels).__name__} that is not numeric.") from None
        if labels.ndim == 1:
            labels = np.broadcast_to(labels, (n, labels.shape[0]))
        if labels.shape != (n, self.num_labels):
            raise PalletsValueError(
                f"{name}: must have shape ({n}, {self.num_labels}) (one row of "
                f"{self.num_labels} labels per image), got {labels.shape}.")
        if not np.isfinite(labels).all() or labels.min() < 0 or labels.max() > 1:
            raise PalletsValueError(f"{name}: must be 0/1 values (or probabilities in "
                                    "[0, 1]).")
        return labels.astype("float32")
