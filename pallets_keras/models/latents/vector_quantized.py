"""`VectorQuantizedLatent` ("vector_quantized"): N codebook choices, VQ-VAE."""

import keras
import numpy as np
from keras import ops

from pallets_keras.layers import VectorQuantizer
from pallets_keras.models.latents.base import Latent
from pallets_keras.models.registry import register_latent

# The commitment weight of van den Oord et al. 2017 (their beta; 0.25 in all
# their experiments): how hard the encoder is pulled to its chosen code.
COMMITMENT = 0.25


@register_latent
class VectorQuantizedLatent(Latent):
    """latent_dim vectors of code_dim values, each snapped to the nearest of
    num_codes codebook vectors (`VectorQuantizer`, cosine similarity); the
    decoder sees the chosen vectors, of flat size N * D.

    The code (`encode`, the priors) is the one-hot choice of each variable,
    of `latent_shape` (N, K) like a Gumbel-Softmax code, so every prior of
    categorical codes serves it (uniform, the mixture, the autoregressive
    one); `decoder_input` maps such codes through the codebook. The loss adds
    the codebook and commitment terms, ||sg(e) - q||^2 + 0.25 ||e - sg(q)||^2
    summed per image (e encoded, q chosen, sg stop-gradient; van den Oord et
    al. 2017, "Neural Discrete Representation Learning"). It is trained
    against a uniform prior, whose KL is the constant N ln K, so there is no
    KL term and no ELBO; sampling uses a fitted prior (by default the
    autoregressive one, as VQ-VAE fits a PixelCNN over its codes).

    Build options: `latent_dim` (N), `num_codes` (K), `code_dim` (D).
    """

    name = "vector_quantized"
    variational = False
    prior = "uniform_categorical"
    fitted_prior = "autoregressive_categorical"
    tuning_family = "ae"
    sizes = ("latent_dim", "num_codes", "code_dim")
    code_kind = "categorical"
    regularizer_metric = "vq_loss"
    defaults = {"num_codes": 64, "code_dim": 8}

    def encoder_end(self, x, cfg):
        n, d = cfg["latent_dim"], cfg["code_dim"]
        vectors = keras.layers.Dense(n * d, name="latent_vectors_flat")(x)
        vectors = keras.layers.Reshape((n, d), name="latent_vectors")(vectors)
        sims, quantized, encoded, chosen = VectorQuantizer(
            cfg["num_codes"], d, seed=cfg.get("seed"), name="vector_quantizer")(vectors)
        return {"latent_similarity": sims, "latent_quantized": quantized,
                "latent_encoded": encoded, "latent_chosen": chosen}

    def code_shape(self, encoder_outputs):
        return tuple(encoder_outputs["latent_similarity"].shape[1:])

    def size(self, cfg):
        return cfg["latent_dim"] * cfg["code_dim"]

    def draw(self, sampler, params):
        return keras.layers.Flatten(name="latent_flatten")(params["latent_quantized"])

    def regularizer(self, outputs):
        encoded = ops.convert_to_tensor(outputs["latent_encoded"])
        chosen = ops.convert_to_tensor(outputs["latent_chosen"])
        codebook = ops.sum(ops.square(ops.stop_gradient(encoded) - chosen), axis=(1, 2))
        commitment = ops.sum(ops.square(encoded - ops.stop_gradient(chosen)), axis=(1, 2))
        return codebook + COMMITMENT * commitment

    def code(self, posterior):
        sims = posterior["latent_similarity"]
        onehot = np.eye(sims.shape[-1], dtype="float32")[sims.argmax(-1)]
        return onehot.reshape(len(sims), -1)

    def decoder_input(self, model, codes):
        codebook = ops.convert_to_numpy(
            model.encoder.get_layer("vector_quantizer").normalized_codebook())
        n, k = model.latent_shape
        return (codes.reshape(len(codes), n, k) @ codebook).reshape(len(codes), -1)
