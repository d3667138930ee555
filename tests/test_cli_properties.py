"""Property tests of the `pallets` command line that load no model: every
whole-number option refuses bad values with exit status 2 and one line naming
it, --tile-size takes N and H,W only, --label lists parse as documented."""

import re
import types

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pallets_keras.cli import main, pallets
from pallets_keras.cli.common import TileSize, WholeNumber
from pallets_keras.cli.inputs import labels as parse_labels
from pallets_keras.errors import PalletsKeyError

pytestmark = pytest.mark.backend_independent
FAST = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def _commands(group=pallets, path=()):
    for name, cmd in sorted(group.commands.items()):
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, path + (name,))
        else:
            yield path + (name,), cmd


def _whole_number_options():
    """(command path, command, option) for every option of type WholeNumber."""
    found = []
    for path, cmd in _commands():
        for param in cmd.params:
            if isinstance(param, click.Option) and isinstance(param.type, WholeNumber):
                found.append((path, cmd, param))
    return found


OPTIONS = _whole_number_options()
IDS = [f"{' '.join(p)} {o.opts[-1]}" for p, _, o in OPTIONS]


def _argv(path, cmd, option, value):
    """The command with the bad value first, then the other required
    parameters filled with placeholders (never reached: parsing fails first)."""
    argv = [*path, f"{option.opts[-1]}={value}"]
    for param in cmd.params:
        if param is option or not param.required:
            continue
        if isinstance(param, click.Argument):
            argv += ["x"] * (param.nargs if param.nargs > 0 else 1)
        else:
            argv += [param.opts[-1], "x"]
    return argv


def _run(argv):
    """`pallets ARGV` in-process: (exit status, stdout, stderr)."""
    runner = CliRunner()
    with runner.isolation() as (out, err, _):
        try:
            status = main(argv)
        except SystemExit as e:
            status = e.code
    return status, out.getvalue().decode(), err.getvalue().decode()


def _not_an_int(text):
    try:
        int(text.strip())
    except ValueError:
        return True
    return False


def test_the_cli_has_whole_number_options():
    names = {o.opts[-1] for _, _, o in OPTIONS}
    assert {"--epochs", "--seed", "--batch-size"} <= names, names


@pytest.mark.parametrize("path, cmd, option", OPTIONS, ids=IDS)
@FAST
@given(value=st.one_of(st.text(max_size=12).filter(_not_an_int),
                       st.floats(allow_nan=True).map(repr).filter(_not_an_int),
                       st.sampled_from(["1.5", "1e3", "0x10", "ten", "", " ", "--", "½"])))
def test_a_non_integer_exits_2_naming_the_option(path, cmd, option, value):
    status, out, err = _run(_argv(path, cmd, option, value))
    assert status == 2, (status, err)
    assert out == "" and len(err.strip().splitlines()) == 1, err
    assert err.startswith("pallets: error: ") and option.opts[-1] in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize("path, cmd, option",
                         [o for o in OPTIONS if o[2].type.min is not None],
                         ids=[i for i, o in zip(IDS, OPTIONS) if o[2].type.min is not None])
@FAST
@given(data=st.data())
def test_below_the_minimum_exits_2_naming_the_option_and_the_rule(path, cmd, option, data):
    low = option.type.min
    value = data.draw(st.integers(max_value=low - 1).filter(lambda v: v > -10**30))
    status, _, err = _run(_argv(path, cmd, option, value))
    assert status == 2 and len(err.strip().splitlines()) == 1, err
    assert option.opts[-1] in err and f"got {value}" in err, err


@pytest.mark.parametrize("path, cmd, option",
                         [o for o in OPTIONS if o[2].type.max is not None],
                         ids=[i for i, o in zip(IDS, OPTIONS) if o[2].type.max is not None])
@FAST
@given(data=st.data())
def test_above_the_maximum_exits_2_naming_the_option(path, cmd, option, data):
    value = data.draw(st.integers(min_value=option.type.max + 1, max_value=10**40))
    status, _, err = _run(_argv(path, cmd, option, value))
    assert status == 2 and len(err.strip().splitlines()) == 1, err
    assert option.opts[-1] in err and str(option.type.max) in err.replace(",", ""), err


# ------------------------------------------------------------- --tile-size
SIZES = st.integers(min_value=1, max_value=4096)


@FAST
@given(n=SIZES, pad=st.sampled_from(["", " "]))
def test_tile_size_takes_n(n, pad):
    assert TileSize().convert(f"{pad}{n}{pad}", None, None) == n


@FAST
@given(h=SIZES, w=SIZES, sep=st.sampled_from([",", "x", ", "]))
def test_tile_size_takes_height_and_width(h, w, sep):
    assert TileSize().convert(f"{h}{sep}{w}", None, None) == (h, w)


BAD_TILE = st.one_of(
    st.integers(max_value=0).map(str),                                   # not > 0
    st.tuples(SIZES, st.integers(max_value=0)).map(lambda t: f"{t[0]},{t[1]}"),
    st.lists(SIZES, min_size=3, max_size=4).map(lambda v: ",".join(map(str, v))),
    st.text(max_size=8).filter(lambda s: not re.fullmatch(r"\s*\d+\s*([,x]\s*\d+\s*)?", s)),
)


@FAST
@given(text=BAD_TILE)
def test_tile_size_refuses_anything_else_with_exit_2(text):
    argv = ["train", "onehot_conv_ae", "--data", "x", f"--tile-size={text}", "-o", "x"]
    status, _, err = _run(argv)
    assert status == 2 and len(err.strip().splitlines()) == 1, (text, err)
    assert "--tile-size" in err and "Traceback" not in err, err


# ------------------------------------------------------------------ --label
NAMES = ["earring", "hoodie", "smile", "beanie", "3d_glasses"]
MODEL = types.SimpleNamespace(conditioning="conditional", label_names=NAMES,
                              variant="conv_cvae")


def _parsed_labels(flags):
    """--label/--no-label as click collects them for `pallets generate`."""
    from pallets_keras.cli.generate import generate

    ctx = generate.make_context("generate", ["conv_cvae", *flags, "-o", "x.png"])
    return ctx.params["labels_on"], ctx.params["labels_off"]


@FAST
@given(chosen=st.lists(st.sampled_from(NAMES), min_size=1, max_size=5),
       groups=st.integers(min_value=1, max_value=3), space=st.sampled_from(["", " "]))
def test_label_lists_parse_from_repeated_flags_and_comma_lists(chosen, groups, space):
    # The same names as several --label flags, each a comma list (spaces allowed).
    flags = []
    for i in range(groups):
        part = chosen[i::groups]
        if part:
            flags += ["--label", f",{space}".join(part)]
    on, off = _parsed_labels(flags)
    assert off == ()
    got = parse_labels(MODEL, on, off, "conv_cvae", steer=True)
    assert got == {name: 1 for name in chosen}


@FAST
@given(name=st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=10)
       .filter(lambda s: s not in NAMES))
def test_an_unknown_label_is_named(name):
    on, off = _parsed_labels(["--label", f"earring,{name}"])
    with pytest.raises(PalletsKeyError, match=f"unknown label '{name}'"):
        parse_labels(MODEL, on, off, "conv_cvae", steer=True)
