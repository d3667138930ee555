"""PixelDataset: splits, subsets, views and input checks."""

import numpy as np
import pytest

from pallets_keras import Palette
from pallets_keras.datasets import PixelDataset

# numpy-only code: run once, under PyTorch (conftest.py deselects it elsewhere).
pytestmark = pytest.mark.backend_independent


def test_shape_and_repr(tiny_dataset, tiny_palette):
    assert len(tiny_dataset) == 64 and tiny_dataset.image_size == (8, 8)
    assert tiny_dataset.num_labels == 3 and tiny_dataset.indices.dtype == np.uint8
    assert "64 images 8x8" in repr(tiny_dataset)
    assert tiny_dataset.load_report is None


def test_fixed_split(tiny_palette):
    idx = np.arange(20 * 4, dtype=np.uint8).reshape(20, 2, 2) % len(tiny_palette)
    ds = PixelDataset(tiny_palette, idx, test_start=15)
    train, test = ds.split()
    np.testing.assert_array_equal(train.ids, np.arange(15))
    np.testing.assert_array_equal(test.ids, np.arange(15, 20))
    np.testing.assert_array_equal(test.indices, idx[15:])
    # An explicit fraction overrides the fixed split.
    a, b = ds.split(test_fraction=0.5, seed=0)
    assert (len(a), len(b)) == (10, 10)


def test_seeded_split(tiny_dataset):
    train, test = tiny_dataset.split(test_fraction=0.25, seed=3)
    assert (len(train), len(test)) == (48, 16)
    assert not set(train.ids) & set(test.ids)
    assert sorted(np.concatenate([train.ids, test.ids])) == list(range(64))
    np.testing.assert_array_equal(test.indices, tiny_dataset.indices[test.ids])
    np.testing.assert_array_equal(test.labels, tiny_dataset.labels[test.ids])
    again = tiny_dataset.split(test_fraction=0.25, seed=3)[1]
    np.testing.assert_array_equal(again.ids, test.ids)
    other = tiny_dataset.split(test_fraction=0.25, seed=4)[1]
    assert not np.array_equal(other.ids, test.ids)
    default = tiny_dataset.split()  # no fixed split: 10% at seed 0
    assert len(default[1]) == 6
    for bad in (0, 1, 1.5, -0.1):
        with pytest.raises(ValueError, match="test_fraction"):
            tiny_dataset.split(test_fraction=bad)


def test_subset(tiny_dataset):
    sub = tiny_dataset.subset([5, 2, 7])
    np.testing.assert_array_equal(sub.ids, [5, 2, 7])
    np.testing.assert_array_equal(sub.indices, tiny_dataset.indices[[5, 2, 7]])
    np.testing.assert_array_equal(sub.labels, tiny_dataset.labels[[5, 2, 7]])
    assert sub.label_names == tiny_dataset.label_names
    mask = tiny_dataset.label("odd").astype(bool)
    assert len(tiny_dataset[mask]) == mask.sum()
    assert len(tiny_dataset[10:20]) == 10
    one = tiny_dataset[3]
    assert len(one) == 1 and one.ids.tolist() == [3]
    twice = tiny_dataset[10:20][2:4]
    assert twice.ids.tolist() == [12, 13]


def test_labels(tiny_dataset):
    assert tiny_dataset.label_index("low") == 1
    sel = tiny_dataset.select_labels(["right", "odd"])
    assert sel.label_names == ["right", "odd"]
    np.testing.assert_array_equal(sel.labels, tiny_dataset.labels[:, [2, 0]])
    with pytest.raises(KeyError, match=r"'lwo'.*Did you mean \['low'\]"):
        tiny_dataset.label("lwo")


def test_rgba_and_one_hot(tiny_dataset, tiny_palette):
    rgba = tiny_dataset.rgba()
    assert rgba.shape == (64, 8, 8, 4) and rgba.dtype == np.uint8
    np.testing.assert_array_equal(tiny_palette.encode(rgba), tiny_dataset.indices)
    np.testing.assert_array_equal(tiny_dataset.rgba(slice(0, 4)), rgba[:4])
    oh = tiny_dataset.one_hot(slice(0, 4))
    assert oh.shape == (4, 8, 8, len(tiny_palette)) and oh.dtype == np.float32
    np.testing.assert_array_equal(oh.sum(-1), 1)
    np.testing.assert_array_equal(oh.argmax(-1), tiny_dataset.indices[:4])
    assert tiny_dataset.one_hot([0, 1], dtype="float16").dtype == np.float16


def test_one_hot_too_large_is_memory_error():
    pal = Palette(np.stack([np.arange(256, dtype=np.uint8)] * 3
                           + [np.full(256, 255, np.uint8)], 1))
    # Broadcast view: no memory used for the indices themselves.
    idx = np.broadcast_to(np.zeros((1, 64, 64), np.uint8), (20000, 64, 64))
    ds = PixelDataset(pal, idx)
    with pytest.raises(MemoryError, match="GB.*batch"):
        ds.one_hot()
    assert ds.one_hot(slice(0, 2)).shape == (2, 64, 64, 256)


def test_model_inputs(tiny_dataset, tiny_palette):
    x = tiny_dataset.model_inputs()
    assert set(x) == {"indices", "labels"}
    assert x["indices"].dtype == np.uint8 and x["indices"].shape == (64, 8, 8)
    assert x["labels"].dtype == np.float32 and x["labels"].shape == (64, 3)
    np.testing.assert_array_equal(x["labels"], tiny_dataset.labels)
    unlabeled = PixelDataset(tiny_palette, tiny_dataset.indices)
    assert set(unlabeled.model_inputs()) == {"indices"}


def test_uint16_indices_beyond_256_colours():
    cols = np.zeros((300, 4), np.uint8)
    cols[:, 0] = np.arange(300) % 256
    cols[:, 1] = np.arange(300) // 256
    cols[:, 3] = 255
    ds = PixelDataset(Palette(cols), np.full((2, 3, 3), 299))
    assert ds.indices.dtype == np.uint16
    assert ds.model_inputs()["indices"].dtype == np.uint16


@pytest.mark.parametrize("kwargs, err, match", [
    (dict(palette=[[0, 0, 0, 0]]), TypeError, "Palette"),
    (dict(indices=np.zeros((4, 8), np.uint8)), ValueError, r"\(N, H, W\)"),
    (dict(indices=np.zeros((4, 8, 8), np.float32)), TypeError, "integers"),
    (dict(indices=np.full((4, 8, 8), 12)), ValueError, r"\[0, 12\)"),
    (dict(indices=np.full((4, 8, 8), -1)), ValueError, r"\[0, 12\)"),
    (dict(labels=np.zeros((3, 2)), label_names=["a", "b"]), ValueError, r"\(4, L\)"),
    (dict(labels=np.zeros(4), label_names=["a"]), ValueError, r"\(4, L\)"),
    (dict(labels=np.zeros((4, 2))), ValueError, "label_names"),
    (dict(labels=np.zeros((4, 2)), label_names=["a"]), ValueError, "label_names"),
    (dict(labels=np.full((4, 1), 0.5), label_names=["a"]), ValueError, "0/1"),
    (dict(labels=np.full((4, 1), 2), label_names=["a"]), ValueError, "0/1"),
    (dict(label_names=["a"]), ValueError, "without labels"),
    (dict(ids=np.arange(3)), ValueError, "ids"),
    (dict(test_start=4), ValueError, "test_start"),
    (dict(test_start=0), ValueError, "test_start"),
    (dict(test_start=2.5), ValueError, "test_start"),
])
def test_bad_constructor_inputs(tiny_palette, kwargs, err, match):
    args = dict(palette=tiny_palette, indices=np.zeros((4, 8, 8), np.uint8))
    args.update(kwargs)
    with pytest.raises(err, match=match):
        PixelDataset(**args)
