"""Training helpers: `fit` with sensible callbacks, the data it feeds, and checks.

`finetune` (`pallets_keras.finetuning`) and the recipes (`pallets_keras.recipes`)
are re-exported here; they call `fit` and the helpers below through this module.
"""

import contextlib
import logging
import sys

import keras
import numpy as np

from pallets_keras import validation as validation_
from pallets_keras.errors import PalletsValueError
from pallets_keras.finetuning import FinetuneHistory as FinetuneHistory
from pallets_keras.finetuning import TrainingDivergedWarning as TrainingDivergedWarning
from pallets_keras.finetuning import finetune as finetune
from pallets_keras.finetuning import set_body_trainable as set_body_trainable
from pallets_keras.models.registry import get_conditioning, get_latent
from pallets_keras.optimizers import Adam
from pallets_keras.random_utils import set_random_seed
from pallets_keras.recipes import check_recipe_backend as check_recipe_backend
from pallets_keras.recipes import load_recipe as load_recipe
from pallets_keras.recipes import recipe_dataset as recipe_dataset
from pallets_keras.recipes import train_recipe as train_recipe

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
            model.compile(optimizer=Adam(lr))
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
