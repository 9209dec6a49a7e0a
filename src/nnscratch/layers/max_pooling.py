r"""Max pooling over channels-first data: MaxPool1D and MaxPool2D.

Each output is the largest value of its window; the gradient goes back only to that value (the
first one in row-major tap order at ties). Padding is :math:`-\infty`, so it never wins. The
window arithmetic is in :mod:`nnscratch.layers.pooling`.
"""

import numpy as np

from .im2col import crop, pad
from .pooling import BasePooling, pool_taps

__all__ = ["MaxPool1D", "MaxPool2D", "max_pool_forward", "max_pool_backward"]


# -- pure kernels ------------------------------------------------------------------------------

def max_pool_forward(xp, pool_size, stride, out_sizes):
    """Window maxima of the padded input ``xp``, and the tap index of each (the first maximum).

    .. math::

        Y_{n,c,o} = \\max_{j} X^p_{n,c,\\, o s + j}, \\qquad
        J_{n,c,o} = \\operatorname{argmax}_j X^p_{n,c,\\, o s + j}

    Returns ``(y, argmax)``; ``argmax`` holds the flat tap number, in row-major tap order, in the
    smallest unsigned integer type that fits. Ties go to the first tap, as ``np.argmax`` and
    PyTorch choose.
    """
    taps = pool_taps(pool_size, stride, out_sizes)
    lead = (slice(None), slice(None))
    _, first = next(taps)
    y = xp[lead + first].copy()                                   # the running maximum
    argmax = np.zeros(y.shape, dtype=np.min_scalar_type(int(np.prod(pool_size)) - 1))
    for t, (_, slices) in enumerate(taps, start=1):
        window = xp[lead + slices]
        larger = window > y                                       # strictly: earlier taps win ties
        np.maximum(y, window, out=y)
        # t exceeds every earlier tap number, so max(argmax, t * larger) sets argmax = t exactly
        # where this tap is larger (cheaper than a masked write).
        np.maximum(argmax, np.multiply(larger, argmax.dtype.type(t)), out=argmax)
    return y, argmax


def max_pool_backward(grad_y, argmax, padded_shape, pool_size, stride):
    """The gradient reaches only each window's maximum: ``dX^p[o s + J] += dY[o]``."""
    out_sizes = grad_y.shape[2:]
    n, c = padded_shape[:2]
    dxp = np.zeros((c, n) + tuple(padded_shape[2:]), dtype=grad_y.dtype).swapaxes(0, 1)
    lead = (slice(None), slice(None))
    overlap = any(s < k for s, k in zip(stride, pool_size))
    for t, (_, slices) in enumerate(pool_taps(pool_size, stride, out_sizes)):
        if overlap:
            dxp[lead + slices] += grad_y * (argmax == t)          # overlapping windows add up
        else:                                                     # each position in one window
            np.multiply(grad_y, argmax == t, out=dxp[lead + slices])
    return dxp


# -- layers ------------------------------------------------------------------------------------

class _MaxPool(BasePooling):
    """Max pooling over ``rank`` spatial axes: :func:`max_pool_forward` and its backward."""

    abstract = True

    def forward(self, x, training=False):
        x, pads, out_sizes = self._prepare(x)
        xp = pad(x, pads, value=-np.inf)
        y, argmax = max_pool_forward(xp, self.pool_size, self.stride, out_sizes)
        self._cache = (argmax, xp.shape, pads)
        return y

    def backward(self, grad_y):
        argmax, padded_shape, pads = self._cache
        dxp = max_pool_backward(grad_y, argmax, padded_shape, self.pool_size, self.stride)
        return crop(dxp, pads)


class MaxPool1D(_MaxPool):
    """Max pooling over (N, C, L): the largest value of each window, as ``nn.MaxPool1d``.

    .. math::

        Y_{n,c,i} = \\max_{0 \\le u < k} X^p_{n,c,\\, i s + u}, \\qquad
        dX^p_{n,c,\\, i s + u^*} \\mathrel{+}= dY_{n,c,i}

    where :math:`u^*` is the first position of the maximum (the subgradient we take at ties).

    Parameters
    ----------
    pool_size : int or tuple
        The window size.
    stride : int, tuple or None
        Step between windows; None (default) means ``pool_size`` (no overlap).
    padding : "valid", "same", int or tuple
        As the convolutions take it (``"same"``: ``ceil(n / stride)`` outputs, extra padding at
        the end); each side must be smaller than the window. Default 0.
    """

    rank = 1


class MaxPool2D(_MaxPool):
    """Max pooling over (N, C, H, W): the largest value of each window, as ``nn.MaxPool2d``.

    .. math::

        Y_{n,c,i,j} = \\max_{u,v} X^p_{n,c,\\, i s_h + u,\\, j s_w + v}, \\qquad
        dX^p_{n,c,\\, i s_h + u^*,\\, j s_w + v^*} \\mathrel{+}= dY_{n,c,i,j}

    where :math:`(u^*, v^*)` is the first maximum in row-major order (the subgradient we take at
    ties). Overlapping windows (``stride < pool_size``) add their gradients.

    Parameters
    ----------
    pool_size : int or tuple
        The window size.
    stride : int, tuple or None
        Step between windows; None (default) means ``pool_size`` (no overlap).
    padding : "valid", "same", int or tuple
        As the convolutions take it (``"same"``: ``ceil(n / stride)`` outputs, extra padding at
        the end); each side must be smaller than the window. Default 0.
    """

    rank = 2
