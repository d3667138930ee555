"""Run in a subprocess by test_cross_backend.py: loads saved models under this
process's KERAS_BACKEND and writes their logits, so they can be compared."""

import json
import sys
from pathlib import Path

import keras
import numpy as np

import pallets_keras.models  # noqa: F401  (registers the classes)


def main(folder):
    folder = Path(folder)
    spec = json.loads((folder / "spec.json").read_text())
    data = np.load(folder / "inputs.npz")
    out = {}
    for name in spec["models"]:
        model = keras.saving.load_model(folder / f"{name}.keras")
        labels = data["labels"] if model.conditioning != "none" else None
        out[name] = model.predict_logits(data["indices"], labels)
        # The saving backend's XLA choice must not carry over (jit_compile=True
        # from JAX would mean torch.compile here).
        out[name + "_jit"] = np.array(bool(model.jit_compile))
        # Weights alone, into a freshly deserialized model.
        out[name + "_weights"] = _from_weights(folder, name, data, labels)
    np.savez(folder / f"out_{keras.backend.backend()}.npz", **out)


def _from_weights(folder, name, data, labels):
    config = json.loads((folder / f"{name}.config.json").read_text())
    model = keras.saving.deserialize_keras_object(config)
    model.load_weights(folder / f"{name}.weights.h5")
    return model.predict_logits(data["indices"], labels)


if __name__ == "__main__":
    main(sys.argv[1])
