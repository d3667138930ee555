"""`ConvBody` ("conv"): stride-2 convolutions down, upsampling and convs back."""

import keras

from pallets_keras.errors import PalletsValueError
from pallets_keras.models.bodies.base import Body
from pallets_keras.models.registry import register_body

# How the decoder doubles the image size at each stage.
UPSAMPLING = ("nearest", "transpose")


@register_body
class ConvBody(Body):
    """One stride-2 3x3 conv per entry of `filters` (then optional Dense
    `units`); the decoder mirrors it, narrowing to `pixel_channels` at full
    resolution. Labels are broadcast over the image so the first conv sees
    them at every pixel.

    The build option `upsampling` says how each decoder stage doubles the
    size: "nearest" (the default, and every shipped preset's decoder):
    nearest-neighbour upsampling then a 3x3 conv; "transpose": one stride-2
    3x3 `Conv2DTranspose`, 4.8 instead of 8.8 M multiply-adds per 24x24
    punk, which trains 1.17-1.28x faster on every backend
    (docs/benchmarks_models.md). The two have different weights: a preset
    keeps the decoder it was trained with.

    Raises:
        PalletsValueError: an `upsampling` other than "nearest" or "transpose".
    """

    name = "conv"
    sizes = ("filters", "units", "pixel_channels", "upsampling")

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
        # variant_config fills in "nearest" for presets saved before the option.
        upsampling = cfg["upsampling"]
        if upsampling not in UPSAMPLING:
            raise PalletsValueError(
                f"upsampling must be one of {', '.join(map(repr, UPSAMPLING))}, got "
                f"{upsampling!r}.")
        for i, fl in enumerate(widths):
            if upsampling == "transpose":
                # Its own layer names: its kernels do not fit a Conv2D's.
                x = keras.layers.Conv2DTranspose(fl, 3, strides=2, padding="same",
                                                 activation="relu", name=f"dec_deconv_{i}")(x)
            else:
                x = keras.layers.UpSampling2D(2, name=f"dec_up_{i}")(x)
                x = keras.layers.Conv2D(fl, 3, padding="same", activation="relu",
                                        name=f"dec_conv_{i}")(x)
        return x
