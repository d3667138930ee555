"""pallets_keras: palette-exact pixel-art autoencoders for Keras 3.

The submodules and the names below load on first use, so `import
pallets_keras` does not import Keras: the `pallets` command line (and any
caller) can still choose the backend (`KERAS_BACKEND`) after importing it.
"""

import importlib as _importlib
import os as _os
import sys as _sys

from pallets_keras.version import __version__

BACKENDS = ("tensorflow", "jax", "torch")
# Keras also loads these two (numpy runs inference only); anything else makes
# `import keras` fail deep inside with "Unable to import backend : NAME".
_KERAS_ONLY_BACKENDS = ("numpy", "openvino")


class _KerasBackendCheck:
    """A finder that runs before `import keras`: when KERAS_BACKEND names no
    backend Keras has, it raises one clear ImportError instead of Keras'
    traceback. It is checked when Keras is imported, not when this package is,
    so a caller (e.g. `pallets --backend jax`) can still set KERAS_BACKEND
    after `import pallets_keras`."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        if fullname == "keras":
            value = _os.environ.get("KERAS_BACKEND")
            if value and value not in BACKENDS + _KERAS_ONLY_BACKENDS:
                raise ImportError(
                    f"KERAS_BACKEND={value!r} is not a Keras backend: pallets_keras runs on "
                    f"{', '.join(BACKENDS[:-1])} or {BACKENDS[-1]}; set KERAS_BACKEND to one "
                    "of them (or unset it) before importing keras.", name="keras")
        return None


if "keras" not in _sys.modules and not any(isinstance(f, _KerasBackendCheck)
                                           for f in _sys.meta_path):
    _sys.meta_path.insert(0, _KerasBackendCheck())

_SUBMODULES = ("callbacks", "datasets", "io_utils", "layers", "losses", "metrics", "models",
               "optimizers", "palette", "plot", "training", "zoo")
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
