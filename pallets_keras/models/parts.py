"""Composes a variant's encoder and decoder from its four axis components.

A variant is a choice per axis (`pallets_keras.models.variants`); each value
is a registered class (`pallets_keras.models.registry`): a `Representation`
(palette ends), a `Body`, a `Latent` and a `Conditioning`. `build_encoder`
and `build_decoder` ask them for their layers and never compare names.

Speed notes (see docs/benchmarks_models.md): the naive design feeds a float
one-hot over K palette channels to the first conv and ends with a
Conv2DTranspose to K channels. Here the input is uint8 indices through an
`Embedding` (for a dense body that is a low-rank version of the one-hot Dense;
for a conv body, of the first conv), upsampling is nearest-neighbour plus a
3x3 conv, and the logits come from a per-pixel `Dense` (a 1x1 conv) - the
cheapest op on every backend.
"""

import keras

from pallets_keras.layers import LabelConditioning
from pallets_keras.models import registry

# The built-in values of each axis (`registry.names(axis)` lists the
# registered ones, added values included).
REPRESENTATIONS = registry.names("representation")
BODIES = registry.names("body")
LATENTS = registry.names("latent")
CONDITIONINGS = registry.names("conditioning")


# Each function below is the part of one axis component, kept under its
# former name for callers of this module.
def palette_input_end(indices, representation, palette_colors, embedding_dim):
    """Indices (batch, H, W) -> per-pixel features (batch, H, W, C)."""
    return registry.get_representation(representation).input_end(
        indices, {"palette_colors": palette_colors, "embedding_dim": embedding_dim})


# The decoder's label output layer (variants that reconstruct their labels).
LABEL_HEAD = "label_head"


def downsampling_factor(body, filters):
    return registry.get_body(body).downsampling_factor(filters)


def check_image_size(body, image_size, filters):
    registry.get_body(body).check_image_size(image_size, filters)


def latent_params(x, latent, latent_dim, categorical_dim):
    """The encoder's last layers: what the latent distribution is made of."""
    return registry.get_latent(latent).encoder_end(
        x, {"latent_dim": latent_dim, "categorical_dim": categorical_dim})


def latent_size(latent, latent_dim, categorical_dim):
    """How many values the decoder takes."""
    return registry.get_latent(latent).size(
        {"latent_dim": latent_dim, "categorical_dim": categorical_dim})


# ------------------------------------------------------------- the halves
def build_encoder(cfg):
    """The encoder: {"indices"[, "labels"]} -> latent parameters (a dict)."""
    rep = registry.get_representation(cfg["representation"])
    body = registry.get_body(cfg["body"])
    indices = keras.Input(shape=cfg["image_size"], dtype="int32", name="indices")
    inputs = {"indices": indices}
    x = rep.input_end(indices, cfg)
    if registry.get_conditioning(cfg["conditioning"]).encoder_labels:
        labels = keras.Input(shape=(cfg["num_labels"],), name="labels")
        inputs["labels"] = labels
        x = body.join_labels(x, labels)
    x = body.encoder(x, cfg)
    outputs = registry.get_latent(cfg["latent"]).encoder_end(x, cfg)
    return keras.Model(inputs, outputs, name="encoder")


def build_decoder(cfg):
    """The decoder: {"z"[, "labels"]} -> {"logits" | "rgba"[, "label_logits"]}."""
    rep = registry.get_representation(cfg["representation"])
    z = keras.Input(shape=(registry.get_latent(cfg["latent"]).size(cfg),), name="z")
    inputs = {"z": z}
    x = z
    if registry.get_conditioning(cfg["conditioning"]).decoder_labels:
        labels = keras.Input(shape=(cfg["num_labels"],), name="labels")
        inputs["labels"] = labels
        x = LabelConditioning(name="dec_label_conditioning")([z, labels])
    features = registry.get_body(cfg["body"]).decoder(x, cfg)
    outputs = {rep.output_key: rep.output_end(features, cfg)}
    if cfg["reconstruct_labels"]:
        # From z alone: the latent code must carry the labels to predict them.
        outputs["label_logits"] = keras.layers.Dense(cfg["num_labels"], name=LABEL_HEAD)(z)
    return keras.Model(inputs, outputs, name="decoder")
