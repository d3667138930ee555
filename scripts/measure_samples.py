"""Measures what each generative preset draws, with each prior, against the
real test split; optionally fits the aggregate-posterior prior and stores
the best-measuring one as the preset's default.

    KERAS_BACKEND=tensorflow python scripts/measure_samples.py [NAME ...]
        [--n 1000] [--fit] [--save] [--json docs/samples/figures.json]
        [--grids docs/samples]

Sample figures use the punk judge (zoo/judges/punk_judge), never a training
signal: FPD, precision/recall (k=5), density/coverage, novelty; conditional
presets also conditional accuracy and the earring rates. The real-data floor
(1,000 train punks against the test split) is printed first.
"""

import argparse
import json
import sys
import time
from pathlib import Path

from pallets_keras import plot, zoo
from pallets_keras.datasets import cpunks
from pallets_keras.io_utils import atomic_write_text
from pallets_keras.judge import Judge
from pallets_keras.priors import fit_prior, get_prior_class
from pallets_keras.sample_quality import real_floor, sample_figures


def generative_presets(fit):
    """Presets that can sample: VAEs, and with `fit` plain autoencoders too
    (a mixture fitted to their codes makes them generative)."""
    return [n for n in zoo.list_models() if fit or zoo.info(n)["latent"] != "none"]


def score(row):
    """How a preset's default prior is chosen: precision + recall, plus, for
    conditional presets, attribute agreement and the earring gap (asked
    minus not asked, both ways)."""
    value = row["precision"] + row["recall"]
    if "attribute_agreement" in row:
        value += row["attribute_agreement"]
    if "earring_dict_on" in row:
        value += (row["earring_dict_on"] - row["earring_dict_off"]
                  + row["earring_rows_on"] - row["earring_rows_off"]) / 2
    return value


def acceptable(row):
    """What a default must do: draw new punks (>= 99% not a copy of a training
    one) and, for earring models, no earring unasked (<= 2% both ways)."""
    return (row.get("novelty", 1) >= 0.99 and row.get("earring_dict_off", 0) <= 0.02
            and row.get("earring_rows_off", 0) <= 0.02)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fit", action="store_true", help="fit the aggregate-posterior prior")
    parser.add_argument("--also", default="autoregressive_categorical",
                        help="with --fit, comma-separated prior kinds to fit as well "
                             "where they serve the preset's latent")
    parser.add_argument("--components", type=int, default=None)
    parser.add_argument("--scale", type=float, default=None,
                        help="the fitted mixture's spread when sampling (> 1 widens it)")
    parser.add_argument("--save", action="store_true",
                        help="store the fitted prior and the figures in the preset")
    parser.add_argument("--save-to", default=None,
                        help="like --save, into DIR/NAME instead of the zoo folder")
    parser.add_argument("--json", default=None)
    parser.add_argument("--grids", default=None)
    parser.add_argument("--from", dest="source", default=None,
                        help="load the presets from DIR/NAME instead of the zoo")
    parser.add_argument("--guidance", default="1",
                        help="comma-separated guidance scales to try on conditional presets")
    args = parser.parse_args(argv)
    judge = Judge.from_preset("punk_judge")
    train, test = cpunks.load().split()
    results = {}
    if args.json and Path(args.json).exists():  # a cut run keeps what it measured
        results = json.loads(Path(args.json).read_text())
    results["floor"] = real_floor(judge, train, test, n=args.n, seed=args.seed)
    print("floor", json.dumps(results["floor"]), flush=True)
    for name in args.names or generative_presets(args.fit):
        t0 = time.time()
        model = zoo.load(str(Path(args.source).resolve() / name) if args.source else name,
                         compile=False)
        if args.fit:
            kw = {"num_components": args.components} if args.components else {}
            if args.scale:
                kw["scale"] = args.scale
            fit_prior(model, train, default=False, **kw)
            for kind in filter(None, args.also.split(",")):
                if get_prior_class(kind).serves(model.latent):
                    fit_prior(model, train, kind, default=False)
            if model.is_conditional:
                fit_prior(model, train, "label_posterior", default=False)
        rows = {}
        scales = ([float(g) for g in args.guidance.split(",")]
                  if model.is_conditional and model.representation == "onehot" else [1.0])
        for prior in sorted(model.priors):
            for scale in scales:
                key = prior if scale == 1 else f"{prior}@guidance{scale:g}"
                rows[key] = sample_figures(model, judge, test, train, n=args.n, seed=args.seed,
                                           prior=prior, guidance_scale=scale)
                print(name, key, json.dumps({k: round(v, 4) for k, v in rows[key].items()}),
                      flush=True)
        eligible = [k for k in rows if acceptable(rows[k])]
        best = max(eligible or list(rows), key=lambda p: score(rows[p]))
        best_prior, _, guided = best.partition("@guidance")
        best_scale = float(guided) if guided else 1.0
        results[name] = {"priors": rows, "best": best}
        if args.grids:
            Path(args.grids).mkdir(parents=True, exist_ok=True)
            lab = {"earring": 1} if model.is_conditional and "earring" in model.label_names \
                else (test.select_labels(model.label_names).labels[:64]
                      if model.is_conditional else None)
            plot.save_grid(model.sample(64, labels=lab, seed=args.seed, prior=best_prior,
                                        guidance_scale=best_scale),
                           Path(args.grids) / f"{name}.png", cols=16, scale=2)
        if args.save or args.save_to:
            model.add_prior(model.priors[best_prior], name=best_prior, default=True)
            if model.is_conditional and model.representation == "onehot":
                model.set_default_guidance_scale(best_scale)
            meta = dict(model.preset_metadata)
            meta.setdefault("metrics", {}).update(
                {f"sample_{k}": v for k, v in rows[best].items()})
            meta["sample_prior"] = best_prior
            meta["sample_guidance_scale"] = best_scale
            folder = Path(args.save_to) if args.save_to else zoo.zoo_root()
            zoo.save_preset(model, folder / name, metadata=meta, overwrite=True)
        print(f"{name}: best prior {best} ({time.time() - t0:.0f} s)", flush=True)
        if args.json:
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(args.json, json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
