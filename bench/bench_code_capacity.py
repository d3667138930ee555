"""What limits reconstruction of unseen NetHack tiles: the code, or the body?

`bench_finetune.py` finds the fine-tuned and the scratch `onehot_conv_ae`
ending at the same held-out pixel accuracy on NetHack (about 79%), far from
the 95% target. This probe trains the presets' conv body from scratch on the
same tiles and split (16x16, 1,158 training / 204 held-out tiles, flips),
changing only the code between encoder and decoder:

- "dense D": Flatten -> Dense(D) -> Dense(4 x 4 x 64), as the presets
  (`ConvBody`; D = 128 for `onehot_conv_ae`);
- "spatial C": a 1x1 conv to C channels on the 4x4 grid and a 1x1 conv back
  (a code of 16 C values that keeps its layout; C = 64 is no compression at
  all: the encoder's own 4x4x64 features).

Everything else is the presets' body: `Embedding(K, 8)`, two stride-2 3x3
convs (32, 64), nearest upsampling + 3x3 convs (32, 16), a per-pixel
`Dense(K)` head, Adam 2e-3, batch 64. It is plain Keras (an architecture
probe, not a zoo model), trained for a fixed wall time; it reports the
pixel accuracy on the training tiles as well as on the held-out ones, which
tells underfitting (both low) from poor generalization (train high).

Usage:
    KERAS_BACKEND=jax python bench/bench_code_capacity.py            # ~8 min
    KERAS_BACKEND=jax python bench/bench_code_capacity.py --seconds 300 --codes spatial:64
Writes bench/results_code_capacity.json (appends one entry per run).
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def build(code, palette_size, image_size):
    import keras

    h, w = image_size
    kind, size = code.split(":")
    size = int(size)
    inputs = keras.Input(image_size, dtype="int32")
    x = keras.layers.Embedding(palette_size, 8)(inputs)
    x = keras.layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(x)
    x = keras.layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(x)
    if kind == "spatial":
        z = keras.layers.Conv2D(size, 1)(x)
        x = keras.layers.Conv2D(64, 1, activation="relu")(z)
    else:
        z = keras.layers.Dense(size)(keras.layers.Flatten()(x))
        x = keras.layers.Dense((h // 4) * (w // 4) * 64, activation="relu")(z)
        x = keras.layers.Reshape((h // 4, w // 4, 64))(x)
    for width in (32, 16):
        x = keras.layers.UpSampling2D()(x)
        x = keras.layers.Conv2D(width, 3, padding="same", activation="relu")(x)
    model = keras.Model(inputs, keras.layers.Dense(palette_size)(x))
    model.compile(keras.optimizers.Adam(2e-3),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model, int(np.prod(z.shape[1:]))


def run(code, seconds, work):
    import keras
    from bench_finetune import fetch_nethack

    from pallets_keras.datasets import folder

    path, options = fetch_nethack(Path(work))
    train, test = folder.load(path, **options).split(test_fraction=0.15, seed=0)
    x, held_out = train.indices.astype("int32"), test.indices.astype("int32")
    keras.utils.set_random_seed(0)
    model, code_values = build(code, len(train.palette), train.image_size)
    rng = np.random.default_rng(0)
    start, epochs = time.monotonic(), 0
    while time.monotonic() - start < seconds:
        flip = rng.random(len(x)) < 0.5
        batch = np.where(flip[:, None, None], x[:, :, ::-1], x)
        model.fit(batch, batch, batch_size=64, epochs=1, verbose=0)
        epochs += 1
    elapsed = time.monotonic() - start

    def accuracy(idx):
        return float((model.predict(idx, verbose=0).argmax(-1) == idx).mean())

    background = np.bincount(x.ravel()).argmax()
    pred = model.predict(held_out, verbose=0).argmax(-1)
    return {"backend": keras.backend.backend(), "code": code, "code_values": code_values,
            "seconds": round(elapsed, 1), "epochs": epochs,
            "train_pixel_accuracy": round(accuracy(x), 4),
            "held_out_pixel_accuracy": round(float((pred == held_out).mean()), 4),
            "held_out_not_background": round(
                float((pred == held_out)[held_out != background].mean()), 4)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--codes", nargs="+", default=["dense:128", "spatial:16", "spatial:64"])
    parser.add_argument("--seconds", type=float, default=90.0)
    parser.add_argument("--work", default="/tmp/pallets_bench_finetune")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results_code_capacity.json"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    results = json.loads(out.read_text()) if out.exists() else []
    for code in args.codes:
        results.append(run(code, args.seconds, args.work))
        print(json.dumps(results[-1]), flush=True)
        out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
