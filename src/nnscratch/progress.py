"""The progress bar that ``fit(verbose=1)`` shows on a terminal.

It uses tqdm when it is installed (the ``progress`` extra: ``pip install 'nnscratch[progress]'``)
and otherwise draws a simple text bar of its own. ``fit`` only creates it when standard output
is a terminal; elsewhere (logs, notebooks captured to files, CI) it prints a line per epoch
instead, so nothing fills a log file with carriage returns.
"""

import importlib
import sys
import time

from .callbacks import Callback, format_logs
from .errors import ConfigError


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
    mean of the batch losses so far.

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
    min_interval : float
        Seconds between redraws of the text bar within an epoch.
    """

    def __init__(self, epochs, steps, stream=None, use_tqdm=None, width=30, min_interval=0.1):
        super().__init__()
        for what, value in (("epochs", epochs), ("steps", steps), ("width", width)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ConfigError(f"ProgressBar {what} must be a positive integer, got {value!r}")
        self.epochs = epochs
        self.steps = steps
        self.width = width
        self.min_interval = float(min_interval)
        self.stream = stream if stream is not None else sys.stdout
        tqdm = _tqdm_class() if use_tqdm in (None, True) else None
        if use_tqdm is True and tqdm is None:
            from .errors import require
            require("tqdm", "progress", "ProgressBar(use_tqdm=True)")
        self._tqdm = tqdm
        self._bar = None
        self._epoch = 0
        self._start = 0.0
        self._last_draw = 0.0
        self._loss_sum = 0.0
        self._seen = 0

    @property
    def uses_tqdm(self):
        """Whether the bars are drawn by tqdm."""
        return self._tqdm is not None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._start = self._last_draw = time.perf_counter()
        self._loss_sum, self._seen = 0.0, 0
        if self._tqdm is not None:
            self._bar = self._tqdm(total=self.steps, desc=f"epoch {epoch + 1}/{self.epochs}",
                                   file=self.stream, unit="batch", leave=True, dynamic_ncols=True)

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        size = logs.get("size", 1)
        if "loss" in logs:
            self._loss_sum += logs["loss"] * size
            self._seen += size
        running = {"loss": self._loss_sum / self._seen} if self._seen else {}
        if self._bar is not None:
            self._bar.update(1)
            if running:
                self._bar.set_postfix_str(format_logs(running), refresh=False)
            return
        now = time.perf_counter()
        if batch + 1 == self.steps or now - self._last_draw >= self.min_interval:
            self._last_draw = now
            self._draw(batch + 1, running, end="")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._bar is not None:
            self._bar.set_postfix_str(format_logs(logs), refresh=False)
            self._bar.close()
            self._bar = None
            return
        self._draw(self.steps, logs, end="\n")

    def on_train_end(self, logs=None):
        if self._bar is not None:     # training stopped inside an epoch
            self._bar.close()
            self._bar = None

    def _draw(self, done, logs, end):
        filled = int(self.width * done / self.steps)
        arrow = ">" if filled < self.width else ""
        bar = "=" * filled + arrow + "." * (self.width - filled - len(arrow))
        elapsed = time.perf_counter() - self._start
        text = (f"\repoch {self._epoch + 1}/{self.epochs} [{bar}] {done}/{self.steps} - "
                f"{elapsed:.1f}s")
        if logs:
            text += " - " + format_logs(logs)
        self.stream.write(text + end)
        self.stream.flush()
