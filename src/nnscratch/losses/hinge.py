"""Margin losses: hinge, squared hinge and categorical hinge."""

import numpy as np

from .base import Loss
from .kernels import _as_rows, _mean_per_sample, _per_sample_count


def _signed_labels(y):
    """Hinge targets in {-1, 1}; a batch whose labels are all 0 or 1 is mapped by ``2y - 1``."""
    if np.all((y == 0) | (y == 1)):
        return 2.0 * y - 1.0
    return y


class Hinge(Loss):
    """Hinge loss for labels in {-1, 1} (labels in {0, 1} are converted, as Keras does).

    .. math::

        l = \\frac{1}{m}\\sum_j \\max(1 - y_j p_j, 0), \\qquad
        \\frac{\\partial l}{\\partial p_j} = -\\frac{y_j}{m} [1 - y_j p_j > 0]

    At the kink ``y p = 1`` the subgradient 0 is taken. Targets outside [-1, 1] are refused.
    """

    name = "hinge"
    target_range = (-1.0, 1.0)
    target_meaning = "labels -1 and 1, or 0 and 1"

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return _mean_per_sample(np.maximum(1.0 - _signed_labels(y) * p, 0.0))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        y = _signed_labels(y)
        return -y * (1.0 - y * p > 0) / _per_sample_count(p)


class SquaredHinge(Loss):
    """Squared hinge loss for labels in {-1, 1} (or {0, 1}, converted); targets in [-1, 1].

    .. math::

        l = \\frac{1}{m}\\sum_j \\max(1 - y_j p_j, 0)^2, \\qquad
        \\frac{\\partial l}{\\partial p_j} = -\\frac{2}{m} y_j \\max(1 - y_j p_j, 0)
    """

    name = "squared_hinge"
    target_range = Hinge.target_range
    target_meaning = Hinge.target_meaning

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return _mean_per_sample(np.square(np.maximum(1.0 - _signed_labels(y) * p, 0.0)))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        y = _signed_labels(y)
        return (-2.0 / _per_sample_count(p)) * y * np.maximum(1.0 - y * p, 0.0)


class CategoricalHinge(Loss):
    """Categorical hinge (Keras) over the last axis, ``y`` one-hot.

    With the true score :math:`t = \\sum_k y_k p_k` and the best wrong score
    :math:`u = \\max_k (1 - y_k) p_k`, reached at :math:`k^*`:

    .. math::

        l = \\max(u - t + 1, 0), \\qquad
        \\frac{\\partial l}{\\partial p_k} = [l > 0]\\big((1 - y_k)[k = k^*] - y_k\\big)

    Ties for :math:`k^*` go to the first index; at ``l = 0`` the subgradient 0 is taken.
    """

    name = "categorical_hinge"
    target_range = (0.0, 1.0)
    target_meaning = "one-hot rows"

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        p, y = _as_rows(p), _as_rows(y)
        true_score = np.sum(y * p, axis=-1)
        wrong_score = np.max((1.0 - y) * p, axis=-1)
        return _mean_per_sample(np.maximum(wrong_score - true_score + 1.0, 0.0))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        rows_p, rows_y = _as_rows(p), _as_rows(y)
        wrong = (1.0 - rows_y) * rows_p
        true_score = np.sum(rows_y * rows_p, axis=-1, keepdims=True)
        best = np.argmax(wrong, axis=-1)[..., np.newaxis]
        active = (np.take_along_axis(wrong, best, axis=-1) - true_score + 1.0 > 0).astype(p.dtype)
        grad = -rows_y  # d(-t)/dp_k = -y_k
        # d u / dp_k = (1 - y_k) at k = k*, 0 elsewhere
        at_best = np.take_along_axis(grad, best, axis=-1) + np.take_along_axis(1.0 - rows_y, best, axis=-1)
        np.put_along_axis(grad, best, at_best, axis=-1)
        grad = grad * active
        positions = _per_sample_count(grad) // grad.shape[-1]
        return (grad / positions).reshape(p.shape)
