"""The palette head's loss + gradient and its argmax: whole batch vs chunked.

For one batch of `onehot_conv_vae`'s head input (128 punks, 24x24 pixels,
16 features, 222 colours) times, per backend and compiled the way training
runs it (TF: tf.function with XLA; JAX: jax.jit; torch: eager):

- "dense": `Dense` logits then `losses.palette_crossentropy` and
  `losses.palette_hits` (what the presets train with), gradient w.r.t. the
  features, kernel and bias;
- "chunked N": `palette_head.palette_head_crossentropy` with N pixels per
  chunk, the same gradient;
- generation's head + argmax in a compiled `predict` (batches of 32), whole
  batch (`Dense` + `PaletteArgmax`) vs `palette_head.palette_head_argmax`.

Checks first that both give the same loss and gradients (float32 tolerance).

Usage:
    python bench/bench_palette_head.py                  # every backend, each in a subprocess
    python bench/bench_palette_head.py --backend jax    # one
Writes bench/results_palette_head.json.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ("tensorflow", "jax", "torch")
CHUNKS = (1024, 4096, 16384)


def best_ms(fn, repeats=7):
    fn()
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return round(1000 * min(times), 2)


def gradient_fn(backend, loss_fn):
    """(features, kernel, bias) -> (loss, grads), compiled as training is."""
    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function(jit_compile=True)
        def step(f, k, b):
            with tf.GradientTape() as tape:
                tape.watch([f, k, b])
                loss = loss_fn(f, k, b)
            return loss, tape.gradient(loss, [f, k, b])

        return lambda *a: [np.asarray(x) for x in tf.nest.flatten(step(*a))]
    if backend == "jax":
        import jax

        step = jax.jit(jax.value_and_grad(loss_fn, argnums=(0, 1, 2)))

        def run(*a):
            out = step(*a)
            jax.block_until_ready(out)
            return [np.asarray(x) for x in jax.tree_util.tree_leaves(out)]

        return run
    import torch

    def run(f, k, b):
        f, k, b = (x.detach().requires_grad_(True) for x in (f, k, b))
        loss = loss_fn(f, k, b)
        grads = torch.autograd.grad(loss, [f, k, b])
        return [loss.detach().numpy()] + [g.numpy() for g in grads]

    return run


def generation_speed(kernel, bias, n=2048, batch=32):
    """punks/s of the head + argmax alone in `Model.predict`: whole batch
    (`Dense` then `PaletteArgmax`, what `index_decoder` runs) vs chunked."""
    import keras

    from pallets_keras.layers import PaletteArgmax
    from pallets_keras.palette_head import palette_head_argmax

    class ChunkedArgmax(keras.layers.Layer):
        def __init__(self, head, chunk, **kwargs):
            super().__init__(**kwargs)
            self.head, self.chunk = head, chunk

        def call(self, features):
            return palette_head_argmax(features, self.head.kernel, self.head.bias, self.chunk)

        def compute_output_spec(self, features):
            return keras.KerasTensor(features.shape[:-1], dtype="int32")

    features = np.random.default_rng(1).standard_normal((n, 24, 24, 16)).astype("float32")
    inputs = keras.Input((24, 24, 16))
    head = keras.layers.Dense(len(bias))
    models = {"whole": keras.Model(inputs, PaletteArgmax()(head(inputs)))}
    head.set_weights([kernel, bias])
    for chunk in CHUNKS:
        models[f"chunked_{chunk}"] = keras.Model(inputs, ChunkedArgmax(head, chunk)(inputs))
    out = {}
    for name, model in models.items():
        model.predict(features[:batch * 2], batch_size=batch, verbose=0)
        seconds = min(_timed(lambda m=model: m.predict(features, batch_size=batch, verbose=0))
                      for _ in range(3))
        out[name] = round(n / seconds, 1)
    # The same arithmetic in NumPy (BLAS matmul + argmax, 4,096 pixels at a
    # time), outside any backend: what the head costs on this CPU without
    # a framework's per-op overhead.
    flat = features.reshape(-1, features.shape[-1])

    def numpy_head():
        for start in range(0, len(flat), 4096):
            (flat[start:start + 4096] @ kernel + bias).argmax(-1)

    numpy_head()
    out["numpy_4096"] = round(n / min(_timed(numpy_head) for _ in range(3)), 1)
    return out


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def measure(backend, batch=128):
    os.environ["KERAS_BACKEND"] = backend
    sys.path.insert(0, str(ROOT))
    import keras
    from keras import ops

    from pallets_keras import losses, palette_head

    rng = np.random.default_rng(0)
    f = rng.standard_normal((batch, 24, 24, 16)).astype("float32")
    k = (rng.standard_normal((16, 222)) * 0.3).astype("float32")
    b = (rng.standard_normal(222) * 0.1).astype("float32")
    idx = rng.integers(0, 222, (batch, 24, 24)).astype("int32")
    f_t, k_t, b_t = (ops.convert_to_tensor(x) for x in (f, k, b))
    idx_t = ops.convert_to_tensor(idx)

    def dense_loss(f, k, b):
        logits = ops.matmul(f, k) + b
        hits = losses.palette_hits(idx_t, logits)
        return ops.mean(losses.palette_crossentropy(idx_t, logits)) + 0.0 * ops.mean(
            ops.stop_gradient(hits))

    def chunked_loss(chunk):
        def loss(f, k, b):
            nll, hits = palette_head.palette_head_crossentropy(idx_t, f, k, b, chunk)
            return ops.mean(nll) + 0.0 * ops.mean(hits)
        return loss

    out = {"backend": backend, "keras": keras.version(), "batch": batch, "train_ms": {},
           "max_abs_diff": {}}
    reference = gradient_fn(backend, dense_loss)
    ref = reference(f_t, k_t, b_t)
    out["train_ms"]["dense"] = best_ms(lambda: reference(f_t, k_t, b_t))
    for chunk in CHUNKS:
        fn = gradient_fn(backend, chunked_loss(chunk))
        got = fn(f_t, k_t, b_t)
        out["max_abs_diff"][chunk] = float(max(
            np.max(np.abs(g - r)) / (np.max(np.abs(r)) + 1e-12) for g, r in zip(got, ref)))
        out["train_ms"][f"chunked_{chunk}"] = best_ms(lambda fn=fn: fn(f_t, k_t, b_t))

    # Generation's head: features -> argmax per pixel inside a compiled
    # `predict`, as the index decoder runs it (batches of 32 punks).
    out["generate_punks_per_s"] = generation_speed(k, b)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=BACKENDS)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results_palette_head.json"))
    args = parser.parse_args(argv)
    if args.backend:
        print(json.dumps(measure(args.backend)), flush=True)
        return
    results = []
    for backend in BACKENDS:
        run = subprocess.run([sys.executable, __file__, "--backend", backend],
                             capture_output=True, text=True, check=True)
        results.append(json.loads(run.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
