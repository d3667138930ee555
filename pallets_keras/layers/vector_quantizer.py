import keras
from keras import ops


@keras.saving.register_keras_serializable(package="pallets_keras")
class VectorQuantizer(keras.layers.Layer):
    """Snaps each of N vectors to the nearest of K codebook vectors (VQ-VAE).

    Encoded vectors and codebook vectors are L2-normalised before they meet,
    so "nearest" is the largest cosine similarity: codes then cannot drift off
    in norm and far fewer codebook entries go unused than with raw Euclidean
    distances (Yu et al. 2022, "Vector-quantized Image Modeling with Improved
    VQGAN", factorised and l2-normalised codes).

    The forward value of the quantized output is the codebook vector; its
    gradient is the encoded vector's (the straight-through estimator of van
    den Oord et al. 2017, "Neural Discrete Representation Learning"). The
    codebook learns through the codebook term of the loss that
    `VectorQuantizedLatent` builds from the layer's other outputs.

    Args:
        num_codes: int >= 2, K, the codebook's size.
        code_dim: int >= 1, D, each vector's size.
        seed: int or None, seeds the codebook's initializer.

    Call args:
        inputs: float (batch, N, D), the encoder's vectors.

    Returns:
        A list of four tensors: the cosine similarity of each vector to each
        codebook entry (batch, N, K); the quantized vectors with the
        straight-through gradient (batch, N, D); the normalised encoded
        vectors (batch, N, D); the normalised codebook vectors chosen
        (batch, N, D), whose gradient reaches the codebook.

    Example:
    >>> vq = VectorQuantizer(num_codes=16, code_dim=4, seed=0)
    >>> sims, quantized, encoded, chosen = vq(keras.ops.ones((2, 8, 4)))
    >>> tuple(sims.shape), tuple(quantized.shape)
    ((2, 8, 16), (2, 8, 4))
    """

    def __init__(self, num_codes, code_dim, seed=None, **kwargs):
        super().__init__(**kwargs)
        if int(num_codes) < 2 or int(code_dim) < 1:
            raise ValueError(f"num_codes must be >= 2 and code_dim >= 1, got {num_codes} "
                             f"and {code_dim}.")
        self.num_codes = int(num_codes)
        self.code_dim = int(code_dim)
        self.seed = seed
        self.codebook = self.add_weight(
            shape=(self.num_codes, self.code_dim), name="codebook",
            initializer=keras.initializers.RandomNormal(seed=seed))

    def normalized_codebook(self):
        """The codebook's vectors, L2-normalised: (K, D)."""
        return _l2_normalize(self.codebook)

    def call(self, inputs):
        encoded = _l2_normalize(inputs)
        codebook = self.normalized_codebook()
        sims = ops.einsum("bnd,kd->bnk", encoded, codebook)
        chosen = ops.take(codebook, ops.argmax(sims, axis=-1), axis=0)
        quantized = encoded + ops.stop_gradient(chosen - encoded)
        return [sims, quantized, encoded, chosen]

    def compute_output_shape(self, input_shape):
        batch, n, d = input_shape
        return [(batch, n, self.num_codes), (batch, n, d), (batch, n, d), (batch, n, d)]

    def get_config(self):
        return {**super().get_config(), "num_codes": self.num_codes,
                "code_dim": self.code_dim, "seed": self.seed}


def _l2_normalize(x, epsilon=1e-6):
    return x / ops.sqrt(ops.maximum(ops.sum(ops.square(x), axis=-1, keepdims=True), epsilon))
