"""The axis registry: one small class per value of each of the four axes.

A variant is a point on four axes (`pallets_keras.models.variants`):

| axis           | values (built in)                  | base class       |
| -------------- | ---------------------------------- | ---------------- |
| representation | onehot, rgba                       | `Representation` |
| body           | dense, conv                        | `Body`           |
| latent         | none, gaussian, gumbel             | `Latent`         |
| conditioning   | none, labeled, conditional         | `Conditioning`   |

Each value is a class with a `name` (the string stored in configs, presets
and `variant_config`), registered once with its axis' decorator, in the
style of timm's `register_model`:

    @register_latent
    class GaussianLatent(Latent):
        name = "gaussian"
        ...

`get_latent("gaussian")` (and `get_body`, `get_representation`,
`get_conditioning`) returns the registered instance; the library asks it,
never compares the name. The built-in values register when this module is
first asked for one (`pallets_keras.models.latents` and its siblings import
them). docs/architecture.md walks through adding a latent.
"""

import difflib
import importlib

from pallets_keras.errors import PalletsKeyError

AXES = ("representation", "body", "latent", "conditioning")
# The packages whose import registers the built-in values of each axis.
_BUILTINS = {
    "representation": "pallets_keras.models.representations",
    "body": "pallets_keras.models.bodies",
    "latent": "pallets_keras.models.latents",
    "conditioning": "pallets_keras.models.conditionings",
}
_REGISTRY = {axis: {} for axis in AXES}


def _register(axis, cls, override):
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise ValueError(f"A {axis} class needs a non-empty string `name`; "
                         f"{cls.__name__} has {name!r}.")
    table = _REGISTRY[axis]
    if name in table and not override and type(table[name]) is not cls:
        raise ValueError(f"A {axis} named {name!r} is already registered "
                         f"({type(table[name]).__name__}); pass override=True to replace it.")
    table[name] = cls()
    return cls


def _decorator(axis):
    def register(cls=None, *, override=False):
        if cls is None:
            return lambda c: _register(axis, c, override)
        return _register(axis, cls, override)

    register.__name__ = f"register_{axis}"
    register.__doc__ = (
        f"Class decorator: registers a `{axis}` value under its class' `name`.\n\n"
        f"Use as `@register_{axis}` or `@register_{axis}(override=True)` (to\n"
        "replace a value of the same name). Returns the class unchanged.")
    return register


register_representation = _decorator("representation")
register_body = _decorator("body")
register_latent = _decorator("latent")
register_conditioning = _decorator("conditioning")


def _table(axis):
    if axis not in _REGISTRY:
        raise PalletsKeyError(f"Unknown axis {axis!r}; the axes are {', '.join(AXES)}.")
    importlib.import_module(_BUILTINS[axis])  # registers the built-in values once
    return _REGISTRY[axis]


def names(axis):
    """The registered values of an axis, built-in ones first, in registration order."""
    return tuple(_table(axis))


def get(axis, name):
    """The registered component `name` of `axis` (an instance).

    Raises:
        PalletsKeyError: no such axis or value (with the closest names).
    """
    table = _table(axis)
    if isinstance(name, str) and name in table:
        return table[name]
    close = difflib.get_close_matches(str(name), list(table), n=3)
    hint = f" Did you mean {close}?" if close else ""
    raise PalletsKeyError(f"Unknown {axis} {name!r}.{hint} Registered: {', '.join(table)}.")


def get_representation(name):
    """The `Representation` registered as `name` ("onehot", "rgba", ...)."""
    return get("representation", name)


def get_body(name):
    """The `Body` registered as `name` ("dense", "conv", ...)."""
    return get("body", name)


def get_latent(name):
    """The `Latent` registered as `name` ("none", "gaussian", "gumbel", ...)."""
    return get("latent", name)


def get_conditioning(name):
    """The `Conditioning` registered as `name` ("none", "labeled", "conditional", ...)."""
    return get("conditioning", name)
