"""`GaussianLatent` ("gaussian"): a diagonal Gaussian posterior, the VAE's."""

import keras

from pallets_keras import losses
from pallets_keras.layers import GaussianSampling
from pallets_keras.models.latents.base import Latent
from pallets_keras.models.registry import register_latent


@register_latent
class GaussianLatent(Latent):
    """q(z|x) = N(z_mean, exp(z_log_var)) over latent_dim values, drawn by the
    reparameterisation trick (`GaussianSampling`), a KL to N(0, I)."""

    name = "gaussian"
    variational = True
    prior = "standard_normal"
    tuning_family = "vae"

    def encoder_end(self, x, cfg):
        return {"z_mean": keras.layers.Dense(cfg["latent_dim"], name="z_mean")(x),
                "z_log_var": keras.layers.Dense(cfg["latent_dim"], name="z_log_var")(x)}

    def sampler(self, temperature, hard, seed):
        return GaussianSampling(seed=seed, name="sampling")

    def draw(self, sampler, params):
        return sampler([params["z_mean"], params["z_log_var"]])

    def kl(self, outputs):
        return losses.gaussian_kl(outputs["z_mean"], outputs["z_log_var"])

    def code(self, posterior):
        return posterior["z_mean"]

