"""The aggregate posterior of the training images that carry the requested labels."""

import numpy as np

from pallets_keras.errors import PalletsValueError
from pallets_keras.priors.base import Prior, register_prior
from pallets_keras.priors.uniform_categorical import one_hot_codes

# Label requests are matched against the training labels in blocks of this
# many rows: (block, M) distances stay a few tens of MB.
_BLOCK = 256


@register_prior
class LabelPosteriorPrior(Prior):
    """q(z | y): the aggregate posterior restricted to the labels asked for.

    For each requested label vector y it picks, uniformly, one of the
    training images whose label set is nearest y (Hamming distance; equal
    sets when the training set has them) and draws z from that image's
    posterior q(z | x_i, y_i): N(mean_i, (scale * std_i)^2) for a Gaussian
    latent, the image's argmax code for a Gumbel one. So the code agrees
    with the labels the decoder is given. A conditional VAE trained without
    pressure against it stores attributes in z and lets the decoder ignore
    its labels (Lample et al. 2017, "Fader Networks"); with a label-blind
    prior it is then asked for an earring by the label while z says "none".

    It is a mixture of the training posteriors (the VampPrior's "mixture of
    posteriors" with every training image as a pseudo-input, Tomczak and
    Welling 2018), selected by label: it stores every training image's
    posterior (float16) and labels (packed bits).

    Args:
        latent_dim: int, D.
        num_labels: int, L.
        latent: str, the registered latent the codes come from (None: the
            Gaussian one).
        num_classes: int, C per categorical variable (gumbel only).
        scale: float > 0, multiplies each posterior's standard deviation.

    Example:
    >>> prior = fit_prior(conv_cvae, train, "label_posterior")
    >>> punks = conv_cvae.sample(16, labels={"earring": 1}, seed=0)
    """

    kind = "label_posterior"
    code_kinds = ("continuous", "categorical")
    conditional = True

    def __init__(self, latent_dim, num_labels, latent=None, num_classes=None, scale=1.0):
        super().__init__(latent_dim)
        if latent is None:  # the Gaussian latent, by its registered name
            from pallets_keras.models.latents.gaussian import GaussianLatent

            latent = GaussianLatent.name
        if not self.serves(latent):
            raise PalletsValueError(f"latent={latent!r}: a label_posterior prior serves "
                                    "latents of continuous or categorical codes.")
        if not np.isfinite(scale) or scale <= 0:
            raise PalletsValueError(f"scale must be a finite float > 0, got {scale!r}.")
        self.num_labels = int(num_labels)
        self.latent = latent
        self.num_classes = None if num_classes is None else int(num_classes)
        self.scale = float(scale)
        self.packed_labels = np.zeros((0, (self.num_labels + 7) // 8), np.uint8)
        self.means = np.zeros((0, self.latent_dim), np.float16)
        self.stds = np.zeros((0, self.latent_dim), np.float16)
        self.classes = np.zeros((0, 0), np.uint8)

    @classmethod
    def fit_to(cls, model, dataset, labels, scale=1.0):
        if labels is None or not model.is_conditional:
            raise PalletsValueError(
                f"A label_posterior prior draws codes for requested labels: it needs a "
                f"conditional model (labels into the decoder); {model.variant} is "
                f"{model.conditioning!r}.")
        post = model.posterior(dataset.indices, labels)
        # A categorical posterior's codes are (N variables, C classes).
        categorical = len(model.latent_shape) == 2
        prior = cls(int(np.prod(model.latent_shape)), labels.shape[1], model.latent,
                    model.latent_shape[1] if categorical else None, scale)
        prior.packed_labels = np.packbits(labels > 0.5, axis=1)
        if categorical:
            prior.classes = post["latent_logits"].argmax(-1).astype(np.uint8)
        else:
            prior.means = post["z_mean"].astype(np.float16)
            prior.stds = np.exp(0.5 * post["z_log_var"]).astype(np.float16)
        return prior

    def _nearest_rows(self, labels, rng):
        train = np.unpackbits(self.packed_labels, axis=1, count=self.num_labels)
        train = train.astype(np.float32)
        rows = np.empty(len(labels), np.int64)
        for i in range(0, len(labels), _BLOCK):
            y = (labels[i:i + _BLOCK] > 0.5).astype(np.float32)
            dist = y @ (1.0 - train).T + (1.0 - y) @ train.T
            # Ties at the smallest distance are broken uniformly at random.
            dist += 0.5 * rng.random(dist.shape, dtype=np.float32)
            rows[i:i + _BLOCK] = dist.argmin(1)
        return rows

    def sample(self, n, rng, labels=None):
        if labels is None:
            raise PalletsValueError("A label_posterior prior draws codes for requested labels: "
                                    "pass labels= (a dict or an (n, L) array).")
        labels = np.asarray(labels, np.float32)
        if labels.shape != (n, self.num_labels):
            raise PalletsValueError(f"labels must have shape ({n}, {self.num_labels}), got "
                                    f"{labels.shape}.")
        rows = self._nearest_rows(labels, rng)
        if self.num_classes is not None:  # categorical codes
            return one_hot_codes(self.classes[rows], self.num_classes)
        eps = rng.standard_normal((n, self.latent_dim))
        z = self.means[rows].astype(np.float64) + self.scale * self.stds[rows] * eps
        return z.astype(np.float32)

    def get_config(self):
        return {"latent_dim": self.latent_dim, "num_labels": self.num_labels,
                "latent": self.latent, "num_classes": self.num_classes, "scale": self.scale}

    def get_arrays(self):
        arrays = {"packed_labels": self.packed_labels}
        if self.num_classes is not None:  # categorical codes
            arrays["classes"] = self.classes
        else:
            arrays.update(means=self.means, stds=self.stds)
        return arrays
