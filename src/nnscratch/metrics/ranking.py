"""Ranking metrics: the area under the ROC curve and the average precision.

Both score how well the outputs *order* the samples (positives above negatives), whatever the
threshold, so they read probabilities or any scores. They are computed as scikit-learn
computes ``roc_auc_score`` and ``average_precision_score``, step for step, ties included:

1. sort the samples by score, highest first; every distinct score is a threshold, so samples
   with tied scores enter together (:func:`binary_curve`);
2. count the (weighted) true and false positives above each threshold,
   :math:`TP_k` and :math:`FP_k`;
3. ROC: the points :math:`(FPR_k, TPR_k) = (FP_k / FP, TP_k / P)` from :math:`(0, 0)`, the
   area by the trapezoidal rule (a tie is a diagonal segment: it counts half);
   average precision: :math:`AP = \\sum_k (R_k - R_{k-1}) P_k` with :math:`P_k = TP_k /
   (TP_k + FP_k)` and :math:`R_k = TP_k / P`, no interpolation.

One output column (a sigmoid) is the binary case; several columns are scored one class against
the rest and averaged: ``"macro"`` the mean over classes, ``"micro"`` one curve over every
(sample, class) pair. The targets are labels (N,) or one-hot / multi-hot rows (N, C). Where
the area is not defined (no positive or no negative sample) ROC AUC is NaN; the average
precision without a positive is 0, as in scikit-learn.
"""

import numpy as np

from ..checks import choice
from ..data import as_numeric_array
from ..errors import DataError, ShapeError
from .base import Metric
from .classification import AVERAGES
from .inputs import check_pair


def binary_curve(y_score, y_true, sample_weight=None):
    """``(fps, tps)``: the weighted false and true positives above each distinct score,
    highest score first (scikit-learn's ``_binary_clf_curve``)."""
    order = np.argsort(y_score, kind="mergesort")[::-1]
    y_score, y_true = y_score[order], y_true[order]
    weight = 1.0 if sample_weight is None else sample_weight[order]
    # a threshold at each change of score, and the last sample: tied samples enter together
    distinct = np.where(np.diff(y_score))[0]
    ends = np.r_[distinct, y_true.size - 1]
    tps = np.cumsum(y_true * weight, dtype=np.float64)[ends]
    if sample_weight is None:
        fps = 1 + ends - tps
    else:
        fps = np.cumsum((1 - y_true) * weight, dtype=np.float64)[ends]
    return fps, tps


def _binary_roc_auc(y_score, y_true, sample_weight):
    """Area under the ROC curve of one column; NaN without positives or negatives."""
    fps, tps = binary_curve(y_score, y_true, sample_weight)
    # leave out the points in the middle of a straight segment (scikit-learn's drop_intermediate)
    if len(fps) > 2:
        keep = np.where(np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True])[0]
        fps, tps = fps[keep], tps[keep]
    fps, tps = np.r_[0, fps], np.r_[0, tps]
    if fps[-1] <= 0 or tps[-1] <= 0:
        return float("nan")
    fpr, tpr = fps / fps[-1], tps / tps[-1]
    # trapezoidal rule: sum_k (FPR_k - FPR_{k-1}) (TPR_k + TPR_{k-1}) / 2
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def _binary_average_precision(y_score, y_true, sample_weight):
    """Average precision of one column; 0 without positives."""
    fps, tps = binary_curve(y_score, y_true, sample_weight)
    if tps[-1] <= 0:
        return 0.0
    predicted = tps + fps
    precision = np.divide(tps, predicted, out=np.zeros_like(tps), where=predicted != 0)
    recall = tps / tps[-1]
    # AP = sum_k (R_k - R_{k-1}) P_k, from R_0 = 0
    return float(np.sum(np.diff(np.r_[0, recall]) * precision))


def _columns(y_pred, y_true, sample_weight, what):
    """``(scores, targets, weights)``: scores and 0/1 targets (N, C) as float64, weights (N,)
    or None, checked."""
    y_pred, y_true = check_pair(y_pred, y_true, what)
    if y_pred.ndim == 1 or (y_pred.ndim == 2 and y_pred.shape[1] == 1):
        scores = y_pred.reshape(-1, 1)
        if y_true.size != len(scores):
            raise ShapeError(f"{what} with one output column expects y_true (N,) or (N, 1), got "
                             f"shape {y_true.shape}")
        targets = y_true.reshape(-1, 1)
    elif y_pred.ndim == 2:
        scores = y_pred
        if y_true.shape == y_pred.shape:
            targets = y_true                                      # one-hot or multi-hot rows
        elif y_true.ndim == 1 or (y_true.ndim == 2 and y_true.shape[1] == 1):
            labels = np.round(y_true.reshape(-1)).astype(np.int64)
            if labels.min() < 0 or labels.max() >= scores.shape[1]:
                raise DataError(f"{what} expects labels in [0, {scores.shape[1]}), got "
                                f"{labels.min()}..{labels.max()}")
            targets = labels[:, None] == np.arange(scores.shape[1])
        else:
            raise ShapeError(f"{what} expects y_true as labels (N,) or rows shaped like y_pred "
                             f"{y_pred.shape}, got shape {y_true.shape}")
    else:
        raise ShapeError(f"{what} expects y_pred shaped (N,), (N, 1) or (N, classes), got "
                         f"shape {y_pred.shape}")
    weights = None
    if sample_weight is not None:
        weights = as_numeric_array(sample_weight, "sample_weight", dtype=np.float64).reshape(-1)
        if len(weights) != len(scores):
            raise ShapeError(f"{what} expects one sample_weight per sample ({len(scores)}), got "
                             f"{len(weights)}")
    return scores.astype(np.float64), (targets > 0.5).astype(np.float64), weights


def _averaged(binary_score, y_pred, y_true, average, sample_weight, what):
    """``binary_score`` of one column, or over several: their macro mean, or micro (one
    curve over every sample and class)."""
    average = choice(average, f"{what} average", AVERAGES)
    scores, targets, weights = _columns(y_pred, y_true, sample_weight, what)
    if scores.shape[1] == 1:
        return binary_score(scores[:, 0], targets[:, 0], weights)
    if average == "micro":
        repeated = None if weights is None else np.repeat(weights, scores.shape[1])
        return binary_score(scores.reshape(-1), targets.reshape(-1), repeated)
    return float(np.mean([binary_score(scores[:, c], targets[:, c], weights)
                          for c in range(scores.shape[1])]))


def roc_auc(y_pred, y_true, average="macro", sample_weight=None):
    """Area under the ROC curve: the chance that a random positive scores above a random
    negative (a tie counts half).

    .. math::

        \\text{AUC} = \\sum_k (FPR_k - FPR_{k-1}) \\, \\frac{TPR_k + TPR_{k-1}}{2}

    One column: binary. Several: each class against the rest, ``average`` "macro" (the mean
    over classes, as scikit-learn's ``multi_class="ovr"``) or "micro". NaN where a class has
    no positive or no negative sample. See the module docstring for ties.
    """
    return _averaged(_binary_roc_auc, y_pred, y_true, average, sample_weight, "roc_auc")


def average_precision(y_pred, y_true, average="macro", sample_weight=None):
    """Average precision: the precision at each threshold weighted by the recall it adds.

    .. math::

        AP = \\sum_k (R_k - R_{k-1}) \\, P_k

    Averaging as in :func:`roc_auc`; 0 for a class without a positive sample.
    """
    return _averaged(_binary_average_precision, y_pred, y_true, average, sample_weight,
                     "average_precision")


class RankingMetric(Metric):
    """Base of the metrics that rank by score, averaged ``"macro"`` or ``"micro"`` over
    classes."""

    hyperparameters = ("average",)

    def __init__(self, average="macro"):
        self.average = choice(average, f"{type(self).__name__} average", AVERAGES)


class ROCAUC(RankingMetric, name="roc_auc", function=roc_auc):
    """Area under the ROC curve (see :func:`roc_auc`); alias ``roc_auc_score``."""


class AveragePrecision(RankingMetric, name="average_precision", function=average_precision):
    """Average precision (see :func:`average_precision`); alias ``average_precision_score``."""
