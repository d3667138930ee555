"""folder.load on sprite folders and sheets made here with PIL."""

import warnings

import numpy as np
import pytest
from PIL import Image

from pallets_keras import Palette
from pallets_keras.datasets import PixelDataset, folder
from pallets_keras.errors import PalletsValueError

# numpy-only code: run once, under PyTorch (conftest.py deselects it elsewhere).
pytestmark = pytest.mark.backend_independent

COLOURS = np.array([[255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255],
                    [255, 217, 38, 128], [9, 9, 9, 255]], np.uint8)


def sprite(size, colour, seed=0):
    """A (size, size, 4) sprite: a coloured block on transparency."""
    rng = np.random.default_rng(seed)
    img = np.zeros((size, size, 4), np.uint8)
    r, c = rng.integers(0, size // 2, 2)
    img[r:r + size // 2, c:c + size // 3 + 1] = colour
    return img


def save(path, array, mode=None, **kw):
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.fromarray(array) if mode is None else Image.fromarray(array).convert(mode)
    img.save(path, **kw)
    return path


def sources(report):
    """(file, row, col) per image, from the report's sources array."""
    s = report.sources
    return list(zip(s["file"].tolist(), s["row"].tolist(), s["col"].tolist()))


@pytest.fixture
def sheet(tmp_path):
    """A 2x3 sheet of 16x16 tiles; tile (1, 1) fully transparent but with RGB."""
    arr = np.zeros((32, 48, 4), np.uint8)
    tiles, k = {}, 0
    for r in range(2):
        for c in range(3):
            if (r, c) == (1, 1):
                arr[16:32, 16:32] = [7, 7, 7, 0]
                continue
            tiles[r, c] = sprite(16, COLOURS[k], seed=k)
            arr[16 * r:16 * r + 16, 16 * c:16 * c + 16] = tiles[r, c]
            k += 1
    return save(tmp_path / "sheet.png", arr), tiles


def test_sheet_tiles(sheet):
    path, tiles = sheet
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing changed: no warning
        ds = folder.load(path, tile_size=16)
    assert isinstance(ds, PixelDataset) and ds.labels is None
    assert len(ds) == 5 and ds.image_size == (16, 16)
    rep = ds.load_report
    assert rep["empty_tiles_skipped"] == 1 and rep["images"] == 5 and rep["files"] == 1
    assert rep["tile_size"] == (16, 16)
    assert sources(rep) == [("sheet.png", 0, 0), ("sheet.png", 0, 1), ("sheet.png", 0, 2),
                            ("sheet.png", 1, 0), ("sheet.png", 1, 2)]
    assert rep.sources["frame"].tolist() == [0] * 5
    assert rep["transparent_canonicalized"] == 16 * 16
    assert not rep["quantized"] and rep["pixels_changed"] == 0
    assert rep["share_changed"] == 0.0
    # Exact palette: the 5 colours and transparency, row-major tile order.
    assert len(ds.palette) == 6 == rep["colors_found"]
    assert ds.palette.colors[0].tolist() == [0, 0, 0, 0]
    expected = np.stack([tiles[k] for k in [(0, 0), (0, 1), (0, 2), (1, 0), (1, 2)]])
    np.testing.assert_array_equal(ds.rgba(), expected)
    assert ds.name == "sheet"
    # (h, w) form and a folder holding the sheet give the same data.
    same = folder.load(path.parent, tile_size=(16, 16))
    np.testing.assert_array_equal(same.indices, ds.indices)
    assert same.name == path.parent.name


def test_rectangular_tiles(tmp_path):
    arr = np.zeros((16, 24, 4), np.uint8)
    arr[:8, :12] = COLOURS[0]
    arr[8:, 12:] = COLOURS[1]
    ds = folder.load(save(tmp_path / "s.png", arr), tile_size=(8, 12))
    assert len(ds) == 2 and ds.image_size == (8, 12)
    assert ds.load_report["empty_tiles_skipped"] == 2


@pytest.mark.parametrize("size", [32, 48])
def test_folder_of_sprites(tmp_path, size):
    d = tmp_path / f"sprites{size}"
    arrays = [sprite(size, COLOURS[i % 5], seed=i) for i in range(7)]
    for i, a in enumerate(arrays):
        save(d / f"s{i:02d}.png", a)
    ds = folder.load(d)
    assert len(ds) == 7 and ds.image_size == (size, size)
    assert ds.name == f"sprites{size}"
    assert len(ds.palette) == 6 and not ds.load_report["quantized"]
    np.testing.assert_array_equal(ds.rgba(), np.stack(arrays))  # sorted order, exact
    assert ds.load_report.sources["file"].tolist() == [f"s{i:02d}.png" for i in range(7)]
    assert (ds.load_report.sources["row"] == -1).all()


def test_recursive_and_extensions(tmp_path):
    save(tmp_path / "a.PNG", sprite(8, COLOURS[0]))
    save(tmp_path / "sub" / "b.gif", sprite(8, COLOURS[1]), "P")
    save(tmp_path / "sub" / "c.bmp", sprite(8, COLOURS[2])[..., :3])
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / ".hidden.png").write_bytes(b"junk")
    top = folder.load(tmp_path)
    assert len(top) == 1
    # Every file not read is named with its reason.
    assert dict(top.load_report.skipped_files) == {
        ".hidden.png": "hidden", "notes.txt": "not an image format Pillow reads (.txt)"}
    ds = folder.load(tmp_path, recursive=True)
    assert ds.load_report.sources["file"].tolist() == ["a.PNG", "sub/b.gif", "sub/c.bmp"]


# ------------------------------------------------------------ modes
def _palette_image(tmp_path, fmt):
    p = Image.new("P", (3, 2))
    p.putpalette([10, 20, 30, 200, 100, 50, 1, 2, 3])
    p.putdata([0, 1, 2, 1, 0, 2])
    return save_pil(tmp_path / f"p.{fmt}", p, transparency=0)


def save_pil(path, img, **kw):
    img.save(path, **kw)
    return path


@pytest.mark.parametrize("fmt", ["png", "gif"])
def test_mode_p_with_transparency(tmp_path, fmt):
    ds = folder.load(_palette_image(tmp_path, fmt))
    assert ds.rgba()[0].tolist() == [
        [[0, 0, 0, 0], [200, 100, 50, 255], [1, 2, 3, 255]],
        [[200, 100, 50, 255], [0, 0, 0, 0], [1, 2, 3, 255]]]


def test_mode_l_la_rgb(tmp_path):
    grey = np.array([[0, 100, 255]], np.uint8)
    l_ds = folder.load(save_pil(tmp_path / "l.png", Image.fromarray(grey)))
    assert l_ds.rgba()[0].tolist() == [[[0, 0, 0, 255], [100, 100, 100, 255],
                                        [255, 255, 255, 255]]]
    la = np.stack([grey, np.array([[255, 0, 128]], np.uint8)], -1)
    la_ds = folder.load(save_pil(tmp_path / "la.png", Image.fromarray(la, "LA")))
    assert la_ds.rgba()[0].tolist() == [[[0, 0, 0, 255], [0, 0, 0, 0],
                                         [255, 255, 255, 128]]]
    assert la_ds.load_report["transparent_canonicalized"] == 1
    rgb = np.array([[[1, 2, 3], [4, 5, 6], [7, 8, 9]]], np.uint8)
    rgb_ds = folder.load(save_pil(tmp_path / "rgb.png", Image.fromarray(rgb)))
    np.testing.assert_array_equal(rgb_ds.rgba()[0, ..., :3], rgb)
    assert (rgb_ds.rgba()[..., 3] == 255).all()
    # An RGB PNG with a transparent colour (tRNS) keeps it as alpha 0.
    trns = folder.load(save_pil(tmp_path / "t.png", Image.fromarray(rgb),
                                transparency=(4, 5, 6)))
    assert trns.rgba()[0, 0, 1].tolist() == [0, 0, 0, 0]


def test_mode_i16(tmp_path):
    values = np.array([[0, 257 * 10, 65535, 1000]], np.uint16)
    path = save_pil(tmp_path / "deep.png", Image.fromarray(values))
    with Image.open(path) as im:
        assert im.mode.startswith("I")
    got = folder.load(path).rgba()[0, 0]
    expected = np.round(values[0] / 257).astype(np.uint8)  # 1000/257 = 3.89 -> 4
    np.testing.assert_array_equal(got[:, 0], expected)
    np.testing.assert_array_equal(got[:, :3], np.repeat(expected[:, None], 3, 1))
    assert (got[:, 3] == 255).all()
    # Mode "I" (32-bit ints holding 16-bit values) converts the same way.
    as_i = Image.fromarray(values.astype(np.int32))
    assert as_i.mode == "I"
    np.testing.assert_array_equal(folder.to_rgba(as_i)[0], got)
    with pytest.raises(ValueError, match="0-65535"):
        folder.to_rgba(Image.fromarray(np.array([[70000]], np.int32)))


def test_gif_first_frame_option(tmp_path):
    frames = [Image.new("P", (4, 4), i) for i in range(3)]
    for f in frames:
        f.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0])
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    ds = folder.load(path, frames="first")
    assert len(ds) == 1 and (ds.rgba() == [0, 0, 0, 255]).all()
    assert ds.load_report.frames == 1


# ------------------------------------------------------------ palettes
def noisy_gradient(seed=0):
    rng = np.random.default_rng(seed)
    g = np.linspace(0, 255, 32)[None, :, None] + rng.normal(0, 10, (32, 32, 3))
    img = np.concatenate([np.clip(g, 0, 255).astype(np.uint8),
                          np.full((32, 32, 1), 255, np.uint8)], -1)
    img[:4, :4] = 0
    return img


def test_quantize_path(tmp_path):
    for i in range(3):
        save(tmp_path / f"g{i}.png", noisy_gradient(i))
    with pytest.warns(UserWarning, match=r"quantized \d+ colours to \d+"):
        ds = folder.load(tmp_path, max_colors=16)
    rep = ds.load_report
    assert len(ds.palette) <= 16 and rep["palette_size"] == len(ds.palette)
    assert rep["quantized"] and rep["colors_found"] > 16
    assert 0 < rep["share_changed"] <= 1
    assert rep["pixels_changed"] == round(rep["share_changed"] * 3 * 32 * 32)
    assert ds.palette.colors[0].tolist() == [0, 0, 0, 0]
    assert (ds.rgba()[:, :4, :4] == 0).all()  # transparency kept exactly
    err = np.abs(ds.rgba().astype(int) - np.stack([noisy_gradient(i) for i in range(3)]))
    assert err.mean() < 20


def test_few_colours_is_exact_even_with_small_max(tmp_path):
    save(tmp_path / "a.png", sprite(8, COLOURS[0]))
    ds = folder.load(tmp_path, max_colors=2)
    assert len(ds.palette) == 2 and not ds.load_report["quantized"]


def test_given_palette(tmp_path):
    img = sprite(16, COLOURS[0])
    save(tmp_path / "a.png", img)
    pal = Palette(np.array([[0, 0, 0, 0], [255, 0, 0, 255], [0, 0, 255, 255]], np.uint8))
    ds = folder.load(tmp_path, palette=pal)
    assert ds.palette is pal and ds.load_report["pixels_changed"] == 0
    off = img.copy()
    off[off[..., 3] > 0] = [250, 5, 5, 255]  # near red, not in the palette
    save(tmp_path / "a.png", off)
    with pytest.warns(UserWarning, match="not in the given palette"):
        ds = folder.load(tmp_path, palette=pal)
    n_visible = int((img[..., 3] > 0).sum())
    assert ds.load_report["pixels_changed"] == n_visible
    assert ds.load_report["share_changed"] == pytest.approx(n_visible / img[..., 0].size)
    np.testing.assert_array_equal(ds.rgba()[0], img)  # snapped back to red
    with pytest.raises(TypeError, match="Palette"):
        folder.load(tmp_path, palette=[[0, 0, 0, 0]])


# ------------------------------------------------------------ bad input
def test_mixed_sizes_lists_offenders(tmp_path):
    for i in range(3):
        save(tmp_path / f"ok{i}.png", sprite(16, COLOURS[0]))
    save(tmp_path / "big.png", sprite(32, COLOURS[1]))
    save(tmp_path / "wide.png", np.zeros((16, 24, 4), np.uint8))
    with pytest.raises(ValueError, match=r"16x16.*big\.png \(32x32\).*wide\.png \(24x16\)"
                                         r".*tile_size"):
        folder.load(tmp_path)


def test_sheet_not_a_multiple(tmp_path):
    save(tmp_path / "odd.png", np.zeros((20, 32, 4), np.uint8))
    with pytest.raises(PalletsValueError,
                       match=r"odd\.png is 32x20.*16x16 tiles.*ragged='drop'.*ragged='pad'"
                             r".*margin"):
        folder.load(tmp_path, tile_size=16)


def test_corrupt_png(tmp_path):
    save(tmp_path / "a.png", sprite(8, COLOURS[0]))
    (tmp_path / "x.png").write_bytes(b"\x89PNG this is not really a png" * 3)
    with pytest.warns(UserWarning, match=r"x\.png.*Re-export"):
        ds = folder.load(tmp_path)
    assert len(ds) == 1 and [n for n, _ in ds.load_report.skipped_files] == ["x.png"]


def test_truncated_png(tmp_path):
    data = (save(tmp_path / "a.png", noisy_gradient())).read_bytes()
    (tmp_path / "a.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"a\.png"):
        folder.load(tmp_path)


def test_empty_and_missing(tmp_path):
    with pytest.raises(ValueError, match=r"No images.*\.png, \.gif, \.bmp, \.xpm"):
        folder.load(tmp_path)
    (tmp_path / "sub").mkdir()
    with pytest.raises(ValueError, match="recursive=True"):
        folder.load(tmp_path)
    with pytest.raises(FileNotFoundError, match="nowhere"):
        folder.load(tmp_path / "nowhere")
    (tmp_path / "x.txt").write_bytes(b"")
    with pytest.raises(ValueError, match=r"Pillow has no reader for '\.txt'"):
        folder.load(tmp_path / "x.txt")
    (tmp_path / "x.jpg").write_bytes(b"")  # a format Pillow reads, but broken
    with pytest.raises(ValueError, match=r"Cannot read .*x\.jpg"):
        folder.load(tmp_path / "x.jpg")
    # In a folder, a damaged file is skipped and named, not fatal ...
    with pytest.raises(ValueError, match=r"No image in .* could be read: x\.jpg: unreadable"):
        folder.load(tmp_path)
    save(tmp_path / "good.png", sprite(8, COLOURS[0]))
    with pytest.warns(UserWarning, match=r"skipped 1 unreadable files: x\.jpg unreadable"):
        ds = folder.load(tmp_path)
    assert len(ds) == 1
    assert dict(ds.load_report.skipped_files)["x.jpg"].startswith("unreadable (")


def test_all_tiles_empty(tmp_path):
    save(tmp_path / "blank.png", np.zeros((16, 16, 4), np.uint8))
    with pytest.raises(ValueError, match="fully transparent"):
        folder.load(tmp_path, tile_size=8)


@pytest.mark.parametrize("max_colors, err", [(0, ValueError), (-1, ValueError),
                                             (2.0, TypeError), ("16", TypeError)])
def test_bad_max_colors(tmp_path, max_colors, err):
    save(tmp_path / "a.png", sprite(8, COLOURS[0]))
    with pytest.raises(err, match="max_colors"):
        folder.load(tmp_path, max_colors=max_colors)


@pytest.mark.parametrize("tile", [0, (8,), (8, 0), 2.5, (True, 8)])
def test_bad_tile_size(tmp_path, tile):
    save(tmp_path / "a.png", sprite(8, COLOURS[0]))
    with pytest.raises(ValueError, match="tile_size"):
        folder.load(tmp_path, tile_size=tile)
