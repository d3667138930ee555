"""Every variant builds, trains and generates; bad input gives clear errors."""

import keras
import numpy as np
import pytest

import pallets_keras as pk
from pallets_keras.errors import PalletsError
from pallets_keras.models import VARIANTS, build

TINY = dict(filters=(8, 16), units=(32,), latent_dim=6, embedding_dim=4, pixel_channels=4,
            categorical_dim=4, seed=0)


def tiny_model(variant, dataset, **kw):
    return build(variant, palette=dataset.palette, image_size=dataset.image_size,
                 label_names=dataset.label_names, **{**TINY, **kw})


@pytest.mark.parametrize("variant", VARIANTS)
def test_variant_trains_and_loss_falls(variant, tiny_dataset):
    model = tiny_model(variant, tiny_dataset)
    history = pk.fit(model, tiny_dataset, epochs=4, batch_size=32, learning_rate=1e-2,
                     seed=0, verbose=0)
    loss = history.history["loss"]
    assert np.isfinite(loss).all()
    assert loss[-1] < loss[0], f"{variant}: loss {loss}"
    assert "pixel_accuracy" in history.history
    labels = tiny_dataset.labels[:5] if model.conditioning != "none" else None
    rgba = model.reconstruct(tiny_dataset.indices[:5], labels=labels)
    assert rgba.shape == (5, 8, 8, 4) and rgba.dtype == np.uint8
    if model.representation == "onehot":  # every pixel a palette colour
        tiny_dataset.palette.encode(rgba)
    if model.latent != "none":
        lab = tiny_dataset.labels[:3] if model.is_conditional else None
        s = model.sample(3, labels=lab, seed=1)
        assert s.shape == (3, 8, 8, 4)
        np.testing.assert_array_equal(s, model.sample(3, labels=lab, seed=1))


def test_axes_of_variants():
    m = build("labeled_conv_cvae", num_labels=5, **TINY)
    assert (m.representation, m.latent, m.conditioning) == ("onehot", "gaussian", "conditional")
    assert "label_logits" in m.output
    assert build("labeled_vae", num_labels=5, **TINY).conditioning == "labeled"
    assert build("earring_gsvae", num_labels=5, **TINY).latent == "gumbel"
    assert build("rgba_conv_ae", **TINY).representation == "rgba"


@pytest.mark.parametrize("size", [(16, 16), (32, 32), (48, 24)])
def test_other_image_sizes(size):
    for variant in ("onehot_conv_vae", "onehot_vae"):
        model = build(variant, palette_size=30, image_size=size, **TINY)
        out = model.predict_logits(np.zeros((2,) + size, "uint8"))
        assert out.shape == (2,) + size + (30,)


def test_keras_save_load_identical(tmp_path, tiny_dataset):
    model = tiny_model("conv_cvae", tiny_dataset)
    pk.fit(model, tiny_dataset, epochs=1, batch_size=32, verbose=0)
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras")
    lab = tiny_dataset.labels[:8]
    np.testing.assert_allclose(model.predict_logits(tiny_dataset.indices[:8], lab),
                               again.predict_logits(tiny_dataset.indices[:8], lab), atol=1e-6)
    assert again.palette == model.palette and again.label_names == model.label_names


def test_transpose_upsampling_decoder(tmp_path, tiny_dataset):
    """upsampling="transpose": a Conv2DTranspose per decoder stage instead of
    nearest upsampling + conv (fewer multiply-adds; docs/benchmarks_models.md).
    It trains, decodes palette-exact, saves and loads, and is kept in the
    build options; the default stays the presets' decoder."""
    from pallets_keras.errors import PalletsValueError

    model = tiny_model("onehot_conv_vae", tiny_dataset, upsampling="transpose")
    kinds = {type(layer).__name__ for layer in model.decoder.layers}
    assert "Conv2DTranspose" in kinds and "UpSampling2D" not in kinds
    assert model.build_options["upsampling"] == "transpose"
    history = pk.fit(model, tiny_dataset, epochs=3, batch_size=32, learning_rate=1e-2,
                     verbose=0, seed=0)
    losses = history.history["loss"]
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
    tiny_dataset.palette.encode(model.sample(4, seed=0))  # raises on a non-palette pixel
    model.save(tmp_path / "t.keras")
    again = keras.saving.load_model(tmp_path / "t.keras")
    np.testing.assert_allclose(model.predict_logits(tiny_dataset.indices[:4]),
                               again.predict_logits(tiny_dataset.indices[:4]), atol=1e-6)
    default = tiny_model("onehot_conv_vae", tiny_dataset)
    assert "UpSampling2D" in {type(layer).__name__ for layer in default.decoder.layers}
    with pytest.raises(PalletsValueError, match="upsampling must be one of 'nearest'"):
        tiny_model("onehot_conv_vae", tiny_dataset, upsampling="bilinear")


def test_kl_warmup_and_annealing_reach_the_model(tiny_dataset):
    model = tiny_model("gsvae", tiny_dataset, beta=0.5)
    pk.fit(model, tiny_dataset, epochs=2, batch_size=8, kl_warmup_epochs=4, verbose=0,
           temperature={"tau0": 1.0, "tau_min": 0.3, "rate": 0.1, "update_every": 1})
    beta = float(keras.ops.convert_to_numpy(model.beta))
    assert beta == pytest.approx(0.5 * 1 / 4)  # epoch index 1 of a 4-epoch warm-up
    tau = float(keras.ops.convert_to_numpy(model.get_layer("gumbel_softmax").tau))
    assert tau == pytest.approx(max(0.3, np.exp(-0.1 * 16)), rel=1e-5)


# ------------------------------------------------------------------ errors
@pytest.fixture(scope="module")
def cvae(tiny_dataset):
    return tiny_model("cvae", tiny_dataset)


@pytest.fixture(scope="module")
def vae(tiny_dataset):
    return tiny_model("onehot_vae", tiny_dataset)


def test_wrong_image_size(vae):
    with pytest.raises(ValueError, match="takes 8x8 images, got 9x9"):
        vae.reconstruct(np.zeros((1, 9, 9), "uint8"))


def test_wrong_palette_size(vae):
    with pytest.raises(ValueError, match="(?i)palette indices must lie in"):
        vae.reconstruct(np.full((1, 8, 8), 40, "uint8"))
    other = pk.datasets.PixelDataset(pk.Palette([[0, 0, 0, 0], [1, 2, 3, 255]]),
                                     np.zeros((4, 8, 8), "uint8"))
    with pytest.raises(ValueError, match="palette"):
        pk.fit(vae, other, epochs=1, verbose=0)


def test_labels_errors(cvae, vae):
    with pytest.raises(ValueError, match="conditioned on 3 labels"):
        cvae.sample(2, seed=0)
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        cvae.sample(2, labels=np.zeros((2, 5)), seed=0)
    with pytest.raises(KeyError, match="Did you mean"):
        cvae.sample(2, labels={"od": 1}, seed=0)
    with pytest.raises(ValueError, match="not conditioned"):
        vae.sample(2, labels={"odd": 1}, seed=0)


def test_labeled_model_refuses_to_pretend_control(tiny_dataset):
    m = tiny_model("labeled_vae", tiny_dataset)
    with pytest.raises(ValueError, match="encoder only"):
        m.sample(2, labels={"odd": 1}, seed=0)


@pytest.mark.parametrize("n", [0, -3, 2.5, True])
def test_bad_n(vae, n):
    # A PalletsError naming n (a ValueError for 0 and -3, a TypeError for 2.5 and True).
    with pytest.raises(PalletsError, match=r"^n="):
        vae.sample(n)


def test_ae_has_no_prior(tiny_dataset):
    with pytest.raises(ValueError, match="no prior"):
        tiny_model("onehot_ae", tiny_dataset).sample(2)


def test_nan_logits_are_an_error(tiny_dataset):
    model = tiny_model("onehot_vae", tiny_dataset)
    head = model.decoder.get_layer("palette_head")
    kernel, bias = head.get_weights()
    head.set_weights([kernel, np.full_like(bias, np.nan)])
    with pytest.raises(FloatingPointError, match="NaN"):
        model.sample(2, seed=0)


def test_build_errors():
    with pytest.raises(ValueError, match="Did you mean"):
        build("onehot_conv_vea")
    with pytest.raises(ValueError, match="multiple of 4"):
        build("onehot_conv_vae", image_size=(30, 30))
    with pytest.raises(TypeError, match="Unknown build options"):
        build("onehot_vae", latent_size=3)


def test_interpolate_endpoints(tiny_dataset):
    model = tiny_model("onehot_ae", tiny_dataset)
    pk.fit(model, tiny_dataset, epochs=2, batch_size=16, verbose=0)
    a, b = tiny_dataset.indices[:1], tiny_dataset.indices[1:2]
    strip = model.interpolate(a, b, steps=5)
    assert strip.shape == (5, 8, 8, 4)
    np.testing.assert_array_equal(strip[0], model.reconstruct(a)[0])
    np.testing.assert_array_equal(strip[-1], model.reconstruct(b)[0])
    with pytest.raises(ValueError, match="steps"):
        model.interpolate(a, b, steps=1)


def test_generation_follows_weight_changes(tiny_dataset):
    """The compiled index decoder shares the decoder's weights: no stale cache."""
    model = tiny_model("onehot_vae", tiny_dataset)
    model.sample(4, seed=0)  # builds and compiles the index decoder
    head = model.decoder.get_layer("palette_head")
    kernel, bias = head.get_weights()
    bias = np.full_like(bias, -100.0)
    bias[3] = 100.0  # colour 3 wins at every pixel
    head.set_weights([kernel, bias])
    idx = tiny_dataset.palette.encode(model.sample(4, seed=0))
    assert (idx == 3).all()
    head.set_weights([kernel, np.full_like(bias, np.nan)])
    with pytest.raises(FloatingPointError, match="NaN"):
        model.sample(4, seed=0)


def test_generation_batches_any_n(tiny_dataset, monkeypatch):
    """Batches are padded to a power of two; padding never leaks into outputs."""
    from pallets_keras.models import generation

    monkeypatch.setattr(generation, "PREDICT_BATCH", 8)
    model = tiny_model("onehot_vae", tiny_dataset)
    z = model.sample_latent(19, seed=0)
    together = model.decode_indices(z)
    apart = np.concatenate([model.decode_indices(z[i:i + 1]) for i in range(19)])
    np.testing.assert_array_equal(together, apart)
    assert together.shape == (19, 8, 8)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="XLA switch is TF-only")
def test_xla_on_tensorflow_by_default(tiny_dataset, monkeypatch):
    """The default TF training path (XLA) trains, and generation after it gives
    the eager decoder's results."""
    monkeypatch.setenv("PALLETS_KERAS_XLA", "1")
    model = tiny_model("onehot_vae", tiny_dataset)
    history = pk.fit(model, tiny_dataset, epochs=2, batch_size=32, seed=0, verbose=0)
    assert model.jit_compile is True and np.isfinite(history.history["loss"]).all()
    z = model.sample_latent(16, seed=0)
    eager = keras.ops.convert_to_numpy(model.decoder({"z": z})["logits"]).argmax(-1)
    compiled = model.decode_indices(z)
    np.testing.assert_array_equal(compiled, eager)
    monkeypatch.setenv("PALLETS_KERAS_XLA", "0")
    model.compile(optimizer="adam")
    assert model.jit_compile is False


@pytest.mark.skipif(keras.backend.backend() == "tensorflow", reason="TF is the backend here")
def test_seeded_fit_does_not_import_tensorflow(tmp_path):
    """`fit(seed=)` seeds like Keras without importing TensorFlow (5 s, 700 MB),
    loading presets (adapted to a new palette too) warns of nothing (no
    skipped optimizer variables), and a script that loads a preset, samples,
    trains and saves a preset
    prints none of TensorFlow's native log lines ("Could not find cuda
    drivers", oneDNN), though saving imports TensorFlow (Keras does)."""
    import os
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import numpy as np\n"
        "import pallets_keras as pk\n"
        "from pallets_keras.datasets.pixel_dataset import PixelDataset\n"
        "from pallets_keras.palette import Palette\n"
        "pal = Palette([[0, 0, 0, 0], [255, 0, 0, 255], [0, 255, 0, 255]])\n"
        "idx = np.random.default_rng(0).integers(0, 3, (16, 4, 4)).astype('uint8')\n"
        "ds = PixelDataset(pal, idx)\n"
        "m = pk.models.build('onehot_vae', palette=pal, image_size=(4, 4), units=(8,),\n"
        "                    latent_dim=2, embedding_dim=2, pixel_channels=2)\n"
        "pk.fit(m, ds, epochs=1, batch_size=8, seed=3, verbose=0)\n"
        "import warnings\n"
        "with warnings.catch_warnings(record=True) as seen:\n"
        "    warnings.simplefilter('always')\n"
        "    pk.zoo.load('onehot_conv_ae', compile=False).sample(2, seed=0)\n"
        # Adapting to a new palette re-makes (and seeds) the palette ends.
        "    pk.zoo.load('onehot_conv_vae', palette=pal, image_size=(8, 8), seed=0)\n"
        # What a user sees: Keras' own Variable.numpy() on PyTorch raises
        # NumPy 2's copy-keyword DeprecationWarning, hidden by default.
        "seen = [w for w in seen if not issubclass(w.category, DeprecationWarning)]\n"
        "assert not seen, [str(w.message) for w in seen]\n"
        "assert 'tensorflow' not in sys.modules, 'TensorFlow was imported'\n"
        # Keras' serialization imports TensorFlow when installed: quietly.
        "pk.zoo.save_preset(m, 'saved')\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, env={**os.environ}, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    for line in ("cuda drivers", "oneDNN", "absl::InitializeLog", "cpu_feature_guard"):
        assert line not in run.stderr, run.stderr[-2000:]


def test_decode_names_a_wrong_latent_shape():
    from pallets_keras.errors import PalletsValueError

    model = build("onehot_vae", palette_size=5, image_size=(8, 8), **TINY)
    with pytest.raises(PalletsValueError, match=r"z: latent codes must have shape \(N, 6\)"):
        model.decode(np.zeros((2, 7), "float32"))


def test_models_declare_their_data_set_ends(tiny_dataset):
    """What `zoo.adapt` re-creates for a new palette and fine-tuning's warm-up
    trains: declared by the representation (and the label head), not named by
    the callers."""
    kw = dict(palette=tiny_dataset.palette, image_size=(8, 8), filters=(4,), units=(8,),
              latent_dim=3, label_names=tiny_dataset.label_names)
    onehot = build("onehot_conv_vae", **kw)
    assert onehot.palette_end_layers == ("palette_embedding", "palette_head")
    assert onehot.data_end_layers == onehot.palette_end_layers
    assert build("rgba_ae", **kw).palette_end_layers == ("palette_lookup", "palette_head")
    labeled = build("labeled_cvae", **kw)
    assert labeled.data_end_layers == ("palette_embedding", "palette_head", "label_head")
    for model in (onehot, labeled):
        names = {layer.name for sub in (model.encoder, model.decoder) for layer in sub.layers}
        assert set(model.data_end_layers) <= names
