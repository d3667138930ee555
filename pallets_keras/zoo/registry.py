"""The zoo: pretrained presets by name, checked by hash before anything is built.

A preset is a folder with `config.json` (the serialized Keras model),
`model.weights.h5` and `metadata.json` (name, format version, variant,
palette, image size, label names, parameter count, figures, recipe, versions
and the sha256 of the other two files). Presets ship inside the wheel (the
repository's top-level `zoo/` folder becomes `pallets_keras.presets`).
"""

import difflib
import fnmatch
import json
import os
import re
import shutil
import tempfile
import zlib
from pathlib import Path

import keras
import numpy as np

from pallets_keras import io_utils
from pallets_keras.errors import PalletsValueError
from pallets_keras.palette import Palette
from pallets_keras.version import __version__

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"
MAX_PALETTE_SIZE = 4096
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class PresetError(PalletsValueError):
    """A preset that cannot be used: missing, tampered with, or too new."""


def zoo_root():
    """The folder of the shipped presets."""
    try:
        import pallets_keras.presets as presets

        for p in presets.__path__:
            if any(Path(p).glob(f"*/{METADATA_FILE}")):
                return Path(p)
    except ImportError:
        pass
    # A source checkout or editable install: the repository's zoo/ folder.
    return Path(__file__).resolve().parents[2] / "zoo"


def list_models(pattern="*"):
    """Names of the shipped presets that match a glob pattern, sorted.

    Example:
    >>> list_models("*vae*")[:2]
    ['cvae', 'conv_cvae']
    """
    root = zoo_root()
    names = sorted(p.parent.name for p in root.glob(f"*/{METADATA_FILE}"))
    return [n for n in names if fnmatch.fnmatch(n, pattern)]


def _resolve(name_or_path):
    """The preset folder for a zoo name or a local folder path."""
    text = str(name_or_path)
    looks_like_path = isinstance(name_or_path, Path) or "/" in text or "\\" in text \
        or text.startswith(".")
    if looks_like_path:
        path = Path(text).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(f"No preset folder at {path}.")
        return path
    if not _NAME.match(text):
        raise PresetError(f"{text!r} is not a preset name.")
    root = zoo_root().resolve()
    path = (root / text).resolve()
    if root not in path.parents:
        raise PresetError(f"{text!r} escapes the zoo folder {root}.")
    if not (path / METADATA_FILE).exists():
        names = list_models()
        close = difflib.get_close_matches(text, names, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        known = ", ".join(names) if names else "none (the zoo folder is empty)"
        raise PresetError(f"No preset named {text!r}.{hint} Known: {known}.")
    return path


def _read_metadata(path):
    meta_path = path / METADATA_FILE
    missing = [f for f in (METADATA_FILE, CONFIG_FILE, WEIGHTS_FILE) if not (path / f).exists()]
    if missing:
        raise PresetError(f"{path} is not a complete preset: missing {', '.join(missing)}. "
                          "A preset is written by zoo.save_preset(model, folder).")
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as e:
        raise PresetError(f"{meta_path} is not valid JSON ({e}).") from None
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise PresetError(
            f"{path} has preset format {version!r}; this pallets_keras ({__version__}) reads "
            f"format <= {FORMAT_VERSION}. Upgrade pallets_keras to load it.")
    return meta


def _verify(path, meta):
    files = meta.get("files", {})
    for fname in (CONFIG_FILE, WEIGHTS_FILE):
        want = files.get(fname)
        if want is None:
            raise PresetError(f"{path / METADATA_FILE} records no hash for {fname}.")
        got = io_utils.sha256_file(path / fname)
        if got != want:
            raise PresetError(
                f"{path / fname} does not match its recorded sha256 (file changed or "
                "damaged): refusing to load it. Reinstall pallets_keras or re-save the preset.")


def info(name_or_path):
    """The metadata dict of a preset (figures, sizes, recipe, versions)."""
    path = _resolve(name_or_path)
    return _read_metadata(path)


def load(name_or_path, palette=None, image_size=None, compile=True, seed=0):
    """Loads a preset by zoo name or folder, verifying its hashes first.

    Args:
        name_or_path: a name from `list_models()` or a preset folder.
        palette: optional `Palette`; when it differs from the preset's, the
            palette ends (input embedding, output head) are re-created for it
            and the body keeps its trained weights (for fine-tuning).
        image_size: optional (H, W); a conv body adapts (its size-dependent
            bottleneck layers are re-created), a dense body cannot.
        compile: bool, compile with Adam so `fit` works at once.
        seed: int, seeds the initial weights of the layers that `palette` or
            `image_size` re-create (see `adapt`): the same preset, arguments
            and seed give the same model, whatever ran before in the process.

    Returns:
        A `PaletteAutoencoder` with the preset's weights.

    Example:
    >>> model = load("onehot_vae")
    >>> punks = model.sample(16, seed=0)
    """
    path = _resolve(name_or_path)
    meta = _read_metadata(path)
    _verify(path, meta)
    config = json.loads((path / CONFIG_FILE).read_text())
    # A preset is the model alone. A config saved from a compiled model carries
    # its training `compile_config` (optimizer, schedule): deserializing it would
    # compile the model even with compile=False, and load_weights would warn
    # that the optimizer's variables are missing (presets ship no optimizer state).
    config.pop("compile_config", None)
    model = keras.saving.deserialize_keras_object(config)
    model.load_weights(path / WEIGHTS_FILE)
    model.preset_metadata = meta
    if palette is not None or image_size is not None:
        model = adapt(model, palette=palette, image_size=image_size, seed=seed)
    if compile:
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


def adapt(model, palette=None, image_size=None, seed=0):
    """A copy of `model` for another palette and/or image size, body weights kept.

    Layers whose weights keep their shape are copied; the palette ends start
    from the nearest old colours' weights and, for a conv body at another
    size, the bottleneck dense layers start anew. The names of the re-created
    layers are in `model.reinitialized_layers`.

    Args:
        model: a `PaletteAutoencoder`.
        palette: optional `Palette` (or (K, 4) colours) to adapt to.
        image_size: optional (H, W) to adapt to (conv bodies only).
        seed: int. Layers that start anew draw their weights from their own
            initializers seeded by `seed` and the layer's name, not from
            Keras' global random state (which whatever ran before has
            advanced), so adapting twice gives the same weights and a seeded
            `finetune` repeats exactly.

    Returns:
        A new `PaletteAutoencoder`.

    Raises:
        PalletsValueError: a palette too large, or a dense body at another size.

    Example:
    >>> new = adapt(zoo.load("onehot_conv_ae"), palette=sprites.palette,
    ...             image_size=(16, 16), seed=0)
    """
    from pallets_keras.models import build

    if palette is not None and not isinstance(palette, Palette):
        palette = Palette(palette)
    if palette is not None and len(palette) > MAX_PALETTE_SIZE:
        raise ValueError(f"A palette of {len(palette)} colours is more than a model takes "
                         f"({MAX_PALETTE_SIZE}); quantize it: Palette.quantize(images, 256).")
    new_size = tuple(image_size) if image_size is not None else tuple(model.image_size)
    from pallets_keras.models.variants import axes

    _, body, _, _, _ = axes(model.variant)
    if body == "dense" and new_size != tuple(model.image_size):
        raise ValueError(
            f"{model.variant} has a dense body whose weights are tied to "
            f"{model.image_size[0]}x{model.image_size[1]} pixels; it cannot take "
            f"{new_size[0]}x{new_size[1]}. Use a conv variant (e.g. onehot_conv_vae), "
            "or resize the sprites.")
    new = build(model.variant, palette=palette if palette is not None else model.palette,
                image_size=new_size, label_names=model.label_names or None,
                **model.build_options)
    palette_changed = palette is not None and palette != model.palette
    reinit = []
    for old_sub, new_sub in ((model.encoder, new.encoder), (model.decoder, new.decoder)):
        for layer in new_sub.layers:
            if not layer.weights:
                continue
            try:
                old = old_sub.get_layer(layer.name)
            except ValueError:
                reinit.append(layer.name)
                continue
            same = [tuple(a.shape) == tuple(b.shape) for a, b in zip(old.weights, layer.weights)]
            is_end = layer.name in ("palette_embedding", "palette_head", "palette_lookup")
            if all(same) and len(old.weights) == len(layer.weights) and not (
                    is_end and palette_changed):
                layer.set_weights(old.get_weights())
            elif is_end and palette_changed and layer.name != "palette_lookup":
                _init_from_nearest_colours(layer, old, new.palette, model.palette)
                reinit.append(layer.name)
            else:
                if layer.name != "palette_lookup":  # built from the palette itself
                    _seeded_init(layer, seed)
                reinit.append(layer.name)
    new.reinitialized_layers = reinit
    return new


def _seeded_init(layer, seed):
    """Redraws `layer`'s weights from its own initializers, each seeded by a
    hash of (seed, layer name, weight name). Keras' unseeded initializers
    draw from global state that any earlier model or training advanced, so
    without this the same `adapt` call gave different starting weights."""
    for variable in layer.weights:
        name = variable.name.split("/")[-1]
        initializer = getattr(layer, f"{name}_initializer", None)
        if initializer is None:
            continue
        config = keras.initializers.serialize(initializer)
        if "seed" in config.get("config", {}):
            config["config"]["seed"] = zlib.crc32(f"{seed}/{layer.name}/{name}".encode())
        fresh = keras.initializers.deserialize(config)
        variable.assign(fresh(tuple(variable.shape), dtype=variable.dtype))


def _init_from_nearest_colours(layer, old, new_palette, old_palette):
    """Starts a new palette end from the trained one: each new colour takes the
    embedding row (or head column) of its nearest old colour, so the body sees
    familiar features from the first step instead of noise."""
    nearest = old_palette.nearest(new_palette.colors)
    weights = old.get_weights()
    if layer.name == "palette_embedding":
        layer.set_weights([weights[0][nearest]])
    else:  # palette_head: kernel (C, K) and bias (K,)
        layer.set_weights([weights[0][:, nearest], weights[1][nearest]])


def save_preset(model, path, metadata=None):
    """Writes `model` as a preset folder, atomically (a temp folder renamed in place).

    Args:
        model: a `PaletteAutoencoder`.
        path: the folder to write (replaced if it exists).
        metadata: optional dict merged into the generated metadata (e.g.
            "description", "metrics", "recipe").

    Returns:
        The folder's Path. `load(path)` reads it back.
    """
    from pallets_keras.models import PaletteAutoencoder

    if not isinstance(model, PaletteAutoencoder):
        raise TypeError(f"save_preset takes a PaletteAutoencoder, got {type(model).__name__}.")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700 folders
        # save_weights also writes a compiled model's optimizer state (2x the
        # weights for Adam) and its config carries the optimizer; a preset
        # ships the model alone, through an uncompiled twin.
        twin = type(model).from_config(model.get_config())
        twin.set_weights(model.get_weights())
        config = keras.saving.serialize_keras_object(twin)
        (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=1, sort_keys=True))
        twin.save_weights(tmp / WEIGHTS_FILE)
        meta = {
            "name": path.name,
            "format_version": FORMAT_VERSION,
            "description": "",
            "variant": model.variant,
            "representation": model.representation,
            "latent": model.latent,
            "conditioning": model.conditioning,
            "image_size": list(model.image_size),
            "palette": model.palette_colors,
            "palette_size": model.palette_size,
            "label_names": model.label_names,
            "parameter_count": int(model.count_params()),
            "build_options": model.build_options,
            "keras_version": keras.__version__,
            "pallets_keras_version": __version__,
        }
        meta.update(metadata or {})
        meta["format_version"] = FORMAT_VERSION
        meta["files"] = {f: io_utils.sha256_file(tmp / f) for f in (CONFIG_FILE, WEIGHTS_FILE)}
        (tmp / METADATA_FILE).write_text(json.dumps(_jsonable(meta), indent=1))
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            path.rename(old)
            tmp.rename(path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    return obj
