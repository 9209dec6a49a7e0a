"""Data sets read by index: the :class:`Dataset` protocol and :class:`ArrayDataset`.

A data set larger than memory is read one batch at a time. The protocol has two parts:

- ``len(dataset)``: the number of samples;
- ``dataset.batch(indices)``: the samples at ``indices`` (a 1-D integer array), in that order,
  as a tuple ``(x, y)`` or ``(x, y, sample_weight)``. ``x`` is an array, or a list or dict of
  arrays for a model with several inputs; ``y`` likewise per output, or None for data that is
  only predicted on.

``fit`` draws, each epoch, a permutation of ``range(len(dataset))`` from the model's shuffling
generator (the very draw it makes for arrays) and asks for ``batch_size`` indices at a time;
``predict`` and ``evaluate`` ask for the indices in order. Any object with ``__len__`` and
``batch`` is a data set (:func:`is_dataset`); :class:`Dataset` is a base to subclass for
clarity.
"""

import numpy as np

from ..errors import DataError, DataTypeError
from .arrays import check_same_length
from .files import FileRows, file_backed


class Dataset:
    """A data set read by index: subclasses write ``__len__`` and ``batch(indices)``.

    ``batch`` returns ``(x, y)`` or ``(x, y, sample_weight)`` for the samples at ``indices``,
    in that order (see :mod:`nnscratch.data.dataset`).
    """

    def __len__(self):
        raise NotImplementedError

    def batch(self, indices):
        """The samples at ``indices`` as ``(x, y)`` or ``(x, y, sample_weight)``."""
        raise NotImplementedError


def is_dataset(data):
    """Whether ``data`` follows the :class:`Dataset` protocol (``__len__`` and ``batch``)."""
    return isinstance(data, Dataset) or (
        not isinstance(data, np.ndarray) and hasattr(data, "__len__")
        and callable(getattr(data, "batch", None)))


class _Rows:
    """Reads rows of one array named ``name``: by indexing in memory, or from its file
    (:class:`~nnscratch.data.files.FileRows`)."""

    def __init__(self, array, name):
        self.array, self.name = array, name
        self.file = FileRows(array) if file_backed(array) else None

    def read(self, indices):
        return self.file.read(indices) if self.file is not None else self.array[indices]


class ArrayDataset(Dataset):
    """A :class:`Dataset` over arrays of equal length, in memory or memory-mapped.

    An array in memory is indexed directly. A memory-mapped array (``np.memmap``, or
    ``np.load(path, mmap_mode="r")``) is read from its file a batch at a time: the indices are
    sorted, each run of consecutive ones read with one positioned read, and the rows put back
    in the order asked for (:mod:`nnscratch.data.files`). Its pages never stay mapped, so
    the resident memory of training stays about one batch however large the file::

        x = np.load("images.npy", mmap_mode="r")          # (N, 1, 28, 28), larger than memory
        y = np.load("labels.npy", mmap_mode="r")
        net.fit(ns.data.ArrayDataset(x, y), batch_size=64, epochs=3)

    Parameters
    ----------
    x : array, or a list / dict of arrays (one per model input)
    y : array, a list / dict of arrays (one per output), or None (data to predict on)
    sample_weight : array (N,), optional
    """

    def __init__(self, x, y=None, sample_weight=None):
        if isinstance(sample_weight, dict):
            raise DataTypeError("ArrayDataset sample_weight must be one array of weights (N,), "
                                "got a dict")
        self._parts = [_part(x, "x"), None if y is None else _part(y, "y"),
                       None if sample_weight is None else _Rows(_array(sample_weight,
                                                                       "sample_weight"),
                                                                "sample_weight")]
        leaves = [rows for part in self._parts if part is not None for rows in _leaves(part)]
        if not self._parts[0] or not leaves:
            raise DataError("ArrayDataset needs at least one array in x")
        for rows in leaves[1:]:
            check_same_length(leaves[0].array, rows.array, leaves[0].name, rows.name)
        self._length = len(leaves[0].array)

    def __len__(self):
        return self._length

    def batch(self, indices):
        """``(x, y)`` (or ``(x, y, sample_weight)`` when weights were given) at ``indices``."""
        indices = np.asarray(indices)
        if indices.ndim != 1 or indices.dtype.kind not in "iu":
            raise DataError(f"ArrayDataset.batch expects a 1-D array of integer indices, got "
                            f"shape {indices.shape} of dtype {indices.dtype}")
        if indices.size and (indices.min() < 0 or indices.max() >= self._length):
            raise DataError(f"ArrayDataset.batch expects indices in [0, {self._length}), got "
                            f"{indices.min()}..{indices.max()}")
        x, y, weights = (None if part is None else _read(part, indices) for part in self._parts)
        return (x, y) if weights is None else (x, y, weights)


def _part(data, name):
    """``data`` (an array, or a list / dict of them) with each array wrapped in :class:`_Rows`."""
    if isinstance(data, dict):
        return {key: _Rows(_array(value, f"{name}[{key!r}]"), f"{name}[{key!r}]")
                for key, value in data.items()}
    if isinstance(data, list) and data and all(isinstance(a, np.ndarray) for a in data):
        return [_Rows(_array(value, f"{name}[{i}]"), f"{name}[{i}]")
                for i, value in enumerate(data)]
    return _Rows(_array(data, name), name)


def _array(data, name):
    """``data`` as an array with a sample axis (a memmap stays a memmap)."""
    array = data if isinstance(data, np.ndarray) else np.asarray(data)
    if array.ndim == 0:
        raise DataError(f"ArrayDataset {name} must have a sample axis, got a scalar")
    return array


def _leaves(part):
    """The :class:`_Rows` of a part."""
    if isinstance(part, dict):
        return list(part.values())
    return list(part) if isinstance(part, list) else [part]


def _read(part, indices):
    """The rows at ``indices`` of each array of ``part``, in its structure."""
    if isinstance(part, dict):
        return {key: rows.read(indices) for key, rows in part.items()}
    if isinstance(part, list):
        return [rows.read(indices) for rows in part]
    return part.read(indices)
