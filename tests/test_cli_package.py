"""The click-based `pallets` package: user errors are one line and status 2,
library bugs keep their traceback, `tune` checks its folder up front,
`generate` draws large -n in chunks (the same images), and the old entry
points still run. In-process with tiny models, or subprocesses that never
import Keras."""

import os
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from pallets_keras import cli


def _python(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ}, timeout=120)


@pytest.mark.backend_independent  # plumbing: its model work is tested per backend
def test_a_library_bug_keeps_its_traceback_and_a_user_error_is_one_line():
    """In a real process: the status the shell sees, and what stderr holds."""
    # `zoo info` imports the zoo (and Keras) inside the command, then resolves
    # the name: the stand-in resolvers fail there.
    setup = ("import sys\nfrom pallets_keras.cli import inputs, main\n"
             "from pallets_keras.errors import PalletsFileError\n")
    run = "\nsys.exit(main(['zoo', 'info', 'x']))"
    bug = _python(setup + "inputs.resolve_preset = lambda name: {}['missing']" + run)
    assert bug.returncode not in (0, 2)
    assert "Traceback" in bug.stderr and "KeyError: 'missing'" in bug.stderr
    assert "pallets: error" not in bug.stderr

    user = _python(setup + "def f(name): raise PalletsFileError('no zoo at /x: reinstall')\n"
                           "inputs.resolve_preset = f" + run)
    assert user.returncode == 2
    assert user.stderr.strip().splitlines() == ["pallets: error: no zoo at /x: reinstall"]
    assert user.stdout == ""


def test_usage_errors_are_one_line_naming_the_option(capsys):
    def usage(*argv):
        with pytest.raises(SystemExit) as e:
            cli.main(list(argv))
        assert e.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("pallets: error: "), err
        return err[0]

    assert "--temperature: must be a finite number >= 0, got nan" in usage(
        "generate", "x", "--temperature", "nan", "-o", "g.png")
    assert "--lr: must be a finite number > 0" in usage(
        "train", "onehot_ae", "--data", "d", "--lr", "0", "-o", "o")
    assert "--ragged" in usage("finetune", "x", "--data", "d", "--ragged", "no", "-o", "o")
    assert "--tile-size: must be a whole number > 0, got 0" in usage(
        "finetune", "x", "--data", "d", "--tile-size", "16,0", "-o", "o")
    assert "No such option '--nope'" in usage("zoo", "list", "--nope")
    assert "Missing option '-o'" in usage("generate", "x")
    assert "see `pallets generate --help`" in usage("generate", "x")
    assert "No such command 'gen'" in usage("gen")


def test_tune_dir_on_a_file_is_a_clear_error(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("mine")
    with pytest.raises(SystemExit) as e:
        cli.main(["tune", "onehot_vae", "--dir", str(afile)])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--dir" in err[0] and "is a file" in err[0], err
    assert afile.read_text() == "mine"


def test_tune_checks_its_options_before_loading_data(tmp_path, monkeypatch, capsys):
    from pallets_keras.cli import inputs

    monkeypatch.setattr(inputs, "load_data", lambda *a, **k: pytest.fail("data loaded"))
    assert cli.main(["tune", "onehot_vae", "--dir", str(tmp_path / "s"), "--fix",
                     "batch_size"]) == 2
    assert "--fix takes NAME=VALUE" in capsys.readouterr().err
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.txt").write_text("a")
    assert cli.main(["tune", "onehot_vae", "--dir", str(tmp_path / "s"), "--out",
                     str(notes)]) == 2
    assert "--out" in capsys.readouterr().err


def test_tune_table_numbers_trials_from_one():
    from pallets_keras.tuning import format_table

    rows = [{"trial_id": "1", "status": "COMPLETED", "score": 0.5,
             "hyperparameters": {"latent_dim": 8}},
            {"trial_id": "0", "status": "COMPLETED", "score": 0.7,
             "hyperparameters": {"latent_dim": 4}}]
    lines = format_table(rows).splitlines()
    assert lines[0].split()[:3] == ["trial", "status", "score"]
    assert [line.split()[0] for line in lines[2:]] == ["2", "1"]
    from pallets_keras.cli.tune import trial_number

    assert trial_number("0") == "1" and trial_number("a7") == "a7"


def test_old_entry_points_still_run():
    """`python -m pallets_keras.cli` (scripts/train_zoo.sh) and the deprecated
    `python -m pallets_keras.tuning tune ...`."""
    for module in ("pallets_keras.cli", "pallets_keras.tuning"):
        proc = subprocess.run([sys.executable, "-m", module, "tune", "--help"],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert "Usage: pallets tune" in proc.stdout and "examples:" in proc.stdout


def test_backend_option_after_the_command(backend, capsys):
    other = {"tensorflow": "jax", "jax": "tensorflow", "torch": "jax"}[backend]
    assert cli.main(["zoo", "list", "--backend", other]) == 2
    assert "already loaded" in capsys.readouterr().err
    result = CliRunner().invoke(cli.pallets, ["zoo", "list", "--names", "--backend", backend])
    assert result.exit_code == 0, result.output


# ------------------------------------------------------------- generation
@pytest.fixture(scope="module")
def models(tiny_palette):
    from pallets_keras.models import build

    small = dict(palette=tiny_palette, image_size=(8, 8), latent_dim=4, units=(16,), seed=0)
    return {"vae": build("onehot_vae", **small),
            "cvae": build("cvae", label_names=["odd", "low", "right"], **small)}


def test_chunks_give_the_images_of_one_call(models):
    from pallets_keras.cli.generate import sample_in_chunks

    vae, cvae = models["vae"], models["cvae"]
    one = vae.sample(10, seed=3)
    np.testing.assert_array_equal(sample_in_chunks(vae, 10, seed=3, chunk=4), one)
    np.testing.assert_array_equal(sample_in_chunks(vae, 10, seed=3, chunk=3), one)
    labels = {"odd": 1}
    np.testing.assert_array_equal(sample_in_chunks(cvae, 9, labels=labels, seed=5, chunk=4),
                                  cvae.sample(9, labels=labels, seed=5))
    # With temperature > 0 each chunk draws its colours with its own seed: the
    # result repeats for a chunk size (documented), and n <= chunk is one call.
    hot = [sample_in_chunks(vae, 10, seed=1, temperature=1.0, chunk=4) for _ in range(2)]
    np.testing.assert_array_equal(hot[0], hot[1])
    np.testing.assert_array_equal(sample_in_chunks(vae, 4, seed=1, temperature=1.0, chunk=4),
                                  vae.sample(4, seed=1, temperature=1.0))
    done = []
    sample_in_chunks(vae, 10, seed=0, chunk=4, progress=done.append)
    assert done == [4, 4, 2]


def test_generate_large_n_in_chunks_with_progress(models, tmp_path, monkeypatch, capsys):
    from PIL import Image

    from pallets_keras import zoo
    from pallets_keras.cli import generate

    preset = str(zoo.save_preset(models["vae"], tmp_path / "vae"))
    grids = {}
    for chunk in (1024, 4):
        monkeypatch.setattr(generate, "CHUNK", chunk)
        out = tmp_path / f"grid{chunk}.png"
        assert cli.main(["generate", preset, "-n", "10", "--seed", "2", "--scale", "1",
                         "-o", str(out)]) == 0
        captured = capsys.readouterr()
        assert captured.out.strip() == str(out)  # stdout: the result only
        assert ("generating" in captured.err) == (chunk == 4)  # progress on stderr
        grids[chunk] = np.asarray(Image.open(out))
    np.testing.assert_array_equal(grids[4], grids[1024])
