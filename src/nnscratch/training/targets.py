"""Training targets and sample weights, checked and cast for a model's output.

:func:`prepare_target` reads ``y`` as the loss needs it (integer class labels for a sparse loss,
else floats in the model's dtype shaped like its output); :func:`sample_weights` combines
``sample_weight`` with ``class_weight`` into one weight per sample, or, for an output with a
time axis (N, T, ...), one weight per position (N, T) (see :mod:`nnscratch.losses.positions`).

An output shape may hold ``None``, a free axis (sequences of any length): the targets then take
any size there.

**Text class labels.** ``y`` may hold strings (``["cat", "dog", ...]``) for a model with one
output: ``fit`` learns the classes, sorted (:func:`learn_class_labels`), and keeps them as the
model's ``class_labels``; every target is then mapped to its class index (:func:`encode_labels`):
integer labels for a sparse loss, one-hot rows for an output of one unit per class, a 0/1 column
for a single sigmoid output of two classes. ``class_weight`` may then be keyed by the labels.
"""

import numpy as np

from ..checks import choice
from ..data import as_numeric_array
from ..errors import ConfigError, DataError, ShapeError
from ..symbolic import fits


def is_text(y):
    """Whether ``y`` holds class labels written as text (str or bytes), not numbers."""
    if isinstance(y, (str, bytes, dict)) or not hasattr(y, "__len__"):
        return False
    try:
        array = np.asarray(y)
    except (ValueError, TypeError):
        return False
    if array.dtype.kind in "US":
        return True
    return (array.dtype.kind == "O" and array.size > 0
            and all(isinstance(item, (str, bytes)) for item in array.flat))


def learn_class_labels(y, known=None):
    """The class labels of text ``y``: ``known`` when there are some, else the sorted distinct
    labels of ``y`` as a list of str (None when ``y`` is not text)."""
    if known is not None or not is_text(y):
        return known
    labels = np.unique(np.asarray(y).astype(str).reshape(-1))
    if len(labels) < 2:
        raise DataError(f"y holds text class labels of one class only ({labels[0]!r}); "
                        "classification needs at least two")
    return [str(label) for label in labels]


def fit_class_labels(model, y, class_weight):
    """The ``class_labels`` of ``model`` for a ``fit`` on targets ``y``: learnt from text
    labels when it has none (a model with one output), else as they are. A ``"balanced"``
    ``class_weight`` needs arrays ``y`` (a data source's batches would each count their own)."""
    if isinstance(class_weight, str) and y is None:
        raise ConfigError("class_weight='balanced' counts the classes of arrays y; with a data "
                          "source give a dict {class: weight}")
    if y is None or (model.built and len(model.outputs) > 1):
        return model.class_labels
    return learn_class_labels(y, model.class_labels)


def encode_labels(y, classes, name="y"):
    """The class index (int64) of each text label of ``y`` in ``classes`` (the model's
    ``class_labels``); a label that is not one of them is a DataError naming it."""
    labels = np.asarray(y).astype(str)
    if classes is None:
        raise DataError(f"{name} holds text class labels ({labels.flat[0]!r}...) but the model "
                        "knows no classes yet: fit it on arrays first (which learns them), or "
                        "set model.class_labels to the list of labels")
    table = np.asarray(classes, dtype=str)
    order = np.argsort(table)
    index = np.clip(np.searchsorted(table, labels, sorter=order), 0, len(table) - 1)
    index = order[index]
    unknown = table[index] != labels
    if unknown.any():
        raise DataError(f"{name} holds the label {str(labels[unknown].flat[0])!r}, which is not one "
                        f"of the model's {len(table)} classes ({', '.join(map(repr, classes))})")
    return index.astype(np.int64)


def predicted_labels(output, classes=None, threshold=0.5):
    """The class each row of ``output`` (N, ..., units) scores highest: the argmax over the
    last axis, or ``p > threshold`` for one unit; as labels of ``classes`` when given, else as
    indices (int64)."""
    if isinstance(output, list):
        raise ConfigError("predict_labels needs a model with one output; this one has "
                          f"{len(output)}")
    output = np.asarray(output)
    if output.shape[-1] == 1:
        index = (output[..., 0] > threshold).astype(np.int64)
    else:
        index = np.argmax(output, axis=-1)
    return index if classes is None else np.asarray(classes)[index]


def _indices_for(loss, output_shape, index, dtype):
    """Class indices shaped for ``loss`` and ``output_shape``: integer labels (sparse loss),
    a 0/1 column (one output unit) or one-hot rows (one unit per class)."""
    if getattr(loss, "sparse_labels", False):
        return index
    units = output_shape[-1] if output_shape else None
    if units == 1:
        return index.astype(dtype).reshape(index.shape + (1,))
    columns = units or int(index.max()) + 1
    return (index[..., None] == np.arange(columns)).astype(dtype)


def prepare_target(y, loss, output_shape, dtype, name="y", classes=None):
    """Check ``y`` against ``output_shape`` (None: not known yet) and cast it for ``loss``.

    A sparse loss gets integer class labels shaped (N,); any other loss floats of ``dtype``
    shaped (N,) + ``output_shape``, within the loss's ``target_range`` if it has one (a
    DataError names the first target outside it). A 1-D ``y`` is read as one column when the
    network has a single output. Text labels are mapped to their index in ``classes`` first
    (see the module docstring).
    """
    if is_text(y):
        index = encode_labels(y, classes, name)
        if output_shape and output_shape[-1] not in (1, len(classes)):
            raise ShapeError(f"{name} holds {len(classes)} classes, but the output has "
                             f"{output_shape[-1]} units (one per class, or one for two classes)")
        if output_shape and output_shape[-1] == 1 and len(classes) != 2:
            raise ShapeError(f"one output unit scores two classes, {name} holds "
                             f"{len(classes)}; give the output one unit per class")
        y = _indices_for(loss, output_shape, index, dtype)
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


def sample_weights(y, sample_weight, class_weight, dtype, output_shape=None, classes=None):
    """Weights from ``sample_weight`` times ``class_weight[label]``, or None.

    ``sample_weight`` gives one weight per sample, shaped (N,) (or (N, 1)); for an output with
    a time axis (N, T, ...) it may give one per position instead, shaped (N, T) like the
    leading axes of the targets (a GPT's loss on its answer tokens only: weight 0 on the
    prompt). Weights must be finite and >= 0.

    Labels come from ``y``: integer labels as they are (classes ``[0, output_shape[-1])``), a
    single column rounded (classes 0 and 1), one-hot rows by their largest entry (classes
    ``[0, columns)``); for per-step targets one label per position, which weighs that position.
    A ``class_weight`` key outside the classes is a ConfigError; with text ``classes`` (the
    model's ``class_labels``) a key may be a label. ``class_weight="balanced"`` weighs class
    :math:`c` by :math:`n / (k \\, n_c)`, :math:`n_c` of the :math:`n` labels being :math:`c` and
    :math:`k` classes present, as scikit-learn's ``compute_class_weight``.
    """
    weights = None
    if sample_weight is not None:
        weights = _checked_weights(sample_weight, y, dtype, output_shape)
    if class_weight is not None:
        if not isinstance(class_weight, (dict, str)):
            raise ConfigError(f"class_weight must be a dict {{class: weight}} or 'balanced', "
                              f"got {type(class_weight).__name__}")
        classes_of_text = classes
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
        if isinstance(class_weight, str):
            choice(class_weight, "class_weight", ("balanced",))
            class_weight = balanced(labels)
        elif classes_of_text is not None:
            class_weight = {_label_key(key, classes_of_text): w for key, w in class_weight.items()}
        given = _class_weights(class_weight, *classes)
        table = np.ones(max([int(labels.max()), *given]) + 1, dtype=dtype)
        for cls, w in given.items():
            table[cls] = w
        per_class = table[labels]
        weights = per_class if weights is None else _product(weights, per_class)
    return weights


def balanced(labels):
    """``{label: n / (k * n_label)}`` over the ``k`` labels present among the ``n`` of
    ``labels`` (scikit-learn's "balanced" class weights)."""
    present, counts = np.unique(labels, return_counts=True)
    # w_c = n / (k n_c)
    weights = len(np.reshape(labels, -1)) / (len(present) * counts.astype(np.float64))
    return {int(label): float(w) for label, w in zip(present, weights)}


def _label_key(key, classes):
    """A ``class_weight`` key: its index when it is one of the text ``classes``, else itself."""
    if isinstance(key, (str, bytes)):
        text = key.decode() if isinstance(key, bytes) else key
        if text in classes:
            return list(classes).index(text)
    return key


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
