"""Hyperparameter search (pallets_keras.tuning) on the current backend.

In-process: the HyperModels of the four families, a two-trial search with the
best model rebuilt from the tuner, bad input, the `pallets tune` command
(pallets_keras.cli.tune).
In subprocesses (once per backend run, always cleaned up): a search killed
with SIGKILL mid-trial and resumed, a chief and two workers on 127.0.0.1,
and data-parallel training (JAX on two virtual CPU devices, TensorFlow
MirroredStrategy on two logical CPUs; torch: a clear error).
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import keras
import keras_tuner as kt
import numpy as np
import pytest

from pallets_keras import hypermodels, training, tuning

BACKEND = keras.backend.backend()
ROOT = Path(__file__).resolve().parents[1]
# Small sizes for 8x8 sprites (one conv stage, narrow layers): the search
# still varies learning rate, beta, warm-up, temperature, ...
SMALL = {"conv_filters": 8, "conv_stages": 1, "conv_dense_units": 0, "dense_layers": 1,
         "dense_units": 64, "embedding_dim": 4, "pixel_channels": 6, "latent_dim": 8,
         "categorical_dim": 4, "batch_size": 32}
VARIANT = "labeled_conv_cvae"  # the in-process search
FAMILY_VARIANTS = {"ae": "onehot_conv_ae", "vae": "onehot_vae", "cvae": "labeled_conv_cvae",
                   "gumbel": "gsvae"}


def small(variant, dataset):
    names = tuning.hypermodel(variant, dataset).space_names()
    return {k: v for k, v in SMALL.items() if k in names}


def small_hp(variant, dataset):
    hp = kt.HyperParameters()
    for k, v in small(variant, dataset).items():
        hp.Fixed(k, v)
    return hp


# ------------------------------------------------------------ hypermodels
@pytest.mark.parametrize("fam", sorted(FAMILY_VARIANTS))
def test_hypermodel_per_family(fam, tiny_dataset):
    variant = FAMILY_VARIANTS[fam]
    hm = tuning.hypermodel(variant, tiny_dataset, epochs=4)
    assert isinstance(hm, tuning.HYPERMODELS[fam]) and hm.family == fam
    names = set(hm.space_names())
    assert {"learning_rate", "batch_size", "latent_dim", "pixel_channels"} <= names
    assert ({"conv_stages", "conv_filters"} if "conv" in variant
            else {"dense_layers", "dense_units"}) <= names
    if fam == "ae":
        assert not names & {"beta", "kl_warmup_fraction"}
    else:
        assert {"beta", "kl_warmup_fraction"} <= names
    if fam == "cvae":
        assert "label_weight" in names  # labeled_conv_cvae reconstructs its labels
    if fam == "gumbel":
        assert {"categorical_dim", "hard", "tau0", "tau_min", "tau_rate"} <= names
    hp = small_hp(variant, tiny_dataset)
    model = hm.build(hp)
    assert model.variant == variant and model.image_size == (8, 8)
    assert model.palette == tiny_dataset.palette
    if fam == "gumbel":
        assert model.latent_shape == (hp.get("latent_dim"), hp.get("categorical_dim"))
        opts = hm.fit_options(hp)
        assert set(opts["temperature"]) == {"tau0", "tau_min", "rate"}
    else:
        assert model.latent_shape == (hp.get("latent_dim"),)
    if fam in ("vae", "cvae", "gumbel"):
        hp.values["kl_warmup_fraction"] = 0.5
        assert hm.fit_options(hp)["kl_warmup_epochs"] == 2
    # The metric names the objective check allows are the ones the model logs.
    model.compile(optimizer="adam")
    assert sorted(m.name for m in model.metrics) == sorted(
        tuning.logged_metrics(variant, validation=False))


def test_set_random_seed_matches_keras(tiny_dataset):
    hm = tuning.hypermodel("onehot_vae", tiny_dataset)
    weights = []
    from pallets_keras.random_utils import set_random_seed

    for seed_fn in (set_random_seed, keras.utils.set_random_seed):
        seed_fn(7)
        weights.append(hm.build(small_hp("onehot_vae", tiny_dataset)).get_weights())
        draw = (np.random.rand(), __import__("random").random())
        weights[-1].append(np.array(draw))
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_conv_body_depth_follows_image_size():
    assert hypermodels.max_conv_stages((8, 8)) == 3
    assert hypermodels.max_conv_stages((24, 24)) == 3
    assert hypermodels.max_conv_stages((12, 20)) == 2
    assert hypermodels.max_conv_stages((6, 6)) == 1
    assert hypermodels.max_conv_stages((7, 8)) == 0


# ----------------------------------------------------------------- search
@pytest.fixture(scope="module")
def searched(tiny_dataset, tmp_path_factory):
    """A two-trial random search of labeled_conv_cvae, counting session clears."""
    directory = tmp_path_factory.mktemp("search")
    calls = []
    clear = keras.backend.clear_session

    def counting_clear(*args, **kwargs):
        calls.append(1)
        return clear(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(keras.backend, "clear_session", counting_clear)
        t0 = time.time()
        result = tuning.search(VARIANT, tiny_dataset, tuner="random", max_trials=2,
                               epochs=1, directory=directory, seed=0, verbose=0,
                               fixed=small(VARIANT, tiny_dataset))
        seconds = time.time() - t0
    return {"dir": directory, "result": result, "clears": len(calls), "seconds": seconds}


def read_log(directory):
    path = Path(directory) / "search" / tuning.RUN_LOG
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_search_two_trials_and_best_model(searched, tiny_dataset):
    best_model, best_hp, table = searched["result"]
    assert [r["status"] for r in table] == ["COMPLETED", "COMPLETED"]
    assert table[0]["score"] <= table[1]["score"]
    assert {"loss", "val_loss", "val_kl_loss", "val_label_loss", "val_pixel_accuracy"} <= set(
        table[0]["metrics"])
    assert table[0]["score"] == pytest.approx(table[0]["metrics"]["val_loss"])
    assert best_hp.values == table[0]["hyperparameters"]
    assert table[0]["hyperparameters"] != table[1]["hyperparameters"]
    # The best model is rebuilt by the tuner with the best trial's checkpoint.
    from pallets_keras.models import PaletteAutoencoder

    assert isinstance(best_model, PaletteAutoencoder)
    assert best_model.build_options["filters"] == [8]
    assert best_model.build_options["latent_dim"] == 8
    ckpt = searched["dir"] / "search" / f"trial_{table[0]['trial_id']}" / "checkpoint.weights.h5"
    assert ckpt.exists()
    ref = tuning.hypermodel(VARIANT, tiny_dataset).build(best_hp)
    ref.load_weights(ckpt)
    for a, b in zip(best_model.get_weights(), ref.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert best_model.optimizer is not None
    rgba = best_model.reconstruct(tiny_dataset.indices[:2], labels=tiny_dataset.labels[:2])
    assert rgba.shape == (2, 8, 8, 4)
    # One run per trial, each logged, and the session cleared between trials.
    log = read_log(searched["dir"])
    assert Counter(e["event"] for e in log) == {"start": 2, "end": 2}
    assert searched["clears"] >= 2
    marker = json.loads((searched["dir"] / tuning.MARKER_FILE).read_text())
    assert marker["variant"] == VARIANT and marker["tuner"] == "random"


def test_search_again_resumes_without_rerunning(searched, tiny_dataset):
    model, hp, table = tuning.search(
        VARIANT, tiny_dataset, tuner="random", max_trials=2, epochs=1,
        directory=searched["dir"], seed=0, verbose=0, fixed=small(VARIANT, tiny_dataset))
    assert len(read_log(searched["dir"])) == 4  # no new trial ran
    assert [r["trial_id"] for r in table] == [r["trial_id"] for r in searched["result"][2]]
    assert hp.values == searched["result"][1].values


# -------------------------------------------------------------- bad input
def test_bad_input(searched, tiny_dataset, tmp_path):
    def search(variant="onehot_conv_vae", **kw):
        kw.setdefault("directory", tmp_path / "s")
        kw.setdefault("tuner", "random")
        return tuning.search(variant, tiny_dataset, max_trials=kw.pop("max_trials", 2),
                             epochs=1, verbose=0, **kw)

    with pytest.raises(ValueError, match="Unknown variant 'onehot_convae'.*onehot_conv_ae"):
        search("onehot_convae")
    with pytest.raises(ValueError, match="max_trials must be an int >= 1"):
        search(max_trials=0)
    with pytest.raises(ValueError, match="tuner must be one of"):
        search(tuner="grid")
    with pytest.raises(ValueError, match=r"objective='val_label_loss' is not a metric "
                                         r"onehot_conv_vae logs.*val_kl_loss"):
        search(objective="val_label_loss")
    with pytest.raises(ValueError, match="objective='kl_loss' is not a metric onehot_conv_ae"):
        search("onehot_conv_ae", objective="kl_loss")
    with pytest.raises(ValueError, match="needs validation data"):
        search(validation_split=None)
    with pytest.raises(ValueError, match="unknown hyperparameters.*categorical_dim"):
        search(fixed={"categorical_dim": 4})
    with pytest.raises(ValueError, match=r"holds a search with variant='labeled_conv_cvae', "
                                         r"not 'onehot_conv_vae'.*overwrite=True"):
        search("onehot_conv_vae", directory=searched["dir"])
    with pytest.raises(ValueError, match="tuner='random', not 'hyperband'"):
        search(VARIANT, directory=searched["dir"], tuner="hyperband")
    unlabeled = tiny_dataset.select_labels([])
    unlabeled.labels, unlabeled.label_names = None, []
    with pytest.raises(ValueError, match="conditioned on labels and the data set has none"):
        tuning.search("cvae", unlabeled, tuner="random", directory=tmp_path / "c")
    assert not (tmp_path / "s" / "search").exists()  # nothing ran


@pytest.mark.backend_independent  # plumbing: its model work is tested per backend
def test_bayesian_search(tiny_dataset, tmp_path):
    """KerasTuner's Bayesian oracle (scikit-learn is a dependency): two trials."""
    import sklearn  # noqa: F401  (a hard dependency: a broken install fails here)
    best_model, best_hp, table = tuning.search(
        "onehot_vae", tiny_dataset, tuner="bayesian", max_trials=2, epochs=1,
        directory=tmp_path, seed=0, verbose=0, fixed=small("onehot_vae", tiny_dataset))
    assert [r["status"] for r in table] == ["COMPLETED", "COMPLETED"]
    assert best_model.variant == "onehot_vae" and best_hp is not None


# --------------------------------------------------------------------- CLI
@pytest.mark.backend_independent  # plumbing: its model work is tested per backend
def test_tune_command(tiny_dataset, tmp_path, capsys):
    from PIL import Image

    from pallets_keras import cli, zoo

    sprites = tmp_path / "sprites"
    sprites.mkdir()
    for i, img in enumerate(tiny_dataset.rgba()):
        Image.fromarray(img, "RGBA").save(sprites / f"{i:03d}.png")
    fix = [f"--fix={k}={v}" for k, v in small("gsvae", tiny_dataset).items()]
    argv = ["tune", "gsvae", "--trials", "1", "--epochs", "1", "--dir", str(tmp_path / "run"),
            "--data", str(sprites), "--tuner", "hyperband", "--backend", BACKEND, *fix]
    assert cli.main(argv) == 0
    captured = capsys.readouterr()
    out = captured.out
    assert "trial  status" in out and "COMPLETED" in out and "best_model" in out
    # Trials count from 1 in the table and the summary, as in KerasTuner's log.
    first_row = out.split("trial  status", 1)[1].strip().splitlines()[2]
    assert first_row.split()[0] == "1" and "Best trial 1:" in out
    assert "Epoch" not in out  # progress goes to stderr
    summary = json.loads((tmp_path / "run" / "best.json").read_text())
    assert summary["variant"] == "gsvae" and summary["tuner"] == "hyperband"
    assert summary["best_hyperparameters"]["categorical_dim"] == 4
    assert "val_loss" in summary["best_metrics"] and len(summary["table"]) == 1
    assert summary["best_trial_number"] == "1"
    model = zoo.load(str(tmp_path / "run" / "best_model"))
    assert model.variant == "gsvae" and model.latent_shape == (8, 4)
    assert zoo.info(str(tmp_path / "run" / "best_model"))["tuning"]["tuner"] == "hyperband"
    # Bad input is an error message and exit status 2, not a traceback.
    with pytest.raises(SystemExit) as e:  # refused by the option's type
        cli.main(["tune", "gsvae", "--trials", "0", "--dir", str(tmp_path / "x"), "--data",
                  str(sprites), "--tuner", "random"])
    assert e.value.code == 2
    assert "--trials: must be a whole number > 0" in capsys.readouterr().err
    assert cli.main(["tune", "gsvae", "--objective", "val_label_loss", "--dir",
                     str(tmp_path / "y"), "--data", str(sprites), "--tuner", "random"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not a metric gsvae logs" in err[0], err


# ------------------------------------------------------------ subprocesses
SCRIPT = r'''
import json, os, sys, time
MODE, DATA, DIRECTORY, OUT, SMALL = sys.argv[1:6]
if MODE == "mirrored":  # two logical CPUs, before TensorFlow starts
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import numpy as np
import keras
from pallets_keras import Palette, training, tuning
from pallets_keras.datasets import PixelDataset

d = np.load(DATA)
ds = PixelDataset(Palette(d["colors"]), d["indices"], d["labels"], [str(n) for n in d["names"]])
SMALL = json.loads(SMALL)
STARTS = [0]


class Hang(keras.callbacks.Callback):
    """In the second trial, tell the test and wait to be killed."""
    def on_train_begin(self, logs=None):
        STARTS[0] += 1

    def on_train_batch_end(self, batch, logs=None):
        if os.environ.get("PK_HANG") and STARTS[0] == 2:
            open(os.path.join(DIRECTORY, "hanging"), "w").close()
            time.sleep(600)


class Barrier(keras.callbacks.Callback):
    """Each worker's first trial waits until the other worker runs one too."""
    def on_train_begin(self, logs=None):
        d = os.path.join(DIRECTORY, "barrier")
        os.makedirs(d, exist_ok=True)
        open(os.path.join(d, os.environ["KERASTUNER_TUNER_ID"]), "w").close()
        deadline = time.time() + 90
        while len(os.listdir(d)) < 2 and time.time() < deadline:
            time.sleep(0.05)


class Devices(keras.callbacks.Callback):
    """Records how many devices the trained replica's variables live on."""
    def on_train_begin(self, logs=None):
        v = self.model.trainable_variables[0]
        if keras.backend.backend() == "jax":
            self.devices = len(v.value.sharding.device_set)
        else:
            self.devices = len(getattr(v.value, "values", [v]))


result = {"backend": keras.backend.backend()}
if MODE in ("resume", "dist"):
    variant = "onehot_conv_ae"
    cb = Hang() if MODE == "resume" else Barrier()
    model, hp, table = tuning.search(variant, ds, tuner="random", max_trials=2, epochs=1,
                                     directory=DIRECTORY, fixed=SMALL, verbose=0,
                                     callbacks=[cb])
    result.update(table=table, best_hp=hp.values if hp else None,
                  best_model=model is not None)
else:  # data-parallel training
    import keras_tuner
    hp = keras_tuner.HyperParameters()
    for k, v in SMALL.items():
        hp.Fixed(k, v)
    model = tuning.hypermodel("onehot_vae", ds).build(hp)
    try:
        training.fit(model, ds, epochs=1, batch_size=15, distribute="data_parallel")
    except ValueError as e:
        result["bad_batch"] = str(e)
    before = [w.copy() for w in model.get_weights()]
    dev = Devices()
    # 64 images: four equal batches (so loss == mean reconstruction + mean KL);
    # 31 validation images: one is left out so both devices get equal shares.
    h = training.fit(model, ds, epochs=1, batch_size=16, validation=ds.subset(slice(0, 31)),
                     distribute="data_parallel", callbacks=[dev], verbose=0)
    changed = any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    logs = {k: float(v[-1]) for k, v in h.history.items()}
    result.update(devices=dev.devices, changed=changed, logs=logs)
result["tensorflow_imported"] = "tensorflow" in sys.modules
with open(OUT, "w") as f:
    json.dump(result, f, default=str)
'''


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def jax_cache(tmp_path_factory):
    """A JAX compilation cache the subprocesses share: compiling the same small
    models is most of their time on JAX (a warm cache makes it seconds)."""
    return tmp_path_factory.mktemp("jax_cache")


class Procs:
    """Starts the script in subprocesses; kills whatever is left on exit."""

    def __init__(self, tmp_path, dataset, variant, jax_cache):
        self.cache = str(jax_cache)
        self.tmp = tmp_path
        self.script = tmp_path / "run_search.py"
        self.script.write_text(SCRIPT)
        self.data = tmp_path / "tiny.npz"
        np.savez(self.data, colors=dataset.palette.colors, indices=dataset.indices,
                 labels=dataset.labels, names=np.array(dataset.label_names))
        self.small = json.dumps(small(variant, dataset))
        self.procs = []

    def start(self, mode, directory, name, **env):
        out = self.tmp / f"{name}.json"
        log = open(self.tmp / f"{name}.log", "w")
        full_env = {**os.environ, "KERAS_BACKEND": BACKEND, "TF_CPP_MIN_LOG_LEVEL": "3",
                    "PYTHONPATH": str(ROOT), "JAX_COMPILATION_CACHE_DIR": self.cache,
                    "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
                    "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0", **env}
        p = subprocess.Popen([sys.executable, str(self.script), mode, str(self.data),
                              str(directory), str(out), self.small],
                             env=full_env, stdout=log, stderr=subprocess.STDOUT, cwd=self.tmp)
        p.out, p.log, p.name = out, log, name
        self.procs.append(p)
        return p

    def wait(self, p, timeout):
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            pytest.fail(f"{p.name} timed out after {timeout} s:\n{self.tail(p)}")
        assert p.returncode == 0, f"{p.name} exited {p.returncode}:\n{self.tail(p)}"
        return json.loads(p.out.read_text())

    def tail(self, p):
        p.log.flush()
        return "\n".join((self.tmp / f"{p.name}.log").read_text().splitlines()[-30:])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
            p.log.close()


def trial_statuses(directory):
    return {p.parent.name: json.loads(p.read_text())["status"]
            for p in sorted((Path(directory) / "search").glob("trial_*/trial.json"))}


@pytest.mark.slow
@pytest.mark.backend_independent  # KerasTuner's oracle plumbing; trials train on every backend
def test_resume_after_sigkill(tiny_dataset, tmp_path, jax_cache):
    directory = tmp_path / "search"
    with Procs(tmp_path, tiny_dataset, "onehot_conv_ae", jax_cache) as procs:
        first = procs.start("resume", directory, "first", PK_HANG="1")
        deadline = time.time() + 150
        while not (directory / "hanging").exists():
            assert first.poll() is None, f"exited early:\n{procs.tail(first)}"
            assert time.time() < deadline, f"never reached trial 2:\n{procs.tail(first)}"
            time.sleep(0.1)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        assert first.returncode == -signal.SIGKILL
        assert trial_statuses(directory) == {"trial_0": "COMPLETED", "trial_1": "RUNNING"}
        (directory / "hanging").unlink()
        second = procs.start("resume", directory, "second")
        result = procs.wait(second, timeout=150)
    assert trial_statuses(directory) == {"trial_0": "COMPLETED", "trial_1": "COMPLETED"}
    assert [r["status"] for r in result["table"]] == ["COMPLETED"] * 2  # == max_trials
    log = read_log(directory)
    starts = [e for e in log if e["event"] == "start"]
    ends = [e for e in log if e["event"] == "end"]
    # Trial 0 finished before the kill and was not trained again; trial 1,
    # cut short, was re-run (same id, same values) by the second process.
    assert Counter(e["trial_id"] for e in starts) == {"0": 1, "1": 2}
    assert [(e["trial_id"], e["status"]) for e in ends] == [("0", "COMPLETED"),
                                                           ("1", "COMPLETED")]
    assert starts[0]["pid"] == first.pid and starts[2]["pid"] == second.pid
    assert starts[1]["hyperparameters"] == starts[2]["hyperparameters"]
    assert starts[0]["hyperparameters"] != starts[1]["hyperparameters"]
    # Seeding does not pull TensorFlow into a JAX or torch search process.
    assert result["tensorflow_imported"] == (BACKEND == "tensorflow")


@pytest.mark.slow
@pytest.mark.backend_independent  # KerasTuner's gRPC oracle; trials train on every backend
def test_distributed_chief_and_two_workers(tiny_dataset, tmp_path, jax_cache):
    directory = tmp_path / "search"
    env = {"KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": str(free_port())}
    with Procs(tmp_path, tiny_dataset, "onehot_conv_ae", jax_cache) as procs:
        chief = procs.start("dist", directory, "chief", KERASTUNER_TUNER_ID="chief", **env)
        workers = [procs.start("dist", directory, f"tuner{i}", KERASTUNER_TUNER_ID=f"tuner{i}",
                               **env) for i in range(2)]
        results = {w.name: procs.wait(w, timeout=200) for w in workers}
        chief_result = procs.wait(chief, timeout=60)
    # The chief saw the whole search finish and loads the best model (same disk).
    assert [r["status"] for r in chief_result["table"]] == ["COMPLETED"] * 2
    assert chief_result["best_model"] and chief_result["best_hp"]
    # Each worker ran one trial: spread over both, none twice.
    ran = {name: [r["trial_id"] for r in res["table"]] for name, res in results.items()}
    assert sorted(sum(ran.values(), [])) == ["0", "1"] and all(len(v) == 1 for v in ran.values())
    log = read_log(directory)
    starts = Counter(e["trial_id"] for e in log if e["event"] == "start")
    assert starts == {"0": 1, "1": 1}
    assert {e["tuner_id"] for e in log} == {"tuner0", "tuner1"}
    assert {r["tuner_id"] for r in chief_result["table"]} == {"tuner0", "tuner1"}
    chief_hp = {r["trial_id"]: r["hyperparameters"] for r in chief_result["table"]}
    for res in results.values():
        (row,) = res["table"]
        assert row["hyperparameters"] == chief_hp[row["trial_id"]]
        assert row["score"] == pytest.approx(
            next(r["score"] for r in chief_result["table"] if r["trial_id"] == row["trial_id"]))


# ----------------------------------------------------------- data parallel
@pytest.mark.slow
@pytest.mark.skipif(BACKEND not in ("jax", "tensorflow"), reason="jax / tensorflow only")
def test_data_parallel_two_devices(tiny_dataset, tmp_path, jax_cache):
    mode = "dp" if BACKEND == "jax" else "mirrored"
    env = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"} if BACKEND == "jax" else {}
    with Procs(tmp_path, tiny_dataset, "onehot_vae", jax_cache) as procs:
        result = procs.wait(procs.start(mode, tmp_path / "search", mode, **env), timeout=200)
    assert result["backend"] == BACKEND
    assert result["devices"] == 2  # the replica's variables live on both devices
    assert result["changed"]  # trained weights copied back into the model
    logs = result["logs"]
    # The logged loss is the real one (not scaled by the number of replicas).
    assert logs["loss"] == pytest.approx(logs["reconstruction_loss"] + logs["kl_loss"],
                                         rel=1e-3)
    assert "val_loss" in logs
    assert "batch_size=15 does not split over 2 devices" in result["bad_batch"]


def test_search_forwards_distribute(tiny_dataset, monkeypatch):
    """A trial trains with training.fit(distribute=...), the tuner's callbacks
    and the hyperparameters' learning rate, batch size and schedules."""
    calls = []
    monkeypatch.setattr(training, "fit", lambda *a, **kw: calls.append((a, kw)) or "history")
    hm = tuning.hypermodel("gsvae", tiny_dataset, epochs=4)
    hp = kt.HyperParameters()
    hm.declare_hyperparameters(hp)
    cb = keras.callbacks.Callback()
    assert hm.fit(hp, "model", tiny_dataset, validation="val", epochs=4, initial_epoch=1,
                  callbacks=[cb], verbose=0, distribute="data_parallel") == "history"
    (args, kw), = calls
    assert args == ("model", tiny_dataset) and kw["validation"] == "val"
    assert kw["distribute"] == "data_parallel" and kw["callbacks"] == [cb]
    assert kw["epochs"] == 3  # Hyperband continues from initial_epoch
    assert kw["batch_size"] == hp.get("batch_size")
    assert kw["learning_rate"] == hp.get("learning_rate")
    assert kw["kl_warmup_epochs"] == round(hp.get("kl_warmup_fraction") * 4)
    assert kw["temperature"] == {"tau0": hp.get("tau0"), "tau_min": hp.get("tau_min"),
                                 "rate": hp.get("tau_rate")}


@pytest.mark.skipif(BACKEND != "torch", reason="torch only")
def test_data_parallel_torch_is_a_clear_error(tiny_dataset, tmp_path):
    model = tuning.hypermodel("onehot_vae", tiny_dataset).build(
        small_hp("onehot_vae", tiny_dataset))
    with pytest.raises(ValueError, match="not supported on the torch backend"):
        training.fit(model, tiny_dataset, epochs=1, distribute="data_parallel")
    with pytest.raises(ValueError, match="not supported on the torch backend"):
        tuning.search("onehot_vae", tiny_dataset, tuner="random", directory=tmp_path,
                      distribute="data_parallel")


def test_distribute_bad_option(tiny_dataset):
    if BACKEND == "torch":
        pytest.skip("torch has no data-parallel option")
    model = tuning.hypermodel("onehot_vae", tiny_dataset).build(
        small_hp("onehot_vae", tiny_dataset))
    with pytest.raises(ValueError, match="distribute must be None, 'data_parallel' or"):
        training.fit(model, tiny_dataset, epochs=1, distribute="mirrored")


@pytest.mark.parametrize("tty, expected", [(True, 1), (False, 2)])
def test_search_progress_follows_the_terminal(tiny_dataset, tmp_path, monkeypatch, tty,
                                              expected):
    """verbose="auto" (the default): a live bar on a terminal, one line per
    epoch in logs and pipes, as fit and finetune."""
    from pallets_keras import hypermodels

    class Stop(Exception):
        pass

    class FakeTuner:
        def __init__(self, **kwargs):
            self.oracle = None

        def search(self, data, **kwargs):
            raise Stop(kwargs["verbose"])

    monkeypatch.setitem(hypermodels.TUNERS, "random", FakeTuner)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: tty)
    with pytest.raises(Stop) as stopped:
        tuning.search(VARIANT, tiny_dataset, tuner="random", max_trials=1, epochs=1,
                      directory=tmp_path / "s", fixed=small(VARIANT, tiny_dataset))
    assert stopped.value.args == (expected,)
