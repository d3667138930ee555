"""pallets_keras: palette-exact pixel-art autoencoders for Keras 3.

The submodules and the names below load on first use, so `import
pallets_keras` does not import Keras: the `pallets` command line (and any
caller) can still choose the backend (`KERAS_BACKEND`) after importing it.
"""

import importlib as _importlib

from pallets_keras.version import __version__

_SUBMODULES = ("callbacks", "datasets", "io_utils", "layers", "losses", "metrics", "models",
               "palette", "plot", "training", "zoo")
_NAMES = {
    "Palette": "pallets_keras.palette",
    "SnapReport": "pallets_keras.palette",
    "finetune": "pallets_keras.training",
    "fit": "pallets_keras.training",
}

__all__ = ["__version__", "Palette", "SnapReport", "datasets", "layers", "losses", "models",
           "metrics", "plot", "zoo", "finetune", "fit"]


def __getattr__(name):
    if name in _NAMES:
        value = getattr(_importlib.import_module(_NAMES[name]), name)
    elif name in _SUBMODULES:
        value = _importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_NAMES) | set(_SUBMODULES))
