"""Hooks into the training loop, and the History that ``fit`` returns.

A callback overrides any of ``on_train_begin(logs)``, ``on_epoch_begin(epoch, logs)``,
``on_batch_begin(batch, logs)``, ``on_batch_end(batch, logs)``, ``on_epoch_end(epoch, logs)``
and ``on_train_end(logs)``. ``self.network`` is the network being trained; setting
``network.stop_training = True`` ends training after the current epoch.
"""

import sys


class Callback:
    """Base class: every hook does nothing."""

    def __init__(self):
        self.network = None

    def set_network(self, network):
        self.network = network

    def on_train_begin(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass


class CallbackList:
    """Calls each hook on every callback, in order."""

    def __init__(self, callbacks, network):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            cb.set_network(network)

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        def call_all(*args, **kwargs):
            for cb in self.callbacks:
                getattr(cb, hook)(*args, **kwargs)
        return call_all


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
