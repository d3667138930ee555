"""`PaletteAutoencoder`: one Keras model class for every variant; it owns the loss."""

import difflib
import os

import keras
import numpy as np
from keras import ops

from pallets_keras import losses, validation
from pallets_keras.errors import PalletsKeyError, PalletsTypeError, PalletsValueError
from pallets_keras.layers import PaletteArgmax, PaletteSoftmax
from pallets_keras.models import parts, registry
from pallets_keras.models.latents import KL_METRIC
from pallets_keras.palette import Palette

PREDICT_BATCH = 1024
# Generation batches keep their float logits about this size (16 MiB for 32
# punks of 24x24 over 222 colours): small enough for a CPU's last-level cache.
LOGITS_BYTES = 16 * 2**20


def xla_enabled():
    """False when the environment variable PALLETS_KERAS_XLA is "0": XLA's
    compile time (a few seconds per model) outweighs its gain for short
    training runs such as tests."""
    return os.environ.get("PALLETS_KERAS_XLA", "1") != "0"


@keras.saving.register_keras_serializable(package="pallets_keras")
class PaletteAutoencoder(keras.Model):
    """An autoencoder over palette-indexed images: AE, VAE, CVAE or Gumbel VAE.

    A functional model made of an `encoder` ({"indices"[, "labels"]} -> latent
    parameters), a sampler (none, `GaussianSampling` or `GumbelSoftmax`) and a
    `decoder` ({"z"[, "labels"]} -> logits over the palette or RGBA). It takes
    uint8 palette indices, never a float one-hot of the data, and computes its
    own loss in `compute_loss` (so `fit` works unchanged on TensorFlow, JAX and
    PyTorch): reconstruction + beta * KL (+ label_weight * label loss), each a
    sum per image averaged over the batch, i.e. nats per image.

    Build one with `pallets_keras.models.build(variant, ...)`; this class is
    what they all are.

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

    def __init__(self, encoder, decoder, representation="onehot", latent="gaussian",
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
        self.latent_shape = tuple(enc[next(iter(enc))].shape[1:])
        # Only the parts this variant has are tracked (and shown in fit logs).
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name=KL_METRIC) if lat.variational else None
        self.label_loss_tracker = (keras.metrics.Mean(name="label_loss")
                                   if "label_logits" in dec else None)
        self.pixel_accuracy_tracker = keras.metrics.Mean(name="pixel_accuracy")
        self._palette = Palette(np.asarray(self.palette_colors), name="model")
        rep.check_loss(reconstruction_loss)

    def compile(self, *args, jit_compile="auto", **kwargs):
        """`keras.Model.compile`, with XLA on TensorFlow CPU by default.

        Keras' "auto" leaves XLA off on a TensorFlow machine without GPU;
        these models support it and train ~1.46x faster with it
        (docs/benchmarks_models.md). Under a `tf.distribute` strategy Keras'
        own choice stands. Pass `jit_compile=False` to opt out.
        """
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
            distribution), "label" (N,) nats or None (no label head).
        """
        rec, hit = self.representation_component.reconstruction(
            x["indices"], outputs, self.reconstruction_loss, self.palette_colors)
        label = None
        if "label_logits" in outputs:
            label = losses.label_binary_crossentropy(x["labels"], outputs["label_logits"])
        return {"reconstruction": rec, "hits": hit, "kl": self.latent_component.kl(outputs),
                "label": label}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        terms = self.loss_terms(x, y_pred)
        rec = ops.mean(terms["reconstruction"])
        hit = terms["hits"]
        kl = ops.zeros(()) if terms["kl"] is None else ops.mean(terms["kl"])
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

    # --------------------------------------------------------- input checks
    def _indices(self, x, name="x"):
        """Images in their documented forms -> checked int32 indices (N, H, W).

        Takes RGBA uint8 (N, H, W, 4), palette indices (N, H, W), and one image
        without its batch axis: (H, W, 4) RGBA or (H, W) indices. Raises a
        `PalletsError` naming `name` for anything else, e.g. an empty batch.
        """
        if x is None or isinstance(x, (str, bytes, dict, set)):
            raise PalletsTypeError(
                f"{name}: expected images as an array, RGBA uint8 (N, H, W, 4) or palette "
                f"indices (N, H, W), got {type(x).__name__}. Read image files with "
                "PIL.Image.open(path).convert('RGBA') and numpy.asarray.")
        try:
            x = np.asarray(x)
        except ValueError as e:  # ragged nested lists
            raise PalletsValueError(f"{name}: images must all have the same shape ({e}).") \
                from None
        if x.dtype.kind not in "uif":
            raise PalletsTypeError(f"{name}: images must be numbers (uint8 RGBA or integer "
                                   f"palette indices), got dtype {x.dtype}.")
        h, w = self.image_size
        if x.ndim == 3 and x.shape == (h, w, 4) and x.shape[1:] != (h, w):
            x = x[None]  # one RGBA image without its batch axis
        if x.ndim == 2:
            x = x[None]  # one index image without its batch axis
        if x.ndim == 4 and x.shape[-1] == 4:
            if x.dtype != np.uint8:
                if x.dtype.kind == "f" or (x.size and (x.min() < 0 or x.max() > 255)):
                    raise PalletsTypeError(
                        f"{name}: RGBA images must be uint8 in [0, 255], got {x.dtype}"
                        + (" (floats in [0, 1]? use (x * 255).round().astype('uint8'))"
                           if x.dtype.kind == "f" else "") + ".")
                x = x.astype(np.uint8)
            if len(x) == 0:
                raise PalletsValueError(f"{name}: an empty batch (shape {x.shape}); pass at "
                                        "least one image.")
            x = self.palette.encode(x, snap=True)
        if x.ndim != 3:
            raise PalletsValueError(
                f"{name}: expected images as RGBA (N, H, W, 4) uint8 or palette indices "
                f"(N, H, W) for this {h}x{w} model, got shape {x.shape}.")
        if len(x) == 0:
            raise PalletsValueError(f"{name}: an empty batch (shape {x.shape}); pass at "
                                    "least one image.")
        if tuple(x.shape[1:]) != self.image_size:
            raise PalletsValueError(
                f"{name}: this model takes {h}x{w} images, got {x.shape[1]}x{x.shape[2]} "
                f"(shape {x.shape}). Resize the sprites, or adapt the model: "
                f"zoo.load(name, image_size=({x.shape[1]}, {x.shape[2]})).")
        if not np.issubdtype(x.dtype, np.integer):
            raise PalletsTypeError(
                f"{name}: palette indices must be integers, got {x.dtype}. RGBA images "
                "need their 4 channels last: (N, H, W, 4).")
        if x.min() < 0 or x.max() >= self.palette_size:
            raise PalletsValueError(
                f"{name}: palette indices must lie in [0, {self.palette_size}) for this "
                f"model's {self.palette_size}-colour palette, got [{x.min()}, {x.max()}]. A "
                "data set with another palette needs zoo.load(name, palette=...) first.")
        return x.astype("int32")

    def labels_array(self, labels, n, name="labels"):
        """Labels as (n, L) float32 from an array, or a dict {name: 0/1} (other
        labels 0). None for unconditioned models.

        Args:
            labels: None, a dict {label name: 0 or 1}, an (L,) array (the same
                labels for every image) or an (n, L) array of 0/1 values or
                probabilities in [0, 1].
            n: int, the number of images.
            name: str, the argument's name in error messages.

        Returns:
            float32 (n, L), or None for a model without labels.

        Raises:
            PalletsTypeError: labels given as a label name, a list of names, ...
            PalletsKeyError: a dict naming a label the model does not have.
            PalletsValueError: a wrong shape, a value outside [0, 1], labels
                for a model that takes none, or none for one that needs them.

        Example:
        >>> cvae.labels_array({"earring": 1}, 4).shape
        (4, 87)
        """
        if not self.takes_labels:
            if labels is not None:
                raise PalletsValueError(f"{name}: {self.variant or 'this model'} is not "
                                        "conditioned on labels; drop `labels=`.")
            return None
        if labels is None:
            raise PalletsValueError(
                f"{name}: {self.variant or 'this model'} is conditioned on {self.num_labels} "
                "labels: pass labels=, as an (n, L) array or a dict like {'earring': 1}.")
        validation.check_labels_arg(labels, name)
        if isinstance(labels, dict):
            out = np.zeros((n, self.num_labels), "float32")
            for label, value in labels.items():
                if label not in self.label_names:
                    close = difflib.get_close_matches(str(label), self.label_names, n=3)
                    raise PalletsKeyError(
                        f"{name}: unknown label {label!r}." +
                        (f" Did you mean {close}?" if close else " See model.label_names."))
                if isinstance(value, (str, bytes)) or value not in (0, 1, True, False):
                    raise PalletsValueError(f"{name}: label {label!r} must be 0 or 1, got "
                                            f"{value!r}.")
                out[:, self.label_names.index(label)] = value
            return out
        try:
            # Checked in float64: a cast first would turn 1e300 into inf (with a
            # warning) and -1e-300 into a harmless-looking -0.
            labels = np.asarray(labels, "float64")
        except (TypeError, ValueError):
            raise PalletsTypeError(
                f"{name}: an array of 0/1 values or a dict like {{'earring': 1}} is needed; "
                f"got {type(labels).__name__} that is not numeric.") from None
        if labels.ndim == 1:
            labels = np.broadcast_to(labels, (n, labels.shape[0]))
        if labels.shape != (n, self.num_labels):
            raise PalletsValueError(
                f"{name}: must have shape ({n}, {self.num_labels}) (one row of "
                f"{self.num_labels} labels per image), got {labels.shape}.")
        if not np.isfinite(labels).all() or labels.min() < 0 or labels.max() > 1:
            raise PalletsValueError(f"{name}: must be 0/1 values (or probabilities in "
                                    "[0, 1]).")
        return labels.astype("float32")

    def _run(self, submodel, inputs, batch_size=None):
        """Calls a submodel in batches through its compiled predict function
        (`predict_on_batch`: a tf.function on TensorFlow, jax.jit on JAX,
        no_grad on torch) and returns numpy. (XLA on TensorFlow measured
        slower here: per-call overhead outweighs it at generation's small
        batches.)"""
        batch_size = batch_size or PREDICT_BATCH
        n = len(next(iter(inputs.values())))
        outs = []
        for start in range(0, n, batch_size):
            batch = {k: v[start:start + batch_size] for k, v in inputs.items()}
            size = len(next(iter(batch.values())))
            # Pad to a power of two so that any n compiles at most
            # log2(batch_size) + 1 shapes, not one per call.
            padded = min(batch_size, 1 << (size - 1).bit_length())
            if padded != size:
                batch = {k: np.concatenate([v, np.repeat(v[-1:], padded - size, axis=0)])
                         for k, v in batch.items()}
            out = submodel.predict_on_batch(batch)
            outs.append({k: v[:size] for k, v in out.items()} if isinstance(out, dict)
                        else out[:size])
        if isinstance(outs[0], dict):
            return {k: np.concatenate([o[k] for o in outs]) for k in outs[0]}
        return np.concatenate(outs)

    def _generate_batch(self):
        """Images per generation step: as many as keep the float logits near
        LOGITS_BYTES, a power of two. Logits that stay in the CPU's cache make
        the head and argmax ~1.7x faster than 1,024-image batches (0.5 GB of
        logits for 24x24 punks; measured in docs/benchmarks_models.md)."""
        h, w = self.image_size
        per_image = h * w * self.palette_size * 4
        return 1 << max(0, min(PREDICT_BATCH, LOGITS_BYTES // per_image).bit_length() - 1)

    @property
    def index_decoder(self):
        """The decoder followed by `PaletteArgmax`: {"z"[, "labels"]} -> int32
        indices (-1 where the logits are not finite). Shares the decoder's
        weights; built on first use and not part of the saved model."""
        if self.representation != "onehot":
            raise ValueError("index_decoder is for onehot models; an RGBA model's "
                             "decoder output is snapped with its palette instead.")
        model = self.__dict__.get("_index_decoder")
        if model is None:
            indices = PaletteArgmax(name="palette_argmax")(self.decoder.output["logits"])
            model = keras.Model(self.decoder.input, indices, name="index_decoder")
            # Not an attribute Keras tracks: it must stay out of the saved model.
            object.__setattr__(self, "_index_decoder", model)
        return model

    # ----------------------------------------------------------- generation
    def encode(self, x, labels=None):
        """Latent codes (N, D): the mean for a VAE, the one-hot argmax for Gumbel.

        Args:
            x: RGBA uint8 (N, H, W, 4) or palette indices (N, H, W); one image
                may come without its batch axis.
            labels: models with labels: a dict {name: 0/1} or an (N, L) array.

        Returns:
            float32 (N, D).

        Raises:
            PalletsError: images or labels in a form this model does not take.

        Example:
        >>> z = model.encode(dataset.indices[:8])
        """
        return self.latent_component.code(self.posterior(x, labels))

    def posterior(self, x, labels=None):
        """The encoder's raw output for images x: the posterior's parameters.

        Args:
            x, labels: as for `encode`.

        Returns:
            dict of float32 arrays: "z_mean" and "z_log_var" (N, D) for a
            Gaussian latent, "latent_logits" (N, N_var, C) for a Gumbel one,
            "z" (N, D) for a plain autoencoder.
        """
        idx = self._indices(x)
        inputs = {"indices": idx}
        lab = self.labels_array(labels, len(idx))
        if lab is not None:
            inputs["labels"] = lab
        return self._run(self.encoder, inputs)

    def decode_indices(self, z, labels=None, temperature=0.0, seed=None, guidance_scale=1.0):
        """Palette indices (N, H, W) for latent codes. `temperature=0` takes each
        pixel's most likely colour; > 0 samples from the softmax at that
        temperature (onehot models only). `guidance_scale` as in `sample`,
        but 1 (the decoder as trained, as reconstructions use) unless given;
        None takes `default_guidance_scale`."""
        temperature = validation.check_temperature(temperature)
        seed = validation.check_seed(seed)
        guidance_scale = self._check_guidance(guidance_scale)
        z = np.asarray(z, "float32")
        d = self.decoder.get_layer("z").output.shape[-1]
        if z.ndim != 2 or z.shape[1] != d:
            raise PalletsValueError(f"z: latent codes must have shape (N, {d}) for this "
                                    f"model, got {z.shape}.")
        if not np.isfinite(z).all():
            raise PalletsValueError(
                f"z: {int((~np.isfinite(z)).sum())} latent values are NaN or infinite; "
                "latent codes must be finite.")
        inputs = {"z": z}
        if self.is_conditional:
            inputs["labels"] = self.labels_array(labels, len(z))
        elif labels is not None and not self.takes_labels:
            self.labels_array(labels, len(z))  # raises the clear error
        if self.representation == "rgba":
            rgba = np.round(self._run(self.decoder, inputs)["rgba"] * 255).astype("uint8")
            return self.palette.encode(rgba, snap=True, return_report=True)[0]
        if guidance_scale != 1.0:
            return self._guided_indices(inputs, guidance_scale, temperature, seed)
        if temperature and temperature > 0:
            logits = self._run(self.decoder, inputs)["logits"]
            self._check_finite(np.isfinite(logits).all())
            return self._sample_colours(logits, temperature, np.random.default_rng(seed))
        # Argmax on the backend, compiled: only (N, H, W) int32 indices cross
        # to numpy, not the (N, H, W, K) float logits (5 GB for 10,000 punks).
        out = self._run(self.index_decoder, inputs, self._generate_batch())
        self._check_finite(out.min(initial=0) >= 0)
        return out.astype(self.palette.index_dtype)

    @property
    def default_guidance_scale(self):
        """The guidance scale `sample` uses when not told: 1 (the labels as
        trained) unless the preset measured another one better
        (`set_default_guidance_scale`; stored with the preset's priors).
        Reconstructions (`decode`, `reconstruct`) are unguided."""
        return self.__dict__.get("_default_guidance_scale", 1.0)

    def set_default_guidance_scale(self, guidance_scale):
        """Makes `guidance_scale` (float >= 0) the default of `sample`.

        Raises:
            PalletsValueError: a bad scale, or a scale other than 1 for a
                model without labels in its decoder.
        """
        value = self._check_guidance(guidance_scale)
        # Not an attribute Keras tracks: saved by the preset with the priors.
        object.__setattr__(self, "_default_guidance_scale", value)
        return value

    def _check_guidance(self, guidance_scale):
        if guidance_scale is None:
            return self.default_guidance_scale
        guidance_scale = validation.check_float(
            "guidance_scale", guidance_scale, min=0,
            fix="1 follows the labels as trained; 1.5-3 follows them more closely.")
        if guidance_scale != 1.0 and not (self.is_conditional
                                          and self.representation == "onehot"):
            raise PalletsValueError(
                f"guidance_scale: classifier-free guidance steers a model's labels; "
                f"{self.variant or 'this model'} has no labels in its decoder (or draws "
                "RGBA). Leave guidance_scale at 1, or use a conditional onehot variant "
                "such as conv_cvae.")
        return guidance_scale

    def _guided_indices(self, inputs, scale, temperature, seed):
        """Classifier-free guidance (Ho and Salimans 2022, "Classifier-Free
        Diffusion Guidance"): logits = l(z, none) + scale * (l(z, y) - l(z, none)),
        where "none" is the all-zero label vector that `fit(label_dropout=...)`
        trains the decoder on. Runs in chunks that keep two float logit
        tensors near LOGITS_BYTES each."""
        rng = np.random.default_rng(seed)
        chunk, n = self._generate_batch(), len(inputs["z"])
        out = np.empty((n, *self.image_size), self.palette.index_dtype)
        for start in range(0, n, chunk):
            part = {k: v[start:start + chunk] for k, v in inputs.items()}
            cond = self._run(self.decoder, part, chunk)["logits"]
            part["labels"] = np.zeros_like(part["labels"])
            free = self._run(self.decoder, part, chunk)["logits"]
            logits = free + scale * (cond - free)
            self._check_finite(np.isfinite(logits).all())
            out[start:start + chunk] = (self._sample_colours(logits, temperature, rng)
                                        if temperature > 0 else logits.argmax(-1))
        return out

    def _sample_colours(self, logits, temperature, rng):
        """One palette index per pixel drawn from softmax(logits / temperature)
        (inverse-CDF sampling with one uniform per pixel)."""
        probs = ops.convert_to_numpy(PaletteSoftmax(temperature)(logits))
        u = rng.random(probs.shape[:-1] + (1,))
        return (probs.cumsum(-1) < u).sum(-1).clip(0, self.palette_size - 1)

    @staticmethod
    def _check_finite(finite):
        if not finite:
            raise FloatingPointError(
                "The decoder produced NaN or infinite logits: the weights are broken "
                "(diverged training?). Reload the preset or lower the learning rate.")

    def decode(self, z, labels=None, temperature=0.0, seed=None, guidance_scale=1.0):
        """RGBA uint8 images (N, H, W, 4) for latent codes z (N, D);
        `guidance_scale` as in `decode_indices`."""
        if self.representation == "rgba":
            self._check_guidance(guidance_scale)
            return self.decode_rgba_raw(z, labels)
        return self.palette.decode(self.decode_indices(z, labels, temperature, seed,
                                                       guidance_scale))

    def decode_rgba_raw(self, z, labels=None):
        """An RGBA model's own output, rounded to uint8 but not snapped."""
        inputs = {"z": np.asarray(z, "float32")}
        if self.is_conditional:
            inputs["labels"] = self.labels_array(labels, len(z))
        return np.round(self._run(self.decoder, inputs)["rgba"] * 255).astype("uint8")

    def reconstruct(self, x, labels=None):
        """Encode then decode: RGBA uint8 or indices in, RGBA uint8 out.

        Args:
            x: RGBA uint8 (N, H, W, 4) or palette indices (N, H, W); one image
                may come without its batch axis. Colours outside the palette
                are snapped to the nearest palette colour.
            labels: models with labels: a dict {name: 0/1} or an (N, L) array.

        Returns:
            uint8 (N, H, W, 4).

        Raises:
            PalletsError: images or labels in a form this model does not take
                (an empty batch, another size, labels as a name, ...).

        Example:
        >>> rgba = model.reconstruct(dataset.rgba()[:8])
        """
        if self.takes_labels and labels is None:
            raise PalletsValueError(f"labels: {self.variant} encodes labels too: pass "
                                    "labels= (an (N, L) array, e.g. dataset.labels).")
        idx = self._indices(x)
        return self.decode(self.encode(idx, labels), labels if self.is_conditional else None)

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

    def sample_latent(self, n, seed=None, prior=None, labels=None):
        """n latent codes (n, D) float32 drawn from a prior, seeded.

        Args:
            n: positive int.
            seed: int or None.
            prior: a name from `model.priors`, "training" (the prior the model
                was trained against), a `Prior`, or None for `default_prior`.
            labels: for a conditional prior (`label_posterior`), the labels
                the codes are for: a dict or an (n, L) array.

        Raises:
            PalletsValueError: bad n or seed; a conditional prior without labels.
            PalletsKeyError: no prior of that name.
        """
        n = validation.check_positive_int(
            "n", n, max=validation.max_images(self.image_size),
            fix="Draw large sets in several calls and save each as you go.")
        seed = validation.check_seed(seed)
        chosen = self._prior(prior)
        if chosen.conditional:
            lab = self.labels_array(labels, n)
            return chosen.sample(n, np.random.default_rng(seed), labels=lab)
        return chosen.sample(n, np.random.default_rng(seed))

    def sample(self, n, labels=None, seed=None, temperature=0.0, prior=None,
               guidance_scale=None):
        """n new images (n, H, W, 4) uint8 drawn from a prior, seeded.

        Args:
            n: positive int.
            labels: for conditional models, a dict {name: 0/1} (other labels 0)
                or an (n, L) array.
            seed: int, makes the draw reproducible.
            temperature: 0 takes each pixel's most likely colour; > 0 samples.
            prior: which prior the latent codes come from (see `sample_latent`);
                by default the one the preset measured best (`default_prior`).
            guidance_scale: float >= 0, conditional onehot models only:
                classifier-free guidance (Ho and Salimans 2022). 1 decodes
                with the labels as trained; s > 1 extrapolates the logits
                away from the label-free decoding, l(z, 0) + s (l(z, y) -
                l(z, 0)), following the labels more closely. Meaningful for
                a model trained with `fit(label_dropout=...)`; twice the
                decoding cost. None: `default_guidance_scale` (what the
                preset measured best, else 1).

        Returns:
            uint8 (n, H, W, 4), every pixel a palette colour.

        Raises:
            PalletsError: bad n, seed, temperature, labels, prior or
                guidance_scale.

        Example:
        >>> punks = zoo.load("onehot_conv_vae").sample(16, seed=0)
        """
        temperature = validation.check_temperature(temperature)
        guidance_scale = self._check_guidance(guidance_scale)
        if not self.takes_labels and labels is not None:
            self.labels_array(labels, n)  # raises: this model takes no labels
        if self.takes_labels and not self.is_conditional and labels is not None:
            raise PalletsValueError(
                f"{self.variant} feeds labels to its encoder only, so they cannot steer "
                "generation; use a conditional variant (cvae, conv_cvae, earring_gsvae).")
        lab = self.labels_array(labels, n) if self.is_conditional else None
        z = self.sample_latent(n, seed, prior, labels=lab)
        return self.decode(z, lab, temperature=temperature, seed=seed,
                           guidance_scale=guidance_scale)

    def interpolate(self, a, b, steps=8, labels=None):
        """Images along the straight line between the codes of images a and b.

        Args:
            a, b: one image each, RGBA (H, W, 4) or indices (H, W), with or
                without a batch axis of 1.
            steps: int >= 2, images in the strip, ends included.
            labels: models with labels: a dict {name: 0/1} or a (2, L) array.

        Returns:
            uint8 (steps, H, W, 4).

        Raises:
            PalletsError: a bad image, `steps` or labels.

        Example:
        >>> strip = model.interpolate(punks[0], punks[1], steps=8)
        """
        steps = validation.check_int("steps", steps, min=2, max=10_000)
        first, last = self._indices(a, name="a"), self._indices(b, name="b")
        for name, images in (("a", first), ("b", last)):
            if len(images) != 1:
                raise PalletsValueError(f"{name}: one image is needed, got a batch of "
                                        f"{len(images)}; pass {name}[i].")
        pair = np.concatenate([first, last])
        enc_labels = None
        if self.takes_labels:
            enc_labels = self.labels_array(labels, 2) if labels is not None else None
            if enc_labels is None:
                raise PalletsValueError("labels: pass labels= (a (2, L) array or a dict) "
                                        "for this model.")
        za, zb = self.encode(pair, enc_labels)
        t = np.linspace(0, 1, steps, dtype="float32")[:, None]
        z = (1 - t) * za + t * zb
        dec_labels = None
        if self.is_conditional:
            dec_labels = np.repeat(enc_labels[:1], steps, axis=0)
        return self.decode(z, dec_labels)

    # ------------------------------------------------------------- presets
    @classmethod
    def from_preset(cls, preset, palette=None, image_size=None, compile=True, seed=0):
        """Loads a preset, the keras-hub way (`zoo.load` is the short form).

        Args:
            preset: a shipped preset's name (`PaletteAutoencoder.presets()`)
                or a preset folder's path.
            palette, image_size, compile, seed: as in `zoo.load` (a new
                palette or size adapts the palette ends for fine-tuning).

        Returns:
            A `PaletteAutoencoder` with its priors.

        Raises:
            PresetError: unknown name, damaged or foreign files.

        Example:
        >>> model = PaletteAutoencoder.from_preset("onehot_conv_vae")
        """
        from pallets_keras import zoo

        return zoo.load(preset, palette=palette, image_size=image_size, compile=compile,
                        seed=seed)

    @staticmethod
    def presets(pattern="*"):
        """Names of the shipped presets (pretrained weights), sorted; the
        architectures are `pallets_keras.models.list_variants()`.

        Example:
        >>> PaletteAutoencoder.presets("*cvae")
        ['conv_cvae', 'cvae', 'labeled_conv_cvae', 'labeled_cvae']
        """
        from pallets_keras import zoo

        return zoo.list_models(pattern)

    def save_to_preset(self, preset_dir, metadata=None, overwrite=False):
        """Writes this model (weights, config, priors, metadata) as a preset
        folder that `from_preset` reads, atomically (`zoo.save_preset`).

        Args:
            preset_dir: str or Path, the folder.
            metadata: optional dict recorded in `metadata.json`.
            overwrite: replace a folder that is not a preset, or a file.

        Returns:
            The folder's Path.

        Raises:
            PalletsFileError: the place is a file or a foreign folder.

        Example:
        >>> model.save_to_preset("my_preset/")
        """
        from pallets_keras import zoo

        return zoo.save_preset(self, preset_dir, metadata=metadata, overwrite=overwrite)

    def predict_logits(self, x, labels=None):
        """The decoder's raw output for images x (logits or RGBA floats)."""
        inputs = {"indices": self._indices(x)}
        lab = self.labels_array(labels, len(inputs["indices"]))
        if lab is not None:
            inputs["labels"] = lab
        out = self._run(self, inputs)
        return out[self.representation_component.output_key]
