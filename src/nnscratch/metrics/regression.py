"""Regression metrics: MAE, MSE, RMSE and R², each a pure function beside the
:class:`~nnscratch.metrics.Metric` class that names it."""

import numpy as np

from .base import Metric
from .inputs import check_pair, check_same_size, safe_divide


def regression_pair(y_pred, y_true, what):
    """``y_pred`` and ``y_true`` checked and shaped alike."""
    y_pred, y_true = check_pair(y_pred, y_true, what)
    return y_pred, check_same_size(y_pred, y_true, what)


def mae(y_pred, y_true):
    """Mean absolute error, :math:`\\frac{1}{N K}\\sum |\\hat y - y|`."""
    y_pred, y_true = regression_pair(y_pred, y_true, "mae")
    return float(np.mean(np.abs(y_pred - y_true)))


def mse(y_pred, y_true):
    """Mean squared error, :math:`\\frac{1}{N K}\\sum (\\hat y - y)^2`."""
    y_pred, y_true = regression_pair(y_pred, y_true, "mse")
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
    y_pred, y_true = regression_pair(y_pred, y_true, "r2")
    y_pred = y_pred.reshape(len(y_pred), -1).astype(np.float64)
    y_true = y_true.reshape(len(y_true), -1).astype(np.float64)
    residual = np.sum(np.square(y_true - y_pred), axis=0)
    total = np.sum(np.square(y_true - y_true.mean(axis=0)), axis=0)
    scores = np.where(residual == 0, 1.0, 0.0)
    np.subtract(1.0, safe_divide(residual, total), out=scores, where=total != 0)
    return float(np.mean(scores))


class MeanAbsoluteError(Metric, name="mae", function=mae, greater_is_better=False):
    """mean |y_pred - y_true| (see :func:`mae`)."""


class MeanSquaredError(Metric, name="mse", function=mse, greater_is_better=False):
    """mean (y_pred - y_true)^2 (see :func:`mse`)."""


class RootMeanSquaredError(Metric, name="rmse", function=rmse, greater_is_better=False):
    """sqrt(mean (y_pred - y_true)^2) (see :func:`rmse`)."""


class R2(Metric, name="r2", function=r2):
    """Coefficient of determination (see :func:`r2`)."""
