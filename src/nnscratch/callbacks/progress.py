"""What ``fit`` shows while it trains: a progress bar on a terminal or in a Jupyter notebook
(:class:`ProgressBar`), a line per epoch elsewhere (:class:`EpochLogger`).

The bar uses ``tqdm.auto`` when tqdm is installed (the ``progress`` extra:
``pip install 'nnscratch[progress]'``): a widget in a notebook (with ipywidgets), a text bar on
a terminal. Without tqdm it draws a :class:`TextBar` of its own, which a notebook shows too.
``fit`` creates the bar only where it can be seen redrawn in place
(:func:`progress_display`); elsewhere (logs, output captured to files, CI) ``verbose=1``
prints nothing and ``verbose=2`` a line per epoch, so nothing fills a log file with carriage
returns.
"""

import importlib
import sys
import time
import warnings

from ..checks import boolean, number, positive_int
from ..errors import require
from .base import Callback, format_logs
from .text_bar import TextBar


def _tqdm_class():
    """``tqdm.auto``'s progress-bar class (a notebook widget in Jupyter, else the text bar), or
    None when tqdm is not installed."""
    try:
        with warnings.catch_warnings():     # no ipywidgets: tqdm warns, then draws text, fine
            warnings.simplefilter("ignore")
            importlib.import_module("tqdm")     # refused first if tqdm is (made) missing
            return importlib.import_module("tqdm.auto").tqdm
    except ImportError:
        return None


def in_notebook():
    """Whether this runs in a Jupyter kernel (IPython's ``IPKernelApp``), as tqdm tells."""
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)() if ipython is not None else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def live_display(stream=None):
    """Whether a bar redrawn in place can be seen on ``stream`` (standard output by default):
    a terminal, or a Jupyter notebook."""
    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return in_notebook() or bool(isatty is not None and isatty())


def progress_display(verbose, epochs, steps):
    """What ``fit`` shows for ``verbose``: 0 nothing; 1 a :class:`ProgressBar` where it can be
    seen (:func:`live_display`), nothing otherwise; 2 an :class:`EpochLogger` line per epoch.

    ``steps`` is the number of batches per epoch, None when the data does not tell.
    """
    if verbose == 2:
        return EpochLogger(epochs)
    if verbose == 1 and live_display():
        return ProgressBar(epochs=epochs, steps=steps)
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
    steps : int or None
        Batches per epoch; None when unknown (an iterable without a length): the bar then
        counts batches, and learns the total from the first epoch.
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
        self.steps = None if steps is None else positive_int(steps, "ProgressBar steps")
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
        self._done = 0                   # batches of this epoch
        self._started = self._last_count = 0.0

    @property
    def uses_tqdm(self):
        """Whether the bars are drawn by tqdm."""
        return self._tqdm is not None

    def on_epoch_begin(self, epoch, logs=None):
        self._loss_sum, self._seen, self._done = 0.0, 0, 0
        self._started = time.perf_counter()
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
        self._done = batch + 1
        if self._bar is not None:
            self._bar.update(1)
            if running:
                self._bar.set_postfix_str(running, refresh=False)
            return
        if self.steps is None:
            self._count(running, end="")
            return
        self._text_bar.update(batch + 1, running)

    def _count(self, text, end):
        """An epoch of unknown length: ``<label> <done> batches - <elapsed> - <text>``, redrawn
        at most every ``min_interval`` seconds."""
        now = time.perf_counter()
        if not end and now - self._last_count < self.min_interval:
            return
        self._last_count = now
        line = f"\r{self._text_bar.label} {self._done} batches - {now - self._started:.1f}s"
        self.stream.write(line + (" - " + text if text else "") + end)
        self.stream.flush()

    def on_epoch_end(self, epoch, logs=None):
        text = format_logs(logs or {})
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)
            self._bar.close()
            self._bar = None
        elif self.steps is None:
            self._count(text, end="\n")
        else:
            self._text_bar.finish(text)
        if self.steps is None and self._done:     # the length of an epoch, learnt from the first
            self.steps = self._text_bar.total = self._done

    def on_train_end(self, logs=None):
        if self._bar is not None:     # training stopped inside an epoch
            self._bar.close()
            self._bar = None


class EpochLogger(Callback):
    """Prints one line per epoch (``fit``'s ``verbose=2``).

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
