"""save_preset loses nothing: refusals, atomic replacement, interruptions at
every step, and the clean-up of saves that were killed (issue 15)."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import warnings
from pathlib import Path

import pytest

import pallets_keras as pk
from pallets_keras import io_utils, zoo
from pallets_keras.errors import PalletsError, PalletsFileError, PalletsTypeError
from pallets_keras.models import PaletteAutoencoder
from pallets_keras.zoo import PresetRecoveryWarning, registry

# No process has this id (Linux's pid_max is at most 2**22): it stands for a
# process that was killed in the middle of a save.
DEAD_PID = 2**22 + 1


@pytest.fixture(scope="module")
def model(tiny_dataset):
    return pk.models.build("onehot_conv_vae", palette=tiny_dataset.palette, image_size=(8, 8),
                           filters=(8,), latent_dim=4, seed=0)


def _description(path):
    """The description of the preset at `path`, loaded in full (hashes checked)."""
    return zoo.load(path, compile=False).preset_metadata["description"]


def _hidden(parent):
    return sorted(p.name for p in Path(parent).iterdir() if p.name.startswith("."))


@pytest.fixture
def old_preset(model, tmp_path):
    path = zoo.save_preset(model, tmp_path / "tiny", metadata={"description": "old"})
    assert _description(path) == "old"
    return path


# -------------------------------------------------------------- refusals
def test_non_preset_folder_is_refused_and_kept(model, tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (notes / name).write_text(name)
    with pytest.raises(PalletsFileError, match=r"not a preset \(a.txt, b.txt, c.txt\)"):
        zoo.save_preset(model, notes)
    assert sorted(p.name for p in notes.iterdir()) == ["a.txt", "b.txt", "c.txt"]
    assert (notes / "b.txt").read_text() == "b.txt"
    assert _hidden(tmp_path) == []


def test_non_preset_folder_is_replaced_with_overwrite(model, tmp_path):
    notes = tmp_path / "notes"
    (notes / "sub").mkdir(parents=True)
    (notes / "a.txt").write_text("a")
    zoo.save_preset(model, notes, metadata={"description": "new"}, overwrite=True)
    assert _description(notes) == "new"
    assert not (notes / "a.txt").exists() and _hidden(tmp_path) == []


def test_regular_file_is_refused_and_kept(model, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("precious")
    with pytest.raises(PalletsFileError, match=r"afile is a file \(8 bytes\), not a preset"):
        zoo.save_preset(model, afile)
    assert afile.read_text() == "precious"
    assert _hidden(tmp_path) == []


def test_regular_file_is_replaced_with_overwrite(model, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("precious")
    zoo.save_preset(model, afile, metadata={"description": "new"}, overwrite=True)
    assert _description(afile) == "new" and _hidden(tmp_path) == []


def test_preset_with_foreign_files_is_refused(old_preset):
    (old_preset / "notes.md").write_text("mine")
    with pytest.raises(PalletsFileError, match=r"preset folder that also holds other things "
                                               r"\(notes.md\)"):
        zoo.save_preset(zoo.load(old_preset), old_preset)
    assert (old_preset / "notes.md").read_text() == "mine"


def test_error_is_a_pallets_error_and_an_os_error(model, tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(OSError) as info:
        zoo.save_preset(model, tmp_path / "afile")
    assert isinstance(info.value, PalletsError)


def test_empty_folder_and_existing_preset_are_replaced(model, old_preset, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    zoo.save_preset(model, empty, metadata={"description": "into empty"})
    assert _description(empty) == "into empty"
    zoo.save_preset(model, old_preset, metadata={"description": "new"})
    assert _description(old_preset) == "new"
    assert sorted(p.name for p in old_preset.iterdir()) == ["config.json", "metadata.json",
                                                            "model.weights.h5"]
    assert _hidden(tmp_path) == []


def test_unwritable_place_is_refused_before_any_work(model, tmp_path, monkeypatch):
    (tmp_path / "afile").write_text("x")
    calls = []
    monkeypatch.setattr(PaletteAutoencoder, "save_weights",
                        lambda *a, **k: calls.append(a))
    with pytest.raises(PalletsFileError, match="afile is a file, not a folder"):
        zoo.save_preset(model, tmp_path / "afile" / "inside")
    if sys.platform.startswith("linux"):
        with pytest.raises(PalletsFileError, match="cannot write into /proc"):
            zoo.save_preset(model, "/proc/pallets_preset")
    assert calls == []


@pytest.mark.parametrize("kwargs, name", [
    (dict(model="not a model", path="p"), "model"),
    (dict(path=3), "path"),
    (dict(path=""), "path"),
    (dict(path="p", overwrite="yes"), "overwrite"),
])
def test_bad_arguments_name_themselves(model, tmp_path, monkeypatch, kwargs, name):
    monkeypatch.chdir(tmp_path)
    kwargs = {"model": model, **kwargs}
    with pytest.raises(PalletsTypeError, match=f"save_preset: {name} must be"):
        zoo.save_preset(**kwargs)
    assert list(tmp_path.iterdir()) == []


def test_a_link_to_a_preset_stays_a_link(model, old_preset, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(old_preset, target_is_directory=True)
    zoo.save_preset(model, link, metadata={"description": "new"})
    assert link.is_symlink() and _description(old_preset) == "new"


def test_every_file_is_hashed_and_checked(model, tmp_path, monkeypatch):
    """A preset may carry more files than config and weights (e.g. fitted
    priors): each file in the folder is recorded and checked at load."""
    real = PaletteAutoencoder.save_weights

    def save_weights_and_extra(self, filepath, *args, **kwargs):
        real(self, filepath, *args, **kwargs)
        (Path(filepath).parent / "extra.npz").write_bytes(b"extra bytes")

    monkeypatch.setattr(PaletteAutoencoder, "save_weights", save_weights_and_extra)
    path = zoo.save_preset(model, tmp_path / "tiny")
    path = zoo.save_preset(model, path)  # a preset with extra files is still a preset
    monkeypatch.undo()
    assert "extra.npz" in zoo.info(path)["files"]
    zoo.load(path, compile=False)
    (path / "extra.npz").write_bytes(b"changed")
    with pytest.raises(zoo.PresetError, match="extra.npz does not match"):
        zoo.load(path)
    (path / "extra.npz").unlink()
    with pytest.raises(zoo.PresetError, match="missing extra.npz"):
        zoo.load(path)


def test_metadata_cannot_point_outside_the_folder(old_preset):
    meta = json.loads((old_preset / "metadata.json").read_text())
    meta["files"]["../outside"] = "0" * 64
    (old_preset / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(zoo.PresetError, match="not a file name inside the preset folder"):
        zoo.load(old_preset)


# --------------------------------------------------- interruptions in-process
def _interrupt(monkeypatch, owner, attr, index, when):
    """Makes call number `index` of owner.attr raise KeyboardInterrupt, before
    or after doing its work."""
    real = getattr(owner, attr)
    calls = []

    def wrapper(*args, **kwargs):
        calls.append(1)
        if len(calls) - 1 == index and when == "before":
            raise KeyboardInterrupt
        result = real(*args, **kwargs)
        if len(calls) - 1 == index and when == "after":
            raise KeyboardInterrupt
        return result

    monkeypatch.setattr(owner, attr, wrapper)
    return calls


# (step, owner, attribute, call index, the preset once the call completed).
# Until the exchange has happened the old preset is in place; from then on the new one.
STEPS = [
    ("make the temporary folder", tempfile, "mkdtemp", 0, "old"),
    ("set its permissions", os, "chmod", 0, "old"),
    ("write config.json", Path, "write_text", 0, "old"),
    ("write the weights", PaletteAutoencoder, "save_weights", 0, "old"),
    ("hash the files", io_utils, "sha256_file", 0, "old"),
    ("write metadata.json", Path, "write_text", 1, "old"),
    ("flush to disk", io_utils, "fsync_tree", 0, "old"),
    ("exchange the folders", io_utils, "exchange_paths", 0, "new"),
    ("remove the old preset", registry, "_remove", 0, "new"),
]


def _check_after_interrupt(path, want):
    with warnings.catch_warnings():
        warnings.simplefilter("error", PresetRecoveryWarning)
        assert _description(path) == want
    assert _hidden(path.parent) == [], "an interrupted save left hidden folders behind"


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("step, owner, attr, index, done", STEPS, ids=[s[0] for s in STEPS])
def test_interrupted_save_keeps_a_whole_preset(model, old_preset, monkeypatch, step, owner,
                                               attr, index, done, when):
    if not sys.platform.startswith(("linux", "darwin")) and attr == "exchange_paths":
        pytest.skip("no atomic exchange on this system")
    calls = _interrupt(monkeypatch, owner, attr, index, when)
    with pytest.raises(KeyboardInterrupt):
        zoo.save_preset(model, old_preset, metadata={"description": "new"})
    assert len(calls) > index, f"save_preset no longer does step {step!r}"
    monkeypatch.undo()
    # Cut before the exchange ran, the old preset is still in place.
    before_exchange = attr == "exchange_paths" and when == "before"
    want = "old" if done == "old" or before_exchange else "new"
    _check_after_interrupt(old_preset, want)
    zoo.save_preset(model, old_preset, metadata={"description": "again"})
    assert _description(old_preset) == "again"


@pytest.mark.parametrize("index, when, want", [
    (0, "before", "old"),   # nothing renamed yet
    (0, "after", "old"),    # the old preset hidden, the new not yet in place: undone
    (1, "before", "old"),
    (1, "after", "new"),    # the new preset in place
])
def test_interrupted_save_without_atomic_exchange(model, old_preset, monkeypatch, index,
                                                  when, want):
    """Where the system has no atomic exchange, two renames; an interruption
    between them is undone at once."""
    monkeypatch.setattr(io_utils, "exchange_paths", lambda a, b: False)
    _interrupt(monkeypatch, os, "rename", index, when)
    with pytest.raises(KeyboardInterrupt):
        zoo.save_preset(model, old_preset, metadata={"description": "new"})
    monkeypatch.undo()
    _check_after_interrupt(old_preset, want)


def test_save_without_atomic_exchange(model, old_preset, monkeypatch):
    monkeypatch.setattr(io_utils, "exchange_paths", lambda a, b: False)
    zoo.save_preset(model, old_preset, metadata={"description": "new"})
    assert _description(old_preset) == "new" and _hidden(old_preset.parent) == []


# ------------------------------------------------- saves killed mid-way
def _leftover(path, kind, pid=DEAD_PID, suffix="abcd1234"):
    return path.with_name(f".{path.name}.{kind}-{pid}-{suffix}")


def test_killed_save_leaves_nothing_after_next_load(old_preset):
    tmp = _leftover(old_preset, "tmp")
    tmp.mkdir()
    (tmp / "config.json").write_text("{")  # cut while writing
    with pytest.warns(PresetRecoveryWarning, match=r"removed 1 unfinished or replaced copy"):
        assert _description(old_preset) == "old"
    assert _hidden(old_preset.parent) == []


def test_killed_save_is_cleaned_by_the_next_save(model, old_preset):
    tmp = _leftover(old_preset, "tmp")
    tmp.mkdir()
    with pytest.warns(PresetRecoveryWarning, match=tmp.name):
        zoo.save_preset(model, old_preset, metadata={"description": "new"})
    assert _description(old_preset) == "new" and _hidden(old_preset.parent) == []


def test_killed_between_renames_restores_the_old_preset(model, old_preset, tmp_path):
    """The state a kill between the two renames leaves (no atomic exchange):
    the preset folder gone, the old preset hidden, the new one beside it."""
    hidden = _leftover(old_preset, "old")
    old_preset.rename(hidden)
    new = zoo.save_preset(model, tmp_path / "other", metadata={"description": "new"})
    new.rename(_leftover(old_preset, "tmp"))
    with pytest.warns(PresetRecoveryWarning, match=f"restored the previous preset from "
                                                   f"{hidden.name}"):
        assert _description(old_preset) == "old"
    assert _hidden(tmp_path) == []


def test_leftovers_of_older_versions(model, old_preset, tmp_path):
    """pallets_keras before safe saves left `.NAME.old` (the old preset) and
    mkdtemp's `.NAME.XXXXXXXX`: restored and removed; other hidden things stay."""
    legacy_tmp = old_preset.with_name(f".{old_preset.name}.k2j4_x9q")
    legacy_tmp.mkdir()
    (legacy_tmp / "config.json").write_text("{}")
    old_preset.rename(old_preset.with_name(f".{old_preset.name}.old"))
    mine = old_preset.with_name(f".{old_preset.name}.backup12")  # a user's folder
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with pytest.warns(PresetRecoveryWarning, match="restored the previous preset"):
        assert _description(old_preset) == "old"
    assert _hidden(tmp_path) == [mine.name]


def test_a_running_save_is_left_alone(old_preset):
    running = _leftover(old_preset, "tmp", pid=os.getppid())
    running.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("error", PresetRecoveryWarning)
        assert _description(old_preset) == "old"
    assert running.exists()


def test_other_presets_leftovers_are_not_touched(model, tmp_path):
    """`.tiny.v2.tmp-...` belongs to preset `tiny.v2`, not to `tiny`."""
    other = tmp_path / ".tiny.v2.tmp-123-abcdefgh"
    other.mkdir()
    zoo.save_preset(model, tmp_path / "tiny")
    assert other.exists()


_KILLED_SAVE = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    import pallets_keras as pk
    from pallets_keras import Palette, io_utils, zoo
    path, step = sys.argv[1], sys.argv[2]
    colors = np.array([[0, 0, 0, 0], [255, 0, 0, 255], [0, 0, 255, 255]], np.uint8)
    model = pk.models.build("onehot_conv_vae", palette=Palette(colors), image_size=(8, 8),
                            filters=(8,), latent_dim=4)
    zoo.save_preset(model, path, metadata={"description": "old"})

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    if step == "between renames":
        io_utils.exchange_paths = lambda a, b: False
        real = os.rename
        calls = []

        def rename(a, b):
            real(a, b)
            calls.append(1)
            if len(calls) == 1:
                die()
        os.rename = rename
    else:
        io_utils.sha256_file = die
    zoo.save_preset(model, path, metadata={"description": "new"})
""")


@pytest.mark.backend_independent  # plumbing: its model work is tested per backend
@pytest.mark.slow
@pytest.mark.parametrize("step", ["between renames", "while hashing"])
def test_sigkill_during_save(tmp_path, step):
    """A real SIGKILL: the next load restores or keeps the old preset and cleans up."""
    path = tmp_path / "tiny"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    run = subprocess.run([sys.executable, "-c", _KILLED_SAVE, str(path), step], env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == -signal.SIGKILL, run.stderr[-2000:]
    assert _hidden(tmp_path), "the kill should have left a hidden folder"
    if step == "between renames":
        assert not path.exists()
    with pytest.warns(PresetRecoveryWarning, match="cut short"):
        assert _description(path) == "old"
    assert _hidden(tmp_path) == []


def test_check_save_path_before_the_work(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("a")
    with pytest.raises(PalletsFileError, match="a.txt"):
        zoo.check_save_path(tmp_path / "notes")
    assert zoo.check_save_path(tmp_path / "notes", overwrite=True) == tmp_path / "notes"
    assert zoo.check_save_path(tmp_path / "new" / "deep") == tmp_path / "new" / "deep"
    assert not (tmp_path / "new").exists()


def test_unknown_class_in_config_is_one_short_error(old_preset):
    """A config naming a class this version lacks: a PresetError of one
    sentence, not Keras' message with the whole config in it."""
    config = json.loads((old_preset / "config.json").read_text())
    config["class_name"] = config["registered_name"] = "NoSuchModel"
    (old_preset / "config.json").write_text(json.dumps(config))
    meta = json.loads((old_preset / "metadata.json").read_text())
    meta["files"]["config.json"] = io_utils.sha256_file(old_preset / "config.json")
    meta["figures_sha256"] = registry.figures_digest(meta)  # a consistent edit
    (old_preset / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(zoo.PresetError, match="names a class .* does not have: class "
                                              "'NoSuchModel'") as info:
        zoo.load(old_preset)
    assert len(str(info.value)) < 300


def test_file_browser_litter_does_not_block_a_save(model, old_preset):
    """A preset folder someone looked at in Finder holds .DS_Store: still a preset."""
    (old_preset / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    zoo.save_preset(model, old_preset, metadata={"description": "new"})
    assert _description(old_preset) == "new"
