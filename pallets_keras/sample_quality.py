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
    covmean, _ = linalg.sqrtm(s_r @ s_f, disp=False)
    if not np.isfinite(covmean).all():
        # Near-singular product: offset both covariances slightly, as the
        # reference FID code does.
        eps = np.eye(len(s_r)) * 1e-6
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
