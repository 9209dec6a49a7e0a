r"""Convolution layers: Conv1D and Conv2D, channels-first as in PyTorch and ONNX.

A convolution (in deep learning, a cross-correlation: the kernel is not flipped) of an input
``X`` (N, C, H, W) padded to ``X^p`` with a kernel ``W`` (F, C, kh, kw) and bias ``b`` (F,):

.. math::

    Z_{n,f,i,j} = b_f + \sum_{c,u,v} W_{f,c,u,v}\, X^p_{n,c,\, i s_h + u d_h,\, j s_w + v d_w}

With the windows unrolled into columns (:func:`~nnscratch.layers.im2col.im2col`,
``X_col`` of shape (C kh kw, H_out W_out N)) this is one matrix product, and so is its
backward pass:

.. math::

    Z = W_{mat} X_{col} + b, \qquad
    dW_{mat} = dZ\, X_{col}^T, \qquad db = \sum_{n,i,j} dZ, \qquad
    dX_{col} = W_{mat}^T dZ, \qquad dX = \mathrm{col2im}(dX_{col})

where ``W_mat`` is ``W`` reshaped to (F, C kh kw) and ``dZ`` is laid out (F, H_out W_out N),
the batch-last order of :mod:`nnscratch.layers.im2col`.

:class:`BaseConv` holds what every convolution shares (arguments, parameters, bookkeeping);
the transposed convolution, the adjoint of this map, is built on it in
:mod:`nnscratch.layers.conv_transpose`.
"""

import math

import numpy as np

from .. import checks
from .activated import ActivatedLayer
from .im2col import (
    batch_first,
    batch_last,
    check_input,
    check_sample_shape,
    col2im,
    crop,
    im2col,
    normalize_padding,
    output_sizes,
    pad,
    padding_config,
    resolve_padding,
)

__all__ = ["BaseConv", "Conv1D", "Conv2D", "conv_forward", "conv_backward", "weight_gradient"]


# -- pure kernels ------------------------------------------------------------------------------

# In inference (no backward to come) the batch goes through in chunks whose column matrices hold
# at most this many values, so predicting on a large set never builds one huge X_col.
INFERENCE_CHUNK = 1 << 22


#: Inner-axis length of the blocks of :func:`weight_gradient`'s small products.
THIN_BLOCK = 1024


def weight_gradient(dz, cols):
    """``dW_mat = dZ X_col^T`` (F, C*K): a sum over every output position of the batch.

    The inner axis is long (``P * N``, tens of thousands) and the result small, a shape the
    BLAS handles unevenly, so the product is taken the fastest way measured on OpenBLAS:

    - with the longer of F and C*K as the rows of the product (up to 1.7 times faster);
    - when both are at most 32 (a first layer: 16 filters over 9 taps of one channel), as a
      sum of products over blocks of :data:`THIN_BLOCK` positions (3.3 times faster there:
      each block's product stays in the cache).
    """
    f, rows, inner = len(dz), len(cols), dz.shape[1]
    if max(f, rows) <= 32 and inner >= 16 * THIN_BLOCK:
        blocks = inner // THIN_BLOCK
        main = blocks * THIN_BLOCK
        dz_blocks = dz[:, :main].reshape(f, blocks, THIN_BLOCK).transpose(1, 0, 2)
        cols_blocks = cols[:, :main].reshape(rows, blocks, THIN_BLOCK).transpose(1, 2, 0)
        dW = (dz_blocks @ cols_blocks).sum(axis=0)                  # sum over the blocks
        return dW + dz[:, main:] @ cols[:, main:].T                 # and the positions left
    if f >= rows:
        return dz @ cols.T
    return (cols @ dz.T).T


def conv_forward(x, W, b, stride, dilation, pads, out_sizes, keep_cols=True):
    """Convolution of ``x`` (N, C, *spatial) with ``W`` (F, C, *k) and ``b`` (F,) or None.

    Returns ``(z, xp, cols)``: ``z`` (N, F, *out_sizes), a view of a batch-last array; the
    padded input ``xp`` and the column matrix ``cols`` that :func:`conv_backward` needs. With
    ``keep_cols=False`` (inference) a batch whose columns would hold more than
    :data:`INFERENCE_CHUNK` values goes through in chunks and ``cols`` is None (the backward
    rebuilds it from ``xp`` if it is ever called).
    """
    n, f = x.shape[0], W.shape[0]
    xp = pad(x, pads)
    W_mat = W.reshape(f, -1)
    per_sample = W_mat.shape[1] * math.prod(out_sizes)
    step = n if keep_cols else max(1, INFERENCE_CHUNK // per_sample)
    z_shape = (f,) + tuple(out_sizes) + (n,)                       # Z laid out (F, *out, N)
    if step >= n:
        cols = im2col(xp, W.shape[2:], stride, dilation, out_sizes)   # X_col: (C*K, P*N)
        z = (W_mat @ cols).reshape(z_shape)                        # Z = W_mat X_col: (F, P*N)
    else:
        cols = None
        z = np.empty(z_shape, dtype=np.result_type(x, W))
        for start in range(0, n, step):
            part = im2col(xp[start:start + step], W.shape[2:], stride, dilation, out_sizes)
            z[..., start:start + step] = (W_mat @ part).reshape(z.shape[:-1] + (-1,))
    if b is not None:
        z += b.reshape((f,) + (1,) * (z.ndim - 1))                 # + b
    return batch_first(z), xp, cols


def conv_backward(grad_z, xp, W, stride, dilation, pads, cols=None, with_bias=True,
                  need_input_grad=True):
    """Gradients of :func:`conv_forward`: ``(dx, dW, db)`` from ``grad_z`` (N, F, *out).

    ``dx`` is None with ``need_input_grad=False`` (a network's first layer), which saves the
    product ``W_mat^T dZ`` and the col2im.
    """
    f, kernel, out_sizes = W.shape[0], W.shape[2:], grad_z.shape[2:]
    if cols is None:
        cols = im2col(xp, kernel, stride, dilation, out_sizes)     # X_col, not kept by the forward
    dz = batch_last(grad_z).reshape(f, -1)                         # dZ: (F, P*N), a view if it can
    dW = weight_gradient(dz, cols).reshape(W.shape)                # dW = dZ X_col^T
    db = dz.sum(axis=1) if with_bias else None                     # db = sum of dZ over n, i, j
    if not need_input_grad:
        return None, dW, db
    dcols = W.reshape(f, -1).T @ dz                                # dX_col = W_mat^T dZ
    dxp = col2im(dcols, xp.shape, kernel, stride, dilation, out_sizes)
    return crop(dxp, pads), dW, db                                 # dX = col2im(dX_col), unpadded


# -- layers ------------------------------------------------------------------------------------

class BaseConv(ActivatedLayer):
    """Arguments, parameters and bookkeeping shared by the convolution layers (not used alone).

    Sizes are whole numbers (:func:`nnscratch.checks.int_tuple`: an int, or one per spatial
    axis), ``use_bias`` is True or False.
    """

    abstract = True
    rank = None
    packable = True       # W, b and their gradients change in place only

    def __init__(self, filters, kernel_size, stride=1, padding=0, dilation=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, name=None, trainable=True):
        super().__init__(activation=activation, name=name, trainable=trainable)
        kind = type(self).__name__
        self.filters = checks.positive_int(filters, f"{kind} filters")
        self.kernel_size = checks.int_tuple(kernel_size, f"{kind} kernel_size", self.rank)
        self.stride = checks.int_tuple(stride, f"{kind} stride", self.rank)
        self.dilation = checks.int_tuple(dilation, f"{kind} dilation", self.rank)
        self.padding = normalize_padding(padding, self.rank, f"{kind} padding")
        self.use_bias = checks.boolean(use_bias, f"{kind} use_bias")
        self.keep_param_specs(kernel=(kernel_initializer, kernel_regularizer),
                              bias=(bias_initializer, bias_regularizer))
        self.in_channels = None
        self._cache = None

    def kernel_shape(self, in_channels):
        """The shape of ``W``."""
        raise NotImplementedError

    def fans(self, in_channels):
        """``(fan_in, fan_out)`` for the initialisers, as Keras counts them."""
        receptive = math.prod(self.kernel_size)
        return in_channels * receptive, self.filters * receptive

    def param_shapes(self, input_shape):
        """The kernel ``W`` (:meth:`kernel_shape`) and ``b`` (filters,) for (C, *spatial) samples."""
        in_channels = check_sample_shape(self, input_shape, self.rank)[0]
        shapes = {"W": self.kernel_shape(in_channels)}
        if self.use_bias:
            shapes["b"] = (self.filters,)
        return shapes

    def build(self, input_shape, rng=None, dtype=np.float32):
        input_shape = check_sample_shape(self, input_shape, self.rank)
        self.compute_output_shape(input_shape)        # a clear error now if the input is too small
        super().build(input_shape, rng, dtype)
        self.in_channels = input_shape[0]
        fan_in, fan_out = self.fans(self.in_channels)
        shapes = self.param_shapes(input_shape)
        self.draw_param("W", "kernel", shapes["W"], rng, fan_in, fan_out)
        if self.use_bias:
            self.draw_param("b", "bias", shapes["b"], rng, fan_in, fan_out)

    def _check(self, x):
        return check_input(self, x, self.rank, self.in_channels)

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=list(self.kernel_size),
                      stride=list(self.stride), padding=padding_config(self.padding),
                      dilation=list(self.dilation), use_bias=self.use_bias,
                      **self.param_specs_config())
        return config


class _Conv(BaseConv):
    """A convolution over ``rank`` spatial axes (see the module docstring for the math)."""

    abstract = True

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
