r"""Layers that move values around without learning anything: Flatten, Reshape, UpSampling.

Each one's backward is the inverse movement of the gradient: a reshape back for Flatten and
Reshape, a sum over each copied block for nearest-neighbour upsampling.
"""

import math

import numpy as np

from .. import checks
from ..errors import ConfigError, ShapeError
from .base import Layer
from .im2col import check_input, check_sample_shape

__all__ = ["Flatten", "Reshape", "UpSampling1D", "UpSampling2D"]


class Flatten(Layer):
    """Flatten each sample to a vector: (N, d_1, ..., d_k) -> (N, d_1 d_2 ... d_k).

    The order is row-major (C order), as PyTorch's ``nn.Flatten`` flattens channels-first data,
    so a Dense layer after it copies weights across unchanged. Backward reshapes the gradient
    back: :math:`dX = \\mathrm{reshape}(dY, X.\\mathrm{shape})`.
    """

    def __init__(self, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self._shape = None

    def compute_output_shape(self, input_shape):
        return (math.prod(int(s) for s in input_shape),)

    def forward(self, x, training=False):
        x = x if isinstance(x, np.ndarray) else np.asarray(x)
        if x.ndim < 1:
            raise ShapeError(f"Flatten layer {self.label} expects a batch (N, ...), got a scalar")
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_y):
        return grad_y.reshape(self._shape)


class Reshape(Layer):
    """Reshape each sample to ``target_shape`` (without the batch axis), as Keras's Reshape.

    One entry may be -1: it is inferred from the sample size. The order is row-major.
    Backward: :math:`dX = \\mathrm{reshape}(dY, X.\\mathrm{shape})`.

    Parameters
    ----------
    target_shape : tuple of int
        The new per-sample shape, e.g. ``(1, 8, 8)`` to turn 64 features into a 1-channel image.
    """

    def __init__(self, target_shape, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        items = list(target_shape) if isinstance(target_shape, (tuple, list)) else [target_shape]
        ok = items and all(checks.is_whole(v) and (v >= 1 or v == -1) for v in items)
        if not ok or sum(v == -1 for v in items) > 1:
            raise ConfigError(f"Reshape target_shape must be a tuple of positive ints with at most "
                              f"one -1, got {target_shape!r}")
        self.target_shape = tuple(int(v) for v in items)
        self._shape = None

    def compute_output_shape(self, input_shape):
        size = math.prod(int(s) for s in input_shape)
        known = math.prod(v for v in self.target_shape if v != -1)
        shape = tuple(size // known if v == -1 else v for v in self.target_shape)
        if math.prod(shape) != size or (-1 in self.target_shape and size % known):
            raise ShapeError(f"Reshape layer {self.label} cannot reshape samples of shape "
                             f"{tuple(input_shape)} ({size} values) to {self.target_shape}")
        return shape

    def build(self, input_shape, rng=None, dtype=np.float32):
        super().build(input_shape, rng, dtype)
        self.compute_output_shape(self.input_shape)

    def forward(self, x, training=False):
        x = x if isinstance(x, np.ndarray) else np.asarray(x)
        if x.ndim < 1:
            raise ShapeError(f"Reshape layer {self.label} expects a batch (N, ...), got a scalar")
        self._shape = x.shape
        return x.reshape((x.shape[0],) + self.compute_output_shape(x.shape[1:]))

    def backward(self, grad_y):
        return grad_y.reshape(self._shape)

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = list(self.target_shape)
        return config


class _UpSampling(Layer):
    """Nearest-neighbour upsampling over ``rank`` spatial axes of channels-first data."""

    abstract = True
    rank = None

    def __init__(self, size=2, interpolation="nearest", name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        kind = type(self).__name__
        self.size = checks.int_tuple(size, f"{kind} size", self.rank)
        # "nearest" is the only mode: each output copies its nearest input
        self.interpolation = checks.choice(interpolation, f"{kind} interpolation", ("nearest",))
        self._shape = None

    def build(self, input_shape, rng=None, dtype=np.float32):
        super().build(check_sample_shape(self, input_shape, self.rank), rng, dtype)

    def compute_output_shape(self, input_shape):
        input_shape = check_sample_shape(self, input_shape, self.rank)
        return input_shape[:1] + tuple(n * s for n, s in zip(input_shape[1:], self.size))

    def forward(self, x, training=False):
        x = check_input(self, x, self.rank)
        self._shape = x.shape
        # View x as (N, C, H, 1, W, 1), broadcast each pixel over an (s_h, s_w) block, merge.
        blocks = x.reshape(_interleave(x.shape, (1,) * self.rank))
        blocks = np.broadcast_to(blocks, _interleave(x.shape, self.size))
        return blocks.reshape(x.shape[:2] + tuple(n * s for n, s in zip(x.shape[2:], self.size)))

    def backward(self, grad_y):
        shape = self._shape
        blocks = grad_y.reshape(_interleave(shape, self.size))   # (N, C, H, s_h, W, s_w)
        return blocks.sum(axis=tuple(range(3, 3 + 2 * self.rank, 2)))   # dX = sum over each block

    def get_config(self):
        config = super().get_config()
        config.update(size=list(self.size), interpolation=self.interpolation)
        return config


def _interleave(shape, size):
    """(N, C, H, W) and (s_h, s_w) -> (N, C, H, s_h, W, s_w)."""
    out = list(shape[:2])
    for n, s in zip(shape[2:], size):
        out += [n, s]
    return tuple(out)


class UpSampling1D(_UpSampling):
    """Repeat every position ``size`` times along the length: (N, C, L) -> (N, C, L size).

    .. math::

        Y_{n,c,i} = X_{n,c,\\lfloor i / s \\rfloor}, \\qquad
        dX_{n,c,i} = \\sum_{u < s} dY_{n,c,\\, i s + u}

    Parameters
    ----------
    size : int
        The upsampling factor.
    interpolation : "nearest"
        The only mode (each output copies its nearest input).
    """

    rank = 1


class UpSampling2D(_UpSampling):
    """Repeat every pixel in an (s_h, s_w) block: (N, C, H, W) -> (N, C, H s_h, W s_w).

    .. math::

        Y_{n,c,i,j} = X_{n,c,\\lfloor i / s_h \\rfloor,\\lfloor j / s_w \\rfloor}, \\qquad
        dX_{n,c,i,j} = \\sum_{u < s_h,\\, v < s_w} dY_{n,c,\\, i s_h + u,\\, j s_w + v}

    Parameters
    ----------
    size : int or (int, int)
        The upsampling factors along height and width.
    interpolation : "nearest"
        The only mode (each output copies its nearest input).
    """

    rank = 2
