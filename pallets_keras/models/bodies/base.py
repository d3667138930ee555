"""`Body`: the interface every value of the body axis implements."""

import keras

from pallets_keras.errors import PalletsValueError
from pallets_keras.layers import LabelConditioning


class Body:
    """One value of the body axis. Stateless: the registry keeps one instance.

    Attributes:
        name: str, the registered name.
        defaults: dict, build options this body changes from
            `variants.DEFAULTS` (a variant's own overrides win).
        fixed_size: bool, True when the weights are tied to the image size
            (so `zoo.adapt` cannot change it).
        sizes: tuple of the build options that size this body's layers
            (what `pallets zoo info` shows).
    """

    name = None
    defaults = {}
    fixed_size = False
    sizes = ("units", "pixel_channels")

    def downsampling_factor(self, filters):
        """How much the body shrinks each image side."""
        return 1

    def check_image_size(self, image_size, filters):
        """Raises a clear error for an image size the body cannot take."""
        f = self.downsampling_factor(filters)
        h, w = image_size
        if h % f or w % f or h < f or w < f:
            raise PalletsValueError(
                f"A {self.name} body with {len(filters)} stride-2 stages needs an image "
                f"size that is a multiple of {f}; got {h}x{w}. Pad or crop the sprites, "
                "or pass filters=... with fewer stages.")

    def join_labels(self, x, labels):
        """Per-pixel features and (batch, L) labels -> the encoder body's input."""
        return LabelConditioning(name="enc_label_conditioning")([x, labels])

    def encoder(self, x, cfg):
        """Per-pixel features (batch, H, W, C) -> a flat feature vector."""
        raise NotImplementedError

    def decoder(self, x, cfg):
        """A flat vector -> per-pixel features (batch, H, W, pixel_channels)."""
        raise NotImplementedError

    @staticmethod
    def dense_stack(x, units, prefix):
        """ReLU Dense layers named f"{prefix}_{i}"."""
        for i, u in enumerate(units):
            x = keras.layers.Dense(u, activation="relu", name=f"{prefix}_{i}")(x)
        return x

    def __repr__(self):
        return f"{type(self).__name__}()"
