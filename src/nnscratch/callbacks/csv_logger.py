"""Write every epoch's logs as a row of a CSV file."""

import csv
import os

import numpy as np

from ..checks import boolean
from ..errors import ConfigError
from .base import Callback


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
        self.append = boolean(append, "CSVLogger append")
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
            # open across the epochs and closed in on_train_end, so no ``with`` block
            self._file = open(self.filename, "a" if self.append else "w", newline="")  # noqa: SIM115
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
    """A float in full precision (its repr); anything else as it is."""
    return repr(float(value)) if isinstance(value, (float, np.floating)) else value
