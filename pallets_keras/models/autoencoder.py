"""`PaletteAutoencoder`: one Keras model class for every variant; it owns the loss.

The class holds the graph, the loss, the config and the priors. Its other
jobs live beside it: `preprocessor.PalettePreprocessor` turns images and
labels into its inputs, `generation` runs the encoder and decoder in batches
and decodes palette indices, and the mixins `inference.InferenceMixin`
(encode, decode, sample, ...) and `presets.PresetMixin` (from_preset, ...)
give the class its public methods on images and presets.
"""

import os

import keras
import numpy as np
from keras import ops

from pallets_keras import losses
from pallets_keras.models import parts, registry
from pallets_keras.models.inference import InferenceMixin
from pallets_keras.models.latents.gaussian import GaussianLatent
from pallets_keras.models.preprocessor import PalettePreprocessor
from pallets_keras.models.presets import PresetMixin
from pallets_keras.models.representations import OUTPUT_END
from pallets_keras.optimizers import Adam
from pallets_keras.palette import Palette


def fused_head_enabled():
    """False when the environment variable PALLETS_KERAS_FUSED_HEAD is "0":
    training then materializes the palette head's logits as inference does
    (to compare the two; docs/benchmarks_models.md)."""
    return os.environ.get("PALLETS_KERAS_FUSED_HEAD", "1") != "0"


def xla_enabled():
    """False when the environment variable PALLETS_KERAS_XLA is "0": XLA's
    compile time (a few seconds per model) outweighs its gain for short
    training runs such as tests."""
    return os.environ.get("PALLETS_KERAS_XLA", "1") != "0"


@keras.saving.register_keras_serializable(package="pallets_keras")
class PaletteAutoencoder(InferenceMixin, PresetMixin, keras.Model):
    """An autoencoder over palette-indexed images: AE, VAE, CVAE or Gumbel VAE.

    A functional model made of an `encoder` ({"indices"[, "labels"]} -> latent
    parameters), a sampler (none, `GaussianSampling` or `GumbelSoftmax`) and a
    `decoder` ({"z"[, "labels"]} -> logits over the palette or RGBA). It takes
    uint8 palette indices, never a float one-hot of the data, and computes its
    own loss in `compute_loss` (so `fit` works unchanged on TensorFlow, JAX and
    PyTorch): reconstruction + beta * KL (+ label_weight * label loss), each a
    sum per image averaged over the batch, i.e. nats per image.

    Build one with `pallets_keras.models.build(variant, ...)`; this class is
    what they all are. Its methods on images and codes (`encode`, `decode`,
    `sample`, ...) come from `InferenceMixin`, its preset methods
    (`from_preset`, ...) from `PresetMixin`; `preprocessor` converts inputs.

    Args:
        encoder: functional `keras.Model`, see `parts.build_encoder`.
        decoder: functional `keras.Model`, see `parts.build_decoder`.
        representation: a registered representation name ("onehot" or
            "rgba" built in; `pallets_keras.models.registry`).
        latent: a registered latent name: "none" (a plain autoencoder) or
            the Gaussian or Gumbel-Softmax VAE latents built in (see
            `registry.names("latent")`, `pallets_keras.models.latents`).
        conditioning: a registered conditioning name ("none", "labeled"
            (encoder only) or "conditional" built in).
        palette_colors: list of K [r, g, b, a] colours the model draws with.
        label_names: list of L label names (conditioned models).
        beta: float, initial weight of the KL term (a non-trainable variable
            that `KLWarmup` drives).
        label_weight: float, weight of the label reconstruction loss.
        reconstruction_loss: "categorical" (default for onehot), "binary"
            (the original study's per-channel sigmoid BCE, onehot only), "bce"
            or "mse" (rgba).
        temperature: float, Gumbel-Softmax tau at the start (gumbel only).
        hard: bool, straight-through Gumbel samples (gumbel only).
        seed: int or None, seeds the sampler.
        variant: str, the variant name it was built as.
        build_options: dict, the sizes it was built with (filters, units,
            latent_dim, ...), so that `zoo.load(..., palette=, image_size=)`
            can rebuild the same body for new palette ends.

    Example:
    >>> model = pallets_keras.models.build("onehot_conv_vae")
    >>> model.compile(optimizer="adam")
    >>> rgba = model.sample(4, seed=0)
    """

    def __init__(self, encoder, decoder, representation="onehot", latent=GaussianLatent.name,
                 conditioning="none", palette_colors=None, label_names=None, beta=1.0,
                 label_weight=1.0, reconstruction_loss="categorical", temperature=1.0,
                 hard=True, seed=None, variant=None, build_options=None, **kwargs):
        # === Layers ===
        image_size = tuple(encoder.get_layer("indices").output.shape[1:3])
        num_labels = len(label_names or [])
        # The axis components: each owns its part of the graph and the loss.
        rep = registry.get_representation(representation)
        lat = registry.get_latent(latent)
        cond = registry.get_conditioning(conditioning)
        sampler = lat.sampler(temperature, hard, seed)

        # === Functional model ===
        inputs = {"indices": keras.Input(shape=image_size, dtype="int32", name="indices")}
        if cond.encoder_labels:
            inputs["labels"] = keras.Input(shape=(num_labels,), name="labels")
        enc = encoder(inputs)
        z = lat.draw(sampler, enc)
        dec_in = {"z": z}
        if cond.decoder_labels:
            dec_in["labels"] = inputs["labels"]
        dec = decoder(dec_in)
        # Torch modules cannot take sub-layers as attributes before this call.
        super().__init__(inputs=inputs, outputs={**dec, **enc}, **kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.sampler = sampler

        # === Config ===
        self.representation = representation
        self.latent = latent
        self.conditioning = conditioning
        self.palette_colors = np.asarray(palette_colors, "int64").tolist()
        self.label_names = list(label_names or [])
        self.label_weight = label_weight
        self.reconstruction_loss = reconstruction_loss
        self.temperature = temperature
        self.hard = hard
        self.seed = seed
        self.variant = variant
        self.build_options = dict(build_options or {})
        self.image_size = image_size
        self.beta = keras.Variable(beta, trainable=False, name="beta", dtype="float32")
        self.initial_beta = beta
        self.latent_shape = lat.code_shape(enc)
        # Only the parts this variant has are tracked (and shown in fit logs).
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        # The latent's own loss term: "kl_loss" for a VAE, "vq_loss" for a codebook.
        self.kl_loss_tracker = (keras.metrics.Mean(name=lat.regularizer_metric)
                                if lat.regularizer_metric else None)
        self.label_loss_tracker = (keras.metrics.Mean(name="label_loss")
                                   if "label_logits" in dec else None)
        self.pixel_accuracy_tracker = keras.metrics.Mean(name="pixel_accuracy")
        self._palette = Palette(np.asarray(self.palette_colors), name="model")
        rep.check_loss(reconstruction_loss)

    def compile(self, *args, jit_compile="auto", **kwargs):
        """`keras.Model.compile`, with XLA on TensorFlow CPU by default.

        The optimizer "adam" becomes `pallets_keras.optimizers.Adam`. Keras'
        "auto" leaves XLA off on a TensorFlow machine without GPU;
        these models support it and train ~1.46x faster with it
        (docs/benchmarks_models.md). Under a `tf.distribute` strategy Keras'
        own choice stands. Pass `jit_compile=False` to opt out.
        """
        # "adam" means pallets_keras.optimizers.Adam: Keras' own gives the palette
        # embedding a wrong update on TensorFlow (see that module). Importing
        # it here also registers it for saved compile configs.
        if args and args[0] == "adam":
            args = (Adam(),) + args[1:]
        if kwargs.get("optimizer") == "adam":
            kwargs["optimizer"] = Adam()
        if jit_compile == "auto" and keras.backend.backend() == "tensorflow" and xla_enabled():
            import tensorflow as tf

            if not tf.distribute.has_strategy() and not kwargs.get("run_eagerly"):
                jit_compile = True
        super().compile(*args, jit_compile=jit_compile, **kwargs)

    def compile_from_config(self, config):
        """Recompiles a loaded model. The saving backend's XLA choice is
        dropped: `jit_compile=True` written on JAX would turn on torch.compile
        when the file is loaded on PyTorch."""
        config = dict(keras.saving.deserialize_keras_object(config))
        config.pop("jit_compile", None)
        self.compile(**config)
        if getattr(self, "optimizer", None) is not None and self.built:
            self.optimizer.build(self.trainable_variables)

    # ------------------------------------------------------------ config
    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "representation": self.representation,
            "latent": self.latent,
            "conditioning": self.conditioning,
            "palette_colors": self.palette_colors,
            "label_names": self.label_names,
            "beta": float(self.initial_beta),
            "label_weight": self.label_weight,
            "reconstruction_loss": self.reconstruction_loss,
            "temperature": self.temperature,
            "hard": self.hard,
            "seed": self.seed,
            "variant": self.variant,
            "build_options": self.build_options,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        config["decoder"] = keras.saving.deserialize_keras_object(config["decoder"])
        return cls(**config)

    # ------------------------------------------------------------- facts
    @property
    def palette(self):
        """The `Palette` this model draws with."""
        return self._palette

    @property
    def palette_size(self):
        return len(self.palette_colors)

    @property
    def num_labels(self):
        return len(self.label_names)

    @property
    def takes_labels(self):
        """True when the model takes labels (into its encoder, at least)."""
        return self.conditioning_component.encoder_labels

    @property
    def is_conditional(self):
        """True when labels reach the decoder (and so steer generation)."""
        return self.conditioning_component.decoder_labels

    @property
    def representation_component(self):
        """The registered `Representation` this model's `representation` names."""
        return registry.get_representation(self.representation)

    @property
    def palette_end_layers(self):
        """Names of the layers tied to the palette (`Representation.palette_ends`)."""
        return self.representation_component.palette_ends

    @property
    def data_end_layers(self):
        """Names of the layers tied to the data set rather than to the body:
        the palette ends and, for variants that reconstruct labels, the label
        head. Fine-tuning's warm-up trains only these (`set_body_trainable`)."""
        label_ends = tuple(layer.name for layer in self.decoder.layers
                           if layer.name == parts.LABEL_HEAD)
        return self.palette_end_layers + label_ends

    @property
    def latent_component(self):
        """The registered `Latent` this model's `latent` names: its loss term,
        codes, training prior and callbacks."""
        return registry.get_latent(self.latent)

    @property
    def conditioning_component(self):
        """The registered `Conditioning` this model's `conditioning` names."""
        return registry.get_conditioning(self.conditioning)

    # ------------------------------------------------------ training pass
    @property
    def fuses_head(self):
        """True when training takes the reconstruction loss from the features
        the palette head reads, chunk by chunk, instead of from the full
        logits (one-hot models with the categorical loss;
        `palette_head.palette_head_crossentropy`). Same loss and gradients;
        `PALLETS_KERAS_FUSED_HEAD=0` turns it off, and so does torch.compile."""
        # torch.compile (jit_compile=True on PyTorch) cannot trace the fused
        # pass (dynamo fails on the untracked decoder sub-model): such a model
        # trains with the whole-batch head.
        torch_compiled = (keras.backend.backend() == "torch"
                          and getattr(self, "jit_compile", False) is True)
        return (fused_head_enabled() and not torch_compiled
                and self.representation_component.fuses_head(self.reconstruction_loss)
                # A hand-built decoder may end in another layer (a conv).
                and any(layer.name == OUTPUT_END and isinstance(layer, keras.layers.Dense)
                        for layer in self.decoder.layers))

    def _decoder_to_features(self):
        """The decoder up to its output end's input: {"pixel_features", and its
        other outputs}. Shares the decoder's layers. Kept out of Keras'
        attribute tracking (object.__setattr__) so weight files and presets
        keep exactly the layout they have without it."""
        model = self.__dict__.get("_decoder_features")
        if model is None:
            outputs = {"pixel_features": self.decoder.get_layer(OUTPUT_END).input}
            if self.label_loss_tracker is not None:
                outputs["label_logits"] = self.decoder.get_layer(parts.LABEL_HEAD).output
            model = keras.Model(self.decoder.input, outputs, name="decoder_features")
            object.__setattr__(self, "_decoder_features", model)
        return model

    def call(self, inputs, training=None, mask=None):
        if not (training and self.fuses_head):
            return super().call(inputs, training=training, mask=mask)
        # Training pass with a fused head: the same graph as the functional
        # model's, ending at the palette head's input ("pixel_features").
        # Tensors throughout: a call with NumPy inputs would otherwise hand
        # the decoder a dict mixing the sampled tensor with NumPy labels,
        # which Keras refuses on TensorFlow.
        inputs = {key: ops.convert_to_tensor(value) for key, value in inputs.items()}
        enc = self.encoder(inputs, training=training)
        dec_in = {"z": self.latent_component.draw(self.sampler, enc)}
        if self.is_conditional:
            dec_in["labels"] = inputs["labels"]
        return {**self._decoder_to_features()(dec_in, training=training), **enc}

    # -------------------------------------------------------------- loss
    def loss_terms(self, x, outputs):
        """The loss's terms per image, computed once for training
        (`compute_loss`, which takes their means) and for `metrics.elbo`
        (which sums them).

        Args:
            x: the model's inputs, a dict with "indices" (N, H, W) int and,
                for models that take them, "labels" (N, L).
            outputs: the model's outputs on `x` (a dict).

        Returns:
            dict of tensors: "reconstruction" (N,) in nats per image (the
            model's `reconstruction_loss`), "hits" (N, H, W) 1.0 where the
            decoded pixel is right, "kl" (N,) nats or None (no latent
            distribution), "regularizer" (N,) the latent's term of the
            loss (`Latent.regularizer`: the KL, a codebook's term, or None),
            "label" (N,) nats or None (no label head).
        """
        rep = self.representation_component
        if "pixel_features" in outputs:  # a training pass with a fused head
            rec, hit = rep.fused_reconstruction(x["indices"], outputs["pixel_features"],
                                                self.decoder.get_layer(OUTPUT_END))
        else:
            rec, hit = rep.reconstruction(x["indices"], outputs, self.reconstruction_loss,
                                          self.palette_colors)
        label = None
        if "label_logits" in outputs:
            label = losses.label_binary_crossentropy(x["labels"], outputs["label_logits"])
        latent = self.latent_component
        return {"reconstruction": rec, "hits": hit, "kl": latent.kl(outputs),
                "regularizer": latent.regularizer(outputs), "label": label}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        terms = self.loss_terms(x, y_pred)
        rec = ops.mean(terms["reconstruction"])
        hit = terms["hits"]
        kl = ops.zeros(()) if terms["regularizer"] is None else ops.mean(terms["regularizer"])
        total = rec + ops.cast(self.beta, kl.dtype) * kl
        label_loss = ops.zeros(())
        if terms["label"] is not None:
            label_loss = ops.mean(terms["label"])
            total = total + self.label_weight * label_loss
        self.reconstruction_loss_tracker.update_state(rec)
        if self.kl_loss_tracker is not None:
            self.kl_loss_tracker.update_state(kl)
        if self.label_loss_tracker is not None:
            self.label_loss_tracker.update_state(label_loss)
        self.pixel_accuracy_tracker.update_state(ops.mean(hit))
        return total

    # ------------------------------------------------------------- inputs
    @property
    def preprocessor(self):
        """The `PalettePreprocessor` that turns images and labels, in the forms
        users pass them, into this model's inputs. Built on first use."""
        prep = self.__dict__.get("_preprocessor")
        if prep is None:
            prep = PalettePreprocessor(self.palette, self.image_size, self.label_names,
                                       takes_labels=self.takes_labels, variant=self.variant)
            # Not an attribute Keras tracks: it holds no weights.
            object.__setattr__(self, "_preprocessor", prep)
        return prep

    def labels_array(self, labels, n, name="labels"):
        """Labels as (n, L) float32 from the forms users pass (None, a dict
        {name: 0/1} with other labels 0, an (L,) or (n, L) array); None for
        unconditioned models. The preprocessor's `labels_array`
        (`PalettePreprocessor`) does the work and documents the forms and the
        errors it raises (`PalletsTypeError`, `PalletsKeyError`,
        `PalletsValueError`, naming `name`).

        Example:
        >>> cvae.labels_array({"earring": 1}, 4).shape
        (4, 87)
        """
        return self.preprocessor.labels_array(labels, n, name)

    # ------------------------------------------------------------- priors
    @property
    def priors(self):
        """{name: Prior} the model can sample from: the training prior (as
        "standard_normal" or "uniform_categorical") and any fitted one
        (`pallets_keras.priors.fit_prior`). A plain autoencoder has only the
        fitted ones."""
        from pallets_keras.priors import training_prior

        table = self.__dict__.setdefault("_priors", {})
        if self.latent_component.prior is not None:
            base = training_prior(self)
            table.setdefault(base.kind, base)
        return table

    @property
    def default_prior(self):
        """The name of the prior `sample` uses when not told: a fitted one
        when the preset chose it, else the training prior."""
        name = self.__dict__.get("_default_prior")
        if name is None and self.latent_component.prior is not None:
            from pallets_keras.priors import training_prior

            name = training_prior(self).kind
        return name

    def add_prior(self, prior, name=None, default=False):
        """Attaches a `Prior` under `name` (default: its kind); `default=True`
        makes `sample` use it when no `prior=` is given.

        Raises:
            PalletsValueError: the prior's latent type or size does not fit.
        """
        prior.check_model(self)
        name = name or prior.kind
        self.priors[name] = prior
        if default:
            # Not an attribute Keras tracks: priors are saved by the preset.
            object.__setattr__(self, "_default_prior", name)
        return prior

    def _prior(self, prior):
        from pallets_keras.errors import PalletsKeyError
        from pallets_keras.priors import Prior, training_prior

        if (self.latent_component.prior is None and not self.priors
                and not isinstance(prior, Prior)):
            training_prior(self)  # raises: a plain autoencoder without a fitted prior
        if isinstance(prior, Prior):
            prior.check_model(self)
            return prior
        name = self.default_prior if prior is None else prior
        if name == "training":
            return training_prior(self)
        if name not in self.priors:
            raise PalletsKeyError(
                f"No prior {name!r} for {self.variant or 'this model'}; it has "
                f"{sorted(self.priors)} (fit one with pallets_keras.priors.fit_prior).")
        return self.priors[name]
