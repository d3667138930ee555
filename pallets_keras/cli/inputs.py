"""What commands read and write, checked before any work: presets (the one
resolver), labels, images, data sets, and the paths given to -o. Each
mistake is a PalletsError naming the option and the fix."""

import difflib
from pathlib import Path

from pallets_keras.cli.env import note
from pallets_keras.errors import PalletsError, PalletsFileError, PalletsKeyError, PalletsValueError

# The most pixels of one grid image (1 GiB of RGBA): past it, --split or a
# smaller --scale.
MAX_GRID_PIXELS = 2**28


# ----------------------------------------------------------------- presets
def looks_like_path(text):
    return "/" in text or "\\" in text or text.startswith((".", "~"))


def as_path(path):
    """`path` as zoo.load and NAME read it as a folder: a bare name would be
    looked up in the zoo, so it gets a leading ./ ."""
    text = str(path)
    return text if looks_like_path(text) else f"./{text}"


def precheck_preset(name):
    """A missing preset folder, said before Keras loads."""
    if looks_like_path(name) and not Path(name).expanduser().is_dir():
        raise PalletsFileError(f"no preset folder at {name}")


def resolve_preset(name):
    """A zoo name or a preset folder, checked, with close names suggested."""
    from pallets_keras import zoo

    if looks_like_path(name):
        precheck_preset(name)
        return name
    names = zoo.list_models()
    if name in names:
        return name
    if (Path(name) / "metadata.json").is_file():  # a preset folder in the current folder
        return f"./{name}"
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    msg = f"no preset named {name!r}"
    if close:
        msg += f"; did you mean {' or '.join(close)}?"
    elif names:
        msg += f"; `pallets zoo list` shows the zoo's {len(names)} preset(s)"
    else:
        msg += "; this install's zoo has no presets yet (pass a preset folder instead)"
    raise PalletsKeyError(msg)


def load_model(name, **kwargs):
    from pallets_keras import zoo

    return zoo.load(resolve_preset(name), **kwargs)


# ------------------------------------------------------------------ labels
def _split_names(values):
    return [s.strip() for v in values for s in v.split(",") if s.strip()]


def labels(model, labels_on, labels_off, name, steer):
    """The labels dict for a model from --label/--no-label (None for
    unconditioned models), with one-line errors for names it lacks."""
    on, off = _split_names(labels_on), _split_names(labels_off)
    if model.conditioning == "none":
        if on or off:
            raise PalletsValueError(f"{name} ({model.variant}) is not conditioned on labels; "
                                    "drop --label/--no-label")
        return None
    for label in on + off:
        if label not in model.label_names:
            close = difflib.get_close_matches(label, model.label_names, n=3, cutoff=0.6)
            hint = f"did you mean {' or '.join(close)}? " if close else ""
            raise PalletsKeyError(f"unknown label {label!r} for {name}; {hint}"
                                  f"(`pallets zoo info {name}` lists its "
                                  f"{len(model.label_names)} labels)")
    both = sorted(set(on) & set(off))
    if both:
        raise PalletsValueError(f"label {both[0]!r} is given to both --label and --no-label")
    if steer and model.conditioning == "labeled":
        if on or off:
            raise PalletsValueError(
                f"{name} ({model.variant}) feeds labels to its encoder only, so they "
                "cannot steer generation; use a conditional preset (cvae, conv_cvae, "
                "earring_gsvae)")
        return None
    on = list(dict.fromkeys(on))
    rest = len(model.label_names) - len(on)
    if not on:
        note(f"labels: all {rest} set to 0 (choose some with --label NAME)")
    else:
        note(f"labels: {', '.join(f'{n}=1' for n in on)}"
             + (f"; the other {rest} are 0" if rest else ""))
    return {label: 1 for label in on}


# ------------------------------------------------------------------ images
def image_files(paths):
    files = []
    for p in paths:
        path = Path(p).expanduser()
        if not path.exists():
            raise PalletsFileError(f"no such image file: {path}")
        if path.is_dir():
            raise PalletsFileError(f"{path} is a folder; pass image files (e.g. {path}/*.png)")
        files.append(path)
    return files


def read_image(path):
    """(H, W, 4) uint8 RGBA of an image file's first frame, alpha kept
    (`folder.read_image`, the loader's own reader)."""
    from pallets_keras.datasets.folder import read_image

    return read_image(path)


def upscale(rgba, scale):
    return rgba if scale == 1 else rgba.repeat(scale, axis=-3).repeat(scale, axis=-2)


def check_size(rgba, model, name, path):
    h, w = rgba.shape[:2]
    mh, mw = model.image_size
    if (h, w) == (mh, mw):
        return
    hint = ""
    f = h // mh
    if f > 1 and (h, w) == (mh * f, mw * f) and (upscale(rgba[::f, ::f], f) == rgba).all():
        hint = f" (it is a {f}x upscale: shrink it by {f} with nearest-neighbour)"
    raise PalletsValueError(f"{path} is {w}x{h} pixels but {name} takes {mw}x{mh} "
                            f"images{hint}")


def snap(rgba, model, path):
    """Palette indices of one image, snapped to the model's palette, with a note."""
    idx, report = model.palette.encode(rgba[None], snap=True, return_report=True)
    if report.pixels_moved:
        note(f"{path}: {report.pixels_moved} of {report.total_pixels} pixels "
             f"({100 * report.share_moved:.1f}%) were not in the model's "
             f"{model.palette_size}-colour palette and were snapped to the nearest colour")
    else:
        note(f"{path}: all {report.total_pixels} pixels are palette colours (none snapped)")
    return idx[0], report


# ----------------------------------------------------------------- outputs
def out_file(path):
    """-o naming an image file: a known extension, in a writable place (said
    before anything is loaded or generated)."""
    from pallets_keras import io_utils, plot

    out = Path(path).expanduser()
    if out.is_dir():
        raise PalletsFileError(f"-o {out} is a folder; -o takes the image file to write "
                               "(e.g. grid.png)")
    try:
        plot.image_format(out)
    except PalletsError as e:
        raise PalletsValueError(f"-o {e}") from None
    return io_utils.check_writable(out, what="-o")


def out_dir(path):
    """-o naming a folder of images, checked writable before the work."""
    from pallets_keras import io_utils

    out = Path(path).expanduser()
    if out.exists() and not out.is_dir():
        raise PalletsFileError(f"-o {out} is a file; -o takes a folder here")
    return io_utils.check_writable(out, what="-o", want_dir=True)


def out_preset(path, overwrite=False, flag="-o"):
    """A preset folder to write: checked before data, models or training are
    loaded (a file or a folder of other things is refused unless --overwrite)."""
    from pallets_keras import zoo

    out = Path(path).expanduser()
    try:
        zoo.check_save_path(out, overwrite=overwrite)
    except PalletsError as e:
        text = str(e).replace("pass overwrite=True", "pass --overwrite")
        raise type(e)(f"{flag} {text}") from None
    return out


def check_grid(n, cols, scale, image_size):
    """Refuses a grid image too large to hold, before generating it."""
    from pallets_keras.plot import grid_shape

    rows, cols = grid_shape(n, cols)
    h, w = image_size
    height, width = (rows * (h + 1) + 1) * scale, (cols * (w + 1) + 1) * scale
    if height * width > MAX_GRID_PIXELS:
        raise PalletsValueError(
            f"a grid of {n:,} images at --scale {scale} would be {width:,}x{height:,} "
            f"pixels (more than {MAX_GRID_PIXELS:,}); lower --scale or -n, or write single "
            "images with --split")


# -------------------------------------------------------------------- data
def is_cpunks(spec):
    return spec.lower() == "cpunks" and not Path(spec).exists()


def load_data(spec, tile_size=None, max_colors=None, palette=None, loader=None):
    """('cpunks' | a folder or sheet) -> PixelDataset, before Keras loads: the
    one data loader of the commands. `loader`: more folder.load options
    (margin, spacing, ragged, ...)."""
    loader = dict(loader or {})
    if is_cpunks(spec):
        if tile_size or max_colors or loader:
            flags = ["--" + k.replace("_", "-") for k in loader]
            raise PalletsValueError(f"{', '.join(['--tile-size', '--max-colors'] + flags)} "
                                    "apply to a folder of sprites, not to cpunks")
        from pallets_keras.datasets import cpunks

        return cpunks.load()
    from pallets_keras.datasets import folder

    path = Path(spec).expanduser()
    if not path.exists():
        raise PalletsFileError(f"no such data folder or image file: {path} (--data takes "
                               "'cpunks', a folder of sprites or one sprite sheet, in any "
                               "format Pillow reads: PNG, GIF, BMP, XPM, WebP, ...)")
    kwargs = {} if max_colors is None else {"max_colors": max_colors}
    return folder.load(path, tile_size=tile_size, palette=palette, **kwargs, **loader)


def plural(n, word):
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def describe(spec, ds):
    """One line on the data set and, for a folder or sheet, its load report
    (`folder.LoadReport`'s few lines: tiles left out, ragged edges, colours
    quantized, files skipped and why), indented under it."""
    line = (f"{spec}: {plural(len(ds), 'image')} {ds.image_size[1]}x{ds.image_size[0]}, "
            f"{len(ds.palette)} colours, {plural(ds.num_labels, 'label')}")
    if ds.load_report is None:
        return line
    return "\n".join([line] + ["  " + row for row in str(ds.load_report).splitlines()[1:]])
