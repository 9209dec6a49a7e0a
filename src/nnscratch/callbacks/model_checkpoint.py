"""Keep the best weights seen during training, in memory and optionally in model files."""

import os

from ..checks import boolean, integer
from ..errors import ConfigError
from .base import MonitorCallback


class ModelCheckpoint(MonitorCallback):
    """Keep the best weights seen during training, in memory and optionally in files.

    In memory (the default, no ``filepath``): whenever the monitored quantity improves, a copy
    of every weight and buffer is kept in ``best_weights`` (with ``best`` and ``best_epoch``);
    :meth:`restore` puts it back into the network.

    With ``filepath`` the network is also saved with ``network.save(path)``
    (:mod:`nnscratch.saving`) at the end of every epoch, or only when the monitored quantity
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
        if filepath is not None:
            try:
                filepath = os.fspath(filepath)
            except TypeError:
                raise ConfigError(f"ModelCheckpoint filepath must be a path or None, got "
                                  f"{type(filepath).__name__}") from None
        super().__init__(monitor, mode, min_delta)
        self.filepath = filepath
        self.save_best_only = boolean(save_best_only, "ModelCheckpoint save_best_only")
        self.include_optimizer = boolean(include_optimizer, "ModelCheckpoint include_optimizer")
        self.verbose = integer(verbose, "ModelCheckpoint verbose", low=0, high=1)
        self.reset_best()
        self.saved_paths = []

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        needs_monitor = self.filepath is None or self.save_best_only
        if not needs_monitor and self.monitor not in logs:
            improved = False
        else:
            current = self.monitored_value(logs)
            improved = self.is_improvement(current, self.best)
            if improved:
                self.record_best(current, epoch)
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
