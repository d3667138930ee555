"""Callbacks that drive the non-trainable schedule variables of a model."""

import math

import keras


def _assign(model, variable, value):
    # On JAX, fit() carries the variables in a state tuple between steps;
    # write that state back first so ours is not overwritten, and the next
    # step re-reads every variable (including the new value).
    if hasattr(model, "jax_state_sync"):
        model.jax_state_sync()
    variable.assign(value)


class TemperatureAnnealing(keras.callbacks.Callback):
    """Anneals the Gumbel-Softmax temperature: tau = max(tau_min, tau0 * exp(-rate * step)).

    Args:
        tau0: float, the temperature at step 0.
        tau_min: float, the floor.
        rate: float, decay per training step.
        update_every: int, steps between updates (each update syncs state on JAX).

    Example:
    >>> cb = TemperatureAnnealing(tau0=1.0, tau_min=0.5, rate=1e-4)
    >>> # model.fit(x, callbacks=[cb])
    """

    def __init__(self, tau0=1.0, tau_min=0.5, rate=3e-5, update_every=50):
        super().__init__()
        self.tau0, self.tau_min, self.rate = tau0, tau_min, rate
        self.update_every = update_every
        self.step = 0

    def value(self, step):
        return max(self.tau_min, self.tau0 * math.exp(-self.rate * step))

    def _layer(self):
        from pallets_keras.layers import GumbelSoftmax

        for layer in self.model._flatten_layers(include_self=False, recursive=True):
            if isinstance(layer, GumbelSoftmax):
                return layer
        raise ValueError("TemperatureAnnealing needs a model with a GumbelSoftmax layer.")

    def on_train_begin(self, logs=None):
        self.gumbel = self._layer()
        # Resume the schedule where the optimizer is (e.g. after BackupAndRestore).
        self.step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
        _assign(self.model, self.gumbel.tau, self.value(self.step))

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step % self.update_every == 0:
            _assign(self.model, self.gumbel.tau, self.value(self.step))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["tau"] = float(keras.ops.convert_to_numpy(self.gumbel.tau))


class KLWarmup(keras.callbacks.Callback):
    """Raises the model's KL weight linearly: beta = beta_max * min(1, epoch / epochs).

    Args:
        beta_max: float, the weight after warm-up.
        epochs: int, warm-up length in epochs (0 disables it).
        beta_min: float, the weight at epoch 0.

    Example:
    >>> cb = KLWarmup(beta_max=1.0, epochs=5)
    """

    def __init__(self, beta_max=1.0, epochs=5, beta_min=0.0):
        super().__init__()
        self.beta_max, self.epochs, self.beta_min = beta_max, epochs, beta_min

    def value(self, epoch):
        if self.epochs <= 0:
            return self.beta_max
        t = min(1.0, epoch / self.epochs)
        return self.beta_min + t * (self.beta_max - self.beta_min)

    def on_epoch_begin(self, epoch, logs=None):
        _assign(self.model, self.model.beta, self.value(epoch))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["beta"] = float(keras.ops.convert_to_numpy(self.model.beta))


class TimeLimit(keras.callbacks.Callback):
    """Stops training before a wall-clock deadline, at an epoch's end.

    Training stops when the next epoch, expected to last as long as the
    last one, would end past the deadline (after a `fit`'s first epoch,
    which includes compiling, only once the deadline has passed); an `EarlyStopping`
    with `restore_best_weights=True` placed before it in the callbacks still
    restores the best epoch. Several `fit` calls may share one deadline (e.g.
    the two phases of `finetune`).

    Args:
        seconds: float > 0, the budget from the first `on_train_begin`.
        deadline: optional `time.monotonic()` value to stop at instead.

    Example:
    >>> # model.fit(x, epochs=1000, callbacks=[TimeLimit(180)])
    """

    def __init__(self, seconds=None, deadline=None):
        super().__init__()
        if (seconds is None) == (deadline is None):
            from pallets_keras.errors import PalletsValueError

            raise PalletsValueError("TimeLimit takes seconds= or deadline=, one of them.")
        self.seconds, self.deadline = seconds, deadline
        self.last_epoch = 0.0
        self.stopped = False

    def on_train_begin(self, logs=None):
        import time

        self._first_epoch = None
        if self.deadline is None:
            self.deadline = time.monotonic() + float(self.seconds)
        if time.monotonic() >= self.deadline:
            self.stopped = True
            self.model.stop_training = True

    def on_epoch_begin(self, epoch, logs=None):
        import time

        self._start = time.monotonic()
        if self._first_epoch is None:
            self._first_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        import time

        now = time.monotonic()
        self.last_epoch = now - self._start
        # The first epoch of a fit compiles the step functions: it says little
        # about the next one, so it only stops a run that is out of time.
        expected = self.last_epoch if epoch > self._first_epoch else 0.0
        if now + expected > self.deadline:
            self.stopped = True
            self.model.stop_training = True


class TerminateOnNaNKeepWeights(keras.callbacks.TerminateOnNaN):
    """Stops training at the first NaN or infinite loss and puts back the
    weights the model had when that epoch began (its last finite ones).

    Keras' `TerminateOnNaN` stops the run but leaves the weights of the step
    that diverged, NaN or not; this one restores the weights saved at the
    start of the epoch, before any callback after it (a backup, the end of
    the epoch) sees the bad ones. `diverged` says where it happened.

    Attributes:
        diverged: None, or a dict {"epoch": 0-based epoch, "batch": batch
            index, "loss": the loss logged} once the loss went bad.

    Example:
    >>> guard = TerminateOnNaNKeepWeights()
    >>> # model.fit(x, epochs=100, callbacks=[guard]); guard.diverged
    """

    def __init__(self):
        super().__init__()
        self.diverged = None
        self._good = None
        self._epoch = 0

    def on_train_begin(self, logs=None):
        self.diverged = None

    def on_epoch_begin(self, epoch, logs=None):
        # The previous epoch ended with finite losses (else training stopped):
        # these weights are the last good ones.
        self._epoch = epoch
        self._good = self.model.get_weights()

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or self.diverged is not None:
            return
        loss = float(keras.ops.convert_to_numpy(loss))
        if math.isfinite(loss):
            return
        self.diverged = {"epoch": self._epoch, "batch": int(batch), "loss": loss}
        self.model.stop_training = True
        if self._good is not None:
            if hasattr(self.model, "jax_state_sync"):
                self.model.jax_state_sync()
            self.model.set_weights(self._good)



class PhaseProgbar(keras.callbacks.ProgbarLogger):
    """Keras' progress bar for one phase of a longer run: epochs are numbered
    within the whole run, so a fine-tune of 5 epochs with a 1-epoch warm-up
    prints "Epoch 1/5" for its warm-up and then "Epoch 2/5" ... "Epoch 5/5",
    not a warm-up "Epoch 1/1" followed by "Epoch 1/4".

    Placed in `fit`'s callbacks it replaces the bar Keras would add, and
    follows the `verbose` given to `fit` (0 silent, 1 a live bar, 2 one line
    per epoch).

    Args:
        first_epoch: int >= 0, epochs of the run before this phase.
        total_epochs: int >= 1, epochs of the whole run.

    Example:
    >>> bar = PhaseProgbar(first_epoch=1, total_epochs=5)
    >>> # model.fit(x, epochs=4, verbose=2, callbacks=[bar])  # "Epoch 2/5" ...
    """

    def __init__(self, first_epoch, total_epochs):
        super().__init__()
        self.first_epoch = int(first_epoch)
        self.total_epochs = int(total_epochs)

    def set_params(self, params):
        super().set_params(params)
        self.epochs = self.total_epochs  # the "/N" of "Epoch k/N"

    def on_epoch_begin(self, epoch, logs=None):
        super().on_epoch_begin(self.first_epoch + epoch, logs)
