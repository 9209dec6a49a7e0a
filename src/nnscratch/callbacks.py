"""Hooks into the training loop, and the History that ``fit`` returns.

A callback overrides any of ``on_train_begin(logs)``, ``on_epoch_begin(epoch, logs)``,
``on_batch_begin(batch, logs)``, ``on_batch_end(batch, logs)``, ``on_epoch_end(epoch, logs)``
and ``on_train_end(logs)``. ``self.network`` is the network being trained; setting
``network.stop_training = True`` ends training after the current epoch.

``fit`` calls the user's callbacks first, then the :class:`History` (so it records what they
add to the logs, such as ``"lr"``), then the progress display.

Provided: :class:`History`, :class:`EarlyStopping`, :class:`ModelCheckpoint`,
:class:`TerminateOnNaN`, :class:`LearningRateScheduler`, :class:`ReduceLROnPlateau`,
:class:`CSVLogger` and :class:`~nnscratch.progress.ProgressBar`.
"""

import csv
import inspect
import math
import os
import sys

import numpy as np

from .errors import ConfigError, TrainingError


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


class History(Callback):
    """Records every epoch's logs: ``history.history["loss"]``, ``["val_loss"]``, metrics...

    ``history.epoch`` lists the epoch indices. ``history.plot(path)`` draws the curves.
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def plot(self, path=None, title=None, log_scale=None):
        """Draw loss and metric curves (training beside validation) to a PNG; returns the figure."""
        from .plots import plot_history
        return plot_history(self, path=path, title=title, log_scale=log_scale)


def format_logs(logs):
    """``loss: 0.1234 - accuracy: 0.9800`` for the keys of an epoch's logs."""
    return " - ".join(f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {v}"
                      for k, v in logs.items())


class EpochLogger(Callback):
    """Prints one line per epoch (``verbose=2``, or ``verbose=1`` when not on a terminal)."""

    def __init__(self, epochs, stream=None, every=1):
        super().__init__()
        self.epochs = epochs
        self.stream = stream or sys.stdout
        self.every = max(1, int(every))

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0 or epoch + 1 == self.epochs:
            print(f"epoch {epoch + 1}/{self.epochs} - {format_logs(logs or {})}",
                  file=self.stream, flush=True)


# --------------------------------------------------------------------------------------------
# Watching a logged quantity
# --------------------------------------------------------------------------------------------

class _Monitor:
    """Reads one quantity from the epoch logs and decides whether it improved.

    ``mode="auto"`` maximizes accuracy-like metrics (those whose metric class says
    ``greater_is_better``) and minimizes losses and errors.
    """

    def __init__(self, owner, monitor, mode, min_delta):
        if not isinstance(monitor, str) or not monitor:
            raise ConfigError(f"{owner} monitor must be the name of a logged quantity such as "
                              f"'val_loss', got {monitor!r}")
        if mode not in ("auto", "min", "max"):
            raise ConfigError(f"{owner} mode must be 'auto', 'min' or 'max', got {mode!r}")
        if (isinstance(min_delta, bool) or not isinstance(min_delta, (int, float, np.floating))
                or not 0 <= min_delta < np.inf):
            raise ConfigError(f"{owner} min_delta must be a number >= 0, got {min_delta!r}")
        self.owner = owner
        self.monitor = monitor
        self.min_delta = float(min_delta)
        if mode == "auto":
            from .metrics import greater_is_better
            mode = "max" if greater_is_better(monitor) else "min"
        self.mode = mode

    def value(self, logs):
        """The monitored value in ``logs``, or ConfigError naming the quantities there are."""
        logs = logs or {}
        if self.monitor not in logs:
            hint = (" (pass validation_data or validation_split to fit, or monitor a training "
                    "quantity)" if self.monitor.startswith("val_") else "")
            raise ConfigError(f"{self.owner} monitors '{self.monitor}', which is not among the "
                              f"epoch's logs ({', '.join(logs) or 'none'}){hint}")
        return float(logs[self.monitor])

    def improved(self, current, reference):
        """Whether ``current`` beats ``reference`` by more than ``min_delta`` (None: always)."""
        if reference is None:
            return math.isfinite(current)
        if self.mode == "min":
            return current < reference - self.min_delta
        return current > reference + self.min_delta


def _non_negative_int(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ConfigError(f"{what} must be an integer >= 0, got {value!r}")
    return int(value)


# --------------------------------------------------------------------------------------------
# Stopping and keeping the best weights
# --------------------------------------------------------------------------------------------

class EarlyStopping(Callback):
    """Stop training when a monitored quantity has stopped improving.

    After each epoch the monitored value is compared with the best so far; an improvement of
    more than ``min_delta`` resets the count, otherwise it grows, and when ``patience`` epochs
    in a row brought no improvement ``network.stop_training`` is set. With ``baseline``, the
    count only resets once the value also beats the baseline.

    With ``restore_best_weights=True`` the weights (and buffers) of the best epoch are copied
    in memory at each improvement and put back when training ends, whether it stopped early or
    ran all its epochs, so the network finishes at its best epoch. ``best``, ``best_epoch``
    and ``stopped_epoch`` (None if it did not stop early) tell what happened; epochs are
    counted from 0 as in ``History.epoch``.

    Parameters
    ----------
    monitor : str
        A key of the epoch logs: ``"val_loss"`` (default), ``"loss"``, ``"val_accuracy"``...
    min_delta : float >= 0
        Smallest change that counts as an improvement.
    patience : int >= 0
        Epochs without improvement before stopping (0 stops at the first one).
    mode : "auto", "min" or "max"
    baseline : float, optional
    restore_best_weights : bool
    start_from_epoch : int >= 0
        Epochs to wait before watching at all (warm-up).
    verbose : 0 or 1
        1 prints a line when training stops and when weights are restored.
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0, verbose=0):
        super().__init__()
        self._monitor = _Monitor("EarlyStopping", monitor, mode, min_delta)
        self.monitor, self.mode, self.min_delta = monitor, self._monitor.mode, self._monitor.min_delta
        self.patience = _non_negative_int(patience, "EarlyStopping patience")
        self.start_from_epoch = _non_negative_int(start_from_epoch, "EarlyStopping start_from_epoch")
        if baseline is not None and (isinstance(baseline, bool)
                                     or not isinstance(baseline, (int, float, np.floating))):
            raise ConfigError(f"EarlyStopping baseline must be a number or None, got {baseline!r}")
        self.baseline = None if baseline is None else float(baseline)
        self.restore_best_weights = bool(restore_best_weights)
        self.verbose = verbose
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.best = None
        self.best_epoch = None
        self.best_weights = None
        self.stopped_epoch = None
        self.restored = False
        self._last_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        self._last_epoch = epoch
        if epoch < self.start_from_epoch:
            return
        current = self._monitor.value(logs)
        self.wait += 1
        if self._monitor.improved(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.network.get_weights()
            if self.baseline is None or self._monitor.improved(current, self.baseline):
                self.wait = 0
        if self.wait > 0 and self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.network.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch is not None and self.verbose:
            print(f"EarlyStopping: stopped after epoch {self.stopped_epoch + 1}; best {self.monitor} "
                  f"{self.best} at epoch {None if self.best_epoch is None else self.best_epoch + 1}")
        if (self.restore_best_weights and self.best_weights is not None
                and self.best_epoch != self._last_epoch):
            self.network.set_weights(self.best_weights)
            self.restored = True
            if self.verbose:
                print(f"EarlyStopping: restored the weights of epoch {self.best_epoch + 1}")


class ModelCheckpoint(Callback):
    """Keep the best weights seen during training, in memory and optionally in files.

    In memory (the default, no ``filepath``): whenever the monitored quantity improves, a copy
    of every weight and buffer is kept in ``best_weights`` (with ``best`` and ``best_epoch``);
    :meth:`restore` puts it back into the network.

    With ``filepath`` the network is also saved with ``network.save(path)``
    (:mod:`nnscratch.io`) at the end of every epoch, or only when the monitored quantity
    improves if ``save_best_only``. ``filepath`` may hold format fields filled from the epoch
    (counted from 1, as in Keras) and the logs: ``"ckpt-{epoch:03d}.nns"``,
    ``"best-{val_loss:.3f}.nns"``. The paths written are listed in ``saved_paths``.

    Parameters
    ----------
    filepath : str or os.PathLike, optional
    monitor : str
        Needed in the logs unless files are written on every epoch.
    mode : "auto", "min" or "max"
    save_best_only : bool
    min_delta : float >= 0
    include_optimizer : bool
        Passed to ``network.save``.
    verbose : 0 or 1
    """

    def __init__(self, filepath=None, monitor="val_loss", mode="auto", save_best_only=False,
                 min_delta=0.0, include_optimizer=True, verbose=0):
        super().__init__()
        if filepath is not None:
            try:
                filepath = os.fspath(filepath)
            except TypeError:
                raise ConfigError(f"ModelCheckpoint filepath must be a path or None, got "
                                  f"{type(filepath).__name__}") from None
        self.filepath = filepath
        self._monitor = _Monitor("ModelCheckpoint", monitor, mode, min_delta)
        self.monitor, self.mode = monitor, self._monitor.mode
        self.save_best_only = bool(save_best_only)
        self.include_optimizer = bool(include_optimizer)
        self.verbose = verbose
        self.best = None
        self.best_epoch = None
        self.best_weights = None
        self.saved_paths = []

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        needs_monitor = self.filepath is None or self.save_best_only
        if not needs_monitor and self.monitor not in logs:
            improved = False
        else:
            current = self._monitor.value(logs)
            improved = self._monitor.improved(current, self.best)
            if improved:
                self.best, self.best_epoch = current, epoch
                self.best_weights = self.network.get_weights()
        if self.filepath is not None and (improved or not self.save_best_only):
            path = self._format_path(epoch, logs)
            self.network.save(path, include_optimizer=self.include_optimizer)
            self.saved_paths.append(path)
            if self.verbose:
                print(f"ModelCheckpoint: saved {path}")

    def _format_path(self, epoch, logs):
        try:
            return self.filepath.format(**{**logs, "epoch": epoch + 1})
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(f"ModelCheckpoint filepath {self.filepath!r} cannot be filled in: "
                              f"{exc!r}; it may use {{epoch}} and the log keys "
                              f"({', '.join(logs) or 'none'})") from None

    def restore(self):
        """Copy the best weights kept in memory back into the network."""
        if self.best_weights is None:
            raise ConfigError("ModelCheckpoint has no best weights to restore yet (train first)")
        self.network.set_weights(self.best_weights)


class TerminateOnNaN(Callback):
    """Stop training with a TrainingError as soon as a loss or metric is NaN or infinite.

    ``Network.fit`` already refuses a batch whose loss is not finite (before it touches the
    weights); this callback adds the same check on each batch's logged loss and, at the end of
    every epoch, on every logged number (validation loss and metrics included), and raises
    :class:`~nnscratch.errors.TrainingError` naming the epoch and batch (counted from 1) and
    the quantity. Keras's version only sets ``stop_training``; raising keeps the rule that a
    diverged run never ends quietly with a broken model.
    """

    def __init__(self):
        super().__init__()
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            raise TrainingError(f"TerminateOnNaN: the loss became {loss} at epoch {self._epoch + 1}, "
                                f"batch {batch + 1}")

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            if isinstance(value, (int, float, np.number)) and not math.isfinite(value):
                raise TrainingError(f"TerminateOnNaN: {key} became {value} at the end of epoch "
                                    f"{epoch + 1}")


# --------------------------------------------------------------------------------------------
# Learning rate
# --------------------------------------------------------------------------------------------

def _settable_learning_rate(network, owner):
    """The optimizer's current number learning rate, or ConfigError if it follows a schedule."""
    optimizer = network.optimizer
    if callable(optimizer.learning_rate):
        raise ConfigError(f"{owner} sets the learning rate each epoch, but the optimizer's "
                          "learning_rate is already a schedule of the step; give the optimizer a "
                          "number instead")
    return float(optimizer.learning_rate)


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
        self.verbose = verbose
        try:
            params = inspect.signature(schedule).parameters.values()
            positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            varargs = any(p.kind == p.VAR_POSITIONAL for p in params)
            self._takes_lr = varargs or len(positional) >= 2
        except (TypeError, ValueError):
            self._takes_lr = True

    def on_epoch_begin(self, epoch, logs=None):
        lr = _settable_learning_rate(self.network, "LearningRateScheduler")
        new = self.schedule(epoch, lr) if self._takes_lr else self.schedule(epoch)
        if (isinstance(new, bool) or not isinstance(new, (int, float, np.floating))
                or not 0 < new < np.inf):
            raise ConfigError(f"LearningRateScheduler's schedule must return a number > 0, got "
                              f"{new!r} for epoch {epoch}")
        self.network.optimizer.learning_rate = float(new)
        if self.verbose:
            print(f"LearningRateScheduler: learning rate {float(new):g} for epoch {epoch + 1}")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["lr"] = float(self.network.optimizer.learning_rate)


class ReduceLROnPlateau(Callback):
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
        super().__init__()
        self._monitor = _Monitor("ReduceLROnPlateau", monitor, mode, min_delta)
        self.monitor, self.mode = monitor, self._monitor.mode
        if (isinstance(factor, bool) or not isinstance(factor, (int, float, np.floating))
                or not 0 < factor < 1):
            raise ConfigError(f"ReduceLROnPlateau factor must be a number in (0, 1), got {factor!r}")
        if (isinstance(min_lr, bool) or not isinstance(min_lr, (int, float, np.floating))
                or not 0 <= min_lr < np.inf):
            raise ConfigError(f"ReduceLROnPlateau min_lr must be a number >= 0, got {min_lr!r}")
        self.factor = float(factor)
        self.min_lr = float(min_lr)
        self.patience = _non_negative_int(patience, "ReduceLROnPlateau patience")
        self.cooldown = _non_negative_int(cooldown, "ReduceLROnPlateau cooldown")
        self.verbose = verbose
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.cooldown_counter = 0
        self.best = None
        self.reductions = []        # (epoch, new learning rate)

    def on_epoch_end(self, epoch, logs=None):
        lr = _settable_learning_rate(self.network, "ReduceLROnPlateau")
        current = self._monitor.value(logs)
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._monitor.improved(current, self.best):
            self.best = current
            self.wait = 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            if self.wait >= self.patience and lr > self.min_lr:
                new = max(lr * self.factor, self.min_lr)
                self.network.optimizer.learning_rate = new
                self.reductions.append((epoch, new))
                self.cooldown_counter = self.cooldown
                self.wait = 0
                if self.verbose:
                    print(f"ReduceLROnPlateau: learning rate {lr:g} -> {new:g} after epoch {epoch + 1}")
        if logs is not None:
            logs["lr"] = float(self.network.optimizer.learning_rate)


# --------------------------------------------------------------------------------------------
# Logging to a file
# --------------------------------------------------------------------------------------------

class CSVLogger(Callback):
    """Write every epoch's logs as a row of a CSV file.

    The file is opened when training begins and a row is appended and flushed at the end of
    each epoch, so the epochs finished so far are on disk even if training is interrupted
    (the file is not written atomically). The first row names the columns: ``epoch`` (counted
    from 0, as in ``History.epoch``) followed by the log keys of the first epoch in their
    order; a key missing later is written as ``NA``. Numbers are written in full precision.

    Parameters
    ----------
    filename : str or os.PathLike
    separator : str
        One character between fields.
    append : bool
        Add to an existing file (its header row sets the columns) instead of replacing it.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        try:
            self.filename = os.fspath(filename)
        except TypeError:
            raise ConfigError(f"CSVLogger filename must be a path, got {type(filename).__name__}") from None
        if not isinstance(separator, str) or len(separator) != 1:
            raise ConfigError(f"CSVLogger separator must be one character, got {separator!r}")
        self.separator = separator
        self.append = bool(append)
        self._file = None
        self._writer = None
        self._keys = None

    def on_train_begin(self, logs=None):
        self._keys = None
        if self.append and os.path.isfile(self.filename) and os.path.getsize(self.filename) > 0:
            with open(self.filename, newline="") as existing:
                header = next(csv.reader(existing, delimiter=self.separator), [])
            self._keys = header[1:] if header[:1] == ["epoch"] else None
        try:
            self._file = open(self.filename, "a" if self.append else "w", newline="")
        except OSError as exc:
            raise ConfigError(f"CSVLogger cannot open {self.filename!r} for writing: "
                              f"{exc.strerror or exc}") from None
        self._writer = csv.writer(self._file, delimiter=self.separator, lineterminator="\n")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._keys is None:
            self._keys = list(logs)
            self._writer.writerow(["epoch", *self._keys])
        self._writer.writerow([epoch, *(_csv_value(logs[k]) if k in logs else "NA" for k in self._keys)])
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


def _csv_value(value):
    return repr(float(value)) if isinstance(value, (float, np.floating)) else value


from .progress import ProgressBar  # noqa: E402  (progress.py builds on Callback above)
