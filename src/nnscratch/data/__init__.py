"""Data: checking arrays, batching, splitting, one-hot encoding, and data sets read by index.

- :mod:`~nnscratch.data.arrays`: :func:`as_numeric_array`, :func:`check_finite`,
  :func:`check_same_length`, the checks every array from a user goes through;
- :mod:`~nnscratch.data.batching`: :func:`batch_slices`, :func:`index_runs`;
- :mod:`~nnscratch.data.preprocessing`: :func:`one_hot`, :func:`train_test_split`;
- :mod:`~nnscratch.data.dataset`: the :class:`Dataset` protocol (a length and
  ``batch(indices)``) and :class:`ArrayDataset`, over arrays in memory or memory-mapped files;
- :mod:`~nnscratch.data.files`: rows of a memory-mapped array read from its file, a batch at a
  time, without keeping its pages in memory.

``fit``, ``evaluate`` and ``predict`` take arrays, a :class:`Dataset`, or an iterable of
batches (see :meth:`nnscratch.Model.fit`).
"""

from .arrays import as_numeric_array, check_finite, check_same_length
from .batching import batch_slices, index_runs
from .dataset import ArrayDataset, Dataset, is_dataset
from .preprocessing import one_hot, train_test_split

__all__ = ["as_numeric_array", "check_finite", "check_same_length", "batch_slices",
           "index_runs", "Dataset", "ArrayDataset", "is_dataset", "one_hot",
           "train_test_split"]
