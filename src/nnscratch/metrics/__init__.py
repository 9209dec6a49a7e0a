"""Metrics computed on a network's outputs: ``metric(y_pred, y_true) -> float``.

``y_pred`` is what the network outputs (probabilities for a softmax/sigmoid output) and
``y_true`` the prepared targets: one-hot or integer labels for classification, values for
regression. Argument order is (prediction, target), as everywhere in nnscratch (scikit-learn
uses the opposite order).

Each metric is a pure function (``accuracy``, ``f1``, ``r2``...) and a :class:`Metric` class
around it that carries its settings and name, so ``Network(metrics=["accuracy", "f1"])`` and
``{"name": "top_k_accuracy", "k": 3}`` both work. :func:`confusion_matrix` returns a matrix,
not a scalar, and is a function only.

- ``inputs.py``: input checks, :func:`class_labels` (how classes are read from outputs) and
  :func:`real_steps` (a sequence mask: every metric takes ``mask=`` and scores real steps only);
- ``confusion.py``: :func:`confusion_matrix` and the per-class counts behind precision/recall;
- ``classification.py``: accuracy, binary and top-k accuracy, precision, recall, F1;
- ``regression.py``: MAE, MSE, RMSE, R²;
- ``ranking.py``: ROC AUC and average precision (binary, or one class against the rest);
- ``base.py``: :class:`Metric` and the registry behind :func:`get`, :func:`names` and
  :func:`greater_is_better` (aliases such as ``acc`` -> ``accuracy``).
"""

from .base import ALIASES, REGISTRY, Metric, get, greater_is_better, names
from .classification import (
    AVERAGES,
    F1,
    Accuracy,
    AveragedMetric,
    BinaryAccuracy,
    Precision,
    Recall,
    TopKAccuracy,
    accuracy,
    binary_accuracy,
    f1,
    precision,
    recall,
    top_k_accuracy,
)
from .confusion import confusion_matrix
from .inputs import class_labels, real_steps
from .ranking import ROCAUC, AveragePrecision, RankingMetric, average_precision, roc_auc
from .regression import R2, MeanAbsoluteError, MeanSquaredError, RootMeanSquaredError, mae, mse, r2, rmse

__all__ = ["Metric", "REGISTRY", "ALIASES", "get", "names", "greater_is_better", "AVERAGES",
           "class_labels", "real_steps", "confusion_matrix", "accuracy", "binary_accuracy",
           "top_k_accuracy", "precision", "recall", "f1", "mae", "mse", "rmse", "r2", "Accuracy",
           "BinaryAccuracy", "TopKAccuracy", "AveragedMetric", "Precision", "Recall", "F1",
           "MeanAbsoluteError", "MeanSquaredError", "RootMeanSquaredError", "R2", "roc_auc",
           "average_precision", "RankingMetric", "ROCAUC", "AveragePrecision"]
