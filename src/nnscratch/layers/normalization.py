"""Batch and layer normalization: standardize, then scale and shift.

Both layers compute, over a set of axes holding :math:`m` values per group,

.. math::

    \\mu = \\frac{1}{m}\\sum_i x_i, \\quad \\sigma^2 = \\frac{1}{m}\\sum_i (x_i - \\mu)^2, \\quad
    \\hat x_i = \\frac{x_i - \\mu}{\\sqrt{\\sigma^2 + \\epsilon}}, \\quad y_i = \\gamma \\hat x_i + \\beta

Batch normalization takes the groups across the batch (one per feature or channel), layer
normalization within each sample. Both share the kernels :func:`normalize` and
:func:`normalize_backward`.
"""

import math

import numpy as np

from .. import checks
from ..errors import ConfigError, ShapeError
from .base import Layer

# --------------------------------------------------------------------------------------------
# Kernels
# --------------------------------------------------------------------------------------------

def normalize(x, axes, epsilon):
    """Standardize ``x`` over ``axes``: returns ``(x_hat, mean, var, inv_std)`` (kept dims).

    .. math::

        \\hat x = (x - \\mu) / \\sqrt{\\sigma^2 + \\epsilon}

    ``var`` is the biased variance (divided by :math:`m`), the one used for normalizing.
    """
    mean = np.mean(x, axis=axes, keepdims=True)
    centered = x - mean
    var = np.mean(centered * centered, axis=axes, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + x.dtype.type(epsilon))
    return centered * inv_std, mean, var, inv_std


def normalize_backward(grad_xhat, x_hat, inv_std, axes):
    """``dL/dx`` from ``dL/dx_hat`` when the mean and variance were computed from ``x`` itself.

    :math:`\\mu` and :math:`\\sigma^2` depend on every :math:`x_j` of the group, which adds two
    terms to the plain :math:`d\\hat x / \\sqrt{\\sigma^2 + \\epsilon}`:

    .. math::

        dx = \\frac{1}{m\\sqrt{\\sigma^2 + \\epsilon}} \\Big(m\\, d\\hat x - \\sum_j d\\hat x_j
             - \\hat x \\sum_j d\\hat x_j \\hat x_j\\Big)
    """
    m = x_hat.size // inv_std.size                                           # values per group
    sum_grad = np.sum(grad_xhat, axis=axes, keepdims=True)               # sum dxhat (via mu)
    sum_grad_xhat = np.sum(grad_xhat * x_hat, axis=axes, keepdims=True)  # sum dxhat*xhat (var)
    return (inv_std / m) * (m * grad_xhat - sum_grad - x_hat * sum_grad_xhat)


# --------------------------------------------------------------------------------------------
# Shared bookkeeping
# --------------------------------------------------------------------------------------------

def _is_feature_axis(axis):
    """Whether ``axis`` can name a feature axis: a whole number, and not 0 (the batch axis)."""
    return checks.is_whole(axis) and axis != 0


class _AffineNormalization(Layer):
    """Normalization followed by the learnt ``gamma * x_hat + beta``; subclasses pick the axes."""

    abstract = True

    def __init__(self, epsilon, center, scale, beta_initializer, gamma_initializer,
                 beta_regularizer, gamma_regularizer, name, trainable):
        super().__init__(name=name, trainable=trainable)
        kind = type(self).__name__
        self.epsilon = checks.number(epsilon, f"{kind} epsilon", low=0, low_open=True)
        self.center = checks.boolean(center, f"{kind} center")
        self.scale = checks.boolean(scale, f"{kind} scale")
        self.keep_param_specs(beta=(beta_initializer, beta_regularizer),
                              gamma=(gamma_initializer, gamma_regularizer))
        self._param_shape = None     # shape of gamma and beta
        self._broadcast = None       # gamma's shape for broadcasting against x
        self._x_hat = None
        self._inv_std = None

    def _affine_shape(self, input_shape):
        """The shape of ``gamma`` and ``beta`` for samples of ``input_shape`` (subclasses)."""
        raise NotImplementedError

    def forward_values(self, input_shape):
        """``x_hat`` and the output, each shaped like the input."""
        return 2 * math.prod(input_shape)

    def param_shapes(self, input_shape):
        """``gamma`` (with ``scale``) and ``beta`` (with ``center``), one shape for both."""
        shape = self._affine_shape(tuple(int(s) for s in input_shape))
        return {key: shape for key, wanted in (("gamma", self.scale), ("beta", self.center))
                if wanted}

    def _add_affine_params(self, shape, rng):
        self._param_shape = shape
        if self.scale:
            self.draw_param("gamma", "gamma", shape, rng)
        if self.center:
            self.draw_param("beta", "beta", shape, rng)

    def _check_input(self, x, feature_axes):
        """ShapeError unless ``x`` has the built rank and sizes along ``feature_axes``."""
        ndim = len(self.input_shape) + 1
        if x.ndim != ndim or any(x.shape[a] != self.input_shape[a - 1] for a in feature_axes):
            sizes = ", ".join(f"{self.input_shape[a - 1]} along axis {a}" for a in feature_axes)
            built = ", ".join(map(str, self.input_shape))
            raise ShapeError(f"{type(self).__name__} layer {self.label} expects {ndim}-D inputs "
                             f"with {sizes} (built for (N, {built})), got shape {x.shape}")

    def _affine_forward(self, x_hat):
        y = x_hat
        if self.scale:
            y = y * self.params["gamma"].reshape(self._broadcast)            # y = gamma * xhat
        if self.center:
            y = y + self.params["beta"].reshape(self._broadcast)             # ... + beta
        return y

    def _affine_backward(self, grad_y, param_axes):
        """Fill ``dgamma``, ``dbeta`` (summed over ``param_axes``); return ``dL/dx_hat``."""
        shape = self._param_shape
        if self.center:
            self.grads["beta"][...] = np.sum(grad_y, axis=param_axes).reshape(shape)  # dbeta = sum dY
        if not self.scale:
            return grad_y                                                        # dxhat = dY
        self.grads["gamma"][...] = np.sum(grad_y * self._x_hat,
                                          axis=param_axes).reshape(shape)  # dgamma = sum dY * xhat
        return grad_y * self.params["gamma"].reshape(self._broadcast)          # dxhat = dY * gamma

    def get_config(self):
        config = super().get_config()
        config.update(epsilon=self.epsilon, center=self.center, scale=self.scale,
                      **self.param_specs_config())
        return config


# --------------------------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------------------------

class BatchNormalization(_AffineNormalization):
    """Batch normalization (Ioffe & Szegedy, 2015), one mean and variance per feature/channel.

    The statistics are taken over every axis except ``axis``: over the batch for (N, F) data,
    over the batch and the positions for channels-first (N, C, L) and (N, C, H, W) data. With
    ``gamma``, ``beta`` shaped (C,):

    .. math::

        y = \\gamma\\, \\frac{x - \\mu}{\\sqrt{\\sigma^2 + \\epsilon}} + \\beta

    **Training** uses the batch's :math:`\\mu` and biased :math:`\\sigma^2` (divided by
    :math:`m`, the number of values per channel), and its backward is the full derivative
    through them (:func:`normalize_backward`). It also updates the running statistics, kept in
    ``buffers`` (so they are saved with the model), with the Keras meaning of ``momentum``:

    .. math::

        \\text{running\\_mean} \\leftarrow p\\,\\text{running\\_mean} + (1 - p)\\,\\mu, \\quad
        \\text{running\\_var} \\leftarrow p\\,\\text{running\\_var} + (1 - p)\\,\\frac{m}{m - 1}\\sigma^2

    The running variance takes the unbiased estimate, as PyTorch does (Keras keeps the biased
    one). **Inference** normalizes with ``running_mean`` and ``running_var`` instead, so the
    layer is then a fixed affine map per channel, whose backward is
    :math:`dx = \\gamma\\, dy / \\sqrt{\\text{running\\_var} + \\epsilon}`.

    **Frozen** (``trainable=False``), the layer is that inference map in training too, as in
    Keras: ``forward(x, training=True)`` normalizes with the running statistics, leaves them
    unchanged (so ``fit`` does not move them), and its backward is the affine map's. This is
    what fine-tuning wants: a frozen block keeps the statistics it was trained with, whatever
    the new data's batches look like.

    Defaults follow Keras: ``momentum=0.99``, ``epsilon=1e-3``. To match
    ``torch.nn.BatchNorm2d`` (momentum 0.1, eps 1e-5) use ``momentum=0.9, epsilon=1e-5``.

    Parameters
    ----------
    axis : int
        The feature (channel) axis of the full input, batch axis included: 1 (default) is the
        features of (N, F) data and the channels of channels-first data; -1 the last axis.
    momentum : float in [0, 1)
        Weight of the old running statistics in each update.
    epsilon : float > 0
        Added to the variance before the square root.
    center, scale : bool
        Learn ``beta`` (shift) / ``gamma`` (scale).
    beta_initializer, gamma_initializer : initialiser specs (defaults zeros and ones).
    beta_regularizer, gamma_regularizer : optional weight penalties.
    """

    def __init__(self, axis=1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, name=None, trainable=True):
        super().__init__(epsilon, center, scale, beta_initializer, gamma_initializer,
                         beta_regularizer, gamma_regularizer, name, trainable)
        if not _is_feature_axis(axis):
            raise ConfigError(f"BatchNormalization axis must be a non-zero integer (axis 0 is the "
                              f"batch), got {axis!r}")
        self.axis = int(axis)
        self.momentum = checks.number(momentum, "BatchNormalization momentum", low=0, high=1,
                                      high_open=True)
        self._reduce = None
        self._channel_axis = None
        self._training = False

    def _resolve_axis(self, input_shape):
        """The channel axis of inputs (N,) + ``input_shape``, from ``axis`` (may be negative)."""
        ndim = len(input_shape) + 1
        axis = self.axis + ndim if self.axis < 0 else self.axis
        if not 1 <= axis < ndim:
            raise ConfigError(f"BatchNormalization layer {self.label} has axis={self.axis}, which "
                              f"is not a feature axis of inputs shaped (N, "
                              f"{', '.join(map(str, input_shape))})")
        return axis

    def _affine_shape(self, input_shape):
        return (input_shape[self._resolve_axis(input_shape) - 1],)        # (channels,)

    def build(self, input_shape, rng=None, dtype=np.float32):
        super().build(input_shape, rng, dtype)
        ndim = len(self.input_shape) + 1
        axis = self._resolve_axis(self.input_shape)
        channels = self.input_shape[axis - 1]
        self._channel_axis = axis
        self._reduce = tuple(i for i in range(ndim) if i != axis)
        self._broadcast = tuple(channels if i == axis else 1 for i in range(ndim))
        self._add_affine_params((channels,), rng)
        self.buffers["running_mean"] = np.zeros(channels, dtype=self.dtype)
        self.buffers["running_var"] = np.ones(channels, dtype=self.dtype)

    def forward(self, x, training=False):
        self._check_input(x, (self._channel_axis,))
        self._training = bool(training) and self.trainable     # frozen: the inference map
        if self._training:
            m = x.size // self._param_shape[0]
            if m < 2:
                raise ShapeError(
                    f"BatchNormalization layer {self.label} needs more than one value per channel "
                    f"to compute batch statistics in training, got input shape {x.shape}; use "
                    "batches of at least 2 samples (fit's last batch holds N % batch_size)")
            self._x_hat, mean, var, self._inv_std = normalize(x, self._reduce, self.epsilon)
            self._update_running(mean.reshape(-1), var.reshape(-1), m)
        else:
            mean = self.buffers["running_mean"].reshape(self._broadcast)
            var = self.buffers["running_var"].reshape(self._broadcast)
            inv_std = 1.0 / np.sqrt(var + var.dtype.type(self.epsilon))
            self._inv_std = inv_std.astype(x.dtype, copy=False)
            self._x_hat = (x - mean.astype(x.dtype, copy=False)) * self._inv_std
        return self._affine_forward(self._x_hat)

    def _update_running(self, mean, var, m):
        p = self.momentum
        running_mean, running_var = self.buffers["running_mean"], self.buffers["running_var"]
        running_mean *= p
        running_mean += (1.0 - p) * mean                        # Keras momentum convention
        running_var *= p
        running_var += (1.0 - p) * (m / (m - 1)) * var          # unbiased variance, as PyTorch

    def backward(self, grad_y):
        grad_xhat = self._affine_backward(grad_y, self._reduce)     # dxhat (and dgamma, dbeta)
        if self._training:
            return normalize_backward(grad_xhat, self._x_hat, self._inv_std, self._reduce)
        return grad_xhat * self._inv_std                # fixed statistics: dX = dxhat / std

    def get_config(self):
        config = super().get_config()
        config.update(axis=self.axis, momentum=self.momentum)
        return config


class LayerNormalization(_AffineNormalization):
    """Layer normalization (Ba, Kiros & Hinton, 2016): each sample standardized on its own.

    The mean and variance are taken over ``axis`` (the last axis by default) within each
    sample, so training and inference compute the same thing and the batch size does not
    matter. ``gamma`` and ``beta`` are shaped like the normalized axes:

    .. math::

        y = \\gamma \\odot \\frac{x - \\mu(x)}{\\sqrt{\\sigma^2(x) + \\epsilon}} + \\beta

    The backward is :func:`normalize_backward` over the same axes. ``epsilon`` defaults to
    Keras's 1e-3 (``torch.nn.LayerNorm`` uses 1e-5).

    Parameters
    ----------
    axis : int or tuple of int
        Axes of the full input (batch axis 0 excluded) to normalize over; -1 is the last.
    epsilon : float > 0
    center, scale : bool
        Learn ``beta`` / ``gamma``.
    beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer : as in
        :class:`BatchNormalization`.
    """

    supports_masking = True   # each step on its own (with the default axis), as in Keras

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 name=None, trainable=True):
        super().__init__(epsilon, center, scale, beta_initializer, gamma_initializer,
                         beta_regularizer, gamma_regularizer, name, trainable)
        axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
        if not axes or not all(_is_feature_axis(a) for a in axes):
            raise ConfigError(f"LayerNormalization axis must be a non-zero integer or a tuple of "
                              f"them (axis 0 is the batch), got {axis!r}")
        self.axis = tuple(int(a) for a in axes) if isinstance(axis, (tuple, list)) else int(axis)
        self._axes = None
        self._param_axes = None

    def _resolve_axes(self, input_shape):
        """The normalized axes of inputs (N,) + ``input_shape``, sorted, from ``axis``."""
        ndim = len(input_shape) + 1
        requested = self.axis if isinstance(self.axis, tuple) else (self.axis,)
        axes = sorted({a + ndim if a < 0 else a for a in requested})
        if len(axes) != len(requested) or not all(1 <= a < ndim for a in axes):
            raise ConfigError(f"LayerNormalization layer {self.label} has axis={self.axis}, which "
                              f"does not name distinct feature axes of inputs shaped (N, "
                              f"{', '.join(map(str, input_shape))})")
        return tuple(axes)

    def _affine_shape(self, input_shape):
        return tuple(input_shape[a - 1] for a in self._resolve_axes(input_shape))

    def build(self, input_shape, rng=None, dtype=np.float32):
        super().build(input_shape, rng, dtype)
        ndim = len(self.input_shape) + 1
        axes = self._axes = self._resolve_axes(self.input_shape)
        self._param_axes = tuple(i for i in range(ndim) if i not in axes)
        self._broadcast = tuple(self.input_shape[i - 1] if i in axes else 1 for i in range(ndim))
        self._add_affine_params(self._affine_shape(self.input_shape), rng)

    def forward(self, x, training=False):
        self._check_input(x, self._axes)
        self._x_hat, _, _, self._inv_std = normalize(x, self._axes, self.epsilon)
        return self._affine_forward(self._x_hat)

    def backward(self, grad_y):
        grad_xhat = self._affine_backward(grad_y, self._param_axes)  # dxhat (and dgamma, dbeta)
        return normalize_backward(grad_xhat, self._x_hat, self._inv_std, self._axes)

    def get_config(self):
        config = super().get_config()
        config["axis"] = list(self.axis) if isinstance(self.axis, tuple) else self.axis
        return config
