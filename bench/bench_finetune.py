"""Fine-tuning on real tile sets from Debian packages, against training from scratch.

Fetches two Debian packages at run time with `apt-get download` (nothing is
vendored; everything goes under --work, /tmp by default), cuts their tiles
with one `folder.load` call per set, holds out a fixed 15% of the tiles, and
for the AE (`onehot_conv_ae`) and the VAE (`onehot_conv_vae`) compares

- the zoo preset fine-tuned with `pk.finetune` (its defaults: a 10% validation
  split of the training tiles, early stopping with the best weights restored,
  left-right flips) within a wall-clock budget, and
- the same model built from scratch and trained with the same split, flips,
  early stopping and plateau schedule for exactly the wall time the
  fine-tuning used.

Sets:
- NetHack 3.6's 16x16 tiles: the XPM `x11tiles` that `nethack-x11` reads
  (shipped in its data package `nethack-common`), 40x37 tiles, opaque.
- Freeciv 3.0's "trident" tileset from `freeciv-data`: the 30x30 grid sheets
  (terrain, roads, cities, units, explosions; their .spec files say
  x_top_left = 0, dx = dy = 30), quantized to 64 colours, padded to 32x32 with
  a clear border (the conv presets take multiples of 4).

Reported per set and model (bench/results_finetune_BACKEND.json, docs/finetune/*.png):
tiles, colours before/after quantizing, held-out reconstruction pixel
accuracy (all pixels, non-transparent pixels, and for NetHack pixels not of
the background colour), epochs and seconds, palette-exactness of samples
(VAE) and reconstructions, and for the VAE the samples' precision, recall,
density, coverage and Fréchet distance against the held-out tiles in the
label-free `PixelFeatures` space (with the training tiles' own figures as the
floor).

Usage (2 CPU cores: about 20 minutes; KERAS_BACKEND picks the backend):
    KERAS_BACKEND=jax nice -n 10 python bench/bench_finetune.py
    KERAS_BACKEND=jax python bench/bench_finetune.py --sets nethack --budget 30  # a quick look
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("KERAS_BACKEND", "jax")

MODELS = ("onehot_conv_ae", "onehot_conv_vae")
SETS = ("nethack", "freeciv")
TRIDENT_SHEETS = ("tiles.png", "roads.png", "cities.png", "units.png", "explosions.png")


# ------------------------------------------------------------------ fetching
def apt_download(package, work):
    """The .deb of `package` in `work` (apt-get download, apt-get update once if needed)."""
    work.mkdir(parents=True, exist_ok=True)
    found = sorted(work.glob(f"{package}_*.deb"))
    if found:
        return found[-1]
    for attempt in range(2):
        proc = subprocess.run(["apt-get", "download", package], cwd=work,
                              capture_output=True, text=True)
        found = sorted(work.glob(f"{package}_*.deb"))
        if found:
            return found[-1]
        if attempt == 0:
            subprocess.run(["apt-get", "update"], capture_output=True, text=True)
    raise SystemExit(f"apt-get download {package} failed:\n{proc.stderr}")


def unpack(deb, work):
    out = work / deb.stem
    if not out.exists():
        subprocess.run(["dpkg-deb", "-x", str(deb), str(out)], check=True)
    return out


def fetch_nethack(work):
    """(path, folder.load options) of NetHack's tile sheet."""
    root = unpack(apt_download("nethack-common", work), work)
    tiles = root / "usr/share/pixmaps/nethack/x11tiles"
    # Pillow reads the XPM; the .xpm name lets folder.load take it by format.
    sheet = work / "nethack" / "x11tiles.xpm"
    sheet.parent.mkdir(exist_ok=True)
    shutil.copyfile(tiles, sheet)
    return sheet, dict(tile_size=16, max_colors=64, drop_duplicates=True)


def fetch_freeciv(work):
    """(folder, folder.load options) of Freeciv's trident 30x30 sheets."""
    root = unpack(apt_download("freeciv-data", work), work)
    src = root / "usr/share/games/freeciv/trident"
    folder = work / "freeciv_trident"
    folder.mkdir(exist_ok=True)
    for name in TRIDENT_SHEETS:
        shutil.copyfile(src / name, folder / name)
    return folder, dict(tile_size=30, max_colors=64, drop_duplicates=True, min_coverage=0.02)


def source_colours(path):
    from PIL import Image

    from pallets_keras.datasets import folder

    files = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.is_file())
    seen = set()
    for f in files:
        rgba = folder.to_rgba(Image.open(f))
        flat = rgba.reshape(-1, 4).view(np.uint32).ravel()
        seen.update(np.unique(flat).tolist())
    return len(seen)


def pad_to_multiple(ds, multiple=4):
    """Pads the tiles with the clear colour to a multiple of `multiple`."""
    from pallets_keras.datasets.pixel_dataset import PixelDataset

    h, w = ds.image_size
    ph, pw = -h % multiple, -w % multiple
    if not ph and not pw:
        return ds
    clear = np.flatnonzero(ds.palette.colors[:, 3] == 0)
    if not len(clear):
        raise SystemExit("no clear colour to pad with")
    idx = np.pad(ds.indices, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2)),
                 constant_values=clear[0])
    out = PixelDataset(ds.palette, idx, name=ds.name)
    out.load_report = ds.load_report
    return out


# ------------------------------------------------------------------- scoring
def scores(model, test, train):
    from pallets_keras import metrics, training
    from pallets_keras.pixel_features import pixel_sample_quality

    acc = training.reconstruction_accuracy(model, test)
    pred_rgba = model.reconstruct(test.indices)
    out = {"pixel_accuracy": acc["pixel_accuracy"],
           "pixel_accuracy_visible": acc["pixel_accuracy_visible"],
           "reconstruction_palette_exact": metrics.palette_adherence(pred_rgba, model.palette)}
    counts = np.bincount(test.indices.ravel(), minlength=len(test.palette))
    background = int(np.argmax(counts))
    if test.palette.colors[background, 3] == 255:  # an opaque background (NetHack)
        pred = model.palette.encode(pred_rgba)
        keep = test.indices != background
        out["pixel_accuracy_not_background"] = float((pred == test.indices)[keep].mean())
    if model.latent != "none":
        samples = model.sample(64, seed=0)
        out["sample_palette_exact"] = metrics.palette_adherence(samples, model.palette)
        # No labels here: precision/recall in a label-free pixel feature space
        # (PCA of premultiplied RGBA, fitted on the training tiles).
        out["samples"] = {key: round(value, 4) for key, value in
                          pixel_sample_quality(model, train, test, n=1000, seed=0).items()}
    return out


def run_finetune(name, train, budget, seed=0):
    import pallets_keras as pk
    from pallets_keras import zoo

    model = zoo.load(name, palette=train.palette, image_size=train.image_size, seed=seed)
    t0 = time.monotonic()
    history = pk.finetune(model, train, max_seconds=budget, seed=seed, verbose=2)
    seconds = time.monotonic() - t0
    return model, seconds, history.report


def run_scratch(name, train, seconds, seed=0, learning_rate=2e-3):
    """The same variant from scratch, trained as `finetune` trains (same split,
    flips, early stopping, plateau schedule) for `seconds` of wall time."""
    import keras

    import pallets_keras as pk
    from pallets_keras import training, zoo
    from pallets_keras.callbacks import TimeLimit
    from pallets_keras.models import build

    options = dict(zoo.info(name)["build_options"])
    options["seed"] = seed
    model = build(name, palette=train.palette, image_size=train.image_size, **options)
    fit_part, val = training.holdout(train)
    stopper = keras.callbacks.EarlyStopping(patience=10, restore_best_weights=True)
    t0 = time.monotonic()
    history = pk.fit(model, fit_part, epochs=10_000, batch_size=64,
                     learning_rate=learning_rate, validation=val, flip=True, seed=seed,
                     verbose=2, callbacks=[
                         stopper,
                         keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=4,
                                                           min_lr=1e-5),
                         TimeLimit(seconds=seconds)])
    report = {"epochs_run": len(history.history["loss"]),
              "best_epoch": stopper.best_epoch + 1,
              "seconds": round(time.monotonic() - t0, 1),
              "held_out_pixel_accuracy_visible":
                  training.reconstruction_accuracy(model, val)["pixel_accuracy_visible"]}
    return model, report


# ------------------------------------------------------------------ pictures
def grid_rows(rows, scale=3, pad=1):
    """One RGBA picture: each row a list of (H, W, 4) images, on a checkerboard."""
    h, w = rows[0][0].shape[:2]
    cols = max(len(r) for r in rows)
    H, W = len(rows) * (h + pad) + pad, cols * (w + pad) + pad
    yy, xx = np.mgrid[:H, :W]
    board = np.where(((yy // 4 + xx // 4) % 2)[..., None], 200, 235).astype(np.uint8)
    canvas = np.concatenate([np.repeat(board, 3, -1), np.full((H, W, 1), 255, np.uint8)], -1)
    for r, row in enumerate(rows):
        for c, img in enumerate(row):
            y, x = pad + r * (h + pad), pad + c * (w + pad)
            a = img[..., 3:4].astype(np.float32) / 255
            cell = canvas[y:y + h, x:x + w, :3].astype(np.float32)
            canvas[y:y + h, x:x + w, :3] = (img[..., :3] * a + cell * (1 - a)).round()
    return np.repeat(np.repeat(canvas, scale, 0), scale, 1)


def save_picture(path, test, models, n=16):
    from PIL import Image

    pick = np.linspace(0, len(test) - 1, n).astype(int)
    rows = [list(test.rgba(pick))]
    labels = ["held-out tiles"]
    for key, model in models.items():
        rows.append(list(model.reconstruct(test.indices[pick])))
        labels.append(f"{key}: reconstructions")
    for key, model in models.items():
        if model.latent != "none":
            rows.append(list(model.sample(n, seed=0)))
            labels.append(f"{key}: samples")
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(grid_rows(rows), "RGBA").save(path)
    return labels


# ---------------------------------------------------------------------- main
def markdown_table(paths):
    """The docs/finetune.md results table from results_finetune_*.json files."""
    lines = ["| backend | set | model | run | epochs (best) | seconds | test acc. all | "
             "non-transparent | not background | samples: precision / recall / coverage "
             "(floor) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for path in paths:
        results = json.loads(Path(path).read_text())
        for set_name, entry in results["sets"].items():
            for name, runs in entry["models"].items():
                for run, r in runs.items():
                    t = r["test"]
                    nb = t.get("pixel_accuracy_not_background")
                    q = t.get("samples")
                    sq = "—" if q is None else (
                        f"{q['precision']:.2f} / {q['recall']:.2f} / {q['coverage']:.2f} "
                        f"({q['floor_precision']:.2f} / {q['floor_recall']:.2f} / "
                        f"{q['floor_coverage']:.2f})")
                    lines.append(
                        f"| {results['backend']} | {set_name} | {name.split('_')[-1].upper()} | "
                        f"{run} | {r['epochs_run']} ({r['best_epoch']}) | {r['seconds']:.0f} | "
                        f"{t['pixel_accuracy']:.1%} | {t['pixel_accuracy_visible']:.1%} | "
                        f"{'' if nb is None else f'{nb:.1%}'} | {sq} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS))
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--budget", type=float, nargs="+", default=[120.0, 180.0],
                        help="seconds of fine-tuning per model, one per set (default "
                             "120 for NetHack, 180 for Freeciv)")
    parser.add_argument("--work", default="/tmp/pallets_bench_finetune",
                        help="where the .deb files and tiles go (never the repo)")
    parser.add_argument("--out", default=None,
                        help="default bench/results_finetune_BACKEND.json")
    parser.add_argument("--pictures", default=str(ROOT / "docs" / "finetune"))
    parser.add_argument("--table", nargs="+", metavar="JSON",
                        help="print the markdown results table of these result files and exit")
    args = parser.parse_args(argv)
    if args.table:
        print(markdown_table(args.table))
        return

    import keras

    from pallets_keras.datasets import folder

    work = Path(args.work)
    if args.out is None:
        args.out = str(ROOT / "bench" / f"results_finetune_{keras.backend.backend()}.json")
    budgets = dict(zip(args.sets, args.budget + args.budget[-1:] * len(args.sets)))
    results = {"backend": keras.backend.backend(), "keras": keras.version(),
               "cpus": os.cpu_count(), "sets": {}}
    for set_name in args.sets:
        path, options = (fetch_nethack if set_name == "nethack" else fetch_freeciv)(work)
        t0 = time.monotonic()
        ds = folder.load(path, **options)  # one call per set
        load_seconds = time.monotonic() - t0
        report = ds.load_report
        print(f"{set_name}: {report}", flush=True)
        ds = pad_to_multiple(ds)
        train, test = ds.split(test_fraction=0.15, seed=0)
        entry = {"source": str(path.relative_to(work)), "load_options": options,
                 "load_seconds": round(load_seconds, 1), "tiles": len(ds),
                 "tile_size": list(ds.image_size), "train": len(train), "test": len(test),
                 "colours_before": source_colours(path),
                 "colours_after": len(ds.palette), "load_report": str(report),
                 "budget_seconds": budgets[set_name], "models": {}}
        print(json.dumps({k: v for k, v in entry.items() if k != "models"}), flush=True)
        trained = {}
        for name in args.models:
            tuned, seconds, ft_report = run_finetune(name, train, budgets[set_name])
            print(f"{set_name} {name} fine-tuned: {ft_report}", flush=True)
            scratch, sc_report = run_scratch(name, train, seconds)
            print(f"{set_name} {name} scratch: {sc_report}", flush=True)
            entry["models"][name] = {
                "finetuned": {**ft_report, "test": scores(tuned, test, train)},
                "scratch": {**sc_report, "test": scores(scratch, test, train)},
            }
            print(json.dumps(entry["models"][name]), flush=True)
            short = name.replace("onehot_conv_", "")
            trained[f"{short} fine-tuned"] = tuned
            trained[f"{short} scratch"] = scratch
        picture = Path(args.pictures) / f"{set_name}.png"
        entry["picture_rows"] = save_picture(picture, test, trained)
        entry["picture"] = str(picture.relative_to(ROOT)) if picture.is_relative_to(ROOT) \
            else str(picture)
        results["sets"][set_name] = entry
        Path(args.out).write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
