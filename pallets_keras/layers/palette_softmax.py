import keras
from keras import ops


@keras.saving.register_keras_serializable(package="pallets_keras")
class PaletteSoftmax(keras.layers.Layer):
    """Turns per-pixel logits into a distribution over palette colours.

    Args:
        temperature: float, divides the logits before the softmax.
        hard: bool, return one-hot argmax colours instead of probabilities
            (for inference: every pixel is then exactly one palette colour).

    Example:
    >>> probs = PaletteSoftmax()(keras.ops.zeros((1, 24, 24, 222)))
    >>> tuple(probs.shape)
    (1, 24, 24, 222)
    """

    def __init__(self, temperature=1.0, hard=False, **kwargs):
        super().__init__(**kwargs)
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}.")
        self.temperature = temperature
        self.hard = hard

    def call(self, logits):
        if self.hard:
            k = ops.shape(logits)[-1]
            return ops.one_hot(ops.argmax(logits, axis=-1), k, dtype=logits.dtype)
        return ops.softmax(logits / self.temperature, axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "temperature": self.temperature, "hard": self.hard}
