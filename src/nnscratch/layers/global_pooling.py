r"""Global pooling over channels-first data: one mean or maximum per sample and channel.

(N, C, *spatial) becomes (N, C), or (N, C, 1, ...) with ``keepdims``. The mean sends
``dY / P`` to each of the ``P`` positions; the maximum sends ``dY`` to its first maximum.
"""

import numpy as np

from .. import checks
from .base import Layer
from .im2col import check_input, check_sample_shape

__all__ = ["GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D"]


class _GlobalPool(Layer):
    """Pooling over all spatial positions: (N, C, *spatial) -> (N, C), or (N, C, 1, ...)."""

    abstract = True
    rank = None

    def __init__(self, keepdims=False, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self.keepdims = checks.boolean(keepdims, f"{type(self).__name__} keepdims")
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
    """The mean over all positions; every position gets ``dY / P``."""

    abstract = True

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
    """The maximum over all positions; the gradient goes to the first maximum."""

    abstract = True

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
