"""A plain text progress bar, redrawn in place on one line:
``epoch 3/10 [==========>.........] 12/30 - 0.4s - loss: 0.1234``.

A drawing utility that knows nothing of training or callbacks; the
:class:`~nnscratch.callbacks.ProgressBar` callback drives it (as Keras's ``ProgbarLogger``
drives its ``Progbar``), so nothing here imports back.
"""

import time


class TextBar:
    """One line ``<label> [====>.....] done/total - elapsed - <text>``, redrawn with ``\\r``.

    Parameters
    ----------
    total : int
        Steps of a full bar.
    stream : file-like
        Where to draw.
    width : int
        Characters between the brackets.
    min_interval : float
        Seconds between redraws by :meth:`update` (the last step is always drawn).
    """

    def __init__(self, total, stream, width=30, min_interval=0.1):
        self.total = total
        self.stream = stream
        self.width = width
        self.min_interval = min_interval
        self.label = ""
        self._start = 0.0
        self._last_draw = 0.0

    def start(self, label):
        """Begin a new bar called ``label``; its clock starts now."""
        self.label = label
        self._start = self._last_draw = time.perf_counter()

    def update(self, done, text=""):
        """Redraw at ``done`` steps, unless the last redraw is under ``min_interval`` old."""
        now = time.perf_counter()
        if done == self.total or now - self._last_draw >= self.min_interval:
            self._last_draw = now
            self.draw(done, text, end="")

    def finish(self, text=""):
        """Draw the full bar followed by ``text`` and end the line."""
        self.draw(self.total, text, end="\n")

    def draw(self, done, text, end):
        """Write the bar at ``done`` steps, then ``end``."""
        filled = int(self.width * done / self.total)
        arrow = ">" if filled < self.width else ""
        bar = "=" * filled + arrow + "." * (self.width - filled - len(arrow))
        elapsed = time.perf_counter() - self._start
        line = f"\r{self.label} [{bar}] {done}/{self.total} - {elapsed:.1f}s"
        if text:
            line += " - " + text
        self.stream.write(line + end)
        self.stream.flush()
