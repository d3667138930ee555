"""Messages the review found unclear: max_colors above what a quantizer makes,
a KERAS_BACKEND Keras does not have, a damaged preset file."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from pallets_keras import Palette, io_utils, zoo
from pallets_keras.datasets import folder
from pallets_keras.errors import PalletsFileError, PalletsValueError
from pallets_keras.zoo import DamagedPresetError, PresetError


# ------------------------------------------------------------- max_colors
@pytest.fixture(scope="module")
def many_colours(tmp_path_factory):
    """400 distinct opaque colours in one 20x20 image (and as a PNG)."""
    rng = np.random.default_rng(0)
    rgb = rng.choice(256 ** 3, 400, replace=False)
    rgba = np.zeros((20, 20, 4), np.uint8)
    rgba[..., 0], rgba[..., 1], rgba[..., 2] = (rgb.reshape(20, 20) >> s & 255 for s in
                                                (16, 8, 0))
    rgba[..., 3] = 255
    path = tmp_path_factory.mktemp("colours") / "many.png"
    Image.fromarray(rgba, "RGBA").save(path)
    return rgba, path


@pytest.mark.backend_independent
@pytest.mark.filterwarnings("ignore:folder.load")
def test_max_colors_above_256_works_with_kmeans(many_colours):
    rgba, path = many_colours
    assert len(Palette.quantize(rgba[None], 300)) == 300
    assert len(folder.load(path, max_colors=300).palette) == 300


@pytest.mark.backend_independent
@pytest.mark.parametrize("method", ["mediancut", "fastoctree"])
def test_max_colors_above_256_with_a_pillow_quantizer_is_refused(many_colours, method):
    rgba, path = many_colours
    with pytest.raises(PalletsValueError,
                       match=rf"max_colors=300 with method='{method}'.*at most 256 .*\[1, 256\]"
                             r".*'kmeans'"):
        Palette.quantize(rgba[None], 300, method=method)
    with pytest.raises(PalletsValueError, match=rf"max_colors=300 with quantizer='{method}'"):
        folder.load(path, max_colors=300, quantizer=method)
    # Allowed values still work: the limit, and kmeans beyond it.
    assert len(Palette.quantize(rgba[None], 256, method=method)) <= 256


def test_the_cli_refuses_max_colors_300_with_mediancut_in_one_line(many_colours, tmp_path,
                                                                   capsys):
    from pallets_keras.cli import main

    status = main(["train", "onehot_conv_ae", "--data", str(many_colours[1]),
                   "--max-colors", "300", "--quantizer", "mediancut", "-o",
                   str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 2 and len(err.strip().splitlines()) == 1, err
    assert "max_colors=300" in err and "256" in err and not (tmp_path / "out").exists()


# ------------------------------------------------------------ KERAS_BACKEND
def _run(args, backend="garbage"):
    env = {**os.environ, "KERAS_BACKEND": backend}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          timeout=300)


@pytest.mark.backend_independent
def test_a_bad_keras_backend_is_one_line_in_the_cli():
    proc = _run(["-m", "pallets_keras", "zoo", "list"])
    err = proc.stderr.strip()
    assert proc.returncode == 2, (proc.returncode, err)
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "KERAS_BACKEND='garbage'" in err
    assert all(name in err for name in ("tensorflow", "jax", "torch"))


@pytest.mark.backend_independent
def test_a_bad_keras_backend_is_a_clear_import_error():
    # The package itself loads (the CLI's --backend can still set the backend)...
    assert _run(["-c", "import pallets_keras"]).returncode == 0
    # ...and Keras, when first needed, fails with one clear line.
    proc = _run(["-c", "import pallets_keras as pk; pk.zoo"])
    last = proc.stderr.strip().splitlines()[-1]
    assert proc.returncode == 1
    assert last.startswith("ImportError: KERAS_BACKEND='garbage' is not a Keras backend"), last
    assert all(name in last for name in ("tensorflow", "jax", "torch"))
    assert "Unable to import backend" not in proc.stderr


# ------------------------------------------------------------ damaged preset
@pytest.fixture
def damaged(tmp_path):
    """A copy of the shipped onehot_conv_vae with its weights file cut in half."""
    path = tmp_path / "onehot_conv_vae"
    shutil.copytree(zoo.zoo_root() / "onehot_conv_vae", path)
    weights = path / "model.weights.h5"
    data = weights.read_bytes()
    weights.write_bytes(data[:len(data) // 2])
    return path


def test_a_truncated_weights_file_is_a_clear_file_error(damaged):
    with pytest.raises(DamagedPresetError) as caught:
        zoo.load(damaged)
    e = caught.value
    assert isinstance(e, PalletsFileError) and isinstance(e, PresetError)
    text = str(e)
    assert str(damaged / "model.weights.h5") in text
    assert "damaged" in text and "Re-download" in text and "re-save" in text


def test_an_unreadable_weights_file_with_a_matching_hash_is_a_clear_file_error(damaged):
    # A damaged file whose hash (and figures digest) was re-recorded: h5py's
    # error becomes ours.
    meta_path = damaged / "metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["files"]["model.weights.h5"] = io_utils.sha256_file(damaged / "model.weights.h5")
    meta["figures_sha256"] = zoo.registry.figures_digest(meta)
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(DamagedPresetError, match=r"model\.weights\.h5 cannot be read .*"
                                                 r"Re-download"):
        zoo.load(damaged)


def test_the_cli_says_a_damaged_preset_in_one_line(damaged, tmp_path, capsys):
    from pallets_keras.cli import main

    status = main(["generate", str(damaged), "-n", "1", "-o", str(tmp_path / "x.png")])
    err = capsys.readouterr().err
    assert status == 2 and len(err.strip().splitlines()) == 1, err
    assert "model.weights.h5" in err and "Re-download" in err and "Traceback" not in err
