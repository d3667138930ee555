"""The process around a command: the Keras backend, clean stderr, notes.

Keras reads its backend once, when it is first imported, so nothing here (nor
in any module of `pallets_keras.cli`) imports Keras at import time: a command
sets `KERAS_BACKEND` first, then imports what it needs.
"""

import contextlib
import os
import sys

import click

from pallets_keras.errors import PalletsValueError

BACKENDS = ("tensorflow", "jax", "torch")

# While a command runs with the native filter on, Python's own messages
# (notes, progress bars) go straight to the real stderr through this stream,
# so that they keep their order and a terminal stays a terminal for them.
_stream = None


def set_backend(backend):
    """Sets KERAS_BACKEND (before Keras is imported) and quiets TF's C++ logs.

    Raises PalletsValueError when Keras is already loaded on another backend in
    this process (Keras cannot switch: run `pallets` as a command)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if backend is None:
        check_backend_variable()
        return
    keras = sys.modules.get("keras")
    if keras is not None:
        current = keras.backend.backend()
        if current != backend:
            raise PalletsValueError(
                f"--backend {backend}: Keras is already loaded on {current} in this "
                "process; set KERAS_BACKEND before importing keras, or run `pallets` "
                "as a command")
    os.environ["KERAS_BACKEND"] = backend


def check_backend_variable():
    """Refuses a KERAS_BACKEND that is set to none of BACKENDS, before Keras
    is imported (it would fail deep inside its import), naming the values."""
    value = os.environ.get("KERAS_BACKEND")
    if value and value not in BACKENDS and "keras" not in sys.modules:
        raise PalletsValueError(
            f"KERAS_BACKEND={value!r} is not a backend pallets runs on: set KERAS_BACKEND "
            f"to {', '.join(BACKENDS[:-1])} or {BACKENDS[-1]} (or unset it), or pass "
            "--backend")


def backend():
    """The backend Keras runs on (imports Keras)."""
    import keras

    return keras.backend.backend()


def stream():
    """Where notes and progress go: stderr (the real one while filtered)."""
    return _stream or sys.stderr


def note(message):
    """An informational line on stderr (stdout carries results only)."""
    click.echo(message, file=stream())


def progress_verbose():
    """Keras' verbose for the progress stream: 1 (a live bar) on a terminal,
    2 (one line per epoch, no ANSI redraws) otherwise."""
    try:
        return 1 if stream().isatty() else 2
    except (AttributeError, ValueError):
        return 2


@contextlib.contextmanager
def progress_to_stderr():
    """Sends what libraries print on stdout (Keras' and KerasTuner's progress)
    to stderr while the block runs, so stdout keeps only the results."""
    with contextlib.redirect_stdout(stream()):
        yield


@contextlib.contextmanager
def filtered_native_stderr(enabled=True):
    """Drops the backends' native log lines from file descriptor 2 while the
    block runs (`pallets_keras.native_logs.filtered_stderr`); notes and
    progress bars written through `stream()` go to the real stderr."""
    global _stream
    if not enabled:
        yield
        return
    from pallets_keras.native_logs import filtered_stderr

    with filtered_stderr() as real:
        if real is None:
            yield
            return
        _stream = os.fdopen(os.dup(real), "w", buffering=1, encoding=sys.stderr.encoding,
                            errors="backslashreplace")
        try:
            yield
        finally:
            _stream.close()
            _stream = None
