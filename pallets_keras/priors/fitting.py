"""Fitting a prior to a trained model's codes, and the training priors."""

from pallets_keras.errors import PalletsValueError
from pallets_keras.priors.base import get_prior_class


def training_prior(model):
    """The prior `model` was trained against, as its latent names it
    (`Latent.prior`): N(0, I) or uniform categoricals for the built-in ones.

    Raises:
        PalletsValueError: a plain autoencoder, which was trained against none.
    """
    from pallets_keras.models.registry import get_latent

    return get_latent(model.latent).training_prior(model)


def fit_prior(model, dataset, kind=None, name=None, default=True, **kwargs):
    """Fits a prior to `model`'s codes of `dataset` and attaches it to the model.

    Codes are the posterior means (Gaussian latents), the argmax classes
    (Gumbel latents) or the codes of a plain autoencoder, of every image of
    `dataset`, with its labels for label-conditioned models.

    Args:
        model: a trained `PaletteAutoencoder`.
        dataset: `PixelDataset`, normally the training split.
        kind: a registered prior kind (`prior_names()`); default: the
            latent's `fitted_prior`, "gaussian_mixture" for Gaussian latents and
            plain autoencoders, "categorical_mixture" for Gumbel latents.
        name: str, the name to store it under (default: `kind`).
        default: bool, make it the prior `model.sample` uses by default.
        **kwargs: passed to the prior's `fit` (e.g. num_components, seed).

    Returns:
        The fitted `Prior`.

    Raises:
        PalletsValueError: the kind does not serve this model's latent, or
            the data set lacks the labels the model encodes.

    Example:
    >>> prior = fit_prior(model, train, num_components=32)
    >>> punks = model.sample(16, seed=0)   # now from the fitted prior
    """
    from pallets_keras.models.registry import get_conditioning, get_latent

    kind = kind or get_latent(model.latent).fitted_prior
    cls = get_prior_class(kind)
    cls.check_serves(model)
    labels = None
    if get_conditioning(model.conditioning).encoder_labels:
        if dataset.labels is None:
            raise PalletsValueError(f"{model.variant} encodes labels: the data set needs them.")
        labels = dataset.select_labels(model.label_names).labels.astype("float32")
    prior = cls.fit_to(model, dataset, labels, **kwargs)
    model.add_prior(prior, name=name or kind, default=default)
    return prior
