"""Preparing arrays before training: one-hot encoding, a train/test split."""

import numpy as np

from ..errors import DataError
from .arrays import as_numeric_array, check_same_length


def one_hot(labels, num_classes=None, dtype=np.float32):
    """Integer labels (N,) to a one-hot matrix (N, num_classes)."""
    labels = as_numeric_array(labels, "labels").reshape(-1)
    if labels.dtype.kind == "f":
        if not np.all(labels == np.round(labels)):
            raise DataError("one_hot expects integer labels, got non-integer values")
        labels = labels.astype(np.int64)
    if labels.size and labels.min() < 0:
        raise DataError(f"one_hot expects labels >= 0, got {labels.min()}")
    k = int(labels.max()) + 1 if num_classes is None else int(num_classes)
    if labels.size and labels.max() >= k:
        raise DataError(f"one_hot expects labels in [0, {k}), got {labels.max()}")
    out = np.zeros((labels.size, k), dtype=dtype)
    out[np.arange(labels.size), labels] = 1
    return out


def train_test_split(*arrays, test_size=0.25, seed=None, shuffle=True):
    """Split arrays of equal length into train and test parts: ``x_tr, x_te, y_tr, y_te, ...``."""
    if not arrays:
        raise DataError("train_test_split needs at least one array")
    n = len(arrays[0])
    for a in arrays[1:]:
        check_same_length(arrays[0], a, "the first array", "another array")
    if not 0 < test_size < 1:
        raise DataError(f"test_size must be a fraction in (0, 1), got {test_size}")
    n_test = max(1, round(float(n * test_size)))       # a Python int, half to even
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    test_idx, train_idx = order[:n_test], order[n_test:]
    out = []
    for a in arrays:
        a = np.asarray(a)
        out.extend([a[train_idx], a[test_idx]])
    return out
