r"""Pooling layers over channels-first data: max and average pooling, windowed and global.

A pooling window of ``k`` taps with stride ``s`` over an axis padded by ``(p_0, p_1)`` gives
:math:`\lfloor (n + p_0 + p_1 - k) / s \rfloor + 1` outputs (PyTorch's default, rounding
down, so an odd border is dropped). Output position ``o`` and tap ``j`` read padded position
``o s + j``; the kernels below loop over the ``kh * kw`` taps, each a strided slice of the whole
batch (:func:`~nnscratch.layers.im2col.window_slices`), never over pixels. Windows may overlap
(``stride < pool_size``): the backward passes add up what overlapping windows send back.

Max pooling pads with :math:`-\infty` (padding never wins) and average pooling with zeros.
Every padding side must be smaller than the window, so that each window covers at least one
input value.
"""

import numpy as np

from ..errors import ConfigError
from .base import Layer
from .im2col import (as_tuple, check_input, check_sample_shape, crop, normalize_padding,
                     output_sizes, pad, padding_config, resolve_padding, window_slices)

__all__ = ["MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D", "GlobalAvgPool1D",
           "GlobalAvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D", "max_pool_forward",
           "max_pool_backward", "avg_pool_forward", "avg_pool_backward", "window_counts"]


# -- pure kernels ------------------------------------------------------------------------------

def _taps(pool_size, stride, out_sizes):
    return window_slices(pool_size, stride, (1,) * len(pool_size), out_sizes)


def max_pool_forward(xp, pool_size, stride, out_sizes):
    """Window maxima of the padded input ``xp``, and the tap index of each (the first maximum).

    .. math::

        Y_{n,c,o} = \\max_{j} X^p_{n,c,\\, o s + j}, \\qquad
        J_{n,c,o} = \\operatorname{argmax}_j X^p_{n,c,\\, o s + j}

    Returns ``(y, argmax)``; ``argmax`` holds the flat tap number, in row-major tap order, in the
    smallest unsigned integer type that fits. Ties go to the first tap, as ``np.argmax`` and
    PyTorch choose.
    """
    taps = _taps(pool_size, stride, out_sizes)
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
    for t, (_, slices) in enumerate(_taps(pool_size, stride, out_sizes)):
        if overlap:
            dxp[lead + slices] += grad_y * (argmax == t)          # overlapping windows add up
        else:                                                     # each position in one window
            np.multiply(grad_y, argmax == t, out=dxp[lead + slices])
    return dxp


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
    lead = (slice(None), slice(None))
    taps = _taps(pool_size, stride, out_sizes)
    _, first = next(taps)
    y = xp[lead + first].copy()
    for _, slices in taps:
        y += xp[lead + slices]
    y /= np.asarray(counts, dtype=y.dtype)
    return y


def avg_pool_backward(grad_y, padded_shape, pool_size, stride, counts):
    """Each input in a window receives an equal share: ``dX^p[o s + j] += dY[o] / |w_o|``."""
    share = grad_y / np.asarray(counts, dtype=grad_y.dtype)
    n, c = padded_shape[:2]
    dxp = np.zeros((c, n) + tuple(padded_shape[2:]), dtype=grad_y.dtype).swapaxes(0, 1)
    lead = (slice(None), slice(None))
    for _, slices in _taps(pool_size, stride, grad_y.shape[2:]):
        dxp[lead + slices] += share
    return dxp


# -- windowed pooling layers -------------------------------------------------------------------

class _Pool(Layer):
    """Arguments and bookkeeping shared by the windowed pooling layers."""

    rank = None

    def __init__(self, pool_size=2, stride=None, padding=0, name=None):
        super().__init__(name=name)
        kind = type(self).__name__
        self.pool_size = as_tuple(pool_size, self.rank, f"{kind} pool_size")
        self.stride = (self.pool_size if stride is None
                       else as_tuple(stride, self.rank, f"{kind} stride"))
        self.padding = normalize_padding(padding, self.rank, f"{kind} padding")
        if self.padding != "same":
            for (p0, p1), k in zip(self.padding, self.pool_size):
                if max(p0, p1) >= k:
                    raise ConfigError(f"{kind} padding must be smaller than the pool size on every "
                                      f"side (so each window covers some input), got padding "
                                      f"{padding!r} with pool_size {self.pool_size}")
        self._cache = None

    def _geometry(self, in_sizes):
        ones = (1,) * self.rank
        pads = resolve_padding(self.padding, in_sizes, self.pool_size, self.stride, ones)
        return pads, output_sizes(self, in_sizes, self.pool_size, self.stride, ones, pads)

    def build(self, input_shape, rng=None, dtype=np.float32):
        input_shape = check_sample_shape(self, input_shape, self.rank)
        super().build(input_shape, rng, dtype)
        self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape):
        input_shape = check_sample_shape(self, input_shape, self.rank)
        return input_shape[:1] + self._geometry(input_shape[1:])[1]

    def explicit_padding(self, input_shape):
        """The padding ``((before, after), ...)`` per spatial axis for samples of ``input_shape``."""
        return self._geometry(check_sample_shape(self, input_shape, self.rank)[1:])[0]

    def _prepare(self, x):
        x = check_input(self, x, self.rank)
        if x.dtype.kind != "f":
            x = x.astype(self.dtype)
        pads, out_sizes = self._geometry(x.shape[2:])
        return x, pads, out_sizes

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=list(self.pool_size), stride=list(self.stride),
                      padding=padding_config(self.padding))
        return config


class _MaxPool(_Pool):
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


class _AvgPool(_Pool):
    def __init__(self, pool_size=2, stride=None, padding=0, count_include_pad=True, name=None):
        super().__init__(pool_size, stride=stride, padding=padding, name=name)
        self.count_include_pad = bool(count_include_pad)

    def forward(self, x, training=False):
        x, pads, out_sizes = self._prepare(x)
        counts = window_counts(x.shape[2:], self.pool_size, self.stride, pads, out_sizes,
                               self.count_include_pad)
        xp = pad(x, pads)
        self._cache = (counts, xp.shape, pads)
        return avg_pool_forward(xp, self.pool_size, self.stride, out_sizes, counts)

    def backward(self, grad_y):
        counts, padded_shape, pads = self._cache
        dxp = avg_pool_backward(grad_y, padded_shape, self.pool_size, self.stride, counts)
        return crop(dxp, pads)

    def get_config(self):
        config = super().get_config()
        config["count_include_pad"] = self.count_include_pad
        return config


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


# -- global pooling ----------------------------------------------------------------------------

class _GlobalPool(Layer):
    """Pooling over all spatial positions: (N, C, *spatial) -> (N, C), or (N, C, 1, ...)."""

    rank = None

    def __init__(self, keepdims=False, name=None):
        super().__init__(name=name)
        self.keepdims = bool(keepdims)
        self._cache = None

    def build(self, input_shape, rng=None, dtype=np.float32):
        super().build(check_sample_shape(self, input_shape, self.rank), rng, dtype)

    def compute_output_shape(self, input_shape):
        input_shape = check_sample_shape(self, input_shape, self.rank)
        return input_shape[:1] + ((1,) * self.rank if self.keepdims else ())

    def _flat(self, x):
        x = check_input(self, x, self.rank)
        if x.dtype.kind != "f":
            x = x.astype(self.dtype)
        return x, x.reshape(x.shape[:2] + (-1,))                 # (N, C, P)

    def _shape_out(self, y):
        return y.reshape(y.shape + (1,) * self.rank) if self.keepdims else y

    def get_config(self):
        config = super().get_config()
        config["keepdims"] = self.keepdims
        return config


class _GlobalAvgPool(_GlobalPool):
    def forward(self, x, training=False):
        x, flat = self._flat(x)
        self._cache = x.shape
        return self._shape_out(flat.mean(axis=-1))                 # Y = (1/P) sum_p X

    def backward(self, grad_y):
        shape = self._cache
        size = int(np.prod(shape[2:]))
        grad = grad_y.reshape(shape[:2] + (1,) * self.rank)
        dx = np.empty(shape, dtype=grad_y.dtype)
        np.divide(grad, size, out=dx)        # dX = dY / P at every position
        return dx


class _GlobalMaxPool(_GlobalPool):
    def forward(self, x, training=False):
        x, flat = self._flat(x)
        argmax = flat.argmax(axis=-1)                              # first maximum
        self._cache = (x.shape, argmax)
        return self._shape_out(np.take_along_axis(flat, argmax[..., None], axis=-1)[..., 0])

    def backward(self, grad_y):
        shape, argmax = self._cache
        dx = np.zeros(shape[:2] + (int(np.prod(shape[2:])),), dtype=grad_y.dtype)
        np.put_along_axis(dx, argmax[..., None], grad_y.reshape(argmax.shape + (1,)), axis=-1)
        return dx.reshape(shape)                                  # dY reaches only the maximum


class GlobalAvgPool1D(_GlobalAvgPool):
    """Mean over the length: (N, C, L) -> (N, C).

    .. math::

        Y_{n,c} = \\frac{1}{L} \\sum_i X_{n,c,i}, \\qquad dX_{n,c,i} = \\frac{dY_{n,c}}{L}

    Parameters
    ----------
    keepdims : bool
        Keep the pooled axes with size 1: output (N, C, 1, ...) instead of (N, C).
    """

    rank = 1


class GlobalAvgPool2D(_GlobalAvgPool):
    """Mean over height and width: (N, C, H, W) -> (N, C).

    .. math::

        Y_{n,c} = \\frac{1}{H W} \\sum_{i,j} X_{n,c,i,j}, \\qquad dX_{n,c,i,j} = \\frac{dY_{n,c}}{H W}

    Parameters
    ----------
    keepdims : bool
        Keep the pooled axes with size 1: output (N, C, 1, ...) instead of (N, C).
    """

    rank = 2


class GlobalMaxPool1D(_GlobalMaxPool):
    """Maximum over the length: (N, C, L) -> (N, C); the gradient goes to the first maximum.

    .. math::

        Y_{n,c} = \\max_i X_{n,c,i}, \\qquad dX_{n,c,i^*} = dY_{n,c}

    Parameters
    ----------
    keepdims : bool
        Keep the pooled axes with size 1: output (N, C, 1, ...) instead of (N, C).
    """

    rank = 1


class GlobalMaxPool2D(_GlobalMaxPool):
    """Maximum over height and width: (N, C, H, W) -> (N, C); the gradient goes to the first maximum.

    .. math::

        Y_{n,c} = \\max_{i,j} X_{n,c,i,j}, \\qquad dX_{n,c,i^*,j^*} = dY_{n,c}

    Parameters
    ----------
    keepdims : bool
        Keep the pooled axes with size 1: output (N, C, 1, ...) instead of (N, C).
    """

    rank = 2
