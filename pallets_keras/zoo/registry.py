"""The zoo: pretrained presets by name, checked by hash before anything is built.

A preset is a folder with `config.json` (the serialized Keras model),
`model.weights.h5` and `metadata.json` (name, format version, variant,
palette, image size, label names, parameter count, figures, recipe, versions
and the sha256 of the other two files). Presets ship inside the wheel (the
repository's top-level `zoo/` folder becomes `pallets_keras.presets`).
"""

import difflib
import fnmatch
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import warnings
import zlib
from pathlib import Path

import keras
import numpy as np

from pallets_keras import io_utils, validation
from pallets_keras.errors import (
    PalletsFileError,
    PalletsFileNotFoundError,
    PalletsTypeError,
    PalletsValueError,
)
from pallets_keras.layers import PaletteLookup
from pallets_keras.optimizers import Adam
from pallets_keras.palette import Palette
from pallets_keras.priors.storage import load_priors, save_priors
from pallets_keras.version import __version__

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"
MAX_PALETTE_SIZE = 4096
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


# Files a preset folder may hold besides those its metadata lists (and hashes).
PRESET_FILES = (CONFIG_FILE, WEIGHTS_FILE, METADATA_FILE)


class PresetError(PalletsValueError):
    """A preset that cannot be used: missing, tampered with, or too new."""


class DamagedPresetError(PresetError, PalletsFileError):
    """A preset file that is damaged or was changed (its hash does not match,
    or it cannot be read): both a `PresetError` and a `PalletsFileError`."""


def _damaged(file, why):
    return DamagedPresetError(
        f"{file} {why}: the preset is damaged (a cut download or copy, or a changed "
        "file) and was not loaded. Re-download it (reinstall pallets_keras for a zoo "
        "preset) or re-save it with zoo.save_preset.")


class PresetRecoveryWarning(UserWarning):
    """An earlier `save_preset` was cut short; a later load or save cleaned up
    after it (and restored the previous preset where it was hidden)."""


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
    ['conv_cvae', 'cvae']
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
        _recover(path)
        if not path.is_dir():
            raise PalletsFileNotFoundError(
                f"No preset folder at {path}. Check the path, or pass a zoo name "
                "(pallets zoo list).")
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


# The key of metadata.json that ties its figures to its weights (see `figures_digest`).
FIGURES_DIGEST = "figures_sha256"


def figures_digest(meta):
    """sha256 of a preset's recorded figures ("metrics") together with the
    hashes of its files: a figure edited by hand, or weights swapped under
    the same figures, no longer match the digest that `save_preset` wrote."""
    tied = {"metrics": meta.get("metrics", {}), "files": meta.get("files", {})}
    return hashlib.sha256(json.dumps(tied, sort_keys=True).encode()).hexdigest()


def _verify(path, meta):
    files = meta.get("files", {})
    if not isinstance(files, dict):
        raise PresetError(f"{path / METADATA_FILE}: 'files' must map file names to sha256.")
    for fname in (CONFIG_FILE, WEIGHTS_FILE):
        if files.get(fname) is None:
            raise PresetError(f"{path / METADATA_FILE} records no hash for {fname}.")
    # Every recorded file is checked, not a fixed list: a preset may carry
    # more files (e.g. fitted priors) than these two.
    for fname, want in files.items():
        if Path(fname).name != fname or fname in ("", ".", ".."):
            raise PresetError(f"{path / METADATA_FILE} lists {fname!r}, which is not a "
                              "file name inside the preset folder.")
        if not (path / fname).is_file():
            raise PresetError(f"{path} is not a complete preset: missing {fname}, which "
                              f"{METADATA_FILE} lists.")
        got = io_utils.sha256_file(path / fname)
        if got != want:
            size = (path / fname).stat().st_size
            raise _damaged(path / fname, f"does not match its recorded sha256 in "
                                         f"{METADATA_FILE} ({size:,} bytes)")
    # Presets written before the digest existed have none; every zoo preset does.
    if FIGURES_DIGEST in meta and meta[FIGURES_DIGEST] != figures_digest(meta):
        raise DamagedPresetError(
            f"{path / METADATA_FILE}: its figures (\"metrics\") are not the ones saved with "
            f"these weights ({FIGURES_DIGEST} does not match): the file was edited after "
            "the preset was saved. Re-measure and re-save it with zoo.save_preset, or "
            "restore the preset folder from where it came.")


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
        image_size: optional (H, W), or an int for square images; a conv body
            adapts (its size-dependent bottleneck layers are re-created), a
            dense body cannot.
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
    try:
        model = keras.saving.deserialize_keras_object(config)
    except TypeError as e:
        # Keras appends the whole config (hundreds of lines) to this message.
        if not str(e).startswith("Could not locate class"):
            raise
        raise PresetError(
            f"{path / CONFIG_FILE} names a class this pallets_keras ({__version__}) does not "
            f"have: {str(e).split('.')[0].removeprefix('Could not locate ')}. Upgrade "
            "pallets_keras, or re-save the preset with this version.") from None
    try:
        model.load_weights(path / WEIGHTS_FILE)
    except OSError as e:  # h5py: a truncated or garbled file whose hash was re-recorded
        raise _damaged(path / WEIGHTS_FILE, f"cannot be read ({' '.join(str(e).split())})") \
            from None
    load_priors(model, path, meta)
    model.preset_metadata = meta
    if palette is not None or image_size is not None:
        model = adapt(model, palette=palette, image_size=image_size, seed=seed)
    if compile:
        model.compile(optimizer=Adam(1e-3))
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
        raise PalletsValueError(
            f"A palette of {len(palette)} colours is more than a model takes "
            f"({MAX_PALETTE_SIZE}); quantize it: Palette.quantize(images, 256).")
    new_size = (validation.check_image_size(image_size) if image_size is not None
                else tuple(model.image_size))
    from pallets_keras.models.registry import get_body
    from pallets_keras.models.variants import axes

    _, body, _, _, _ = axes(model.variant)
    if get_body(body).fixed_size and new_size != tuple(model.image_size):
        raise PalletsValueError(
            f"{model.variant} has a {body} body whose weights are tied to "
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
            is_end = layer.name in model.palette_end_layers
            if all(same) and len(old.weights) == len(layer.weights) and not (
                    is_end and palette_changed):
                layer.set_weights(old.get_weights())
            elif is_end and palette_changed and not isinstance(layer, PaletteLookup):
                _init_from_nearest_colours(layer, old, new.palette, model.palette)
                reinit.append(layer.name)
            else:
                if not isinstance(layer, PaletteLookup):  # built from the palette itself
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
        # get_config/from_config rather than keras.initializers.serialize:
        # Keras' serialization imports TensorFlow whenever it is installed
        # (5 s, 700 MB and its log lines on JAX and PyTorch).
        config = initializer.get_config()
        if "seed" in config:
            config["seed"] = zlib.crc32(f"{seed}/{layer.name}/{name}".encode())
        fresh = type(initializer).from_config(config)
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


def save_preset(model, path, metadata=None, overwrite=False):
    """Writes `model` as a preset folder; nothing is lost on the way.

    The preset is written into a hidden folder beside `path`, flushed to disk,
    then swapped with `path` in one atomic step (`renameat2(RENAME_EXCHANGE)`
    on Linux, `renamex_np(RENAME_SWAP)` on macOS): at every instant `path`
    holds the complete old preset or the complete new one, even if the process
    is killed. Where no atomic exchange exists, two renames are used instead,
    undone if interrupted between them; a kill between them is repaired by the
    next `load` or `save_preset` of `path`, which also removes the hidden
    `.NAME.tmp-*` / `.NAME.old-*` folders a cut save leaves, and says so with a
    `PresetRecoveryWarning`.

    Args:
        model: a `PaletteAutoencoder`.
        path: the folder to write. A preset folder there is replaced; a
            folder holding anything else, or a file, is refused unless
            `overwrite=True`.
        metadata: optional dict merged into the generated metadata (e.g.
            "description", "metrics", "recipe").
        overwrite: bool, replace whatever is at `path` (it is deleted once
            the new preset is in place).

    Returns:
        The folder's Path. `load(path)` reads it back.

    Raises:
        PalletsTypeError: `model` is not a `PaletteAutoencoder`, or `path`
            not a str or path.
        PalletsFileError: `path` is a file or a folder that is not a preset
            (and `overwrite` is False), or its place cannot be written.

    Example:
    >>> save_preset(model, "my_preset/")
    >>> model = load("my_preset/")
    """
    from pallets_keras.models import PaletteAutoencoder

    if not isinstance(model, PaletteAutoencoder):
        raise PalletsTypeError(
            f"save_preset: model must be a PaletteAutoencoder (from pallets_keras.models."
            f"build or zoo.load), got {type(model).__name__}.")
    if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
        raise PalletsTypeError(f"save_preset: path must be a folder path (str or Path), "
                               f"got {path!r}.")
    if not isinstance(overwrite, bool):
        raise PalletsTypeError(f"save_preset: overwrite must be True or False, "
                               f"got {overwrite!r}.")
    path = Path(path).expanduser()
    # A link to a preset folder keeps pointing at it: the swap happens at its
    # target. abspath gives "." and ".." a name to hide the new copy beside.
    target = Path(os.path.realpath(path) if path.is_symlink() else os.path.abspath(path))
    _recover(target, stacklevel=3)
    check_save_path(target, overwrite=overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = old = None
    try:
        tmp = Path(tempfile.mkdtemp(dir=target.parent,
                                    prefix=f".{target.name}.tmp-{os.getpid()}-"))
        old = _old_name(tmp)
        _ACTIVE_SAVES.update((str(tmp), str(old)))
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700 folders
        # save_weights also writes a compiled model's optimizer state (2x the
        # weights for Adam) and its config carries the optimizer; a preset
        # ships the model alone, through an uncompiled twin.
        if keras.backend.backend() != "tensorflow":
            # Keras' serialization imports TensorFlow when it is installed:
            # first, without its native log lines on the user's stderr.
            from pallets_keras.native_logs import import_tensorflow_quietly

            import_tensorflow_quietly()
        twin = type(model).from_config(model.get_config())
        twin.set_weights(model.get_weights())
        config = keras.saving.serialize_keras_object(twin)
        (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=1, sort_keys=True))
        twin.save_weights(tmp / WEIGHTS_FILE)
        prior_meta = save_priors(model, tmp)
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
        meta.update(prior_meta)
        meta["format_version"] = FORMAT_VERSION
        # Every file written so far is hashed, whatever its name: load checks them all.
        meta["files"] = {f.name: io_utils.sha256_file(f) for f in sorted(tmp.iterdir())
                         if f.is_file() and f.name != METADATA_FILE}
        meta = _jsonable(meta)
        meta[FIGURES_DIGEST] = figures_digest(meta)
        (tmp / METADATA_FILE).write_text(json.dumps(meta, indent=1))
        io_utils.fsync_tree(tmp)
        replaced = _publish(tmp, old, target)
        if replaced is not None:
            _remove(replaced)
    finally:
        _ACTIVE_SAVES.difference_update((str(tmp), str(old)))
        # This save's hidden folders, found by name (an interruption may come
        # before `tmp` is even assigned): the unfinished new preset, or the
        # replaced old one once `target` holds a complete preset. An old one
        # with `target` missing stays for the next load to restore.
        for leftover, kind in _leftovers(target):
            if leftover.name.startswith(f".{target.name}.{kind}-{os.getpid()}-") and (
                    kind == "tmp" or os.path.lexists(target)):
                _remove(leftover, ignore_errors=True)
    return path


def check_save_path(path, overwrite=False):
    """Checks that `save_preset(model, path)` can write `path` and would lose nothing.

    Call it before training, so that a bad output path fails in a second, not
    after the work. `save_preset` runs it too.

    Args:
        path: the preset folder to write.
        overwrite: bool, as in `save_preset`: allow replacing a file or a
            folder that is not a preset.

    Returns:
        The path, as a `Path`.

    Raises:
        PalletsFileError: `path` is a file, or a folder holding anything but a
            preset (naming what is there), and `overwrite` is False; or no
            folder can be created or written there.

    Example:
    >>> check_save_path("my_preset/")
    """
    path = Path(path).expanduser()
    if os.path.lexists(path) and not overwrite:
        if not path.is_dir():
            kind = "a link to nowhere" if path.is_symlink() else (
                f"a file ({path.stat().st_size:,} bytes)" if path.is_file() else "not a folder")
            raise PalletsFileError(
                f"{path} is {kind}, not a preset folder: save_preset would replace it. "
                "Choose another path, or pass overwrite=True to replace it.")
        foreign = _foreign_entries(path)
        if foreign:
            shown = ", ".join(sorted(foreign)[:5]) + (
                f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
            kind = ("a preset folder that also holds other things"
                    if (path / METADATA_FILE).is_file() else "a folder that is not a preset")
            raise PalletsFileError(
                f"{path} is {kind} ({shown}): save_preset would delete them. Choose a new "
                "or empty folder, or pass overwrite=True to replace the whole folder.")
    # The new preset is written beside `path`, so it is its folder that must be writable.
    io_utils.check_writable(path, what="preset folder")
    return path


# Saves in progress in this process: their hidden folders are not leftovers.
_ACTIVE_SAVES = set()
# `.NAME.tmp-PID-XXXXXXXX` (a save being written) and `.NAME.old-PID-XXXXXXXX`
# (the replaced preset, on its way out) beside the preset folder NAME.
_SIDE = re.compile(r"(?P<kind>tmp|old)-(?P<pid>\d+)-[A-Za-z0-9_]+")
# Before safe saves: mkdtemp's `.NAME.XXXXXXXX` and `.NAME.old`.
_LEGACY_TMP = re.compile(r"[a-z0-9_]{8}")


def _old_name(tmp):
    return tmp.with_name(tmp.name.replace(".tmp-", ".old-", 1))


def _publish(tmp, old, target):
    """Puts the finished folder `tmp` at `target`. Returns where the replaced
    content now is (to delete), or None when `target` did not exist."""
    if not os.path.lexists(target):
        os.rename(tmp, target)  # atomic; fails rather than replace a non-empty folder
        return None
    if io_utils.exchange_paths(tmp, target):
        return tmp
    # No atomic exchange on this system: two renames. `target` is missing
    # between them; an exception there is undone at once, and a kill is
    # repaired by the next load or save (`_recover` restores `old`).
    try:
        os.rename(target, old)
        os.rename(tmp, target)
    except BaseException:
        # Whether the interruption came before, during or after either rename:
        # put the old preset back if it is hidden and nothing took its place.
        if os.path.lexists(old) and not os.path.lexists(target):
            os.rename(old, target)
        raise
    return old


def _remove(path, ignore_errors=False):
    path = Path(path)
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except OSError:
        if not ignore_errors:
            raise


# What file browsers drop into any folder they show: not worth refusing a save for.
_IGNORABLE = {".DS_Store", "Thumbs.db", "desktop.ini"}


def _foreign_entries(folder):
    """Names in `folder` that are not part of a preset (would be lost if it
    were replaced)."""
    known = set(PRESET_FILES) | _IGNORABLE
    try:
        files = json.loads((folder / METADATA_FILE).read_text()).get("files")
        if isinstance(files, dict):
            known.update(str(f) for f in files)
    except (OSError, ValueError, AttributeError):
        pass
    return [e.name for e in folder.iterdir()
            if e.name not in known or e.is_symlink() or not e.is_file()]


def _save_is_running(entry, pid):
    if pid == os.getpid():
        return str(entry) in _ACTIVE_SAVES
    if os.name == "nt":
        # os.kill(pid, 0) would terminate the process on Windows: trust age.
        try:
            return time.time() - entry.lstat().st_mtime < 3600
        except OSError:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return pid > 0
    return True


def _leftovers(path):
    """[(entry, "tmp" | "old")]: what interrupted saves of `path` left beside
    it, from processes that are no longer saving."""
    prefix = f".{path.name}."
    try:
        entries = [e for e in path.parent.iterdir() if e.name.startswith(prefix)]
    except OSError:
        return []
    found = []
    for entry in entries:
        rest = entry.name[len(prefix):]
        match = _SIDE.fullmatch(rest)
        if match:
            if not _save_is_running(entry, int(match["pid"])):
                found.append((entry, match["kind"]))
        elif (rest == "old" or _LEGACY_TMP.fullmatch(rest)) and entry.is_dir() \
                and not entry.is_symlink() and not _foreign_entries(entry):
            # An older pallets_keras's leftovers: only ever preset files.
            found.append((entry, "old" if rest == "old" else "tmp"))
    return found


def _is_complete(folder):
    try:
        _verify(folder, _read_metadata(folder))
    except (PresetError, OSError):
        return False
    return True


def _recover(path, stacklevel=4):
    """Cleans up after saves of `path` that were cut short (killed or
    interrupted): restores the previous preset if it was left hidden while
    `path` is missing, removes unfinished and replaced copies, and warns."""
    leftovers = _leftovers(Path(path))
    if not leftovers:
        return
    notes = []
    if not os.path.lexists(path):
        olds = [e for e, kind in leftovers if kind == "old" and _is_complete(e)]
        olds.sort(key=lambda e: e.stat().st_mtime, reverse=True)
        if olds:
            try:
                os.rename(olds[0], path)
                notes.append(f"restored the previous preset from {olds[0].name}")
                leftovers = [(e, k) for e, k in leftovers if e != olds[0]]
            except OSError as e:
                notes.append(f"could not restore the previous preset from {olds[0].name} "
                             f"({e.strerror or e})")
    removed = []
    for entry, _ in leftovers:
        try:
            _remove(entry)
            removed.append(entry.name)
        except OSError as e:
            notes.append(f"could not remove {entry.name} ({e.strerror or e})")
    if removed:
        notes.append(f"removed {len(removed)} unfinished or replaced "
                     f"cop{'y' if len(removed) == 1 else 'ies'} ({', '.join(sorted(removed))})")
    warnings.warn(f"An earlier save_preset of {path} was cut short: {'; '.join(notes)}.",
                  PresetRecoveryWarning, stacklevel=stacklevel)


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
