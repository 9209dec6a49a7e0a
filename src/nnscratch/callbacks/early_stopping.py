"""Stop training when a monitored quantity has stopped improving, keeping the best weights."""

from ..checks import boolean, integer, number
from .base import MonitorCallback


class EarlyStopping(MonitorCallback):
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
        super().__init__(monitor, mode, min_delta)
        self.patience = integer(patience, "EarlyStopping patience", low=0)
        self.start_from_epoch = integer(start_from_epoch, "EarlyStopping start_from_epoch", low=0)
        self.baseline = None if baseline is None else number(baseline, "EarlyStopping baseline")
        self.restore_best_weights = boolean(restore_best_weights,
                                            "EarlyStopping restore_best_weights")
        self.verbose = integer(verbose, "EarlyStopping verbose", low=0, high=1)
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.reset_best()
        self.stopped_epoch = None
        self.restored = False
        self._last_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        self._last_epoch = epoch
        if epoch < self.start_from_epoch:
            return
        current = self.monitored_value(logs)
        self.wait += 1
        if self.is_improvement(current, self.best):
            self.record_best(current, epoch, copy_weights=self.restore_best_weights)
            if self.baseline is None or self.is_improvement(current, self.baseline):
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
