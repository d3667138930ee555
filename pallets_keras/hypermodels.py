"""KerasTuner HyperModels, one per family, and the tuners `tuning.search` runs.

| family | variants | searched on top of the body and training |
| ------ | -------- | ----------------------------------------- |
| ae     | rgba_ae, rgba_conv_ae, onehot_ae, onehot_conv_ae | latent_dim |
| vae    | onehot_vae, onehot_conv_vae, labeled_vae, labeled_conv_vae | latent_dim, beta, warm-up |
| cvae   | cvae, conv_cvae, labeled_cvae, labeled_conv_cvae | as vae, + label_weight (labeled_*) |
| gumbel | gsvae, labeled_gsvae, earring_gsvae | N x C, beta, warm-up, hard, temperature schedule |

Every family also searches the body (conv: stages and base width, doubling
per stage, and an optional dense layer; dense: depth and width), the palette
embedding (onehot) and head widths, the learning rate and the batch size.
Hyperparameter names are stable: pass `fixed={"conv_filters": 8}` to
`tuning.search` (or a `keras_tuner.HyperParameters` with `Fixed` entries) to
narrow the space.

This module imports Keras and KerasTuner; `pallets_keras.tuning` imports it
on first use, so `import pallets_keras.tuning` alone does not pick a backend.
"""

import gc
import json
import os
import time

import keras
import keras_tuner as kt

from pallets_keras import training
from pallets_keras.models import build as build_model
from pallets_keras.models import registry
from pallets_keras.models.latents import GumbelLatent
from pallets_keras.models.variants import axes
from pallets_keras.random_utils import set_random_seed

# Choices shared by all families (names are the hyperparameter names).
CONV_FILTERS = [8, 16, 32, 64]
CONV_DENSE_UNITS = [0, 128, 256]
DENSE_UNITS = [64, 128, 256, 512]
EMBEDDING_DIM = [4, 8, 16]
PIXEL_CHANNELS = [6, 16]
BATCH_SIZE = [32, 64, 128, 256]
KL_WARMUP_FRACTION = [0.0, 0.25, 0.5]
MAX_CONV_STAGES = 3
RUN_LOG = "pallets_runs.jsonl"


def family(variant):
    """The search family of a variant (a key of `HYPERMODELS`; ValueError if
    the variant is unknown): its latent's `tuning_family`, and "cvae" for a
    "vae" whose labels reach the decoder."""
    _, _, latent, conditioning, _ = axes(variant)
    name = registry.get_latent(latent).tuning_family
    if name == "vae" and registry.get_conditioning(conditioning).decoder_labels:
        return "cvae"
    return name


def max_conv_stages(image_size):
    """The most stride-2 stages (at most 3) an image size allows."""
    stages = 0
    while stages < MAX_CONV_STAGES and all(
            s % 2 ** (stages + 1) == 0 and s >= 2 ** (stages + 1) for s in image_size):
        stages += 1
    return stages


class PalletsHyperModel(kt.HyperModel):
    """A search space over one variant, for a given data set's palette and size.

    `build(hp)` calls `pallets_keras.models.build(variant, palette=...,
    image_size=..., label_names=..., **overrides)` with the sizes `hp` picks;
    `fit(hp, model, dataset, ...)` calls `pallets_keras.training.fit` with the
    learning rate, batch size and schedules `hp` picks, forwarding the
    tuner's callbacks.

    Args:
        variant: a variant name of this family.
        palette: the data set's `Palette`.
        image_size: (H, W).
        label_names: the labels a conditioned variant is built on (or None).
        epochs: int, the longest a trial trains (sets the KL warm-up length).
        seed: int or None, seeds Keras before each build and fit.
        name, tunable: as `keras_tuner.HyperModel`.

    Example:
    >>> hm = hypermodel("onehot_conv_vae", dataset, epochs=5)
    >>> model = hm.build(keras_tuner.HyperParameters())
    """

    family = None

    def __init__(self, variant, palette, image_size, label_names=None, epochs=5, seed=None,
                 name=None, tunable=True):
        super().__init__(name=name or variant, tunable=tunable)
        if family(variant) != self.family:
            raise ValueError(f"{variant} is a {family(variant)} variant, not {self.family}: "
                             f"use tuning.hypermodel({variant!r}, dataset).")
        self.variant = variant
        self.palette = palette
        self.image_size = tuple(image_size)
        self.label_names = list(label_names) if label_names else None
        self.epochs = epochs
        self.seed = seed
        (self.representation, self.body, self.latent, self.conditioning,
         self.reconstruct_labels) = axes(variant)
        if self.body == "conv" and max_conv_stages(self.image_size) < 1:
            raise ValueError(
                f"{variant} has a conv body, which needs an even image size; got "
                f"{self.image_size[0]}x{self.image_size[1]}. Pad the sprites or use a dense "
                "variant.")

    # ------------------------------------------------------------ the space
    def body_space(self, hp):
        if self.body == "conv":
            stages = hp.Int("conv_stages", 1, max_conv_stages(self.image_size), default=1)
            base = hp.Choice("conv_filters", CONV_FILTERS, default=16)
            dense = hp.Choice("conv_dense_units", CONV_DENSE_UNITS, default=0)
            opts = {"filters": tuple(base * 2 ** i for i in range(stages)),
                    "units": (dense,) if dense else ()}
        else:
            depth = hp.Int("dense_layers", 1, 2, default=1)
            width = hp.Choice("dense_units", DENSE_UNITS, default=128)
            opts = {"units": (width,) * depth}
        if self.representation == "onehot":
            opts["embedding_dim"] = hp.Choice("embedding_dim", EMBEDDING_DIM, default=8)
        opts["pixel_channels"] = hp.Choice("pixel_channels", PIXEL_CHANNELS, default=16)
        return opts

    def latent_space(self, hp):
        return {}

    def training_space(self, hp):
        hp.Float("learning_rate", 1e-4, 3e-3, sampling="log", default=1e-3)
        hp.Choice("batch_size", BATCH_SIZE, default=64)

    def fit_options(self, hp):
        """`training.fit` arguments other than learning rate and batch size."""
        return {}

    def declare_hyperparameters(self, hp):
        """Registers the whole space in `hp` without building a model."""
        self.body_space(hp)
        self.latent_space(hp)
        self.training_space(hp)

    def space_names(self):
        """The names of the hyperparameters this HyperModel searches."""
        hp = kt.HyperParameters()
        self.declare_hyperparameters(hp)
        return [p.name for p in hp.space]

    # ------------------------------------------------------- build and fit
    def build(self, hp):
        opts = {**self.body_space(hp), **self.latent_space(hp)}
        self.training_space(hp)
        if self.seed is not None:
            set_random_seed(self.seed)
            opts["seed"] = self.seed
        return build_model(self.variant, palette=self.palette, image_size=self.image_size,
                           label_names=self.label_names, **opts)

    def fit(self, hp, model, dataset, validation=None, epochs=None, initial_epoch=0,
            callbacks=None, verbose="auto", distribute=None, **kwargs):
        """Trains one trial with `pallets_keras.training.fit`.

        `epochs`/`initial_epoch` come from the tuner (Hyperband continues a
        trial from its parent's weights: it runs `epochs - initial_epoch`).
        """
        if kwargs:
            raise TypeError(f"Unknown search arguments {sorted(kwargs)}.")
        epochs = self.epochs if epochs is None else epochs
        if self.seed is not None:
            set_random_seed(self.seed)  # what training.fit(seed=) does
        return training.fit(
            model, dataset, validation=validation, epochs=max(1, epochs - initial_epoch),
            batch_size=hp.get("batch_size"), learning_rate=hp.get("learning_rate"),
            callbacks=list(callbacks or ()), verbose=verbose, distribute=distribute,
            **self.fit_options(hp))


class AEHyperModel(PalletsHyperModel):
    """Plain autoencoders: body, palette ends, latent size, learning rate, batch size."""

    family = "ae"

    def latent_space(self, hp):
        return {"latent_dim": hp.Choice("latent_dim", [16, 32, 64, 128, 256], default=64)}


class VAEHyperModel(PalletsHyperModel):
    """Gaussian VAEs: AE space plus beta (the final KL weight) and its warm-up."""

    family = "vae"

    def latent_space(self, hp):
        return {"latent_dim": hp.Choice("latent_dim", [8, 16, 32, 64, 128], default=32),
                "beta": hp.Float("beta", 0.1, 4.0, sampling="log", default=1.0)}

    def training_space(self, hp):
        super().training_space(hp)
        hp.Choice("kl_warmup_fraction", KL_WARMUP_FRACTION, default=0.25)

    def fit_options(self, hp):
        return {"kl_warmup_epochs": int(round(hp.get("kl_warmup_fraction") * self.epochs))}


class CVAEHyperModel(VAEHyperModel):
    """Conditional VAEs: VAE space (+ label_weight when labels are reconstructed)."""

    family = "cvae"

    def latent_space(self, hp):
        opts = super().latent_space(hp)
        if self.reconstruct_labels:
            opts["label_weight"] = hp.Float("label_weight", 0.1, 10.0, sampling="log",
                                            default=1.0)
        return opts


class GumbelHyperModel(VAEHyperModel):
    """Gumbel-Softmax VAEs: N variables x C classes, beta and warm-up, straight-through
    or soft samples, and the temperature schedule tau = max(tau_min, tau0 exp(-rate step))."""

    family = GumbelLatent.tuning_family

    def latent_space(self, hp):
        return {"latent_dim": hp.Choice("latent_dim", [8, 16, 32, 64], default=32),
                "categorical_dim": hp.Choice("categorical_dim", [4, 8, 16, 32], default=16),
                "beta": hp.Float("beta", 0.1, 4.0, sampling="log", default=1.0),
                "hard": hp.Boolean("hard", default=True)}

    def training_space(self, hp):
        super().training_space(hp)
        hp.Float("tau0", 0.5, 2.0, default=1.0)
        hp.Choice("tau_min", [0.1, 0.3, 0.5], default=0.5)
        hp.Float("tau_rate", 1e-5, 1e-3, sampling="log", default=3e-5)

    def fit_options(self, hp):
        opts = super().fit_options(hp)
        opts["temperature"] = {"tau0": hp.get("tau0"), "tau_min": hp.get("tau_min"),
                               "rate": hp.get("tau_rate")}
        return opts


HYPERMODELS = {cls.family: cls for cls in (AEHyperModel, VAEHyperModel, CVAEHyperModel,
                                           GumbelHyperModel)}


def hypermodel(variant, dataset, epochs=5, seed=None):
    """The family's HyperModel for `variant` on `dataset` (its palette, size, labels)."""
    return HYPERMODELS[family(variant)](
        variant, dataset.palette, dataset.image_size,
        label_names=dataset.label_names or None, epochs=epochs, seed=seed)


# ------------------------------------------------------------------ tuners
class _PalletsTunerMixin:
    """What every pallets tuner adds to KerasTuner's: a per-trial run log (one
    JSON line per trial start and end, with the tuner id and process id), a
    saved state before the first trial (so a search killed in its first trial
    resumes it), a cleared Keras session after every trial, and a search
    space declared without building a model."""

    def _log_run(self, event, trial, **extra):
        entry = {"event": event, "trial_id": trial.trial_id, "tuner_id": self.tuner_id,
                 "pid": os.getpid(), "time": round(time.time(), 3),
                 "hyperparameters": trial.hyperparameters.values, **extra}
        with open(os.path.join(self.project_dir, RUN_LOG), "a") as f:
            f.write(json.dumps(entry, default=str) + "\n")

    def _populate_initial_space(self):
        # KerasTuner builds the model (at least once) to discover conditional
        # hyperparameters; ours has none and declares its whole space, so a
        # tuner (e.g. a chief that never trains) starts without building one.
        hp = self.oracle.get_space()
        self.hypermodel.declare_hyperparameters(hp)
        self.oracle.update_space(hp)

    def _configure_tensorboard_dir(self, callbacks, trial, execution=0):
        # KerasTuner 1.4.8 imports tensorboard for every trial on TensorFlow, even
        # without a TensorBoard callback; TensorFlow 2.21 no longer installs it.
        if any(cb.__class__.__name__ == "TensorBoard" for cb in callbacks):
            super()._configure_tensorboard_dir(callbacks, trial, execution)

    def on_search_begin(self):
        super().on_search_begin()
        self.save()

    def run_trial(self, trial, *args, **kwargs):
        self._log_run("start", trial)
        results = super().run_trial(trial, *args, **kwargs)
        from keras_tuner.src.engine import tuner_utils

        metrics = tuner_utils.convert_to_metrics_dict(results, self.oracle.objective)
        self._pallets_results = getattr(self, "_pallets_results", {})
        self._pallets_results[trial.trial_id] = {
            "metrics": {k: float(v) for k, v in metrics.items()},
            "hyperparameters": dict(trial.hyperparameters.values)}
        return results

    def on_trial_end(self, trial):
        super().on_trial_end(trial)
        self._log_run("end", trial, status=trial.status)
        keras.backend.clear_session()
        gc.collect()


class BayesianTuner(_PalletsTunerMixin, kt.BayesianOptimization):
    """`keras_tuner.BayesianOptimization` with the pallets run log and session clearing."""


class HyperbandTuner(_PalletsTunerMixin, kt.Hyperband):
    """`keras_tuner.Hyperband` with the pallets run log and session clearing."""


class RandomTuner(_PalletsTunerMixin, kt.RandomSearch):
    """`keras_tuner.RandomSearch` with the pallets run log and session clearing."""


TUNERS = {"bayesian": BayesianTuner, "hyperband": HyperbandTuner, "random": RandomTuner}
