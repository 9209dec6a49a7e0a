r"""Pooling over channels-first data: the window arithmetic and the base of the windowed layers.

A pooling window of ``k`` taps with stride ``s`` over an axis padded by ``(p_0, p_1)`` gives
:math:`\lfloor (n + p_0 + p_1 - k) / s \rfloor + 1` outputs (PyTorch's default, rounding
down, so an odd border is dropped). Output position ``o`` and tap ``j`` read padded position
``o s + j``; the kernels loop over the ``kh * kw`` taps, each a strided slice of the whole
batch (:func:`pool_taps`, from :func:`~nnscratch.layers.im2col.window_slices`), never over
pixels. Windows may overlap (``stride < pool_size``): the backward passes add up what
overlapping windows send back.

Max pooling pads with :math:`-\infty` (padding never wins) and average pooling with zeros.
Every padding side must be smaller than the window, so that each window covers at least one
input value. Both pad, pool the padded input, and crop the padding off the input gradient in
:class:`BasePooling`; each family writes only its two kernels, forward and backward.

The layers live by family: :mod:`~nnscratch.layers.max_pooling` (MaxPool1D, MaxPool2D),
:mod:`~nnscratch.layers.avg_pooling` (AvgPool1D, AvgPool2D) and
:mod:`~nnscratch.layers.global_pooling` (the global max and average pools).
"""

import numpy as np

from .. import checks
from ..errors import ConfigError
from .base import Layer
from .im2col import (
    check_input,
    check_sample_shape,
    crop,
    empty_batch_last,
    normalize_padding,
    output_sizes,
    pad,
    padding_config,
    resolve_padding,
    window_slices,
)

__all__ = ["BasePooling", "pool_windows", "padded_zeros"]


def pool_windows(xp, pool_size, stride, out_sizes):
    """For each tap ``j`` of the window (row-major order), the strided view of ``xp``
    (N, C, *spatial) that it reads for all outputs at once: ``xp[n, c, o s + j]`` for every ``o``.

    Views, so adding into one (a backward's gradient buffer) adds into ``xp``.
    """
    lead = (slice(None), slice(None))
    for _, slices in window_slices(pool_size, stride, (1,) * len(pool_size), out_sizes):
        yield xp[lead + slices]


def padded_zeros(padded_shape, dtype):
    """The zero gradient of a padded input (N, C, *spatial), laid out batch-last as the
    layers' outputs are (see :mod:`nnscratch.layers.im2col`)."""
    return empty_batch_last(padded_shape, dtype, fill=0)


class BasePooling(Layer):
    """Arguments and bookkeeping shared by the windowed pooling layers (not used alone).

    ``pool_size`` and ``stride`` are whole numbers (:func:`nnscratch.checks.int_tuple`: an int,
    or one per spatial axis); ``padding`` is read by
    :func:`~nnscratch.layers.im2col.normalize_padding`.
    """

    abstract = True
    rank = None
    pad_value = 0.0        # what the padding holds

    def __init__(self, pool_size=2, stride=None, padding=0, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        kind = type(self).__name__
        self.pool_size = checks.int_tuple(pool_size, f"{kind} pool_size", self.rank)
        self.stride = (self.pool_size if stride is None
                       else checks.int_tuple(stride, f"{kind} stride", self.rank))
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

    def forward(self, x, training=False):
        """Pad with :attr:`pad_value`, then pool every window (:meth:`pool`)."""
        x = check_input(self, x, self.rank)
        if x.dtype.kind != "f":
            x = x.astype(self.dtype)
        pads, out_sizes = self._geometry(x.shape[2:])
        xp = pad(x, pads, value=self.pad_value)
        y, saved = self.pool(xp, x.shape[2:], pads, out_sizes, training)
        self._cache = (saved, xp.shape, pads)
        return y

    def backward(self, grad_y):
        """The padded input's gradient (:meth:`pool_backward`) without its padding."""
        saved, padded_shape, pads = self._cache
        return crop(self.pool_backward(grad_y, saved, padded_shape), pads)

    def pool(self, xp, in_sizes, pads, out_sizes, training=False):
        """``(y, saved)``: the pooled padded input ``xp``, and what :meth:`pool_backward` needs
        (``training``: whether a backward is expected)."""
        raise NotImplementedError

    def pool_backward(self, grad_y, saved, padded_shape):
        """``dL/dX^p``, shaped ``padded_shape``, from ``grad_y`` and what :meth:`pool` saved."""
        raise NotImplementedError

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=list(self.pool_size), stride=list(self.stride),
                      padding=padding_config(self.padding))
        return config
