"""Stable kernels and per-sample reductions shared by the losses, and the clipping epsilon."""

import functools
import math

import numpy as np

from ..activations.kernels import row_max, row_sum

EPSILON = 1e-7
"""Clipping epsilon for probabilities (and the floor of ``|y|`` in mape), as in Keras."""

_NORM_EPSILON = 1e-12
"""Floor of the squared norm in cosine similarity (Keras' ``l2_normalize`` epsilon)."""

_LOG_2 = math.log(2.0)  # a Python float, so float32 arrays stay float32


def _sigmoid(x):
    """Logistic function without overflow: both branches use ``exp(-|x|) <= 1``."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softplus_neg_abs(x):
    """``log(1 + exp(-|x|))``, the bounded part of the stable binary cross-entropy."""
    return np.log1p(np.exp(-np.abs(x)))


def _log_softmax(x):
    """Log-softmax and softmax over the last axis, with the row maximum subtracted first.

    ``z = x - max(x)`` is at most 0, so ``exp(z) <= 1`` never overflows and the sum is >= 1.
    The maximum and the sum are :func:`~nnscratch.activations.kernels.row_max` and
    :func:`~nnscratch.activations.kernels.row_sum` (NumPy's reductions over a short last axis
    pay per row). Returns ``(log_p, p)``.
    """
    z = x - row_max(x)
    e = np.exp(z)
    s = row_sum(e)
    return z - np.log(s), e / s


def _mean_per_sample(a):
    """Mean over all non-batch axes: ``(N, ...) -> (N,)``; a ``(N,)`` array is returned as is."""
    if a.ndim == 1:
        return a
    return a.reshape(a.shape[0], -1).mean(axis=1)


def _sum_per_sample(a):
    """Sum over all non-batch axes: ``(N, ...) -> (N,)``."""
    if a.ndim == 1:
        return a
    return a.reshape(a.shape[0], -1).sum(axis=1)


def _per_sample_count(a):
    """Number of elements of one sample (1 for a ``(N,)`` array)."""
    return int(np.prod(a.shape[1:], dtype=np.int64))


def _mean_over_positions(grad, shape):
    """A last-axis loss's gradient divided by the positions per sample (the axes between the
    batch axis and the last are averaged, one distribution per position), shaped ``shape``."""
    positions = _per_sample_count(grad) // grad.shape[-1]
    return (grad / positions).reshape(shape)


def _as_rows(a):
    """View a ``(N,)`` array as ``(N, 1)`` so a last-axis loss sees one output per sample."""
    return a.reshape(a.shape[0], 1) if a.ndim == 1 else a


def _mean_squared_error(p, y):
    """Per-sample mean of ``(p - y)^2``, shared by mse and rmse."""
    return _mean_per_sample(np.square(p - y))


def _batch_weights_shape(n, ndim):
    """Shape that broadcasts a ``(N,)`` weight vector against a ``(N, ...)`` array."""
    return (n,) + (1,) * (ndim - 1)


def _ignoring_underflow(method):
    """Wrap ``method`` so that floating-point underflow inside it is not reported."""
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with np.errstate(under="ignore"):
            return method(*args, **kwargs)
    return wrapper


def _clip_probability(p):
    """``(clip(p, eps, 1 - eps), inside)``; ``inside`` is 1 where ``p`` was not clipped."""
    clipped = np.clip(p, EPSILON, 1.0 - EPSILON)
    inside = (clipped == p).astype(p.dtype)
    return clipped, inside
