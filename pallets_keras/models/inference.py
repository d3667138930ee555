"""`InferenceMixin`: a `PaletteAutoencoder`'s public methods on images and codes.

`encode`, `posterior`, `decode`, `decode_indices`, `reconstruct`,
`sample_latent`, `sample`, `interpolate` and `predict_logits` check their
arguments, turn images and labels into the model's inputs with its
`preprocessor` (`pallets_keras.models.preprocessor`) and run the encoder and
decoder through the batched helpers of `pallets_keras.models.generation`.
`PaletteAutoencoder` inherits them; they are documented and called as its
methods.
"""

import numpy as np

from pallets_keras import validation
from pallets_keras.errors import PalletsValueError
from pallets_keras.models import generation


class InferenceMixin:
    """Encoding, decoding and sampling for `PaletteAutoencoder`.

    A mixin: it holds no state of its own and reads the model's encoder,
    decoder, palette, labels, priors and `preprocessor`. Every method takes
    images as RGBA uint8 (N, H, W, 4) or palette indices (N, H, W) and labels
    as a dict {name: 0/1} or an (N, L) array, and raises a `PalletsError`
    naming the argument for anything else.

    Example:
    >>> from pallets_keras.models import build
    >>> model = build("onehot_vae", palette_size=4, image_size=(8, 8), latent_dim=2)
    >>> model.encode(np.zeros((3, 8, 8), "uint8")).shape
    (3, 2)
    >>> model.sample(2, seed=0).shape
    (2, 8, 8, 4)
    """

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
            model = generation.build_index_decoder(self.decoder)
            # Not an attribute Keras tracks: it must stay out of the saved model.
            object.__setattr__(self, "_index_decoder", model)
        return model

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
        idx = self.preprocessor.indices(x)
        inputs = {"indices": idx}
        lab = self.labels_array(labels, len(idx))
        if lab is not None:
            inputs["labels"] = lab
        return generation.run(self.encoder, inputs)

    def decode_indices(self, z, labels=None, temperature=0.0, seed=None, guidance_scale=1.0):
        """Palette indices (N, H, W) for latent codes. `temperature=0` takes each
        pixel's most likely colour; > 0 samples from the softmax at that
        temperature (onehot models only). `guidance_scale` as in `sample`,
        but 1 (the decoder as trained, as reconstructions use) unless given;
        None takes `default_guidance_scale`."""
        return generation.decode_indices(self, z, labels, temperature, seed, guidance_scale)

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
        value = generation.check_guidance(self, guidance_scale)
        # Not an attribute Keras tracks: saved by the preset with the priors.
        object.__setattr__(self, "_default_guidance_scale", value)
        return value

    def decode(self, z, labels=None, temperature=0.0, seed=None, guidance_scale=1.0):
        """RGBA uint8 images (N, H, W, 4) for latent codes z (N, D);
        `guidance_scale` as in `decode_indices`."""
        if self.representation == "rgba":
            generation.check_guidance(self, guidance_scale)
            return self.decode_rgba_raw(z, labels)
        return self.palette.decode(self.decode_indices(z, labels, temperature, seed,
                                                       guidance_scale))

    def decode_rgba_raw(self, z, labels=None):
        """An RGBA model's own output, rounded to uint8 but not snapped."""
        inputs = {"z": np.asarray(z, "float32")}
        if self.is_conditional:
            inputs["labels"] = self.labels_array(labels, len(z))
        return generation.rgba_output(self, inputs)

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
        idx = self.preprocessor.indices(x)
        return self.decode(self.encode(idx, labels), labels if self.is_conditional else None)

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
        guidance_scale = generation.check_guidance(self, guidance_scale)
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
        prep = self.preprocessor
        first, last = prep.indices(a, name="a"), prep.indices(b, name="b")
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

    def predict_logits(self, x, labels=None):
        """The decoder's raw output for images x (logits or RGBA floats)."""
        inputs = {"indices": self.preprocessor.indices(x)}
        lab = self.labels_array(labels, len(inputs["indices"]))
        if lab is not None:
            inputs["labels"] = lab
        out = generation.run(self, inputs)
        return out[self.representation_component.output_key]
