"""The `pallets` command line: the zoo, generation, reconstruction, training,
fine-tuning, hyperparameter search and evaluation (built on click).

One module per command group: `zoo` (list, info), `generate` (generate,
reconstruct, interpolate), `train`, `finetune`, `tune`, `eval`; shared
option types and the command decorator in `common`, inputs and outputs
checked before any work in `inputs`, the process around a command (backend,
stderr) in `env`.

Every command takes `--backend {tensorflow,jax,torch}`. Keras reads its
backend once, when it is first imported, so no module here imports Keras at
import time: a command sets `KERAS_BACKEND`, then imports what it needs.

Output: files a command writes are printed on stdout (one path a line),
tables and JSON too; notes (seeds, snapped pixels) and progress go to stderr.
A user's mistake (a `PalletsError`, or a bad option) exits with status 2 and
one line on stderr, `pallets: error: ...`; `--debug` shows the traceback
instead, and the backends' native log lines, which are otherwise filtered out.
Any other exception is a bug of the library and keeps its traceback.

Examples:
    pallets zoo list
    pallets generate onehot_vae -n 64 --seed 0 -o punks.png
    pallets generate cvae -n 16 --label earring --seed 0 -o earrings.png
    pallets train --recipe zoo/recipes/onehot_vae.json -o zoo/onehot_vae
"""

import os
import sys
import warnings

import click

from pallets_keras.cli import eval as eval_cmd
from pallets_keras.cli import finetune, generate, train, tune, zoo
from pallets_keras.cli.common import Run, epilog, global_options, parse_tile_size
from pallets_keras.cli.env import BACKENDS  # noqa: F401  (the backends --backend takes)
from pallets_keras.cli.inputs import as_path as _as_path  # noqa: F401
from pallets_keras.cli.inputs import load_data as _load_data  # noqa: F401
from pallets_keras.cli.tables import target_rows as _target_rows  # noqa: F401
from pallets_keras.errors import PalletsError, PalletsValueError
from pallets_keras.version import __version__

EXIT_ERROR = 2

# Deprecated: the argparse-era name of the CLI's own user error; raise a
# PalletsError subclass (pallets_keras.errors) instead.
CLIError = PalletsValueError


@click.group(
    "pallets", context_settings={"help_option_names": ["-h", "--help"]},
    help="Palette-exact pixel-art autoencoders for Keras 3: generate, reconstruct, "
         "interpolate, train, fine-tune, tune and evaluate models from the pallets_keras "
         "zoo.",
    epilog=epilog(["pallets zoo list", "pallets zoo info onehot_vae",
                   "pallets generate onehot_vae -n 64 --seed 0 -o punks.png",
                   "pallets --backend jax generate cvae --label earring -o earrings.png",
                   "pallets eval onehot_vae --n 200"],
                  "NAME is a zoo preset (see `pallets zoo list`) or a preset folder (e.g. "
                  "./my_preset). Run `pallets COMMAND --help` for a command's options."))
@click.version_option(__version__, "--version", prog_name="pallets",
                      message="%(prog)s %(version)s")
@global_options
def pallets():
    pass


for _command in (zoo.zoo, generate.generate, generate.reconstruct, generate.interpolate,
                 train.train, finetune.finetune, tune.tune, eval_cmd.eval_):
    pallets.add_command(_command)


def _tile_size(text):
    """Deprecated (the argparse-era parser of --tile-size): use
    `common.parse_tile_size`, which raises PalletsValueError."""
    import argparse

    try:
        return parse_tile_size(text)
    except PalletsValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _show_warning(message, category, filename, lineno, file=None, line=None):
    text = " ".join(str(message).split())
    print(f"pallets: warning: {text}", file=sys.stderr, flush=True)


def _one_line(text):
    text = " ".join(str(text).split())
    return text if len(text) <= 600 else text[:597] + "..."


def _usage_line(e):
    """A click usage error as argparse said it: `OPTION: what is wrong`."""
    param = getattr(e, "param", None)
    if type(e) is click.BadParameter and param is not None:
        name = "/".join(param.opts) if isinstance(param, click.Option) else \
            param.human_readable_name
        text = f"{name}: {e.message}"
    else:
        text = e.format_message()
    where = e.ctx.command_path if e.ctx is not None else "pallets"
    return f"pallets: error: {_one_line(text)} (see `{where} --help`)"


def main(argv=None):
    """Runs the `pallets` command line; returns the exit status.

    A bad option or argument prints one line and raises SystemExit(2) (as
    argparse did); a PalletsError from the command prints one line and
    returns 2 (with --debug it is raised); any other exception propagates."""
    argv = list(sys.argv[1:] if argv is None else argv)
    run = Run()
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        # Presets carry their optimizer's state; loading one into a model compiled
        # anew (other trainable set, e.g. after a frozen-body fine-tune) skips it,
        # which changes nothing here.
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        try:
            status = pallets.main(argv, prog_name="pallets", standalone_mode=False, obj=run)
        except click.exceptions.NoArgsIsHelpError as e:
            click.echo(e.ctx.get_help(), err=True)
            raise SystemExit(EXIT_ERROR) from None
        except click.UsageError as e:
            click.echo(_usage_line(e), err=True)
            raise SystemExit(EXIT_ERROR) from None
        except click.ClickException as e:
            click.echo(f"pallets: error: {_one_line(e.format_message())}", err=True)
            return EXIT_ERROR
        except PalletsError as e:
            if run.debug:
                raise
            click.echo(f"pallets: error: {_one_line(e) or type(e).__name__}", err=True)
            return EXIT_ERROR
        except click.Abort:  # KeyboardInterrupt, as click passes it on
            click.echo("pallets: error: interrupted", err=True)
            return 130
        except BrokenPipeError:  # e.g. `pallets zoo list | head -1`
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 141
    sys.stdout.flush()
    return int(status or 0)
