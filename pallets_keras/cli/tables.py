"""Plain-text tables and figures for the commands' stdout."""

from pallets_keras.cli.inputs import plural  # noqa: F401  (one helper, shared)
from pallets_keras.tables import format_table


def fmt(value):
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:
            return "nan"
        return f"{value:.4f}" if abs(value) < 100 else f"{value:,.1f}"
    return str(value)


def duration(seconds):
    s = int(round(float(seconds)))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h {m:02d}m {s:02d}s" if h else f"{m}m {s:02d}s" if m else f"{s}s"


table = format_table  # the package's one table printer (pallets_keras.tables)


def target_rows(metrics, targets, recorded=None):
    """Rows (metric, value, [recorded,] target, verdict) for a metrics table.

    A target "x" asks for metric x >= value, "x_max" for x <= value, "x_min"
    for x >= value."""
    checks = {}
    for key, want in (targets or {}).items():
        if key.endswith("_max"):
            checks[key[:-4]] = ("<=", want)
        elif key.endswith("_min"):
            checks[key[:-4]] = (">=", want)
        else:
            checks[key] = (">=", want)
    rows = []
    for key in list(metrics) + [k for k in checks if k not in metrics]:
        value = metrics.get(key)
        target, verdict = "", ""
        if key in checks:
            op, want = checks[key]
            target = f"{op} {fmt(want)}"
            if value is None:
                verdict = "not measured"
            else:
                ok = value <= want if op == "<=" else value >= want
                verdict = "ok" if ok else "MISSED"
        row = [key, "-" if value is None else fmt(value)]
        if recorded is not None:
            rec = recorded.get(key)
            row.append("" if rec is None else fmt(rec))
        rows.append(row + [target, verdict])
    return rows
