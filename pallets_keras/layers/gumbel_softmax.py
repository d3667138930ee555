import keras
from keras import ops


@keras.saving.register_keras_serializable(package="pallets_keras")
class GumbelSoftmax(keras.layers.Layer):
    """Relaxed samples of N categorical variables of C classes (Gumbel-Softmax).

    In training, `y = softmax((logits + g) / tau)` with Gumbel noise `g` drawn
    from `keras.random` through a `SeedGenerator`. With `hard=True` the forward
    value is the one-hot argmax and the gradient is that of the soft sample
    (straight-through). At inference (`training=False`) the layer is
    deterministic: the one-hot argmax of the logits (hard) or their softmax at
    temperature `tau` (soft).

    The temperature lives in a non-trainable `keras.Variable` (`self.tau`) so
    that an annealing callback (`TemperatureAnnealing`) changes it between
    steps and compiled steps on every backend see the new value.

    Args:
        temperature: float, initial tau (> 0).
        hard: bool, straight-through one-hot samples.
        seed: int or None, seeds the layer's `SeedGenerator`.

    Example:
    >>> layer = GumbelSoftmax(temperature=1.0, hard=True, seed=0)
    >>> y = layer(keras.ops.zeros((2, 8, 10)), training=True)
    >>> tuple(y.shape)
    (2, 8, 10)
    """

    def __init__(self, temperature=1.0, hard=False, seed=None, **kwargs):
        super().__init__(**kwargs)
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}.")
        self.temperature = float(temperature)
        self.hard = hard
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.tau = self.add_weight(
            shape=(), initializer=keras.initializers.Constant(self.temperature),
            trainable=False, name="tau")

    def call(self, logits, training=False):
        k = ops.shape(logits)[-1]
        if training:
            u = keras.random.uniform(ops.shape(logits), minval=1e-10, maxval=1.0,
                                     seed=self.seed_generator, dtype=logits.dtype)
            gumbel = -ops.log(-ops.log(u))
            soft = ops.softmax((logits + gumbel) / ops.cast(self.tau, logits.dtype), axis=-1)
        else:
            soft = ops.softmax(logits / ops.cast(self.tau, logits.dtype), axis=-1)
        if not self.hard:
            return soft
        hard = ops.one_hot(ops.argmax(soft, axis=-1), k, dtype=logits.dtype)
        # Straight-through: the value of `hard`, the gradient of `soft`.
        return soft + ops.stop_gradient(hard - soft)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "temperature": self.temperature,
                "hard": self.hard, "seed": self.seed}
