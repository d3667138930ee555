"""The project's own error types.

Everything a user can get wrong (an argument, a file, a preset) raises a
`PalletsError` naming the problem and the fix. The `pallets` command prints
such an error as one line and exits with status 2; any other exception is a
bug of the library and keeps its traceback.

Each subclass also derives from the built-in error a caller would have caught
before it existed (`ValueError`, `TypeError`, ...), so `except ValueError`
keeps working.
"""


class PalletsError(Exception):
    """Bad input from the user: says what is wrong and how to fix it."""


class PalletsValueError(PalletsError, ValueError):
    """An argument has the right type but a value out of range or malformed."""


class PalletsTypeError(PalletsError, TypeError):
    """An argument has a type this function does not take."""


class PalletsKeyError(PalletsError, KeyError):
    """A name (label, preset, option) that does not exist."""

    def __str__(self):
        # KeyError's str() is the repr of its argument; a message reads better.
        return str(self.args[0]) if self.args else ""


class PalletsFileError(PalletsError, OSError):
    """A path that cannot be read or written as asked (missing, not writable,
    holding something that would be lost)."""


class PalletsFileNotFoundError(PalletsFileError, FileNotFoundError):
    """A file or folder the user named does not exist."""
