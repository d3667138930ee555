"""Independent uniform categoricals: the prior a Gumbel-Softmax VAE is trained against."""

import numpy as np

from pallets_keras.priors.base import Prior, register_prior


@register_prior
class UniformCategoricalPrior(Prior):
    """N independent categorical variables of C classes, each uniform; codes
    are the concatenated one-hot vectors (flat size N * C).

    Args:
        num_variables: int, N.
        num_classes: int, C.

    Example:
    >>> z = UniformCategoricalPrior(32, 16).sample(4, np.random.default_rng(0))  # (4, 512)
    """

    kind = "uniform_categorical"
    code_kinds = ("categorical",)

    def __init__(self, num_variables, num_classes, latent_dim=None):
        super().__init__(num_variables * num_classes)
        self.num_variables = int(num_variables)
        self.num_classes = int(num_classes)

    def sample(self, n, rng, labels=None):
        classes = rng.integers(0, self.num_classes, size=(n, self.num_variables))
        return one_hot_codes(classes, self.num_classes)

    def get_config(self):
        return {"num_variables": self.num_variables, "num_classes": self.num_classes}


def one_hot_codes(classes, num_classes):
    """(n, N) class ids -> flat one-hot codes (n, N * C) float32."""
    n = len(classes)
    return np.eye(num_classes, dtype="float32")[classes].reshape(n, -1)


def code_classes(model, dataset, labels=None):
    """(class ids (M, N) of the argmax codes `model` gives `dataset`, C): what
    the fitted categorical priors are fitted to."""
    nvar, ncls = model.latent_shape
    codes = model.encode(dataset.indices, labels)
    return codes.reshape(len(codes), nvar, ncls).argmax(-1), ncls
