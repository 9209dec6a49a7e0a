"""Hooks into the training loop, and the History that ``fit`` returns.

A callback overrides any of ``on_train_begin(logs)``, ``on_epoch_begin(epoch, logs)``,
``on_batch_begin(batch, logs)``, ``on_batch_end(batch, logs)``, ``on_epoch_end(epoch, logs)``
and ``on_train_end(logs)``. ``self.network`` is the network being trained; setting
``network.stop_training = True`` ends training after the current epoch. A callback receives
the network as an object and never imports the training code.

``fit`` calls the user's callbacks first, then the :class:`History` (so it records what they
add to the logs, such as ``"lr"``), then the progress display.

One family per file:

- ``base.py``: :class:`Callback`, :class:`CallbackList`, :func:`format_logs` and
  :class:`MonitorCallback`, the base of the callbacks that watch a logged quantity;
- ``history.py``: :class:`History`;
- ``early_stopping.py``: :class:`EarlyStopping`;
- ``model_checkpoint.py``: :class:`ModelCheckpoint`;
- ``learning_rate.py``: :class:`LearningRateScheduler`, :class:`ReduceLROnPlateau`;
- ``csv_logger.py``: :class:`CSVLogger`;
- ``terminate_on_nan.py``: :class:`TerminateOnNaN`;
- ``progress.py``: :class:`ProgressBar` and :class:`EpochLogger`, which draw with
  ``text_bar.py`` (:class:`TextBar`, a plain drawing utility).
"""

from .base import Callback, CallbackList, MonitorCallback, format_logs
from .csv_logger import CSVLogger
from .early_stopping import EarlyStopping
from .history import History
from .learning_rate import LearningRateScheduler, ReduceLROnPlateau
from .model_checkpoint import ModelCheckpoint
from .progress import EpochLogger, ProgressBar
from .terminate_on_nan import TerminateOnNaN
from .text_bar import TextBar

__all__ = ["Callback", "CallbackList", "MonitorCallback", "format_logs", "History",
           "EarlyStopping", "ModelCheckpoint", "LearningRateScheduler", "ReduceLROnPlateau",
           "CSVLogger", "TerminateOnNaN", "ProgressBar", "EpochLogger", "TextBar"]
