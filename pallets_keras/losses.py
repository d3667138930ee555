"""Losses, each a sum per image (nats) so that figures read per image.

Models average them over the batch.
"""


from keras import ops


def palette_crossentropy(indices, logits):
    """Categorical cross-entropy of true palette indices under per-pixel logits.

    Args:
        indices: (batch, H, W) integer palette indices.
        logits: (batch, H, W, K).

    Returns:
        (batch,) negative log-likelihood of each image, in nats.

    Example:
    >>> import numpy as np
    >>> # One 1x2 image; pixel 0 has p(true colour 0) = 3/4, pixel 1 has 1/2.
    >>> logits = np.log(np.array([[[[3.0, 1.0], [1.0, 1.0]]]], "float32"))
    >>> nll = palette_crossentropy(np.array([[[0, 1]]]), logits)
    >>> round(float(ops.convert_to_numpy(nll)[0]), 4)  # log(4/3) + log(2)
    0.9808
    """
    # log-sum-exp minus the target's logit: no (batch, H, W, K) one-hot target
    # and one pass over the logits. docs/benchmarks_models.md ("Loss and
    # metric", (128, 24, 24, 222) logits) measures its gradient against
    # ops.sparse_categorical_crossentropy at 50.4 vs 68.4 ms on JAX (1.36x
    # faster), 164.5 vs 180.4 ms on torch, and 73.1 vs 70.1 ms on TF (4% slower).
    target = target_logit(indices, logits)
    return ops.sum(ops.logsumexp(logits, axis=-1) - target, axis=(1, 2))


def target_logit(indices, logits):
    """Each pixel's logit of its true colour: (batch, H, W)."""
    idx = ops.expand_dims(ops.cast(indices, "int32"), -1)
    return ops.squeeze(ops.take_along_axis(logits, idx, axis=-1), -1)


def palette_hits(indices, logits):
    """1.0 where a pixel's true colour has the highest logit, else 0.0: (batch, H, W).

    Compares the target's logit with the maximum instead of taking the
    argmax: docs/benchmarks_models.md measures 3.4 against 49.7 ms on TF,
    3.0 against 53.5 ms on JAX and 4.1 against 10.9 ms on torch (2.7-18x
    faster) for (128, 24, 24, 222) logits. The two differ only on exact ties,
    which count as hits here.

    Example:
    >>> import numpy as np
    >>> logits = np.array([[[[2.0, 1.0], [0.5, 0.5]]]], "float32")  # (1, 1, 2, 2)
    >>> ops.convert_to_numpy(palette_hits(np.array([[[0, 1]]]), logits)).tolist()
    [[[1.0, 1.0]]]
    """
    best = ops.max(logits, axis=-1)
    return ops.cast(target_logit(indices, logits) >= best, "float32")


def palette_binary_crossentropy(indices, logits):
    """The original study's loss: a sigmoid and binary cross-entropy per channel
    of the one-hot target (kept as an option; it is not a likelihood of the
    palette choice)."""
    logits = ops.convert_to_tensor(logits)
    k = ops.shape(logits)[-1]
    target = ops.one_hot(ops.cast(indices, "int32"), k, dtype=logits.dtype)
    # log(1 + exp(-|x|)) form, stable for large logits.
    per = ops.maximum(logits, 0) - logits * target + ops.log1p(ops.exp(-ops.abs(logits)))
    return ops.sum(per, axis=(1, 2, 3))


def rgba_binary_crossentropy(target_rgba, rgba):
    """Per-channel binary cross-entropy of RGBA in [0, 1], summed per image."""
    eps = 1e-6
    target_rgba, rgba = ops.convert_to_tensor(target_rgba), ops.convert_to_tensor(rgba)
    rgba = ops.clip(rgba, eps, 1 - eps)
    per = -(target_rgba * ops.log(rgba) + (1 - target_rgba) * ops.log(1 - rgba))
    return ops.sum(per, axis=(1, 2, 3))


def rgba_squared_error(target_rgba, rgba):
    """Squared error of RGBA in [0, 1], summed per image."""
    target_rgba, rgba = ops.convert_to_tensor(target_rgba), ops.convert_to_tensor(rgba)
    return ops.sum(ops.square(target_rgba - rgba), axis=(1, 2, 3))


def gaussian_kl(z_mean, z_log_var):
    """KL(N(mean, var) || N(0, 1)) summed over latent dimensions: (batch,)."""
    z_mean, z_log_var = ops.convert_to_tensor(z_mean), ops.convert_to_tensor(z_log_var)
    return -0.5 * ops.sum(1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


def categorical_kl(logits):
    """KL of each categorical q = softmax(logits) (batch, N, C) to the uniform
    prior, sum q log(C q), summed over the N variables: (batch,)."""
    c = ops.shape(logits)[-1]
    logq = ops.log_softmax(logits, axis=-1)
    q = ops.exp(logq)
    return ops.sum(q * (logq + ops.log(ops.cast(c, logq.dtype))), axis=(1, 2))


def label_binary_crossentropy(labels, label_logits):
    """Binary cross-entropy of 0/1 labels under logits, summed per image.

    Args:
        labels: (batch, L) 0/1 (or probabilities).
        label_logits: (batch, L) logits.

    Returns:
        (batch,) nats per image.
    """
    label_logits = ops.convert_to_tensor(label_logits)
    labels = ops.cast(ops.convert_to_tensor(labels), label_logits.dtype)
    per = (ops.maximum(label_logits, 0) - label_logits * labels
           + ops.log1p(ops.exp(-ops.abs(label_logits))))
    return ops.sum(per, axis=-1)
