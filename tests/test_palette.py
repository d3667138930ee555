"""Palette: exact maps, determinism, quantizing, snapping, JSON."""

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from pallets_keras import Palette, SnapReport

# numpy-only code: run once, under PyTorch (conftest.py deselects it elsewhere).
pytestmark = pytest.mark.backend_independent

SETTINGS = settings(max_examples=50, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def rgba(*pixels):
    return np.array(pixels, dtype=np.uint8)


@st.composite
def palettes(draw, max_size=300):
    """A Palette of 1..max_size distinct random RGBA colours, in random order."""
    k = draw(st.integers(1, max_size))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    packed = np.unique(rng.integers(0, 2**32, size=k, dtype=np.uint64))
    packed = rng.permutation(packed).astype(">u4")
    return Palette(packed[:, None].view(np.uint8).reshape(len(packed), 4))


# ------------------------------------------------------------ exactness
def test_punks_round_trip_exact(punks):
    rgba_all = punks.rgba()
    assert rgba_all.shape == (10000, 24, 24, 4)
    assert len(punks.palette) == 222
    pal = Palette.from_images(rgba_all)
    assert pal == punks.palette
    idx = pal.encode(rgba_all)
    assert idx.dtype == np.uint8 and idx.shape == (10000, 24, 24)
    np.testing.assert_array_equal(idx, punks.indices)
    np.testing.assert_array_equal(pal.decode(idx), rgba_all)


@SETTINGS
@given(pal=palettes(), shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=9),
       seed=st.integers(0, 2**32 - 1))
def test_decode_encode_round_trip(pal, shape, seed):
    idx = np.random.default_rng(seed).integers(0, len(pal), size=shape)
    out = pal.encode(pal.decode(idx))
    assert out.dtype == (np.uint8 if len(pal) <= 256 else np.uint16)
    np.testing.assert_array_equal(out, idx)


@SETTINGS
@given(pal=palettes(max_size=40), seed=st.integers(0, 2**32 - 1))
def test_from_images_ignores_pixel_order(pal, seed):
    rng = np.random.default_rng(seed)
    pixels = pal.decode(rng.integers(0, len(pal), size=200))
    shuffled = pixels[rng.permutation(len(pixels))]
    a, b = Palette.from_images(pixels), Palette.from_images(shuffled.reshape(10, 20, 4))
    assert a == b
    packed = a.colors.astype(np.uint32) @ np.array([1 << 24, 1 << 16, 1 << 8, 1], np.uint32)
    assert (np.diff(packed.astype(np.int64)) > 0).all()  # sorted by packed RGBA


def test_from_images_puts_transparent_first():
    pal = Palette.from_images(rgba([9, 9, 9, 255], [0, 0, 0, 0], [0, 0, 0, 255]))
    assert pal.colors[0].tolist() == [0, 0, 0, 0] and len(pal) == 3


# ------------------------------------------------------------ errors
def test_unknown_colour_message_lists_it():
    pal = Palette(rgba([0, 0, 0, 0], [255, 255, 255, 255]))
    with pytest.raises(ValueError, match=r"\[12, 34, 56, 255\].*snap=True"):
        pal.encode(rgba([[0, 0, 0, 0], [12, 34, 56, 255]]))


def test_snap_report_counts():
    pal = Palette(rgba([0, 0, 0, 0], [255, 255, 255, 255], [255, 0, 0, 255]))
    img = rgba([[0, 0, 0, 0], [250, 250, 250, 255], [250, 250, 250, 255]],
               [[200, 10, 10, 255], [255, 0, 0, 255], [255, 255, 255, 255]])
    idx, rep = pal.encode(img, snap=True, return_report=True)
    assert isinstance(rep, SnapReport)
    assert rep.pixels_moved == 3 and rep.total_pixels == 6
    assert rep.share_moved == pytest.approx(0.5)
    assert sorted(map(tuple, rep.colors_moved.tolist())) == [
        (200, 10, 10, 255), (250, 250, 250, 255)]
    assert idx.tolist() == [[0, 1, 1], [2, 2, 1]]
    with pytest.warns(UserWarning, match="3 of 6 pixels"):
        pal.encode(img, snap=True)


def test_snap_keeps_transparent_transparent():
    # (255, 255, 255, 0) is nearer to opaque white in RGBA, but it is invisible.
    pal = Palette(rgba([0, 0, 0, 0], [255, 255, 255, 255]))
    idx = pal.encode(rgba([255, 255, 255, 0], [250, 250, 250, 0]), snap=True,
                     return_report=True)[0]
    assert idx.tolist() == [0, 0]


@pytest.mark.parametrize("bad, err", [(0, ValueError), (-3, ValueError),
                                      (2.5, TypeError), (True, TypeError)])
def test_quantize_bad_max_colors(bad, err):
    with pytest.raises(err, match="max_colors"):
        Palette.quantize(rgba([1, 2, 3, 255]), bad)


def test_duplicates_rejected():
    with pytest.raises(ValueError, match="distinct.*1, 2, 3, 4"):
        Palette(rgba([1, 2, 3, 4], [0, 0, 0, 0], [1, 2, 3, 4]))


@pytest.mark.parametrize("colors, err", [
    (np.zeros((0, 4), np.uint8), ValueError),
    (np.zeros((3, 3), np.uint8), ValueError),
    (np.zeros((2, 4), np.float32), TypeError),
    (np.array([[0, 0, 0, 300]]), ValueError),
])
def test_bad_colors(colors, err):
    with pytest.raises(err):
        Palette(colors)


def test_decode_probs_is_argmax():
    pal = Palette(rgba([0, 0, 0, 0], [255, 0, 0, 255], [0, 255, 0, 255]))
    probs = np.random.default_rng(0).random((4, 5, 5, 3)).astype(np.float32)
    np.testing.assert_array_equal(pal.decode(probs), pal.decode(probs.argmax(-1)))
    np.testing.assert_array_equal(pal.decode(np.log(probs)), pal.decode(probs.argmax(-1)))


def test_decode_errors():
    pal = Palette(rgba([0, 0, 0, 0], [255, 0, 0, 255]))
    with pytest.raises(ValueError, match="NaN"):
        pal.decode(np.array([[0.2, np.nan]]))
    with pytest.raises(ValueError, match="last axis of 2"):
        pal.decode(np.zeros((3, 5), np.float32))
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        pal.decode(np.array([0, 2]))
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        pal.decode(np.array([-1]))


def test_len_eq_hash_one_hot():
    a = Palette(rgba([0, 0, 0, 0], [255, 0, 0, 255]), name="a")
    b = Palette(rgba([0, 0, 0, 0], [255, 0, 0, 255]), name="b")
    c = Palette(rgba([255, 0, 0, 255], [0, 0, 0, 0]))
    assert len(a) == a.size == 2
    assert a == b and hash(a) == hash(b)
    assert a != c  # order matters: index i is colour i
    assert a != "a palette"
    assert a.index_of((255, 0, 0, 255)) == 1
    oh = a.one_hot(np.array([[0, 1, 1]]))
    assert oh.shape == (1, 3, 2) and oh.dtype == np.float32
    np.testing.assert_array_equal(oh.argmax(-1), [[0, 1, 1]])
    with pytest.raises(ValueError):
        a.one_hot(np.array([2]))
    assert a.colors.flags.writeable is False
    with pytest.raises(ValueError, match="read-only"):
        a.colors[0, 0] = 1


def test_errors_name_the_problem():
    from pallets_keras.errors import PalletsTypeError, PalletsValueError

    a = Palette(rgba([0, 0, 0, 0], [255, 0, 0, 255]))
    with pytest.raises(PalletsTypeError, match=r"^one_hot takes integer indices, got float64\.$"):
        a.one_hot(np.array([0.5]))
    with pytest.raises(PalletsValueError, match=r"^Indices must be in \[0, 2\), got range "
                                                r"\[-1, 3\]\.$"):
        a.one_hot(np.array([-1, 3]))
    assert a.one_hot(np.array([1]), dtype="uint8").dtype == np.uint8
    with pytest.raises(PalletsValueError, match="outside 0-255"):
        a.index_of((300, 0, 0, 255))
    with pytest.raises(PalletsValueError, match=r"4 values\), got shape \(3,\)"):
        a.index_of((255, 0, 0))
    with pytest.raises(PalletsValueError, match=r"^A palette config is a dict with a 'colors'"):
        Palette.from_config(["not", "a", "dict"])
    with pytest.raises(PalletsValueError, match=r"^A palette config's 'colors' must be integers "
                                                r"0-255, got float64 values\.$"):
        Palette.from_config({"colors": [[0.5, 0, 0, 0]]})


def test_hash_and_repr():
    a = Palette(rgba([0, 0, 0, 0], [255, 0, 0, 255]), name="punks")
    b = Palette(rgba([0, 0, 0, 0], [0, 255, 0, 255]))
    assert hash(a) == hash(a.colors.tobytes()) != hash(b)
    assert len({a, b, Palette(a.colors)}) == 2
    assert repr(a) == "<Palette 'punks': 2 colours>" and repr(b) == "<Palette: 2 colours>"


def test_snap_report_reads_as_a_sentence():
    report = SnapReport(pixels_moved=3, total_pixels=8,
                        colors_moved=np.zeros((2, 4), np.uint8))
    assert str(report) == ("3 of 8 pixels (37.50%) in 2 off-palette colours were snapped to "
                           "their nearest palette colour")


def test_unique_colors_of_no_pixels_and_across_chunks(monkeypatch):
    from pallets_keras import palette

    empty, counts = palette.unique_colors(np.zeros((0, 4), np.uint8), return_counts=True)
    assert empty.shape == counts.shape == (0,)
    assert empty.dtype == np.uint32 and counts.dtype == np.int64
    assert palette.unique_colors(np.zeros((0, 4), np.uint8)).shape == (0,)
    img = np.random.default_rng(0).integers(0, 3, (5, 7, 4)).astype(np.uint8) * 100
    packed = img.reshape(-1, 4).astype(np.uint32)
    packed = packed[:, 0] << 24 | packed[:, 1] << 16 | packed[:, 2] << 8 | packed[:, 3]
    want, want_counts = np.unique(packed, return_counts=True)
    monkeypatch.setattr(palette, "_CHUNK", 4)  # 35 pixels in 9 chunks
    got, got_counts = palette.unique_colors(img, return_counts=True)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got_counts, want_counts)
    np.testing.assert_array_equal(palette.unique_colors(img), want)


def test_pool_by_hand():
    """Bins of 2**s per channel, the smallest s whose bins fit; each bin the
    weighted mean of its points and the sum of their weights."""
    from pallets_keras.palette import _pool

    points = np.array([[0, 0, 0], [1, 1, 1], [255, 255, 255], [254, 254, 254]], np.uint8)
    means, weights = _pool(points, np.array([1.0, 3.0, 2.0, 2.0]), limit=2)
    np.testing.assert_allclose(means, [[0.75] * 3, [254.5] * 3])
    np.testing.assert_allclose(weights, [4.0, 4.0])
    # limit 3 is met with s = 1 too: (0, 1) share a bin, 254 and 255 share one.
    means, weights = _pool(points, np.ones(4), limit=3)
    np.testing.assert_allclose(weights, [2.0, 2.0])
    # Enough room: no two points share a bin at s = 1 when they differ by 2.
    spread = np.array([[0, 0, 0], [2, 0, 0], [4, 0, 0]], np.uint8)
    means, weights = _pool(spread, np.ones(3), limit=3)
    np.testing.assert_allclose(means, spread)
    # A tighter limit needs a coarser bin: s = 2 joins 0 and 2, s = 3 all three.
    means, weights = _pool(spread, np.array([1.0, 1.0, 2.0]), limit=1)
    np.testing.assert_allclose(means, [[2.5, 0, 0]])
    np.testing.assert_allclose(weights, [4.0])


@pytest.mark.parametrize("budget, weights, sizes, want", [
    (0, (5, 1), (9, 9), (0, 0)),          # nothing to share
    (4, (5, 1), (9, 0), (4, 0)),          # one group only: all to it, up to its colours
    (4, (5, 1), (2, 0), (2, 0)),
    (4, (5, 1), (0, 9), (0, 4)),
    (4, (5, 1), (0, 3), (0, 3)),
    (1, (5, 5), (9, 9), (1, 0)),          # one colour: the heavier group, opaque on a tie
    (1, (4, 5), (9, 9), (0, 1)),
    (10, (3, 1), (20, 20), (8, 2)),       # in proportion: round(10 * 1 / 4) = 2
    (10, (99, 1), (20, 20), (9, 1)),      # at least one each
    (10, (1, 99), (20, 20), (1, 9)),
    (10, (1, 1), (20, 3), (7, 3)),        # the translucent group has 3: the rest opaque
    (10, (1, 1), (20, 5), (5, 5)),        # exactly its colours: no spill
    (10, (1, 1), (2, 20), (2, 8)),        # the opaque group has 2: the rest translucent
    (10, (1, 1), (2, 3), (2, 3)),         # both too small: each gets its own
])
def test_share_budget_by_hand(budget, weights, sizes, want):
    from pallets_keras.palette import _share_budget

    assert _share_budget(budget, *weights, *sizes) == want


def test_check_max_colors_bounds():
    from pallets_keras.errors import PalletsValueError
    from pallets_keras.palette import MAX_PIL_COLORS, check_max_colors

    assert check_max_colors(MAX_PIL_COLORS, "mediancut") == MAX_PIL_COLORS
    assert check_max_colors(MAX_PIL_COLORS + 1, "kmeans") == MAX_PIL_COLORS + 1
    assert check_max_colors(np.int64(3)) == 3 and type(check_max_colors(np.int64(3))) is int
    with pytest.raises(PalletsValueError, match=r"^max_colors=257 with quantizer='fastoctree': "
                                                r"Pillow's quantizers make at most 256 colours"):
        check_max_colors(257, "fastoctree", method_arg="quantizer")


def _group(colors, counts):
    return np.array(colors, np.uint8), np.array(counts, np.int64)


def test_kmeans_groups_weigh_colours_by_their_pixels_and_keep_extremes():
    from pallets_keras.palette import _quantize_group

    # One opaque colour for a black pixel and 99 light ones: the weighted mean.
    colors, counts = _group([[0, 0, 0, 255], [200, 200, 200, 255]], [1, 99])
    (centre,) = _quantize_group(colors, counts, 1, "kmeans", 0, translucent=False)
    np.testing.assert_array_equal(centre, [198, 198, 198, 255])
    # Enough colours for black alone: it stays exactly black and opaque.
    colors, counts = _group([[0, 0, 0, 255], [200, 0, 0, 255], [210, 0, 0, 255]], [5, 1, 1])
    got = _quantize_group(colors, counts, 2, "kmeans", 0, translucent=False)
    assert [0, 0, 0, 255] in got.tolist() and [205, 0, 0, 255] in got.tolist()
    # Translucent centres keep their alpha inside 1-254, never 0 or 255.
    colors, counts = _group([[9, 9, 9, 1], [9, 9, 9, 2], [50, 50, 50, 254],
                             [52, 50, 50, 254]], [1, 1, 1, 1])
    got = _quantize_group(colors, counts, 2, "kmeans", 0, translucent=True)
    assert sorted(got[:, 3].tolist()) == [2, 254]


def test_kmeans_on_many_colours_pools_them_first(monkeypatch):
    """Above _MAX_KMEANS_COLORS distinct colours k-means runs on `_pool`'s
    weighted bins, not on every colour."""
    from sklearn.cluster import KMeans

    from pallets_keras import palette

    rng = np.random.default_rng(0)
    colors = np.unique(rng.integers(0, 256, (40, 3)), axis=0).astype(np.uint8)
    colors = np.concatenate([colors, np.full((len(colors), 1), 255, np.uint8)], 1)
    counts = rng.integers(1, 50, len(colors))
    monkeypatch.setattr(palette, "_MAX_KMEANS_COLORS", 8)
    got = palette._quantize_group(colors, counts, 3, "kmeans", 0, translucent=False)
    points, weights = palette._pool(colors[:, :3], counts.astype(np.float64), 8)
    assert len(points) <= 8
    km = KMeans(n_clusters=3, n_init=1, random_state=0, max_iter=100).fit(
        points, sample_weight=weights)
    want = np.clip(np.round(km.cluster_centers_), 0, 255).astype(np.uint8)
    want = np.concatenate([want, np.full((3, 1), 255, np.uint8)], 1)
    assert sorted(got.tolist()) == sorted(want.tolist())


def test_pillow_quantizers_on_translucent_colours_use_one_that_takes_rgba():
    """Median cut cannot quantize RGBA in Pillow: translucent groups fall back
    to fast octree, and their palette keeps its alpha."""
    from pallets_keras.palette import _pil_quantize

    points = np.array([[200, 0, 0, 100], [0, 0, 200, 30], [0, 200, 0, 180]], np.uint8)
    got = _pil_quantize(points, np.array([5, 5, 5]), 3, "mediancut", translucent=True)
    assert got.shape[1] == 4 and sorted(got[:, 3].tolist()) == [30, 100, 180]


def test_pillow_quantizers_weigh_huge_counts_in_proportion():
    """Counts above 2 M pixels are scaled down to a strip of about 2 M, in
    proportion: a colour with 3/4 of the pixels still outweighs the rest."""
    from pallets_keras.palette import _pil_quantize

    points = np.array([[250, 0, 0], [0, 0, 250]], np.uint8)
    (centre,) = _pil_quantize(points, np.array([30_000_000, 10_000_000]), 1, "mediancut",
                              translucent=False)
    assert centre[0] > centre[2]


# ------------------------------------------------------------ JSON
def test_json_round_trip(tmp_path, tiny_palette):
    pal = Palette(tiny_palette.colors, name="tiny")
    path = tmp_path / "sub" / "pal.json"
    pal.save(path)
    back = Palette.load(path)
    assert back == pal and back.name == "tiny"
    assert back.colors.dtype == np.uint8
    assert json.loads(path.read_text())["colors"] == pal.colors.tolist()
    assert Palette.from_json(pal.to_json()) == pal
    with pytest.raises(ValueError, match="colors"):
        Palette.from_config({"name": "x"})
    with pytest.raises(ValueError, match="integers"):
        Palette.from_config({"colors": [[0.5, 0, 0, 0]]})


# ------------------------------------------------------------ quantize
@st.composite
def images_with_colours(draw):
    n_colors = draw(st.integers(1, 120))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    cols = rng.integers(0, 256, size=(n_colors, 4), dtype=np.uint8)
    if draw(st.booleans()):
        cols[:, 3] = 255  # the opaque (median cut) path
    if draw(st.booleans()):
        cols[0] = 0  # a transparent background
    img = cols[rng.integers(0, n_colors, size=(3, 8, 8))]
    img[img[..., 3] == 0] = 0
    return img


@SETTINGS
@given(img=images_with_colours(), max_colors=st.integers(1, 64))
def test_quantize_properties(img, max_colors):
    exact = Palette.from_images(img)
    pal = Palette.quantize(img, max_colors)
    assert 1 <= len(pal) <= max_colors
    if len(exact) <= max_colors:
        assert pal == exact
    idx, rep = pal.encode(img, snap=True, return_report=True)
    clear = img[..., 3] == 0
    if clear.any():  # transparency survives as its own colour
        assert [0, 0, 0, 0] in pal.colors.tolist()
        assert (pal.decode(idx)[clear] == 0).all()
    in_palette = np.isin(img.view(">u4")[..., 0], pal.colors.view(">u4")[:, 0])
    # Snapping moves exactly the off-palette pixels; the others keep their colour.
    assert rep.pixels_moved == int((~in_palette).sum())
    np.testing.assert_array_equal(pal.decode(idx)[in_palette], img[in_palette])


@SETTINGS
@given(pal=palettes(max_size=60), seed=st.integers(0, 2**32 - 1))
def test_nearest_is_truly_nearest(pal, seed):
    queries = np.random.default_rng(seed).integers(0, 256, size=(50, 4), dtype=np.uint8)
    queries[:, 3] = np.maximum(queries[:, 3], 1)  # alpha 0 has its own rule
    got = pal.nearest(queries, keep_opaque=False)
    d = ((queries[:, None].astype(np.int64) - pal.colors[None].astype(np.int64)) ** 2).sum(-1)
    np.testing.assert_array_equal(d[np.arange(50), got], d.min(1))
    np.testing.assert_array_equal(got, d.argmin(1))  # ties: lowest index


def test_quantize_many_colours_keeps_frequent_and_transparent():
    rng = np.random.default_rng(0)
    grad = np.linspace(0, 255, 32)[None, :, None] + rng.normal(0, 12, (32, 32, 3))
    img = np.concatenate([np.clip(grad, 0, 255).astype(np.uint8),
                          np.full((32, 32, 1), 255, np.uint8)], -1)
    img[:8] = 0
    pal = Palette.quantize(img[None], 16)
    assert len(pal) <= 16 and pal.colors[0].tolist() == [0, 0, 0, 0]
    idx, rep = pal.encode(img, snap=True, return_report=True)
    assert 0 < rep.share_moved <= 0.75
    err = np.abs(pal.decode(idx).astype(int) - img).mean()
    assert err < 20  # a real approximation, not noise


def test_nearest_keeps_opaque_colours_opaque():
    pal = Palette([[0, 0, 0, 0], [200, 200, 200, 230], [150, 150, 150, 255]])
    opaque = np.array([[200, 200, 200, 255]], np.uint8)
    assert pal.nearest(opaque, keep_opaque=False).tolist() == [1]  # closer in RGBA
    assert pal.nearest(opaque).tolist() == [2]  # but an opaque pixel stays opaque
    assert pal.encode(opaque, snap=True, return_report=True)[0].tolist() == [2]
    soft = np.array([[200, 200, 200, 240]], np.uint8)
    assert pal.nearest(soft).tolist() == [1]  # translucent: plain nearest


def test_quantize_never_mixes_alpha_groups():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (2, 32, 32, 4), dtype=np.uint8)
    img[0, ..., 3] = 255  # an opaque image, a translucent one
    img[1, ..., 3] = np.clip(img[1, ..., 3], 1, 254)
    for method in ("kmeans", "mediancut", "fastoctree"):
        pal = Palette.quantize(img, 24, method=method)
        alpha = pal.colors[:, 3]
        assert len(pal) <= 24 and (alpha == 255).any() and ((alpha > 0) & (alpha < 255)).any()
        out = pal.decode(pal.encode(img, snap=True, return_report=True)[0])
        assert (out[0, ..., 3] == 255).all(), method
    with pytest.raises(ValueError, match="method must be one of"):
        Palette.quantize(img, 8, method="octree")
