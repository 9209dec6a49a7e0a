"""Cross-entropy losses (binary, categorical, sparse categorical) and the KL divergence.

The elementwise binary cross-entropy and the categorical (log-)probabilities are kernels here,
:func:`binary_crossentropy`, :func:`binary_crossentropy_gradient` and
:func:`categorical_probabilities`, which the focal losses (:mod:`.focal`) build on.
"""

import numpy as np

from ..activations.kernels import pick_last
from .base import LogitsOrProbabilities, Loss
from .kernels import (
    EPSILON,
    _as_rows,
    _clip_probability,
    _log_softmax,
    _mean_over_positions,
    _mean_per_sample,
    _per_sample_count,
    _sigmoid,
    _softplus_neg_abs,
)


def binary_crossentropy(p, y, from_logits):
    """The elementwise binary cross-entropy :math:`b` (see :class:`BinaryCrossentropy`)."""
    if from_logits:
        return np.maximum(p, 0.0) - p * y + _softplus_neg_abs(p)   # max(x, 0) - x y + log(1 + e^-|x|)
    pc, _ = _clip_probability(p)
    return -(y * np.log(pc) + (1.0 - y) * np.log1p(-pc))         # -(y log p + (1 - y) log(1 - p))


def binary_crossentropy_gradient(p, y, from_logits):
    """:math:`\\partial b / \\partial x = \\sigma(x) - y` from logits, else
    :math:`\\partial b / \\partial p = (\\hat p - y) / (\\hat p (1 - \\hat p))`, 0 where ``p`` was clipped."""
    if from_logits:
        return _sigmoid(p) - y
    pc, inside = _clip_probability(p)
    return (pc - y) / (pc * (1.0 - pc)) * inside


def categorical_probabilities(p, from_logits):
    """``(s, log s, inside)`` over the last axis: the softmax of logits (``inside`` None), or the
    probabilities clipped to [eps, 1 - eps] and ``inside``, 1 where ``p`` was not clipped."""
    if from_logits:
        log_s, s = _log_softmax(p)
        return s, log_s, None
    s, inside = _clip_probability(p)
    return s, np.log(s), inside


class BinaryCrossentropy(LogitsOrProbabilities):
    """Binary cross-entropy, averaged over the outputs of a sample; targets ``y`` in [0, 1].

    On probabilities (``from_logits=False``), with :math:`\\hat p = \\operatorname{clip}(p,
    \\epsilon, 1 - \\epsilon)` and zero gradient where ``p`` was clipped:

    .. math::

        l = -\\frac{1}{m}\\sum_j \\big(y \\log \\hat p + (1 - y) \\log(1 - \\hat p)\\big), \\qquad
        \\frac{\\partial l}{\\partial p} = \\frac{1}{m} \\frac{\\hat p - y}{\\hat p (1 - \\hat p)}

    On logits ``x`` (``from_logits=True``), stable for any finite ``x``:

    .. math::

        l = \\frac{1}{m}\\sum_j \\big(\\max(x, 0) - x y + \\log(1 + e^{-|x|})\\big), \\qquad
        \\frac{\\partial l}{\\partial x} = \\frac{1}{m} (\\sigma(x) - y)
    """

    name = "binary_crossentropy"
    aliases = ("bce", "binary_ce", "log_loss", "logloss")
    hyperparameters = ("from_logits",)
    logit_activation = "sigmoid"
    target_range = (0.0, 1.0)
    target_meaning = "labels 0 and 1, or probabilities between"

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return _mean_per_sample(binary_crossentropy(p, y, self.from_logits))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return binary_crossentropy_gradient(p, y, self.from_logits) / _per_sample_count(p)


class CategoricalCrossentropy(LogitsOrProbabilities):
    """Categorical cross-entropy over the last axis, ``y`` one-hot (or any distribution).

    On probabilities (rows of a softmax; not renormalized), :math:`\\hat p` clipped as in
    binary cross-entropy, zero gradient where clipped:

    .. math::

        l = -\\sum_k y_k \\log \\hat p_k, \\qquad
        \\frac{\\partial l}{\\partial p_k} = -\\frac{y_k}{\\hat p_k}

    On logits ``x`` (``from_logits=True``), through the stable log-softmax
    :math:`\\log s_k = (x_k - \\max x) - \\log\\sum_j e^{x_j - \\max x}`:

    .. math::

        l = -\\sum_k y_k \\log s_k, \\qquad
        \\frac{\\partial l}{\\partial x_k} = s_k \\sum_j y_j - y_k \\;(= s_k - y_k \\text{ for one-hot } y)

    Axes between the batch axis and the last are averaged (one distribution per position).
    """

    name = "categorical_crossentropy"
    aliases = ("crossentropy", "cce", "categorical_ce")
    hyperparameters = ("from_logits",)
    logit_activation = "softmax"

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        _, log_p, _ = categorical_probabilities(_as_rows(p), self.from_logits)
        return _mean_per_sample(-np.sum(_as_rows(y) * log_p, axis=-1))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        rows_p, rows_y = _as_rows(p), _as_rows(y)
        if self.from_logits:
            softmax = _log_softmax(rows_p)[1]
            grad = softmax * np.sum(rows_y, axis=-1, keepdims=True) - rows_y
        else:
            pc, inside = _clip_probability(rows_p)
            grad = -rows_y / pc * inside
        return _mean_over_positions(grad, p.shape)


class SparseCategoricalCrossentropy(LogitsOrProbabilities):
    """Categorical cross-entropy with integer class labels ``c`` instead of one-hot rows.

    Identical to :class:`CategoricalCrossentropy` with ``y = onehot(c)``:

    .. math::

        l = -\\log \\hat p_c, \\quad \\frac{\\partial l}{\\partial p_k} = -\\frac{[k = c]}{\\hat p_c}
        \\qquad\\text{or from logits}\\qquad
        l = -\\log s_c, \\quad \\frac{\\partial l}{\\partial x_k} = s_k - [k = c]

    Labels must be integers in ``[0, k)`` (integral floats are accepted), shaped
    ``y_pred.shape[:-1]`` or with a trailing 1; anything else raises a DataError naming the row.
    """

    name = "sparse_categorical_crossentropy"
    aliases = ("sparse_crossentropy", "sparse_cce", "scce")
    sparse_labels = True
    hyperparameters = ("from_logits",)
    logit_activation = "softmax"

    def per_sample(self, y_pred, y_true):
        p, labels = self._prepare(y_pred, y_true)
        index = labels[..., np.newaxis]
        if self.from_logits:
            picked = np.take_along_axis(_log_softmax(p)[0], index, axis=-1)
        else:
            picked = np.log(_clip_probability(np.take_along_axis(p, index, axis=-1))[0])
        return _mean_per_sample(-picked[..., 0])

    def per_sample_gradient(self, y_pred, y_true):
        p, labels = self._prepare(y_pred, y_true)
        index = labels[..., np.newaxis]
        if self.from_logits:
            grad = _log_softmax(p)[1]
            picked = np.take_along_axis(grad, index, axis=-1)
            np.put_along_axis(grad, index, picked - 1.0, axis=-1)  # softmax - onehot
        else:
            grad = np.zeros_like(p)
            pc, inside = _clip_probability(np.take_along_axis(p, index, axis=-1))
            np.put_along_axis(grad, index, -inside / pc, axis=-1)
        return _mean_over_positions(grad, grad.shape)

    def value_and_gradient(self, y_pred, y_true, sample_weight=None):
        """From logits, one log-softmax gives both: :math:`l = -\\log s_c` and :math:`s - e_c`.

        The same formulas as :meth:`per_sample` and :meth:`per_sample_gradient`, with the
        labels checked and the softmax computed once instead of twice (a training step's need).
        """
        if not self.from_logits:
            return super().value_and_gradient(y_pred, y_true, sample_weight)
        with np.errstate(under="ignore"):
            p, labels = self._prepare(y_pred, y_true)
            log_s, grad = _log_softmax(p)
            losses = _mean_per_sample(-pick_last(log_s, labels))
            grad = np.ascontiguousarray(grad)                         # so that rows is a view
            rows = grad.reshape(-1, grad.shape[-1])
            rows[np.arange(len(rows)), labels.reshape(-1)] -= 1.0     # softmax - onehot
            positions = _per_sample_count(grad) // grad.shape[-1]
            if positions != 1:                                        # a mean over positions
                grad /= positions
            return self._reduce(losses, sample_weight), self._scale(grad, sample_weight)


class KLDivergence(Loss):
    """Kullback-Leibler divergence :math:`KL(y \\| p)` over the last axis (Keras' clipping).

    With :math:`\\hat y = \\operatorname{clip}(y, \\epsilon, 1)` and
    :math:`\\hat p = \\operatorname{clip}(p, \\epsilon, 1)` (zero gradient where ``p`` was clipped):

    .. math::

        l = \\sum_k \\hat y_k (\\log \\hat y_k - \\log \\hat p_k), \\qquad
        \\frac{\\partial l}{\\partial p_k} = -\\frac{\\hat y_k}{\\hat p_k}
    """

    name = "kl_divergence"
    aliases = ("kld", "kullback_leibler_divergence", "kl")

    @staticmethod
    def _clipped(p, y):
        pc = np.clip(p, EPSILON, 1.0)
        return pc, (pc == p).astype(p.dtype), np.clip(y, EPSILON, 1.0)

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        pc, _, yc = self._clipped(_as_rows(p), _as_rows(y))
        return _mean_per_sample(np.sum(yc * (np.log(yc) - np.log(pc)), axis=-1))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        pc, inside, yc = self._clipped(_as_rows(p), _as_rows(y))
        return _mean_over_positions(-yc / pc * inside, p.shape)
