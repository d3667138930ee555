import keras
from keras import ops


@keras.saving.register_keras_serializable(package="pallets_keras")
class GaussianSampling(keras.layers.Layer):
    """The reparameterisation trick: z = mean + exp(log_var / 2) * eps.

    In training `eps ~ N(0, 1)` from `keras.random` with a `SeedGenerator`; at
    inference the layer returns the mean, so reconstructions are deterministic.

    Args:
        seed: int or None, seeds the layer's `SeedGenerator`.

    Example:
    >>> z = GaussianSampling(seed=0)([keras.ops.zeros((4, 8)), keras.ops.zeros((4, 8))])
    >>> tuple(z.shape)
    (4, 8)
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        z_mean, z_log_var = inputs
        if not training:
            return z_mean
        eps = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator,
                                  dtype=z_mean.dtype)
        return z_mean + ops.exp(0.5 * z_log_var) * eps

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}
