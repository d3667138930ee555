"""`pallets zoo list` and `pallets zoo info`."""

import json
import shutil
import textwrap

import click

from pallets_keras.cli import inputs
from pallets_keras.cli.common import NAME, command, epilog, global_options
from pallets_keras.cli.env import note
from pallets_keras.cli.inputs import plural
from pallets_keras.cli.tables import duration, fmt, table, target_rows
from pallets_keras.errors import PalletsError


@click.group("zoo", short_help="list the pretrained presets, or show one's metadata",
             help="The model zoo: pretrained presets that ship with pallets_keras.",
             epilog=epilog(["pallets zoo list", "pallets zoo list '*vae*'",
                            "pallets zoo info onehot_vae"]))
@global_options
def zoo():
    pass


@command(zoo, "list", short_help="list presets (optionally matching a glob pattern)",
         help="Lists the zoo presets with their variant, size, palette and size in "
              "parameters.",
         examples=["pallets zoo list", "pallets zoo list '*cvae*'",
                   "pallets zoo list --names"])
@click.argument("pattern", default="*")
@click.option("--names", is_flag=True, help="print the names only, one a line")
def zoo_list(pattern, names):
    """PATTERN: a glob over preset names (quote it), default '*'."""
    from pallets_keras import zoo as registry

    found = registry.list_models(pattern)
    if not found:
        everything = registry.list_models()
        if not everything:
            note("The zoo of this install has no presets yet.")
        else:
            note(f"No preset matches {pattern!r}; the zoo has: {', '.join(everything)}")
        return 0
    if names:
        click.echo("\n".join(found))
        return 0
    rows = []
    for name in found:
        try:
            meta = registry.info(name)
        except PalletsError as e:  # a damaged preset: listed, and said so
            rows.append([name, "?", "", "", "", "", f"(unreadable: {e})"])
            continue
        h, w = meta.get("image_size", ["?", "?"])
        rows.append([name, meta.get("variant", "?"), f"{h}x{w}",
                     meta.get("palette_size", "?"), len(meta.get("label_names") or []) or "-",
                     fmt(meta.get("parameter_count", "?")), meta.get("description", "")])
    header = ["NAME", "VARIANT", "SIZE", "COLOURS", "LABELS", "PARAMS", "DESCRIPTION"]
    width = shutil.get_terminal_size((100, 24)).columns
    used = sum(max(len(str(r[i])) for r in rows + [header]) + 2 for i in range(6))
    room = max(20, width - used)
    for r in rows:
        if len(r[6]) > room:
            r[6] = r[6][:room - 3] + "..."
    click.echo(table(rows, header))
    return 0


AXES = ("representation", "body", "latent", "conditioning")


def _axes(meta):
    """The variant's four axes {axis: value}: from the variant registry for a
    registered variant, else as the metadata stores them ("?" if absent)."""
    from pallets_keras.models import variants

    try:
        return dict(zip(AXES, variants.axes(meta.get("variant"))[:4]))
    except PalletsError:
        return {axis: meta.get(axis, "?") for axis in AXES}


def _sizes(meta, axes):
    """(option, value) of the build options that size the preset's layers, as
    its body and latent classes declare them (`sizes`); every int or list
    option when the body or latent is not a registered one."""
    from pallets_keras.models import registry

    opts = meta.get("build_options") or {}
    try:
        names = ("embedding_dim", *registry.get_body(axes["body"]).sizes,
                 *registry.get_latent(axes["latent"]).sizes)
    except PalletsError:
        return [(k, v) for k, v in sorted(opts.items())
                if isinstance(v, (int, list)) and not isinstance(v, bool) and k != "seed"]
    return [(k, opts[k]) for k in names if k in opts]


def _training(training):
    parts = []
    if "seconds" in training:
        parts.append(duration(training["seconds"]))
    if "epochs_run" in training:
        parts.append(plural(training["epochs_run"], "epoch"))
    if "backend" in training:
        parts.append(f"on {training['backend']}")
    if "final_loss" in training:
        parts.append(f"final loss {fmt(training['final_loss'])}")
    return ", ".join(parts)


@command(zoo, "info", short_help="a preset's metadata as a table",
         help="Shows a preset's variant, sizes, parameters, metrics against its targets, "
              "and training time. NAME: a zoo preset name or a preset folder.",
         examples=["pallets zoo info onehot_vae", "pallets zoo info ./my_preset",
                   "pallets zoo info cvae --json"])
@NAME
@click.option("--json", "as_json", is_flag=True, help="print the raw metadata as JSON")
def zoo_info(name, as_json):
    from pallets_keras import zoo as registry

    meta = registry.info(inputs.resolve_preset(name))
    if as_json:
        click.echo(json.dumps(meta, indent=1))
        return 0
    h, w = meta.get("image_size", ["?", "?"])
    labels = meta.get("label_names") or []
    axes = _axes(meta)
    sizes = ", ".join(f"{k}={v}" for k, v in _sizes(meta, axes))
    rows = [["name", meta.get("name", name)],
            ["description", meta.get("description") or "-"],
            ["variant", f"{meta.get('variant', '?')} ("
                        + ", ".join(f"{k} {v}" for k, v in axes.items()) + ")"],
            ["image size", f"{h}x{w}"],
            ["palette", f"{meta.get('palette_size', '?')} colours"],
            ["labels", f"{len(labels)}" if labels else "none"],
            ["parameters", fmt(meta.get("parameter_count", "?"))],
            ["sizes", sizes or "-"],
            ["versions", f"keras {meta.get('keras_version', '?')}, pallets_keras "
                         f"{meta.get('pallets_keras_version', '?')}, format "
                         f"{meta.get('format_version', '?')}"]]
    if meta.get("data"):
        rows.append(["data", ", ".join(f"{k}: {v}" for k, v in meta["data"].items())])
    if meta.get("training"):
        rows.append(["training", _training(meta["training"])])
    click.echo(table(rows))
    metrics, targets = meta.get("metrics") or {}, meta.get("targets") or {}
    click.echo()
    if metrics or targets:
        click.echo("metrics vs targets:")
        click.echo(table(target_rows(metrics, targets), ["metric", "value", "target", "check"],
                         indent="  "))
    else:
        click.echo("metrics: none recorded (score it with `pallets eval`)")
    if labels:
        width = shutil.get_terminal_size((100, 24)).columns
        click.echo(f"\nlabels ({len(labels)}):")
        click.echo(textwrap.fill(", ".join(labels), width=max(40, width - 2),
                                 initial_indent="  ", subsequent_indent="  "))
    return 0
