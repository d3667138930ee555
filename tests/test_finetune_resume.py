"""`finetune` keeps what it had: a cut run resumes from its last finished
epoch, and a run whose loss turns NaN stops with its last good weights."""

import json
import re

import keras
import numpy as np
import pytest

import pallets_keras as pk
from pallets_keras.errors import PalletsValueError
from pallets_keras.models import build
from pallets_keras.training import TrainingDivergedWarning


def _model(palette):
    return build("onehot_conv_ae", palette=palette, image_size=(8, 8), filters=(4,),
                 latent_dim=4, seed=0)


ARGS = dict(epochs=5, batch_size=32, validation=None, reduce_lr_patience=None, verbose=0,
            seed=0)


class Cut(keras.callbacks.Callback):
    """Raises KeyboardInterrupt (as Ctrl-C) when the `at`-th epoch (1-based,
    counted over both phases) would begin: the epochs before it are done."""

    def __init__(self, at):
        super().__init__()
        self.at, self.begun = at, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.begun += 1
        if self.begun == self.at:
            raise KeyboardInterrupt


class Epochs(keras.callbacks.Callback):
    """Records the epochs a call runs, as (phase's fit call, epoch index)."""

    def __init__(self):
        super().__init__()
        self.seen, self.fits = [], 0

    def on_train_begin(self, logs=None):
        self.fits += 1

    def on_epoch_begin(self, epoch, logs=None):
        self.seen.append((self.fits, epoch))


@pytest.mark.parametrize("cut_at, warmup, expected", [
    # cut in the warm-up: its second epoch and the three of the full phase run again
    (2, 2, [(1, 1), (2, 0), (2, 1), (2, 2)]),
    # cut in the full phase after its first epoch: epochs 1..3 of it remain
    (3, 1, [(2, 1), (2, 2), (2, 3)]),
])
def test_a_cut_finetune_resumes_where_it_stopped(tiny_dataset, tmp_path, cut_at, warmup,
                                                 expected):
    ck = tmp_path / "ck"
    with pytest.raises(KeyboardInterrupt):
        pk.finetune(_model(tiny_dataset.palette), tiny_dataset, warmup_epochs=warmup,
                    checkpoint_dir=ck, callbacks=[Cut(cut_at)], **ARGS)
    state = json.loads((ck / "finetune.json").read_text())
    assert state["arguments"]["epochs"] == 5
    # Other arguments are refused, naming what differs; the checkpoint stays.
    with pytest.raises(PalletsValueError, match="learning_rate=0.001 there, 0.01 now"):
        pk.finetune(_model(tiny_dataset.palette), tiny_dataset, warmup_epochs=warmup,
                    checkpoint_dir=ck, learning_rate=1e-2, **ARGS)
    assert (ck / "finetune.json").is_file()
    # The same call again, in a fresh model as a new process would build it.
    epochs = Epochs()
    history = pk.finetune(_model(tiny_dataset.palette), tiny_dataset, warmup_epochs=warmup,
                          checkpoint_dir=ck, callbacks=[epochs], **ARGS)
    # (fit call, epoch): when the warm-up was done, the first fit is the full phase.
    seen = epochs.seen if warmup > cut_at - 1 else [(f + 1, e) for f, e in epochs.seen]
    assert seen == expected
    assert history.report["resumed_from_epoch"] == cut_at - 1
    assert history.report["epochs_run"] == 5 and len(history["loss"]) == 5
    assert history.report["stopped_by"] == "epochs"
    assert np.all(np.isfinite(history["loss"]))
    assert not ck.exists()  # a finished run leaves nothing to resume


def _epoch_lines(text):
    return re.findall(r"^Epoch (\d+)/(\d+)$", text, flags=re.M)


@pytest.mark.backend_independent  # Keras callback plumbing; training is tested per backend
def test_progress_counts_the_warm_up_as_epochs(tiny_dataset, tmp_path, capsys):
    """5 epochs with a 2-epoch warm-up print "Epoch 1/5" .. "Epoch 5/5" once
    each (not "1/2, 2/2" then "1/3 .. 3/3"), and a resumed run goes on from
    where the cut one stopped."""
    pk.finetune(_model(tiny_dataset.palette), tiny_dataset, warmup_epochs=2,
                **dict(ARGS, verbose=2))
    assert _epoch_lines(capsys.readouterr().out) == [(str(k), "5") for k in range(1, 6)]
    ck = tmp_path / "ck"
    with pytest.raises(KeyboardInterrupt):
        pk.finetune(_model(tiny_dataset.palette), tiny_dataset, warmup_epochs=2,
                    checkpoint_dir=ck, callbacks=[Cut(4)], **dict(ARGS, verbose=2))
    assert _epoch_lines(capsys.readouterr().out) == [("1", "5"), ("2", "5"), ("3", "5")]
    pk.finetune(_model(tiny_dataset.palette), tiny_dataset, warmup_epochs=2,
                checkpoint_dir=ck, **dict(ARGS, verbose=2))
    assert _epoch_lines(capsys.readouterr().out) == [("4", "5"), ("5", "5")]


def test_checkpoint_dir_that_is_a_file_or_foreign_folder_is_refused(tiny_dataset, tmp_path):
    (tmp_path / "f").write_text("x")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "notes.txt").write_text("keep me")
    for where, match in (("f", "is a file"), ("d", "holds no fine-tune checkpoint")):
        with pytest.raises(PalletsValueError, match=match):
            pk.finetune(_model(tiny_dataset.palette), tiny_dataset, warmup_epochs=1,
                        checkpoint_dir=tmp_path / where, **ARGS)
    assert (tmp_path / "d" / "notes.txt").read_text() == "keep me"


class Poison(keras.callbacks.Callback):
    """Sets every weight to NaN before the first batch of the `at`-th epoch
    (1-based, over both phases), as a diverging step would; keeps the weights
    that epoch began with."""

    def __init__(self, at):
        super().__init__()
        self.at, self.begun, self.before = at, 0, None

    def on_epoch_begin(self, epoch, logs=None):
        self.begun += 1

    def on_train_batch_begin(self, batch, logs=None):
        if self.begun == self.at and batch == 0 and self.before is None:
            if hasattr(self.model, "jax_state_sync"):
                self.model.jax_state_sync()
            self.before = self.model.get_weights()
            self.model.set_weights([np.full_like(w, np.nan) for w in self.before])


@pytest.mark.parametrize("at, warmup, patience", [(2, 2, None), (3, 1, 3)])
def test_a_nan_loss_stops_with_the_last_good_weights(tiny_dataset, tmp_path, at, warmup,
                                                     patience):
    model = _model(tiny_dataset.palette)
    poison = Poison(at)
    with pytest.warns(TrainingDivergedWarning,
                      match=rf"loss became nan in epoch {at} .*keeps .*Lower learning_rate"):
        history = pk.finetune(model, tiny_dataset, warmup_epochs=warmup,
                              early_stopping_patience=patience, callbacks=[poison],
                              checkpoint_dir=tmp_path / "ck",
                              **{k: v for k, v in ARGS.items()})
    weights = model.get_weights()
    assert all(np.all(np.isfinite(w)) for w in weights)
    for got, want in zip(weights, poison.before):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    report = history.report
    assert report["stopped_by"] == "nan" and report["epochs_run"] == at
    assert report["diverged"]["epoch"] == at - 1
    assert report["diverged"]["phase"] == ("warm-up" if at <= warmup else "fine-tune")
    assert np.all(np.isfinite(np.asarray(model.reconstruct(tiny_dataset.indices[:2]))))
    assert not (tmp_path / "ck").exists()


def test_a_huge_learning_rate_leaves_finite_weights(tiny_dataset):
    model = _model(tiny_dataset.palette)
    with pytest.warns(TrainingDivergedWarning):
        history = pk.finetune(model, tiny_dataset, warmup_epochs=0, learning_rate=1e38,
                              body_learning_rate=1e38, **ARGS)
    assert history.report["stopped_by"] == "nan"
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())


# ------------------------------------------------------------------ the CLI
@pytest.fixture(scope="module")
def cli_inputs(tiny_dataset, tmp_path_factory):
    """A tiny 8x8 preset and a sheet of the 64 tiny sprites (8 x 8 tiles)."""
    from PIL import Image

    from pallets_keras import zoo

    root = tmp_path_factory.mktemp("cli")
    preset = zoo.save_preset(_model(tiny_dataset.palette), root / "ae")
    rgba = tiny_dataset.palette.colors[tiny_dataset.indices]
    sheet = rgba.reshape(8, 8, 8, 8, 4).swapaxes(1, 2).reshape(64, 64, 4)
    Image.fromarray(np.ascontiguousarray(sheet), "RGBA").save(root / "sheet.png")
    return str(preset), str(root / "sheet.png")


@pytest.mark.backend_independent  # plumbing: its model work is tested per backend
def test_pallets_finetune_resumes_a_cut_run(cli_inputs, tmp_path, monkeypatch, capsys):
    from pallets_keras import training
    from pallets_keras.cli import main

    preset, sheet = cli_inputs
    out = tmp_path / "tuned"
    argv = ["finetune", preset, "--data", sheet, "--tile-size", "8", "--epochs", "4",
            "--batch-size", "32", "--no-eval", "--no-flip", "-o", str(out)]
    real = training.finetune
    calls = []

    def cut_once(*args, **kwargs):
        calls.append(kwargs["checkpoint_dir"])
        if len(calls) == 1:
            kwargs["callbacks"] = [Cut(3)]  # two epochs done, then Ctrl-C
        return real(*args, **kwargs)

    monkeypatch.setattr(training, "finetune", cut_once)
    assert main(argv) == 130
    ck = tmp_path / ".work" / "tuned"  # the default: .work/NAME beside -o
    assert calls[0] == ck and (ck / "finetune.json").is_file() and not out.exists()
    capsys.readouterr()
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert f"resuming the cut run checkpointed in {ck}" in err
    assert "resumed a cut run after 2 epochs" in err
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["training"]["epochs_run"] == 4
    assert not (tmp_path / ".work").exists()  # cleaned once the run ended


def test_pallets_finetune_checkpoint_dir_checks(cli_inputs, tmp_path, capsys):
    from pallets_keras.cli import main

    preset, sheet = cli_inputs
    (tmp_path / "file").write_text("x")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("x")
    for ck, said in (("file", "is a file"), ("other", "holds other files")):
        status = main(["finetune", preset, "--data", sheet, "--tile-size", "8",
                       "--checkpoint-dir", str(tmp_path / ck), "-o", str(tmp_path / "o")])
        err = capsys.readouterr().err
        assert status == 2 and "--checkpoint-dir" in err and said in err, err
        assert len(err.strip().splitlines()) == 1
    assert (tmp_path / "other" / "keep.txt").exists()
