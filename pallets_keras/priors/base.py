"""The `Prior` interface and its registry."""

import numpy as np

from pallets_keras.errors import PalletsKeyError, PalletsValueError

_REGISTRY = {}


def register_prior(cls):
    """Class decorator: makes a `Prior` subclass available under `cls.kind`."""
    if not cls.kind or cls.kind in _REGISTRY:
        raise ValueError(f"Prior kind {cls.kind!r} is empty or registered twice.")
    _REGISTRY[cls.kind] = cls
    return cls


def prior_names():
    """Registered prior kinds, sorted."""
    return sorted(_REGISTRY)


def get_prior_class(kind):
    """The registered `Prior` subclass for `kind`.

    Raises:
        PalletsKeyError: no prior of that kind.
    """
    if kind not in _REGISTRY:
        raise PalletsKeyError(f"Unknown prior kind {kind!r}; known: {prior_names()}.")
    return _REGISTRY[kind]


class Prior:
    """A distribution over a model's flat latent codes (N, D) float32.

    Subclasses set `kind` and what they serve: `code_kinds` (the kinds of
    code, `Latent.code_kind`: "continuous", "categorical") and/or `latents`
    (registered latent names, for a prior made for one latent); a latent's
    own training prior (`Latent.prior`) always serves it. They implement
    `sample`, and keep every constructor
    argument as an attribute returned by `get_config`. Fitted parameters are
    numpy arrays returned by `get_arrays` (stored in a preset's `priors.npz`,
    never pickled).

    Args:
        latent_dim: int, D, the flat size of a latent code.
    """

    kind = None
    code_kinds = ()
    latents = ()
    # True for priors that draw codes for requested labels (`sample(labels=)`).
    conditional = False

    def __init__(self, latent_dim):
        self.latent_dim = int(latent_dim)

    def sample(self, n, rng, labels=None):
        """n codes (n, D) float32 drawn with the numpy Generator `rng`
        (`labels`, (n, L) in [0, 1], only for conditional priors)."""
        raise NotImplementedError

    @classmethod
    def fit_to(cls, model, dataset, labels, **kwargs):
        """A prior of this kind fitted to `model`'s codes of `dataset` (whose
        labels, in the model's order, are `labels` or None). Fixed priors
        have nothing to fit."""
        raise PalletsValueError(f"A {cls.kind} prior is fixed: there is nothing to fit.")

    def get_config(self):
        return {"latent_dim": self.latent_dim}

    def get_arrays(self):
        """Fitted parameters as {name: ndarray}; empty for fixed priors."""
        return {}

    @classmethod
    def from_config(cls, config, arrays=None):
        prior = cls(**config)
        for name, value in (arrays or {}).items():
            setattr(prior, name, np.asarray(value))
        return prior

    @classmethod
    def serves(cls, latent):
        """Whether this kind of prior can draw codes for the registered latent
        named `latent`: named in `latents`, of a kind in `code_kinds`, or
        trained against this prior."""
        from pallets_keras.models.registry import get_latent

        if latent in cls.latents:
            return True
        component = get_latent(latent)
        return component.code_kind in cls.code_kinds or component.prior == cls.kind

    @classmethod
    def check_serves(cls, model):
        """Raises a clear error, naming the latents it serves, if this kind of
        prior cannot draw codes for `model`'s latent."""
        if cls.serves(model.latent):
            return
        from pallets_keras.models.registry import names

        served = [n for n in names("latent") if cls.serves(n)]
        raise PalletsValueError(
            f"A {cls.kind} prior serves {'/'.join(served) or 'no registered'} latents; "
            f"{model.variant or 'this model'} has a {model.latent} latent.")

    def check_model(self, model):
        """Raises a clear error if this prior cannot feed `model`'s decoder."""
        self.check_serves(model)
        dim = int(np.prod(model.latent_shape))
        if dim != self.latent_dim:
            raise PalletsValueError(f"This {self.kind} prior draws {self.latent_dim}-d codes; "
                                    f"the model's latent code has {dim}.")

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
