"""A mixture of independent categoricals fitted to a Gumbel VAE's codes."""

import numpy as np

from pallets_keras.priors.base import Prior, register_prior
from pallets_keras.priors.uniform_categorical import code_classes, one_hot_codes


@register_prior
class CategoricalMixturePrior(Prior):
    """A mixture of K components, each a product of N independent categoricals
    of C classes (a latent class model), over flat one-hot codes (N * C).

    The uniform prior a Gumbel-Softmax VAE is trained against treats the N
    variables as independent; the codes its encoder uses are not (a hat and
    hair share variables). The mixture keeps their co-occurrence: fitted by
    EM (Dempster, Laird and Rubin 1977) to the training set's argmax codes,
    with add-`smoothing` counts so that no class gets probability 0.

    Args:
        num_variables: int, N.
        num_classes: int, C.
        num_components: int, K.
        smoothing: float >= 0, pseudo-count per class in the M-step.
        seed: int, seeds the initial responsibilities.

    Example:
    >>> prior = CategoricalMixturePrior.fit(classes, num_classes=16)  # (M, N) ints
    >>> z = prior.sample(16, np.random.default_rng(0))                # (16, N * C)
    """

    kind = "categorical_mixture"
    code_kinds = ("categorical",)

    def __init__(self, num_variables, num_classes, num_components=64, smoothing=0.1, seed=0,
                 latent_dim=None):
        super().__init__(num_variables * num_classes)
        self.num_variables = int(num_variables)
        self.num_classes = int(num_classes)
        self.num_components = int(num_components)
        self.smoothing = float(smoothing)
        self.seed = seed
        self.weights = np.full(self.num_components, 1.0 / self.num_components)
        self.probs = np.full((self.num_components, self.num_variables, self.num_classes),
                             1.0 / self.num_classes)

    @classmethod
    def fit(cls, classes, num_classes, num_components=64, smoothing=0.1, seed=0,
            max_iter=100, tol=1e-4):
        """Fits the mixture by EM to class ids (M, N) int.

        Stops when the mean log-likelihood per code improves by less than
        `tol` nats, or after `max_iter` iterations.
        """
        classes = np.asarray(classes)
        m, nvar = classes.shape
        prior = cls(nvar, num_classes, num_components, smoothing, seed)
        x = one_hot_codes(classes, num_classes).astype("float64")  # (M, N*C)
        rng = np.random.default_rng(seed)
        resp = rng.dirichlet(np.ones(num_components), size=m)       # (M, K)
        previous = -np.inf
        for _ in range(max_iter):
            # M-step: component weights and smoothed class frequencies.
            nk = resp.sum(0)
            prior.weights = nk / m
            counts = (resp.T @ x).reshape(num_components, nvar, num_classes) + smoothing
            prior.probs = counts / counts.sum(-1, keepdims=True)
            # E-step: responsibilities from the log joint, normalised stably.
            log_joint = np.log(prior.weights + 1e-300)[None] + x @ np.log(
                prior.probs.reshape(num_components, -1)).T
            top = log_joint.max(1, keepdims=True)
            log_norm = top + np.log(np.exp(log_joint - top).sum(1, keepdims=True))
            resp = np.exp(log_joint - log_norm)
            ll = float(log_norm.mean())
            if ll - previous < tol:
                break
            previous = ll
        prior.log_likelihood = ll
        prior.probs = prior.probs.astype("float32")  # as stored
        return prior

    @classmethod
    def fit_to(cls, model, dataset, labels, **kwargs):
        return cls.fit(*code_classes(model, dataset, labels), **kwargs)

    def sample(self, n, rng, labels=None):
        comp = rng.choice(self.num_components, size=n, p=self.weights / self.weights.sum())
        cum = self.probs[comp].cumsum(-1)                      # (n, N, C)
        u = rng.random((n, self.num_variables, 1))
        classes = (cum < u).sum(-1).clip(0, self.num_classes - 1)
        return one_hot_codes(classes, self.num_classes)

    def get_config(self):
        return {"num_variables": self.num_variables, "num_classes": self.num_classes,
                "num_components": self.num_components, "smoothing": self.smoothing,
                "seed": self.seed}

    def get_arrays(self):
        return {"weights": np.asarray(self.weights, "float64"),
                "probs": np.asarray(self.probs, "float32")}
