"""TensorFlow's native log lines, kept off the user's stderr.

TensorFlow's C++ runtime prints lines such as "Could not find cuda drivers on
your machine" and an absl banner when it is imported, whatever
`TF_CPP_MIN_LOG_LEVEL` says (absl writes everything logged before its
`InitializeLog()` to file descriptor 2, below Python). Keras imports
TensorFlow lazily on every backend when it is installed (serialization checks
for `tf.TensorShape`), so a JAX or PyTorch user saving a preset would see
them. `filtered_stderr` drops exactly those lines while a block runs;
`import_tensorflow_quietly` imports TensorFlow under it once.
"""

import contextlib
import importlib.util
import os
import re
import sys
import threading

# glog-style "I0000 00:00:... file.cc:31] ..." records, the absl banner and
# the CPU-feature notice: nothing else is dropped.
NATIVE_NOISE = re.compile(
    rb"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w./+-]+:\d+\] "
    rb"|To enable the following instructions: .*rebuild TensorFlow)")


@contextlib.contextmanager
def filtered_stderr():
    """Drops `NATIVE_NOISE` lines written to file descriptor 2 while the block
    runs; every other line passes through at once, in order.

    Yields:
        int or None: a descriptor of the real stderr (what Python code that
        must bypass the filter can write to), or None when stderr has no
        descriptor (e.g. captured by a test runner): then nothing is filtered.

    Example:
    >>> with filtered_stderr():
    ...     pass
    """
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        fd = None
    if fd is None:
        yield None
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    read_end, write_end = os.pipe()
    os.dup2(write_end, fd)
    os.close(write_end)

    def pump():
        with os.fdopen(read_end, "rb") as src:
            for line in src:
                if NATIVE_NOISE.match(line):
                    continue
                view = memoryview(line)
                while view:
                    try:
                        view = view[os.write(saved, view):]
                    except OSError:
                        break

    thread = threading.Thread(target=pump, name="pallets-stderr", daemon=True)
    thread.start()
    try:
        yield saved
    finally:
        sys.stderr.flush()
        os.dup2(saved, fd)  # the pipe's last write end closes: the pump sees EOF
        thread.join(timeout=1)
        os.close(saved)


def import_tensorflow_quietly():
    """Imports TensorFlow, if installed and not imported yet, with its native
    log lines dropped (`filtered_stderr`). Called before Keras would import
    it lazily on a backend that is not TensorFlow (e.g. by `save_preset`)."""
    if "tensorflow" in sys.modules or importlib.util.find_spec("tensorflow") is None:
        return
    with filtered_stderr():
        import tensorflow  # noqa: F401
