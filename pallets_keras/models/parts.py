"""The four axes a variant is built from: representation, body, latent, conditioning.

Each function adds one part to a functional graph. `build_encoder` and
`build_decoder` compose them; a variant is just a choice per axis
(`pallets_keras.models.variants`).

Speed notes (see docs/benchmarks_models.md): the naive design feeds a float
one-hot over K palette channels to the first conv and ends with a
Conv2DTranspose to K channels. Here the input is uint8 indices through an
`Embedding` (for a dense body that is a low-rank version of the one-hot Dense;
for a conv body, of the first conv), upsampling is nearest-neighbour plus a
3x3 conv, and the logits come from a per-pixel `Dense` (a 1x1 conv) - the
cheapest op on every backend.
"""

import keras

from pallets_keras.layers import GumbelSoftmax, LabelConditioning, PaletteLookup

REPRESENTATIONS = ("onehot", "rgba")
BODIES = ("dense", "conv")
LATENTS = ("none", "gaussian", "gumbel")
CONDITIONINGS = ("none", "labeled", "conditional")


# ----------------------------------------------------------- representation
def palette_input_end(indices, representation, palette_colors, embedding_dim):
    """Indices (batch, H, W) -> per-pixel features (batch, H, W, C)."""
    if representation == "onehot":
        # Unit-scale vectors, like the one-hot they stand for: Keras' default
        # (uniform +-0.05) starves a dense body of signal and stalls training
        # on the mean image.
        return keras.layers.Embedding(
            len(palette_colors), embedding_dim, name="palette_embedding",
            embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0))(indices)
    return PaletteLookup(palette_colors, name="palette_lookup")(indices)


def palette_output_end(features, representation, palette_size):
    """Per-pixel features -> logits over the palette, or RGBA in [0, 1]."""
    if representation == "onehot":
        return keras.layers.Dense(palette_size, name="palette_head")(features)
    return keras.layers.Dense(4, activation="sigmoid", name="palette_head")(features)


# --------------------------------------------------------------------- body
def downsampling_factor(body, filters):
    return 2 ** len(filters) if body == "conv" else 1


def check_image_size(body, image_size, filters):
    f = downsampling_factor(body, filters)
    h, w = image_size
    if h % f or w % f or h < f or w < f:
        from pallets_keras.errors import PalletsValueError

        raise PalletsValueError(
            f"A conv body with {len(filters)} stride-2 stages needs an image size "
            f"that is a multiple of {f}; got {h}x{w}. Pad or crop the sprites, or "
            f"pass filters=... with fewer stages.")


def encoder_body(x, body, filters, units):
    """Per-pixel features (batch, H, W, C) -> a flat feature vector."""
    if body == "conv":
        for i, f in enumerate(filters):
            x = keras.layers.Conv2D(f, 3, strides=2, padding="same", activation="relu",
                                    name=f"enc_conv_{i}")(x)
        x = keras.layers.Flatten(name="enc_flatten")(x)
        for i, u in enumerate(units):
            x = keras.layers.Dense(u, activation="relu", name=f"enc_dense_{i}")(x)
        return x
    x = keras.layers.Flatten(name="enc_flatten")(x)
    for i, u in enumerate(units):
        x = keras.layers.Dense(u, activation="relu", name=f"enc_dense_{i}")(x)
    return x


def decoder_body(x, body, filters, units, image_size, pixel_channels):
    """A flat vector -> per-pixel features (batch, H, W, C)."""
    h, w = image_size
    if body == "conv":
        f = 2 ** len(filters)
        for i, u in enumerate(reversed(units)):
            x = keras.layers.Dense(u, activation="relu", name=f"dec_dense_{i}")(x)
        x = keras.layers.Dense((h // f) * (w // f) * filters[-1], activation="relu",
                               name="dec_dense_grid")(x)
        x = keras.layers.Reshape((h // f, w // f, filters[-1]), name="dec_reshape")(x)
        # Each stage doubles the size and narrows to the next encoder width; the
        # last one to `pixel_channels`, which the per-pixel head reads. Keeping
        # the full-resolution conv narrow is what makes the decoder cheap.
        widths = list(reversed(filters))[1:] + [pixel_channels]
        for i, fl in enumerate(widths):
            x = keras.layers.UpSampling2D(2, name=f"dec_up_{i}")(x)
            x = keras.layers.Conv2D(fl, 3, padding="same", activation="relu",
                                    name=f"dec_conv_{i}")(x)
        return x
    for i, u in enumerate(reversed(units)):
        x = keras.layers.Dense(u, activation="relu", name=f"dec_dense_{i}")(x)
    # Linear: a ReLU here zeroes whole pixels' few channels, and those pixels
    # then fall back to the head's bias (the most common colour).
    x = keras.layers.Dense(h * w * pixel_channels, name="dec_dense_grid")(x)
    return keras.layers.Reshape((h, w, pixel_channels), name="dec_reshape")(x)


# ------------------------------------------------------------------- latent
def latent_params(x, latent, latent_dim, categorical_dim):
    """The encoder's last layers: what the latent distribution is made of."""
    if latent == "none":
        return {"z": keras.layers.Dense(latent_dim, name="z")(x)}
    if latent == "gaussian":
        return {"z_mean": keras.layers.Dense(latent_dim, name="z_mean")(x),
                "z_log_var": keras.layers.Dense(latent_dim, name="z_log_var")(x)}
    logits = keras.layers.Dense(latent_dim * categorical_dim, name="latent_logits_flat")(x)
    return {"latent_logits": keras.layers.Reshape((latent_dim, categorical_dim),
                                                  name="latent_logits")(logits)}


def latent_size(latent, latent_dim, categorical_dim):
    """How many values the decoder takes."""
    return latent_dim * categorical_dim if latent == "gumbel" else latent_dim


def gumbel_layer(temperature, hard, seed):
    return GumbelSoftmax(temperature=temperature, hard=hard, seed=seed, name="gumbel_softmax")


# ------------------------------------------------------------- the halves
def build_encoder(cfg):
    """The encoder: {"indices"[, "labels"]} -> latent parameters (a dict)."""
    indices = keras.Input(shape=cfg["image_size"], dtype="int32", name="indices")
    inputs = {"indices": indices}
    x = palette_input_end(indices, cfg["representation"], cfg["palette_colors"],
                          cfg["embedding_dim"])
    labels = None
    if cfg["conditioning"] != "none":
        labels = keras.Input(shape=(cfg["num_labels"],), name="labels")
        inputs["labels"] = labels
    if labels is not None and cfg["body"] == "conv":
        # Broadcast over the image so the first conv sees them at every pixel.
        x = LabelConditioning(name="enc_label_conditioning")([x, labels])
    if labels is not None and cfg["body"] == "dense":
        x = keras.layers.Flatten(name="enc_flatten_input")(x)
        x = LabelConditioning(name="enc_label_conditioning")([x, labels])
    x = encoder_body(x, cfg["body"], cfg["filters"], cfg["units"])
    outputs = latent_params(x, cfg["latent"], cfg["latent_dim"], cfg["categorical_dim"])
    return keras.Model(inputs, outputs, name="encoder")


def build_decoder(cfg):
    """The decoder: {"z"[, "labels"]} -> {"logits" | "rgba"[, "label_logits"]}."""
    z = keras.Input(shape=(latent_size(cfg["latent"], cfg["latent_dim"],
                                       cfg["categorical_dim"]),), name="z")
    inputs = {"z": z}
    x = z
    if cfg["conditioning"] == "conditional":
        labels = keras.Input(shape=(cfg["num_labels"],), name="labels")
        inputs["labels"] = labels
        x = LabelConditioning(name="dec_label_conditioning")([z, labels])
    features = decoder_body(x, cfg["body"], cfg["filters"], cfg["units"],
                            cfg["image_size"], cfg["pixel_channels"])
    out = palette_output_end(features, cfg["representation"], len(cfg["palette_colors"]))
    outputs = {"logits" if cfg["representation"] == "onehot" else "rgba": out}
    if cfg["reconstruct_labels"]:
        # From z alone: the latent code must carry the labels to predict them.
        outputs["label_logits"] = keras.layers.Dense(cfg["num_labels"], name="label_head")(z)
    return keras.Model(inputs, outputs, name="decoder")
