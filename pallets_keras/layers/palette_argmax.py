import keras
from keras import ops


@keras.saving.register_keras_serializable(package="pallets_keras")
class PaletteArgmax(keras.layers.Layer):
    """Each pixel's most likely palette index, for fast generation.

    Returns int32 indices (batch, H, W). A pixel whose logits are not all
    finite gets -1, so one small integer array says both what was drawn and
    whether the weights are broken, without copying the (batch, H, W, K)
    float logits off the device.

    Example:
    >>> logits = keras.ops.one_hot(keras.ops.ones((1, 2, 2), "int32"), 5)
    >>> keras.ops.convert_to_numpy(PaletteArgmax()(logits)).tolist()
    [[[1, 1], [1, 1]]]
    """

    def call(self, logits):
        indices = ops.cast(ops.argmax(logits, axis=-1), "int32")
        # A NaN or inf anywhere in a pixel's logits makes their sum non-finite.
        finite = ops.isfinite(ops.sum(logits, axis=-1))
        return ops.where(finite, indices, ops.full_like(indices, -1))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1])

    def compute_output_spec(self, logits):
        return keras.KerasTensor(logits.shape[:-1], dtype="int32")
