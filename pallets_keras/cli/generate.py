"""`pallets generate`, `reconstruct` and `interpolate`."""

import contextlib
import os
from types import SimpleNamespace

import click

from pallets_keras.cli import inputs
from pallets_keras.cli.common import (
    NAME,
    POSITIVE,
    SEED,
    Number,
    WholeNumber,
    command,
    label_options,
)
from pallets_keras.cli.env import backend, note, stream
from pallets_keras.cli.inputs import plural, upscale
from pallets_keras.errors import PalletsValueError

# The most images one `pallets generate` draws: beyond it, run again with
# another --seed (or --split into folders) rather than fill the memory.
MAX_GENERATE = 100_000
# Images decoded per step: larger -n is generated in chunks, with progress.
CHUNK = 1024


def sample_in_chunks(model, n, labels=None, seed=None, temperature=0.0, prior=None,
                     chunk=None, progress=None, guidance_scale=None):
    """`model.sample(n, ...)` decoded `chunk` images at a time.

    The n latent codes are drawn in one call (n x latent floats, small), so
    with temperature 0 the images are those of one `model.sample` call, for
    any chunk size. With temperature > 0 the colours of chunk i are drawn with
    seed + i, so the result then depends on the chunk size (the CLI's is
    fixed: the same -n and --seed repeat the same images).
    `progress(k)` is called after each chunk with the k images it made;
    `chunk` defaults to CHUNK."""
    import numpy as np

    chunk = chunk or CHUNK
    if n <= chunk:
        out = model.sample(n, labels=labels, seed=seed, temperature=temperature, prior=prior,
                           guidance_scale=guidance_scale)
        if progress:
            progress(n)
        return out
    from pallets_keras import validation

    temperature = validation.check_temperature(temperature)
    seed = validation.check_seed(seed)
    lab = model.labels_array(labels, n) if model.is_conditional else None
    z = model.sample_latent(n, seed, prior, labels=lab)
    parts = []
    for i, start in enumerate(range(0, n, chunk)):
        part = slice(start, start + chunk)
        parts.append(model.decode(z[part], None if lab is None else lab[part],
                                  temperature=temperature, guidance_scale=guidance_scale,
                                  seed=None if seed is None else (seed + i) % 2**32))
        if progress:
            progress(len(parts[-1]))
    return np.concatenate(parts)


@command(None, "generate", short_help="sample new images from a preset",
         help="Samples images from a model's prior (by default the one its preset measured "
              "best; see `pallets zoo info NAME`) and writes them as one grid (upscaled "
              "without smoothing), or with --split as single PNGs at native size. Prints "
              f"the path it wrote. More than {CHUNK:,} images are made {CHUNK:,} at a time, "
              "with a progress bar on stderr.",
         examples=["pallets generate onehot_vae -n 64 --seed 0 -o punks.png",
                   "pallets generate cvae -n 16 --label earring --seed 1 -o earrings.png",
                   "pallets generate cvae --label earring,hoodie --no-label smile "
                   "-o hoodies.png",
                   "pallets generate gsvae -n 10 --split -o samples/",
                   "pallets generate onehot_conv_vae --prior training -o from_n01.png"])
@NAME
@click.option("-n", "--n", "n", default=64,
              type=WholeNumber(1, MAX_GENERATE, fix="run again with another --seed for more"),
              help=f"number of images (default 64, at most {MAX_GENERATE:,})")
@label_options("in every sample")
@click.option("--seed", type=SEED, default=None,
              help="seed of the draw, >= 0 (default: a random one, printed so you can "
                   "repeat it)")
@click.option("--scale", type=POSITIVE, default=None,
              help="integer upscale factor, nearest neighbour (default 8 for a grid, 1 "
                   "with --split)")
@click.option("--cols", type=POSITIVE, default=None,
              help="grid columns (default: a square grid; never more than -n)")
@click.option("--prior", default=None, metavar="NAME",
              help="the prior the latent codes come from: a name the preset lists (e.g. "
                   "gaussian_mixture, label_posterior) or 'training' (the prior it was "
                   "trained against); default: the preset's default prior")
@click.option("--temperature", type=Number(0), default=0.0,
              help="0 (default) takes each pixel's most likely colour; > 0 samples the "
                   "colours at that temperature (onehot models)")
@click.option("--guidance-scale", type=Number(0), default=None,
              help="conditional onehot models: classifier-free guidance; 1 decodes as "
                   "trained, 2-3 follows the --label requests more closely (default: the "
                   "preset's, see `pallets zoo info NAME`)")
@click.option("-o", "--out", required=True, metavar="PATH",
              help="the grid image to write (.png, .gif, .webp, .jpg: the format follows "
                   "the extension), or with --split the folder")
@click.option("--split", is_flag=True,
              help="write one PNG per image (sample_000.png, ...) into the folder -o")
def generate(name, n, labels_on, labels_off, seed, scale, cols, prior, temperature,
             guidance_scale, out, split):
    out = inputs.out_dir(out) if split else inputs.out_file(out)
    inputs.precheck_preset(name)
    from pallets_keras import plot, zoo

    if not split:
        size = zoo.info(inputs.resolve_preset(name)).get("image_size") or (1, 1)
        inputs.check_grid(n, cols, scale or 8, size)
    model = inputs.load_model(name)
    labels = inputs.labels(model, labels_on, labels_off, name, steer=True)
    if model.latent == "none" and not model.priors:
        raise PalletsValueError(
            f"{name} ({model.variant}) is a plain autoencoder without a fitted prior: it "
            "cannot sample; use a VAE preset, fit a prior (pallets_keras.priors.fit_prior) "
            "and save the preset, or use `pallets reconstruct` / `pallets interpolate` on "
            "real images")
    if prior is not None and prior != "training" and prior not in model.priors:
        known = ", ".join(sorted(model.priors) + ["training"])
        raise PalletsValueError(f"--prior {prior}: {name} has no such prior; it has {known}")
    if temperature and model.representation != "onehot":
        raise PalletsValueError(f"--temperature applies to onehot models; {name} "
                                f"({model.variant}) draws RGBA directly")
    drawn = seed if seed is not None else int.from_bytes(os.urandom(4), "little") % 2**31
    bar = click.progressbar(length=n, label="generating", file=stream()) if n > CHUNK \
        else contextlib.nullcontext(SimpleNamespace(update=lambda k: None))
    with bar as bar:
        rgba = sample_in_chunks(model, n, labels=labels, seed=drawn, temperature=temperature,
                                prior=prior, progress=bar.update,
                                guidance_scale=guidance_scale)
    hot = f", temperature {temperature:g}" if temperature else ""
    guided = model.default_guidance_scale if guidance_scale is None else guidance_scale
    hot += f", guidance {guided:g}" if guided != 1 else ""
    note(f"{plural(n, 'image')} from {name} ({model.variant}), prior "
         f"{prior or model.default_prior}, seed {drawn}{hot}, backend {backend()}"
         + ("" if seed is not None else f" (--seed {drawn} repeats this draw)"))
    if split:
        out.mkdir(parents=True, exist_ok=True)
        digits = max(3, len(str(n - 1)))
        for i, image in enumerate(rgba):
            plot.save_png(upscale(image, scale or 1), out / f"sample_{i:0{digits}d}.png")
    else:
        plot.save_grid(rgba, out, cols=cols, scale=scale or 8)
    click.echo(out)
    return 0


@command(None, "reconstruct", short_help="encode and decode images through a preset",
         help="Runs each image through the model (encode, then decode) and writes the result "
              "at native size into the folder -o, under the input's name. Images (PNG/GIF/"
              "BMP files) must be the model's size; colours not in the model's palette are "
              "snapped to the nearest one first, and a note says how many pixels moved.",
         examples=["pallets reconstruct onehot_conv_ae punk1.png punk2.png -o recon/",
                   "pallets reconstruct cvae punk.png --label earring -o recon/"])
@NAME
@click.argument("images", metavar="IMAGE...", nargs=-1, required=True)
@label_options("for every image")
@click.option("--scale", type=POSITIVE, default=1,
              help="integer upscale factor of the written PNGs (default 1: native)")
@click.option("-o", "--out", required=True, metavar="DIR",
              help="the folder to write the reconstructions into")
def reconstruct(name, images, labels_on, labels_off, scale, out):
    import numpy as np

    files = inputs.image_files(images)
    out = inputs.out_dir(out)
    inputs.precheck_preset(name)
    rgbas = [inputs.read_image(f) for f in files]
    targets, seen = [], set()
    sources = {f.resolve() for f in files}
    for f in files:
        target, k = out / f"{f.stem}.png", 1
        while target in seen:
            target, k = out / f"{f.stem}_{k}.png", k + 1
        if target.resolve() in sources:
            raise PalletsValueError(f"writing {target} would overwrite an input image; pick "
                                    "another -o folder")
        seen.add(target)
        targets.append(target)
    from pallets_keras import plot

    model = inputs.load_model(name)
    for rgba, f in zip(rgbas, files):
        inputs.check_size(rgba, model, name, f)
    labels = inputs.labels(model, labels_on, labels_off, name, steer=False)
    idx = np.stack([inputs.snap(rgba, model, f)[0] for rgba, f in zip(rgbas, files)])
    rec = model.reconstruct(idx, labels=labels)
    out.mkdir(parents=True, exist_ok=True)
    for image, target, f, want in zip(rec, targets, files, idx):
        plot.save_png(upscale(image, scale), target)
        got, report = model.palette.encode(image[None], snap=True, return_report=True)
        off = (f"; {report.pixels_moved} output pixels are off the palette (an RGBA "
               "model's output is written as drawn)" if report.pixels_moved else "")
        note(f"{f} -> {target}: {int((got[0] == want).sum())} of {want.size} pixels "
             f"reconstructed exactly{off}")
        click.echo(target)
    return 0


@command(None, "interpolate", short_help="a strip of images between two images' codes",
         help="Encodes images A and B (of the model's size) and decodes evenly spaced points "
              "on the line between their latent codes, written as one strip image.",
         examples=["pallets interpolate onehot_vae a.png b.png --steps 8 -o strip.png"])
@NAME
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@click.option("--steps", type=WholeNumber(2, 10_000), default=8,
              help="images in the strip, ends included (default 8)")
@label_options("along the strip")
@click.option("--scale", type=POSITIVE, default=8, help="integer upscale factor (default 8)")
@click.option("-o", "--out", required=True, metavar="IMAGE",
              help="the strip image to write (.png, .gif, .webp, .jpg)")
def interpolate(name, a, b, steps, labels_on, labels_off, scale, out):
    a_file, b_file = inputs.image_files([a, b])
    out = inputs.out_file(out)
    inputs.precheck_preset(name)
    a_rgba, b_rgba = inputs.read_image(a_file), inputs.read_image(b_file)
    from pallets_keras import plot

    model = inputs.load_model(name)
    inputs.check_size(a_rgba, model, name, a_file)
    inputs.check_size(b_rgba, model, name, b_file)
    labels = inputs.labels(model, labels_on, labels_off, name, steer=False)
    a_idx, _ = inputs.snap(a_rgba, model, a_file)
    b_idx, _ = inputs.snap(b_rgba, model, b_file)
    strip = model.interpolate(a_idx, b_idx, steps=steps, labels=labels)
    plot.save_grid(strip, out, cols=steps, scale=scale)
    click.echo(out)
    return 0
