"""The palette head's loss and argmax, computed chunk by chunk of pixels.

A one-hot model ends in a per-pixel `Dense` ("palette_head") from
`pixel_channels` features to K logits. Materialized for a whole batch, those
logits dominate training: 128 punks x 576 pixels x 222 colours = 16 M floats
(65 MB) written by the matmul, read by the log-sum-exp, the softmax of the
gradient and the accuracy, each pass memory-bound. Here the projection, the
log-sum-exp loss, the hits and the gradients are computed for `chunk_pixels`
pixels at a time (a few MB, cache-sized), so the full (pixels, K) array never
exists: the idea of fused linear cross-entropy kernels for large vocabularies
(e.g. Wijmans et al. 2024, "Cut Your Losses in Large-Vocabulary Language
Models"), written with `keras.ops` so it runs on TensorFlow, JAX and PyTorch.

The math is the same as `Dense` then `losses.palette_crossentropy` (to
float32 rounding); the backward pass recomputes each chunk's logits instead
of storing them. docs/benchmarks_models.md measures both ways per backend.
"""

from keras import ops

# 4,096 pixels x 222 colours x 4 bytes = 3.6 MB of logits per chunk: inside a
# 2-core machine's L2 + L3. bench/bench_models.py --chunks measures others.
DEFAULT_CHUNK_PIXELS = 4096


def _chunks(x, chunk):
    """(N, ...) -> (ceil(N / chunk), chunk, ...), zero-padded at the end."""
    n = ops.shape(x)[0]
    pad = (chunk - n % chunk) % chunk
    x = ops.pad(x, [[0, pad]] + [[0, 0]] * (len(x.shape) - 1))
    return ops.reshape(x, (-1, chunk) + tuple(x.shape[1:]))


def _logits(features, kernel, bias):
    return ops.matmul(features, kernel) + bias


def _fused_nll_and_hits(features, targets, kernel, bias, chunk):
    """features (N, C) float, targets (N,) float (exact palette indices),
    kernel (C, K), bias (K,) -> (N, 2): each pixel's negative log-likelihood
    (nats) and hit (1.0 when its colour has the highest logit). Only the
    first column has a gradient."""

    @ops.custom_gradient
    def fused(features, targets, kernel, bias):
        n = ops.shape(features)[0]
        f_chunks, t_chunks = _chunks(features, chunk), _chunks(targets, chunk)

        def forward(args):
            f, t = args
            logits = _logits(f, kernel, bias)
            target = ops.take_along_axis(
                logits, ops.expand_dims(ops.cast(t, "int32"), -1), axis=-1)[:, 0]
            nll = ops.logsumexp(logits, axis=-1) - target
            hit = ops.cast(target >= ops.max(logits, axis=-1), logits.dtype)
            return ops.stack([nll, hit], axis=-1)

        out = ops.reshape(ops.map(forward, (f_chunks, t_chunks)), (-1, 2))[:n]

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            u_chunks = _chunks(upstream[:, 0], chunk)
            k = ops.shape(kernel)[-1]

            def backward(args):
                f, t, u = args
                # d nll / d logits = softmax - one-hot of the target, per pixel.
                g = ops.softmax(_logits(f, kernel, bias), axis=-1)
                g = (g - ops.one_hot(ops.cast(t, "int32"), k, dtype=g.dtype)) * u[:, None]
                return ops.matmul(g, ops.transpose(kernel)), ops.matmul(ops.transpose(f), g), \
                    ops.sum(g, axis=0)

            d_f, d_kernel, d_bias = ops.map(backward, (f_chunks, t_chunks, u_chunks))
            d_f = ops.reshape(d_f, (-1, ops.shape(features)[-1]))[:n]
            return d_f, ops.zeros_like(targets), ops.sum(d_kernel, axis=0), \
                ops.sum(d_bias, axis=0)

        return out, grad

    return fused(features, targets, kernel, bias)


def palette_head_crossentropy(indices, features, kernel, bias, chunk_pixels=DEFAULT_CHUNK_PIXELS):
    """Cross-entropy of the true palette indices under `Dense(K)(features)`,
    without materializing the (batch, H, W, K) logits.

    Args:
        indices: (batch, H, W) integer palette indices.
        features: (batch, H, W, C) float, what the palette head reads.
        kernel: (C, K) float, the head's kernel. bias: (K,) float.
        chunk_pixels: int, pixels per chunk.

    Returns:
        (nll, hits): nll (batch,) float32 nats per image, equal to
        `losses.palette_crossentropy(indices, Dense(features))`; hits
        (batch, H, W) 1.0 where the true colour has the highest logit (no
        gradient), as `losses.palette_hits`.
    """
    shape = ops.shape(indices)
    c = features.shape[-1]
    flat = _fused_nll_and_hits(
        ops.reshape(features, (-1, c)), ops.reshape(ops.cast(indices, features.dtype), (-1,)),
        # Tensors, not variables: TensorFlow's custom gradient refuses
        # variables read inside the function (the copy is 16 x K floats).
        ops.copy(kernel), ops.copy(bias), chunk_pixels)
    nll = ops.sum(ops.reshape(flat[:, 0], (shape[0], -1)), axis=-1)
    hits = ops.stop_gradient(ops.reshape(flat[:, 1], shape))
    return nll, hits


def palette_head_argmax(features, kernel, bias, chunk_pixels=DEFAULT_CHUNK_PIXELS):
    """The most likely palette index per pixel of `Dense(K)(features)`, chunk by
    chunk: (batch, H, W, C) float -> (batch, H, W) int32."""
    shape = ops.shape(features)
    flat = ops.reshape(features, (-1, shape[-1]))
    n = ops.shape(flat)[0]
    best = ops.map(lambda f: ops.argmax(_logits(f, kernel, bias), axis=-1),
                   _chunks(flat, chunk_pixels))
    return ops.reshape(ops.cast(ops.reshape(best, (-1,))[:n], "int32"), shape[:-1])
