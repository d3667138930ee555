"""`GumbelLatent` ("gumbel"): N categorical variables of C classes, Gumbel-Softmax."""

import math

import keras
import numpy as np

from pallets_keras import losses
from pallets_keras.layers import GumbelSoftmax
from pallets_keras.models.latents.base import Latent
from pallets_keras.models.registry import register_latent


@register_latent
class GumbelLatent(Latent):
    """latent_dim variables of categorical_dim classes each; z is their
    concatenated (straight-through) Gumbel-Softmax samples, of flat size
    N * C, a KL to independent uniform categoricals, and a temperature that
    `TemperatureAnnealing` lowers in training.

    With the build option `logit_norm` (default True) each variable's C
    logits pass through a `LayerNormalization` ("latent_logits"), so their
    spread is set by a learned scale rather than by raw dense outputs. Without
    it, the logits of the zoo's first Gumbel presets grew to |l| ~ 45-460
    during the KL warm-up, every posterior saturated on one code for every
    image (KL at its ceiling N ln C, zero gradient through the softmax) and
    the decoder learned to ignore z; see docs/gumbel.md.
    """

    name = "gumbel"
    variational = True
    prior = "uniform_categorical"
    fitted_prior = "categorical_mixture"
    tuning_family = "gumbel"
    sizes = ("latent_dim", "categorical_dim")
    code_kind = "categorical"

    def encoder_end(self, x, cfg):
        n, c = cfg["latent_dim"], cfg["categorical_dim"]
        logits = keras.layers.Dense(n * c, name="latent_logits_flat")(x)
        if not cfg.get("logit_norm", True):
            return {"latent_logits": keras.layers.Reshape((n, c), name="latent_logits")(logits)}
        logits = keras.layers.Reshape((n, c), name="latent_logits_raw")(logits)
        return {"latent_logits": keras.layers.LayerNormalization(
            axis=-1, name="latent_logits")(logits)}

    def size(self, cfg):
        return cfg["latent_dim"] * cfg["categorical_dim"]

    def sampler(self, temperature, hard, seed):
        return GumbelSoftmax(temperature=temperature, hard=hard, seed=seed,
                             name="gumbel_softmax")

    def draw(self, sampler, params):
        return keras.layers.Flatten(name="latent_flatten")(sampler(params["latent_logits"]))

    def kl(self, outputs):
        return losses.categorical_kl(outputs["latent_logits"])

    def kl_ceiling(self, latent_shape):
        num_variables, num_classes = latent_shape
        return num_variables * math.log(num_classes)

    def callbacks(self, model, beta=None, kl_warmup_epochs=0, temperature=None):
        from pallets_keras.callbacks import TemperatureAnnealing

        return super().callbacks(model, beta, kl_warmup_epochs) + [
            TemperatureAnnealing(**(temperature or {}))]

    def code(self, posterior):
        logits = posterior["latent_logits"]
        onehot = np.eye(logits.shape[-1], dtype="float32")[logits.argmax(-1)]
        return onehot.reshape(len(logits), -1)
