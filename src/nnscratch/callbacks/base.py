"""The base of every callback, the list that calls their hooks, and the base of the callbacks
that watch one logged quantity (:class:`MonitorCallback`)."""

import math

from ..checks import choice, number
from ..errors import ConfigError
from ..metrics import greater_is_better

MODES = ("auto", "min", "max")


class Callback:
    """Base class: every hook does nothing."""

    def __init__(self):
        self.network = None

    def set_network(self, network):
        """Attach the network being trained (``fit`` calls it before the first hook)."""
        self.network = network

    def on_train_begin(self, logs=None):
        """Called once when ``fit`` starts."""

    def on_epoch_begin(self, epoch, logs=None):
        """Called before each epoch (``epoch`` counts from 0)."""

    def on_batch_begin(self, batch, logs=None):
        """Called before each batch; ``logs["size"]`` is its number of samples."""

    def on_batch_end(self, batch, logs=None):
        """Called after each batch's update; ``logs`` holds its ``size`` and ``loss``."""

    def on_epoch_end(self, epoch, logs=None):
        """Called after each epoch; ``logs`` holds the loss, metrics and ``val_`` values."""

    def on_train_end(self, logs=None):
        """Called once when ``fit`` ends (also after an early stop)."""


class CallbackList:
    """Calls each hook on every callback, in order."""

    def __init__(self, callbacks, network):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise ConfigError(f"callbacks must be Callback objects (nnscratch.callbacks), got "
                                  f"{type(cb).__name__} ({cb!r})")
            cb.set_network(network)

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)
        # Only the callbacks that override the hook are called (most leave most hooks empty),
        # and the caller is kept as an attribute, so the training loop, which calls some hooks
        # on every batch, finds it without coming back here.
        empty = getattr(Callback, hook, None)
        methods = [getattr(cb, hook) for cb in self.callbacks
                   if hook in vars(cb) or getattr(type(cb), hook, None) is not empty]

        def call_all(*args, **kwargs):
            for method in methods:
                method(*args, **kwargs)
        call_all.listeners = len(methods)
        self.__dict__[hook] = call_all
        return call_all

    def listened(self, hook):
        """Whether any callback defines ``hook`` (the loop can then skip building its logs)."""
        return getattr(self, hook).listeners > 0


def format_logs(logs):
    """``loss: 0.1234 - accuracy: 0.9800`` for the keys of an epoch's logs."""
    return " - ".join(f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {v}"
                      for k, v in logs.items())


class MonitorCallback(Callback):
    """Base of the callbacks that watch one quantity of the epoch logs and act when it improves
    or stops improving (:class:`EarlyStopping`, :class:`ModelCheckpoint`,
    :class:`ReduceLROnPlateau`).

    ``mode="auto"`` maximizes accuracy-like metrics (those whose metric class says
    ``greater_is_better``, ``val_`` prefix ignored) and minimizes losses and errors; the mode
    chosen is kept in ``mode``. The callbacks that keep the best epoch's weights record it with
    :meth:`reset_best` and :meth:`record_best`.

    Parameters
    ----------
    monitor : str
        A key of the epoch logs: ``"val_loss"``, ``"loss"``, ``"val_accuracy"``...
    mode : "auto", "min" or "max"
    min_delta : float >= 0
        Smallest change that counts as an improvement.
    """

    def __init__(self, monitor="val_loss", mode="auto", min_delta=0.0):
        super().__init__()
        owner = type(self).__name__
        if not isinstance(monitor, str) or not monitor:
            raise ConfigError(f"{owner} monitor must be the name of a logged quantity such as "
                              f"'val_loss', got {monitor!r}")
        mode = choice(mode, f"{owner} mode", MODES)
        self.min_delta = number(min_delta, f"{owner} min_delta", low=0)
        self.monitor = monitor
        if mode == "auto":
            mode = "max" if greater_is_better(monitor) else "min"
        self.mode = mode

    def monitored_value(self, logs):
        """The monitored value in ``logs``, or ConfigError naming the quantities there are."""
        logs = logs or {}
        if self.monitor not in logs:
            hint = (" (pass validation_data or validation_split to fit, or monitor a training "
                    "quantity)" if self.monitor.startswith("val_") else "")
            raise ConfigError(f"{type(self).__name__} monitors '{self.monitor}', which is not "
                              f"among the epoch's logs ({', '.join(logs) or 'none'}){hint}")
        return float(logs[self.monitor])

    def is_improvement(self, current, reference):
        """Whether ``current`` beats ``reference`` by more than ``min_delta`` (None: any finite).

        .. math::

            \\text{min: } c < r - \\delta, \\qquad \\text{max: } c > r + \\delta
        """
        if reference is None:
            return math.isfinite(current)
        if self.mode == "min":
            return current < reference - self.min_delta
        return current > reference + self.min_delta

    def reset_best(self):
        """No best epoch yet: ``best``, ``best_epoch`` and ``best_weights`` are None."""
        self.best = None
        self.best_epoch = None
        self.best_weights = None

    def record_best(self, current, epoch, copy_weights=True):
        """Keep ``current`` and ``epoch`` as the best so far and, if ``copy_weights``, a copy of
        the network's weights and buffers in ``best_weights``."""
        self.best, self.best_epoch = current, epoch
        if copy_weights:
            self.best_weights = self.network.get_weights()
