"""The process around a command: the Keras backend, clean stderr, notes.

Keras reads its backend once, when it is first imported, so nothing here (nor
in any module of `pallets_keras.cli`) imports Keras at import time: a command
sets `KERAS_BACKEND` first, then imports what it needs.
"""

import contextlib
import os
import re
import sys
import threading

import click

from pallets_keras.errors import PalletsValueError

BACKENDS = ("tensorflow", "jax", "torch")

# Lines the backends' C++ runtimes print however TF_CPP_MIN_LOG_LEVEL is set
# (absl writes everything before its InitializeLog() to stderr): glog-style
# "I0000 00:00:... file.cc:31] ..." records and the absl banner.
_NATIVE_NOISE = re.compile(
    rb"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w./+-]+:\d+\] "
    rb"|To enable the following instructions: .*rebuild TensorFlow)")

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
    block runs (they bypass Python, and TF prints some whatever
    TF_CPP_MIN_LOG_LEVEL says); every other line passes through at once."""
    global _stream
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # e.g. a captured stderr
        fd = None
    if not enabled or fd is None:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    read_end, write_end = os.pipe()
    os.dup2(write_end, fd)
    os.close(write_end)

    def pump():
        with os.fdopen(read_end, "rb") as src:
            for line in src:
                if _NATIVE_NOISE.match(line):
                    continue
                view = memoryview(line)
                while view:
                    try:
                        view = view[os.write(saved, view):]
                    except OSError:
                        break

    thread = threading.Thread(target=pump, name="pallets-stderr", daemon=True)
    thread.start()
    _stream = os.fdopen(os.dup(saved), "w", buffering=1, encoding=sys.stderr.encoding,
                        errors="backslashreplace")
    try:
        yield
    finally:
        _stream.close()
        _stream = None
        sys.stderr.flush()
        os.dup2(saved, fd)  # the pipe's last write end closes: the pump sees EOF
        thread.join(timeout=5)
        os.close(saved)
