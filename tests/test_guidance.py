"""Label dropout in training and classifier-free guidance in sampling."""

import numpy as np
import pytest

from pallets_keras import training
from pallets_keras.errors import PalletsValueError
from pallets_keras.models import build


@pytest.fixture(scope="module")
def cvae(tiny_dataset):
    return build("conv_cvae", palette=tiny_dataset.palette, image_size=(8, 8),
                 label_names=tiny_dataset.label_names, seed=0, filters=(8,), latent_dim=4)


def test_label_dropout_zeroes_that_share_of_label_rows_each_epoch(tiny_dataset):
    inputs = {"indices": tiny_dataset.indices,
              "labels": np.ones((len(tiny_dataset), 3), "float32")}
    batches = training.SpriteBatches(inputs, 16, seed=0, label_dropout=0.25)
    shares = []
    for _ in range(40):
        rows = np.concatenate([batches[i]["labels"] for i in range(len(batches))])
        assert set(np.unique(rows)) <= {0.0, 1.0}
        # A row is dropped whole or kept whole.
        assert np.all((rows.sum(1) == 0) | (rows.sum(1) == 3))
        shares.append((rows.sum(1) == 0).mean())
        batches.on_epoch_end()
    assert 0.20 < np.mean(shares) < 0.30
    assert len(set(shares)) > 1  # drawn anew each epoch
    again = training.SpriteBatches(inputs, 16, seed=0, label_dropout=0.25)
    first = training.SpriteBatches(inputs, 16, seed=0, label_dropout=0.25)
    np.testing.assert_array_equal(again[0]["labels"], first[0]["labels"])


def test_label_dropout_is_refused_where_it_has_no_meaning(tiny_dataset):
    inputs = {"indices": tiny_dataset.indices}
    with pytest.raises(PalletsValueError, match="label_dropout"):
        training.SpriteBatches(inputs, 16, label_dropout=0.1)
    ae = build("onehot_conv_ae", palette=tiny_dataset.palette, image_size=(8, 8),
               filters=(8,), latent_dim=4)
    with pytest.raises(PalletsValueError, match="label_dropout"):
        training.fit(ae, tiny_dataset, epochs=1, label_dropout=0.1, verbose=0)
    labeled = build("labeled_conv_cvae", palette=tiny_dataset.palette, image_size=(8, 8),
                    label_names=tiny_dataset.label_names, filters=(8,), latent_dim=4)
    with pytest.raises(PalletsValueError, match="reconstructs"):
        training.fit(labeled, tiny_dataset, epochs=1, label_dropout=0.1, verbose=0)


def test_fit_with_label_dropout_trains(cvae, tiny_dataset):
    history = training.fit(cvae, tiny_dataset, epochs=2, batch_size=16, label_dropout=0.2,
                           seed=0, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_guidance_extrapolates_the_logits_away_from_no_labels(cvae, tiny_dataset):
    rng = np.random.default_rng(0)
    z = rng.standard_normal((5, 4)).astype("float32")
    labels = tiny_dataset.labels[:5].astype("float32")
    cond = np.asarray(cvae.decoder.predict_on_batch({"z": z, "labels": labels})["logits"])
    free = np.asarray(cvae.decoder.predict_on_batch(
        {"z": z, "labels": np.zeros_like(labels)})["logits"])
    for scale in (0.0, 2.5):
        expected = (free + scale * (cond - free)).argmax(-1)
        got = cvae.decode_indices(z, labels, guidance_scale=scale)
        # Float32 ties aside, the same pixels; a wrong formula differs widely.
        assert (got == expected).mean() > 0.99
    np.testing.assert_array_equal(cvae.decode_indices(z, labels, guidance_scale=1.0),
                                  cond.argmax(-1))
    # Scale 0 is the label-free decoding: the labels no longer matter.
    other = 1.0 - labels
    np.testing.assert_array_equal(cvae.decode_indices(z, labels, guidance_scale=0.0),
                                  cvae.decode_indices(z, other, guidance_scale=0.0))


def test_guided_sampling_is_seeded_and_palette_exact(cvae, tiny_dataset):
    a = cvae.sample(6, labels={"odd": 1}, seed=3, guidance_scale=2.0, temperature=0.7)
    b = cvae.sample(6, labels={"odd": 1}, seed=3, guidance_scale=2.0, temperature=0.7)
    np.testing.assert_array_equal(a, b)
    colors = {tuple(c) for c in tiny_dataset.palette.colors}
    assert {tuple(p) for p in a.reshape(-1, 4)} <= colors


@pytest.mark.parametrize("scale", [-1.0, float("nan"), "2"])
def test_bad_guidance_scale_is_named(cvae, scale):
    with pytest.raises((PalletsValueError, TypeError), match="guidance_scale"):
        cvae.sample(2, labels={"odd": 1}, guidance_scale=scale)


def test_guidance_needs_labels_in_the_decoder(tiny_dataset):
    vae = build("onehot_conv_vae", palette=tiny_dataset.palette, image_size=(8, 8),
                filters=(8,), latent_dim=4)
    with pytest.raises(PalletsValueError, match="no labels in its decoder"):
        vae.sample(2, guidance_scale=2.0)
    vae.sample(2, guidance_scale=1.0)


def test_cli_generate_takes_a_guidance_scale(cvae, tmp_path):
    from pallets_keras.cli.generate import sample_in_chunks

    labels = {"odd": 1}
    one = cvae.sample(10, labels=labels, seed=2, guidance_scale=2.0)
    np.testing.assert_array_equal(
        sample_in_chunks(cvae, 10, labels=labels, seed=2, chunk=4, guidance_scale=2.0), one)
    assert not np.array_equal(one, cvae.sample(10, labels=labels, seed=2))


def test_a_preset_keeps_its_default_guidance_scale(cvae, tmp_path):
    from pallets_keras import zoo

    assert cvae.default_guidance_scale == 1.0
    cvae.set_default_guidance_scale(2.0)
    try:
        guided = cvae.sample(4, labels={"odd": 1}, seed=1, guidance_scale=2.0)
        np.testing.assert_array_equal(cvae.sample(4, labels={"odd": 1}, seed=1), guided)
        zoo.save_preset(cvae, tmp_path / "p")
        back = zoo.load(str(tmp_path / "p"), compile=False)
        assert back.default_guidance_scale == 2.0
        np.testing.assert_array_equal(back.sample(4, labels={"odd": 1}, seed=1), guided)
    finally:
        cvae.set_default_guidance_scale(1.0)
    with pytest.raises(PalletsValueError, match="guidance_scale"):
        cvae.set_default_guidance_scale(-2.0)


def test_keras_hub_style_presets(cvae, tmp_path):
    from pallets_keras import zoo
    from pallets_keras.models import PaletteAutoencoder

    assert PaletteAutoencoder.presets() == zoo.list_models()
    assert "onehot_conv_vae" in PaletteAutoencoder.presets("onehot_*")
    path = cvae.save_to_preset(tmp_path / "p")
    back = PaletteAutoencoder.from_preset(str(path), compile=False)
    z = np.zeros((2, 4), "float32")
    np.testing.assert_array_equal(back.decode_indices(z, {"odd": 1}),
                                  cvae.decode_indices(z, {"odd": 1}))
