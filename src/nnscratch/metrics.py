"""Metrics computed on a network's outputs: ``metric(y_pred, y_true) -> float``.

``y_pred`` is what the network outputs (probabilities for a softmax/sigmoid output) and
``y_true`` the prepared targets: one-hot or integer labels for classification, values for
regression. Argument order is (prediction, target), as everywhere in nnscratch (scikit-learn
uses the opposite order).

Each metric is a pure function (``accuracy``, ``f1``, ``r2``...) and a :class:`Metric` class
around it that carries its settings and name, so ``Network(metrics=["accuracy", "f1"])`` and
``{"name": "top_k_accuracy", "k": 3}`` both work. :func:`confusion_matrix` returns a matrix,
not a scalar, and is a function only.

How classes are read from outputs (:func:`class_labels`): several columns, the argmax; one
column (or a 1-D float array) of probabilities, ``p > threshold`` (0.5); a 1-D integer array,
the labels themselves.
"""

import numpy as np

from .errors import ConfigError, DataError, DataTypeError, ShapeError
from .registry import named_subclasses, resolve, unknown_name

AVERAGES = ("macro", "micro")


# --------------------------------------------------------------------------------------------
# Input checks and class labels
# --------------------------------------------------------------------------------------------

def _pair(y_pred, y_true, what):
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


def _is_single_output(y_pred):
    """One probability per sample: shape (N,) of floats or (N, 1)."""
    return (y_pred.ndim == 1 and y_pred.dtype.kind == "f") or (y_pred.ndim == 2 and y_pred.shape[1] == 1)


def class_labels(y_pred, y_true, threshold=0.5):
    """Predicted and true class indices, both int64 of shape (N,).

    ``y_pred``: (N, C) scores (argmax), (N, 1) or (N,) probabilities (``p > threshold``), or
    (N,) integer labels. ``y_true``: one-hot (N, C) (argmax) or labels (N,) / (N, 1).
    """
    y_pred, y_true = _pair(y_pred, y_true, "class_labels")
    if _is_single_output(y_pred):
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


def _check_average(average):
    if average not in AVERAGES:
        raise ConfigError(f"average must be one of {', '.join(map(repr, AVERAGES))}, got {average!r}")
    return average


def _check_threshold(threshold):
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.floating)) \
            or not np.isfinite(threshold):
        raise ConfigError(f"threshold must be a finite number, got {threshold!r}")
    return float(threshold)


def _check_k(k):
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0:
        raise ConfigError(f"top_k_accuracy k must be a positive integer, got {k!r}")
    return int(k)


def _safe_divide(numerator, denominator):
    """numerator / denominator, with 0 where the denominator is 0 (scikit-learn's zero_division=0)."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.zeros(np.broadcast(numerator, denominator).shape)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


# --------------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------------

def accuracy(y_pred, y_true, threshold=0.5):
    """Share of samples whose predicted class is the true one.

    .. math::

        \\text{accuracy} = \\frac{1}{N} \\sum_n \\mathbb{1}[\\hat c_n = c_n]
    """
    predicted, actual = class_labels(y_pred, y_true, threshold)
    return float(np.mean(predicted == actual))


def binary_accuracy(y_pred, y_true, threshold=0.5):
    """Share of outputs on the right side of ``threshold``, over every sample and output.

    .. math::

        \\frac{1}{N K} \\sum_{n,k} \\mathbb{1}[(\\hat y_{nk} > t) = (y_{nk} > 0.5)]

    Works for one sigmoid output and for several independent ones (multi-label).
    """
    y_pred, y_true = _pair(y_pred, y_true, "binary_accuracy")
    threshold = _check_threshold(threshold)
    if y_true.size != y_pred.size:
        raise ShapeError(f"binary_accuracy expects y_true shaped like y_pred {y_pred.shape}, got "
                         f"shape {y_true.shape}")
    return float(np.mean((y_pred > threshold) == (np.reshape(y_true, y_pred.shape) > 0.5)))


def top_k_accuracy(y_pred, y_true, k=5):
    """Share of samples whose true class is among the ``k`` highest scores.

    .. math::

        \\frac{1}{N} \\sum_n \\mathbb{1}\\big[\\#\\{j : \\hat y_{nj} > \\hat y_{n c_n}\\} < k\\big]

    ``y_true`` may be one-hot or integer labels (the sparse form). A tie with the true class's
    score counts in its favour.
    """
    y_pred, y_true = _pair(y_pred, y_true, "top_k_accuracy")
    k = _check_k(k)
    if y_pred.ndim != 2 or y_pred.shape[1] < 2:
        raise ShapeError(f"top_k_accuracy expects y_pred shaped (N, classes) with 2 or more classes, "
                         f"got shape {y_pred.shape}")
    _, actual = class_labels(y_pred, y_true)
    if actual.min() < 0 or actual.max() >= y_pred.shape[1]:
        raise DataError(f"top_k_accuracy expects labels in [0, {y_pred.shape[1]}), got "
                        f"{actual.min()}..{actual.max()}")
    true_score = y_pred[np.arange(len(actual)), actual]
    higher = np.sum(y_pred > true_score[:, None], axis=1)       # rank of the true class
    return float(np.mean(higher < k))


def confusion_matrix(y_pred, y_true, num_classes=None, threshold=0.5):
    """Counts ``M[i, j]`` of samples of true class ``i`` predicted as class ``j`` (int64).

    Rows are true classes, columns predictions (scikit-learn's layout), so the diagonal holds
    the correct predictions. ``num_classes`` defaults to the width of ``y_pred`` (2 for one
    output), or to the largest label + 1 for label inputs.
    """
    predicted, actual = class_labels(y_pred, y_true, threshold)
    y_pred = np.asarray(y_pred)
    if num_classes is None:
        if y_pred.ndim == 2 and y_pred.shape[1] > 1:
            num_classes = y_pred.shape[1]
        elif _is_single_output(y_pred):
            num_classes = 2
        else:
            num_classes = int(max(predicted.max(), actual.max())) + 1
    elif isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ConfigError(f"num_classes must be a positive integer, got {num_classes!r}")
    low = min(predicted.min(), actual.min())
    high = max(predicted.max(), actual.max())
    if low < 0 or high >= num_classes:
        raise DataError(f"confusion_matrix expects class labels in [0, {num_classes}), got "
                        f"labels from {low} to {high}")
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (actual, predicted), 1)
    return matrix


def _counts(y_pred, y_true, what, threshold):
    """(true positives, false positives, false negatives) per class, and whether it is binary.

    For a single output only the positive class (1) is counted; otherwise every class that
    occurs in ``y_true`` or in the predictions.
    """
    y_pred_arr, _ = _pair(y_pred, y_true, what)
    matrix = confusion_matrix(y_pred, y_true, threshold=threshold)
    tp = np.diag(matrix)
    fp = matrix.sum(axis=0) - tp
    fn = matrix.sum(axis=1) - tp
    if _is_single_output(y_pred_arr):
        return tp[1:], fp[1:], fn[1:], True
    present = (matrix.sum(axis=0) + matrix.sum(axis=1)) > 0
    return tp[present], fp[present], fn[present], False


def _averaged(scores_per_class, tp, fp_or_fn_sum, binary, average):
    """Macro: mean of the per-class scores; micro: one score from the pooled counts."""
    if binary or average == "macro":
        return float(np.mean(scores_per_class))
    return float(_safe_divide(tp.sum(), fp_or_fn_sum))


def precision(y_pred, y_true, average="macro", threshold=0.5):
    """Of the samples predicted as a class, the share that belong to it.

    .. math::

        P_c = \\frac{TP_c}{TP_c + FP_c}, \\qquad
        P_{macro} = \\frac{1}{|C|}\\sum_c P_c, \\qquad
        P_{micro} = \\frac{\\sum_c TP_c}{\\sum_c (TP_c + FP_c)}

    With one output (a sigmoid), the precision of the positive class; ``average`` is then not
    used. Classes absent from both targets and predictions are left out of the macro mean; a
    class never predicted has precision 0 (scikit-learn's ``zero_division=0``).
    """
    average = _check_average(average)
    tp, fp, fn, binary = _counts(y_pred, y_true, "precision", threshold)
    return _averaged(_safe_divide(tp, tp + fp), tp, (tp + fp).sum(), binary, average)


def recall(y_pred, y_true, average="macro", threshold=0.5):
    """Of the samples of a class, the share predicted as that class.

    .. math::

        R_c = \\frac{TP_c}{TP_c + FN_c}, \\qquad
        R_{macro} = \\frac{1}{|C|}\\sum_c R_c, \\qquad
        R_{micro} = \\frac{\\sum_c TP_c}{\\sum_c (TP_c + FN_c)}

    Averaging and the single-output case as in :func:`precision`.
    """
    average = _check_average(average)
    tp, fp, fn, binary = _counts(y_pred, y_true, "recall", threshold)
    return _averaged(_safe_divide(tp, tp + fn), tp, (tp + fn).sum(), binary, average)


def f1(y_pred, y_true, average="macro", threshold=0.5):
    """Harmonic mean of precision and recall.

    .. math::

        F_c = \\frac{2 P_c R_c}{P_c + R_c} = \\frac{2\\,TP_c}{2\\,TP_c + FP_c + FN_c}, \\qquad
        F_{macro} = \\frac{1}{|C|}\\sum_c F_c, \\qquad
        F_{micro} = \\frac{2 \\sum_c TP_c}{\\sum_c (2\\,TP_c + FP_c + FN_c)}

    For single-label multi-class data the micro average equals the accuracy. Averaging and the
    single-output case as in :func:`precision`.
    """
    average = _check_average(average)
    tp, fp, fn, binary = _counts(y_pred, y_true, "f1", threshold)
    return _averaged(_safe_divide(2 * tp, 2 * tp + fp + fn), 2 * tp, (2 * tp + fp + fn).sum(),
                     binary, average)


# --------------------------------------------------------------------------------------------
# Regression
# --------------------------------------------------------------------------------------------

def _regression_pair(y_pred, y_true, what):
    y_pred, y_true = _pair(y_pred, y_true, what)
    if y_true.size != y_pred.size:
        raise ShapeError(f"{what} expects y_true shaped like y_pred {y_pred.shape}, got shape "
                         f"{y_true.shape}")
    return y_pred, np.reshape(y_true, y_pred.shape)


def mae(y_pred, y_true):
    """Mean absolute error, :math:`\\frac{1}{N K}\\sum |\\hat y - y|`."""
    y_pred, y_true = _regression_pair(y_pred, y_true, "mae")
    return float(np.mean(np.abs(y_pred - y_true)))


def mse(y_pred, y_true):
    """Mean squared error, :math:`\\frac{1}{N K}\\sum (\\hat y - y)^2`."""
    y_pred, y_true = _regression_pair(y_pred, y_true, "mse")
    return float(np.mean(np.square(y_pred - y_true)))


def rmse(y_pred, y_true):
    """Root mean squared error, :math:`\\sqrt{\\frac{1}{N K}\\sum (\\hat y - y)^2}`."""
    return float(np.sqrt(mse(y_pred, y_true)))


def r2(y_pred, y_true):
    """Coefficient of determination, averaged uniformly over the outputs.

    .. math::

        R^2_k = 1 - \\frac{\\sum_n (y_{nk} - \\hat y_{nk})^2}{\\sum_n (y_{nk} - \\bar y_k)^2}

    1 is a perfect fit, 0 no better than predicting the mean, negative worse. A constant
    target gives 1 when it is predicted exactly and 0 otherwise (scikit-learn's choice).
    """
    y_pred, y_true = _regression_pair(y_pred, y_true, "r2")
    y_pred = y_pred.reshape(len(y_pred), -1).astype(np.float64)
    y_true = y_true.reshape(len(y_true), -1).astype(np.float64)
    residual = np.sum(np.square(y_true - y_pred), axis=0)
    total = np.sum(np.square(y_true - y_true.mean(axis=0)), axis=0)
    scores = np.where(residual == 0, 1.0, 0.0)
    np.subtract(1.0, _safe_divide(residual, total), out=scores, where=total != 0)
    return float(np.mean(scores))


# --------------------------------------------------------------------------------------------
# Metric objects and the registry
# --------------------------------------------------------------------------------------------

class Metric:
    """A named metric with its settings: ``metric(y_pred, y_true) -> float``.

    Subclasses set ``name`` (the registry key and the key in ``fit``'s logs), ``function``
    (the pure function) and ``hyperparameters`` (keyword arguments passed on to it).
    """

    name = None
    greater_is_better = True
    hyperparameters = ()

    def __call__(self, y_pred, y_true):
        function = type(self).function
        return function(y_pred, y_true, **{p: getattr(self, p) for p in self.hyperparameters})

    def get_config(self):
        """``{"name": ..., **settings}``; ``get(config)`` rebuilds the metric."""
        return {"name": self.name, **{p: getattr(self, p) for p in self.hyperparameters}}

    def __repr__(self):
        args = ", ".join(f"{p}={getattr(self, p)!r}" for p in self.hyperparameters)
        return f"{type(self).__name__}({args})"


class Accuracy(Metric):
    """Share of samples whose predicted class (argmax, or p > 0.5 for one output) is right."""

    name = "accuracy"
    function = staticmethod(accuracy)


class BinaryAccuracy(Metric):
    """Share of outputs on the right side of ``threshold`` (see :func:`binary_accuracy`)."""

    name = "binary_accuracy"
    function = staticmethod(binary_accuracy)
    hyperparameters = ("threshold",)

    def __init__(self, threshold=0.5):
        self.threshold = _check_threshold(threshold)


class TopKAccuracy(Metric):
    """Share of samples whose true class is among the ``k`` best scores (one-hot or sparse)."""

    name = "top_k_accuracy"
    function = staticmethod(top_k_accuracy)
    hyperparameters = ("k",)

    def __init__(self, k=5):
        self.k = _check_k(k)


class _AveragedMetric(Metric):
    hyperparameters = ("average", "threshold")

    def __init__(self, average="macro", threshold=0.5):
        self.average = _check_average(average)
        self.threshold = _check_threshold(threshold)


class Precision(_AveragedMetric):
    """Precision, macro or micro averaged (see :func:`precision`)."""

    name = "precision"
    function = staticmethod(precision)


class Recall(_AveragedMetric):
    """Recall, macro or micro averaged (see :func:`recall`)."""

    name = "recall"
    function = staticmethod(recall)


class F1(_AveragedMetric):
    """F1 score, macro or micro averaged (see :func:`f1`)."""

    name = "f1"
    function = staticmethod(f1)


class MeanAbsoluteError(Metric):
    """mean |y_pred - y_true|."""

    name = "mae"
    greater_is_better = False
    function = staticmethod(mae)


class MeanSquaredError(Metric):
    """mean (y_pred - y_true)^2."""

    name = "mse"
    greater_is_better = False
    function = staticmethod(mse)


class RootMeanSquaredError(Metric):
    """sqrt(mean (y_pred - y_true)^2)."""

    name = "rmse"
    greater_is_better = False
    function = staticmethod(rmse)


class R2(Metric):
    """Coefficient of determination (see :func:`r2`)."""

    name = "r2"
    function = staticmethod(r2)


_ALIASES = {"acc": "accuracy", "categorical_accuracy": "accuracy",
            "sparse_categorical_accuracy": "accuracy",
            "top_k_categorical_accuracy": "top_k_accuracy",
            "sparse_top_k_categorical_accuracy": "top_k_accuracy",
            "f1_score": "f1", "r2_score": "r2", "r_squared": "r2",
            "mean_absolute_error": "mae", "mean_squared_error": "mse",
            "root_mean_squared_error": "rmse"}


def _table():
    """``{name: Metric subclass}``, found anew each time so that later subclasses count."""
    return named_subclasses(Metric)


def names():
    """The registered metric names, sorted."""
    return sorted(_table())


def greater_is_better(name):
    """Whether larger values of the metric (or loss) logged as ``name`` are better.

    ``"val_"`` is stripped; losses and unknown names count as lower-is-better.
    """
    table = _table()
    key = resolve(name[4:] if name.startswith("val_") else name, table, _ALIASES)
    return bool(key is not None and table[key].greater_is_better)


def get(identifier):
    """A metric from a name, a config dict (``{"name": "f1", "average": "micro"}``) or a Metric."""
    if isinstance(identifier, Metric):
        return identifier
    config = {}
    if isinstance(identifier, dict):
        config = dict(identifier)
        identifier = config.pop("name", None)
    table = _table()
    key = resolve(identifier, table, _ALIASES)
    if key is None:
        raise unknown_name("metric", identifier, names())
    try:
        return table[key](**config)
    except TypeError as exc:
        raise ConfigError(f"metric {key!r} does not take the settings {sorted(config)} "
                          f"({exc})") from None
