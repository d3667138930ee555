"""`DenseBody` ("dense"): every pixel flattened into Dense layers."""

import keras

from pallets_keras.models.bodies.base import Body
from pallets_keras.models.registry import register_body


@register_body
class DenseBody(Body):
    """Flatten, Dense layers (`units`), and back: the original study's body.
    Its weights are tied to the number of pixels."""

    name = "dense"
    # Dense bodies flatten every pixel, so their per-pixel widths stay small to
    # keep a preset under 10 MB (about 1.6 M parameters at 24x24).
    defaults = {"embedding_dim": 4, "units": (256, 256), "pixel_channels": 6}
    fixed_size = True

    def join_labels(self, x, labels):
        x = keras.layers.Flatten(name="enc_flatten_input")(x)
        return super().join_labels(x, labels)

    def encoder(self, x, cfg):
        x = keras.layers.Flatten(name="enc_flatten")(x)
        return self.dense_stack(x, cfg["units"], "enc_dense")

    def decoder(self, x, cfg):
        (h, w), channels = cfg["image_size"], cfg["pixel_channels"]
        x = self.dense_stack(x, reversed(cfg["units"]), "dec_dense")
        # Linear: a ReLU here zeroes whole pixels' few channels, and those pixels
        # then fall back to the head's bias (the most common colour).
        x = keras.layers.Dense(h * w * channels, name="dec_dense_grid")(x)
        return keras.layers.Reshape((h, w, channels), name="dec_reshape")(x)
