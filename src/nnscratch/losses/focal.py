"""Focal cross-entropies (Lin et al., 2017): binary and categorical."""

import numpy as np

from .. import checks
from .base import LogitsOrProbabilities
from .crossentropy import binary_crossentropy, binary_crossentropy_gradient, categorical_probabilities
from .kernels import (
    _as_rows,
    _clip_probability,
    _mean_over_positions,
    _mean_per_sample,
    _per_sample_count,
    _sigmoid,
)


class _Focal(LogitsOrProbabilities):
    """The hyperparameters both focal losses share: the focusing exponent ``gamma >= 0`` and
    the class-balancing weight ``alpha`` in [0, 1] (None: no weighting)."""

    hyperparameters = ("gamma", "alpha", "from_logits")

    def __init__(self, gamma=2.0, alpha=None, from_logits=False):
        self.gamma = checks.number(gamma, f"{self.name} gamma", low=0.0)
        self.alpha = None if alpha is None else checks.number(alpha, f"{self.name} alpha",
                                                              low=0.0, high=1.0)
        super().__init__(from_logits)


class BinaryFocalCrossentropy(_Focal):
    """Binary focal cross-entropy (Lin et al. 2017, as in Keras), averaged over the outputs.

    With :math:`q = 1 - p_t = y (1 - p) + (1 - y) p` (how wrong the prediction is), the
    cross-entropy :math:`b` of :class:`BinaryCrossentropy` and the class-balancing weight
    :math:`a = y \\alpha + (1 - y)(1 - \\alpha)` (:math:`a = 1` when ``alpha`` is None):

    .. math::

        l = \\frac{1}{m}\\sum_j a\\, q^{\\gamma} b, \\qquad
        \\frac{\\partial l}{\\partial p} = \\frac{a}{m}\\big(\\gamma q^{\\gamma - 1}
            \\tfrac{\\partial q}{\\partial p}\\, b + q^{\\gamma} \\tfrac{\\partial b}{\\partial p}\\big)

    On probabilities :math:`\\partial q / \\partial p = 1 - 2y` and :math:`\\partial b /
    \\partial p = (\\hat p - y) / (\\hat p (1 - \\hat p))` (``p`` clipped as in binary
    cross-entropy, zero gradient where clipped). On logits :math:`p = \\sigma(x)`,
    :math:`\\partial q / \\partial x = (1 - 2y)\\, p (1 - p)` and :math:`\\partial b / \\partial x =
    p - y`. Where :math:`q = 0` (a logit so large that :math:`\\sigma` rounds to 0 or 1) the
    factor :math:`q^{\\gamma - 1} p (1 - p)` is taken as its limit 0.
    """

    name = "binary_focal_crossentropy"
    aliases = ("focal", "binary_focal", "focal_loss")
    logit_activation = "sigmoid"
    target_range = (0.0, 1.0)
    target_meaning = "labels 0 and 1, or probabilities between"

    def _terms(self, p, y):
        """Cross-entropy ``b``, wrongness ``q``, their derivatives, and where ``p`` was not
        clipped (None from logits)."""
        b = binary_crossentropy(p, y, self.from_logits)
        db = binary_crossentropy_gradient(p, y, self.from_logits)
        if self.from_logits:
            prob, prob_neg = _sigmoid(p), _sigmoid(-p)  # sigma(x), 1 - sigma(x), both accurate
            dq = (1.0 - 2.0 * y) * prob * prob_neg      # dq/dx = (1 - 2y) p (1 - p)
            inside = None
        else:
            prob, inside = _clip_probability(p)
            prob_neg = 1.0 - prob
            dq = 1.0 - 2.0 * y                          # dq/dp
        q = y * prob_neg + (1.0 - y) * prob
        return b, db, q, dq, inside

    def _balance(self, y):
        if self.alpha is None:
            return 1.0
        return y * self.alpha + (1.0 - y) * (1.0 - self.alpha)

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        b, _, q, _, _ = self._terms(p, y)
        return _mean_per_sample(self._balance(y) * q ** self.gamma * b)

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        b, db, q, dq, inside = self._terms(p, y)
        # q^(gamma - 1), with the limit 0 where q = 0 (only reachable from logits)
        q_power = np.power(q, self.gamma - 1.0, out=np.zeros_like(q), where=q > 0)
        grad = self._balance(y) * (self.gamma * q_power * dq * b + q ** self.gamma * db)
        if inside is not None:
            grad = grad * inside
        return grad / _per_sample_count(p)


class CategoricalFocalCrossentropy(_Focal):
    """Categorical focal cross-entropy over the last axis (Keras), ``y`` one-hot.

    With :math:`s` the predicted probabilities (clipped as in categorical cross-entropy, zero
    gradient where clipped; or :math:`s = \\operatorname{softmax}(x)` from logits) and
    :math:`a = \\alpha` (1 when ``alpha`` is None):

    .. math::

        l = -a \\sum_k y_k (1 - s_k)^{\\gamma} \\log s_k, \\qquad
        \\frac{\\partial l}{\\partial s_k} = -a\\, y_k \\Big(\\frac{(1 - s_k)^{\\gamma}}{s_k}
            - \\gamma (1 - s_k)^{\\gamma - 1} \\log s_k\\Big)

    From logits the chain rule through the softmax gives, with
    :math:`v_k = s_k\\, \\partial l / \\partial s_k`,
    :math:`\\partial l / \\partial x_j = v_j - s_j \\sum_k v_k` (the CE gradient ``s - y`` when
    :math:`\\gamma = 0`, ``a = 1``). Where :math:`s_k = 1` the factor
    :math:`(1 - s_k)^{\\gamma - 1} \\log s_k` is taken as its limit 0. Unlike Keras, the
    prediction is not renormalized and ``alpha`` defaults to None (Keras: 0.25).
    """

    name = "categorical_focal_crossentropy"
    aliases = ("categorical_focal", "focal_categorical_crossentropy")
    logit_activation = "softmax"

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        y = _as_rows(y)
        s, log_s, _ = categorical_probabilities(_as_rows(p), self.from_logits)
        a = 1.0 if self.alpha is None else self.alpha
        return _mean_per_sample(-a * np.sum(y * (1.0 - s) ** self.gamma * log_s, axis=-1))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        rows_y = _as_rows(y)
        s, log_s, inside = categorical_probabilities(_as_rows(p), self.from_logits)
        a = 1.0 if self.alpha is None else self.alpha
        rest = 1.0 - s
        # (1 - s)^(gamma - 1), with the limit 0 of (1 - s)^(gamma - 1) log s where s = 1
        rest_power = np.power(rest, self.gamma - 1.0, out=np.zeros_like(rest), where=rest > 0)
        if self.from_logits:
            # v_k = s_k dl/ds_k, written without dividing by s_k (which may underflow to 0)
            v = -a * rows_y * (rest ** self.gamma - self.gamma * rest_power * s * log_s)
            grad = v - s * np.sum(v, axis=-1, keepdims=True)
        else:
            grad = -a * rows_y * (rest ** self.gamma / s - self.gamma * rest_power * log_s) * inside
        return _mean_over_positions(grad, p.shape)
