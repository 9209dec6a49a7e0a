"""Classification metrics: accuracy, binary and top-k accuracy, precision, recall and F1,
each a pure function beside the :class:`~nnscratch.metrics.Metric` class that names it."""

import numpy as np

from ..checks import choice, number, positive_int
from ..errors import DataError, ShapeError
from .base import Metric
from .confusion import class_counts
from .inputs import check_pair, check_same_size, class_labels, safe_divide

AVERAGES = ("macro", "micro")


# --------------------------------------------------------------------------------------------
# Pure functions
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
    y_pred, y_true = check_pair(y_pred, y_true, "binary_accuracy")
    threshold = number(threshold, "binary_accuracy threshold")
    y_true = check_same_size(y_pred, y_true, "binary_accuracy")
    return float(np.mean((y_pred > threshold) == (y_true > 0.5)))


def top_k_accuracy(y_pred, y_true, k=5):
    """Share of samples whose true class is among the ``k`` highest scores.

    .. math::

        \\frac{1}{N} \\sum_n \\mathbb{1}\\big[\\#\\{j : \\hat y_{nj} > \\hat y_{n c_n}\\} < k\\big]

    ``y_true`` may be one-hot or integer labels (the sparse form). A tie with the true class's
    score counts in its favour.
    """
    y_pred, y_true = check_pair(y_pred, y_true, "top_k_accuracy")
    k = positive_int(k, "top_k_accuracy k")
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


def averaged(scores_per_class, tp, fp_or_fn_sum, binary, average):
    """Macro: mean of the per-class scores; micro: one score from the pooled counts."""
    if binary or average == "macro":
        return float(np.mean(scores_per_class))
    return float(safe_divide(tp.sum(), fp_or_fn_sum))


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
    average = choice(average, "precision average", AVERAGES)
    tp, fp, _, binary = class_counts(y_pred, y_true, "precision", threshold)
    return averaged(safe_divide(tp, tp + fp), tp, (tp + fp).sum(), binary, average)


def recall(y_pred, y_true, average="macro", threshold=0.5):
    """Of the samples of a class, the share predicted as that class.

    .. math::

        R_c = \\frac{TP_c}{TP_c + FN_c}, \\qquad
        R_{macro} = \\frac{1}{|C|}\\sum_c R_c, \\qquad
        R_{micro} = \\frac{\\sum_c TP_c}{\\sum_c (TP_c + FN_c)}

    Averaging and the single-output case as in :func:`precision`.
    """
    average = choice(average, "recall average", AVERAGES)
    tp, _, fn, binary = class_counts(y_pred, y_true, "recall", threshold)
    return averaged(safe_divide(tp, tp + fn), tp, (tp + fn).sum(), binary, average)


def f1(y_pred, y_true, average="macro", threshold=0.5):
    """Harmonic mean of precision and recall.

    .. math::

        F_c = \\frac{2 P_c R_c}{P_c + R_c} = \\frac{2\\,TP_c}{2\\,TP_c + FP_c + FN_c}, \\qquad
        F_{macro} = \\frac{1}{|C|}\\sum_c F_c, \\qquad
        F_{micro} = \\frac{2 \\sum_c TP_c}{\\sum_c (2\\,TP_c + FP_c + FN_c)}

    For single-label multi-class data the micro average equals the accuracy. Averaging and the
    single-output case as in :func:`precision`.
    """
    average = choice(average, "f1 average", AVERAGES)
    tp, fp, fn, binary = class_counts(y_pred, y_true, "f1", threshold)
    return averaged(safe_divide(2 * tp, 2 * tp + fp + fn), 2 * tp, (2 * tp + fp + fn).sum(),
                    binary, average)


# --------------------------------------------------------------------------------------------
# Metric classes
# --------------------------------------------------------------------------------------------

class Accuracy(Metric, name="accuracy", function=accuracy):
    """Share of samples whose predicted class (argmax, or p > 0.5 for one output) is right."""


class BinaryAccuracy(Metric, name="binary_accuracy", function=binary_accuracy):
    """Share of outputs on the right side of ``threshold`` (see :func:`binary_accuracy`)."""

    hyperparameters = ("threshold",)

    def __init__(self, threshold=0.5):
        self.threshold = number(threshold, "BinaryAccuracy threshold")


class TopKAccuracy(Metric, name="top_k_accuracy", function=top_k_accuracy):
    """Share of samples whose true class is among the ``k`` best scores (one-hot or sparse)."""

    hyperparameters = ("k",)

    def __init__(self, k=5):
        self.k = positive_int(k, "TopKAccuracy k")


class AveragedMetric(Metric):
    """Base of the metrics counted per class and averaged (``"macro"`` or ``"micro"``)."""

    hyperparameters = ("average", "threshold")

    def __init__(self, average="macro", threshold=0.5):
        self.average = choice(average, f"{type(self).__name__} average", AVERAGES)
        self.threshold = number(threshold, f"{type(self).__name__} threshold")


class Precision(AveragedMetric, name="precision", function=precision):
    """Precision, macro or micro averaged (see :func:`precision`)."""


class Recall(AveragedMetric, name="recall", function=recall):
    """Recall, macro or micro averaged (see :func:`recall`)."""


class F1(AveragedMetric, name="f1", function=f1):
    """F1 score, macro or micro averaged (see :func:`f1`)."""
