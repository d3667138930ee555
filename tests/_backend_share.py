"""Dealing costly re-measurements out among the three backends of `make test`."""

import os

BACKENDS = ("tensorflow", "jax", "torch")


def backend_share(names, every=()):
    """The part of `names` this backend's run measures: `every` on each
    backend, the rest dealt out among the three backends in turn, so that one
    `make test` measures each name once and each backend about a third of
    them. For costly re-measurements of shipped figures, whose independence
    from the backend other tests prove (tests/test_cross_backend.py: the same
    weights give the same logits on every backend).

    Args:
        names: iterable of str.
        every: names measured on every backend.

    Returns:
        A list of str: `every` (those in `names`), then this backend's share;
        all of `names` in a run that named no backend (a plain `pytest`).
    """
    names = sorted(names)
    if runs_everything():
        return names
    shared = [n for n in names if n not in every]
    return [n for n in every if n in names] + shared[BACKENDS.index(_backend())::len(BACKENDS)]


def one_per_backend(choice):
    """This backend's pick from `choice`, a dict {backend: value}, as a list
    to parametrize over; every distinct value in a plain `pytest`.

    Args:
        choice: dict with a value for each of `BACKENDS`.

    Returns:
        A list of values.
    """
    if runs_everything():
        return sorted(set(choice.values()))
    return [choice[_backend()]]


def runs_everything():
    """True in a run that named no backend (a plain `pytest`; tests/conftest.py
    sets PALLETS_KERAS_TEST_EVERYTHING)."""
    return os.environ.get("PALLETS_KERAS_TEST_EVERYTHING") == "1"


def _backend():
    return os.environ.get("KERAS_BACKEND", "tensorflow")
