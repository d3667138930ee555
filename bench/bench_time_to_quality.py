"""Time to quality: wall time from a fresh `onehot_conv_vae` to 97% test pixel
accuracy, per backend, against the naive design; and the fit's peak memory.

Each run trains on the 9,000 training punks (punks 0-8999) with the preset's
recipe (`zoo/recipes/onehot_conv_vae.json`: beta 0.25, Adam at 2e-3 with a
cosine schedule over 30 epochs, batch 64, a 5-epoch KL warm-up) and after
every epoch measures the pixel accuracy of the reconstructions from the
posterior mean on the 1,000 test punks (`training.reconstruction_accuracy`).
The clock counts training only (compilation included), not the evaluations;
a run stops at 97% or at --cap seconds.

The naive design (bench_models.py's row 1: float one-hot in, Conv2DTranspose
to 222 channels, softmax cross-entropy) runs the same schedule; its one-hot
batches are made per batch by a `keras.utils.PyDataset` (the float one-hot of
9,000 punks would be 4.6 GB).

Peak memory is the process's maximum resident set size (`resource`) at the
end of the run, Python, the backend and the data included.

Usage:
    python bench/bench_time_to_quality.py                    # every backend, in subprocesses
    python bench/bench_time_to_quality.py --backend jax --design ours
Writes bench/results_time_to_quality.json.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BACKENDS = ("tensorflow", "jax", "torch")
TARGET = 0.97
EPOCHS = 30


def naive_accuracy(model, test):
    import numpy as np

    hits = []
    for start in range(0, len(test), 250):
        onehot = test.palette.one_hot(test.indices[start:start + 250])
        logits = model.predict(onehot, verbose=0)["logits"]
        # predict runs with training=False: GaussianSampling passes the
        # posterior mean, as for ours.
        hits.append(np.asarray(logits).argmax(-1) == test.indices[start:start + 250])
    return float(np.concatenate(hits).mean())


def run(backend, design, cap):
    os.environ["KERAS_BACKEND"] = backend
    import keras
    import numpy as np

    import pallets_keras as pk
    from pallets_keras import training
    from pallets_keras.datasets import cpunks

    ds = cpunks.load()
    train, test = ds.subset(slice(0, 9000)), ds.subset(slice(9000, 10000))
    keras.utils.set_random_seed(0)
    log = []
    clock = {"train": 0.0, "start": None}

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            clock["start"] = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            clock["train"] += time.perf_counter() - clock["start"]
            acc = (training.reconstruction_accuracy(self.model, test)["pixel_accuracy"]
                   if design == "ours" else naive_accuracy(self.model, test))
            log.append({"epoch": epoch + 1, "seconds": round(clock["train"], 1),
                        "test_pixel_accuracy": round(acc, 4)})
            print(backend, design, log[-1], flush=True)
            if acc >= TARGET or clock["train"] >= cap:
                self.model.stop_training = True

    if design == "ours":
        model = pk.models.build("onehot_conv_vae", dataset=ds, beta=0.25, seed=0)
        pk.fit(model, train, epochs=EPOCHS, batch_size=64, learning_rate=2e-3,
               lr_schedule="cosine", kl_warmup_epochs=5, seed=0, verbose=0, callbacks=[Clock()])
    else:
        sys.path.insert(0, str(ROOT / "bench"))
        from bench_models import naive_vae

        class OneHotBatches(keras.utils.PyDataset):
            def __init__(self, seed=0):
                super().__init__()
                self.order = np.random.default_rng(seed).permutation(len(train))

            def __len__(self):
                return -(-len(train) // 64)

            def __getitem__(self, i):
                rows = np.sort(self.order[i * 64:(i + 1) * 64])
                # x alone (no y): TensorFlow's data adapter refuses a None target.
                return ds.palette.one_hot(train.indices[rows])

        model = naive_vae(len(ds.palette))
        steps = EPOCHS * len(OneHotBatches())
        schedule = keras.optimizers.schedules.CosineDecay(2e-3, steps, alpha=0.01)
        model.compile(optimizer=keras.optimizers.Adam(schedule))
        model.fit(OneHotBatches(), epochs=EPOCHS, verbose=0, callbacks=[Clock()])
    reached = [e for e in log if e["test_pixel_accuracy"] >= TARGET]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"backend": backend, "design": design, "target": TARGET, "cap_seconds": cap,
            "seconds_to_target": reached[0]["seconds"] if reached else None,
            "epochs_to_target": reached[0]["epoch"] if reached else None,
            "best_accuracy": max(e["test_pixel_accuracy"] for e in log),
            "peak_rss_mib": round(rss / 1024, 1), "epochs": log}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=BACKENDS)
    parser.add_argument("--design", choices=("ours", "naive"), default="ours")
    parser.add_argument("--cap", type=float, default=600.0,
                        help="seconds of training before a run gives up (default 600)")
    parser.add_argument("--naive-cap", type=float, default=240.0)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results_time_to_quality.json"))
    parser.add_argument("--fresh", action="store_true",
                        help="measure every run again instead of keeping those in --out")
    args = parser.parse_args(argv)
    if args.backend:
        print(json.dumps(run(args.backend, args.design, args.cap)), flush=True)
        return
    # A run cut short resumes: the (backend, design) pairs already in --out
    # are kept (pass --fresh to measure them again).
    out_path = Path(args.out)
    results = [] if args.fresh or not out_path.exists() else json.loads(out_path.read_text())
    done = {(r["backend"], r["design"]) for r in results}
    for backend in BACKENDS:
        for design, cap in (("ours", args.cap), ("naive", args.naive_cap)):
            if (backend, design) in done:
                continue
            out = subprocess.run(
                [sys.executable, __file__, "--backend", backend, "--design", design,
                 "--cap", str(cap)], capture_output=True, text=True, check=True,
                # Compilation and the per-epoch evaluations come on top of the cap.
                timeout=3 * cap + 600, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps({k: v for k, v in results[-1].items() if k != "epochs"}),
                  flush=True)
            Path(args.out).write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
