"""Feeds bad and edge inputs to the public Python API and the `pallets`
command, and sorts what each one gives (issue #15's sweep).

    KERAS_BACKEND=jax python scripts/sweep_bad_inputs.py [--json FILE]

Every case is a call a user could make with a wrong or odd value: the cases
the issue lists (each named by its words there) and, for each public
argument, the kinds of bad value a user passes (negative, NaN, infinite, a
string, a float for an int, an empty or wrongly shaped array). Outcomes:

- clear: the project's error (`PalletsError`; one line and exit 2 in the
  CLI) naming the argument or file at fault;
- right: an edge input that is valid gives the right result (checked);
- unclear: an error that does not name what is wrong, or a built-in error
  from inside the library;
- accepted: a bad value ran as if it were good (a wrong or silent result);
- lost: a file or folder the user had is gone or changed;
- traceback: the CLI showed a traceback for a user's mistake.

Everything runs in a temporary folder on a tiny model (8x8 sprites, three
colours), so the sweep takes seconds; `tests/test_bad_input_sweep.py` runs it
on every backend and requires no `lost`, `accepted` or `traceback` outcome
and at most 3 `unclear` ones (the issue's bar).
"""

import argparse
import contextlib
import io
import json
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

OUTCOMES = ("clear", "right", "unclear", "accepted", "lost", "traceback")


@dataclass
class Case:
    """One input: `run(ctx)` makes the call; `names` must all appear in the
    error; `check(ctx, result)` says whether a valid edge input's result is
    right (None: any result is a wrong acceptance); `kept(ctx)` says whether
    the user's files survived."""

    id: str
    surface: str  # "api" or "cli"
    run: object
    names: tuple = ()
    check: object = None
    kept: object = None
    outcome: str = ""
    message: str = field(default="", repr=False)


def _tiny_world(root):
    """A tiny palette, data set, VAE and CVAE, a preset of each, and files."""
    import pallets_keras as pk
    from pallets_keras import zoo
    from pallets_keras.datasets import PixelDataset

    pal = pk.Palette([[0, 0, 0, 0], [255, 0, 0, 255], [0, 0, 255, 255], [250, 220, 0, 255]])
    rng = np.random.default_rng(0)
    idx = np.zeros((32, 8, 8), np.uint8)
    for i in range(32):
        r, c = rng.integers(0, 4, 2)
        idx[i, r:r + 4, c:c + 4] = 1 + i % 3
    labels = (rng.random((32, 2)) < 0.5).astype(np.uint8)
    ds = PixelDataset(pal, idx, labels=labels, label_names=["earring", "hat"])
    tiny = dict(palette=pal, image_size=(8, 8), filters=(4,), latent_dim=2, seed=0)
    vae = pk.models.build("onehot_conv_vae", **tiny)
    cvae = pk.models.build("conv_cvae", label_names=ds.label_names, **tiny)
    zoo.save_preset(vae, root / "vae_preset")
    sheet = root / "sheet.png"
    Image.fromarray(pal.colors[np.tile(idx[:4].reshape(32, 8), (1, 1))], "RGBA").save(sheet)
    return {"root": root, "pal": pal, "ds": ds, "vae": vae, "cvae": cvae,
            "preset": str(root / "vae_preset"), "sheet": sheet, "pk": pk, "zoo": zoo}


def _notes(ctx, name):
    """A user's folder of notes (not a preset) and its contents."""
    folder = ctx["root"] / name
    folder.mkdir(exist_ok=True)
    for i in range(3):
        (folder / f"note{i}.txt").write_text(f"note {i}")
    return folder


def _notes_kept(ctx, name):
    folder = ctx["root"] / name
    return all((folder / f"note{i}.txt").read_text() == f"note {i}" for i in range(3))


def _file(ctx, name, text="mine"):
    path = ctx["root"] / name
    path.write_text(text)
    return path


def _api_cases():
    cases = []

    def add(id_, run, names=(), **kw):
        cases.append(Case(id_, "api", run, tuple(names), **kw))

    # -- sample: every argument, the values the issue names and their kin
    for value in (-1, float("nan"), float("inf"), "hot", None, [0.5]):
        add(f"sample temperature={value!r}",
            lambda c, v=value: c["vae"].sample(2, temperature=v), ["temperature"])
    for value in (-1, "abc", 1.5, float("nan"), 2**70):
        add(f"sample seed={value!r}", lambda c, v=value: c["vae"].sample(2, seed=v), ["seed"])
    for value in (0, -3, 2.5, "4", None, 10**12):
        add(f"sample n={value!r}", lambda c, v=value: c["vae"].sample(v), ["n"])
    for value in ("earring", ["earring"], {"earing": 1}, {"earring": 2}, np.ones((3, 2)),
                  np.ones((2, 5)), {"earring": float("nan")}):
        add(f"cvae sample labels={value!r:.30}",
            lambda c, v=value: c["cvae"].sample(2, labels=v), ["labels"])
    add("vae sample labels= (takes none)", lambda c: c["vae"].sample(2, labels={"earring": 1}),
        ["labels"])
    add("sample prior='nope'", lambda c: c["vae"].sample(2, prior="nope"), ["prior", "nope"])
    for value in (-1, float("nan"), "2"):
        add(f"cvae sample guidance_scale={value!r}",
            lambda c, v=value: c["cvae"].sample(2, labels={"earring": 1}, guidance_scale=v),
            ["guidance_scale"])
    # -- reconstruct / encode / decode / interpolate
    add("reconstruct empty batch",
        lambda c: c["vae"].reconstruct(np.zeros((0, 8, 8), np.uint8)), ["empty"])
    add("reconstruct one image without batch axis (valid)",
        lambda c: c["vae"].reconstruct(c["ds"].indices[0]),
        check=lambda c, r: r.shape == (1, 8, 8, 4))
    add("reconstruct wrong size", lambda c: c["vae"].reconstruct(np.zeros((2, 9, 8), np.uint8)),
        ["x", "8x8"])
    add("reconstruct index out of palette",
        lambda c: c["vae"].reconstruct(np.full((2, 8, 8), 9, np.uint8)), ["9"])
    add("reconstruct a string", lambda c: c["vae"].reconstruct("punk1.png"), ["x"])
    add("reconstruct float RGBA off palette",
        lambda c: c["vae"].reconstruct(np.full((1, 8, 8, 4), 0.3, np.float32)), ["RGBA"])
    add("decode wrong latent shape", lambda c: c["vae"].decode(np.zeros((2, 7), "float32")),
        ["z", "(N, 2)"])
    add("decode NaN codes", lambda c: c["vae"].decode(np.full((2, 2), np.nan, "float32")),
        ["z", "finite"])
    add("interpolate steps=1", lambda c: c["vae"].interpolate(c["ds"].indices[0],
                                                              c["ds"].indices[1], steps=1),
        ["steps"])
    add("encode wrong labels for cvae",
        lambda c: c["cvae"].encode(c["ds"].indices[:2], labels=np.ones((2, 7))), ["labels"])
    # -- fit / finetune
    for kw, names in (({"learning_rate": float("nan")}, ["learning_rate"]),
                      ({"learning_rate": -1e-3}, ["learning_rate"]),
                      ({"epochs": 0}, ["epochs"]),
                      ({"epochs": 2.5}, ["epochs"]),
                      ({"batch_size": 0}, ["batch_size"]),
                      ({"seed": -1}, ["seed"]),
                      ({"lr_schedule": "linear"}, ["lr_schedule"]),
                      ({"label_dropout": 1.5}, ["label_dropout"]),
                      ({"kl_warmup_epochs": -2}, ["kl_warmup_epochs"])):
        add(f"fit {kw}", lambda c, kw=kw: c["pk"].fit(c["vae"], c["ds"], verbose=0, **kw),
            names)
    for kw, names in (({"learning_rate": float("nan")}, ["learning_rate"]),
                      ({"epochs": 0}, ["epochs"]),
                      ({"epochs": 1, "warmup_epochs": 9}, ["warmup_epochs"]),
                      ({"validation": "half"}, ["validation"]),
                      ({"validation_fraction": 1.0}, ["validation_fraction"]),
                      ({"max_seconds": -5}, ["max_seconds"])):
        add(f"finetune {kw}",
            lambda c, kw=kw: c["pk"].finetune(c["vae"], c["ds"], verbose=0, **kw), names)
    add("fit on data of another palette",
        lambda c: c["pk"].fit(c["vae"], _other_palette_ds(c), epochs=1, verbose=0), ["palette"])
    # -- presets: data loss and bad paths
    add("save_preset onto a folder of notes",
        lambda c: c["zoo"].save_preset(c["vae"], _notes(c, "notes")), ["notes", "overwrite"],
        kept=lambda c: _notes_kept(c, "notes"))
    add("save_preset onto a file",
        lambda c: c["zoo"].save_preset(c["vae"], _file(c, "afile")), ["afile", "overwrite"],
        kept=lambda c: (c["root"] / "afile").read_text() == "mine")
    add("save_preset path=None", lambda c: c["zoo"].save_preset(c["vae"], None), ["path"])
    add("load a missing preset", lambda c: c["zoo"].load(str(c["root"] / "nothere")),
        ["nothere"])
    add("load a zoo name misspelt", lambda c: c["zoo"].load("onehot_conv_vea"),
        ["onehot_conv_vea", "onehot_conv_vae"])
    add("load a damaged weights file", lambda c: c["zoo"].load(_damaged(c)), ["weights"])
    add("load image_size=16 (an int is valid)",
        lambda c: c["zoo"].load(c["preset"], image_size=16),
        check=lambda c, m: m.image_size == (16, 16))
    add("load image_size='big'", lambda c: c["zoo"].load(c["preset"], image_size="big"),
        ["image_size"])
    add("load image_size=(0, 8)", lambda c: c["zoo"].load(c["preset"], image_size=(0, 8)),
        ["image_size"])
    add("load a config naming an unknown class", lambda c: c["zoo"].load(_unknown_class(c)),
        ["config.json"])
    # -- data: folders and sheets
    add("folder.load a missing path", lambda c: _folder().load(c["root"] / "nope"), ["nope"])
    add("folder.load tile_size=0", lambda c: _folder().load(c["sheet"], tile_size=0),
        ["tile_size"])
    add("folder.load tile_size=(8, 'a')",
        lambda c: _folder().load(c["sheet"], tile_size=(8, "a")), ["tile_size"])
    add("folder.load max_colors=0", lambda c: _folder().load(c["sheet"], max_colors=0),
        ["max_colors"])
    add("folder.load max_colors=300 mediancut",
        lambda c: _folder().load(c["sheet"], max_colors=300, quantizer="mediancut"),
        ["max_colors", "256"])
    add("folder.load margin=-1", lambda c: _folder().load(c["sheet"], tile_size=8, margin=-1),
        ["margin"])
    add("folder.load ragged='crop'",
        lambda c: _folder().load(c["sheet"], tile_size=8, ragged="crop"), ["ragged"])
    add("folder.load image smaller than a tile",
        lambda c: _folder().load(c["sheet"], tile_size=40), ["40", "ragged"])
    add("folder.load image smaller than a tile, ragged='pad' (valid)",
        lambda c: _folder().load(c["sheet"], tile_size=40, ragged="pad"),
        check=lambda c, ds: ds.image_size == (40, 40) and len(ds) == 1)
    add("Palette with 5 channels", lambda c: c["pk"].Palette(np.zeros((3, 5))), ["colors"])
    add("Palette with a value of 300",
        lambda c: c["pk"].Palette([[300, 0, 0, 255], [0, 0, 0, 0]]), ["300"])
    # -- images out
    add("plot.save_grid to .jpg (valid: JPEG bytes)",
        lambda c: _save(c, "grid.jpg"),
        check=lambda c, p: Image.open(p).format == "JPEG")
    add("plot.save_grid to .xyz", lambda c: _save(c, "grid.xyz"), [".xyz"])
    add("plot.save_grid cols=50 for 2 images (valid: a 2-wide grid)",
        lambda c: _grid(c, n=2, cols=50), check=lambda c, g: g.shape[1] < 3 * g.shape[0])
    return cases


def _folder():
    from pallets_keras.datasets import folder

    return folder


def _other_palette_ds(ctx):
    from pallets_keras.datasets import PixelDataset

    pal = ctx["pk"].Palette([[0, 0, 0, 0], [9, 9, 9, 255]])
    return PixelDataset(pal, np.zeros((4, 8, 8), np.uint8))


def _damaged(ctx):
    import shutil

    path = ctx["root"] / "damaged"
    shutil.copytree(ctx["preset"], path, dirs_exist_ok=True)
    weights = next(p for p in path.iterdir() if p.suffix == ".h5")
    weights.write_bytes(weights.read_bytes()[:100])
    return str(path)


def _unknown_class(ctx):
    import shutil

    path = ctx["root"] / "unknown_class"
    shutil.copytree(ctx["preset"], path, dirs_exist_ok=True)
    config = path / "config.json"
    config.write_text(config.read_text().replace("PaletteAutoencoder", "NoSuchModel", 1))
    return str(path)


def _save(ctx, name):
    from pallets_keras import plot

    path = ctx["root"] / name
    plot.save_grid(ctx["vae"].sample(4, seed=0), path, cols=2, scale=1)
    return path


def _grid(ctx, n, cols):
    from pallets_keras import plot

    return plot.image_grid(ctx["vae"].sample(n, seed=0), cols=cols)


def _cli_cases():
    cases = []

    def add(id_, argv, names=(), **kw):
        cases.append(Case(id_, "cli", argv, tuple(names), **kw))

    p = "{preset}"
    add("generate --seed -1", ["generate", p, "-n", "2", "--seed", "-1", "-o", "{root}/g.png"],
        ["--seed"])
    add("generate --temperature nan",
        ["generate", p, "-n", "2", "--temperature", "nan", "-o", "{root}/g.png"],
        ["--temperature"])
    add("generate -n 0", ["generate", p, "-n", "0", "-o", "{root}/g.png"], ["-n"])
    add("generate -n 10000000", ["generate", p, "-n", "10000000", "-o", "{root}/g.png"],
        ["-n"])
    add("generate -o grid.jpg (valid: JPEG bytes)",
        ["generate", p, "-n", "2", "--seed", "0", "-o", "{root}/grid.jpg"],
        check=lambda c, _: Image.open(c["root"] / "grid.jpg").format == "JPEG")
    add("generate -o grid.xyz", ["generate", p, "-n", "2", "-o", "{root}/grid.xyz"], [".xyz"])
    add("generate -o in a missing folder (valid: the folder is made)",
        ["generate", p, "-n", "2", "-o", "{root}/no/such/dir/g.png"],
        check=lambda c, _: (c["root"] / "no/such/dir/g.png").is_file())
    add("generate -o /proc/x.png", ["generate", p, "-n", "2", "-o", "/proc/x.png"],
        ["/proc"])
    add("generate --cols 50 -n 2 (valid: a small grid)",
        ["generate", p, "-n", "2", "--cols", "50", "--scale", "1", "-o", "{root}/c.png"],
        check=lambda c, _: Image.open(c["root"] / "c.png").size[0] < 40)
    add("generate an unknown preset", ["generate", "onehot_conv_vea", "-o", "{root}/g.png"],
        ["onehot_conv_vea"])
    add("reconstruct a missing image", ["reconstruct", p, "{root}/punk1.png", "-o",
                                        "{root}/r.png"], ["punk1.png"])
    add("finetune --warmup-epochs 9 --epochs 1",
        ["finetune", p, "--data", "{sheet}", "--tile-size", "8", "--epochs", "1",
         "--warmup-epochs", "9", "-o", "{root}/ft"], ["warmup"])
    add("finetune --tile-size 16,x",
        ["finetune", p, "--data", "{sheet}", "--tile-size", "16,x", "-o", "{root}/ft"],
        ["--tile-size"])
    add("finetune -o onto a file",
        ["finetune", p, "--data", "{sheet}", "--tile-size", "8", "--epochs", "1", "-o",
         "{root}/ftfile"], ["ftfile"], kept=lambda c: (c["root"] / "ftfile").read_text() == "x")
    add("finetune --learning-rate nan",
        ["finetune", p, "--data", "{sheet}", "--tile-size", "8", "--learning-rate", "nan",
         "-o", "{root}/ft2"], ["--learning-rate"])
    add("train --recipe missing.json", ["train", "--recipe", "{root}/missing.json", "-o",
                                        "{root}/tr"], ["missing.json"])
    add("tune --dir FILE", ["tune", "onehot_conv_ae", "--dir", "{root}/ftfile", "--trials",
                            "1"], ["ftfile"])
    add("zoo info nope", ["zoo", "info", "nope_preset"], ["nope_preset"])
    return cases


def _run_api(case, ctx):
    from pallets_keras.errors import PalletsError

    try:
        result = case.run(ctx)
    except PalletsError as e:
        case.message = str(e)
        named = all(n.lower() in case.message.lower() for n in case.names)
        return "clear" if named and case.names else "unclear"
    except Exception as e:  # a built-in error from inside: the user cannot tell what to fix
        case.message = f"{type(e).__name__}: {e}"
        return "unclear"
    if case.check is not None:
        case.message = "ran"
        return "right" if case.check(ctx, result) else "accepted"
    case.message = "no error"
    return "accepted"


def _run_cli(case, ctx):
    from pallets_keras.cli import main

    (ctx["root"] / "ftfile").write_text("x")
    argv = [a.format(preset=ctx["preset"], root=ctx["root"], sheet=ctx["sheet"])
            for a in case.run]
    err, out = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            status = main(argv)
    except SystemExit as e:
        status = e.code
    except Exception as e:  # would be a traceback on the terminal
        case.message = f"{type(e).__name__}: {e}"
        return "traceback"
    lines = [line for line in err.getvalue().splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("pallets: error")]
    case.message = errors[-1] if errors else (lines[-1] if lines else "")
    if status == 0:
        if case.check is not None:
            return "right" if case.check(ctx, None) else "accepted"
        return "accepted"
    if status == 2 and len(errors) == 1 and case.names:
        named = all(n.lower() in errors[0].lower() for n in case.names)
        return "clear" if named else "unclear"
    return "unclear"


def run_sweep(root=None):
    """Runs every case; returns the list of `Case` with `outcome` set."""
    import warnings

    with contextlib.ExitStack() as stack:
        if root is None:
            root = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        root = Path(root)
        ctx = _tiny_world(root)
        cases = _api_cases() + _cli_cases()
        for case in cases:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                case.outcome = (_run_api if case.surface == "api" else _run_cli)(case, ctx)
            if case.kept is not None and not case.kept(ctx):
                case.outcome = "lost"
    return cases


def summary(cases):
    counts = Counter(c.outcome for c in cases)
    return {k: counts.get(k, 0) for k in OUTCOMES}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write every case and its outcome here")
    parser.add_argument("--all", action="store_true", help="list clear cases too")
    args = parser.parse_args(argv)
    from pallets_keras.tables import format_table

    cases = run_sweep()
    shown = [c for c in cases if args.all or c.outcome not in ("clear", "right")]
    print(format_table([[c.id, c.surface, c.outcome, c.message[:110]] for c in shown],
                       ["case", "surface", "outcome", "message"]))
    counts = summary(cases)
    print(f"{len(cases)} cases: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"counts": counts, "cases": [{"id": c.id, "surface": c.surface,
                                          "outcome": c.outcome, "message": c.message}
                                         for c in cases]}, indent=1))
    return 0 if counts["lost"] == counts["accepted"] == counts["traceback"] == 0 \
        and counts["unclear"] <= 3 else 1


if __name__ == "__main__":
    sys.exit(main())
