"""`format_table`: the one plain-text table printer of the package (CLI
output, tuning results, scripts), built on rich's `Table`."""

import io

from rich import box
from rich.console import Console
from rich.table import Table

# Columns separated by spaces and a dashed rule under the header, in ASCII:
# output that a terminal, a log file and a `split()` all read the same way.
_PLAIN = box.Box("    \n    \n -  \n    \n    \n    \n    \n    \n", ascii=True)


def format_table(rows, header=None, indent=""):
    """Rows of cells as aligned plain text.

    Args:
        rows: iterable of rows; each row an iterable of cells (any object,
            shown with `str`). Rows may be shorter than the longest one.
        header: optional column names, ruled off with dashes.
        indent: str put before every line.

    Returns:
        str: the table, one line per row (plus two for a header), no trailing
        spaces and no final newline; "" for no rows and no header.

    Example:
    >>> print(format_table([["onehot_vae", 98.31], ["cvae", 97.99]], ["preset", "acc"]))
    preset      acc
    ----------- -----
    onehot_vae  98.31
    cvae        97.99
    """
    rows = [[str(c) for c in row] for row in rows]
    if not rows and not header:
        return ""
    width = max([len(header or ())] + [len(r) for r in rows])
    table = Table(box=_PLAIN, show_edge=False, pad_edge=False, header_style=None,
                  show_header=bool(header), padding=(0, 1, 0, 0), collapse_padding=True)
    names = list(header or ()) + [""] * (width - len(header or ()))
    for name in names:
        table.add_column(name, no_wrap=True, overflow="ignore")
    for row in rows:
        table.add_row(*(row + [""] * (width - len(row))))
    buffer = io.StringIO()
    Console(file=buffer, width=1_000_000, color_system=None, force_terminal=False,
            highlight=False, emoji=False, markup=False).print(table)
    return "\n".join(indent + line.rstrip() for line in buffer.getvalue().splitlines())
