"""The confusion matrix, and the per-class counts that precision, recall and F1 read from it."""

import numpy as np

from ..checks import positive_int
from ..errors import DataError
from .inputs import check_pair, class_labels, is_single_output


def confusion_matrix(y_pred, y_true, num_classes=None, threshold=0.5):
    """Counts ``M[i, j]`` of samples of true class ``i`` predicted as class ``j`` (int64).

    .. math::

        M_{ij} = \\sum_n \\mathbb{1}[c_n = i]\\,\\mathbb{1}[\\hat c_n = j]

    Rows are true classes, columns predictions (scikit-learn's layout), so the diagonal holds
    the correct predictions. ``num_classes`` defaults to the width of ``y_pred`` (2 for one
    output), or to the largest label + 1 for label inputs.
    """
    predicted, actual = class_labels(y_pred, y_true, threshold)
    y_pred = np.asarray(y_pred)
    if num_classes is None:
        if y_pred.ndim == 2 and y_pred.shape[1] > 1:
            num_classes = y_pred.shape[1]
        elif is_single_output(y_pred):
            num_classes = 2
        else:
            num_classes = int(max(predicted.max(), actual.max())) + 1
    else:
        num_classes = positive_int(num_classes, "confusion_matrix num_classes")
    low = min(predicted.min(), actual.min())
    high = max(predicted.max(), actual.max())
    if low < 0 or high >= num_classes:
        raise DataError(f"confusion_matrix expects class labels in [0, {num_classes}), got "
                        f"labels from {low} to {high}")
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (actual, predicted), 1)
    return matrix


def class_counts(y_pred, y_true, what, threshold):
    """(true positives, false positives, false negatives) per class, and whether it is binary.

    From the confusion matrix: :math:`TP_c = M_{cc}`, :math:`FP_c = \\sum_i M_{ic} - TP_c`,
    :math:`FN_c = \\sum_j M_{cj} - TP_c`. For a single output only the positive class (1) is
    counted; otherwise every class that occurs in ``y_true`` or in the predictions.
    """
    y_pred_array, _ = check_pair(y_pred, y_true, what)
    matrix = confusion_matrix(y_pred, y_true, threshold=threshold)
    tp = np.diag(matrix)
    fp = matrix.sum(axis=0) - tp
    fn = matrix.sum(axis=1) - tp
    if is_single_output(y_pred_array):
        return tp[1:], fp[1:], fn[1:], True
    present = (matrix.sum(axis=0) + matrix.sum(axis=1)) > 0
    return tp[present], fp[present], fn[present], False
