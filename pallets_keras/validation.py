"""One validation layer for the public boundary.

Each helper checks one argument a user passes to a public function and either
returns it in a normal form or raises the project's own error
(`pallets_keras.errors`) naming the argument, the value it got, and the fix:

    seed=-1: must be an int in [0, 4294967295] (it seeds NumPy and Keras); pass
    e.g. seed=0, or seed=None for a fresh draw.

They import nothing heavy (NumPy only), so the command line can use them
before Keras is loaded. Library bugs must not pass through them: they check
what a user typed, never the library's own intermediate values.
"""

import math
import os

import numpy as np

from pallets_keras.errors import PalletsTypeError, PalletsValueError

# np.random.seed and keras.utils.set_random_seed take seeds below 2**32.
MAX_SEED = 2**32 - 1


def _show(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def is_int(value):
    """True for Python and NumPy integers, False for bools (a bool is an int
    to Python, but never a count or a seed)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_int(name, value, min=None, max=None, fix=None):
    """An integer argument in [min, max].

    Args:
        name: str, the argument's name as the user wrote it.
        value: what the user passed.
        min, max: optional inclusive bounds.
        fix: optional str, how to fix it (appended to the message).

    Returns:
        The value as a Python int.

    Raises:
        PalletsTypeError: not an integer (bools and floats included, even 2.0).
        PalletsValueError: out of range.

    Example:
    >>> check_int("steps", 8, min=2)
    8
    """
    hint = f" {fix}" if fix else ""
    if not is_int(value):
        raise PalletsTypeError(f"{name}={_show(value)}: must be a whole number (int), got "
                               f"{type(value).__name__}.{hint}")
    value = int(value)
    if min is not None and max is not None and not min <= value <= max:
        raise PalletsValueError(f"{name}={value}: must be an int in [{min:,}, {max:,}].{hint}")
    if min is not None and value < min:
        raise PalletsValueError(f"{name}={value}: must be >= {min:,}.{hint}")
    if max is not None and value > max:
        raise PalletsValueError(f"{name}={value:,}: must be at most {max:,}.{hint}")
    return value


def check_positive_int(name, value, max=None, fix=None):
    """An int >= 1 (and <= max when given): counts, epochs, batch sizes.

    Example:
    >>> check_positive_int("epochs", 5)
    5
    """
    return check_int(name, value, min=1, max=max, fix=fix)


def check_non_negative_int(name, value, max=None, fix=None):
    """An int >= 0 (and <= max when given)."""
    return check_int(name, value, min=0, max=max, fix=fix)


def check_float(name, value, min=None, min_inclusive=True, max=None, fix=None):
    """A finite real number in range.

    Args:
        name: str, the argument's name.
        value: int or float (bools refused).
        min: optional lower bound; `min_inclusive=False` makes it strict.
        max: optional inclusive upper bound.
        fix: optional str, how to fix it.

    Returns:
        The value as a Python float.

    Raises:
        PalletsTypeError: not a real number.
        PalletsValueError: NaN, infinite or out of range.

    Example:
    >>> check_float("temperature", 0.5, min=0)
    0.5
    """
    hint = f" {fix}" if fix else ""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)):
        raise PalletsTypeError(f"{name}={_show(value)}: must be a number, got "
                               f"{type(value).__name__}.{hint}")
    value = float(value)
    if not math.isfinite(value):
        raise PalletsValueError(f"{name}={value}: must be a finite number.{hint}")
    if min is not None and (value < min or (value == min and not min_inclusive)):
        op = ">=" if min_inclusive else ">"
        raise PalletsValueError(f"{name}={value:g}: must be {op} {min:g}.{hint}")
    if max is not None and value > max:
        raise PalletsValueError(f"{name}={value:g}: must be <= {max:g}.{hint}")
    return value


def check_seed(value, name="seed", allow_none=True):
    """A seed: None (a fresh draw) or an int in [0, 2**32 - 1].

    Example:
    >>> check_seed(0)
    0
    """
    if value is None and allow_none:
        return None
    fix = "Pass e.g. seed=0" + (", or None for a fresh draw." if allow_none else ".")
    return check_int(name, value, min=0, max=MAX_SEED, fix=fix)


def check_temperature(value, name="temperature"):
    """A sampling temperature: finite and >= 0 (0 takes the most likely colour).

    Example:
    >>> check_temperature(0)
    0.0
    """
    return check_float(name, value, min=0,
                       fix="Use 0 for each pixel's most likely colour, or > 0 to sample "
                           "(1 samples the model's own distribution).")


def check_learning_rate(value, name="learning_rate"):
    """A learning rate: finite and > 0 (NaN would silently give NaN weights).

    Example:
    >>> check_learning_rate(1e-3)
    0.001
    """
    return check_float(name, value, min=0, min_inclusive=False,
                       fix="Adam's usual values lie in [1e-4, 1e-2]; the default is 1e-3.")


def check_image_size(value, name="image_size"):
    """An image size: an int (square) or a pair (H, W) of positive ints.

    Returns:
        (H, W) as a tuple of Python ints.

    Example:
    >>> check_image_size(16)
    (16, 16)
    >>> check_image_size((24, 32))
    (24, 32)
    """
    fix = "Pass an int for square images (e.g. 32) or a pair (height, width)."
    if is_int(value):
        side = check_positive_int(name, value, fix=fix)
        return (side, side)
    if isinstance(value, (str, bytes, dict, set)) or not hasattr(value, "__len__"):
        raise PalletsTypeError(f"{name}={_show(value)}: must be an int or a pair "
                               f"(height, width), got {type(value).__name__}. {fix}")
    if len(value) != 2:
        raise PalletsValueError(f"{name}={_show(value)}: must be a pair (height, width), "
                                f"got {len(value)} values. {fix}")
    return tuple(check_positive_int(name, v, fix=fix) for v in value)


def check_labels_arg(value, name="labels"):
    """The form of a `labels=` argument: None, a dict {name: 0/1}, or an array.

    Catches the forms that look right but are not: a label name ("earring"),
    a list of names, a set. The array's shape and values are checked later,
    where the number of images is known (`PaletteAutoencoder.labels_array`).

    Returns:
        The value unchanged.

    Raises:
        PalletsTypeError: a str, a list of names, a set, or another non-array.

    Example:
    >>> check_labels_arg({"earring": 1})
    {'earring': 1}
    """
    if value is None or isinstance(value, dict):
        return value
    if isinstance(value, str):
        raise PalletsTypeError(
            f"{name}={_show(value)}: a label name is not labels; pass a dict, e.g. "
            f"{name}={{{value!r}: 1}} (other labels 0), or an (n, L) 0/1 array.")
    if isinstance(value, (set, frozenset)):
        raise PalletsTypeError(
            f"{name}={_show(value)}: a set has no order; pass a dict such as "
            f"{{'earring': 1}} or an (n, L) 0/1 array.")
    if isinstance(value, (list, tuple)) and value and all(
            isinstance(v, str) for v in value):
        as_dict = "{" + ", ".join(f"{v!r}: 1" for v in value[:3]) + (
            ", ..." if len(value) > 3 else "") + "}"
        raise PalletsTypeError(
            f"{name}={_show(value)}: a list of label names is not labels; pass a dict, "
            f"e.g. {name}={as_dict} (other labels 0), or an (n, L) 0/1 array.")
    if not isinstance(value, (list, tuple, np.ndarray)) and not hasattr(value, "__array__"):
        raise PalletsTypeError(
            f"{name}={_show(value)}: must be a dict such as {{'earring': 1}} or an (n, L) "
            f"0/1 array, got {type(value).__name__}.")
    return value


def check_path(name, value):
    """A file system path given as a str or `os.PathLike` (not empty).

    Example:
    >>> check_path("path", "out/grid.png")
    'out/grid.png'
    """
    if not isinstance(value, (str, os.PathLike)):
        raise PalletsTypeError(f"{name}={_show(value)}: must be a path (str or Path), got "
                               f"{type(value).__name__}.")
    if not str(os.fspath(value)).strip():
        raise PalletsValueError(f"{name}={_show(value)}: must not be empty.")
    return value


def max_images(image_size, bytes_per_pixel=16, memory_share=0.5):
    """How many images of `image_size` fit in a share of this machine's memory.

    A bound for generation counts: `bytes_per_pixel` covers what one
    generated pixel costs at its peak (RGBA output, indices, copies).

    Args:
        image_size: (H, W).
        bytes_per_pixel: int, peak bytes per generated pixel.
        memory_share: float, the share of physical memory allowed.

    Returns:
        int >= 1.

    Example:
    >>> max_images((24, 24)) > 1000
    True
    """
    h, w = check_image_size(image_size)
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        memory = 8 * 2**30  # no sysconf (Windows): assume a modest 8 GiB
    return max(1, int(memory * memory_share) // (h * w * bytes_per_pixel))
