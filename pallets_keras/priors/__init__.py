"""Priors: what a model draws its latent codes from when it samples.

A prior is one small class per idea, registered by name (`register_prior`):

| name | for | what it is |
| --- | --- | --- |
| `standard_normal` | Gaussian latents | N(0, I), the prior the VAE was trained against |
| `uniform_categorical` | Gumbel latents | independent uniform categoricals, the training prior |
| `gaussian_mixture` | Gaussian latents | a mixture fitted to the posterior means |
| `categorical_mixture` | Gumbel latents | independent categoricals mixed, fitted by EM |
| `autoregressive_categorical` | Gumbel latents | each variable given the earlier ones |
| `label_posterior` | conditional models | posteriors of training images with the labels |

(`gaussian_mixture`: fitted after training to the aggregate posterior, the
training set's posterior means; `label_posterior`: the posteriors of the
training images whose labels are nearest the request, so that the codes
agree with the labels.)

`fit_prior(model, dataset, "gaussian_mixture")` fits one and attaches it to
the model; `model.sample(n, prior=...)` picks one by name; a preset stores its
priors (configs in metadata, arrays in `priors.npz`, no pickle) and the one
it samples from by default.
"""

from pallets_keras.priors.autoregressive_categorical import AutoregressiveCategoricalPrior
from pallets_keras.priors.base import Prior, get_prior_class, prior_names, register_prior
from pallets_keras.priors.categorical_mixture import CategoricalMixturePrior
from pallets_keras.priors.fitting import fit_prior, training_prior
from pallets_keras.priors.gaussian_mixture import GaussianMixturePrior
from pallets_keras.priors.label_posterior import LabelPosteriorPrior
from pallets_keras.priors.standard_normal import StandardNormalPrior
from pallets_keras.priors.uniform_categorical import UniformCategoricalPrior

__all__ = ["Prior", "register_prior", "get_prior_class", "prior_names", "fit_prior",
           "training_prior", "StandardNormalPrior", "UniformCategoricalPrior",
           "GaussianMixturePrior", "CategoricalMixturePrior",
           "AutoregressiveCategoricalPrior", "LabelPosteriorPrior"]
