"""`NoLatent` ("none"): a plain autoencoder's deterministic code."""

import keras

from pallets_keras.models.latents.base import Latent
from pallets_keras.models.registry import register_latent


@register_latent
class NoLatent(Latent):
    """z is the encoder's output: no sampling, no KL, no training prior
    (`priors.fit_prior` fits one to the codes afterwards)."""

    name = "none"

    def encoder_end(self, x, cfg):
        return {"z": keras.layers.Dense(cfg["latent_dim"], name="z")(x)}

    def draw(self, sampler, params):
        return params["z"]

    def code(self, posterior):
        return posterior["z"]
