"""The private Keras and KerasTuner names the library relies on, pinned.

Each exists because no public API does the job (the comment says why); if an
upgrade removes or changes one, this test names it before a user hits it.
"""

import inspect

import keras
import keras_tuner


def test_keras_tuner_hooks_we_override_exist():
    # hypermodels.PalletsTuner overrides these two hooks: the first so a chief
    # that never trains needs not build a model to learn the search space (our
    # hypermodels declare the whole space), the second because KerasTuner
    # 1.4.8 imports tensorboard on every TensorFlow trial even without a
    # TensorBoard callback, and TensorFlow 2.21 no longer installs it.
    tuner = keras_tuner.Tuner
    assert callable(getattr(tuner, "_populate_initial_space", None))
    params = list(inspect.signature(tuner._configure_tensorboard_dir).parameters)
    assert params[:3] == ["self", "callbacks", "trial"]


def test_keras_tuner_metrics_conversion_exists():
    # PalletsTuner.run_trial records each trial's figures the way the oracle
    # reads them; KerasTuner exposes no public converter.
    from keras_tuner.src.engine import tuner_utils

    assert callable(tuner_utils.convert_to_metrics_dict)


def test_backup_and_restore_still_leaves_initial_epoch_behind(tmp_path):
    # training.fit clears `model._initial_epoch` before and after training:
    # BackupAndRestore sets it when it resumes and Keras never resets it, so a
    # second fit() of the same model would silently skip epochs.
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile("sgd", "mse")
    x, y = keras.ops.ones((4, 2)), keras.ops.ones((4, 1))

    class Stop(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise RuntimeError("cut")

    backup = keras.callbacks.BackupAndRestore(str(tmp_path))
    try:
        model.fit(x, y, epochs=4, verbose=0, callbacks=[backup, Stop()])
    except RuntimeError:
        pass
    model.fit(x, y, epochs=4, verbose=0, callbacks=[backup])
    # Resumed after two finished epochs, and still set once training is over.
    assert getattr(model, "_initial_epoch", None) == 2
