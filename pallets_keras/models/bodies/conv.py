"""`ConvBody` ("conv"): stride-2 convolutions down, upsampling and convs back."""

import keras

from pallets_keras.models.bodies.base import Body
from pallets_keras.models.registry import register_body


@register_body
class ConvBody(Body):
    """One stride-2 3x3 conv per entry of `filters` (then optional Dense
    `units`); the decoder mirrors it with nearest-neighbour upsampling and
    3x3 convs, narrowing to `pixel_channels` at full resolution. Labels are
    broadcast over the image so the first conv sees them at every pixel."""

    name = "conv"
    sizes = ("filters", "units", "pixel_channels")

    def downsampling_factor(self, filters):
        return 2 ** len(filters)

    def encoder(self, x, cfg):
        for i, f in enumerate(cfg["filters"]):
            x = keras.layers.Conv2D(f, 3, strides=2, padding="same", activation="relu",
                                    name=f"enc_conv_{i}")(x)
        x = keras.layers.Flatten(name="enc_flatten")(x)
        return self.dense_stack(x, cfg["units"], "enc_dense")

    def decoder(self, x, cfg):
        (h, w), filters = cfg["image_size"], cfg["filters"]
        f = self.downsampling_factor(filters)
        x = self.dense_stack(x, reversed(cfg["units"]), "dec_dense")
        x = keras.layers.Dense((h // f) * (w // f) * filters[-1], activation="relu",
                               name="dec_dense_grid")(x)
        x = keras.layers.Reshape((h // f, w // f, filters[-1]), name="dec_reshape")(x)
        # Each stage doubles the size and narrows to the next encoder width; the
        # last one to `pixel_channels`, which the per-pixel head reads. Keeping
        # the full-resolution conv narrow is what makes the decoder cheap.
        widths = list(reversed(filters))[1:] + [cfg["pixel_channels"]]
        for i, fl in enumerate(widths):
            x = keras.layers.UpSampling2D(2, name=f"dec_up_{i}")(x)
            x = keras.layers.Conv2D(fl, 3, padding="same", activation="relu",
                                    name=f"dec_conv_{i}")(x)
        return x
