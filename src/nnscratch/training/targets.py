"""Training targets and per-sample weights, checked and cast for a network.

:func:`prepare_target` reads ``y`` as the loss needs it (integer class labels for a sparse loss,
else floats in the network's dtype shaped like its output); :func:`sample_weights` combines
``sample_weight`` with ``class_weight`` into one weight per sample.
"""

import numpy as np

from ..data import as_numeric_array, check_same_length
from ..errors import ConfigError, DataError, ShapeError


def prepare_target(y, loss, output_shape, dtype, name="y"):
    """Check ``y`` against ``output_shape`` (None: not known yet) and cast it for ``loss``.

    A sparse loss gets integer class labels shaped (N,); any other loss floats of ``dtype``
    shaped (N,) + ``output_shape``, within the loss's ``target_range`` if it has one (a
    DataError names the first target outside it). A 1-D ``y`` is read as one column when the
    network has a single output.
    """
    if getattr(loss, "sparse_labels", False):
        y = as_numeric_array(y, name)
        # one label per output row: (N,) for outputs (N, classes), (N, T) for (N, T, classes)
        wanted = (None,) + tuple(output_shape[:-1]) if output_shape is not None else None
        if y.ndim == 2 and y.shape[1] == 1 and (wanted is None or len(wanted) == 1):
            y = y.reshape(-1)
        fits = y.ndim == 1 if wanted is None else (y.ndim == len(wanted)
                                                   and y.shape[1:] == wanted[1:])
        if not fits:
            shown = "(N,)" if wanted is None or len(wanted) == 1 else (
                "(N, " + ", ".join(map(str, wanted[1:])) + ")")
            raise ShapeError(f"{loss.name} expects {name} as integer class labels of shape "
                             f"{shown}, got shape {y.shape}")
        if y.dtype.kind == "f" and not np.all(y == np.round(y)):
            raise DataError(f"{loss.name} expects integer class labels in {name}, "
                            "got non-integer values")
        return y.astype(np.int64, copy=False)
    y = as_numeric_array(y, name, dtype=dtype)
    if output_shape is not None:
        if y.ndim == 1 and output_shape == (1,):
            y = y.reshape(-1, 1)
        if tuple(y.shape[1:]) != tuple(output_shape):
            hint = ""
            if y.ndim == 1 and len(output_shape) == 1:
                hint = (" (for integer class labels use loss='sparse_categorical_crossentropy' "
                        "or one-hot encode them with nnscratch.data.one_hot)")
            raise ShapeError(f"{name} must be shaped (N,) + {output_shape} to match the "
                             f"network's output, got shape {y.shape}{hint}")
    loss.check_targets(y, name)
    return y


def sample_weights(y, sample_weight, class_weight, dtype, output_shape=None):
    """Per-sample weights from ``sample_weight`` times ``class_weight[label]``, or None.

    Labels come from ``y``: integer labels as they are (classes ``[0, output_shape[-1])``), a
    single column rounded (classes 0 and 1), one-hot rows by their largest entry (classes
    ``[0, columns)``). A ``class_weight`` key outside the classes is a ConfigError.
    """
    weights = None
    if sample_weight is not None:
        weights = as_numeric_array(sample_weight, "sample_weight", dtype=dtype).reshape(-1)
        check_same_length(y, weights, "y", "sample_weight")
        if (weights < 0).any():
            raise DataError("sample_weight must be >= 0, got a negative weight")
    if class_weight is not None:
        if not isinstance(class_weight, dict):
            raise ConfigError(f"class_weight must be a dict {{class: weight}}, got "
                              f"{type(class_weight).__name__}")
        if y.ndim == 1:
            labels = y.astype(np.int64)
            classes = (output_shape[-1] if output_shape else None,
                       "integer labels, one per output")
        elif y.shape[-1] == 1:
            labels = np.round(y[:, 0]).astype(np.int64)
            classes = (2, "a single column of labels 0 and 1")
        else:
            labels = np.argmax(y, axis=-1)
            classes = (y.shape[-1], "one-hot rows, one column per class")
        given = _class_weights(class_weight, *classes)
        table = np.ones(max([int(labels.max()), *given]) + 1, dtype=dtype)
        for cls, w in given.items():
            table[cls] = w
        per_class = table[labels]
        weights = per_class if weights is None else weights * per_class
    return weights


def _class_weights(class_weight, classes=None, how=""):
    """``class_weight`` as ``{label: weight}`` with labels in ``[0, classes)`` (``classes`` None:
    any int >= 0; ``how`` says where the classes come from) and finite weights >= 0."""
    given = {}
    for cls, w in class_weight.items():
        try:
            label = int(cls)
        except (TypeError, ValueError):
            label = None
        if label is None or label < 0 or float(cls) != label:      # "2" and 2.0 are label 2
            raise ConfigError(f"class_weight keys must be class labels (integers >= 0), "
                              f"got {cls!r}")
        if classes is not None and label >= classes:
            raise ConfigError(f"class_weight key {cls!r} is not a class of this output: expected "
                              f"a label in [0, {classes}) ({how})")
        try:
            weight = float(w)
        except (TypeError, ValueError):
            weight = -1.0
        if not 0 <= weight < np.inf:
            raise ConfigError(f"class_weight[{cls!r}] must be a finite number >= 0, got {w!r}")
        given[label] = weight
    return given
