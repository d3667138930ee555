"""Conditioning asserted on a shipped model (issue #16): the `conv_cvae`
preset draws a visible earring when asked for one, and almost never when not."""

import pytest

from pallets_keras import metrics, zoo

N, SEED = 200, 0


@pytest.fixture(scope="module")
def conv_cvae():
    return zoo.load("conv_cvae", compile=False)


def test_asking_for_an_earring_draws_one(conv_cvae):
    rate = metrics.earring_hit_rate(conv_cvae.sample(N, labels={"earring": 1}, seed=SEED))
    assert rate >= 0.90, f"earring asked for: {rate:.1%} of {N} samples show one (need >= 90%)"


def test_not_asking_draws_almost_none(conv_cvae):
    rate = metrics.earring_hit_rate(conv_cvae.sample(N, labels={"earring": 0}, seed=SEED))
    assert rate <= 0.05, f"no earring asked for: {rate:.1%} of {N} samples show one " \
                         "(need <= 5%)"
