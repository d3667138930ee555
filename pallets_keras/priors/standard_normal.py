"""N(0, I): the prior a Gaussian VAE is trained against."""

from pallets_keras.priors.base import Prior, register_prior


@register_prior
class StandardNormalPrior(Prior):
    """The standard normal N(0, I) over D dimensions.

    Args:
        latent_dim: int, D.

    Example:
    >>> import numpy as np
    >>> StandardNormalPrior(8).sample(4, np.random.default_rng(0)).shape
    (4, 8)
    """

    kind = "standard_normal"
    # Serves the latents trained against it (`Latent.prior`): the Gaussian one.

    def sample(self, n, rng, labels=None):
        return rng.standard_normal((n, self.latent_dim)).astype("float32")
