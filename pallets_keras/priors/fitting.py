"""Fitting a prior to a trained model's codes, and the training priors."""

import numpy as np

from pallets_keras.errors import PalletsValueError
from pallets_keras.priors.base import get_prior_class
from pallets_keras.priors.categorical_mixture import CategoricalMixturePrior
from pallets_keras.priors.gaussian_mixture import GaussianMixturePrior
from pallets_keras.priors.standard_normal import StandardNormalPrior
from pallets_keras.priors.uniform_categorical import UniformCategoricalPrior


def training_prior(model):
    """The prior `model` was trained against: N(0, I) or uniform categoricals.

    Raises:
        PalletsValueError: a plain autoencoder, which has no prior.
    """
    if model.latent == "gaussian":
        return StandardNormalPrior(int(model.latent_shape[0]))
    if model.latent == "gumbel":
        return UniformCategoricalPrior(*model.latent_shape)
    raise PalletsValueError(
        f"{model.variant or 'This model'} is a plain autoencoder: it has no prior to sample "
        "from. Use a VAE (e.g. 'onehot_vae'), or decode codes of real images "
        "(model.interpolate, model.reconstruct).")


def fit_prior(model, dataset, kind=None, name=None, default=True, **kwargs):
    """Fits a prior to `model`'s codes of `dataset` and attaches it to the model.

    Codes are the posterior means (Gaussian latents) or the argmax classes
    (Gumbel latents) of every image of `dataset`, with its labels for
    label-conditioned models.

    Args:
        model: a trained `PaletteAutoencoder` with a latent.
        dataset: `PixelDataset`, normally the training split.
        kind: "gaussian_mixture" (default for Gaussian latents) or
            "categorical_mixture" (default for Gumbel latents).
        name: str, the name to store it under (default: `kind`).
        default: bool, make it the prior `model.sample` uses by default.
        **kwargs: passed to the prior's `fit` (e.g. num_components, seed).

    Returns:
        The fitted `Prior`.
    """
    training = training_prior(model)  # raises for plain autoencoders
    kind = kind or {"gaussian": GaussianMixturePrior.kind,
                    "gumbel": CategoricalMixturePrior.kind}[model.latent]
    cls = get_prior_class(kind)
    if model.latent not in cls.latents:
        raise PalletsValueError(f"A {kind} prior serves {'/'.join(cls.latents)} latents; "
                                f"{model.variant} has a {model.latent} latent.")
    labels = None
    if model.conditioning != "none":
        if dataset.labels is None:
            raise PalletsValueError(f"{model.variant} encodes labels: the data set needs them.")
        labels = dataset.select_labels(model.label_names).labels.astype("float32")
    codes = model.encode(dataset.indices, labels)
    if model.latent == "gumbel":
        nvar, ncls = training.num_variables, training.num_classes
        classes = codes.reshape(len(codes), nvar, ncls).argmax(-1)
        prior = cls.fit(classes, ncls, **kwargs)
    else:
        prior = cls.fit(codes, **kwargs)
    model.add_prior(prior, name=name or kind, default=default)
    return prior
