"""A Gaussian mixture fitted to a VAE's aggregate posterior."""

import numpy as np

from pallets_keras.errors import PalletsValueError
from pallets_keras.priors.base import Prior, register_prior


@register_prior
class GaussianMixturePrior(Prior):
    """A mixture of K full-covariance Gaussians over D latent dimensions.

    A decoder only learned to draw what its encoder used: the aggregate
    posterior q(z) = mean_i q(z | x_i), which N(0, I) matches badly (its
    "holes" decode to fragments). Fitting a mixture to the training set's
    posterior means after training and sampling from it instead is the
    ex-post density estimation of Ghosh et al. 2020 ("From Variational to
    Deterministic Autoencoders", section 4), here with scikit-learn's EM.

    Args:
        latent_dim: int, D.
        num_components: int, K.
        scale: float > 0, multiplies each component's spread when sampling
            (below 1 trades diversity for fidelity, as truncation does; above
            1 widens components fitted tightly around few codes, which
            otherwise decode to copies of training images).
        seed: int, seeds the fit.

    Example:
    >>> prior = GaussianMixturePrior.fit(codes, num_components=32)  # codes (M, D)
    >>> z = prior.sample(16, np.random.default_rng(0))              # (16, D) float32
    """

    kind = "gaussian_mixture"
    # A plain autoencoder's deterministic codes too: with a density fitted
    # to them it becomes a generative model (Ghosh et al.'s RAE + ex-post
    # density estimation).
    code_kinds = ("continuous",)

    def __init__(self, latent_dim, num_components=32, scale=1.0, seed=0):
        super().__init__(latent_dim)
        if not scale > 0 or not np.isfinite(scale):
            raise PalletsValueError(f"scale must be a finite float > 0, got {scale!r}.")
        self.num_components = int(num_components)
        self.scale = float(scale)
        self.seed = seed
        self.weights = np.full(self.num_components, 1.0 / self.num_components)
        self.means = np.zeros((self.num_components, self.latent_dim))
        self.cholesky = np.tile(np.eye(self.latent_dim), (self.num_components, 1, 1))

    @classmethod
    def fit(cls, codes, num_components=32, scale=1.0, seed=0, reg_covar=1e-4):
        """Fits the mixture to codes (M, D) with scikit-learn's EM.

        Args:
            codes: (M, D) float array, e.g. the training set's posterior means.
            num_components, scale, seed: as in the constructor.
            reg_covar: float, added to each covariance's diagonal (keeps
                components of nearly unused dimensions well conditioned).
        """
        from sklearn.mixture import GaussianMixture

        codes = np.asarray(codes, "float64")
        gm = GaussianMixture(num_components, covariance_type="full", reg_covar=reg_covar,
                             random_state=seed, max_iter=200).fit(codes)
        prior = cls(codes.shape[1], num_components, scale, seed)
        # Kept as they are stored (float32), so a reloaded prior draws the
        # very same codes.
        prior.weights = gm.weights_
        prior.means = gm.means_.astype("float32")
        prior.cholesky = np.linalg.cholesky(gm.covariances_).astype("float32")
        return prior

    @classmethod
    def fit_to(cls, model, dataset, labels, **kwargs):
        return cls.fit(model.encode(dataset.indices, labels), **kwargs)

    def sample(self, n, rng, labels=None):
        comp = rng.choice(self.num_components, size=n, p=self.weights / self.weights.sum())
        eps = rng.standard_normal((n, self.latent_dim))
        z = self.means[comp] + self.scale * np.einsum("nij,nj->ni", self.cholesky[comp], eps)
        return z.astype("float32")

    def get_config(self):
        return {"latent_dim": self.latent_dim, "num_components": self.num_components,
                "scale": self.scale, "seed": self.seed}

    def get_arrays(self):
        # Only the lower triangles are stored: half the bytes of the full
        # (K, D, D) factors (4 MB instead of 8 for 128 components over D=128).
        rows, cols = np.tril_indices(self.latent_dim)
        return {"weights": np.asarray(self.weights, "float64"),
                "means": np.asarray(self.means, "float32"),
                "cholesky_tril": np.asarray(self.cholesky, "float32")[:, rows, cols]}

    @classmethod
    def from_config(cls, config, arrays=None):
        arrays = dict(arrays or {})
        packed = arrays.pop("cholesky_tril", None)
        prior = super().from_config(config, arrays)
        if packed is not None:
            # Presets written before the packing stored "cholesky" whole.
            d = prior.latent_dim
            full = np.zeros((len(packed), d, d), "float32")
            rows, cols = np.tril_indices(d)
            full[:, rows, cols] = packed
            prior.cholesky = full
        return prior
