"""`pallets finetune` and `train` take folder.load's options for real atlases
(margin, spacing, ragged, frames, duplicates, coverage, quantizer) and print the
held-out score. Tiny presets and a sheet made here."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from pallets_keras import Palette, zoo
from pallets_keras.cli import main, pallets

COLOURS = np.array([[0, 0, 0, 0], [10, 20, 30, 255], [200, 0, 0, 255], [0, 200, 0, 255],
                    [0, 0, 200, 255], [250, 250, 0, 255]], np.uint8)
GRID = np.array([255, 0, 255, 255], np.uint8)  # the 1-pixel grid lines


@pytest.fixture(scope="module")
def preset(tmp_path_factory):
    from pallets_keras.models import build

    pal = Palette([[0, 0, 0, 0], [255, 255, 255, 255], [0, 0, 0, 255]])
    model = build("onehot_conv_ae", palette=pal, image_size=(8, 8), filters=(4,),
                  latent_dim=4, seed=0)
    return str(zoo.save_preset(model, tmp_path_factory.mktemp("presets") / "ae"))


@pytest.fixture(scope="module")
def sheet(tmp_path_factory):
    """5 rows x 6 columns of 16x8 tiles (H=16, W=8) with a 1-pixel margin and
    1-pixel spacing in magenta, 3 stray pixels at the right (a ragged edge),
    one duplicate tile and one near-empty tile."""
    rows, cols, h, w = 5, 6, 16, 8
    tiles = np.zeros((rows * cols, h, w), int)
    for i in range(rows * cols):  # (colour, row, column) differ for every tile
        r, c = i // 5, i % 3
        tiles[i, r:r + 8, c:c + 5] = 1 + i % 5
    tiles[7] = tiles[3]           # a duplicate
    tiles[11] = 0
    tiles[11, 0, 0] = 2           # near-empty: 1 visible pixel of 128
    height = 1 + rows * (h + 1)
    width = 1 + cols * (w + 1) + 3
    img = np.tile(GRID, (height, width, 1))
    for i in range(rows * cols):
        y, x = 1 + (i // cols) * (h + 1), 1 + (i % cols) * (w + 1)
        img[y:y + h, x:x + w] = COLOURS[tiles[i]]
    path = tmp_path_factory.mktemp("sheet") / "atlas.png"
    Image.fromarray(img, "RGBA").save(path)
    return path


@pytest.mark.backend_independent  # plumbing: its model work is tested per backend
def test_finetune_takes_the_loader_options_and_prints_the_held_out_score(preset, sheet,
                                                                         tmp_path):
    # A folder (with --tile-size) holding the sheet and a file that is skipped.
    data_dir = tmp_path / "sheets"
    data_dir.mkdir()
    shutil.copy(sheet, data_dir / "atlas.png")
    (data_dir / "notes.txt").write_text("not an image")
    out = tmp_path / "tuned"
    proc = subprocess.run(
        [sys.executable, "-m", "pallets_keras", "finetune", preset, "--data", str(data_dir),
         "--tile-size", "16,8", "--margin", "1", "--spacing", "1", "--ragged", "drop",
         "--drop-duplicates", "--min-coverage", "0.05", "--quantizer", "kmeans",
         "--max-colors", "8", "--epochs", "3", "--patience", "2", "--batch-size", "8",
         "--no-eval", "-o", str(out)],
        capture_output=True, text=True, env={**os.environ}, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == str(out)
    assert "held-out pixel accuracy:" in proc.stderr
    # The load report is said on stderr and kept in the metadata.
    assert "1 near-empty, 1 duplicates left out" in proc.stderr, proc.stderr
    assert "skipped notes.txt: not an image format Pillow reads (.txt)" in proc.stderr
    meta = json.loads((out / "metadata.json").read_text())
    data, training = meta["data"], meta["training"]
    # 30 tiles, one duplicate and one near-empty left out; no magenta grid line
    # in any tile, so the palette is the 6 sprite colours.
    assert data["images"] == 28 and data["train"] + data["validation"] == 28
    assert meta["palette_size"] == 6
    report = data["load_report"]
    assert report["duplicates_dropped"] == 1 and report["near_empty_dropped"] == 1
    assert report["skipped_files"] == [["notes.txt", "not an image format Pillow reads (.txt)"]]
    assert report["ragged"] == "drop" and report["tile_size"] == [16, 8]
    assert data["loader"] == {"margin": 1, "spacing": 1, "ragged": "drop",
                              "drop_duplicates": True, "min_coverage": 0.05}
    assert 0 <= training["held_out_pixel_accuracy_visible"] <= 1
    assert training["held_out_images"] == data["validation"] == 3
    assert training["epochs_run"] <= 3 and training["stopped_by"] in ("epochs",
                                                                      "early_stopping")


def test_a_ragged_sheet_without_ragged_is_refused_in_one_line(preset, sheet, tmp_path,
                                                              capsys):
    status = main(["finetune", preset, "--data", str(sheet), "--tile-size", "16,8",
                   "--margin", "1", "--spacing", "1", "-o", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert status == 2 and "ragged" in err and "Traceback" not in err


def test_loader_options_refused_with_cpunks(capsys, tmp_path):
    status = main(["finetune", "onehot_conv_ae", "--data", "cpunks", "--margin", "1",
                   "-o", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert status == 2 and "--margin" in err and "cpunks" in err


def test_data_help_names_pillow_formats():
    from click.testing import CliRunner

    for command in ("train", "finetune"):
        text = CliRunner().invoke(pallets, [command, "--help"]).output
        assert "Pillow" in text and "XPM" in text
        for flag in ("--ragged", "--margin", "--spacing", "--frames", "--drop-duplicates",
                     "--min-coverage", "--quantizer"):
            assert flag in text, (command, flag)
    assert "--patience" in CliRunner().invoke(pallets, ["finetune", "--help"]).output
