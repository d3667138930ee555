"""What every command shares: option types with one-line messages, the
command decorator (examples in the help, `--backend`/`--debug`, the backend
set before the command imports Keras), and the shared option groups."""

import functools
import math

import click

from pallets_keras.cli import env
from pallets_keras.errors import PalletsValueError

MAX_SEED = 2**32 - 1  # pallets_keras.validation.MAX_SEED, without importing it


class WholeNumber(click.IntRange):
    """An int in [min, max] (click's IntRange) whose messages say the rule:
    "must be a whole number > 0, got 0", "must be at most 100, got 200; FIX";
    `interval=True` says "must be a whole number in [MIN, MAX]" instead."""

    name = "integer"

    def __init__(self, min=None, max=None, fix=None, interval=False):
        super().__init__(min=min, max=max)
        self.fix, self.interval = fix, interval

    def convert(self, value, param, ctx):
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = int(str(value).strip())
            except ValueError:
                self.fail(f"expected a whole number, got {value!r}", param, ctx)
        low, high = self.min, self.max
        below, above = low is not None and number < low, high is not None and number > high
        if self.interval and (below or above):
            self.fail(f"must be a whole number in [{low}, {high}], got {number}", param, ctx)
        if below:
            rule = "> 0" if low == 1 else f">= {low}"
            self.fail(f"must be a whole number {rule}, got {number}", param, ctx)
        if above:
            fix = f"; {self.fix}" if self.fix else ""
            self.fail(f"must be at most {high:,}, got {number:,}{fix}", param, ctx)
        return number


class Number(click.FloatRange):
    """A finite float >= min (or > min with min_open), said in one line."""

    name = "number"

    def __init__(self, min=0.0, min_open=False):
        super().__init__(min=min, min_open=min_open)

    def convert(self, value, param, ctx):
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"expected a number, got {value!r}", param, ctx)
        op = ">" if self.min_open else ">="
        ok = number > self.min if self.min_open else number >= self.min
        if not (ok and math.isfinite(number)):
            self.fail(f"must be a finite number {op} {self.min:g}, got {value}", param, ctx)
        return number


def parse_tile_size(text):
    """"N" (N x N) or "H,W" / "HxW" (height, width) -> N or (H, W), as the
    Python API's tile_size=N or (H, W). Raises PalletsValueError."""
    text = str(text)
    parts = text.replace("x", ",").split(",") if text else [text]
    if len(parts) not in (1, 2):
        raise PalletsValueError(f"expected N or HEIGHT,WIDTH (e.g. 16 or 16,8), got {text!r}")
    sizes = []
    for part in parts:
        try:
            size = int(part.strip())
        except ValueError:
            raise PalletsValueError(f"expected a whole number, got {part!r}") from None
        if size <= 0:
            raise PalletsValueError(f"must be a whole number > 0, got {size}")
        sizes.append(size)
    return sizes[0] if len(sizes) == 1 else tuple(sizes)


class TileSize(click.ParamType):
    name = "N|H,W"

    def convert(self, value, param, ctx):
        if isinstance(value, (int, tuple)):
            return value
        try:
            return parse_tile_size(value)
        except PalletsValueError as e:
            self.fail(str(e), param, ctx)


POSITIVE = WholeNumber(min=1)
NON_NEGATIVE = WholeNumber(min=0)
SEED = WholeNumber(min=0, max=MAX_SEED, interval=True)


# ------------------------------------------------------------ the commands
class Run:
    """One `pallets` invocation's global settings (click's ctx.obj)."""

    def __init__(self):
        self.backend = None
        self.debug = False


def _store(attr):
    def callback(ctx, param, value):
        run = ctx.ensure_object(Run)
        if value is not None and value is not False:
            setattr(run, attr, value)
        return value

    return callback


def global_options(f):
    """--backend and --debug, on the root and on every command (a command's
    value overrides the root's)."""
    f = click.option("--debug", is_flag=True, default=False, expose_value=False,
                     is_eager=True, callback=_store("debug"),
                     help="on error show the traceback; keep the backends' native "
                          "log lines")(f)
    return click.option("--backend", type=click.Choice(env.BACKENDS), default=None,
                        expose_value=False, is_eager=True, callback=_store("backend"),
                        help="Keras backend to run on (default: $KERAS_BACKEND, else "
                             "Keras' own default)")(f)


def epilog(examples, note=None):
    lines = ["\b", "examples:"] + [f"  {e}" for e in examples]
    return "\n".join(lines) + (f"\n\n{note}" if note else "")


def command(group, name, help, examples, **kwargs):
    """A command (of `group`, when given) with its examples in --help and the global
    options; the backend is set, and the native log filter on, before the
    function runs (and so before it imports Keras)."""

    def decorate(fn):
        @functools.wraps(fn)
        def run_it(**params):
            run = click.get_current_context().ensure_object(Run)
            env.set_backend(run.backend)
            with env.filtered_native_stderr(not run.debug):
                return fn(**params)

        cmd = click.command(name, help=help, short_help=kwargs.pop("short_help", None),
                            epilog=epilog(examples), **kwargs)(global_options(run_it))
        if group is not None:
            group.add_command(cmd)
        return cmd

    return decorate


# -------------------------------------------------------- shared options
NAME = click.argument("name", metavar="NAME")


def label_options(what):
    def decorate(f):
        f = click.option("--no-label", "labels_off", multiple=True, metavar="NAME",
                         help="labels set to 0 (the default for every label; checked and "
                              "stated)")(f)
        return click.option("--label", "labels_on", multiple=True, metavar="NAME",
                            help=f"conditioned models: labels set to 1 {what} (repeat the "
                                 "flag, or give a comma list); every other label is "
                                 "0")(f)

    return decorate


_DATA_OPTIONS = [
    click.option("--tile-size", type=TileSize(), default=None,
                 help="a folder: cut each file into N x N tiles, or H,W (height, width) "
                      "tiles (sprite sheets)"),
    click.option("--max-colors", type=POSITIVE, default=None, metavar="K",
                 help="a folder: quantize to at most K colours (default 256)"),
    click.option("--margin", type=NON_NEGATIVE, default=0, metavar="PX",
                 help="pixels around the tile grid of each sheet (Tiled's name; default 0)"),
    click.option("--spacing", type=NON_NEGATIVE, default=0, metavar="PX",
                 help="pixels between tiles (Tiled's name; default 0)"),
    click.option("--ragged", type=click.Choice(("error", "drop", "pad")), default="error",
                 help="a sheet that is not a whole number of tiles: stop with an error "
                      "(default), drop the partial tiles, or pad them with transparency"),
    click.option("--frames", type=click.Choice(("all", "first")), default="all",
                 help="animated GIF/APNG: every frame is an image (default) or the first "
                      "only"),
    click.option("--drop-duplicates", is_flag=True,
                 help="leave out tiles identical to an earlier one"),
    click.option("--min-coverage", type=click.FloatRange(0, 1, max_open=True), default=0.0,
                 metavar="SHARE",
                 help="leave out tiles with less than this share of visible pixels (e.g. "
                      "0.02; default 0: only fully clear tiles are left out)"),
    click.option("--quantizer", default="kmeans",
                 type=click.Choice(("kmeans", "mediancut", "maxcoverage", "fastoctree",
                                    "libimagequant")),
                 help="how --max-colors picks the colours (default kmeans; opaque pixels "
                      "stay opaque)"),
]
LOADER_DEFAULTS = {"margin": 0, "spacing": 0, "ragged": "error", "frames": "all",
                   "drop_duplicates": False, "min_coverage": 0.0, "quantizer": "kmeans"}


def data_options(f):
    """folder.load's options: --tile-size, --max-colors, --margin, ..."""
    for option in reversed(_DATA_OPTIONS):
        f = option(f)
    return f


def loader_options(params):
    """folder.load's options from the data flags, the defaults left out."""
    return {k: params[k] for k, default in LOADER_DEFAULTS.items() if params[k] != default}
