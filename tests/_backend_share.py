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
    if os.environ.get("PALLETS_KERAS_TEST_EVERYTHING") == "1":  # a plain `pytest`
        return names
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    shared = [n for n in names if n not in every]
    return [n for n in every if n in names] + shared[BACKENDS.index(backend)::len(BACKENDS)]
