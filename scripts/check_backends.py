"""Measures every shipped preset's issue-#11 figures on this process's backend
and writes them to a JSON file, so the three backends can be compared.

    KERAS_BACKEND=jax python scripts/check_backends.py [NAME ...] \
        --out docs/samples/backends/jax.json

Per preset: reconstruction pixel accuracy on the test split (the encoder's
mean or argmax code, as `metrics.evaluate`), and the sample figures of its
default prior (`sample_quality.sample_figures`: 1,000 samples, seed 0, the
punk judge), as the zoo records them. The recorded figures were measured on
the backend the preset was trained on; `make test` re-measures each on one
backend in turn (tests/test_zoo.py, tests/test_zoo_samples.py).
`scripts/zoo_table.py` tabulates the files in docs/zoo.md ("On every backend").
"""

import argparse
import json
import sys
import time
from pathlib import Path

from pallets_keras.io_utils import atomic_write_text


def measure(names, n):
    import keras

    from pallets_keras import metrics, zoo
    from pallets_keras.datasets import cpunks
    from pallets_keras.judge import Judge
    from pallets_keras.sample_quality import sample_figures

    train, test = cpunks.load().split()
    judge = Judge.from_preset("punk_judge")
    out = {"backend": keras.backend.backend(), "keras_version": keras.version(), "presets": {}}
    for name in names or zoo.list_models():
        t0 = time.time()
        model = zoo.load(name, compile=False)
        pred = metrics.reconstruct(model, test)
        row = {"pixel_accuracy": metrics.pixel_accuracy(test.indices, pred,
                                                        model.palette)["pixel_accuracy"]}
        if any(k.startswith("sample_") for k in zoo.info(name)["metrics"]):
            row.update(sample_figures(model, judge, test, train, n=n, seed=0))
        out["presets"][name] = row
        print(f"{name}: {time.time() - t0:.0f} s, pixel accuracy {row['pixel_accuracy']:.4f}, "
              f"precision {row.get('precision', float('nan')):.3f}", flush=True)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--out", help="JSON file to write")
    args = parser.parse_args(argv)
    result = measure(args.names, args.n)
    if args.out:
        out = Path(args.out)
        if out.exists() and args.names:  # named presets update the file's other rows
            kept = json.loads(out.read_text())
            kept["presets"].update(result["presets"])
            result["presets"] = kept["presets"]
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out, json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
