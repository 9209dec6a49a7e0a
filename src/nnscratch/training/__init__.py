"""Training apart from the model: the fit loop and what it needs.

- :mod:`~nnscratch.training.loop`: epochs, batches, validation and callbacks (:func:`fit`);
- :mod:`~nnscratch.training.sources`: where batches come from: arrays, a
  :class:`~nnscratch.data.Dataset`, or an iterable of batches;
- :mod:`~nnscratch.training.inference`: ``predict`` and ``evaluate`` in batches;
- :mod:`~nnscratch.training.divergence`: the guard that stops a diverging run and puts back
  the last finite weights;
- :mod:`~nnscratch.training.targets`: targets and per-sample weights checked and cast;
- :mod:`~nnscratch.training.packing`: the parameters packed into one array for cheap updates.
"""

from .loop import fit

__all__ = ["fit"]
