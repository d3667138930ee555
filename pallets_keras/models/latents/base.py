"""`Latent`: the interface every value of the latent axis implements."""

from pallets_keras.errors import PalletsValueError

# The name of the KL term's tracker, in fit logs and tuning objectives.
KL_METRIC = "kl_loss"


class Latent:
    """One value of the latent axis. Stateless: the registry keeps one instance.

    A subclass sets `name` (the string stored in configs and presets) and
    implements the graph parts; the rest has defaults that suit a
    deterministic code. `PaletteAutoencoder`, `training.fit`, `metrics`,
    `priors` and `tuning` ask these methods and attributes and never compare
    the name.

    Attributes:
        name: str, the registered name.
        variational: bool, True for a posterior distribution with a KL term
            (`kl`) against a training prior: the model gets a `kl_loss`
            tracker, a `beta` warm-up in `training.fit` and an ELBO in
            `metrics`.
        prior: str or None, the registered `Prior` kind the model was trained
            against (`model.priors` offers it as its training prior); it is
            built as `get_prior_class(prior)(*model.latent_shape)`.
        fitted_prior: str, the `Prior` kind `priors.fit_prior` fits by default.
        tuning_family: str, the KerasTuner search family (`hypermodels`).
        sizes: tuple of the build options that size the code (what `pallets
            zoo info` shows).
        defaults: dict, build options of this latent's own with their
            defaults (e.g. a codebook's size), added to `variants.DEFAULTS`
            for the variants that use it.
        regularizer_metric: str or None, the fit-log name of the latent's
            loss term (`regularizer`): "kl_loss" for a variational latent.
        code_kind: str, what `code` returns: "continuous" (real vectors) or
            "categorical" (one-hot classes of `latent_shape` (N, C)). Priors
            declare the kinds they serve (`Prior.code_kinds`), so a new latent
            of a known kind gets their priors without editing them.
    """

    name = None
    variational = False
    prior = None
    fitted_prior = "gaussian_mixture"
    tuning_family = "ae"
    sizes = ("latent_dim",)
    code_kind = "continuous"
    defaults = {}

    @property
    def regularizer_metric(self):
        return KL_METRIC if self.variational else None

    # ---------------------------------------------------------------- graph
    def encoder_end(self, x, cfg):
        """The encoder's last layers on the flat features `x`: a dict of the
        latent distribution's parameters (the encoder's outputs). Layer names
        are part of every preset: never rename them."""
        raise NotImplementedError

    def size(self, cfg):
        """How many values the decoder takes (the flat size of z)."""
        return cfg["latent_dim"]

    def sampler(self, temperature, hard, seed):
        """The layer that draws z in the graph, or None (z is an encoder output)."""
        return None

    def draw(self, sampler, params):
        """z (batch, size) in the graph, from the encoder outputs `params`."""
        raise NotImplementedError

    # ----------------------------------------------------------------- loss
    @property
    def metrics(self):
        """The tracker names this latent adds to fit logs (`KL_METRIC`, "kl_loss",
        for a variational one)."""
        return (self.regularizer_metric,) if self.regularizer_metric else ()

    def kl(self, outputs):
        """The KL term per image (batch,) from the model's outputs, or None."""
        return None

    def regularizer(self, outputs):
        """The latent's term of the training loss per image (batch,), weighted
        by the model's `beta`: the KL for a variational latent (the default),
        another term for a latent with one (a codebook's), else None."""
        return self.kl(outputs)

    def kl_ceiling(self, latent_shape):
        """The largest KL per image the latent can reach, or None (unbounded)."""
        return None

    def callbacks(self, model, beta=None, kl_warmup_epochs=0, temperature=None):
        """The schedule callbacks `training.fit` adds: a KL warm-up (to the
        model's `initial_beta` or `beta`) for a variational latent."""
        if not self.variational:
            return []
        from pallets_keras.callbacks import KLWarmup

        return [KLWarmup(beta_max=model.initial_beta if beta is None else beta,
                         epochs=kl_warmup_epochs)]

    # ---------------------------------------------------------- inference
    def code(self, posterior):
        """Deterministic codes (N, size) float32 from the encoder's numpy
        outputs (`model.posterior`): what `encode` returns."""
        raise NotImplementedError

    def code_shape(self, encoder_outputs):
        """The shape of one image's code, `model.latent_shape`: (D,) or (N, C),
        from the encoder's symbolic outputs (by default its first one; a
        serialized model may list its outputs in another order, so a latent
        with several outputs of different shapes names the one)."""
        return tuple(next(iter(encoder_outputs.values())).shape[1:])

    def decoder_input(self, model, codes):
        """The decoder's z (n, `size`) for codes (n, prod(latent_shape)) as
        `code` returns them and priors draw them; the same array for latents
        whose code is the decoder's input."""
        return codes

    def training_prior(self, model):
        """The `Prior` `model` was trained against.

        Raises:
            PalletsValueError: this latent was trained against none.
        """
        if self.prior is None:
            raise PalletsValueError(
                f"{model.variant or 'This model'} is a plain autoencoder: it was trained "
                "against no prior. Fit one to its codes first (pallets_keras.priors."
                "fit_prior(model, train_split)), use a VAE (e.g. 'onehot_conv_vae'), or "
                "decode codes of real images (model.interpolate, model.reconstruct).")
        from pallets_keras.priors import get_prior_class

        return get_prior_class(self.prior)(*model.latent_shape)

    def __repr__(self):
        return f"{type(self).__name__}()"
