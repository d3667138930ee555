"""Atomic writes, atomic folder exchange, writability checks, hashes and the
user cache directory."""

import contextlib
import ctypes
import errno
import hashlib
import os
import platform
import sys
import tempfile
from pathlib import Path

from pallets_keras.errors import PalletsFileError

# <linux/fs.h>: renameat2 flag that swaps two existing paths in one step.
_RENAME_EXCHANGE = 2
# <fcntl.h>: the current directory, for the *at() system calls.
_AT_FDCWD = -100
# renameat2's system call number, for C libraries older than glibc 2.28 that
# lack the wrapper.
_SYS_RENAMEAT2 = {"x86_64": 316, "aarch64": 276, "ppc64le": 357, "s390x": 347}
# <stdio.h> on macOS: renamex_np flag that swaps two existing paths.
_RENAME_SWAP = 2
# errno values that mean "this system or file system cannot exchange
# atomically": the caller falls back to renames.
_NO_EXCHANGE = {errno.ENOSYS, errno.EINVAL, getattr(errno, "ENOTSUP", -1),
                getattr(errno, "EOPNOTSUPP", -1)}


def home_dir():
    """Where pallets_keras keeps caches: `$PALLETS_KERAS_HOME`, else
    `$XDG_CACHE_HOME/pallets_keras`, else `~/.cache/pallets_keras`."""
    env = os.environ.get("PALLETS_KERAS_HOME")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "pallets_keras"


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path`; renames it over `path` on success.

    A crash or an exception leaves `path` as it was: never half-written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    # mkstemp makes 0600 files; give the result the permissions open() would.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    # Keep the real suffix last: some writers (np.savez, h5) key on it.
    tmp_path = Path(tmp + "".join(path.suffixes))
    os.replace(tmp, tmp_path)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_write_bytes(path, data):
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


def atomic_write_text(path, text):
    atomic_write_bytes(path, text.encode("utf-8"))


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _libc():
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def exchange_paths(a, b):
    """Swaps two existing paths (folders or files) in one atomic step.

    At every instant each path holds either its old or its new content, even
    if the process is killed: Linux `renameat2(RENAME_EXCHANGE)`, macOS
    `renamex_np(RENAME_SWAP)`, both through ctypes.

    Args:
        a: path that exists.
        b: path that exists, on the same file system as `a`.

    Returns:
        True when the paths were swapped; False when this system or file system
        offers no atomic exchange (nothing was changed: the caller falls back
        to renames).

    Raises:
        OSError: the exchange was possible but failed (e.g. permissions).

    Example:
    >>> if not exchange_paths("new_folder", "folder"):
    ...     pass  # fall back to two renames
    """
    a, b = os.fsencode(os.fspath(a)), os.fsencode(os.fspath(b))
    libc = _libc()
    if libc is None:
        return False
    if sys.platform.startswith("linux"):
        fn = getattr(libc, "renameat2", None)
        if fn is not None:
            fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                           ctypes.c_uint]
            rc = fn(_AT_FDCWD, a, _AT_FDCWD, b, _RENAME_EXCHANGE)
        else:
            number = _SYS_RENAMEAT2.get(platform.machine())
            if number is None:
                return False
            rc = libc.syscall(ctypes.c_long(number), ctypes.c_int(_AT_FDCWD), a,
                              ctypes.c_int(_AT_FDCWD), b, ctypes.c_uint(_RENAME_EXCHANGE))
    elif sys.platform == "darwin":
        fn = getattr(libc, "renamex_np", None)
        if fn is None:
            return False
        fn.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint]
        rc = fn(a, b, _RENAME_SWAP)
    else:
        return False
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in _NO_EXCHANGE:
        return False
    raise OSError(err, os.strerror(err), os.fsdecode(a), None, os.fsdecode(b))


def fsync_tree(folder):
    """Flushes every file of a folder (not recursive) and the folder itself to
    disk, so that a rename that publishes it never exposes empty files after a
    power cut."""
    folder = Path(folder)
    for entry in folder.iterdir():
        if entry.is_file() and not entry.is_symlink():
            with open(entry, "rb") as f:
                os.fsync(f.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder):
    # Windows cannot open a folder for fsync; its renames are journaled anyway.
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def check_writable(path, what="output", want_dir=False):
    """Checks, before any work, that `path` can be written.

    The nearest existing folder on the way to `path` must be a folder in which
    a file can be created (tried for real: permissions, read-only file systems
    and pseudo file systems like /proc all refuse it here, not after an hour of
    training).

    Args:
        path: the file or folder a command will write.
        what: str, how the error names it (e.g. "-o", "path").
        want_dir: bool, `path` itself must be a folder (or not exist yet).

    Returns:
        The path, as a `Path` with `~` expanded.

    Raises:
        PalletsFileError: `path` cannot be written, with the reason.

    Example:
    >>> out = check_writable("out/grid.png", what="-o")
    """
    path = Path(os.fspath(path)).expanduser()
    if want_dir and path.exists() and not path.is_dir():
        raise PalletsFileError(f"{what} {path}: is a file, and a folder is needed here; "
                               "choose another path.")
    probe = path if want_dir and path.is_dir() else path.parent
    while not probe.exists():
        if probe.is_symlink():  # a link to nowhere
            raise PalletsFileError(f"{what} {path}: {probe} is a broken link; fix it or "
                                   "choose another path.")
        probe = probe.parent
    if not probe.is_dir():
        raise PalletsFileError(f"{what} {path}: {probe} is a file, not a folder, so nothing "
                               "can be written beneath it; choose another path.")
    try:
        fd, name = tempfile.mkstemp(dir=probe, prefix=".pallets-write-check-")
    except OSError as e:
        raise PalletsFileError(
            f"{what} {path}: cannot write into {probe} ({e.strerror or e}); choose a "
            "writable place.") from None
    os.close(fd)
    os.unlink(name)
    return path
