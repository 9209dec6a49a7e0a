r"""Average pooling over channels-first data: AvgPool1D and AvgPool2D.

Each output is the mean of its window and every input of the window gets an equal share of the
gradient. Padding is zeros; whether the padded zeros count in the mean is
``count_include_pad``. The window arithmetic is in :mod:`nnscratch.layers.pooling`.
"""

import numpy as np

from .. import checks
from .im2col import as_batch_last
from .pooling import BasePooling, padded_zeros, pool_windows

__all__ = ["AvgPool1D", "AvgPool2D", "avg_pool_forward", "avg_pool_backward", "window_counts"]


# -- pure kernels ------------------------------------------------------------------------------

def window_counts(in_sizes, pool_size, stride, pads, out_sizes, include_pad):
    """How many values each window averages: ``prod(pool_size)``, or only the unpadded ones.

    Along one axis window ``o`` covers input positions ``[o s - p_0, o s - p_0 + k)``, of which
    :math:`\\min(o s - p_0 + k, n) - \\max(o s - p_0, 0)` are inside the input; a 2-D window
    counts the product of its two axes.
    """
    if include_pad:
        return float(np.prod(pool_size))
    counts = np.ones((), dtype=np.int64)
    for axis, (n, k, s, (p0, _), m) in enumerate(zip(in_sizes, pool_size, stride, pads, out_sizes)):
        start = np.arange(m) * s - p0
        per_axis = np.minimum(start + k, n) - np.maximum(start, 0)
        counts = counts[..., None] * per_axis if axis else per_axis
    return counts


def avg_pool_forward(xp, pool_size, stride, out_sizes, counts):
    """Window means: :math:`Y_{n,c,o} = \\frac{1}{|w_o|} \\sum_j X^p_{n,c,\\, o s + j}`."""
    windows = pool_windows(xp, pool_size, stride, out_sizes)
    y = next(windows).copy(order="K")                               # batch-last, as xp
    for window in windows:
        y += window
    y /= np.asarray(counts, dtype=y.dtype)
    return y


def avg_pool_backward(grad_y, padded_shape, pool_size, stride, counts):
    """Each input in a window receives an equal share: ``dX^p[o s + j] += dY[o] / |w_o|``."""
    share = as_batch_last(grad_y) / np.asarray(counts, dtype=grad_y.dtype)   # laid out as dxp
    dxp = padded_zeros(padded_shape, grad_y.dtype)
    for tap in pool_windows(dxp, pool_size, stride, grad_y.shape[2:]):   # views of dxp
        tap += share
    return dxp


# -- layers ------------------------------------------------------------------------------------

class _AvgPool(BasePooling):
    """Average pooling over ``rank`` spatial axes: :func:`avg_pool_forward` and its backward."""

    abstract = True

    def __init__(self, pool_size=2, stride=None, padding=0, count_include_pad=True, name=None,
                 trainable=True):
        super().__init__(pool_size, stride=stride, padding=padding, name=name, trainable=trainable)
        self.count_include_pad = checks.boolean(count_include_pad,
                                                f"{type(self).__name__} count_include_pad")

    def pool(self, xp, in_sizes, pads, out_sizes, training=False):
        """The window means (:func:`avg_pool_forward`) and how many values each averages."""
        counts = window_counts(in_sizes, self.pool_size, self.stride, pads, out_sizes,
                               self.count_include_pad)
        return avg_pool_forward(xp, self.pool_size, self.stride, out_sizes, counts), counts

    def pool_backward(self, grad_y, counts, padded_shape):
        """Each window's gradient shared out over it (:func:`avg_pool_backward`)."""
        return avg_pool_backward(grad_y, padded_shape, self.pool_size, self.stride, counts)

    def get_config(self):
        config = super().get_config()
        config["count_include_pad"] = self.count_include_pad
        return config


class AvgPool1D(_AvgPool):
    """Average pooling over (N, C, L), as ``nn.AvgPool1d``.

    .. math::

        Y_{n,c,i} = \\frac{1}{|w_i|} \\sum_{u} X^p_{n,c,\\, i s + u}, \\qquad
        dX^p_{n,c,\\, i s + u} \\mathrel{+}= \\frac{dY_{n,c,i}}{|w_i|}

    with :math:`|w_i| = k`, or the number of unpadded values when ``count_include_pad=False``.

    Parameters
    ----------
    pool_size : int or tuple
        The window size.
    stride : int, tuple or None
        Step between windows; None (default) means ``pool_size`` (no overlap).
    padding : "valid", "same", int or tuple
        As the convolutions take it (``"same"``: ``ceil(n / stride)`` outputs, extra padding at
        the end); each side must be smaller than the window. Default 0.
    count_include_pad : bool
        Whether padded zeros count in a window's mean (True, PyTorch's default) or only the
        input values it covers (False; Keras's ``"same"`` pooling).
    """

    rank = 1


class AvgPool2D(_AvgPool):
    """Average pooling over (N, C, H, W), as ``nn.AvgPool2d``.

    .. math::

        Y_{n,c,i,j} = \\frac{1}{|w_{ij}|} \\sum_{u,v} X^p_{n,c,\\, i s_h + u,\\, j s_w + v}, \\qquad
        dX^p_{n,c,\\, i s_h + u,\\, j s_w + v} \\mathrel{+}= \\frac{dY_{n,c,i,j}}{|w_{ij}|}

    with :math:`|w_{ij}| = k_h k_w`, or the number of unpadded values when
    ``count_include_pad=False``.

    Parameters
    ----------
    pool_size : int or tuple
        The window size.
    stride : int, tuple or None
        Step between windows; None (default) means ``pool_size`` (no overlap).
    padding : "valid", "same", int or tuple
        As the convolutions take it (``"same"``: ``ceil(n / stride)`` outputs, extra padding at
        the end); each side must be smaller than the window. Default 0.
    count_include_pad : bool
        Whether padded zeros count in a window's mean (True, PyTorch's default) or only the
        input values it covers (False; Keras's ``"same"`` pooling).
    """

    rank = 2
