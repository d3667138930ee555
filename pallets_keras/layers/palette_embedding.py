import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="pallets_keras")
class PaletteLookup(keras.layers.Layer):
    """Palette indices (batch, H, W) -> their RGBA colours as floats in [0, 1].

    The input end of the `rgba` representation: the colours are fixed (from
    the palette), not learned, so an RGBA model sees what the original's RGBA
    autoencoders saw while the data stays uint8 indices.

    Args:
        colors: list of K [r, g, b, a] uint8 colours.

    Example:
    >>> rgba = PaletteLookup([[0, 0, 0, 0], [255, 0, 0, 255]])(keras.ops.ones((1, 2, 2), "int32"))
    >>> keras.ops.convert_to_numpy(rgba)[0, 0, 0].tolist()
    [1.0, 0.0, 0.0, 1.0]
    """

    def __init__(self, colors, **kwargs):
        super().__init__(**kwargs)
        self.colors = np.asarray(colors, dtype="int64").tolist()
        self._table = np.asarray(self.colors, dtype="float32") / 255.0

    def call(self, indices):
        table = ops.convert_to_tensor(self._table, dtype=self.compute_dtype)
        return ops.take(table, ops.cast(indices, "int32"), axis=0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (4,)

    def get_config(self):
        return {**super().get_config(), "colors": self.colors}
