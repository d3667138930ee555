import keras
from keras import ops


@keras.saving.register_keras_serializable(package="pallets_keras")
class LabelConditioning(keras.layers.Layer):
    """Joins a label vector (batch, L) to features.

    Feature maps (batch, H, W, C) get the labels broadcast over every pixel,
    giving (batch, H, W, C + L), which is how a conv encoder sees them. Flat
    features (batch, D) get them concatenated, (batch, D + L), for dense bodies
    and decoders.

    Example:
    >>> x = LabelConditioning()([keras.ops.zeros((2, 24, 24, 8)), keras.ops.ones((2, 3))])
    >>> tuple(x.shape)
    (2, 24, 24, 11)
    """

    def call(self, inputs):
        features, labels = inputs
        labels = ops.cast(labels, features.dtype)
        if len(features.shape) == 4:
            h, w = features.shape[1], features.shape[2]
            labels = ops.tile(labels[:, None, None, :], (1, h, w, 1))
        return ops.concatenate([features, labels], axis=-1)

    def compute_output_shape(self, input_shape):
        features, labels = input_shape
        return tuple(features[:-1]) + (features[-1] + labels[-1],)
