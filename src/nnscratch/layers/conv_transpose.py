r"""Transposed convolution ("deconvolution"): Conv2DTranspose, PyTorch's ``nn.ConvTranspose2d``.

For a fixed kernel the transposed convolution is the adjoint of the convolution of
:mod:`nnscratch.layers.conv`: its forward pass is that convolution's input gradient and its
backward pass is a convolution. With ``X_mat`` the input laid out (C_in, N H W) and ``W_mat``
the kernel (C_in, F kh kw):

.. math::

    Y^{full} = \mathrm{col2im}(W_{mat}^T X_{mat}), \qquad Y = \mathrm{crop}(Y^{full}) + b

    dY_{col} = \mathrm{im2col}(dY^{full}), \qquad dW_{mat} = X_{mat}\, dY_{col}^T, \qquad
    db = \sum dY, \qquad dX_{mat} = W_{mat}\, dY_{col}

where ``dY^full`` is ``dY`` padded back with zeros where the forward cropped.
"""

import math

from .. import checks
from ..errors import ConfigError, ShapeError
from .conv import BaseConv
from .im2col import (
    batch_first,
    batch_last,
    check_sample_shape,
    col2im,
    crop,
    im2col,
    pad,
    padding_config,
)

__all__ = ["Conv2DTranspose", "conv_transpose_forward", "conv_transpose_backward"]


# -- pure kernels ------------------------------------------------------------------------------

def conv_transpose_forward(x, W, b, stride, dilation, pads, full_sizes):
    """Transposed convolution of ``x`` (N, C_in, *spatial) with ``W`` (C_in, F, *k).

    Every input pixel scatters ``x * W`` into a buffer of ``full_sizes``; ``pads`` are then
    cropped. Returns ``(y, x_mat)`` with ``x_mat`` the (C_in, P*N) matrix the backward needs
    (batch-last columns, as :func:`~nnscratch.layers.im2col.im2col` orders them).

    .. math::

        Y^{full} = \\mathrm{col2im}(W_{mat}^T X_{mat}), \\qquad Y = \\mathrm{crop}(Y^{full}) + b
    """
    n, c_in, in_sizes = x.shape[0], W.shape[0], x.shape[2:]
    f, kernel = W.shape[1], W.shape[2:]
    x_mat = batch_last(x).reshape(c_in, -1)                        # X_mat: (C_in, P*N)
    cols = W.reshape(c_in, -1).T @ x_mat                           # W_mat^T X_mat: (F*K, P*N)
    full = col2im(cols, (n, f) + tuple(full_sizes), kernel, stride, dilation, in_sizes)
    y = crop(full, pads)
    if b is not None:
        y += b.reshape((-1,) + (1,) * len(kernel))                 # + b, over (N, F, *spatial)
    return y, x_mat


def conv_transpose_backward(grad_y, x_mat, W, in_shape, stride, dilation, pads, with_bias=True):
    """Gradients of :func:`conv_transpose_forward`: ``(dx, dW, db)``; the backward is a convolution."""
    c_in, kernel, rank = W.shape[0], W.shape[2:], len(W.shape) - 2
    grad_full = pad(grad_y, pads)                                  # dY^full: zeros where cropped
    cols = im2col(grad_full, kernel, stride, dilation, in_shape[2:])   # (F*K, P*N)
    dW = (x_mat @ cols.T).reshape(W.shape)                         # dW = X_mat dY_col^T
    db = grad_y.sum(axis=(0,) + tuple(range(2, 2 + rank))) if with_bias else None   # db = sum dY
    dx = W.reshape(c_in, -1) @ cols                                # dX_mat = W_mat dY_col
    return batch_first(dx.reshape((c_in,) + tuple(in_shape[2:]) + (in_shape[0],))), dW, db


# -- layers ------------------------------------------------------------------------------------

class _ConvTranspose(BaseConv):
    """A transposed convolution over ``rank`` spatial axes (the adjoint of a convolution)."""

    abstract = True

    def __init__(self, filters, kernel_size, stride=1, padding=0, output_padding=0, dilation=1,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 name=None, trainable=True):
        super().__init__(filters, kernel_size, stride=stride, padding=padding, dilation=dilation,
                         activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         name=name, trainable=trainable)
        kind = type(self).__name__
        self.output_padding = checks.int_tuple(output_padding, f"{kind} output_padding", self.rank,
                                               low=0)
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
