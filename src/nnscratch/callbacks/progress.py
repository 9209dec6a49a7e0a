"""What ``fit`` shows while it trains: a progress bar on a terminal (:class:`ProgressBar`), a
line per epoch elsewhere (:class:`EpochLogger`).

The bar uses tqdm when it is installed (the ``progress`` extra:
``pip install 'nnscratch[progress]'``) and otherwise draws a :class:`TextBar` of its own.
``fit`` only creates it when standard output is a terminal; elsewhere (logs, notebooks captured
to files, CI) it prints a line per epoch instead, so nothing fills a log file with carriage
returns.
"""

import importlib
import sys

from ..checks import boolean, number, positive_int
from ..errors import require
from .base import Callback, format_logs
from .text_bar import TextBar


def _tqdm_class():
    """tqdm's progress-bar class, or None when tqdm is not installed."""
    try:
        return importlib.import_module("tqdm").tqdm
    except ImportError:
        return None


class ProgressBar(Callback):
    """One bar per epoch, advancing with each batch and ending with the epoch's logs.

    The text bar looks like
    ``epoch 3/10 [==========>.........] 12/30 - 0.4s - loss: 0.1234`` and ends each epoch with
    its logs (``loss``, metrics, ``val_...``). The running loss shown during the epoch is the
    mean of the batch losses so far, weighted by batch size.

    Parameters
    ----------
    epochs : int
        Number of epochs ``fit`` will run.
    steps : int
        Batches per epoch.
    stream : file-like, optional
        Where to draw (default: standard output at construction time).
    use_tqdm : bool or None
        None uses tqdm if it is installed; False always draws the text bar; True requires tqdm.
    width : int
        Characters of the text bar.
    min_interval : float >= 0
        Seconds between redraws of the text bar within an epoch.
    """

    def __init__(self, epochs, steps, stream=None, use_tqdm=None, width=30, min_interval=0.1):
        super().__init__()
        self.epochs = positive_int(epochs, "ProgressBar epochs")
        self.steps = positive_int(steps, "ProgressBar steps")
        self.width = positive_int(width, "ProgressBar width")
        self.min_interval = number(min_interval, "ProgressBar min_interval", low=0)
        if use_tqdm is not None:
            use_tqdm = boolean(use_tqdm, "ProgressBar use_tqdm")
        self.stream = stream if stream is not None else sys.stdout
        tqdm = _tqdm_class() if use_tqdm in (None, True) else None
        if use_tqdm is True and tqdm is None:
            require("tqdm", "progress", "ProgressBar(use_tqdm=True)")
        self._tqdm = tqdm
        self._bar = None                 # the epoch's tqdm bar
        self._text_bar = TextBar(self.steps, self.stream, self.width, self.min_interval)
        self._loss_sum = 0.0
        self._seen = 0

    @property
    def uses_tqdm(self):
        """Whether the bars are drawn by tqdm."""
        return self._tqdm is not None

    def on_epoch_begin(self, epoch, logs=None):
        self._loss_sum, self._seen = 0.0, 0
        label = f"epoch {epoch + 1}/{self.epochs}"
        if self._tqdm is not None:
            self._bar = self._tqdm(total=self.steps, desc=label, file=self.stream, unit="batch",
                                   leave=True, dynamic_ncols=True)
        else:
            self._text_bar.start(label)

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        size = logs.get("size", 1)
        if "loss" in logs:
            self._loss_sum += logs["loss"] * size
            self._seen += size
        # running loss = sum_b(loss_b * size_b) / sum_b(size_b)
        running = format_logs({"loss": self._loss_sum / self._seen}) if self._seen else ""
        if self._bar is not None:
            self._bar.update(1)
            if running:
                self._bar.set_postfix_str(running, refresh=False)
            return
        self._text_bar.update(batch + 1, running)

    def on_epoch_end(self, epoch, logs=None):
        text = format_logs(logs or {})
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)
            self._bar.close()
            self._bar = None
            return
        self._text_bar.finish(text)

    def on_train_end(self, logs=None):
        if self._bar is not None:     # training stopped inside an epoch
            self._bar.close()
            self._bar = None


class EpochLogger(Callback):
    """Prints one line per epoch (``verbose=2``, or ``verbose=1`` when not on a terminal).

    ``epoch 3/10 - loss: 0.1234 - val_loss: 0.2345``, every ``every`` epochs and after the
    last one.
    """

    def __init__(self, epochs, stream=None, every=1):
        super().__init__()
        self.epochs = positive_int(epochs, "EpochLogger epochs")
        self.stream = stream or sys.stdout
        self.every = positive_int(every, "EpochLogger every")

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every == 0 or epoch + 1 == self.epochs:
            print(f"epoch {epoch + 1}/{self.epochs} - {format_logs(logs or {})}",
                  file=self.stream, flush=True)
