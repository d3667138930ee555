"""Fine-tuning an adapted model: `finetune`, its resumable checkpoints and report.

`finetune` trains a preset adapted to new sprites (`zoo.load(name,
palette=..., image_size=...)`) in two phases, the palette ends alone and then
the whole model, with `pallets_keras.training.fit`, until the held-out images
stop improving. With `checkpoint_dir` a run cut short resumes where it
stopped. `pallets_keras.training` re-exports every public name here.
"""

import contextlib
import hashlib
import json
import logging
import shutil
import time
import warnings
from pathlib import Path

import keras
import numpy as np

from pallets_keras import validation as validation_
from pallets_keras.callbacks import PhaseProgbar, TerminateOnNaNKeepWeights, TimeLimit
from pallets_keras.errors import PalletsValueError

# finetune's records keep the logger they had in pallets_keras.training.
log = logging.getLogger("pallets_keras.training")


def set_body_trainable(model, trainable):
    """Freezes or unfreezes everything but the data set's ends
    (`model.data_end_layers`: the palette ends and any label head)."""
    ends = model.data_end_layers
    for sub in (model.encoder, model.decoder):
        for layer in sub.layers:
            if layer.name not in ends and layer.weights:
                layer.trainable = trainable


class TrainingDivergedWarning(RuntimeWarning):
    """The loss became NaN or infinite: training stopped early and the model
    kept its last finite weights (see `finetune`)."""


# Files of a fine-tune's checkpoint folder (besides Keras' BackupAndRestore
# folders "warmup" and "full").
_CK_STATE = "finetune.json"
_CK_WARMUP_WEIGHTS = "warmup_weights.npz"
_CK_HISTORIES = ("warmup_history.json", "full_history.json")


def _write_json(path, data):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)


def _finetune_arguments(model, dataset, validation, **arguments):
    """What must match for a checkpoint to resume: the arguments that shape
    the run, the model and a hash of the training (and held-out) images."""
    digest = hashlib.sha256()
    for part in (dataset, validation):
        if part is not None:
            digest.update(np.ascontiguousarray(part.indices).tobytes())
    arguments.update(variant=getattr(model, "variant", None) or type(model).__name__,
                     parameters=int(model.count_params()), palette_size=len(model.palette),
                     image_size=list(model.image_size), images=len(dataset),
                     held_out=0 if validation is None else len(validation),
                     data_sha256=digest.hexdigest()[:16])
    return json.loads(json.dumps(arguments))  # the JSON form, as read back


def _open_checkpoint(ck, arguments):
    """The state of a cut fine-tune in `ck` with the same arguments, or {} for
    a fresh run; refuses the checkpoint of another run, naming what differs."""
    path = ck / _CK_STATE
    if not path.is_file():
        if ck.is_dir() and any(ck.iterdir()):
            raise PalletsValueError(
                f"checkpoint_dir={str(ck)!r} is not empty and holds no fine-tune checkpoint "
                f"({_CK_STATE}): pass an empty or new folder.")
        return {}
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise PalletsValueError(f"{path} cannot be read ({e}): delete {ck} to start the "
                                "fine-tune over.") from None
    saved = state.get("arguments", {})
    differ = sorted(k for k in set(saved) | set(arguments) if saved.get(k) != arguments.get(k))
    if differ:
        said = ", ".join(f"{k}={saved.get(k)!r} there, {arguments.get(k)!r} now"
                         for k in differ[:4])
        raise PalletsValueError(
            f"checkpoint_dir={str(ck)!r} holds a cut fine-tune with other arguments ({said}"
            f"{', ...' if len(differ) > 4 else ''}): call finetune with the same model, data "
            "and arguments to resume it, or delete the folder (or pass another one) to "
            "start over.")
    return state


class _EpochLog(keras.callbacks.Callback):
    """Keeps every epoch's logs of a resumable phase in a JSON file, so a
    resumed run reports the whole phase, not only its own epochs."""

    def __init__(self, path):
        super().__init__()
        self.path = Path(path)
        self.entries = json.loads(self.path.read_text()) if self.path.is_file() else []
        self.first_epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        if self.first_epoch is None:
            # Epochs at or after the one resumed from were not backed up.
            self.first_epoch = epoch
            self.entries = [e for e in self.entries if e["epoch"] < epoch]

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": int(epoch)}
        for k, v in (logs or {}).items():
            try:
                row[k] = float(keras.ops.convert_to_numpy(v))
            except (TypeError, ValueError):
                pass
        self.entries.append(row)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _write_json(self.path, self.entries)


def _diverged_message(diverged, kept):
    return (f"finetune: the loss became {diverged['loss']} in epoch {diverged['epoch'] + 1} "
            f"({diverged['phase']}, batch {diverged['batch'] + 1}); training stopped and the "
            f"model keeps {kept}. Lower learning_rate (or body_learning_rate) and "
            "fine-tune again.")


class FinetuneHistory(dict):
    """What `finetune` returns: the merged Keras history of both phases
    (a dict of per-epoch lists, as before) with a `report` dict beside it.

    `report` holds "held_out_pixel_accuracy" and
    "held_out_pixel_accuracy_visible" (the best weights' deterministic
    reconstructions of the validation images; all pixels, and those whose
    true colour is not fully transparent), "held_out_images",
    "epochs_run", "best_epoch" (1-based, counted over both phases),
    "stopped_by" ("early_stopping", "time_limit", "nan" or "epochs"),
    "diverged" (None, or where the loss became NaN: {"phase", "epoch",
    "batch", "loss"}), "resumed_from_epoch" (the epochs a cut run had
    finished before this call resumed it, 0 for a fresh run) and "seconds".
    """

    report = None


def finetune(model, dataset, epochs=200, warmup_epochs=1, batch_size=64, learning_rate=1e-3,
             body_learning_rate=None, validation="auto", validation_fraction=0.1,
             checkpoint_dir=None, early_stopping_patience=10, reduce_lr_patience=4,
             flip=True, max_seconds=None, seed=0, verbose="auto", **fit_kwargs):
    """Fine-tunes an adapted model (see `zoo.load(name, palette=..., image_size=...)`)
    until the held-out images stop improving.

    First `warmup_epochs` with the body frozen so the new palette ends learn
    to speak its language, then the whole model at `body_learning_rate`
    (default learning_rate / 3) until the validation loss has not improved
    for `early_stopping_patience` epochs (`keras.callbacks.EarlyStopping`),
    with the best epoch's weights restored. The learning rate halves when the
    validation loss stalls for `reduce_lr_patience` epochs
    (`keras.callbacks.ReduceLROnPlateau`). `epochs` is only a ceiling.
    `warmup_epochs=epochs` trains the palette ends only; `warmup_epochs=0`
    trains everything from the start.

    Which preset to start from: `onehot_conv_ae` when you want
    reconstructions (and codes) of your sprites, `onehot_conv_vae` when you
    want to sample new ones; both are conv bodies, so they take any size
    that is a multiple of 4, and their palette ends are re-made for your
    palette. See docs/finetune.md for measured results on real tile sets.

    Args:
        model: an adapted `PaletteAutoencoder` (AE or VAE).
        dataset: `PixelDataset` with the model's palette and size.
        epochs: int, the most epochs, warm-up included (default 200; early
            stopping usually ends the run long before).
        warmup_epochs: int in [0, epochs], epochs with the body frozen.
        batch_size: int.
        learning_rate: float, of the palette ends (and of the warm-up).
        body_learning_rate: float, of the whole model after the warm-up.
        validation: "auto" (default: hold out `validation_fraction` of
            `dataset` with a fixed seed, `holdout`), a `PixelDataset`, or
            None (no held-out images: early stopping watches the training
            loss and the report has no held-out accuracy).
        validation_fraction: float in (0, 1), the share held out by "auto".
        checkpoint_dir: optional folder (made if missing) for resumable
            checkpoints: each phase is backed up at every epoch's end
            (`keras.callbacks.BackupAndRestore`), so a run cut short (Ctrl-C,
            a kill) resumes from its last finished epoch when called again
            with the same model, data and arguments (anything else is refused,
            naming what differs). The patience counters, the learning-rate
            reductions and `max_seconds` start afresh on resume. The folder is
            emptied and removed when the run ends.
        early_stopping_patience: int >= 1, epochs without improvement
            before stopping, or None to train all `epochs`.
        reduce_lr_patience: int >= 1, or None to keep the rate constant.
        flip: bool, flip training images left-right at random (on the
            palette indices, no interpolation: `SpriteBatches`). Turn it off
            for sprites whose facing matters (text, arrows).
        max_seconds: optional float, a wall-clock budget for both phases
            (`TimeLimit`); the best weights are still restored.
        seed: int, seeds the training and the augmentation (pass the same
            seed to `zoo.load` for the re-made layers).
        verbose: "auto", 0, 1 or 2 (see `fit`).
        **fit_kwargs: more arguments of `fit` (e.g. `kl_warmup_epochs`).

    A loss that becomes NaN or infinite (e.g. a learning rate far too high)
    stops the run at once (`TerminateOnNaNKeepWeights`, after Keras'
    `TerminateOnNaN`): the model keeps its best epoch's weights, else those it
    had before the epoch that diverged, a `TrainingDivergedWarning` says so,
    and the report says `stopped_by="nan"`.

    Returns:
        A `FinetuneHistory`: a dict of per-epoch lists with a `report` dict
        that holds the held-out pixel accuracy of the restored weights.

    Raises:
        PalletsValueError: a bad argument, or data that does not fit the model.

    Example:
    >>> model = zoo.load("onehot_conv_ae", palette=sprites.palette,
    ...                  image_size=sprites.image_size, seed=0)
    >>> history = finetune(model, sprites)
    >>> history.report["held_out_pixel_accuracy_visible"]
    """
    from pallets_keras import training  # at call time: training.fit may be patched

    epochs = validation_.check_positive_int("epochs", epochs)
    warmup_epochs = validation_.check_non_negative_int(
        "warmup_epochs", warmup_epochs, max=epochs,
        fix=f"The warm-up is part of the {epochs} epochs: use warmup_epochs <= epochs "
            f"(warmup_epochs={epochs} trains the palette ends only), or raise epochs.")
    learning_rate = validation_.check_learning_rate(learning_rate)
    if body_learning_rate is not None:
        validation_.check_learning_rate(body_learning_rate, "body_learning_rate")
    validation_.check_positive_int("batch_size", batch_size)
    validation_.check_seed(seed)
    for name, value in (("early_stopping_patience", early_stopping_patience),
                        ("reduce_lr_patience", reduce_lr_patience)):
        if value is not None:
            validation_.check_positive_int(name, value)
    if max_seconds is not None:
        validation_.check_float("max_seconds", max_seconds, min=0, min_inclusive=False)
    if isinstance(validation, str):
        if validation != "auto":
            raise PalletsValueError(f"validation must be 'auto', a PixelDataset or None, "
                                    f"got {validation!r}.")
        validation_.check_float("validation_fraction", validation_fraction, min=0,
                                min_inclusive=False, max=0.9,
                                fix="It is the share held out: e.g. 0.1.")
        training.check_compatible(model, dataset)
        dataset, validation = training.holdout(dataset, validation_fraction)
    user_callbacks = list(fit_kwargs.pop("callbacks", ()))
    ck, state = None, {}
    if checkpoint_dir is not None:
        ck = Path(checkpoint_dir).expanduser()
        if ck.exists() and not ck.is_dir():
            raise PalletsValueError(f"checkpoint_dir={str(ck)!r} is a file: pass a folder "
                                    "(it is made if missing).")
        arguments = _finetune_arguments(
            model, dataset, validation, epochs=epochs, warmup_epochs=warmup_epochs,
            batch_size=batch_size, learning_rate=learning_rate,
            body_learning_rate=body_learning_rate, seed=seed, flip=bool(flip),
            early_stopping_patience=early_stopping_patience,
            reduce_lr_patience=reduce_lr_patience,
            fit={k: repr(v) for k, v in sorted(fit_kwargs.items())})
        state = _open_checkpoint(ck, arguments)
        ck.mkdir(parents=True, exist_ok=True)
        if not state:
            state = {"arguments": arguments, "warmup_done": False}
            _write_json(ck / _CK_STATE, state)
    t0 = time.monotonic()
    limit = [] if max_seconds is None else [TimeLimit(deadline=t0 + float(max_seconds))]
    guard = TerminateOnNaNKeepWeights()
    # One count over both phases: the warm-up prints "Epoch 1/N", the rest go on
    # from there (a user's own bar is kept instead).
    own_bar = not any(isinstance(c, keras.callbacks.ProgbarLogger) for c in user_callbacks)

    def bar(first):
        return [PhaseProgbar(first, epochs)] if own_bar else []

    history = FinetuneHistory()
    diverged = None
    resumed_from = 0

    def merge(h, epoch_log):
        """Adds a phase's epochs: all of them from its log when resumable."""
        if epoch_log is None:
            for k, v in h.history.items():
                history.setdefault(k, []).extend(v)
            return 0
        for row in epoch_log.entries:
            for k, v in row.items():
                if k != "epoch":
                    history.setdefault(k, []).append(v)
        return epoch_log.first_epoch or 0

    warmup_resumed = bool(warmup_epochs and state.get("warmup_done"))
    stopped = False
    if warmup_resumed:
        # A cut run had finished its warm-up: its weights and history are kept.
        set_body_trainable(model, True)
        with np.load(ck / _CK_WARMUP_WEIGHTS) as saved:
            model.set_weights([saved[f"w{i}"] for i in range(len(saved.files))])
        for k, v in state.get("history", {}).items():
            history[k] = list(v)
        stopped = bool(state.get("time_limit"))
        resumed_from = warmup_epochs
        log.info("finetune: resuming from %s after its warm-up", ck)
    elif warmup_epochs:
        set_body_trainable(model, False)
        epoch_log = None if ck is None else _EpochLog(ck / _CK_HISTORIES[0])
        h = training.fit(model, dataset, epochs=warmup_epochs, batch_size=batch_size,
                         learning_rate=learning_rate, validation=validation, seed=seed,
                         verbose=verbose, flip=flip,
                         callbacks=(user_callbacks + bar(0) + [guard] + limit
                                    + ([epoch_log] if epoch_log else [])),
                         checkpoint_dir=None if ck is None else ck / "warmup", **fit_kwargs)
        resumed_from = merge(h, epoch_log)
        stopped = bool(limit and limit[0].stopped)
        if guard.diverged is not None:
            diverged = dict(guard.diverged, phase="warm-up")
        elif ck is not None:
            set_body_trainable(model, True)
            np.savez(ck / _CK_WARMUP_WEIGHTS,
                     **{f"w{i}": w for i, w in enumerate(model.get_weights())})
            state.update(warmup_done=True, time_limit=stopped,
                         history={k: [float(x) for x in v] for k, v in history.items()})
            _write_json(ck / _CK_STATE, state)
    set_body_trainable(model, True)
    stopper = None
    if epochs > warmup_epochs and not stopped and diverged is None:
        monitor = "val_loss" if validation is not None else "loss"
        cbs = list(user_callbacks) + bar(warmup_epochs) + [guard]
        if early_stopping_patience:
            stopper = keras.callbacks.EarlyStopping(
                monitor=monitor, patience=early_stopping_patience, restore_best_weights=True)
            cbs.append(stopper)
        if reduce_lr_patience:
            cbs.append(keras.callbacks.ReduceLROnPlateau(
                monitor=monitor, factor=0.5, patience=reduce_lr_patience, min_lr=1e-5))
        if limit:
            limit[0].stopped = False
        epoch_log = None if ck is None else _EpochLog(ck / _CK_HISTORIES[1])
        h = training.fit(model, dataset, epochs=epochs - warmup_epochs,
                         batch_size=batch_size,
                         learning_rate=body_learning_rate or learning_rate / 3,
                         validation=validation,
                         checkpoint_dir=None if ck is None else ck / "full",
                         callbacks=cbs + limit + ([epoch_log] if epoch_log else []),
                         seed=None if warmup_epochs and not warmup_resumed else seed,
                         verbose=verbose, flip=flip, **fit_kwargs)
        done = merge(h, epoch_log)
        if done:
            resumed_from = warmup_epochs + done
        stopped = bool(limit and limit[0].stopped)
        if guard.diverged is not None:
            diverged = dict(guard.diverged, phase="fine-tune")
            diverged["epoch"] += warmup_epochs
    if ck is not None:
        # The run is over (finished, stopped early or diverged): nothing to resume.
        for name in (_CK_STATE, _CK_WARMUP_WEIGHTS, *_CK_HISTORIES):
            (ck / name).unlink(missing_ok=True)
        for name in ("warmup", "full"):
            shutil.rmtree(ck / name, ignore_errors=True)
        with contextlib.suppress(OSError):
            ck.rmdir()  # only when empty
    history.pop("learning_rate", None)
    if diverged is not None:
        best = stopper is not None and stopper.best_weights is not None
        kept = (f"the weights of its best epoch ({warmup_epochs + stopper.best_epoch + 1})"
                if best else "its weights from before that epoch, the last finite ones")
        warnings.warn(_diverged_message(diverged, kept),
                      TrainingDivergedWarning, stacklevel=2)
    report = {"epochs_run": len(history.get("loss", [])),
              "best_epoch": (warmup_epochs + stopper.best_epoch + 1
                             if stopper is not None and stopper.best is not None
                             else len(history.get("loss", []))),
              "stopped_by": ("nan" if diverged is not None
                             else "early_stopping" if stopper is not None
                             and stopper.stopped_epoch
                             else "time_limit" if stopped else "epochs"),
              "diverged": diverged,
              "resumed_from_epoch": resumed_from,
              "seconds": round(time.monotonic() - t0, 1)}
    if validation is not None:
        figures = training.reconstruction_accuracy(model, validation)
        report.update(held_out_pixel_accuracy=figures["pixel_accuracy"],
                      held_out_pixel_accuracy_visible=figures["pixel_accuracy_visible"],
                      held_out_images=figures["images"])
    history.report = report
    log.info("finetune: %s", report)
    return history
