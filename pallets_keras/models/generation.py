"""Batched prediction and decoding for `PaletteAutoencoder`.

The model's public methods (`encode`, `decode_indices`, `sample`, ...) check
their arguments and call these helpers, which run the encoder and decoder in
batches through their compiled predict functions and turn the decoder's
output into palette indices: the argmax on the backend, sampling at a
temperature, or classifier-free guidance.

Batches are padded to a power of two, so that any number of images compiles
at most log2(PREDICT_BATCH) + 1 shapes; generation batches keep their float
logits near LOGITS_BYTES, small enough for a CPU's last-level cache.
"""

import keras
import numpy as np
from keras import ops

from pallets_keras import validation
from pallets_keras.errors import PalletsValueError
from pallets_keras.layers import PaletteArgmax, PaletteSoftmax

PREDICT_BATCH = 1024
# Generation batches keep their float logits about this size (16 MiB for 32
# punks of 24x24 over 222 colours): small enough for a CPU's last-level cache.
LOGITS_BYTES = 16 * 2**20


def run(submodel, inputs, batch_size=None):
    """Calls a submodel in batches through its compiled predict function
    (`predict_on_batch`: a tf.function on TensorFlow, jax.jit on JAX,
    no_grad on torch) and returns numpy. (XLA on TensorFlow measured
    slower here: per-call overhead outweighs it at generation's small
    batches.)

    Args:
        submodel: a `keras.Model` (the model, its encoder or decoder, or
            `index_decoder`).
        inputs: dict of arrays with the same first axis N.
        batch_size: int, images per call; default `PREDICT_BATCH`.

    Returns:
        The submodel's output for all N images, a dict of arrays or an array.
    """
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


def generate_batch(image_size, palette_size):
    """Images per generation step: as many as keep the float logits near
    LOGITS_BYTES, a power of two. Logits that stay in the CPU's cache make
    the head and argmax ~1.7x faster than 1,024-image batches (0.5 GB of
    logits for 24x24 punks; measured in docs/benchmarks_models.md).

    Args:
        image_size: (height, width).
        palette_size: int, K colours.

    Returns:
        int, a power of two, at most `PREDICT_BATCH`.
    """
    h, w = image_size
    per_image = h * w * palette_size * 4
    return 1 << max(0, min(PREDICT_BATCH, LOGITS_BYTES // per_image).bit_length() - 1)


def build_index_decoder(decoder):
    """A onehot decoder followed by `PaletteArgmax`: {"z"[, "labels"]} ->
    int32 indices (-1 where the logits are not finite), sharing its weights."""
    indices = PaletteArgmax(name="palette_argmax")(decoder.output["logits"])
    return keras.Model(decoder.input, indices, name="index_decoder")


def check_finite(finite):
    """Raises `FloatingPointError` when `finite` is false: the decoder made
    NaN or infinite logits."""
    if not finite:
        raise FloatingPointError(
            "The decoder produced NaN or infinite logits: the weights are broken "
            "(diverged training?). Reload the preset or lower the learning rate.")


def sample_colours(logits, temperature, rng, palette_size):
    """One palette index per pixel drawn from softmax(logits / temperature)
    (inverse-CDF sampling with one uniform per pixel)."""
    probs = ops.convert_to_numpy(PaletteSoftmax(temperature)(logits))
    u = rng.random(probs.shape[:-1] + (1,))
    return (probs.cumsum(-1) < u).sum(-1).clip(0, palette_size - 1)


def check_guidance(model, guidance_scale):
    """The guidance scale to use: `model.default_guidance_scale` for None,
    else a checked float >= 0 that is 1 unless the model can be guided.

    Raises:
        PalletsValueError: a bad scale, or a scale other than 1 for a model
            without labels in its decoder (or an RGBA one).
    """
    if guidance_scale is None:
        return model.default_guidance_scale
    guidance_scale = validation.check_float(
        "guidance_scale", guidance_scale, min=0,
        fix="1 follows the labels as trained; 1.5-3 follows them more closely.")
    if guidance_scale != 1.0 and not (model.is_conditional
                                      and model.representation == "onehot"):
        raise PalletsValueError(
            f"guidance_scale: classifier-free guidance steers a model's labels; "
            f"{model.variant or 'this model'} has no labels in its decoder (or draws "
            "RGBA). Leave guidance_scale at 1, or use a conditional onehot variant "
            "such as conv_cvae.")
    return guidance_scale


def guided_indices(model, inputs, scale, temperature, seed):
    """Classifier-free guidance (Ho and Salimans 2022, "Classifier-Free
    Diffusion Guidance"): logits = l(z, none) + scale * (l(z, y) - l(z, none)),
    where "none" is the all-zero label vector that `fit(label_dropout=...)`
    trains the decoder on. Runs in chunks that keep two float logit
    tensors near LOGITS_BYTES each."""
    rng = np.random.default_rng(seed)
    chunk, n = generate_batch(model.image_size, model.palette_size), len(inputs["z"])
    out = np.empty((n, *model.image_size), model.palette.index_dtype)
    for start in range(0, n, chunk):
        part = {k: v[start:start + chunk] for k, v in inputs.items()}
        cond = run(model.decoder, part, chunk)["logits"]
        part["labels"] = np.zeros_like(part["labels"])
        free = run(model.decoder, part, chunk)["logits"]
        logits = free + scale * (cond - free)
        check_finite(np.isfinite(logits).all())
        out[start:start + chunk] = (sample_colours(logits, temperature, rng,
                                                   model.palette_size)
                                    if temperature > 0 else logits.argmax(-1))
    return out


def rgba_output(model, inputs):
    """An RGBA model's decoder output for `inputs`, rounded to uint8 (N, H, W, 4)."""
    return np.round(run(model.decoder, inputs)["rgba"] * 255).astype("uint8")


def decode_indices(model, z, labels=None, temperature=0.0, seed=None, guidance_scale=1.0):
    """`PaletteAutoencoder.decode_indices`: palette indices (N, H, W) for
    latent codes z (N, D), checked; see the method for the arguments."""
    temperature = validation.check_temperature(temperature)
    seed = validation.check_seed(seed)
    guidance_scale = check_guidance(model, guidance_scale)
    z = np.asarray(z, "float32")
    # Codes as `encode` returns them and priors draw them; the latent maps
    # them to the decoder's input (the same array but for a codebook).
    d = int(np.prod(model.latent_shape))
    if z.ndim != 2 or z.shape[1] != d:
        raise PalletsValueError(f"z: latent codes must have shape (N, {d}) for this "
                                f"model, got {z.shape}.")
    if not np.isfinite(z).all():
        raise PalletsValueError(
            f"z: {int((~np.isfinite(z)).sum())} latent values are NaN or infinite; "
            "latent codes must be finite.")
    inputs = {"z": np.asarray(model.latent_component.decoder_input(model, z), "float32")}
    if model.is_conditional:
        inputs["labels"] = model.labels_array(labels, len(z))
    elif labels is not None and not model.takes_labels:
        model.labels_array(labels, len(z))  # raises the clear error
    if model.representation == "rgba":
        return model.preprocessor.snap(rgba_output(model, inputs))
    if guidance_scale != 1.0:
        return guided_indices(model, inputs, guidance_scale, temperature, seed)
    if temperature and temperature > 0:
        logits = run(model.decoder, inputs)["logits"]
        check_finite(np.isfinite(logits).all())
        return sample_colours(logits, temperature, np.random.default_rng(seed),
                              model.palette_size)
    # Argmax on the backend, compiled: only (N, H, W) int32 indices cross
    # to numpy, not the (N, H, W, K) float logits (5 GB for 10,000 punks).
    out = run(model.index_decoder, inputs,
              generate_batch(model.image_size, model.palette_size))
    check_finite(out.min(initial=0) >= 0)
    return out.astype(model.palette.index_dtype)
