r"""Losses on sequences: one weight per position (N, T), and masks as such weights.

For outputs shaped (N, T, ...) a ``sample_weight`` shaped (N, T) weighs each position (a time
step) on its own: every position counts as a sample of the loss, so

.. math::

    L = \frac{1}{D} \sum_{n,t} w_{n,t}\, l_{n,t}, \qquad
    \frac{\partial L}{\partial p_{n,t}} = \frac{w_{n,t}}{D}\, g_{n,t}, \qquad
    D = N T \text{ ("mean")}, \; D = 1 \text{ ("sum")}

with :math:`l_{n,t}` the loss of position (n, t) over its own outputs (the last axes). With all
weights 1 this is the loss without weights (a loss averages the positions of a sample), so a
weight (N, T) refines the weight (N,) of whole samples. It is computed by reading the arrays as
N T samples, which every loss takes (:func:`per_position`).

A **mask** (N, T) (:mod:`nnscratch.layers.masking`) becomes such weights,
:func:`masked_weights`, as Keras applies a mask to a loss: masked positions get 0, and with the
"mean" reduction the real ones are scaled so that the loss is the mean over the real positions
only,

.. math::

    w_{n,t} = s_n\, m_{n,t}\, \frac{N T}{\sum_{n,t} m_{n,t}}
    \quad\Rightarrow\quad L = \frac{\sum_{n,t} s_n m_{n,t}\, l_{n,t}}{\sum_{n,t} m_{n,t}}

(:math:`s_n` the sample weights, 1 when none). A batch with no real position has loss 0.
"""

import functools

import numpy as np

from ..errors import ShapeError


def _as_positions(loss, y_pred, y_true, sample_weight):
    """``(y_pred, y_true, weights, shape)`` read as N T samples when ``sample_weight`` is
    (N, T) with T > 1, else None (weights per sample, or none: nothing to change)."""
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight)
    if w.ndim != 2 or w.shape[1] == 1:
        return None
    p, y = np.asarray(y_pred), np.asarray(y_true)
    if p.ndim < 3 or p.shape[:2] != w.shape:
        raise ShapeError(f"{loss.name} takes sample_weight shaped (N, T) (one weight per "
                         f"position) for y_pred shaped (N, T, ...), got sample_weight {w.shape} "
                         f"for y_pred {p.shape}")
    if y.shape[:2] != w.shape:
        raise ShapeError(f"{loss.name} expects y_true shaped (N, T, ...) = {w.shape + ('...',)} "
                         f"like y_pred {p.shape}, got {y.shape}")
    rows = w.shape[0] * w.shape[1]
    return (p.reshape((rows,) + p.shape[2:]), y.reshape((rows,) + y.shape[2:]),
            w.reshape(rows), p.shape)


def per_position(method):
    """``method`` (``value``, ``gradient`` or ``value_and_gradient`` of a loss) taking a
    ``sample_weight`` (N, T) per position too: the arrays are read as N T samples and the
    gradient shaped back (see the module docstring)."""
    kind = method.__name__

    @functools.wraps(method)
    def weighed(self, y_pred, y_true, sample_weight=None):
        flat = _as_positions(self, y_pred, y_true, sample_weight)
        if flat is None:
            return method(self, y_pred, y_true, sample_weight)
        p, y, w, shape = flat
        result = method(self, p, y, w)
        if kind == "value":
            return result
        if kind == "gradient":
            return result.reshape(shape)
        value, grad = result
        return value, grad.reshape(shape)

    return weighed


def masked_weights(loss, mask, sample_weight=None):
    """Per-position weights (N, T) for ``loss`` from a ``mask`` (N, T), True at real steps, and
    optional ``sample_weight`` (N,) or (N, T) (see the module docstring)."""
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 2:
        raise ShapeError(f"{loss.name} takes a mask shaped (N, T), got {mask.shape}")
    weights = mask.astype(np.float64)
    if sample_weight is not None:
        given = np.asarray(sample_weight, dtype=np.float64)
        n, steps = mask.shape
        if given.shape in ((n,), (n, 1)):
            weights *= given.reshape(n, 1)
        elif given.shape == mask.shape:
            weights *= given
        else:
            raise ShapeError(f"{loss.name} expects sample_weight shaped ({n},) or ({n}, {steps}) "
                             f"beside the output's mask {mask.shape}, got {given.shape}")
    if loss.reduction == "mean":
        real = int(mask.sum())
        weights *= mask.size / real if real else 0.0       # the mean over the real positions
    return weights
