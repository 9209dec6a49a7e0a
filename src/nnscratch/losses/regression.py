"""Regression losses on the error itself: squared (sse, mse, rmse), absolute (mae), and
relative or count-based ones (msle, mape, poisson).
"""

import math

import numpy as np

from .base import Loss
from .kernels import (
    EPSILON,
    _batch_weights_shape,
    _mean_per_sample,
    _mean_squared_error,
    _per_sample_count,
    _sum_per_sample,
)


class SumSquaredError(Loss):
    """Sum of squared errors, summed over the batch too (the classic backpropagation cost).

    .. math::

        l_i = \\sum_j (p_{ij} - y_{ij})^2, \\qquad
        \\frac{\\partial l_i}{\\partial p_{ij}} = 2 (p_{ij} - y_{ij}), \\qquad L = \\sum_i l_i
    """

    name = "sse"
    aliases = ("sum_squared_error", "sum_of_squared_errors")
    reduction = "sum"

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return _sum_per_sample(np.square(p - y))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return 2.0 * (p - y)

    def value_and_gradient(self, y_pred, y_true, sample_weight=None):
        r"""Both from one difference ``d = p - y``: :math:`L = d \cdot d` and :math:`2 d`.

        No operation here can underflow into a warning (the dot product reports none), so this
        runs without the floating-point error scope of the general method.
        """
        if sample_weight is not None:
            return super().value_and_gradient(y_pred, y_true, sample_weight)
        p, y = self._prepare(y_pred, y_true)
        d = p - y                                   # d = p - y
        value = float(np.vdot(d, d))                # L = sum of d^2
        d *= 2.0                                    # dL/dp = 2 d
        return value, d


class MeanSquaredError(Loss):
    """Mean squared error over the ``m`` outputs of a sample.

    .. math::

        l_i = \\frac{1}{m} \\sum_j (p_{ij} - y_{ij})^2, \\qquad
        \\frac{\\partial l_i}{\\partial p_{ij}} = \\frac{2}{m} (p_{ij} - y_{ij})
    """

    name = "mse"
    aliases = ("mean_squared_error",)

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return _mean_squared_error(p, y)

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return (2.0 / _per_sample_count(p)) * (p - y)


class MeanAbsoluteError(Loss):
    """Mean absolute error. At ``p = y`` the subgradient 0 is taken (``sign(0) = 0``).

    .. math::

        l_i = \\frac{1}{m} \\sum_j |p_{ij} - y_{ij}|, \\qquad
        \\frac{\\partial l_i}{\\partial p_{ij}} = \\frac{1}{m} \\operatorname{sign}(p_{ij} - y_{ij})
    """

    name = "mae"
    aliases = ("mean_absolute_error",)

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return _mean_per_sample(np.abs(p - y))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return np.sign(p - y) / _per_sample_count(p)


class RootMeanSquaredError(Loss):
    """Root of the batch mean squared error: *not* a mean of per-sample roots.

    .. math::

        M = \\frac{1}{N} \\sum_i w_i\\, \\mathrm{mse}_i, \\qquad L = \\sqrt{M}, \\qquad
        \\frac{\\partial L}{\\partial p_{ij}} = \\frac{1}{2\\sqrt{M}} \\cdot
            \\frac{w_i}{N} \\cdot \\frac{2}{m} (p_{ij} - y_{ij})

    :meth:`value` and :meth:`gradient` are overridden for this. At ``M = 0`` (a perfect fit) the
    square root has no derivative; the gradient 0 is taken there. :meth:`per_sample` is the RMSE of
    each sample on its own, :math:`\\sqrt{\\mathrm{mse}_i}`, with the same zero guard.
    """

    name = "rmse"
    aliases = ("root_mean_squared_error",)

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return np.sqrt(_mean_squared_error(p, y))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        root = np.sqrt(_mean_squared_error(p, y))
        # d sqrt(mse_i) = d mse_i / (2 sqrt(mse_i)); 0 where mse_i = 0 (no derivative there)
        half_inverse = np.divide(0.5, root, out=np.zeros_like(root), where=root > 0)
        d_mse = (2.0 / _per_sample_count(p)) * (p - y)
        return d_mse * half_inverse.reshape(_batch_weights_shape(p.shape[0], p.ndim))

    def value(self, y_pred, y_true, sample_weight=None):
        """:math:`\\sqrt{M}`, :math:`M = \\frac{1}{N}\\sum_i w_i\\,\\mathrm{mse}_i`."""
        with np.errstate(under="ignore"):
            p, y = self._prepare(y_pred, y_true)
            return math.sqrt(self._reduce(_mean_squared_error(p, y), sample_weight))

    def gradient(self, y_pred, y_true, sample_weight=None):
        """The gradient of the batch MSE divided by :math:`2\\sqrt{M}`; zero when :math:`M = 0`."""
        with np.errstate(under="ignore"):
            p, y = self._prepare(y_pred, y_true)
            root = math.sqrt(self._reduce(_mean_squared_error(p, y), sample_weight))
            d_mse = self._scale((2.0 / _per_sample_count(p)) * (p - y), sample_weight)
            if root == 0.0:
                return np.zeros_like(d_mse)
            return d_mse * (0.5 / root)


class MeanSquaredLogarithmicError(Loss):
    """Mean squared error of ``log(1 + x)``. Values are clipped at ``-1 + eps`` first.

    .. math::

        l_i = \\frac{1}{m}\\sum_j \\big(\\log(1 + \\hat p_{ij}) - \\log(1 + \\hat y_{ij})\\big)^2,
        \\qquad \\hat x = \\max(x, -1 + \\epsilon)

    .. math::

        \\frac{\\partial l_i}{\\partial p_{ij}} = \\frac{2}{m}
            \\frac{\\log(1 + \\hat p_{ij}) - \\log(1 + \\hat y_{ij})}{1 + \\hat p_{ij}}
        \\text{ where } p_{ij} \\ge -1 + \\epsilon, \\text{ else } 0
    """

    name = "msle"
    aliases = ("mean_squared_logarithmic_error",)

    @staticmethod
    def _log_terms(p, y):
        p_hat = np.maximum(p, -1.0 + EPSILON)
        return p_hat, np.log1p(p_hat) - np.log1p(np.maximum(y, -1.0 + EPSILON))

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        _, d = self._log_terms(p, y)
        return _mean_per_sample(np.square(d))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        p_hat, d = self._log_terms(p, y)
        inside = (p_hat == p).astype(p.dtype)  # zero gradient where p was clipped
        return (2.0 / _per_sample_count(p)) * d / (1.0 + p_hat) * inside


class MeanAbsolutePercentageError(Loss):
    """Mean absolute percentage error, with Keras' floor on the denominator.

    .. math::

        l_i = \\frac{100}{m}\\sum_j \\frac{|y_{ij} - p_{ij}|}{\\max(|y_{ij}|, \\epsilon)}, \\qquad
        \\frac{\\partial l_i}{\\partial p_{ij}} = \\frac{100}{m}
            \\frac{\\operatorname{sign}(p_{ij} - y_{ij})}{\\max(|y_{ij}|, \\epsilon)}

    At ``p = y`` the subgradient 0 is taken.
    """

    name = "mape"
    aliases = ("mean_absolute_percentage_error",)

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return _mean_per_sample(100.0 * np.abs(y - p) / np.maximum(np.abs(y), EPSILON))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        scale = 100.0 / _per_sample_count(p)
        return scale * np.sign(p - y) / np.maximum(np.abs(y), EPSILON)


class Poisson(Loss):
    """Poisson negative log-likelihood up to a constant, for a predicted rate ``p >= 0``.

    .. math::

        l_i = \\frac{1}{m}\\sum_j \\big(p_{ij} - y_{ij} \\log(\\max(p_{ij}, 0) + \\epsilon)\\big),
        \\qquad \\frac{\\partial l_i}{\\partial p_{ij}} = \\frac{1}{m}\\Big(1 -
            \\frac{y_{ij}}{p_{ij} + \\epsilon}[p_{ij} > 0]\\Big)

    For ``p >= 0`` this is Keras' ``p - y log(p + eps)``; a negative rate is floored at 0 inside
    the logarithm only (so the loss stays finite and its gradient there is 1/m, pushing ``p`` up).
    At ``p = 0`` the one-sided derivative from below (no log term) is taken.
    """

    name = "poisson"

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return _mean_per_sample(p - y * np.log(np.maximum(p, 0.0) + EPSILON))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        rate = np.maximum(p, 0.0) + EPSILON
        return (1.0 - y / rate * (p > 0)) / _per_sample_count(p)
