"""Training targets and sample weights, checked and cast for a model's output.

:func:`prepare_target` reads ``y`` as the loss needs it (integer class labels for a sparse loss,
else floats in the model's dtype shaped like its output); :func:`sample_weights` combines
``sample_weight`` with ``class_weight`` into one weight per sample, or, for an output with a
time axis (N, T, ...), one weight per position (N, T) (see :mod:`nnscratch.losses.positions`).

An output shape may hold ``None``, a free axis (sequences of any length): the targets then take
any size there.
"""

import numpy as np

from ..data import as_numeric_array
from ..errors import ConfigError, DataError, ShapeError
from ..symbolic import fits


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
        fitting = y.ndim == 1 if wanted is None else fits(y.shape, wanted)
        if not fitting:
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
        if y.ndim == 1 and tuple(output_shape) == (1,):
            y = y.reshape(-1, 1)
        if not fits(y.shape[1:], output_shape):
            hint = ""
            if y.ndim == 1 and len(output_shape) == 1:
                hint = (" (for integer class labels use loss='sparse_categorical_crossentropy' "
                        "or one-hot encode them with nnscratch.data.one_hot)")
            raise ShapeError(f"{name} must be shaped (N,) + {tuple(output_shape)} to match the "
                             f"network's output, got shape {y.shape}{hint}")
    loss.check_targets(y, name)
    return y


def _steps(y, output_shape):
    """T when the output has a time axis, (N, T, ...) per batch (and so one weight per
    position may be given), read from the prepared targets ``y``; else None."""
    per_step = len(output_shape) >= 2 if output_shape is not None else y.ndim >= 3
    return y.shape[1] if per_step and y.ndim >= 2 else None


def _checked_weights(sample_weight, y, dtype, output_shape):
    """``sample_weight`` as finite weights >= 0 shaped (N,), or (N, T) for an output with a time
    axis, or a ShapeError / DataError saying what was expected and what came in."""
    weights = as_numeric_array(sample_weight, "sample_weight", dtype=dtype)   # finite, numeric
    n, steps = len(y), _steps(y, output_shape)
    if weights.shape in ((n,), (n, 1)):
        weights = weights.reshape(n)
    elif steps is None or weights.shape != (n, steps):
        wanted = f"(N,) = ({n},), one weight per sample"
        if steps is not None:
            wanted += f", or (N, T) = ({n}, {steps}), one weight per step of the output"
        raise ShapeError(f"sample_weight must be shaped like the leading axes of the targets "
                         f"(y shaped {y.shape}): {wanted}; got shape {weights.shape}")
    if (weights < 0).any():
        where = tuple(int(i) for i in np.argwhere(weights < 0)[0])
        raise DataError(f"sample_weight must be >= 0, got a negative weight "
                        f"{weights[where]:g} at index {where[0] if len(where) == 1 else where}")
    return weights


def _product(a, b):
    """``a * b`` of weights (N,) and (N, T) in either order: one per sample spread over the
    steps."""
    if a.ndim < b.ndim:
        a = a.reshape(a.shape + (1,) * (b.ndim - a.ndim))
    elif b.ndim < a.ndim:
        b = b.reshape(b.shape + (1,) * (a.ndim - b.ndim))
    return a * b


def sample_weights(y, sample_weight, class_weight, dtype, output_shape=None):
    """Weights from ``sample_weight`` times ``class_weight[label]``, or None.

    ``sample_weight`` gives one weight per sample, shaped (N,) (or (N, 1)); for an output with
    a time axis (N, T, ...) it may give one per position instead, shaped (N, T) like the
    leading axes of the targets (a GPT's loss on its answer tokens only: weight 0 on the
    prompt). Weights must be finite and >= 0.

    Labels come from ``y``: integer labels as they are (classes ``[0, output_shape[-1])``), a
    single column rounded (classes 0 and 1), one-hot rows by their largest entry (classes
    ``[0, columns)``); for per-step targets one label per position, which weighs that position.
    A ``class_weight`` key outside the classes is a ConfigError.
    """
    weights = None
    if sample_weight is not None:
        weights = _checked_weights(sample_weight, y, dtype, output_shape)
    if class_weight is not None:
        if not isinstance(class_weight, dict):
            raise ConfigError(f"class_weight must be a dict {{class: weight}}, got "
                              f"{type(class_weight).__name__}")
        last = output_shape[-1] if output_shape else None
        if y.ndim == 1 or (output_shape is not None and y.ndim == len(output_shape)):
            labels = y.astype(np.int64)
            classes = (last, "integer labels, one per output")
        elif y.shape[-1] == 1:
            labels = np.round(y[..., 0]).astype(np.int64)
            classes = (2, "a single column of labels 0 and 1")
        else:
            labels = np.argmax(y, axis=-1)
            classes = (y.shape[-1], "one-hot rows, one column per class")
        given = _class_weights(class_weight, *classes)
        table = np.ones(max([int(labels.max()), *given]) + 1, dtype=dtype)
        for cls, w in given.items():
            table[cls] = w
        per_class = table[labels]
        weights = per_class if weights is None else _product(weights, per_class)
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
