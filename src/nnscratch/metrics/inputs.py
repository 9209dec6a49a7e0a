"""What every metric does with its inputs first: check them, and read class labels from them.

How classes are read from outputs (:func:`class_labels`): several columns, the argmax; one
column (or a 1-D float array) of probabilities, ``p > threshold`` (0.5); a 1-D integer array,
the labels themselves.
"""

import numpy as np

from ..checks import number
from ..errors import DataError, DataTypeError, ShapeError


def check_pair(y_pred, y_true, what):
    """Both arrays as numeric NumPy arrays with the same number of rows, or a clear error."""
    arrays = []
    for name, value in (("y_pred", y_pred), ("y_true", y_true)):
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise DataTypeError(f"{what} expects numeric {name}, got dtype {array.dtype}")
        if array.ndim == 0:
            raise ShapeError(f"{what} expects {name} with one row per sample, got a scalar")
        arrays.append(array)
    y_pred, y_true = arrays
    if len(y_pred) != len(y_true):
        raise ShapeError(f"{what} expects y_pred and y_true with the same number of samples, got "
                         f"{len(y_pred)} and {len(y_true)} (shapes {y_pred.shape} and {y_true.shape})")
    if len(y_pred) == 0:
        raise DataError(f"{what} needs at least one sample, got none")
    return y_pred, y_true


def check_same_size(y_pred, y_true, what):
    """``y_true`` reshaped like ``y_pred`` (one value per output), or ShapeError."""
    if y_true.size != y_pred.size:
        raise ShapeError(f"{what} expects y_true shaped like y_pred {y_pred.shape}, got shape "
                         f"{y_true.shape}")
    return np.reshape(y_true, y_pred.shape)


def is_single_output(y_pred):
    """One probability per sample: shape (N,) of floats or (N, 1)."""
    return (y_pred.ndim == 1 and y_pred.dtype.kind == "f") or (y_pred.ndim == 2 and y_pred.shape[1] == 1)


def class_labels(y_pred, y_true, threshold=0.5):
    """Predicted and true class indices, both int64 of shape (N,).

    ``y_pred``: (N, C) scores (argmax), (N, 1) or (N,) probabilities (``p > threshold``), or
    (N,) integer labels. ``y_true``: one-hot (N, C) (argmax) or labels (N,) / (N, 1). Scores
    per step (N, T, C) with labels (N, T) or one-hot (N, T, C) count every step as a sample.
    """
    y_pred, y_true = check_pair(y_pred, y_true, "class_labels")
    threshold = number(threshold, "threshold")
    if y_pred.ndim > 2:              # one prediction per step (N, T, C): every step is a sample
        classes = y_pred.shape[-1]
        if y_true.shape == y_pred.shape:
            y_true = y_true.reshape(-1, classes)
        elif y_true.shape == y_pred.shape[:-1]:
            y_true = y_true.reshape(-1)
        else:
            raise ShapeError(f"class metrics expect y_true shaped {y_pred.shape[:-1]} (labels) or "
                             f"{y_pred.shape} (one-hot) for y_pred {y_pred.shape}, got "
                             f"{y_true.shape}")
        y_pred = y_pred.reshape(-1, classes)
    if is_single_output(y_pred):
        predicted = (y_pred.reshape(-1) > threshold).astype(np.int64)
    elif y_pred.ndim == 1:
        predicted = y_pred.astype(np.int64)
    elif y_pred.ndim == 2:
        predicted = np.argmax(y_pred, axis=-1)
    else:
        raise ShapeError(f"class metrics expect y_pred shaped (N, classes), (N, 1) or (N,), got "
                         f"shape {y_pred.shape}")
    if y_true.ndim == 2 and y_true.shape[1] > 1:
        if y_pred.ndim == 2 and y_true.shape[1] != y_pred.shape[1]:
            raise ShapeError(f"class metrics expect one-hot y_true with {y_pred.shape[1]} columns like "
                             f"y_pred, got shape {y_true.shape}")
        actual = np.argmax(y_true, axis=-1)
    elif y_true.ndim <= 2:
        actual = np.round(y_true.reshape(-1)).astype(np.int64)
    else:
        raise ShapeError(f"class metrics expect y_true as labels (N,) or one-hot (N, classes), got "
                         f"shape {y_true.shape}")
    return predicted.astype(np.int64, copy=False), actual.astype(np.int64, copy=False)


def real_steps(y_pred, y_true, mask):
    """The predictions and targets of the real steps only: ``y_pred[mask]``, ``y_true[mask]``.

    ``mask`` (N, T) is a sequence mask (True at real steps, see
    :mod:`nnscratch.layers.masking`) for ``y_pred`` (N, T, ...) and ``y_true`` (N, T, ...) or
    labels (N, T); each real step becomes one sample, masked steps are left out.
    """
    mask = np.asarray(mask)
    if mask.dtype.kind not in "biuf":
        raise DataTypeError(f"a metric's mask must hold booleans, got dtype {mask.dtype}")
    y_pred, y_true = np.asarray(y_pred), np.asarray(y_true)
    for name, array in (("y_pred", y_pred), ("y_true", y_true)):
        if mask.ndim != 2 or array.shape[:2] != mask.shape:
            raise ShapeError(f"a metric with a mask (N, T) expects {name} shaped (N, T, ...), got "
                             f"mask {mask.shape} and {name} {array.shape}")
    mask = mask.astype(bool, copy=False)
    return y_pred[mask], y_true[mask]


def safe_divide(numerator, denominator):
    """numerator / denominator, with 0 where the denominator is 0 (scikit-learn's zero_division=0)."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.zeros(np.broadcast(numerator, denominator).shape)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out
