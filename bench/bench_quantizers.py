"""Compares the colour quantizers of `Palette.quantize` on generated sprite sets.

For each set and method: palette size, share of pixels changed, mean colour
error (Euclidean RGBA, 0-255 units, what `folder.load` reports), mean CIE76
Delta E of the visible pixels (a perceptual check), opaque pixels kept opaque,
and seconds. "legacy_rgba_octree" is what `quantize` did before whenever
some pixel was translucent: PIL's fast octree on RGBA over every visible
pixel, alpha averaged across groups (for all-opaque sets it used
"mediancut"). Results: bench/results_quantizers.json.

Run: KERAS_BACKEND=jax python bench/bench_quantizers.py [--json out.json]
"""

import argparse
import json
import sys
import time

import numpy as np
from PIL import Image, features

from pallets_keras import Palette
from pallets_keras.palette import QUANTIZERS


def srgb_to_lab(rgb):
    """CIE L*a*b* (D65) of uint8 sRGB (..., 3): for measuring only."""
    c = rgb.astype(np.float64) / 255
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                  [0.0193, 0.1192, 0.9505]])
    xyz = c @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]),
                     200 * (f[..., 1] - f[..., 2])], -1)


def soft_sprites(n=40, size=24, seed=0):
    """Opaque noisy bodies with a soft (antialiased) alpha edge."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    out = np.zeros((n, size, size, 4), np.uint8)
    for i in range(n):
        base = rng.integers(30, 226, 3)
        r = rng.uniform(6, 10)
        d = np.hypot(yy - size / 2 + 0.5, xx - size / 2 + 0.5)
        alpha = np.clip((r + 1.5 - d) / 3, 0, 1)
        body = np.clip(base + rng.normal(0, 18, (size, size, 3)), 0, 255)
        out[i, ..., :3] = body.astype(np.uint8)
        out[i, ..., 3] = np.round(alpha * 255).astype(np.uint8)
    out[out[..., 3] == 0] = 0
    return out


def noisy_pixel_art(n=64, size=16, colours=24, seed=1):
    """Flat-coloured blocky sprites with JPEG-like noise: few true colours."""
    rng = np.random.default_rng(seed)
    pal = rng.integers(0, 256, (colours, 3))
    out = np.zeros((n, size, size, 4), np.uint8)
    for i in range(n):
        blocks = rng.integers(0, colours, (size // 4, size // 4))
        img = pal[np.kron(blocks, np.ones((4, 4), int))]
        img = np.clip(img + rng.normal(0, 6, img.shape), 0, 255)
        out[i, ..., :3] = img.astype(np.uint8)
        out[i, ..., 3] = 255
        out[i, : size // 4, : size // 4] = 0
    return out


def gradients(n=8, size=64, seed=2):
    """Smooth opaque gradients: many colours, no flat areas (a hard case)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, size)
    out = np.zeros((n, size, size, 4), np.uint8)
    for i in range(n):
        a, b = rng.integers(0, 256, (2, 3))
        img = a + (b - a) * t[None, :, None] * t[:, None, None] ** 0.5
        out[i, ..., :3] = np.clip(img + rng.normal(0, 3, (size, size, 3)), 0, 255)
        out[i, ..., 3] = 255
    return out


def legacy(rgba, k):
    """The old path: fast octree on RGBA over every visible pixel."""
    vis = rgba.reshape(-1, 4)
    vis = vis[vis[:, 3] > 0]
    img = Image.fromarray(np.ascontiguousarray(vis[None]), "RGBA")
    q = img.quantize(colors=min(k - 1, 256), method=Image.Quantize.FASTOCTREE)
    pal = np.array(q.getpalette(rawmode="RGBA"), np.uint8).reshape(-1, 4)
    pal = pal[np.unique(np.asarray(q))]
    pal = np.unique(np.concatenate([pal, [[0, 0, 0, 0]]]).astype(np.uint8), axis=0)
    return Palette(pal)


def measure(rgba, pal, keep_opaque=True):
    if keep_opaque:
        idx = pal.encode(rgba, snap=True, return_report=True)[0]
    else:
        flat = rgba.reshape(-1, 4)
        idx = pal.nearest(flat, keep_opaque=False).reshape(rgba.shape[:-1])
    out = pal.colors[idx]
    d = rgba.astype(np.int32) - out.astype(np.int32)
    vis = rgba[..., 3] > 0
    de = np.linalg.norm(srgb_to_lab(rgba[..., :3][vis]) - srgb_to_lab(out[..., :3][vis]), axis=-1)
    opaque = rgba[..., 3] == 255
    return {
        "palette": len(pal),
        "share_changed": round(float((d != 0).any(-1).mean()), 4),
        "mean_color_error": round(float(np.sqrt((d * d).sum(-1)).mean()), 3),
        "mean_delta_e": round(float(de.mean()), 3),
        "opaque_kept": round(float((out[..., 3][opaque] == 255).mean()), 4)
        if opaque.any() else None,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the table as JSON here")
    args = parser.parse_args(argv)
    sets = {"soft_edged_24x24_k64": (soft_sprites(), 64),
            "noisy_pixel_art_16x16_k32": (noisy_pixel_art(), 32),
            "gradients_64x64_k16": (gradients(), 16)}
    methods = [m for m in QUANTIZERS
               if m != "libimagequant" or features.check_feature("libimagequant")]
    import sklearn.cluster  # noqa: F401  (imported once, outside the timings)

    rows = []
    for set_name, (rgba, k) in sets.items():
        n_colours = len(np.unique(rgba.reshape(-1, 4), axis=0))
        for method in methods + ["legacy_rgba_octree"]:
            t0 = time.perf_counter()
            if method == "legacy_rgba_octree":
                pal = legacy(rgba, k)
                row = measure(rgba, pal, keep_opaque=False)
            else:
                pal = Palette.quantize(rgba, k, method=method)
                row = measure(rgba, pal)
            row.update(set=set_name, colours=n_colours, method=method,
                       seconds=round(time.perf_counter() - t0, 3))
            rows.append(row)
            print(f"{set_name:28s} {method:20s} K={row['palette']:3d} "
                  f"changed={row['share_changed']:.3f} err={row['mean_color_error']:7.3f} "
                  f"dE={row['mean_delta_e']:6.3f} opaque_kept={row['opaque_kept']} "
                  f"{row['seconds']:.2f}s", flush=True)
    print(f"libimagequant in this Pillow: {features.check_feature('libimagequant')}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
