"""The History that ``fit`` returns: every epoch's logs, in order."""

from ..plots import plot_history
from .base import Callback


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
        return plot_history(self, path=path, title=title, log_scale=log_scale)
