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
"""

import difflib
import fnmatch

from pallets_keras import validation
from pallets_keras.errors import PalletsTypeError, PalletsValueError
from pallets_keras.models import parts
from pallets_keras.models.autoencoder import PaletteAutoencoder

DEFAULTS = {
    "embedding_dim": 8,        # per-pixel palette embedding (onehot input end)
    "filters": (32, 64),       # conv body: one stride-2 conv per entry
    "units": (),               # hidden dense layers between body and latent
    "pixel_channels": 16,      # features per pixel that the palette head reads
    "latent_dim": 64,          # gaussian/none: values; gumbel: N variables
    "categorical_dim": 16,     # gumbel: C classes per variable
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
# Dense bodies flatten every pixel, so their per-pixel widths stay small to
# keep a preset under 10 MB (about 1.6 M parameters at 24x24).
_BODY_DEFAULTS = {"dense": {"embedding_dim": 4, "units": (256, 256), "pixel_channels": 6}}
# Variant-specific defaults on top of DEFAULTS.
_OVERRIDES = {
    "onehot_ae": {"latent_dim": 128},
    "onehot_conv_ae": {"latent_dim": 128},
    "rgba_ae": {"latent_dim": 128},
    "rgba_conv_ae": {"latent_dim": 128},
    "gsvae": {"latent_dim": 32},
    "labeled_gsvae": {"latent_dim": 32},
    "earring_gsvae": {"latent_dim": 32},
}

VARIANTS = tuple(_AXES)


def list_variants(pattern="*"):
    return [v for v in VARIANTS if fnmatch.fnmatch(v, pattern)]


def axes(variant):
    """(representation, body, latent, conditioning, reconstruct_labels)."""
    if variant not in _AXES:
        close = difflib.get_close_matches(str(variant), VARIANTS, n=3)
        hint = f" Did you mean {close}?" if close else ""
        raise PalletsValueError(f"Unknown variant {variant!r}.{hint} Known: "
                                f"{', '.join(VARIANTS)}.")
    return _AXES[variant]


def variant_config(variant, palette_size=222, image_size=(24, 24), num_labels=87,
                   palette=None, label_names=None, **overrides):
    """The full build config of a variant (all sizes resolved)."""
    import numpy as np

    from pallets_keras.palette import Palette

    rep, body, latent, cond, recon = axes(variant)
    unknown = set(overrides) - set(DEFAULTS) - {"reconstruction_loss"}
    if unknown:
        raise PalletsTypeError(f"Unknown build options {sorted(unknown)}; known: "
                               f"{sorted(DEFAULTS)}.")
    cfg = {**DEFAULTS, **_BODY_DEFAULTS.get(body, {}), **_OVERRIDES.get(variant, {}),
           **overrides}
    if palette is not None:
        if not isinstance(palette, Palette):
            palette = Palette(palette)
        colors = palette.colors.tolist()
    else:
        palette_size = validation.check_int("palette_size", palette_size, min=2)
        # A placeholder palette (distinct greys, transparent first) for a model
        # built before its data; zoo presets and fit() carry the real one.
        i = np.arange(palette_size)
        colors = np.stack([i % 256, (i // 256) % 256, i * 0, np.where(i == 0, 0, 255)], 1)
        colors = colors.tolist()
    image_size = validation.check_image_size(image_size)
    parts.check_image_size(body, image_size, cfg["filters"])
    if cond != "none":
        if label_names is None:
            num_labels = validation.check_positive_int(
                "num_labels", num_labels, fix=f"{variant} is conditioned on labels.")
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
    cfg.setdefault("reconstruction_loss", "categorical" if rep == "onehot" else "bce")
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
                       for k, v in cfg.items() if k in DEFAULTS})


def build(variant, palette_size=222, image_size=(24, 24), num_labels=87, palette=None,
          label_names=None, **overrides):
    """Builds an untrained variant.

    Args:
        variant: one of `VARIANTS` (e.g. "onehot_conv_vae").
        palette_size: K, when no `palette` is given.
        image_size: (H, W), or an int for square images; a conv body needs
            multiples of 2 ** len(filters).
        num_labels: L for conditioned variants, when no `label_names`.
        palette: a `Palette` (sets K and the colours the model draws with).
        label_names: list of label names (sets L).
        **overrides: any of `DEFAULTS` (embedding_dim, filters, units,
            pixel_channels, latent_dim, categorical_dim, beta, label_weight,
            temperature, hard, seed) or reconstruction_loss.

    Returns:
        A `PaletteAutoencoder`.

    Example:
    >>> model = build("onehot_conv_vae", palette_size=64, image_size=(32, 32))
    """
    cfg = variant_config(variant, palette_size, image_size, num_labels, palette,
                         label_names, **overrides)
    return build_from_config(cfg)
