"""Weights and `.keras` files saved under this backend load under the two
others, in fresh processes, with the same outputs (logits within 1e-4).
Run once per backend, the suite covers all six ordered pairs; a reload under
the same backend is `test_models.test_keras_save_load_identical`."""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import pallets_keras as pk

BACKENDS = ("tensorflow", "jax", "torch")
OTHERS = tuple(b for b in BACKENDS if b != keras.backend.backend())
MODELS = ("onehot_conv_vae", "cvae", "earring_gsvae", "rgba_conv_ae")
WORKER = Path(__file__).with_name("_backend_worker.py")


@pytest.fixture(scope="module")
def saved(tmp_path_factory, tiny_dataset):
    folder = tmp_path_factory.mktemp(f"saved_{keras.backend.backend()}")
    expected = {}
    for name in MODELS:
        model = pk.models.build(name, palette=tiny_dataset.palette, image_size=(8, 8),
                                label_names=tiny_dataset.label_names, filters=(8, 16),
                                units=(16,), latent_dim=5, categorical_dim=3, seed=1)
        pk.fit(model, tiny_dataset, epochs=1, batch_size=32, verbose=0, seed=0)
        model.save(folder / f"{name}.keras")
        model.save_weights(folder / f"{name}.weights.h5")
        (folder / f"{name}.config.json").write_text(
            json.dumps(keras.saving.serialize_keras_object(model)))
        labels = tiny_dataset.labels if model.conditioning != "none" else None
        expected[name] = model.predict_logits(tiny_dataset.indices, labels)
    np.savez(folder / "inputs.npz", indices=tiny_dataset.indices,
             labels=tiny_dataset.labels.astype("float32"))
    (folder / "spec.json").write_text(json.dumps({"models": list(MODELS)}))
    return folder, expected


@pytest.mark.slow
@pytest.mark.parametrize("target", OTHERS)
def test_load_under_each_backend(saved, target):
    folder, expected = saved
    env = {**os.environ, "KERAS_BACKEND": target, "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = subprocess.run([sys.executable, str(WORKER), str(folder)], env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    got = np.load(folder / f"out_{target}.npz")
    for name in MODELS:
        if target == "torch":
            assert not got[name + "_jit"], f"{name}: torch.compile switched on by the file"
        for key in (name, name + "_weights"):
            np.testing.assert_allclose(got[key], expected[name], atol=1e-4, rtol=0,
                                       err_msg=f"{key}: {keras.backend.backend()} -> {target}")
