r"""Max pooling over channels-first data: MaxPool1D and MaxPool2D.

Each output is the largest value of its window; the gradient goes back only to that value (the
first one in row-major tap order at ties). Padding is :math:`-\infty`, so it never wins. The
window arithmetic is in :mod:`nnscratch.layers.pooling`. Both kernels split the channels of a
large batch over :func:`nnscratch.threads.split` (one part is the reference path); their
outputs are laid out batch-last, as their inputs (see :mod:`nnscratch.layers.im2col`).
"""

import numpy as np

from .. import threads
from .im2col import as_batch_last, empty_batch_last
from .pooling import BasePooling, padded_zeros, pool_windows

__all__ = ["MaxPool1D", "MaxPool2D", "max_pool_forward", "max_pool_backward"]


# -- pure kernels ------------------------------------------------------------------------------

def max_pool_forward(xp, pool_size, stride, out_sizes, with_argmax=True):
    """Window maxima of the padded input ``xp``, and the tap index of each (the first maximum).

    .. math::

        Y_{n,c,o} = \\max_{j} X^p_{n,c,\\, o s + j}, \\qquad
        J_{n,c,o} = \\operatorname{argmax}_j X^p_{n,c,\\, o s + j}

    Returns ``(y, argmax)``; ``argmax`` holds the flat tap number, in row-major tap order, in the
    smallest unsigned integer type that fits. Ties go to the first tap, as ``np.argmax`` and
    PyTorch choose. With ``with_argmax=False`` (inference) ``argmax`` is None and each tap
    costs one ``np.maximum`` instead of four operations.
    """
    shape = xp.shape[:2] + tuple(out_sizes)
    y = empty_batch_last(shape, xp.dtype)
    argmax = (empty_batch_last(shape, np.min_scalar_type(int(np.prod(pool_size)) - 1), fill=0)
              if with_argmax else None)

    def part(start, stop):                                        # channels [start, stop)
        windows = pool_windows(xp[:, start:stop], pool_size, stride, out_sizes)
        y_part = y[:, start:stop]
        np.copyto(y_part, next(windows))                          # the running maximum
        if argmax is None:
            for window in windows:
                np.maximum(y_part, window, out=y_part)
            return
        arg_part = argmax[:, start:stop]
        for t, window in enumerate(windows, start=1):
            larger = window > y_part                              # strictly: earlier taps win ties
            np.maximum(y_part, window, out=y_part)
            # t exceeds every earlier tap number, so max(argmax, t * larger) sets argmax = t
            # exactly where this tap is larger (cheaper than a masked write).
            np.maximum(arg_part, np.multiply(larger, arg_part.dtype.type(t)), out=arg_part)

    threads.split(xp.shape[1], part, xp.size)                    # the channels side by side
    return y, argmax


def max_pool_backward(grad_y, argmax, padded_shape, pool_size, stride):
    """The gradient reaches only each window's maximum: ``dX^p[o s + J] += dY[o]``."""
    grad_y = as_batch_last(grad_y)                                # laid out as argmax and dxp
    overlap = any(s < k for s, k in zip(stride, pool_size))
    tiled = tuple(stride) == tuple(pool_size) and all(            # the windows cover every
        o * s == n for o, s, n in zip(grad_y.shape[2:], stride, padded_shape[2:]))  # position once
    dxp = (empty_batch_last(padded_shape, grad_y.dtype) if tiled    # so each is written below
           else padded_zeros(padded_shape, grad_y.dtype))

    def part(start, stop):                                        # channels [start, stop)
        grad, arg = grad_y[:, start:stop], argmax[:, start:stop]
        # tap t's view of dxp: the positions that tap reads for every output
        for t, tap in enumerate(pool_windows(dxp[:, start:stop], pool_size, stride,
                                             grad_y.shape[2:])):
            if overlap:
                tap += grad * (arg == t)                          # overlapping windows add up
            else:                                                 # each position in one window
                np.multiply(grad, arg == t, out=tap)

    threads.split(grad_y.shape[1], part, dxp.size)               # the channels side by side
    return dxp


# -- layers ------------------------------------------------------------------------------------

class _MaxPool(BasePooling):
    """Max pooling over ``rank`` spatial axes: :func:`max_pool_forward` and its backward."""

    abstract = True
    pad_value = -np.inf    # padding never wins

    def pool(self, xp, in_sizes, pads, out_sizes, training=False):
        """The window maxima (:func:`max_pool_forward`); in training also their taps, which
        the backward needs (outside training the backward finds them from ``xp`` if called)."""
        y, argmax = max_pool_forward(xp, self.pool_size, self.stride, out_sizes,
                                     with_argmax=training)
        return y, (argmax, None if training else xp)     # xp kept only to find the taps later

    def pool_backward(self, grad_y, saved, padded_shape):
        """Each window's gradient to its maximum (:func:`max_pool_backward`)."""
        argmax, xp = saved
        if argmax is None:                       # a backward after an inference forward
            argmax = max_pool_forward(xp, self.pool_size, self.stride, grad_y.shape[2:])[1]
        return max_pool_backward(grad_y, argmax, padded_shape, self.pool_size, self.stride)


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
