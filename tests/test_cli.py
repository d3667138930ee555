"""The `pallets` command line, end to end, against tiny presets made here.

Nothing here reads the real zoo: a module fixture builds tiny untrained
models, saves them as preset folders, and the commands run on those folders
in subprocesses (`python -m pallets_keras ...`, the backend from
KERAS_BACKEND). A subprocess that imports Keras costs ~5 s, so checks are
grouped; pure-argparse paths and table formatting run in-process.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

OTHER_BACKEND = {"tensorflow": "jax", "jax": "tensorflow", "torch": "jax"}


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def env(cpunks_cache, punks):
    """The subprocess environment: this run's backend and CPUNKS cache."""
    return {**os.environ, "PALLETS_KERAS_HOME": str(cpunks_cache)}


@pytest.fixture(scope="module")
def presets(tmp_path_factory, tiny_palette, punks):
    """Tiny untrained presets: an 8x8 VAE, an 8x8 CVAE with 3 labels, a plain
    AE, and a 24x24 VAE on the CPUNKS palette (for `eval`)."""
    from pallets_keras import zoo
    from pallets_keras.models import build

    root = tmp_path_factory.mktemp("presets")
    small = dict(palette=tiny_palette, image_size=(8, 8), filters=(8,), latent_dim=4,
                 units=(16,))
    paths = {}
    for name, model in (
            ("vae", build("onehot_vae", seed=0, **small)),
            ("cvae", build("cvae", label_names=["odd", "low", "right"], seed=0, **small)),
            ("ae", build("onehot_ae", seed=0, **small)),
            ("punk24", build("onehot_vae", palette=punks.palette, image_size=(24, 24),
                             latent_dim=4, units=(16,), seed=0))):
        meta = {"description": f"tiny test {name}"}
        if name == "punk24":
            meta["targets"] = {"pixel_accuracy": 0.99, "kl_max": 1e6}
        paths[name] = str(zoo.save_preset(model, root / name, metadata=meta))
    return paths


@pytest.fixture(scope="module")
def images(tmp_path_factory, tiny_palette):
    """8x8 PNGs in the tiny palette (one with an off-palette pixel, one 16x16),
    a folder of 12 sprites in a 5-colour palette of their own, an empty folder."""
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    rgba = tiny_palette.decode(rng.integers(0, len(tiny_palette), (2, 8, 8)))
    out = {}
    for i in range(2):
        out[f"im{i}"] = root / f"im{i}.png"
        Image.fromarray(rgba[i], "RGBA").save(out[f"im{i}"])
    off = rgba[0].copy()
    off[0, 0] = [1, 2, 3, 255]
    out["off"] = root / "off.png"
    Image.fromarray(off, "RGBA").save(out["off"])
    out["big"] = root / "big.png"
    Image.fromarray(np.full((16, 16, 4), 255, np.uint8), "RGBA").save(out["big"])
    sprites = root / "sprites"
    sprites.mkdir()
    colors = np.array([[0, 0, 0, 0], [10, 20, 30, 255], [200, 0, 0, 255],
                       [0, 200, 0, 255], [0, 0, 200, 255]], np.uint8)
    for i in range(12):
        idx = np.zeros((8, 8), int)
        idx[i % 4:i % 4 + 4, 2:6] = 1 + i % 4
        Image.fromarray(colors[idx], "RGBA").save(sprites / f"s{i:02d}.png")
    out["sprites"] = sprites
    out["empty"] = root / "empty"
    out["empty"].mkdir()
    return out


def pallets(env, *args, module="pallets_keras", cwd=None):
    return subprocess.run([sys.executable, "-m", module, *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=600)


def ok(proc):
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc


def one_line_error(proc, *fragments):
    """Exit status 2, exactly one line on stderr, `pallets: error: ...`."""
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("pallets: error: "), lines[0]
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    return lines[0]


def png_size(path):
    with Image.open(path) as im:
        return im.size, im.mode


# -------------------------------------------------- in-process: no keras cost
def _commands(group, path=()):
    """(path, command) of every command under a click group, groups included."""
    for name, command in group.commands.items():
        yield path + (name,), command
        if hasattr(command, "commands"):
            yield from _commands(command, path + (name,))


def test_every_command_has_help_with_an_example():
    from click.testing import CliRunner

    from pallets_keras import cli

    runner = CliRunner()
    assert "examples:" in runner.invoke(cli.pallets, ["--help"]).output
    seen = []
    for path, _ in _commands(cli.pallets):
        result = runner.invoke(cli.pallets, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "examples:" in result.output and "--backend" in result.output, path
        assert "--debug" in result.output, path
        seen.append(path[-1])
    assert {"zoo", "list", "info", "generate", "reconstruct", "interpolate", "train",
            "finetune", "eval", "tune"} <= set(seen)


def test_tune_help_has_an_example_and_describes_every_option(capsys):
    """`pallets tune` is a command like the others (no second parser in tuning.py)."""
    from pallets_keras import cli, tuning

    assert not hasattr(tuning, "add_tune_parser")
    assert cli.main(["tune", "--help"]) == 0
    out = capsys.readouterr().out
    assert "Usage: pallets tune" in out and "examples:" in out and "pallets tune " in out
    tune = cli.pallets.commands["tune"]
    for param in tune.params:
        if param.param_type_name == "option":
            assert param.help, param.name  # every option described
    for flag in ("--tuner", "--objective", "--seed", "--backend", "--debug", "--dir"):
        assert flag in out, flag


def test_max_seed_matches_the_library():
    from pallets_keras.cli.common import MAX_SEED
    from pallets_keras.validation import MAX_SEED as LIBRARY_MAX_SEED

    assert MAX_SEED == LIBRARY_MAX_SEED


def test_train_recipe_calls_train_recipe_as_before(monkeypatch, tmp_path, capsys):
    from pallets_keras import cli, training

    calls = []
    monkeypatch.setattr(training, "train_recipe", lambda *a, **k: calls.append((a, k)))
    recipe = tmp_path / "r.json"
    recipe.write_text("{}")
    assert cli.main(["train", "--recipe", str(recipe), "-o", str(tmp_path / "out")]) == 0
    assert calls == [((str(recipe), str(tmp_path / "out")), {"verbose": 2})]
    assert cli.main(["train", "onehot_vae", "--recipe", str(recipe), "-o", "x"]) == 2
    assert "--recipe" in capsys.readouterr().err


def test_backend_conflict_with_loaded_keras_is_an_error(capsys, backend):
    from pallets_keras import cli

    assert cli.main(["--backend", OTHER_BACKEND[backend], "zoo", "list"]) == 2
    assert "already loaded" in capsys.readouterr().err


def test_zoo_table_and_errors_in_process(monkeypatch, presets, capsys, tmp_path):
    """`zoo list/info` by name against a stand-in zoo; errors that need Keras."""
    import shutil

    from pallets_keras import cli
    from pallets_keras.zoo import registry

    zoo_dir = tmp_path / "zoo"
    for name in ("vae", "cvae", "punk24"):
        shutil.copytree(presets[name], zoo_dir / name)
    monkeypatch.setattr(registry, "zoo_root", lambda: zoo_dir)

    assert cli.main(["zoo", "list"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["NAME", "VARIANT", "SIZE"]
    assert "cvae" in out and "8x8" in out and "tiny test punk24" in out
    assert cli.main(["zoo", "list", "*vae", "--names"]) == 0
    assert capsys.readouterr().out.split() == ["cvae", "vae"]

    assert cli.main(["zoo", "info", "punk24"]) == 0
    out = capsys.readouterr().out
    assert "parameters" in out and "24x24" in out and "222 colours" in out
    assert "<= 1000000" in out.replace(",", "")  # a target
    assert cli.main(["zoo", "info", presets["cvae"]]) == 0  # a folder
    out = capsys.readouterr().out
    assert ("cvae (representation onehot, body dense, latent gaussian, conditioning "
            "conditional)") in out
    # The sizes its body and latent declare, and no option of another body.
    assert "units=[16], pixel_channels=" in out and "latent_dim=4" in out
    assert "filters" not in out
    assert "8x8" in out and "12 colours" in out and "odd, low, right" in out

    def error(*argv):
        assert cli.main(list(argv)) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("pallets: error: "), err
        return err[0]

    assert "did you mean cvae" in error("generate", "cvea", "-o", str(tmp_path / "g.png"))
    assert "no preset named 'zzz'" in error("zoo", "info", "zzz")
    assert "plain autoencoder" in error("generate", presets["ae"], "-o",
                                        str(tmp_path / "g.png"))
    msg = error("eval", presets["vae"], "--n", "5")
    assert "8x8" in msg and "24x24" in msg and "--data" in msg
    msg = error("generate", presets["vae"], "--label", "odd", "-o", str(tmp_path / "g.png"))
    assert "not conditioned" in msg
    msg = error("generate", presets["cvae"], "--label", "od", "-o", str(tmp_path / "g.png"))
    assert "unknown label 'od'" in msg and "did you mean odd" in msg


def test_target_rows():
    from pallets_keras.cli import _target_rows

    rows = _target_rows({"pixel_accuracy": 0.99, "hit_off": 0.05},
                        {"pixel_accuracy": 0.995, "hit_off_max": 0.1, "novelty": 0.5})
    assert rows[0][-1] == "MISSED" and rows[1][-1] == "ok"
    assert rows[2][0] == "novelty" and rows[2][-1] == "not measured"


# --------------------------------------- subprocesses: no Keras import (fast)
@pytest.mark.backend_independent  # plumbing: its model work is tested per backend
def test_fast_errors_need_no_keras(env, presets, images, tmp_path):
    proc = ok(subprocess.run(
        [sys.executable, "-c", "import sys, pallets_keras.cli, pallets_keras; "
                               "print('keras' in sys.modules)"],
        capture_output=True, text=True, env=env))
    assert proc.stdout.strip() == "False"
    one_line_error(pallets(env, "generate", presets["vae"], "-n", "0", "-o", tmp_path / "x.png"),
                   "-n/--n", "> 0")
    one_line_error(pallets(env, "--backend", "theano", "zoo", "list"), "theano")
    one_line_error(pallets(env, "reconstruct", presets["vae"], tmp_path / "missing.png",
                           "-o", tmp_path / "r"), "no such image file", "missing.png")
    one_line_error(pallets(env, "finetune", presets["vae"], "--data", images["empty"],
                           "-o", tmp_path / "f"), "No images in")
    one_line_error(pallets(env, "generate", tmp_path / "nowhere", "-o", tmp_path / "x.png"),
                   "no preset folder")
    # The form scripts/train_zoo.sh uses.
    one_line_error(pallets(env, "train", "--recipe", tmp_path / "none.json", "-o",
                           tmp_path / "o", module="pallets_keras.cli"), "no recipe")


def test_help(env):
    out = ok(pallets(env, "--help")).stdout
    for command in ("zoo", "generate", "reconstruct", "interpolate", "train", "finetune",
                    "eval", "tune", "--backend", "examples:"):
        assert command in out


# ------------------------------------------- subprocesses: end to end (slow)
@pytest.mark.backend_independent  # plumbing: its model work is tested per backend
@pytest.mark.slow
def test_zoo_list(env):
    proc = ok(pallets(env, "zoo", "list", "no_such_preset_*"))
    assert proc.stdout == ""
    assert "no_such_preset_*" in proc.stderr or "no presets" in proc.stderr


@pytest.mark.slow
def test_generate_grid_on_the_backend_asked_for(env, presets, backend, tmp_path):
    other = OTHER_BACKEND[backend]
    out = tmp_path / "grid.png"
    proc = ok(pallets(env, "--backend", other, "generate", presets["vae"], "-n", "5",
                      "--seed", "0", "--scale", "2", "-o", out))
    assert proc.stdout.strip() == str(out)
    assert f"backend {other}" in proc.stderr and "seed 0" in proc.stderr
    # 3 columns x 2 rows of 8x8 tiles, 1 px padding, upscaled 2x.
    assert png_size(out) == (((3 * 9 + 1) * 2, (2 * 9 + 1) * 2), "RGBA")
    # Native log noise is filtered: only our own notes remain.
    assert not [l for l in proc.stderr.splitlines() if "cudart" in l or "absl" in l]


@pytest.mark.backend_independent  # plumbing: its model work is tested per backend
@pytest.mark.slow
def test_generate_split_with_labels(env, presets, tmp_path):
    out = tmp_path / "samples"
    proc = ok(pallets(env, "generate", presets["cvae"], "-n", "3", "--label", "odd",
                      "--no-label", "low", "--temperature", "0.5", "--seed", "1",
                      "--split", "-o", out))
    assert proc.stdout.strip() == str(out)
    assert "odd=1" in proc.stderr
    files = sorted(out.iterdir())
    assert [f.name for f in files] == ["sample_000.png", "sample_001.png", "sample_002.png"]
    assert all(png_size(f) == ((8, 8), "RGBA") for f in files)


@pytest.mark.backend_independent  # plumbing: its model work is tested per backend
@pytest.mark.slow
def test_reconstruct(env, presets, images, tmp_path):
    out = tmp_path / "rec"
    proc = ok(pallets(env, "reconstruct", presets["vae"], images["im0"], images["off"],
                      "-o", out))
    assert proc.stdout.split() == [str(out / "im0.png"), str(out / "off.png")]
    assert all(png_size(out / f) == ((8, 8), "RGBA") for f in ("im0.png", "off.png"))
    assert "1 of 64 pixels" in proc.stderr  # the off-palette pixel, snapped
    assert "none snapped" in proc.stderr


@pytest.mark.backend_independent  # plumbing: its model work is tested per backend
@pytest.mark.slow
def test_reconstruct_wrong_size(env, presets, images, tmp_path):
    one_line_error(pallets(env, "reconstruct", presets["vae"], images["big"], "-o",
                           tmp_path / "r"), "16x16", "8x8", "2x upscale")


@pytest.mark.backend_independent  # plumbing: its model work is tested per backend
@pytest.mark.slow
def test_interpolate_conditional(env, presets, images, tmp_path):
    out = tmp_path / "strip.png"
    proc = ok(pallets(env, "interpolate", presets["cvae"], images["im0"], images["im1"],
                      "--steps", "4", "--scale", "2", "--label", "right", "-o", out))
    assert proc.stdout.strip() == str(out)
    assert png_size(out) == (((4 * 9 + 1) * 2, 10 * 2), "RGBA")


@pytest.mark.backend_independent  # plumbing: its model work is tested per backend
@pytest.mark.slow
def test_train_from_scratch(env, images, tmp_path):
    from pallets_keras import zoo

    out = tmp_path / "trained"
    ok(pallets(env, "train", "onehot_ae", "--data", images["sprites"], "--epochs", "1",
               "--batch-size", "8", "-o", out))
    meta = zoo.info(out)
    assert meta["variant"] == "onehot_ae" and meta["palette_size"] == 5
    assert meta["training"]["epochs_run"] == 1 and meta["data"]["images"] == 12
    assert 0 <= meta["metrics"]["pixel_accuracy"] <= 1
    model = zoo.load(out)
    assert model.reconstruct(np.zeros((1, 8, 8), "uint8")).shape == (1, 8, 8, 4)


@pytest.mark.backend_independent  # plumbing: its model work is tested per backend
@pytest.mark.slow
def test_finetune_to_a_new_palette(env, presets, images, tmp_path):
    from pallets_keras import zoo

    out = tmp_path / "tuned"
    proc = ok(pallets(env, "finetune", presets["vae"], "--data", images["sprites"],
                      "--epochs", "1", "--batch-size", "8", "--no-eval", "-o", out))
    assert "palette_head" in proc.stderr  # the re-created palette end, said
    meta = zoo.info(out)
    assert meta["palette_size"] == 5 and meta["base_preset"] == "vae"
    assert zoo.load(out).sample(2, seed=0).shape == (2, 8, 8, 4)


@pytest.mark.backend_independent  # plumbing: its model work is tested per backend
@pytest.mark.slow
def test_eval_on_a_cpunks_slice(env, presets):
    proc = ok(pallets(env, "eval", presets["punk24"], "--n", "50", "--json"))
    report = json.loads(proc.stdout)
    figures = report["metrics"]
    assert figures["test_images"] == 50
    assert 0 <= figures["pixel_accuracy"] <= 1 and figures["palette_adherence"] == 1.0
    assert "neg_elbo" in figures and "novelty" in figures
    assert report["backend"] == os.environ["KERAS_BACKEND"]


# ------------------------------------- issue 15: checked before any work
def test_bad_seed_n_and_warmup_are_refused_at_parse_time(capsys):
    from pallets_keras import cli

    def parse_error(*argv):
        with pytest.raises(SystemExit) as e:
            cli.main(list(argv))
        assert e.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("pallets: error: "), err
        return err[0]

    assert "--seed: must be a whole number in [0, 4294967295], got -1" in parse_error(
        "generate", "onehot_vae", "-n", "4", "--seed", "-1", "-o", "x.png")
    assert "--seed" in parse_error("eval", "onehot_vae", "--seed", "abc")
    assert "-n/--n: must be at most 100,000, got 10,000,000" in parse_error(
        "generate", "onehot_vae", "-n", "10000000", "-o", "x.png")
    assert "--warmup-epochs: must be a whole number >= 0" in parse_error(
        "finetune", "onehot_vae", "--data", "d", "--warmup-epochs", "-1", "-o", "o")


@pytest.fixture
def nothing_loads(monkeypatch):
    """Loading a model or data, or training, fails the test: the command must
    stop before."""
    from pallets_keras import training, zoo
    from pallets_keras.cli import inputs

    def refuse(*args, **kwargs):
        raise AssertionError("work started before the output was checked")

    for owner, name in ((zoo, "load"), (inputs, "load_data"), (training, "finetune"),
                        (training, "fit"), (training, "train_recipe")):
        monkeypatch.setattr(owner, name, refuse)


def test_outputs_are_checked_before_any_work(presets, tmp_path, capsys, nothing_loads):
    from pallets_keras import cli

    afile = tmp_path / "afile"
    afile.write_text("mine")
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.txt").write_text("a")

    def error(*argv):
        assert cli.main([str(a) for a in argv]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("pallets: error: "), err
        return err[0]

    vae = presets["vae"]
    assert "extension '.bmp'" in error("generate", vae, "-o", tmp_path / "grid.bmp")
    assert "no extension" in error("generate", vae, "-o", tmp_path / "grid")
    assert "is a file, not a folder" in error("generate", vae, "-o", afile / "x.png")
    if sys.platform.startswith("linux"):
        assert "cannot write into /proc" in error("generate", vae, "-o", "/proc/x.png")
    assert "is a file" in error("reconstruct", vae, afile, "-o", afile)
    assert "is a file" in error("generate", vae, "--split", "-o", afile)
    assert "extension '.txt'" in error("interpolate", vae, afile, afile, "-o",
                                       tmp_path / "s.txt")
    msg = error("finetune", vae, "--data", tmp_path / "none", "-o", notes)
    assert "not a preset (a.txt)" in msg and "--overwrite" in msg
    assert "afile is a file (4 bytes)" in error("train", "onehot_ae", "--data", "cpunks",
                                                "-o", afile)
    assert "afile is a file" in error("train", "--recipe", afile, "-o", afile)
    msg = error("finetune", vae, "--data", tmp_path, "--epochs", "1", "--warmup-epochs", "9",
                "-o", tmp_path / "new")
    assert "--warmup-epochs 9 is more than --epochs 1" in msg
    assert afile.read_text() == "mine" and (notes / "a.txt").read_text() == "a"


def test_only_user_errors_are_one_liners(monkeypatch, capsys):
    """A PalletsError is the user's: one line, status 2. Any other exception is
    a bug of the library: it keeps its traceback."""
    from pallets_keras import cli, zoo
    from pallets_keras.errors import PalletsError, PalletsValueError

    assert issubclass(cli.CLIError, PalletsError)

    def user_error(pattern="*"):
        raise PalletsValueError("seed=-1: must be >= 0.")

    monkeypatch.setattr(zoo, "list_models", user_error)
    assert cli.main(["zoo", "list"]) == 2
    assert capsys.readouterr().err.strip() == "pallets: error: seed=-1: must be >= 0."
    with pytest.raises(PalletsValueError):  # --debug: the traceback instead
        cli.main(["zoo", "list", "--debug"])

    def library_bug(pattern="*"):
        raise ValueError("expected non-negative integer")

    monkeypatch.setattr(zoo, "list_models", library_bug)
    with pytest.raises(ValueError, match="expected non-negative integer"):
        cli.main(["zoo", "list"])
    monkeypatch.setattr(zoo, "list_models", lambda pattern="*": [][1])
    with pytest.raises(IndexError):
        cli.main(["zoo", "list"])
    for bug in (KeyError("k"), TypeError("t"), FileNotFoundError("f")):
        monkeypatch.setattr(zoo, "list_models", lambda pattern="*", bug=bug: (_ for _ in ()
                                                                              ).throw(bug))
        with pytest.raises(type(bug)):
            cli.main(["zoo", "list"])


def test_grid_formats_and_layout(presets, tmp_path, capsys):
    """The format follows the extension; --cols never draws empty columns."""
    from pallets_keras import cli

    out = {}
    for ext in ("png", "webp", "gif", "jpg", "JPEG"):
        out[ext] = tmp_path / f"grid.{ext}"
        assert cli.main(["generate", presets["vae"], "-n", "2", "--cols", "50", "--seed", "3",
                         "--scale", "1", "-o", str(out[ext])]) == 0
    capsys.readouterr()
    formats = {ext: Image.open(path).format for ext, path in out.items()}
    assert formats == {"png": "PNG", "webp": "WEBP", "gif": "GIF", "jpg": "JPEG",
                       "JPEG": "JPEG"}
    # 2 columns (not 50) x 1 row of 8x8 tiles, 1 px padding.
    assert all(Image.open(p).size == (2 * 9 + 1, 10) for p in out.values())
    png = np.asarray(Image.open(out["png"]).convert("RGBA"))
    np.testing.assert_array_equal(np.asarray(Image.open(out["webp"]).convert("RGBA")), png)


def test_saved_preset_hint_is_a_path_zoo_load_reads():
    from pallets_keras.cli import _as_path

    assert _as_path("tr2") == "./tr2"
    assert _as_path("out/tr2") == "out/tr2" and _as_path("./tr2") == "./tr2"
