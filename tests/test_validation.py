"""One validation layer: the helpers, and the public functions that use them
(issue 15). Bad input raises a `PalletsError` naming the argument; library
internals (IndexError, raw NumPy errors) never reach the user."""

import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import pallets_keras as pk
from pallets_keras import validation, zoo
from pallets_keras.errors import PalletsError, PalletsKeyError, PalletsTypeError, PalletsValueError

FAST = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def _model(variant, dataset, **kwargs):
    return pk.models.build(variant, palette=dataset.palette, image_size=(8, 8),
                           label_names=dataset.label_names, latent_dim=3, seed=0, **kwargs)


@pytest.fixture(scope="module")
def vae(tiny_dataset):
    return _model("onehot_conv_vae", tiny_dataset, filters=(4,))


@pytest.fixture(scope="module")
def cvae(tiny_dataset):
    return _model("conv_cvae", tiny_dataset, filters=(4,))


# ---------------------------------------------------------------- helpers
def test_check_int():
    assert validation.check_int("n", np.int64(3), min=1) == 3
    assert type(validation.check_int("n", np.int64(3))) is int
    with pytest.raises(PalletsTypeError, match=r"n=True: must be a whole number"):
        validation.check_int("n", True)
    with pytest.raises(PalletsTypeError, match=r"n=2.0: must be a whole number"):
        validation.check_int("n", 2.0)
    with pytest.raises(PalletsValueError, match=r"n=0: must be >= 1\. Try 1"):
        validation.check_int("n", 0, min=1, fix="Try 1.")
    with pytest.raises(PalletsValueError, match=r"n=11: must be an int in \[1, 10\]"):
        validation.check_int("n", 11, min=1, max=10)


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "abc", True, [1]])
def test_bad_seed_is_named(seed):
    with pytest.raises(PalletsError, match=r"^seed=.*Pass e.g. seed=0"):
        validation.check_seed(seed)


def test_good_seeds():
    assert validation.check_seed(None) is None
    assert validation.check_seed(np.uint32(2**32 - 1)) == 2**32 - 1
    with pytest.raises(PalletsTypeError):
        validation.check_seed(None, allow_none=False)


@pytest.mark.parametrize("t", [-1, float("nan"), float("inf"), "0.5", None])
def test_bad_temperature(t):
    with pytest.raises(PalletsError, match=r"^temperature="):
        validation.check_temperature(t)


@pytest.mark.parametrize("lr", [0, -1e-3, float("nan"), float("inf"), "1e-3", None])
def test_bad_learning_rate(lr):
    with pytest.raises(PalletsError, match=r"^learning_rate="):
        validation.check_learning_rate(lr)


def test_image_size():
    assert validation.check_image_size(16) == (16, 16)
    assert validation.check_image_size(np.int32(8)) == (8, 8)
    assert validation.check_image_size([24, 32]) == (24, 32)
    for bad, err in [((24,), PalletsValueError), ((24, 24, 4), PalletsValueError),
                     ("24x24", PalletsTypeError), ((24.0, 24), PalletsTypeError),
                     (0, PalletsValueError), ((24, -1), PalletsValueError),
                     (None, PalletsTypeError)]:
        with pytest.raises(err, match="image_size="):
            validation.check_image_size(bad)


@pytest.mark.parametrize("labels, hint", [
    ("earring", r"labels=\{'earring': 1\}"),
    (["earring"], r"labels=\{'earring': 1\}"),
    (("earring", "hoodie"), r"\{'earring': 1, 'hoodie': 1\}"),
    ({"earring"}, "a set has no order"),
    (object(), "must be a dict"),
])
def test_labels_in_the_wrong_form(labels, hint):
    with pytest.raises(PalletsTypeError, match=hint):
        validation.check_labels_arg(labels)


def test_max_images_is_bounded_by_memory():
    small, big = validation.max_images((24, 24)), validation.max_images((240, 240))
    assert 1000 < small and big * 50 < small


# ------------------------------------------------------------ the models
def test_one_image_without_batch_axis(vae, tiny_dataset):
    rgba = tiny_dataset.rgba()[0]  # (8, 8, 4)
    np.testing.assert_array_equal(vae.reconstruct(rgba), vae.reconstruct(rgba[None]))
    np.testing.assert_array_equal(vae.encode(tiny_dataset.indices[0]),
                                  vae.encode(tiny_dataset.indices[:1]))


@pytest.mark.parametrize("x, err, match", [
    (np.zeros((0, 8, 8), np.uint8), PalletsValueError, r"x: an empty batch"),
    (np.zeros((0, 8, 8, 4), np.uint8), PalletsValueError, r"x: an empty batch"),
    ([], PalletsValueError, r"^x: "),
    (np.zeros((8, 4, 4), np.uint8), PalletsValueError, r"takes 8x8 images, got 4x4"),
    (np.zeros((2, 8, 8), np.float32), PalletsTypeError, r"x: palette indices must be int"),
    (np.zeros((2, 8, 8, 4), np.float32), PalletsTypeError, r"x: RGBA images must be uint8"),
    (np.zeros((2, 8, 8, 3), np.uint8), PalletsValueError, r"x: expected images as RGBA"),
    (np.full((1, 8, 8), 99), PalletsValueError, r"x: palette indices must lie in \[0, 12\)"),
    (np.full((1, 8, 8), -1), PalletsValueError, r"must lie in"),
    ("punk.png", PalletsTypeError, r"x: expected images as an array"),
    (None, PalletsTypeError, r"x: expected images"),
    ([[1, 2], [3]], PalletsValueError, r"x: images must all have the same shape"),
    (np.array([["a"] * 8] * 8), PalletsTypeError, r"x: images must be numbers"),
])
def test_reconstruct_bad_images(vae, x, err, match):
    with pytest.raises(err, match=match):
        vae.reconstruct(x)


def test_rgba_model_size_hint_is_not_the_batch_axis(vae):
    """(8, 8, 4) is one RGBA image of this 8x8 model, never 8 images of 8x4."""
    with pytest.raises(PalletsValueError, match=r"takes 8x8 images, got 7x7"):
        vae.reconstruct(np.zeros((7, 7, 4), np.uint8)[None])


@pytest.mark.parametrize("labels, err, match", [
    ("odd", PalletsTypeError, r"labels=\{'odd': 1\}"),
    (["odd"], PalletsTypeError, r"labels=\{'odd': 1\}"),
    ({"od": 1}, PalletsKeyError, r"labels: unknown label 'od'. Did you mean \['odd'\]"),
    ({"odd": 2}, PalletsValueError, r"label 'odd' must be 0 or 1, got 2"),
    ({"odd": "1"}, PalletsValueError, r"must be 0 or 1"),
    (np.zeros((3, 5)), PalletsValueError, r"labels: must have shape \(2, 3\)"),
    (np.full((2, 3), 2.0), PalletsValueError, r"labels: must be 0/1"),
    (np.full((2, 3), np.nan), PalletsValueError, r"labels: must be 0/1"),
    ([[None, 1, 0], [0, 1, 0]], PalletsValueError, r"labels: must be 0/1"),
    ([["yes", 1, 0], [0, 1, 0]], PalletsTypeError, r"labels: an array of 0/1"),
])
def test_reconstruct_bad_labels(cvae, tiny_dataset, labels, err, match):
    with pytest.raises(err, match=match):
        cvae.reconstruct(tiny_dataset.indices[:2], labels=labels)


def test_errors_keep_their_builtin_types(cvae, vae, tiny_dataset):
    """Code written before the project's errors existed still catches them."""
    with pytest.raises(KeyError):
        cvae.reconstruct(tiny_dataset.indices[:2], labels={"od": 1})
    with pytest.raises(ValueError):
        vae.reconstruct(np.zeros((0, 8, 8), np.uint8))
    with pytest.raises(TypeError):
        vae.reconstruct("punk.png")


def test_interpolate_checks(vae, tiny_dataset):
    a, b = tiny_dataset.indices[0], tiny_dataset.indices[1]
    assert vae.interpolate(a, b, steps=3).shape == (3, 8, 8, 4)
    with pytest.raises(PalletsValueError, match=r"steps=1: must be an int in \[2, "):
        vae.interpolate(a, b, steps=1)
    with pytest.raises(PalletsTypeError, match=r"steps=3.0"):
        vae.interpolate(a, b, steps=3.0)
    with pytest.raises(PalletsValueError, match=r"^b: one image is needed, got a batch of 2"):
        vae.interpolate(a, tiny_dataset.indices[:2])
    with pytest.raises(PalletsValueError, match=r"^a: this model takes 8x8"):
        vae.interpolate(np.zeros((4, 4), np.uint8), b)


def test_build_and_load_take_an_int_image_size(tiny_dataset, vae, tmp_path):
    model = pk.models.build("onehot_conv_vae", palette_size=5, image_size=16, filters=(4,),
                            latent_dim=2)
    assert model.image_size == (16, 16)
    path = zoo.save_preset(vae, tmp_path / "vae")
    assert zoo.load(path, image_size=16, compile=False).image_size == (16, 16)
    with pytest.raises(PalletsTypeError, match="image_size="):
        pk.models.build("onehot_conv_vae", image_size="16")
    with pytest.raises(PalletsValueError, match="multiple of"):
        pk.models.build("onehot_conv_vae", image_size=30)


# --------------------------------------------------------------- training
@pytest.fixture
def no_training(monkeypatch):
    """Any attempt to train fails the test: arguments are checked first."""
    import keras

    def refuse(*args, **kwargs):
        raise AssertionError("fit ran with a bad argument")

    monkeypatch.setattr(keras.Model, "fit", refuse)


@pytest.mark.parametrize("kwargs, match", [
    (dict(learning_rate=float("nan")), r"^learning_rate=nan: must be a finite number"),
    (dict(learning_rate=0), r"^learning_rate=0: must be > 0"),
    (dict(learning_rate=-1e-3), r"^learning_rate=-0.001: must be > 0"),
    (dict(epochs=0), r"^epochs=0: must be >= 1"),
    (dict(epochs=2.5), r"^epochs=2.5: must be a whole number"),
    (dict(warmup_epochs=9, epochs=1), r"^warmup_epochs=9: must be an int in \[0, 1\]\. The "
                                      r"warm-up is part of the 1 epochs"),
    (dict(warmup_epochs=-1), r"^warmup_epochs=-1"),
    (dict(body_learning_rate=float("inf")), r"^body_learning_rate=inf"),
    (dict(batch_size=0), r"^batch_size=0"),
    (dict(seed=-1), r"^seed=-1"),
])
def test_finetune_bad_arguments(vae, tiny_dataset, no_training, kwargs, match):
    with pytest.raises(PalletsError, match=match):
        pk.finetune(vae, tiny_dataset, **kwargs)


def test_finetune_epochs_zero_blames_epochs(vae, tiny_dataset, no_training):
    """epochs=0 with the default warm-up: the error is about epochs, which the
    user passed, not warmup_epochs, which they did not."""
    with pytest.raises(PalletsValueError, match=r"^epochs=0"):
        pk.finetune(vae, tiny_dataset, epochs=0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(learning_rate=float("nan")), r"^learning_rate=nan"),
    (dict(epochs=0), r"^epochs=0"),
    (dict(batch_size=-2), r"^batch_size=-2"),
    (dict(kl_warmup_epochs=-1), r"^kl_warmup_epochs=-1"),
    (dict(seed="abc"), r"^seed='abc'"),
])
def test_fit_bad_arguments(vae, tiny_dataset, no_training, kwargs, match):
    with pytest.raises(PalletsError, match=match):
        pk.fit(vae, tiny_dataset, **kwargs)


# ------------------------------------------- property-based: hunt for faults
_VALID_SHAPES = {(8, 8), (8, 8, 4)}


def _bad_image_arrays():
    """Arrays a user might pass that this 8x8 model cannot take."""
    wrong_shape = hnp.arrays(
        np.uint8, hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=9)).filter(
        lambda a: not (a.shape in _VALID_SHAPES or (a.ndim in (3, 4) and a.shape[1:3] == (8, 8)
                                                    and (a.ndim == 3 or a.shape[3] == 4)
                                                    and len(a) > 0)))
    floats = hnp.arrays(st.sampled_from([np.float32, np.float64]),
                        st.sampled_from([(1, 8, 8), (2, 8, 8), (1, 8, 8, 4)]))
    out_of_palette = hnp.arrays(np.int64, (1, 8, 8),
                                elements=st.integers(12, 10**6)
                                | st.integers(-10**6, -1))
    empty = st.sampled_from([np.zeros((0, 8, 8), np.uint8), np.zeros((0, 8, 8, 4), np.uint8)])
    return st.one_of(wrong_shape, floats, out_of_palette, empty)


@FAST
@given(x=st.one_of(_bad_image_arrays(), st.none(), st.text(max_size=5), st.integers(),
                   st.floats(), st.lists(st.integers(0, 3), max_size=5)))
def test_property_reconstruct_bad_images(vae, x):
    with pytest.raises(PalletsError) as info:
        vae.reconstruct(x)
    assert str(info.value).startswith("x"), str(info.value)


def _bad_labels():
    return st.one_of(
        st.text(min_size=1, max_size=8),
        st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=3),
        st.dictionaries(st.text(max_size=6).filter(lambda k: k not in ("odd", "low", "right")),
                        st.integers(0, 1), min_size=1, max_size=3),
        st.dictionaries(st.sampled_from(["odd", "low", "right"]),
                        st.integers().filter(lambda v: v not in (0, 1))
                        | st.floats().filter(lambda v: v not in (0, 1)), min_size=1),
        hnp.arrays(np.float64, st.sampled_from([(2, 3), (3,)]),
                   elements=st.floats(allow_nan=True, allow_infinity=True)).filter(
            lambda a: not (np.isfinite(a).all() and a.min() >= 0 and a.max() <= 1)),
        hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)).filter(
            lambda a: a.shape not in ((2, 3), (3,))),
    )


@FAST
@given(labels=_bad_labels())
def test_property_reconstruct_bad_labels(cvae, tiny_dataset, labels):
    with pytest.raises(PalletsError) as info:
        cvae.reconstruct(tiny_dataset.indices[:2], labels=labels)
    assert str(info.value).startswith("labels"), str(info.value)


_NOT_A_NUMBER = st.one_of(st.none(), st.text(max_size=4), st.booleans(),
                          st.lists(st.integers(), max_size=2))


@FAST
@given(arg=st.sampled_from(["learning_rate", "epochs", "warmup_epochs", "batch_size",
                            "body_learning_rate", "seed"]),
       data=st.data())
def test_property_finetune_bad_arguments(vae, tiny_dataset, no_training, arg, data):
    if arg in ("learning_rate", "body_learning_rate"):
        value = data.draw(st.floats(max_value=0) | st.sampled_from([math.nan, math.inf])
                          | _NOT_A_NUMBER.filter(lambda v: v is not None
                                                 or arg == "learning_rate"))
    elif arg == "seed":
        value = data.draw(st.integers(max_value=-1) | st.integers(min_value=2**32)
                          | st.floats() | _NOT_A_NUMBER.filter(lambda v: v is not None))
    elif arg == "warmup_epochs":
        value = data.draw(st.integers(max_value=-1) | st.integers(min_value=6)
                          | st.floats() | _NOT_A_NUMBER)
    else:
        value = data.draw(st.integers(max_value=0) | st.floats() | _NOT_A_NUMBER)
    with pytest.raises(PalletsError) as info:
        pk.finetune(vae, tiny_dataset, **{"epochs": 5, arg: value})
    assert str(info.value).startswith(f"{arg}="), str(info.value)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.one_of(st.none(), st.integers(), st.floats(), st.lists(st.text(), max_size=2),
                      st.just(""), st.just("   ")),
       overwrite=st.one_of(st.just(False), st.integers(2), st.text(max_size=3), st.none()))
def test_property_save_preset_bad_arguments(vae, path, overwrite):
    with pytest.raises(PalletsError, match=r"^save_preset: (path|overwrite) must be"):
        zoo.save_preset(vae, path, overwrite=overwrite)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.from_regex(r"[a-z][a-z0-9_.]{0,10}", fullmatch=True).filter(
    lambda n: n not in ("config.json", "metadata.json", "model.weights.h5")),
    min_size=1, max_size=4, unique=True))
def test_property_save_preset_never_deletes_foreign_files(vae, names):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "target"
        folder.mkdir()
        for name in names:
            (folder / name).write_text(name)
        with pytest.raises(PalletsError, match=r"save_preset would delete them"):
            zoo.save_preset(vae, folder)
        assert sorted(p.name for p in folder.iterdir()) == sorted(names)
        assert all((folder / n).read_text() == n for n in names)


# ------------------------------------------ sample (validated by the lead)
@FAST
@given(arg=st.sampled_from(["n", "seed", "temperature"]), data=st.data())
def test_property_sample_bad_arguments(vae, arg, data):
    if arg == "n":
        value = data.draw(st.integers(max_value=0) | st.floats() | _NOT_A_NUMBER
                          | st.integers(min_value=validation.max_images((8, 8)) + 1))
    elif arg == "seed":
        value = data.draw(st.integers(max_value=-1) | st.integers(min_value=2**32)
                          | st.floats() | _NOT_A_NUMBER.filter(lambda v: v is not None))
    else:
        value = data.draw(st.floats(max_value=-1e-300) | st.sampled_from([math.nan, math.inf])
                          | _NOT_A_NUMBER)
    kwargs = {"n": 2, arg: value}
    with pytest.raises(PalletsError) as info:
        vae.sample(**kwargs)
    assert str(info.value).startswith(f"{arg}="), str(info.value)
