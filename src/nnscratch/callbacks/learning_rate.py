"""Callbacks that set the learning rate between epochs: from a schedule of the epoch
(:class:`LearningRateScheduler`) or when a monitored quantity stops improving
(:class:`ReduceLROnPlateau`).

Both need the optimizer's ``learning_rate`` to be a number; a per-step schedule belongs in the
optimizer instead (:mod:`nnscratch.schedules`). Both log the rate as ``"lr"``.
"""

import inspect

from ..checks import integer, number
from ..errors import ConfigError
from .base import Callback, MonitorCallback


def settable_learning_rate(network, owner):
    """The optimizer's current number learning rate, or ConfigError if it follows a schedule."""
    optimizer = network.optimizer
    if callable(optimizer.learning_rate):
        raise ConfigError(f"{owner} sets the learning rate each epoch, but the optimizer's "
                          "learning_rate is already a schedule of the step; give the optimizer a "
                          "number instead")
    return float(optimizer.learning_rate)


def takes_two_arguments(function):
    """Whether ``function`` can be called as ``function(epoch, lr)`` (else ``function(epoch)``)."""
    try:
        params = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return any(p.kind == p.VAR_POSITIONAL for p in params) or len(positional) >= 2


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch from ``schedule(epoch, lr) -> new lr``.

    ``epoch`` counts from 0 and ``lr`` is the current rate; a schedule taking one argument
    is called as ``schedule(epoch)``. The optimizer's ``learning_rate`` must be a number (for
    a per-step schedule, give the optimizer a schedule from :mod:`nnscratch.schedules`
    instead). The rate used is logged as ``"lr"``.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise ConfigError(f"LearningRateScheduler needs a callable schedule(epoch, lr), got "
                              f"{type(schedule).__name__}")
        self.schedule = schedule
        self.verbose = integer(verbose, "LearningRateScheduler verbose", low=0, high=1)
        self._takes_lr = takes_two_arguments(schedule)

    def on_epoch_begin(self, epoch, logs=None):
        lr = settable_learning_rate(self.network, "LearningRateScheduler")
        new = self.schedule(epoch, lr) if self._takes_lr else self.schedule(epoch)
        new = number(new, f"the learning rate LearningRateScheduler's schedule returned for "
                          f"epoch {epoch}", low=0, low_open=True)
        self.network.optimizer.learning_rate = new
        if self.verbose:
            print(f"LearningRateScheduler: learning rate {new:g} for epoch {epoch + 1}")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["lr"] = float(self.network.optimizer.learning_rate)


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by ``factor`` when a monitored quantity stops improving.

    As in Keras: after ``patience`` epochs without an improvement of more than ``min_delta``,

    .. math::

        \\text{lr} \\leftarrow \\max(\\text{lr} \\cdot \\text{factor}, \\text{min\\_lr})

    then ``cooldown`` epochs pass before the count starts again. The rate is logged as
    ``"lr"``. The optimizer's ``learning_rate`` must be a number.

    Parameters
    ----------
    monitor : str
    factor : float in (0, 1)
    patience : int >= 0
    mode : "auto", "min" or "max"
    min_delta : float >= 0
    cooldown : int >= 0
    min_lr : float >= 0
    verbose : 0 or 1
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0, verbose=0):
        super().__init__(monitor, mode, min_delta)
        self.factor = number(factor, "ReduceLROnPlateau factor", low=0, high=1,
                             low_open=True, high_open=True)
        self.min_lr = number(min_lr, "ReduceLROnPlateau min_lr", low=0)
        self.patience = integer(patience, "ReduceLROnPlateau patience", low=0)
        self.cooldown = integer(cooldown, "ReduceLROnPlateau cooldown", low=0)
        self.verbose = integer(verbose, "ReduceLROnPlateau verbose", low=0, high=1)
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.cooldown_counter = 0
        self.best = None
        self.reductions = []        # (epoch, new learning rate)

    def on_epoch_end(self, epoch, logs=None):
        lr = settable_learning_rate(self.network, "ReduceLROnPlateau")
        current = self.monitored_value(logs)
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            if self.wait >= self.patience and lr > self.min_lr:
                # lr <- max(lr * factor, min_lr)
                new = max(lr * self.factor, self.min_lr)
                self.network.optimizer.learning_rate = new
                self.reductions.append((epoch, new))
                self.cooldown_counter = self.cooldown
                self.wait = 0
                if self.verbose:
                    print(f"ReduceLROnPlateau: learning rate {lr:g} -> {new:g} after epoch {epoch + 1}")
        if logs is not None:
            logs["lr"] = float(self.network.optimizer.learning_rate)
