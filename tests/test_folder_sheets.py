"""folder.load on real-world sheet layouts, made here: ragged and spaced sheets,
animations, XPM, 16-bit PNGs, soft-edged sprites, huge colour counts."""

import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from PIL import Image

from pallets_keras import Palette
from pallets_keras.datasets import folder
from pallets_keras.errors import PalletsValueError

# numpy-only code: run once, under PyTorch (conftest.py deselects it elsewhere).
pytestmark = pytest.mark.backend_independent

RED, GREEN, BLUE = (255, 0, 0, 255), (0, 255, 0, 255), (0, 0, 255, 255)


def save(path, array, **kw):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(array)).save(path, **kw)
    return path


def numbered_tiles(n, h, w):
    """n opaque tiles, tile i filled with a colour of its own."""
    tiles = np.zeros((n, h, w, 4), np.uint8)
    tiles[..., 0] = (np.arange(n) * 37 % 256)[:, None, None]
    tiles[..., 1] = (np.arange(n) * 91 % 256)[:, None, None]
    tiles[..., 2] = np.arange(n)[:, None, None]
    tiles[..., 3] = 255
    return tiles


def grid(tiles, rows, cols, margin=0, spacing=0, line=(255, 0, 255, 255), extra=(0, 0)):
    """A sheet of `tiles` on a background of grid-line colour."""
    _, h, w, _ = tiles.shape
    H = 2 * margin + rows * h + (rows - 1) * spacing + extra[0]
    W = 2 * margin + cols * w + (cols - 1) * spacing + extra[1]
    sheet = np.empty((H, W, 4), np.uint8)
    sheet[:] = line
    for i in range(rows * cols):
        r, c = divmod(i, cols)
        y, x = margin + r * (h + spacing), margin + c * (w + spacing)
        sheet[y:y + h, x:x + w] = tiles[i]
    return sheet


# ------------------------------------------------------------ ragged sheets
def test_ragged_sheet_error_drop_pad(tmp_path):
    tiles = numbered_tiles(4, 16, 16)
    sheet = np.zeros((40, 36, 4), np.uint8)  # 2x2 tiles, 8 rows and 4 columns extra
    sheet[:32, :32] = grid(tiles, 2, 2)
    sheet[32:, :] = BLUE  # the ragged bottom edge has content
    path = save(tmp_path / "atlas.png", sheet)
    with pytest.raises(PalletsValueError, match=r"atlas\.png is 36x40.*holds 2x2 tiles"
                                                r".*ragged='drop'.*ragged='pad'"):
        folder.load(path, tile_size=16)
    dropped = folder.load(path, tile_size=16, ragged="drop")
    np.testing.assert_array_equal(dropped.rgba(), tiles)
    rep = dropped.load_report
    assert (rep.ragged, rep.ragged_files, rep.ragged_tiles) == ("drop", 1, 5)
    padded = folder.load(path, tile_size=16, ragged="pad")
    # 3x3 tiles; the two padded ones right of the sprites are empty, so skipped.
    assert len(padded) == 7 and padded.load_report.ragged_tiles == 5
    assert padded.load_report.empty_tiles_skipped == 2
    out = padded.rgba()
    np.testing.assert_array_equal(out[:4], tiles)
    # The bottom-right tile: 8x4 pixels of blue, padded with transparency.
    assert (out[6, :8, :4] == BLUE).all() and (out[6, 8:] == 0).all() \
        and (out[6, :, 4:] == 0).all()
    assert padded.load_report.sources[6][["row", "col"]].tolist() == (2, 2)


def test_sprite_smaller_than_a_tile(tmp_path):
    sprite = np.zeros((27, 19, 4), np.uint8)
    sprite[2:25, 2:17] = RED
    path = save(tmp_path / "small.png", sprite)
    with pytest.raises(PalletsValueError) as e:
        folder.load(path, tile_size=30)
    msg = str(e.value)
    assert "smaller than one 30x30 tile" in msg and "ragged='pad'" in msg
    assert "19x27" in msg and "0x0" not in msg
    # The advised tile size is (height, width), as tile_size takes it: following
    # the advice loads the sprite (the old advice gave width x height).
    assert "(27, 19) as (height, width)" in msg and "--tile-size 27,19" in msg
    assert folder.load(path, tile_size=(27, 19)).image_size == (27, 19)
    ds = folder.load(path, tile_size=30, ragged="pad")
    assert len(ds) == 1 and ds.image_size == (30, 30)
    np.testing.assert_array_equal(ds.rgba()[0, :27, :19], sprite)
    assert (ds.rgba()[0, 27:] == 0).all() and (ds.rgba()[0, :, 19:] == 0).all()
    with pytest.raises(PalletsValueError, match="fully transparent or left out"):
        folder.load(path, tile_size=30, ragged="drop")


def test_margin_and_spacing(tmp_path):
    """A 1-pixel grid line around and between 8x6 tiles, as in many tilesets."""
    tiles = numbered_tiles(6, 6, 8)
    sheet = grid(tiles, 2, 3, margin=1, spacing=1)
    assert sheet.shape[:2] == (15, 28)
    path = save(tmp_path / "tileset.png", sheet)
    ds = folder.load(path, tile_size=(6, 8), margin=1, spacing=1)
    np.testing.assert_array_equal(ds.rgba(), tiles)  # no grid line in any tile
    rep = ds.load_report
    assert (rep.margin, rep.spacing, rep.ragged_files) == (1, 1, 0)
    assert [tuple(s) for s in rep.sources[["row", "col"]].tolist()] == [
        (0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    # Without a trailing margin (Tiled's layout) the sheet is whole too.
    np.testing.assert_array_equal(
        folder.load(save(tmp_path / "t2.png", sheet[:-1, :-1]), tile_size=(6, 8),
                    margin=1, spacing=1).rgba(), tiles)
    # Ignoring the layout is an error that names margin and spacing, not a crop.
    with pytest.raises(PalletsValueError, match="margin.*spacing"):
        folder.load(path, tile_size=(6, 8))
    with pytest.raises(PalletsValueError, match="margin must be an int >= 0"):
        folder.load(path, tile_size=(6, 8), margin=-1)
    with pytest.raises(PalletsValueError, match="pass tile_size"):
        folder.load(path, spacing=1)


# ------------------------------------------------------------ frames, formats
def test_animated_gif_and_apng_every_frame(tmp_path):
    colours = [RED, GREEN, BLUE]
    frames = [Image.fromarray(np.full((8, 16, 4), c, np.uint8)) for c in colours]
    frames[0].save(tmp_path / "walk.gif", save_all=True, append_images=frames[1:],
                   duration=100, disposal=2)
    frames[0].save(tmp_path / "walk.apng", save_all=True, append_images=frames[1:])
    ds = folder.load(tmp_path)
    rep = ds.load_report
    assert (rep.files, rep.frames, rep.images) == (2, 6, 6)
    assert ds.load_report.sources["frame"].tolist() == [0, 1, 2, 0, 1, 2]
    assert ds.load_report.sources["file"].tolist() == ["walk.apng"] * 3 + ["walk.gif"] * 3
    for i, c in enumerate(colours * 2):
        assert (ds.rgba()[i] == c).all()
    # Each frame of a sheet is cut the same way; frames="first" is the old way.
    tiles = folder.load(tmp_path / "walk.gif", tile_size=8)
    assert len(tiles) == 6 and tiles.load_report.sources["col"].tolist() == [0, 1] * 3
    first = folder.load(tmp_path / "walk.gif", frames="first")
    assert len(first) == 1 and (first.rgba() == RED).all()
    with pytest.raises(PalletsValueError, match="frames must be one of"):
        folder.load(tmp_path, frames="some")


XPM = """/* XPM */
static char *sprite[] = {
"4 3 3 1",
"  c None",
". c #FF0000",
"+ c #00FF00",
" .+ ",
"..++",
" .+ "};
"""


def test_xpm_beside_png(tmp_path):
    (tmp_path / "a.xpm").write_text(XPM)
    png = np.zeros((3, 4, 4), np.uint8)
    png[1] = BLUE
    save(tmp_path / "b.png", png)
    (tmp_path / "readme.txt").write_text("credits")
    ds = folder.load(tmp_path)
    assert len(ds) == 2 and ds.load_report.files == 2
    assert ds.rgba()[0].tolist() == [
        [[0, 0, 0, 0], list(RED), list(GREEN), [0, 0, 0, 0]],
        [list(RED), list(RED), list(GREEN), list(GREEN)],
        [[0, 0, 0, 0], list(RED), list(GREEN), [0, 0, 0, 0]]]
    assert ds.load_report.skipped_files == (
        ("readme.txt", "not an image format Pillow reads (.txt)"),)
    assert ".xpm" in folder.image_extensions()


def png16(path, rgba16):
    """A 16-bit RGBA PNG (PIL cannot write one), straight from the spec."""
    h, w, _ = rgba16.shape
    raw = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in rgba16)

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    ihdr = struct.pack(">IIBBBBB", w, h, 16, 6, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return path


def test_16_bit_sheet_with_alpha(tmp_path):
    rng = np.random.default_rng(0)
    sheet = rng.integers(0, 65536, (16, 24, 4)).astype(np.uint16)
    sheet[:8, 8:16, 3] = 0        # a fully transparent tile
    sheet[8:, :8, 3] = 65535      # an opaque one
    path = png16(tmp_path / "deep.png", sheet)
    ds = folder.load(path, tile_size=8, max_colors=10**6)  # exact: no quantizing
    assert len(ds) == 5 and ds.load_report.empty_tiles_skipped == 1
    expected = (sheet >> 8).astype(np.uint8)  # Pillow keeps the high byte
    expected[expected[..., 3] == 0] = 0
    got = ds.rgba()
    np.testing.assert_array_equal(got[0], expected[:8, :8])
    np.testing.assert_array_equal(got[2], expected[8:, :8])
    assert (got[2, ..., 3] == 255).all()
    assert 0 < (got[..., 3] < 255).mean() < 1  # translucency kept, not flattened


# ------------------------------------------------------------ colours
def soft_edged_sprites(n=40, size=24, seed=0):
    """Opaque noisy bodies with an antialiased alpha edge (thousands of colours)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    d = np.hypot(yy - size / 2 + 0.5, xx - size / 2 + 0.5)
    out = np.zeros((n, size, size, 4), np.uint8)
    for i in range(n):
        alpha = np.clip((rng.uniform(6, 10) + 1.5 - d) / 3, 0, 1)
        body = rng.integers(30, 226, 3) + rng.normal(0, 18, (size, size, 3))
        out[i, ..., :3] = np.clip(body, 0, 255).astype(np.uint8)
        out[i, ..., 3] = np.round(alpha * 255).astype(np.uint8)
    out[out[..., 3] == 0] = 0
    return out


@pytest.mark.parametrize("quantizer", ["kmeans", "mediancut", "fastoctree"])
def test_soft_edged_sprites_stay_opaque(tmp_path, quantizer):
    sprites = soft_edged_sprites()
    sheet = sprites.reshape(5, 8, 24, 24, 4).swapaxes(1, 2).reshape(120, 192, 4)
    path = save(tmp_path / "icons.png", sheet)
    with pytest.warns(UserWarning, match=r"0 opaque pixels no longer opaque"):
        ds = folder.load(path, tile_size=24, max_colors=64, quantizer=quantizer)
    rep = ds.load_report
    assert rep.colors_found > 5000 and rep.quantized and len(ds.palette) <= 64
    alpha = ds.palette.colors[:, 3]
    assert (alpha == 255).sum() >= 32  # the bodies get most of the colours
    assert ((alpha > 0) & (alpha < 255)).any()  # and the soft edge some
    src, out = sprites[..., 3], ds.rgba()[..., 3]
    assert ((src == 255) <= (out == 255)).all()  # every opaque pixel stays opaque
    assert (out[src == 0] == 0).all()  # transparency exact
    assert (src[out == 0] < 64).all()  # only faint edge pixels may clear
    soft = (src > 0) & (src < 255)
    # A soft pixel keeps about its alpha: its RGB noise shares the colours
    # (measured 20-22 for k-means; alpha spreads over 1-254 here).
    assert np.abs(out[soft].astype(int) - src[soft]).mean() < 30
    assert rep.opaque_lost == 0 and 0 < rep.alpha_changed <= soft.sum()
    err = np.sqrt(((ds.rgba().astype(float) - sprites) ** 2).sum(-1)).mean()
    assert rep.mean_color_error == pytest.approx(err, abs=1e-3)
    assert err < 25


def test_kmeans_measures_better_than_median_cut():
    """Why k-means is the default: lower mean colour error on sprites."""
    sprites = soft_edged_sprites(seed=1)
    errors = {}
    for method in ("kmeans", "mediancut"):
        pal = Palette.quantize(sprites, 48, method=method)
        out = pal.decode(pal.encode(sprites, snap=True, return_report=True)[0])
        errors[method] = np.sqrt(((out.astype(float) - sprites) ** 2).sum(-1)).mean()
    assert errors["kmeans"] < 0.95 * errors["mediancut"], errors


def test_more_than_65536_colours(tmp_path):
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (320, 320, 4), dtype=np.uint8)
    noise[..., 3] = 255
    noise[:16, :16] = 0
    path = save(tmp_path / "noise.png", noise)
    with pytest.warns(UserWarning, match=r"quantized \d+ colours to \d+"):
        ds = folder.load(path, max_colors=16)
    rep = ds.load_report
    assert rep.colors_found > 65536 and rep.palette_size == len(ds.palette) <= 16
    assert ds.palette.colors[0].tolist() == [0, 0, 0, 0]
    assert (ds.rgba()[0, :16, :16] == 0).all() and rep.opaque_lost == 0
    # Uniform noise quantized to 15 colours: error well under the spread of
    # the data (a random colour is ~208 away from another on average).
    assert 0 < rep.mean_color_error < 110
    # Keeping them all is impossible: a clear error, not Palette's own.
    with pytest.raises(PalletsValueError, match=r"more than a palette's 65,536.*max_colors <= "):
        folder.load(path, max_colors=10**6)


def test_palette_over_256_colours():
    """k-means is not capped at 256 colours as PIL's quantizers are."""
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (1, 64, 64, 4), dtype=np.uint8)
    img[..., 3] = 255
    pal = Palette.quantize(img, 300)
    assert 256 < len(pal) <= 300 and (pal.colors[:, 3] == 255).all()


# ------------------------------------------------------------ filtering, report
def test_duplicates_and_near_empty(tmp_path):
    tiles = numbered_tiles(4, 8, 8)
    tiles[2] = tiles[0]                 # a duplicate
    tiles[3, ..., 3] = 0
    tiles[3, 0, 0] = RED                # 1 visible pixel of 64: near-empty
    path = save(tmp_path / "s.png", grid(tiles, 1, 4))
    assert len(folder.load(path, tile_size=8)) == 4
    ds = folder.load(path, tile_size=8, drop_duplicates=True, min_coverage=0.05)
    np.testing.assert_array_equal(ds.rgba(), tiles[[0, 1]])
    rep = ds.load_report
    assert (rep.duplicates_dropped, rep.near_empty_dropped) == (1, 1)
    assert rep.sources["col"].tolist() == [0, 1]
    with pytest.raises(PalletsValueError, match="min_coverage"):
        folder.load(path, tile_size=8, min_coverage=1.5)


def test_report_is_short(tmp_path):
    tiles = numbered_tiles(600, 8, 8)
    path = save(tmp_path / "many.png", grid(tiles, 20, 30))
    (tmp_path / "notes.txt").write_text("x")
    rep = folder.load(tmp_path, tile_size=8, max_colors=1024).load_report
    assert rep.images == 600 and len(rep.sources) == 600
    assert "\n" not in repr(rep) and len(repr(rep)) < 200
    assert len(str(rep).splitlines()) <= 5 and "notes.txt" in str(rep)
    assert "many.png" not in repr(rep).replace(str(tmp_path), "")  # no per-tile rows
    assert rep["images"] == 600  # still reads like the dict it was
    d = rep.to_dict()
    assert "sources" not in d and d["skipped_files"] == [["notes.txt",
                                                         "not an image format Pillow "
                                                         "reads (.txt)"]]
    assert path.exists()


def test_4096_sheet_memory_bounded(tmp_path):
    """A 4096x4096 sheet (64 MiB of RGBA) loads within a few copies of itself."""
    tiles = numbered_tiles(200, 32, 32)
    rows = np.arange(128 * 128) % 200
    sheet = tiles[rows].reshape(128, 128, 32, 32, 4).swapaxes(1, 2).reshape(4096, 4096, 4)
    path = save(tmp_path / "big.png", sheet, compress_level=1)
    del sheet
    tracemalloc.start()
    try:
        ds = folder.load(path, tile_size=32)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(ds) == 128 * 128 and len(ds.palette) == 200
    image_bytes = 4096 * 4096 * 4
    assert peak < 5 * image_bytes, f"peak {peak / 2**20:.0f} MiB"
