r"""Convolution layers: Conv1D, Conv2D and Conv2DTranspose, channels-first as in PyTorch and ONNX.

A convolution (in deep learning, a cross-correlation: the kernel is not flipped) of an input
``X`` (N, C, H, W) padded to ``X^p`` with a kernel ``W`` (F, C, kh, kw) and bias ``b`` (F,):

.. math::

    Z_{n,f,i,j} = b_f + \sum_{c,u,v} W_{f,c,u,v}\, X^p_{n,c,\, i s_h + u d_h,\, j s_w + v d_w}

With the windows unrolled into columns (:func:`~nnscratch.layers.im2col.im2col`,
``X_col`` of shape (C kh kw, N H_out W_out)) this is one matrix product, and so is its
backward pass:

.. math::

    Z = W_{mat} X_{col} + b, \qquad
    dW_{mat} = dZ\, X_{col}^T, \qquad db = \sum_{n,i,j} dZ, \qquad
    dX_{col} = W_{mat}^T dZ, \qquad dX = \mathrm{col2im}(dX_{col})

where ``W_mat`` is ``W`` reshaped to (F, C kh kw) and ``dZ`` is laid out (F, N H_out W_out).

The transposed convolution is the adjoint of this map for a fixed kernel: its forward pass is
the convolution's input gradient (col2im of ``W^T X``) and its backward pass is a convolution.
"""

import math

import numpy as np

from ..errors import ConfigError, ShapeError
from .base import ActivatedLayer, describe, positive_int
from .im2col import (as_tuple, check_input, check_sample_shape, col2im, crop, im2col,
                     normalize_padding, output_sizes, pad, padding_config, resolve_padding)

__all__ = ["Conv1D", "Conv2D", "Conv2DTranspose", "conv_forward", "conv_backward",
           "conv_transpose_forward", "conv_transpose_backward"]


# -- pure kernels ------------------------------------------------------------------------------

def _bias_shape(rank):
    return (-1,) + (1,) * rank


# In inference (no backward to come) the batch goes through in chunks whose column matrices hold
# at most this many values, so predicting on a large set never builds one huge X_col.
INFERENCE_CHUNK = 1 << 22


def conv_forward(x, W, b, stride, dilation, pads, out_sizes, keep_cols=True):
    """Convolution of ``x`` (N, C, *spatial) with ``W`` (F, C, *k) and ``b`` (F,) or None.

    Returns ``(z, xp, cols)``: ``z`` (N, F, *out_sizes), a channel-major view; the padded input
    ``xp`` and the column matrix ``cols`` that :func:`conv_backward` needs. With
    ``keep_cols=False`` (inference) a batch whose columns would hold more than
    :data:`INFERENCE_CHUNK` values goes through in chunks and ``cols`` is None (the backward
    rebuilds it from ``xp`` if it is ever called).
    """
    n, f = x.shape[0], W.shape[0]
    xp = pad(x, pads)
    W_mat = W.reshape(f, -1)
    per_sample = W_mat.shape[1] * math.prod(out_sizes)
    step = n if keep_cols else max(1, INFERENCE_CHUNK // per_sample)
    if step >= n:
        cols = im2col(xp, W.shape[2:], stride, dilation, out_sizes)   # X_col: (C*K, N*P)
        z = W_mat @ cols                                           # Z = W_mat X_col: (F, N*P)
    else:
        cols = None
        z = np.empty((f, n) + tuple(out_sizes), dtype=np.result_type(x, W))
        for start in range(0, n, step):
            part = im2col(xp[start:start + step], W.shape[2:], stride, dilation, out_sizes)
            z[:, start:start + step] = (W_mat @ part).reshape((f, -1) + tuple(out_sizes))
        z = z.reshape(f, -1)
    if b is not None:
        z += b[:, None]                                            # + b
    return z.reshape((f, n) + tuple(out_sizes)).swapaxes(0, 1), xp, cols


def conv_backward(grad_z, xp, W, stride, dilation, pads, cols=None, with_bias=True,
                  need_input_grad=True):
    """Gradients of :func:`conv_forward`: ``(dx, dW, db)`` from ``grad_z`` (N, F, *out).

    ``dx`` is None with ``need_input_grad=False`` (a network's first layer), which saves the
    product ``W_mat^T dZ`` and the col2im.
    """
    f, kernel, out_sizes = W.shape[0], W.shape[2:], grad_z.shape[2:]
    if cols is None:
        cols = im2col(xp, kernel, stride, dilation, out_sizes)     # X_col, not kept by the forward
    dz = grad_z.swapaxes(0, 1).reshape(f, -1)                      # dZ: (F, N*P)
    dW = (dz @ cols.T).reshape(W.shape)                            # dW = dZ X_col^T
    db = dz.sum(axis=1) if with_bias else None                     # db = sum of dZ over n, i, j
    if not need_input_grad:
        return None, dW, db
    dcols = W.reshape(f, -1).T @ dz                                # dX_col = W_mat^T dZ
    dxp = col2im(dcols, xp.shape, kernel, stride, dilation, out_sizes)
    return crop(dxp, pads), dW, db                                 # dX = col2im(dX_col), unpadded


def conv_transpose_forward(x, W, b, stride, dilation, pads, full_sizes):
    """Transposed convolution of ``x`` (N, C_in, *spatial) with ``W`` (C_in, F, *k).

    Every input pixel scatters ``x * W`` into a buffer of ``full_sizes``; ``pads`` are then
    cropped. Returns ``(y, x_mat)`` with ``x_mat`` the (C_in, N*P) matrix the backward needs.

    .. math::

        Y^{full} = \\mathrm{col2im}(W_{mat}^T X_{mat}), \\qquad Y = \\mathrm{crop}(Y^{full}) + b
    """
    n, c_in, in_sizes = x.shape[0], W.shape[0], x.shape[2:]
    f, kernel = W.shape[1], W.shape[2:]
    x_mat = x.swapaxes(0, 1).reshape(c_in, -1)                     # X_mat: (C_in, N*P)
    cols = W.reshape(c_in, -1).T @ x_mat                           # W_mat^T X_mat: (F*K, N*P)
    full = col2im(cols, (n, f) + tuple(full_sizes), kernel, stride, dilation, in_sizes)
    y = crop(full, pads)
    if b is not None:
        y += b.reshape(_bias_shape(len(kernel)))                   # + b
    return y, x_mat


def conv_transpose_backward(grad_y, x_mat, W, in_shape, stride, dilation, pads, with_bias=True):
    """Gradients of :func:`conv_transpose_forward`: ``(dx, dW, db)``; the backward is a convolution."""
    c_in, kernel, rank = W.shape[0], W.shape[2:], len(W.shape) - 2
    grad_full = pad(grad_y, pads)                                  # dY^full: zeros where cropped
    cols = im2col(grad_full, kernel, stride, dilation, in_shape[2:])   # (F*K, N*P)
    dW = (x_mat @ cols.T).reshape(W.shape)                         # dW = X_mat dY_col^T
    db = grad_y.sum(axis=(0,) + tuple(range(2, 2 + rank))) if with_bias else None   # db = sum dY
    dx = W.reshape(c_in, -1) @ cols                                # dX_mat = W_mat dY_col
    return dx.reshape((c_in, in_shape[0]) + tuple(in_shape[2:])).swapaxes(0, 1), dW, db


# -- layers ------------------------------------------------------------------------------------

class _BaseConv(ActivatedLayer):
    """Arguments, parameters and bookkeeping shared by the convolution layers."""

    rank = None
    packable = True       # W, b and their gradients change in place only

    def __init__(self, filters, kernel_size, stride=1, padding=0, dilation=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, name=None):
        super().__init__(activation=activation, name=name)
        kind = type(self).__name__
        self.filters = positive_int(filters, f"{kind} filters")
        self.kernel_size = as_tuple(kernel_size, self.rank, f"{kind} kernel_size")
        self.stride = as_tuple(stride, self.rank, f"{kind} stride")
        self.dilation = as_tuple(dilation, self.rank, f"{kind} dilation")
        self.padding = normalize_padding(padding, self.rank, f"{kind} padding")
        self.use_bias = bool(use_bias)
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = kernel_regularizer
        self.bias_regularizer = bias_regularizer
        self.in_channels = None
        self._cache = None

    def kernel_shape(self, in_channels):
        """The shape of ``W``."""
        raise NotImplementedError

    def fans(self, in_channels):
        """``(fan_in, fan_out)`` for the initialisers, as Keras counts them."""
        receptive = math.prod(self.kernel_size)
        return in_channels * receptive, self.filters * receptive

    def build(self, input_shape, rng=None, dtype=np.float32):
        input_shape = check_sample_shape(self, input_shape, self.rank)
        super().build(input_shape, rng, dtype)
        self.in_channels = input_shape[0]
        self.compute_output_shape(input_shape)        # a clear error now if the input is too small
        fan_in, fan_out = self.fans(self.in_channels)
        kernel_shape = self.kernel_shape(self.in_channels)
        self.add_param("W", self.init_param(self.kernel_initializer, kernel_shape, rng,
                                            fan_in=fan_in, fan_out=fan_out),
                       self.kernel_regularizer)
        if self.use_bias:
            self.add_param("b", self.init_param(self.bias_initializer, (self.filters,), rng,
                                                fan_in=fan_in, fan_out=fan_out),
                           self.bias_regularizer)

    def _check(self, x):
        self.require_built()
        return check_input(self, x, self.rank, self.in_channels)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=list(self.kernel_size),
                      stride=list(self.stride), padding=padding_config(self.padding),
                      dilation=list(self.dilation), use_bias=self.use_bias,
                      kernel_initializer=describe(self.kernel_initializer),
                      bias_initializer=describe(self.bias_initializer),
                      kernel_regularizer=describe(self.kernel_regularizer),
                      bias_regularizer=describe(self.bias_regularizer))
        return config


class _Conv(_BaseConv):
    """A convolution over ``rank`` spatial axes (see the module docstring for the math)."""

    def kernel_shape(self, in_channels):
        return (self.filters, in_channels) + self.kernel_size

    def _geometry(self, in_sizes):
        pads = resolve_padding(self.padding, in_sizes, self.kernel_size, self.stride, self.dilation)
        return pads, output_sizes(self, in_sizes, self.kernel_size, self.stride, self.dilation, pads)

    def compute_output_shape(self, input_shape):
        input_shape = check_sample_shape(self, input_shape, self.rank)
        return (self.filters,) + self._geometry(input_shape[1:])[1]

    def explicit_padding(self, input_shape):
        """The padding ``((before, after), ...)`` per spatial axis for samples of ``input_shape``.

        Works out ``"same"`` (which depends on the input size), e.g. for an exporter.
        """
        return self._geometry(check_sample_shape(self, input_shape, self.rank)[1:])[0]

    def linear_forward(self, x, training=False):
        x = self._check(x)
        pads, out_sizes = self._geometry(x.shape[2:])
        z, xp, cols = conv_forward(x, self.params["W"], self.params.get("b"), self.stride,
                                   self.dilation, pads, out_sizes, keep_cols=training)
        self._cache = (xp, cols, pads)
        return z

    def backward_from_z(self, grad_z):
        xp, cols, pads = self._cache
        dx, dW, db = conv_backward(grad_z, xp, self.params["W"], self.stride, self.dilation, pads,
                                   cols, self.use_bias, need_input_grad=self.input_grad_needed)
        self.grads["W"][...] = dW
        if self.use_bias:
            self.grads["b"][...] = db
        return dx


class Conv1D(_Conv):
    """1-D convolution over (N, C, L) inputs with a kernel ``W`` of shape (filters, C, k).

    .. math::

        Z_{n,f,i} = b_f + \\sum_{c,u} W_{f,c,u}\\, X^p_{n,c,\\, i s + u d},
        \\qquad L_{out} = \\left\\lfloor \\frac{L + p_0 + p_1 - d (k - 1) - 1}{s} \\right\\rfloor + 1

    Backward, with the windows as columns: ``dW = dZ X_col^T``, ``db = sum dZ``,
    ``dX = col2im(W^T dZ)`` (see :mod:`nnscratch.layers.conv`).

    Parameters
    ----------
    filters : int
        Number of output channels.
    kernel_size, stride, dilation : int or tuple of 1 int
    padding : "valid", "same", int or (before, after)
        ``"same"`` gives ``ceil(L / stride)`` outputs, any odd extra padding at the end
        (TensorFlow/ONNX ``SAME_UPPER``).
    activation : str, dict, Activation or None
        Applied to ``Z``; None means identity.
    use_bias : bool
    kernel_initializer, bias_initializer : initialiser name, dict or object
        Defaults Glorot uniform (fan_in = C k, fan_out = filters k) and zeros, as in Keras.
    kernel_regularizer, bias_regularizer : None, "l1", "l2", dict or Regularizer
    """

    rank = 1


class Conv2D(_Conv):
    """2-D convolution over (N, C, H, W) inputs with a kernel ``W`` of shape (filters, C, kh, kw).

    .. math::

        Z_{n,f,i,j} = b_f + \\sum_{c,u,v} W_{f,c,u,v}\\, X^p_{n,c,\\, i s_h + u d_h,\\, j s_w + v d_w}

    and each output size is :math:`\\lfloor (n + p_0 + p_1 - d (k - 1) - 1) / s \\rfloor + 1`.
    Backward, with the windows as columns: ``dW = dZ X_col^T``, ``db = sum dZ``,
    ``dX = col2im(W^T dZ)`` (see :mod:`nnscratch.layers.conv`). The layout matches PyTorch's
    ``nn.Conv2d``, so its ``weight`` and ``bias`` copy across unchanged.

    Parameters
    ----------
    filters : int
        Number of output channels.
    kernel_size, stride, dilation : int or (int, int)
    padding : "valid", "same", int, (pad_h, pad_w) or ((top, bottom), (left, right))
        ``"same"`` gives ``ceil(H / stride)`` by ``ceil(W / stride)`` outputs, any odd extra
        padding at the bottom/right (TensorFlow/ONNX ``SAME_UPPER``).
    activation : str, dict, Activation or None
        Applied to ``Z``; None means identity.
    use_bias : bool
    kernel_initializer, bias_initializer : initialiser name, dict or object
        Defaults Glorot uniform (fan_in = C kh kw, fan_out = filters kh kw) and zeros, as in Keras.
    kernel_regularizer, bias_regularizer : None, "l1", "l2", dict or Regularizer
    """

    rank = 2


class _ConvTranspose(_BaseConv):
    """A transposed convolution over ``rank`` spatial axes (the adjoint of :class:`_Conv`)."""

    def __init__(self, filters, kernel_size, stride=1, padding=0, output_padding=0, dilation=1,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 name=None):
        super().__init__(filters, kernel_size, stride=stride, padding=padding, dilation=dilation,
                         activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         name=name)
        kind = type(self).__name__
        self.output_padding = as_tuple(output_padding, self.rank, f"{kind} output_padding", minimum=0)
        for extra, s, d in zip(self.output_padding, self.stride, self.dilation):
            if extra >= max(s, d):
                raise ConfigError(f"{kind} output_padding must be smaller than the stride or the "
                                  f"dilation (as in PyTorch), got output_padding "
                                  f"{self.output_padding} with stride {self.stride} and dilation "
                                  f"{self.dilation}")
        if self.padding == "same" and any(self.output_padding):
            raise ConfigError(f"{kind} padding='same' sets the output size itself (input * stride); "
                              f"output_padding must be 0, got {self.output_padding}")

    def kernel_shape(self, in_channels):
        return (in_channels, self.filters) + self.kernel_size

    def fans(self, in_channels):
        # As Keras and PyTorch count them for a transposed kernel: fan_in = filters * k.
        receptive = math.prod(self.kernel_size)
        return self.filters * receptive, in_channels * receptive

    def _geometry(self, in_sizes):
        """``(pads, full_sizes, out_sizes)``: the scatter buffer and what is cropped from it.

        .. math::

            n^{full} = (n - 1) s + d (k - 1) + 1 + \\text{output\\_padding}, \\qquad
            n_{out} = n^{full} - p_0 - p_1

        which is PyTorch's ``(n - 1) s - 2 p + d (k - 1) + output_padding + 1``. With ``"same"``
        the output is ``n s``: the crop is the padding a ``"same"`` convolution of that output
        would add (so this layer is its adjoint), or, when that is negative, extra zeros.
        """
        extras, pads = list(self.output_padding), self.padding
        if pads == "same":
            pads = []
            for axis, (k, s, d) in enumerate(zip(self.kernel_size, self.stride, self.dilation)):
                total = d * (k - 1) + 1 - s
                pads.append((max(total, 0) // 2, max(total, 0) - max(total, 0) // 2))
                extras[axis] = max(-total, 0)
            pads = tuple(pads)
        full = tuple((n - 1) * s + d * (k - 1) + 1 + e for n, k, s, d, e
                     in zip(in_sizes, self.kernel_size, self.stride, self.dilation, extras))
        out = tuple(m - p0 - p1 for m, (p0, p1) in zip(full, pads))
        if min(out) < 1:
            raise ShapeError(f"{type(self).__name__} layer {self.label} would produce an output "
                             f"of size {'x'.join(map(str, out))} from an input of size "
                             f"{'x'.join(map(str, in_sizes))}: the padding {padding_config(pads)} "
                             "crops more than the transposed convolution produces")
        return pads, full, out

    def compute_output_shape(self, input_shape):
        input_shape = check_sample_shape(self, input_shape, self.rank)
        return (self.filters,) + self._geometry(input_shape[1:])[2]

    def explicit_padding(self, input_shape):
        """The crop ``((before, after), ...)`` per spatial axis for samples of ``input_shape``.

        Works out ``"same"``; with :meth:`explicit_output_padding` this is what ONNX's
        ConvTranspose takes as ``pads`` and ``output_padding``.
        """
        return self._geometry(check_sample_shape(self, input_shape, self.rank)[1:])[0]

    def explicit_output_padding(self, input_shape):
        """Rows/columns added at the end of each spatial axis (``"same"`` may add some)."""
        input_shape = check_sample_shape(self, input_shape, self.rank)
        full = self._geometry(input_shape[1:])[1]
        return tuple(m - ((n - 1) * s + d * (k - 1) + 1) for m, n, k, s, d
                     in zip(full, input_shape[1:], self.kernel_size, self.stride, self.dilation))

    def linear_forward(self, x, training=False):
        x = self._check(x)
        pads, full, _ = self._geometry(x.shape[2:])
        y, x_mat = conv_transpose_forward(x, self.params["W"], self.params.get("b"), self.stride,
                                          self.dilation, pads, full)
        self._cache = (x_mat, x.shape, pads)
        return y

    def backward_from_z(self, grad_z):
        x_mat, in_shape, pads = self._cache
        dx, dW, db = conv_transpose_backward(grad_z, x_mat, self.params["W"], in_shape,
                                             self.stride, self.dilation, pads, self.use_bias)
        self.grads["W"][...] = dW
        if self.use_bias:
            self.grads["b"][...] = db
        return dx

    def get_config(self):
        config = super().get_config()
        config["output_padding"] = list(self.output_padding)
        return config


class Conv2DTranspose(_ConvTranspose):
    """2-D transposed convolution ("deconvolution"), PyTorch's ``nn.ConvTranspose2d``.

    The kernel ``W`` has shape (in_channels, filters, kh, kw), as in PyTorch, so weights copy
    across. Every input pixel scatters its values times the kernel into the output:

    .. math::

        Y_{n,f,\\, i s_h + u d_h - p_h,\\, j s_w + v d_w - p_w}
            \\mathrel{+}= \\sum_c X_{n,c,i,j} W_{c,f,u,v},
        \\qquad Y \\mathrel{+}= b_f

    so ``H_out = (H - 1) s - p_top - p_bottom + d (kh - 1) + output_padding + 1``. It is the
    adjoint of :class:`Conv2D`: for the same kernel its forward pass equals Conv2D's input
    gradient. Backward: ``dY_col = im2col(dY)``, ``dW = X_mat dY_col^T``, ``db = sum dY``,
    ``dX = W_mat dY_col`` (a convolution of ``dY``).

    Parameters
    ----------
    filters : int
        Number of output channels.
    kernel_size, stride, dilation : int or (int, int)
    padding : "valid", "same", int, (pad_h, pad_w) or ((top, bottom), (left, right))
        Rows and columns cropped from the full output. ``"same"`` makes the output
        ``H * stride`` by ``W * stride`` (as Keras).
    output_padding : int or (int, int)
        Extra rows/columns added at the bottom/right, each smaller than the stride or the
        dilation (PyTorch's rule); they resolve which input size a strided Conv2D came from.
    activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer
        As :class:`Conv2D`; the Glorot fans are fan_in = filters kh kw, fan_out = C kh kw.
    """

    rank = 2
