"""The judge: a fixed classifier of real punks that sample-quality metrics use.

A generative model is judged by what it draws. The judge is a small conv
classifier trained once on the train split's real punks (punks 0-8999) to
predict their labels (5 types + 87 attributes). Its penultimate layer is the
feature space in which `pallets_keras.sample_quality` compares samples with
real punks (Fréchet distance, precision/recall, density/coverage), and its
label predictions measure conditional control.

It is a yardstick, not a training signal: it is frozen, versioned, shipped
beside the zoo (`zoo/judges/punk_judge`) and must never be used to train a
generator (a generator trained against it would learn to please it).
"""

import json
from pathlib import Path

import keras
import numpy as np

from pallets_keras import io_utils
from pallets_keras.errors import PalletsFileError, PalletsValueError
from pallets_keras.palette import Palette

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"
FEATURES_LAYER = "features"
JUDGE_VERSION = 1


def build_judge_network(palette_size, image_size, num_labels, embedding_dim=16,
                        filters=(32, 64, 128), feature_dim=256, dropout=0.2):
    """The judge's functional network: indices -> {"features", "label_logits"}.

    Palette indices go through an embedding (as the models do), three 3x3
    conv stages (the 2nd and 3rd with stride 2), a flatten (attributes are
    drawn at fixed places, so position matters) and a dense layer whose
    output is the feature space.

    Args:
        palette_size: int, K colours.
        image_size: (height, width).
        num_labels: int, L binary labels to predict.
        embedding_dim: int, width of each colour's embedding.
        filters: tuple of ints, channels of each conv stage.
        feature_dim: int, size of the feature space.
        dropout: float, dropout before the label head (training only).

    Returns:
        A `keras.Model` taking int32 indices (N, H, W) and returning a dict
        with "features" (N, feature_dim) float32 and "label_logits" (N, L).
    """
    indices = keras.Input(shape=tuple(image_size), dtype="int32", name="indices")
    x = keras.layers.Embedding(palette_size, embedding_dim, name="judge_embedding")(indices)
    for i, f in enumerate(filters):
        x = keras.layers.Conv2D(f, 3, strides=1 if i == 0 else 2, padding="same",
                                activation="relu", name=f"judge_conv_{i}")(x)
    x = keras.layers.Flatten(name="judge_flatten")(x)
    features = keras.layers.Dense(feature_dim, activation="relu", name=FEATURES_LAYER)(x)
    h = keras.layers.Dropout(dropout, name="judge_dropout")(features)
    logits = keras.layers.Dense(num_labels, name="label_logits")(h)
    return keras.Model(indices, {"features": features, "label_logits": logits},
                       name="judge")


class Judge:
    """A frozen classifier of real images and the feature space it defines.

    Args:
        network: the `keras.Model` from `build_judge_network` (weights set).
        palette: `Palette` the judged images are drawn with.
        label_names: list of L label names the network predicts.
        metadata: dict, what the judge was trained on and how well it does
            (per-label balanced accuracy on the test split, version).

    Example:
    >>> judge = Judge.from_preset("punk_judge")
    >>> feats = judge.features(cpunks.load().indices[:8])   # (8, 256) float32
    >>> probs = judge.predict(cpunks.load().rgba()[:8])      # (8, 92) in [0, 1]
    """

    def __init__(self, network, palette, label_names, metadata=None):
        self.network = network
        self.palette = palette
        self.label_names = list(label_names)
        self.metadata = dict(metadata or {})
        self.image_size = tuple(network.input.shape[1:3])

    # ------------------------------------------------------------- inputs
    def _indices(self, images):
        """RGBA uint8 (N, H, W, 4) or palette indices (N, H, W) -> int32 indices."""
        x = np.asarray(images)
        if x.ndim == 4 and x.shape[-1] == 4:
            # Off-palette colours (an RGBA model's raw output) are judged as
            # their nearest palette colour, without a warning per call.
            x = self.palette.encode(x.astype(np.uint8), snap=True, return_report=True)[0]
        if x.ndim != 3 or tuple(x.shape[1:]) != self.image_size:
            raise PalletsValueError(
                f"The judge takes {self.image_size[0]}x{self.image_size[1]} images as RGBA "
                f"(N, H, W, 4) uint8 or palette indices (N, H, W); got shape {x.shape}.")
        return x.astype("int32")

    def _run(self, images, batch_size=1000):
        x = self._indices(images)
        outs = [self.network.predict_on_batch(x[i:i + batch_size])
                for i in range(0, len(x), batch_size)]
        return {k: np.concatenate([np.asarray(o[k]) for o in outs]) for k in outs[0]}

    # -------------------------------------------------------------- judge
    def features(self, images):
        """Feature vectors (N, D) float32 of images (RGBA or indices)."""
        return self._run(images)["features"].astype("float32")

    def predict(self, images):
        """Label probabilities (N, L) float32 in [0, 1], columns as `label_names`."""
        logits = self._run(images)["label_logits"].astype("float64")
        return (1.0 / (1.0 + np.exp(-logits))).astype("float32")

    def predict_labels(self, images, names=None):
        """0/1 labels (N, L') uint8: the judged label set, for `names` (default all)."""
        probs = self.predict(images)
        if names is not None:
            probs = probs[:, [self._label_index(n) for n in names]]
        return (probs > 0.5).astype("uint8")

    def _label_index(self, name):
        if name not in self.label_names:
            raise PalletsValueError(f"The judge does not know the label {name!r}; it "
                                    f"judges {len(self.label_names)} labels (judge.label_names).")
        return self.label_names.index(name)

    # ------------------------------------------------------------ storage
    def save(self, path):
        """Writes the judge to a folder (config, weights, metadata with hashes)."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        config = keras.saving.serialize_keras_object(self.network)
        io_utils.atomic_write_text(path / CONFIG_FILE, json.dumps(config, indent=1,
                                                                  sort_keys=True))
        with io_utils.atomic_path(path / WEIGHTS_FILE) as tmp:
            self.network.save_weights(tmp)
        meta = {**self.metadata, "format_version": JUDGE_VERSION,
                "palette": self.palette.colors.tolist(), "label_names": self.label_names,
                "image_size": list(self.image_size),
                "files": {f: io_utils.sha256_file(path / f)
                          for f in (CONFIG_FILE, WEIGHTS_FILE)}}
        io_utils.atomic_write_text(path / METADATA_FILE, json.dumps(meta, indent=1))
        return path

    @classmethod
    def from_preset(cls, name_or_path="punk_judge"):
        """Loads a shipped judge by name (`zoo/judges/NAME`) or a folder.

        Raises:
            PalletsFileError: no such judge, or its files fail their sha256.
        """
        path = Path(name_or_path)
        if not (path / METADATA_FILE).is_file():
            from pallets_keras.zoo.registry import zoo_root

            path = zoo_root() / "judges" / str(name_or_path)
        if not (path / METADATA_FILE).is_file():
            raise PalletsFileError(f"No judge {str(name_or_path)!r}: expected a folder with "
                                   f"{METADATA_FILE}; the shipped one is 'punk_judge'.")
        meta = json.loads((path / METADATA_FILE).read_text())
        for f, digest in meta["files"].items():
            if io_utils.sha256_file(path / f) != digest:
                raise PalletsFileError(f"The judge's {f} in {path} does not match its "
                                       "sha256: reinstall pallets_keras.")
        network = keras.saving.deserialize_keras_object(
            json.loads((path / CONFIG_FILE).read_text()))
        network.load_weights(path / WEIGHTS_FILE)
        network.trainable = False
        return cls(network, Palette(np.asarray(meta["palette"])), meta["label_names"], meta)


def balanced_accuracy(true, pred):
    """Per-column balanced accuracy (mean of the true-positive and
    true-negative rates) of 0/1 arrays (N, L); NaN where a column has no
    positives or no negatives."""
    true, pred = np.asarray(true).astype(bool), np.asarray(pred).astype(bool)
    pos, neg = true.sum(0), (~true).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = (true & pred).sum(0) / pos
        tnr = (~true & ~pred).sum(0) / neg
    out = (tpr + tnr) / 2
    out[(pos == 0) | (neg == 0)] = np.nan
    return out


def _weighted_bce(labels, max_weight=50.0):
    """Binary cross-entropy (from logits) whose positive terms weigh
    sqrt(negatives / positives) per label, capped: rare attributes (a few
    dozen punks wear buck teeth) then count as much as their balanced
    accuracy does."""
    labels = np.asarray(labels, "float64")
    pos = labels.sum(0)
    ratio = (len(labels) - pos) / np.maximum(pos, 1.0)
    weight = np.sqrt(np.clip(ratio, 1.0, max_weight ** 2)).astype("float32")

    def loss(y_true, logits):
        y_true = keras.ops.cast(y_true, logits.dtype)
        w = keras.ops.convert_to_tensor(weight, dtype=logits.dtype)
        # log(sigmoid(x)) = -softplus(-x); log(1 - sigmoid(x)) = -softplus(x).
        terms = (w * y_true * keras.ops.softplus(-logits)
                 + (1.0 - y_true) * keras.ops.softplus(logits))
        return keras.ops.mean(terms, axis=-1)

    return loss


def train_judge(train, test, epochs=12, batch_size=128, learning_rate=2e-3, seed=0,
                verbose=2):
    """Trains a judge on `train` (its images and labels) and measures it on `test`.

    Args:
        train: `PixelDataset` with labels (for punks: `cpunks.load(labels="all")`
            split; train part only).
        test: `PixelDataset`, same palette and labels: only measured, never fitted.
        epochs, batch_size, learning_rate: the Adam fit.
        seed: int, seeds initialisation and shuffling.
        verbose: Keras fit verbosity.

    Returns:
        A `Judge` whose metadata has "balanced_accuracy" per label on `test`.
    """
    from pallets_keras.random_utils import set_random_seed

    set_random_seed(seed)
    net = build_judge_network(len(train.palette), train.indices.shape[1:],
                              train.labels.shape[1])
    # Trained through a one-output view that shares the layers: the features
    # output has no loss of its own.
    trainer = keras.Model(net.input, net.output["label_logits"])
    trainer.compile(optimizer=keras.optimizers.Adam(learning_rate),
                    loss=_weighted_bce(train.labels))
    trainer.fit(train.indices.astype("int32"), train.labels.astype("float32"),
                epochs=epochs, batch_size=batch_size, verbose=verbose, shuffle=True)
    judge = Judge(net, train.palette, train.label_names)
    bal = balanced_accuracy(test.labels, judge.predict_labels(test.indices))
    judge.metadata = {
        "name": "punk_judge", "version": JUDGE_VERSION,
        "trained_on": f"{len(train)} images (train split)",
        "measured_on": f"{len(test)} images (test split)",
        "recipe": {"epochs": epochs, "batch_size": batch_size,
                   "learning_rate": learning_rate, "seed": seed,
                   "backend": keras.backend.backend()},
        "balanced_accuracy": {n: (None if np.isnan(b) else float(b))
                              for n, b in zip(train.label_names, bal)},
        "mean_balanced_accuracy": float(np.nanmean(bal)),
    }
    return judge
