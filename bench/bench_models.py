"""Training and generation speed of `onehot_conv_vae`, design choice by design choice.

Five models at equal latent size (64), each adding one choice of DESIGN.md to
the one before, so each row's gain is that choice's own:

1. naive: the original study's design. A float one-hot over the K palette
   channels into the first conv, a Conv2D encoder, a Conv2DTranspose decoder
   ending in K channels, softmax cross-entropy on the one-hot.
2. + embedding input: uint8 indices -> Embedding(K, 8) -> the same encoder;
   integer targets (no one-hot anywhere); the naive decoder.
3. + dense head: the last Conv2DTranspose narrows to 16 features per pixel and
   a per-pixel Dense (a 1x1 conv) gives the K logits.
4. + cheap upsampling: nearest-neighbour upsampling + 3x3 Conv2D instead of
   each Conv2DTranspose (the zoo presets' decoder).
5. + chunked palette head = ours (`pk.models.build("onehot_conv_vae")`):
   training computes the head's loss and gradients per 4,096 pixels
   (`pallets_keras.palette_head`) instead of materializing the logits.

Rows 2-5 are `PaletteAutoencoder`s (same loss and metrics code; rows 2-4 run
with PALLETS_KERAS_FUSED_HEAD=0); row 1 has its own minimal loss. Per-backend
choices are extra rows: row 3's Conv2DTranspose decoder with the chunked
head, XLA on TensorFlow (the default for these models; Keras leaves it off on
CPU), torch.compile on PyTorch (`jit_compile=True`), and batch sizes 64 and
256. Generation is `model.sample(10_000)` after a warm-up. A loss/metric
micro-benchmark times the reconstruction loss's gradient and the
pixel-accuracy metric on one batch of logits, each written two ways.

Roofline: a training step costs about 3 forward passes of multiply-adds
(forward, and the two products of the backward), 2 FLOP each, so the bound is
matmul FLOP/s / (6 x forward MAC per punk), with the matmul rate measured by
the same backend on this machine.

Usage:
    python bench/bench_models.py            # every backend, each in a subprocess
    python bench/bench_models.py --backend jax --out results.json   # one backend

Writes docs/benchmarks_models.md with the tables.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ("tensorflow", "jax", "torch")
N_TRAIN = 2048
BATCH = 128
STEPS = ("naive", "embedding", "dense_head", "upsampling", "ours")
EXTRA = ("transpose_chunked", "ours_xla", "transpose_chunked_xla", "ours_torch_compile",
         "ours_batch_64", "ours_batch_256")
STEP_LABELS = {"naive": "1. naive", "embedding": "2. + embedding input",
               "dense_head": "3. + dense head", "upsampling": "4. + cheap upsampling",
               "ours": "5. + chunked palette head (ours)",
               "transpose_chunked": "3 + chunked head (Conv2DTranspose decoder)",
               "ours_xla": "5. ours, XLA", "transpose_chunked_xla": "3 + chunked head, XLA",
               "ours_torch_compile": "5. ours, torch.compile",
               "ours_batch_64": "5. ours, batch 64", "ours_batch_256": "5. ours, batch 256"}
# The model each row measures, for its parameters and multiply-adds.
BASE = {"transpose_chunked": "dense_head", "transpose_chunked_xla": "dense_head"}


def naive_vae(palette_size, latent_dim=64):
    import keras
    from keras import ops

    from pallets_keras.layers import GaussianSampling

    class NaiveVAE(keras.Model):
        def __init__(self):
            onehot = keras.Input((24, 24, palette_size))
            x = keras.layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(onehot)
            x = keras.layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(x)
            x = keras.layers.Flatten()(x)
            mean = keras.layers.Dense(latent_dim)(x)
            log_var = keras.layers.Dense(latent_dim)(x)
            z = GaussianSampling(seed=0)([mean, log_var])
            y = keras.layers.Dense(6 * 6 * 64, activation="relu")(z)
            y = keras.layers.Reshape((6, 6, 64))(y)
            y = keras.layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(y)
            logits = keras.layers.Conv2DTranspose(palette_size, 3, strides=2, padding="same")(y)
            super().__init__(onehot, {"logits": logits, "mean": mean, "log_var": log_var})

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            rec = ops.sum(keras.losses.categorical_crossentropy(
                x, y_pred["logits"], from_logits=True), axis=(1, 2))
            kl = -0.5 * ops.sum(1 + y_pred["log_var"] - ops.square(y_pred["mean"])
                                - ops.exp(y_pred["log_var"]), axis=-1)
            return ops.mean(rec + kl)

    return NaiveVAE()


def transpose_decoder_vae(palette, dense_head):
    """Steps 2 and 3: our encoder (embedding input) with a Conv2DTranspose
    decoder, ending in K channels or in 16 features + a per-pixel Dense."""
    import keras

    from pallets_keras.models import parts
    from pallets_keras.models.autoencoder import PaletteAutoencoder
    from pallets_keras.models.variants import variant_config

    cfg = variant_config("onehot_conv_vae", palette=palette, image_size=(24, 24))
    k = len(palette)
    z = keras.Input((cfg["latent_dim"],), name="z")
    y = keras.layers.Dense(6 * 6 * 64, activation="relu")(z)
    y = keras.layers.Reshape((6, 6, 64))(y)
    y = keras.layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(y)
    if dense_head:
        y = keras.layers.Conv2DTranspose(cfg["pixel_channels"], 3, strides=2, padding="same",
                                         activation="relu")(y)
        logits = keras.layers.Dense(k, name="palette_head")(y)
    else:
        logits = keras.layers.Conv2DTranspose(k, 3, strides=2, padding="same",
                                              name="palette_head")(y)
    decoder = keras.Model({"z": z}, {"logits": logits}, name="decoder")
    return PaletteAutoencoder(parts.build_encoder(cfg), decoder, representation="onehot",
                              latent="gaussian", palette_colors=cfg["palette_colors"], seed=0)


def train_speed(model, x, epochs=3, jit_compile="auto", batch=BATCH):
    from pallets_keras.optimizers import Adam

    model.compile(optimizer=Adam(1e-3), jit_compile=jit_compile)
    model.fit(x, batch_size=batch, epochs=1, verbose=0)  # compile + warm up
    best = float("inf")
    for _ in range(epochs):
        t = time.perf_counter()
        model.fit(x, batch_size=batch, epochs=1, verbose=0, shuffle=False)
        best = min(best, time.perf_counter() - t)
    return N_TRAIN / best


def forward_macs_per_image(model):
    """Multiply-adds of one image's forward pass through Conv2D, Conv2DTranspose
    and Dense layers (the rest is negligible)."""
    import keras

    total = 0
    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose)):
            k = layer.kernel.shape  # (kh, kw, in, out) for both
            # Conv2DTranspose: every input pixel scatters a kh x kw x out patch.
            pixels = (layer.input.shape[1] * layer.input.shape[2]
                      if isinstance(layer, keras.layers.Conv2DTranspose)
                      else layer.output.shape[1] * layer.output.shape[2])
            total += pixels * k[0] * k[1] * k[2] * k[3]
        elif isinstance(layer, keras.layers.Dense):
            positions = 1
            for d in layer.output.shape[1:-1]:
                positions *= d
            total += positions * layer.kernel.shape[0] * layer.kernel.shape[1]
    return total


def loss_microbench(palette_size):
    """ms per call on one (128, 24, 24, K) batch: gradient of the reconstruction
    loss, and the pixel-accuracy metric, each two ways, compiled as the models
    are (XLA on TF and JAX, eager torch)."""
    import keras
    import numpy as np
    from keras import ops

    from pallets_keras import losses

    rng = np.random.default_rng(0)
    logits = ops.convert_to_tensor(rng.standard_normal((BATCH, 24, 24, palette_size)),
                                   "float32")
    target = ops.convert_to_tensor(rng.integers(0, palette_size, (BATCH, 24, 24)), "int32")

    def keras_sparse(lg, t):
        return ops.sum(ops.sparse_categorical_crossentropy(t, lg, from_logits=True))

    def ours_loss(lg, t):
        return ops.sum(losses.palette_crossentropy(t, lg))

    def argmax_acc(lg, t):
        return ops.mean(ops.cast(ops.equal(ops.cast(ops.argmax(lg, -1), "int32"), t),
                                 "float32"))

    def ours_acc(lg, t):
        return ops.mean(losses.palette_hits(t, lg))

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        def grad(f):
            def g(lg, t):
                with tf.GradientTape() as tape:
                    tape.watch(lg)
                    y = f(lg, t)
                return tape.gradient(y, lg)
            return g

        def compiled(f):  # as our models train on TF: with XLA
            return tf.function(f, jit_compile=True)
    elif backend == "jax":
        import jax

        grad, compiled = jax.grad, jax.jit
    else:
        def grad(f):
            def g(lg, t):
                lg = lg.detach().requires_grad_(True)
                f(lg, t).backward()
                return lg.grad
            return g

        def compiled(f):
            return f

    def ms(fn):
        fn(logits, target)
        best = float("inf")
        for _ in range(5):
            t = time.perf_counter()
            ops.convert_to_numpy(fn(logits, target))
            best = min(best, time.perf_counter() - t)
        return round(best * 1000, 1)

    return {"loss_grad_keras_sparse_ms": ms(compiled(grad(keras_sparse))),
            "loss_grad_ours_ms": ms(compiled(grad(ours_loss))),
            "accuracy_argmax_ms": ms(compiled(argmax_acc)),
            "accuracy_ours_ms": ms(compiled(ours_acc))}


def matmul_gflops():
    """The machine's dense float32 throughput on this backend (1024^3 matmul)."""
    import numpy as np
    from keras import ops

    a = ops.convert_to_tensor(np.random.default_rng(0).standard_normal((1024, 1024)), "float32")
    ops.convert_to_numpy(ops.matmul(a, a))
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        ops.convert_to_numpy(ops.matmul(a, a))
        best = min(best, time.perf_counter() - t)
    return 2 * 1024 ** 3 / best / 1e9


def run_one(backend):
    os.environ["KERAS_BACKEND"] = backend
    import keras

    import pallets_keras as pk
    from pallets_keras.datasets import cpunks

    ds = cpunks.load()
    idx = ds.indices[:N_TRAIN]
    k = len(ds.palette)
    result = {"backend": backend, "keras": keras.__version__, "train": {}, "params": {},
              "macs": {}, "failed": {}}
    # Keras' own default everywhere (no XLA on TF CPU, eager torch) unless the
    # row says otherwise.
    plain = False if backend == "tensorflow" else "auto"
    rows = [(step, step, plain, BATCH) for step in STEPS]
    rows += [("transpose_chunked", "transpose_chunked", plain, BATCH),
             ("ours_batch_64", "ours", plain, 64), ("ours_batch_256", "ours", plain, 256)]
    if backend == "tensorflow":
        rows += [("ours_xla", "ours", True, BATCH),
                 ("transpose_chunked_xla", "transpose_chunked", True, BATCH)]
    if backend == "torch":
        rows += [("ours_torch_compile", "ours", True, BATCH)]
    for key, design, jit, batch in rows:
        keras.utils.set_random_seed(0)
        # Rows 2-4 materialize the logits; 5 and the chunked extras do not.
        os.environ["PALLETS_KERAS_FUSED_HEAD"] = (
            "0" if design in ("embedding", "dense_head", "upsampling") else "1")
        if design == "naive":
            model, x = naive_vae(k), ds.palette.one_hot(idx)
        elif design in ("upsampling", "ours"):
            model, x = pk.models.build("onehot_conv_vae", dataset=ds), {"indices": idx}
        else:
            model = transpose_decoder_vae(ds.palette, dense_head=design != "embedding")
            x = {"indices": idx}
        try:
            result["train"][key] = round(train_speed(model, x, jit_compile=jit, batch=batch), 1)
        except Exception as error:  # e.g. torch.compile failing on this machine
            result["failed"][key] = f"{type(error).__name__}: {str(error)[:200]}"
            print(backend, key, "failed:", result["failed"][key], flush=True)
            continue
        if key in STEPS:
            result["params"][key] = int(model.count_params())
            result["macs"][key] = forward_macs_per_image(model)
        print(backend, key, result["train"][key], "punks/s", flush=True)
    os.environ["PALLETS_KERAS_FUSED_HEAD"] = "1"
    ours = pk.zoo.load("onehot_conv_vae")
    result["decoder_macs"] = forward_macs_per_image(ours.decoder)
    ours.sample(1024, seed=0)  # compiles the (padded) batch shape
    best = float("inf")
    for seed in range(3):
        t = time.perf_counter()
        ours.sample(10_000, seed=seed)
        best = min(best, time.perf_counter() - t)
    result["generate_punks_per_s"] = round(10_000 / best, 1)
    result["matmul_gflops"] = round(matmul_gflops(), 1)
    result["micro"] = loss_microbench(k)
    return result


# Rows that are "ours" with a per-backend choice: the best one is what the
# backend can get (and what the targets are judged on).
OURS_ROWS = ("ours", "ours_xla", "ours_torch_compile", "ours_batch_64", "ours_batch_256",
             "transpose_chunked", "transpose_chunked_xla")


def best_ours(r):
    key = max((k for k in OURS_ROWS if k in r["train"]), key=lambda k: r["train"][k])
    return key, r["train"][key]


def roofline(r, key):
    """punks/s the measured matmul rate allows for this row's model."""
    macs = r["macs"][BASE.get(key, "ours")]
    return r["matmul_gflops"] * 1e9 / (6 * macs)


def write_doc(rows):
    fastest = max(best_ours(r)[1] for r in rows)
    lines = [
        "# Model speed: `onehot_conv_vae`, one design choice at a time",
        "",
        f"Measured by `bench/bench_models.py` on this machine (2 CPU cores, no GPU), batch "
        f"{BATCH} unless a row says otherwise, {N_TRAIN} real punks, best of 3 epochs after "
        "a warm-up epoch, latent 64 throughout. Rows 1-5 each add one choice to the row "
        "above; the rows below them are per-backend choices (the script's docstring has the "
        "exact models). Time to quality, memory and the palette head alone are further down.",
        "",
        "## Training, punks/s",
        "",
        "| design | params | forward MMAC/punk | " + " | ".join(r["backend"] for r in rows)
        + " |",
        "| --- | --- | --- | " + " | ".join("---" for _ in rows) + " |",
    ]
    first = rows[0]
    for step in STEPS + EXTRA:
        if not any(step in r["train"] or step in r.get("failed", {}) for r in rows):
            continue
        cells = []
        for r in rows:
            v = r["train"].get(step)
            cells.append(("failed" if step in r.get("failed", {}) else "-") if v is None else
                         f"{v:.0f} ({v / r['train']['naive']:.1f}x)")
        base = step if step in STEPS else BASE.get(step, "ours")
        lines.append(f"| {STEP_LABELS[step]} | {first['params'][base]:,} | "
                     f"{first['macs'][base] / 1e6:.1f} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "In brackets: speed relative to the naive design on the same backend. "
        "JAX always compiles with XLA; torch runs eagerly unless the row says torch.compile.",
    ]
    for r in rows:
        for key, error in r.get("failed", {}).items():
            lines.append(f"- {r['backend']}, {STEP_LABELS[key]}: {error}")
    lines += [
        "",
        "## Targets",
        "",
        "| backend | best choice | punks/s | vs naive | vs fastest backend | roofline punks/s "
        "| share of roofline | generate punks/s | matmul GFLOP/s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        key, b = best_ours(r)
        bound = roofline(r, key)
        lines.append(f"| {r['backend']} | {STEP_LABELS[key]} | {b:.0f} | "
                     f"{b / r['train']['naive']:.1f}x | {fastest / b:.2f}x slower | "
                     f"{bound:,.0f} | {b / bound:.0%} | {r['generate_punks_per_s']:,.0f} | "
                     f"{r['matmul_gflops']:.0f} |")
    lines += [
        "",
        "## Loss and metric, ms per batch of (128, 24, 24, 222) logits",
        "",
        "| backend | loss gradient, `ops.sparse_categorical_crossentropy` | loss gradient, "
        "log-sum-exp minus target logit | accuracy, argmax | accuracy, target logit "
        ">= max |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        m = r["micro"]
        lines.append(f"| {r['backend']} | {m['loss_grad_keras_sparse_ms']} | "
                     f"{m['loss_grad_ours_ms']} | {m['accuracy_argmax_ms']} | "
                     f"{m['accuracy_ours_ms']} |")
    lines += head_section() + time_to_quality_section()
    lines += ["", "<!-- analysis -->", ""]
    (ROOT / "docs").mkdir(exist_ok=True)
    from pallets_keras.io_utils import atomic_write_text

    doc = ROOT / "docs" / "benchmarks_models.md"
    # Keep the hand-written analysis below the marker across re-runs.
    analysis = ""
    if doc.exists() and "<!-- analysis -->" in doc.read_text():
        analysis = doc.read_text().split("<!-- analysis -->", 1)[1].lstrip("\n")
    atomic_write_text(doc, "\n".join(lines) + analysis)
    (ROOT / "bench" / "results_models.json").write_text(json.dumps(rows, indent=1) + "\n")
    print("\n".join(lines))


def head_section():
    """The palette head alone (bench_palette_head.py), if it has run."""
    path = ROOT / "bench" / "results_palette_head.json"
    if not path.exists():
        return []
    rows = json.loads(path.read_text())
    chunks = [k for k in rows[0]["train_ms"] if k != "dense"]
    out = ["", "## The palette head alone: loss + gradient, ms per batch of 128 punks",
           "", "From `bench/bench_palette_head.py`: features (128, 24, 24, 16) -> 222 logits, "
           "compiled as training runs it (TF with XLA, JAX jit, torch eager). \"whole\" "
           "materializes the logits (Dense + `losses.palette_crossentropy` + hits); "
           "\"chunked N\" is `palette_head.palette_head_crossentropy` with N pixels per "
           "chunk. Largest relative gap between the two ways' loss and gradients in brackets.",
           "", "| backend | whole | " + " | ".join(c.replace("_", " ") for c in chunks) + " |",
           "| --- | --- | " + " | ".join("---" for _ in chunks) + " |"]
    for r in rows:
        cells = [f"{r['train_ms'][c]} ({r['max_abs_diff'][c.split('_')[1]]:.0e})"
                 for c in chunks]
        out.append(f"| {r['backend']} | {r['train_ms']['dense']} | " + " | ".join(cells) + " |")
    gen = list(rows[0]["generate_punks_per_s"])
    out += ["", "Generation's head alone: features -> argmax per pixel in a compiled "
            "`predict`, batches of 32, punks/s (\"whole\": `Dense` + `PaletteArgmax`, what "
            "`index_decoder` runs).", "",
            "| backend | " + " | ".join(g.replace("_", " ") for g in gen) + " |",
            "| --- | " + " | ".join("---" for _ in gen) + " |"]
    for r in rows:
        out.append(f"| {r['backend']} | "
                   + " | ".join(f"{r['generate_punks_per_s'][g]:,.0f}" for g in gen) + " |")
    return out


def time_to_quality_section():
    """Time to 97% and peak memory (bench_time_to_quality.py), if it has run."""
    path = ROOT / "bench" / "results_time_to_quality.json"
    if not path.exists():
        return []
    rows = json.loads(path.read_text())
    out = ["", "## Time to quality and memory",
           "", "From `bench/bench_time_to_quality.py`: a fresh model trained on the 9,000 "
           "training punks with the `onehot_conv_vae` recipe until the reconstructions from "
           "the posterior mean reach 97% pixel accuracy on the 1,000 test punks (training "
           "time only, compilation included, evaluations excluded), or until the cap. Peak "
           "memory: the process's maximum resident set size.",
           "", "| backend | design | seconds to 97% | epochs | best accuracy | cap, s "
           "| peak memory, MiB |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        secs = "not reached" if r["seconds_to_target"] is None else f"{r['seconds_to_target']:.0f}"
        epochs = r["epochs_to_target"] or f"{len(r['epochs'])} run"
        out.append(f"| {r['backend']} | {r['design']} | {secs} | {epochs} | "
                   f"{r['best_accuracy']:.2%} | {r['cap_seconds']:.0f} | "
                   f"{r['peak_rss_mib']:,.0f} |")
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--backend", choices=BACKENDS)
    p.add_argument("--out")
    args = p.parse_args()
    if args.backend:
        result = run_one(args.backend)
        Path(args.out).write_text(json.dumps(result)) if args.out else print(json.dumps(result))
        return
    rows = []
    for b in BACKENDS:
        out = ROOT / "bench" / f".result_{b}.json"
        subprocess.run([sys.executable, __file__, "--backend", b, "--out", str(out)], check=True,
                       env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        rows.append(json.loads(out.read_text()))
        out.unlink()
    write_doc(rows)


if __name__ == "__main__":
    main()
