"""`pallets finetune`: a preset adapted to the user's sprites and fine-tuned,
resumable from its checkpoint."""

import contextlib
import shutil
import time
from pathlib import Path

import click

from pallets_keras.cli import inputs
from pallets_keras.cli.common import NAME, NON_NEGATIVE, POSITIVE, Number, command, data_options
from pallets_keras.cli.env import note, progress_to_stderr, progress_verbose
from pallets_keras.cli.inputs import describe, plural
from pallets_keras.cli.train import (
    DATA_HELP,
    _data_record,
    _held_out_score,
    _load,
    _score_and_save,
    _split,
    fit_options,
)
from pallets_keras.errors import PalletsFileError, PalletsValueError


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
    from pallets_keras.zoo.metadata import training_record

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
    summary = training_record(history, time.time() - t0)
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
