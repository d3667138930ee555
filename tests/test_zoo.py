"""The zoo: shipped presets, integrity checks, save/load, adaptation, the wheel."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _backend_share import backend_share

import pallets_keras as pk
from pallets_keras import io_utils, zoo
from pallets_keras.models import VARIANTS
from pallets_keras.zoo import PresetError

SHIPPED = zoo.list_models()


def test_every_variant_has_a_preset():
    assert sorted(SHIPPED) == sorted(VARIANTS)


def test_list_models_pattern():
    assert zoo.list_models("*gsvae") == ["earring_gsvae", "gsvae", "labeled_gsvae"]
    assert all("vae" in n for n in zoo.list_models("*vae*"))


def test_presets_are_small():
    root = zoo.zoo_root()
    sizes = {n: sum(f.stat().st_size for f in (root / n).iterdir()) for n in SHIPPED}
    assert max(sizes.values()) <= 10 * 2**20, sizes
    # 77 MB of weights plus the fitted priors (28 MB: mixtures, and the
    # training posteriors behind the conditional presets' label_posterior).
    assert sum(sizes.values()) <= 110 * 2**20


# How far a re-measured figure may sit from the recorded one. Decoding is
# deterministic: rates over the 1,000 test punks (or 500 samples) may move by
# a few images where backends round a near-tie differently. -ELBO, KL and the
# reconstruction NLL draw one posterior sample per image (pinned by the seed,
# but drawn by each backend's own generator): each within 1 nat plus 3% of
# the recorded -ELBO (earring_gsvae's 33.0 moved by 0.74 nats on JAX,
# onehot_conv_vae's reconstruction NLL by 0.23 on torch), where a wrong model
# is off by tens to hundreds of nats.
RATE_TOLERANCE = 0.005
NATS_RELATIVE_TOLERANCE = 0.03
NATS_ABSOLUTE_TOLERANCE = 1.0
NATS = ("neg_elbo", "kl", "reconstruction_nll")


@pytest.fixture(scope="module")
def punk_split(punks):
    return punks.split()


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED)
def test_preset_loads_and_samples(name, punk_split):
    """Each preset on this backend: hashes, size, seeded sampling."""
    train, test = punk_split
    model = zoo.load(name)
    meta = zoo.info(name)
    assert model.variant == meta["variant"] and model.count_params() == meta["parameter_count"]
    if model.latent != "none":
        lab = test.select_labels(model.label_names).labels[:8] if model.is_conditional else None
        samples = model.sample(8, labels=lab, seed=0)
        assert samples.shape == (8, 24, 24, 4)
        np.testing.assert_array_equal(samples, model.sample(8, labels=lab, seed=0))


# Each preset's figures are re-measured once per `make test`, on one backend in
# turn; the demo's preset on all three (tests/_backend_share.py).
@pytest.mark.slow
@pytest.mark.parametrize("name", backend_share(SHIPPED, every=("onehot_conv_vae",)))
def test_preset_keeps_its_figures(name, punk_split):
    """Every figure the preset's metadata records (but the sample_* ones:
    test_zoo_samples), re-measured by the call that recorded them,
    `metrics.evaluate` on the whole test split."""
    train, test = punk_split
    model = zoo.load(name)
    recorded = {k: v for k, v in zoo.info(name)["metrics"].items() if not k.startswith("sample_")}
    got = pk.metrics.evaluate(model, test, train=train, seed=0)
    assert sorted(got) == sorted(recorded)
    for key, want in recorded.items():
        if key in NATS:
            assert got[key] == pytest.approx(
                want, abs=NATS_ABSOLUTE_TOLERANCE + NATS_RELATIVE_TOLERANCE * recorded["neg_elbo"]
            ), key
        elif key in ("test_images", "nearest_hamming"):
            assert got[key] == pytest.approx(want, rel=0.01), key
        else:
            assert got[key] == pytest.approx(want, abs=RATE_TOLERANCE), key


def test_metadata_is_complete():
    for name in SHIPPED:
        meta = zoo.info(name)
        for key in ("name", "format_version", "description", "variant", "palette", "image_size",
                    "label_names", "parameter_count", "metrics", "recipe", "keras_version",
                    "pallets_keras_version", "files", "training", "figures_sha256"):
            assert key in meta, (name, key)
        # The figures are the ones saved with these weights (load checks it too).
        assert meta["figures_sha256"] == zoo.registry.figures_digest(meta), name
        assert meta["recipe"]["variant"] == name
        assert len(meta["palette"]) == 222 and meta["image_size"] == [24, 24]


# ------------------------------------------------------------- integrity
@pytest.fixture
def tiny_preset(tmp_path, tiny_dataset):
    model = pk.models.build("onehot_conv_vae", palette=tiny_dataset.palette, image_size=(8, 8),
                            filters=(8,), latent_dim=4, seed=0)
    path = zoo.save_preset(model, tmp_path / "tiny", metadata={"description": "test"})
    return model, path


def test_save_and_load_by_path(tiny_preset, tiny_dataset):
    model, path = tiny_preset
    again = zoo.load(path)
    np.testing.assert_allclose(again.predict_logits(tiny_dataset.indices[:4]),
                               model.predict_logits(tiny_dataset.indices[:4]), atol=1e-6)
    assert zoo.info(path)["description"] == "test"
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "metadata.json",
                                                      "model.weights.h5"]


@pytest.mark.parametrize("victim", ["model.weights.h5", "config.json"])
def test_tampered_file_is_refused(tiny_preset, victim):
    _, path = tiny_preset
    data = bytearray((path / victim).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (path / victim).write_bytes(bytes(data))
    with pytest.raises(PresetError, match=f"{victim} does not match its recorded sha256"):
        zoo.load(path)


@pytest.mark.parametrize("edit", ["figure", "weights hash"])
def test_figures_are_tied_to_the_weights(tiny_preset, edit):
    """A figure edited after saving, or the same figures over other weights,
    no longer match the digest save_preset wrote."""
    _, path = tiny_preset
    meta = json.loads((path / "metadata.json").read_text())
    assert meta["figures_sha256"] == zoo.registry.figures_digest(meta)
    zoo.load(path, compile=False)
    if edit == "figure":
        meta.setdefault("metrics", {})["pixel_accuracy"] = 0.999
    else:  # new weights whose hash was recorded, figures left as they were
        data = bytearray((path / "model.weights.h5").read_bytes())
        data[len(data) // 2] ^= 0xFF
        (path / "model.weights.h5").write_bytes(bytes(data))
        meta["files"]["model.weights.h5"] = io_utils.sha256_file(path / "model.weights.h5")
    (path / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(zoo.registry.DamagedPresetError, match="figures_sha256 does not match"):
        zoo.load(path)


def test_missing_files(tiny_preset, tmp_path):
    _, path = tiny_preset
    (path / "model.weights.h5").unlink()
    with pytest.raises(PresetError, match="missing model.weights.h5"):
        zoo.load(path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(PresetError, match="not a complete preset"):
        zoo.load(empty)


def test_newer_format_is_refused(tiny_preset):
    _, path = tiny_preset
    meta = json.loads((path / "metadata.json").read_text())
    meta["format_version"] = 99
    (path / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(PresetError, match="Upgrade pallets_keras"):
        zoo.load(path)


def test_unknown_name_suggests():
    with pytest.raises(PresetError, match="Did you mean.*onehot_conv_vae"):
        zoo.load("onehot_conv_vea")


@pytest.mark.parametrize("name", ["..", "a b", "onehot_vae;rm"])
def test_bad_names(name):
    with pytest.raises((PresetError, FileNotFoundError)):
        zoo.load(name)


def test_escaping_paths(tmp_path, monkeypatch):
    # A relative path is a local folder, never a zoo name: /etc is no preset.
    with pytest.raises((PresetError, FileNotFoundError), match="preset"):
        zoo.load("../" * 12 + "etc")
    # A zoo folder of its own under tmp_path: the test writes nothing in the repository.
    from pallets_keras.zoo import registry

    root = tmp_path / "zoo"
    root.mkdir()
    (tmp_path / "outside").mkdir()
    (root / "zz_escape_link").symlink_to(tmp_path / "outside")
    monkeypatch.setattr(registry, "zoo_root", lambda: root)
    with pytest.raises(PresetError, match="escapes the zoo folder"):
        zoo.load("zz_escape_link")


# ------------------------------------------------------------- adaptation
def test_adapt_to_new_palette_and_size(tiny_preset):
    model, path = tiny_preset
    new_palette = pk.Palette([[0, 0, 0, 0], [10, 20, 30, 255], [200, 100, 0, 255]])
    adapted = zoo.load(path, palette=new_palette, image_size=(16, 16))
    assert adapted.palette == new_palette and adapted.image_size == (16, 16)
    kept = model.encoder.get_layer("enc_conv_0").get_weights()[0]
    np.testing.assert_array_equal(adapted.encoder.get_layer("enc_conv_0").get_weights()[0], kept)
    assert "palette_head" in adapted.reinitialized_layers
    assert adapted.sample(2, seed=0).shape == (2, 16, 16, 4)


def test_dense_body_cannot_change_size(tiny_dataset, tmp_path):
    model = pk.models.build("onehot_vae", palette=tiny_dataset.palette, image_size=(8, 8),
                            units=(8,), latent_dim=3)
    path = zoo.save_preset(model, tmp_path / "dense")
    with pytest.raises(ValueError, match="dense body"):
        zoo.load(path, image_size=(16, 16))


def test_palette_too_large(tiny_preset):
    _, path = tiny_preset
    rng = np.random.default_rng(0)
    colors = np.unique(rng.integers(0, 256, (6000, 4), dtype=np.uint8), axis=0)[:5000]
    with pytest.raises(ValueError, match="more than a model takes"):
        zoo.load(path, palette=pk.Palette(colors))


# ------------------------------------------------------------------ wheel
@pytest.mark.slow
def test_wheel_ships_the_zoo(tmp_path):
    """Build the wheel, install it (no deps, no index) into a fresh venv outside the
    repository, and load a preset there with no network."""
    if os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow":
        pytest.skip("packaging is backend-independent; checked once, on tensorflow")
    root = Path(__file__).resolve().parents[1]
    # Built from a copy: setuptools writes build/ and *.egg-info/ next to the
    # sources, which must not happen in the repository (parallel runs race there).
    src = tmp_path / "src"
    shutil.copytree(root, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".work", "out",
        "notebooks", "bench", "docs", "tests", ".pytest_cache"))
    dist = tmp_path / "dist"
    build = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation",
                            "-o", str(dist), str(src)], capture_output=True, text=True,
                           timeout=600)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    wheel = next(dist.glob("*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = next((venv / "lib").glob("python3*/site-packages"))
    # Dependencies from this environment; pallets_keras itself only from the wheel.
    deps = [p for p in sys.path if p.endswith("site-packages")]
    (site / "deps.pth").write_text("\n".join(deps) + "\n")
    inst = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index",
                           "--target", str(site), str(wheel)], capture_output=True, text=True)
    assert inst.returncode == 0, inst.stderr[-2000:]
    code = ("import pallets_keras as pk; from pallets_keras import zoo; "
            "print(pk.__file__); m = zoo.load('onehot_conv_vae'); "
            "print(m.sample(2, seed=0).shape, len(zoo.list_models()))")
    run = subprocess.run([str(py), "-I", "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300,
                         env={"PATH": os.environ["PATH"], "KERAS_BACKEND": "tensorflow",
                              "HOME": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert run.returncode == 0, run.stderr[-3000:]
    first, second = run.stdout.strip().splitlines()[-2:]
    assert str(site) in first
    assert second.startswith("(2, 24, 24, 4)") and second.endswith(str(len(SHIPPED)))


def test_recipes_in_repo_match_presets():
    """Each preset was trained from the recipe kept in zoo/recipes (one seeded command
    rebuilds it: `pallets train --recipe zoo/recipes/NAME.json -o zoo/NAME`)."""
    root = Path(__file__).resolve().parents[1] / "zoo" / "recipes"
    for name in SHIPPED:
        recipe = json.loads((root / f"{name}.json").read_text())
        assert zoo.info(name)["recipe"] == recipe, name
        assert "seed" in recipe["fit"]
