"""Similarity and overlap losses: cosine similarity, Dice and Tversky."""

import numpy as np

from .. import checks
from .base import Loss
from .kernels import _NORM_EPSILON, EPSILON, _as_rows, _mean_per_sample, _per_sample_count


class CosineSimilarity(Loss):
    """Negative cosine similarity along the last axis (Keras' sign: -1 is a perfect match).

    With :math:`n(x) = \\sqrt{\\max(\\lVert x \\rVert^2, 10^{-12})}`, :math:`\\hat p = p / n(p)`,
    :math:`\\hat y = y / n(y)`:

    .. math::

        l = -\\hat y \\cdot \\hat p, \\qquad
        \\frac{\\partial l}{\\partial p} = -\\frac{\\hat y - (\\hat y \\cdot \\hat p)\\, \\hat p}{n(p)}

    (where :math:`\\lVert p \\rVert^2 \\le 10^{-12}` the norm is the constant floor and the
    gradient is :math:`-\\hat y / n(p)`). Axes between the batch and the last one are averaged.
    """

    name = "cosine_similarity"
    aliases = ("cosine",)

    @staticmethod
    def _normalize(x):
        squared = np.sum(np.square(x), axis=-1, keepdims=True)
        norm = np.sqrt(np.maximum(squared, _NORM_EPSILON))
        return x / norm, norm, squared > _NORM_EPSILON

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        p_hat, _, _ = self._normalize(_as_rows(p))
        y_hat, _, _ = self._normalize(_as_rows(y))
        return _mean_per_sample(-np.sum(y_hat * p_hat, axis=-1))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        p_hat, norm, normalized = self._normalize(_as_rows(p))
        y_hat, _, _ = self._normalize(_as_rows(y))
        cos = np.sum(y_hat * p_hat, axis=-1, keepdims=True)
        grad = -(y_hat - normalized * cos * p_hat) / norm
        positions = _per_sample_count(grad) // grad.shape[-1]
        return (grad / positions).reshape(p.shape)


class Dice(Loss):
    """Dice loss (Keras' form) per sample, over all its outputs, for probabilities in [0, 1].

    With :math:`\\hat p = \\operatorname{clip}(p, 0, 1)` (zero gradient where clipped),
    :math:`I = \\sum_j y_j \\hat p_j` and :math:`U = \\sum_j y_j + \\sum_j \\hat p_j + \\epsilon`:

    .. math::

        l = 1 - \\frac{2 I}{U}, \\qquad
        \\frac{\\partial l}{\\partial p_j} = -\\frac{2 (y_j U - I)}{U^2}

    Keras reduces over the whole batch by default; here each sample has its own score, so the
    loss is a mean over samples like every other loss.
    """

    name = "dice"
    aliases = ("dice_loss",)

    @staticmethod
    def _terms(p, y):
        n = p.shape[0]
        pc = np.clip(p, 0.0, 1.0)
        inside = (pc == p).astype(p.dtype)
        flat_p, flat_y = pc.reshape(n, -1), y.reshape(n, -1)
        intersection = np.sum(flat_y * flat_p, axis=1, keepdims=True)
        union = np.sum(flat_y, axis=1, keepdims=True) + np.sum(flat_p, axis=1, keepdims=True) + EPSILON
        return flat_y, inside, intersection, union

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        _, _, intersection, union = self._terms(p, y)
        return 1.0 - 2.0 * intersection[:, 0] / union[:, 0]

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        flat_y, inside, intersection, union = self._terms(p, y)
        grad = -2.0 * (flat_y * union - intersection) / np.square(union)
        return grad.reshape(p.shape) * inside


class Tversky(Loss):
    """Tversky loss, a Dice loss that weighs false positives by ``alpha`` and misses by ``beta``.

    With :math:`\\hat p = \\operatorname{clip}(p, 0, 1)` (zero gradient where clipped), per sample
    :math:`T_p = \\sum y \\hat p`, :math:`F_p = \\sum (1 - y) \\hat p`,
    :math:`F_n = \\sum y (1 - \\hat p)` and :math:`B = T_p + \\alpha F_p + \\beta F_n + \\epsilon`:

    .. math::

        l = 1 - \\frac{T_p}{B}, \\qquad
        \\frac{\\partial l}{\\partial p_j} = -\\frac{y_j B - T_p \\big(y_j + \\alpha (1 - y_j)
            - \\beta y_j\\big)}{B^2}

    ``alpha = beta = 0.5`` is the Dice loss.
    """

    name = "tversky"
    aliases = ("tversky_loss",)
    hyperparameters = ("alpha", "beta")

    def __init__(self, alpha=0.5, beta=0.5):
        self.alpha = checks.number(alpha, f"{self.name} alpha", low=0.0)
        self.beta = checks.number(beta, f"{self.name} beta", low=0.0)

    def _terms(self, p, y):
        n = p.shape[0]
        pc = np.clip(p, 0.0, 1.0)
        inside = (pc == p).astype(p.dtype)
        flat_p, flat_y = pc.reshape(n, -1), y.reshape(n, -1)
        true_pos = np.sum(flat_y * flat_p, axis=1, keepdims=True)
        false_pos = np.sum((1.0 - flat_y) * flat_p, axis=1, keepdims=True)
        false_neg = np.sum(flat_y * (1.0 - flat_p), axis=1, keepdims=True)
        denominator = true_pos + self.alpha * false_pos + self.beta * false_neg + EPSILON
        return flat_y, inside, true_pos, denominator

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        _, _, true_pos, denominator = self._terms(p, y)
        return 1.0 - true_pos[:, 0] / denominator[:, 0]

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        flat_y, inside, true_pos, denominator = self._terms(p, y)
        d_denominator = flat_y + self.alpha * (1.0 - flat_y) - self.beta * flat_y
        grad = -(flat_y * denominator - true_pos * d_denominator) / np.square(denominator)
        return grad.reshape(p.shape) * inside
