"""Sample-quality metrics against the papers' definitions, on points whose
answers can be worked out by hand."""

import numpy as np
import pytest

from pallets_keras.errors import PalletsValueError
from pallets_keras.sample_quality import (
    frechet_distance,
    possible_requests,
    precision_recall_density_coverage,
    sample_quality,
)

# numpy-only code: run once, under PyTorch (conftest.py deselects it elsewhere).
pytestmark = pytest.mark.backend_independent


def test_frechet_distance_of_two_known_gaussians():
    # Same covariance: the distance is the squared distance of the means.
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4000, 3))
    b = a + np.array([3.0, 0.0, 4.0])
    assert frechet_distance(a, b) == pytest.approx(25.0, rel=1e-6)
    # Scaled by 3: covariances S and 9 S, so the trace part is
    # tr(S) + 9 tr(S) - 2 tr(3 S) = 4 tr(S); the means differ by 2 mu.
    c = a * 3.0
    mu = a.mean(0)
    expected = 4 * np.trace(np.cov(a, rowvar=False)) + 4 * mu @ mu
    assert frechet_distance(a, c) == pytest.approx(expected, rel=1e-6)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_precision_recall_by_hand():
    # Real points on a line 0..9: with k=1 every ball has radius 1.
    real = np.arange(10.0)[:, None]
    # Two fakes inside the real manifold, two far away.
    fake = np.array([[0.5], [4.0], [50.0], [60.0]])
    # k=1 radii of the fakes: 3.5, 3.5, 10, 10.
    out = precision_recall_density_coverage(real, fake, k=1)
    assert out["precision"] == 0.5
    # Real points within a fake ball: |r - 0.5| <= 3.5 -> 0..4, |r - 4| <= 3.5 -> 1..7,
    # |r - 50| <= 10 and |r - 60| <= 10 hold none: 8 of 10.
    assert out["recall"] == 0.8
    # Density: fake 0.5 lies in the balls of reals 0 and 1, fake 4.0 in those
    # of 3, 4, 5: (2 + 3 + 0 + 0) / (1 * 4).
    assert out["density"] == 1.25
    # Coverage: reals whose nearest fake is within their own radius 1:
    # 0 (0.5), 1 (0.5), 3, 4, 5 (4.0): 5 of 10.
    assert out["coverage"] == 0.5


def test_real_against_itself_is_perfect_and_shift_is_caught():
    rng = np.random.default_rng(1)
    real = rng.standard_normal((500, 8))
    same = precision_recall_density_coverage(real, real, k=5)
    assert same == {"precision": 1.0, "recall": 1.0, "density": pytest.approx(1.0, abs=0.25),
                    "coverage": 1.0}
    other = sample_quality(real, rng.standard_normal((500, 8)) + 3.0)
    assert other["precision"] < 0.2 and other["recall"] < 0.2 and other["fpd"] > 60


def test_mode_collapse_keeps_precision_loses_recall():
    rng = np.random.default_rng(2)
    real = rng.standard_normal((600, 4))
    collapsed = real[:20][rng.integers(0, 20, 600)] + 0.01 * rng.standard_normal((600, 4))
    out = sample_quality(real, collapsed, k=5)
    assert out["precision"] > 0.95
    assert out["recall"] < 0.3
    assert out["coverage"] < 0.2


@pytest.mark.parametrize("real, fake, k", [
    (np.zeros((10, 3)), np.zeros((10, 4)), 3),
    (np.zeros((3, 2)), np.zeros((10, 2)), 3),
    (np.zeros((10, 2)), np.zeros((10, 2)), 0),
])
def test_bad_inputs_raise_clear_errors(real, fake, k):
    with pytest.raises(PalletsValueError):
        precision_recall_density_coverage(real, fake, k)


def test_possible_requests_by_hand():
    # Labels: earring, hoodie, cap. Hoodies never come with an earring here.
    train = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 0], [0, 1, 1]])
    requests = np.array([[1, 0, 0], [1, 0, 1], [1, 1, 0], [1, 1, 1]])
    np.testing.assert_array_equal(possible_requests(train, requests, 0),
                                  [True, True, False, False])
    # Asked for a label no training image has: only a request for nothing
    # else is possible.
    np.testing.assert_array_equal(
        possible_requests(np.array([[0, 1, 0]]), np.array([[1, 0, 0], [1, 1, 0]]), 0),
        [True, False])


def test_metrics_reaches_the_sample_quality_metrics():
    """`pallets_keras.metrics.frechet_distance` etc. are sample_quality's,
    loaded on first use; an unknown name is still an AttributeError."""
    from pallets_keras import metrics, sample_quality

    for name in metrics.SAMPLE_QUALITY:
        assert getattr(metrics, name) is getattr(sample_quality, name), name
    with pytest.raises(AttributeError, match="no attribute 'fpd'"):
        metrics.fpd  # noqa: B018
