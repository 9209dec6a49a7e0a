"""Cutting data into batches: slices of a range, and runs of consecutive indices."""

import numpy as np


def batch_slices(n_samples, batch_size):
    """Slices covering ``range(n_samples)`` in batches of ``batch_size`` (None: one batch)."""
    if batch_size is None or batch_size >= n_samples:
        return [slice(0, n_samples)]
    return [slice(start, min(start + batch_size, n_samples))
            for start in range(0, n_samples, batch_size)]


def index_runs(sorted_indices):
    """``(starts, stops)``: the runs of consecutive values in ``sorted_indices``, as positions.

    ``sorted_indices[starts[k]:stops[k]]`` is ``first, first + 1, ..., first + length - 1``
    (``first = sorted_indices[starts[k]]``), so each run is one contiguous block of rows to read.
    ``[3, 4, 5, 9, 12, 13]`` gives the runs 3..5, 9 and 12..13: starts ``[0, 3, 4]``, stops
    ``[3, 4, 6]``. A repeated index starts a new run.
    """
    indices = np.asarray(sorted_indices)
    if indices.size == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    breaks = np.flatnonzero(np.diff(indices) != 1) + 1
    starts = np.concatenate(([0], breaks)).astype(np.intp)
    stops = np.concatenate((breaks, [indices.size])).astype(np.intp)
    return starts, stops
