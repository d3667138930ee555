"""`Adam` with the same update on every backend for a palette embedding.

On TensorFlow the gradient of an `Embedding` is a `tf.IndexedSlices` with
one row per pixel, so each palette colour's row appears thousands of times
per batch. Keras' Adam squares that gradient row by row before the rows of
one colour are summed (`ops.square` keeps IndexedSlices sparse), so its
second moment gets the sum of squares instead of the square of the sum:
far too small, and the embedding's steps far too large. On JAX and PyTorch
the gradient is dense and correct. Measured: three Adam steps at 1e-3 from
the `onehot_conv_ae` preset took the loss of 128 punks from 1.66 to 2,214
nats on TensorFlow and to 53.8 on PyTorch; with the embedding frozen,
TensorFlow gave 51.7. This class sums the rows first (a dense gradient), so
TensorFlow matches the other backends.
"""

import keras


@keras.saving.register_keras_serializable(package="pallets_keras")
class Adam(keras.optimizers.Adam):
    """`keras.optimizers.Adam` that densifies sparse gradients before updating.

    Takes the same arguments as `keras.optimizers.Adam`; `pk.fit`,
    `pk.finetune`, `zoo.load(compile=True)` and tuning compile with it. Pass
    it to `model.compile` yourself when training a one-hot model with your own
    loop on TensorFlow.

    Example:
    >>> from pallets_keras.models import build
    >>> model = build("onehot_conv_ae")
    >>> model.compile(optimizer=Adam(1e-3))
    """

    def apply(self, grads, trainable_variables=None):
        # Only TensorFlow makes sparse gradients (keras.ops.convert_to_tensor
        # keeps them sparse); tf.convert_to_tensor sums an IndexedSlices' rows.
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            grads = [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g
                     for g in grads]
        return super().apply(grads, trainable_variables)
