"""Stop training with a TrainingError as soon as a loss or metric is NaN or infinite."""

import math

import numpy as np

from ..errors import TrainingError
from .base import Callback


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
