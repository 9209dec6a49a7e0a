r"""Global pooling: one mean or maximum per sample and channel, over every position.

Channels first (the library's convention for convolutions), (N, C, *spatial) becomes (N, C),
or (N, C, 1, ...) with ``keepdims``. With ``data_format="channels_last"`` the channels come
last, (N, *spatial, C) -> (N, C) (or (N, 1, ..., C)), which is the layout of sequences:
``GlobalAvgPool1D(data_format="channels_last")`` pools the (N, T, F) outputs of a recurrent
layer, an Embedding or attention over the time axis T, as Keras's ``GlobalAveragePooling1D``
does by default.

The mean sends ``dY / P`` to each of the ``P`` positions; the maximum sends ``dY`` to its first
maximum.

**Masks** (:mod:`nnscratch.layers.masking`): the 1-D layers with ``channels_last`` take a mask
(N, T) and pool over the real steps only:

.. math::

    Y_{n,f} = \frac{\sum_t m_{n,t} X_{n,t,f}}{\sum_t m_{n,t}}, \qquad
    dX_{n,t,f} = \frac{m_{n,t}\, dY_{n,f}}{\sum_t m_{n,t}}; \qquad
    Y_{n,f} = \max_{t:\, m_{n,t}} X_{n,t,f}

A sample with no real step pools to 0 and gets no gradient (Keras would divide by zero there).
Channels first pools over the last axis, which is not a time axis a mask describes, so a mask
given there is a ShapeError naming ``data_format``.
"""

import numpy as np

from .. import checks
from ..errors import ShapeError
from .base import Layer
from .im2col import check_input, check_sample_shape
from .masking import check_mask

__all__ = ["GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D"]

DATA_FORMATS = ("channels_first", "channels_last")
LAST_LAYOUT = {1: "(N, L, C)", 2: "(N, H, W, C)"}     # how messages write channels last


class _GlobalPool(Layer):
    """Pooling over all spatial positions: (N, C, *spatial) -> (N, C), or (N, C, 1, ...)."""

    abstract = True
    rank = None

    def __init__(self, keepdims=False, data_format="channels_first", name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        kind = type(self).__name__
        self.keepdims = checks.boolean(keepdims, f"{kind} keepdims")
        self.data_format = checks.choice(data_format, f"{kind} data_format", DATA_FORMATS)
        self._cache = None

    @property
    def _last(self):
        return self.data_format == "channels_last"

    def _check_last(self, shape, batch):
        """ShapeError unless ``shape`` is (N, *spatial, C) (``batch``) or (*spatial, C)."""
        rank = self.rank + 1 + int(batch)
        if len(shape) != rank or min(shape, default=0) < 1:
            shown = tuple(shape) if batch else "(N, " + ", ".join(map(str, shape)) + ")"
            raise ShapeError(f"{type(self).__name__} layer {self.label} expects input "
                             f"{LAST_LAYOUT[self.rank]} (channels last), got shape {shown}")

    def _channels(self, input_shape):
        """The number of channels of a per-sample shape, checked."""
        if self._last:
            self._check_last(tuple(int(s) for s in input_shape), batch=False)
            return int(input_shape[-1])
        return check_sample_shape(self, input_shape, self.rank)[0]

    def build(self, input_shape, rng=None, dtype=np.float32):
        self._channels(input_shape)
        super().build(input_shape, rng, dtype)

    def compute_output_shape(self, input_shape):
        channels = (self._channels(input_shape),)
        ones = (1,) * self.rank if self.keepdims else ()
        return ones + channels if self._last else channels + ones

    def _flat(self, x, mask):
        """``(x, x as (N, C, P), mask as (N, 1, P) or None)``, x cast to floats if needed."""
        x = x if isinstance(x, np.ndarray) else np.asarray(x)
        if self._last:
            self._check_last(x.shape, batch=True)
        else:
            check_input(self, x, self.rank)
        if x.dtype.kind != "f":
            x = x.astype(self.dtype)
        channels_first = np.moveaxis(x, -1, 1) if self._last else x
        flat = channels_first.reshape(channels_first.shape[:2] + (-1,))     # (N, C, P)
        if mask is not None:
            if not (self._last and self.rank == 1):
                raise ShapeError(f"{type(self).__name__} layer {self.label} pools a mask over "
                                 "the time axis of (N, T, features) only with "
                                 "data_format='channels_last', got data_format="
                                 f"{self.data_format!r} and input shape {x.shape}")
            mask = check_mask(mask, x.shape[:2], f"{type(self).__name__} layer {self.label}")
            mask = mask[:, None, :]
        return x, flat, mask

    def _shape_out(self, y):
        """(N, C) pooled values in the layer's output layout."""
        if not self.keepdims:
            return y
        ones = (1,) * self.rank
        return y.reshape(y.shape[:1] + ones + y.shape[1:]) if self._last else y.reshape(
            y.shape + ones)

    def _unflat(self, dx_flat, shape):
        """A gradient (N, C, P) back in the input's layout ``shape``."""
        if not self._last:
            return dx_flat.reshape(shape)
        channels_first = (shape[0], shape[-1]) + tuple(shape[1:-1])
        return np.ascontiguousarray(np.moveaxis(dx_flat.reshape(channels_first), 1, -1))

    def get_config(self):
        config = super().get_config()
        config.update(keepdims=self.keepdims, data_format=self.data_format)
        return config


class _GlobalAvgPool(_GlobalPool):
    """The mean over all positions; every position gets ``dY / P``."""

    abstract = True

    def forward(self, x, training=False, mask=None):
        x, flat, mask = self._flat(x, mask)
        if mask is None:
            self._cache = (x.shape, None)
            return self._shape_out(flat.mean(axis=-1))             # Y = (1/P) sum_p X
        real = mask.astype(flat.dtype)
        count = np.maximum(real.sum(axis=-1), 1)                   # sum_t m_t (1 when none)
        self._cache = (x.shape, real / count[..., None])           # m_t / sum m
        return self._shape_out(np.sum(flat * real, axis=-1) / count)   # Y = sum m X / sum m

    def backward(self, grad_y):
        shape, weights = self._cache
        grad = grad_y.reshape(grad_y.shape[0], -1, 1)              # (N, C, 1)
        if weights is not None:
            return self._unflat(grad * weights, shape)             # dX = m dY / sum m
        size = int(np.prod(shape[1:])) // grad.shape[1]
        dx = np.empty((shape[0], grad.shape[1], size), dtype=grad_y.dtype)
        np.divide(grad, size, out=dx)        # dX = dY / P at every position
        return self._unflat(dx, shape)


class _GlobalMaxPool(_GlobalPool):
    """The maximum over all positions; the gradient goes to the first maximum."""

    abstract = True

    def forward(self, x, training=False, mask=None):
        x, flat, mask = self._flat(x, mask)
        real = None
        if mask is not None:                                       # masked steps never win
            flat = np.where(mask, flat, flat.dtype.type(-np.inf))
            real = np.broadcast_to(mask.any(axis=-1), flat.shape[:2])   # some step is real
        argmax = flat.argmax(axis=-1)                              # first maximum
        y = np.take_along_axis(flat, argmax[..., None], axis=-1)[..., 0]
        if real is not None:
            y = np.where(real, y, y.dtype.type(0))                 # no real step: 0
        self._cache = (x.shape, argmax, real)
        return self._shape_out(y)

    def backward(self, grad_y):
        shape, argmax, real = self._cache
        grad = grad_y.reshape(argmax.shape)
        if real is not None:
            grad = np.where(real, grad, grad.dtype.type(0))       # nothing was picked: no gradient
        dx = np.zeros(argmax.shape + (int(np.prod(shape[1:])) // argmax.shape[1],),
                      dtype=grad_y.dtype)
        np.put_along_axis(dx, argmax[..., None], grad[..., None], axis=-1)
        return self._unflat(dx, shape)                            # dY reaches only the maximum


class GlobalAvgPool1D(_GlobalAvgPool):
    """Mean over the length: (N, C, L) -> (N, C); over the time axis of (N, T, F) with
    ``data_format="channels_last"``, leaving masked steps out.

    .. math::

        Y_{n,c} = \\frac{1}{L} \\sum_i X_{n,c,i}, \\qquad dX_{n,c,i} = \\frac{dY_{n,c}}{L}

    Parameters
    ----------
    keepdims : bool
        Keep the pooled axis with size 1: output (N, C, 1) (or (N, 1, C)) instead of (N, C).
    data_format : "channels_first" (default) or "channels_last"
        (N, C, L), or (N, T, C) with the time axis first (see the module docstring).
    """

    rank = 1


class GlobalAvgPool2D(_GlobalAvgPool):
    """Mean over height and width: (N, C, H, W) -> (N, C).

    .. math::

        Y_{n,c} = \\frac{1}{H W} \\sum_{i,j} X_{n,c,i,j}, \\qquad dX_{n,c,i,j} = \\frac{dY_{n,c}}{H W}

    Parameters
    ----------
    keepdims : bool
        Keep the pooled axes with size 1: output (N, C, 1, 1) instead of (N, C).
    data_format : "channels_first" (default) or "channels_last"
        (N, C, H, W), or (N, H, W, C).
    """

    rank = 2


class GlobalMaxPool1D(_GlobalMaxPool):
    """Maximum over the length: (N, C, L) -> (N, C), the gradient to the first maximum; over the
    real steps of (N, T, F) with ``data_format="channels_last"`` and a mask.

    .. math::

        Y_{n,c} = \\max_i X_{n,c,i}, \\qquad dX_{n,c,i^*} = dY_{n,c}

    Parameters
    ----------
    keepdims : bool
        Keep the pooled axis with size 1: output (N, C, 1) (or (N, 1, C)) instead of (N, C).
    data_format : "channels_first" (default) or "channels_last"
        (N, C, L), or (N, T, C) with the time axis first (see the module docstring).
    """

    rank = 1


class GlobalMaxPool2D(_GlobalMaxPool):
    """Maximum over height and width: (N, C, H, W) -> (N, C); the gradient goes to the first maximum.

    .. math::

        Y_{n,c} = \\max_{i,j} X_{n,c,i,j}, \\qquad dX_{n,c,i^*,j^*} = dY_{n,c}

    Parameters
    ----------
    keepdims : bool
        Keep the pooled axes with size 1: output (N, C, 1, 1) instead of (N, C).
    data_format : "channels_first" (default) or "channels_last"
        (N, C, H, W), or (N, H, W, C).
    """

    rank = 2
