"""Batch normalization whose statistics are those of the global batch, over all ranks.

Under data parallelism a plain :class:`~nnscratch.layers.BatchNormalization` normalizes each
rank's piece with that piece's own mean and variance (Horovod's default; the running
statistics are then averaged over the ranks at each epoch's end). With small pieces those
statistics are noisy; a *synchronized* one computes them over the global batch, as one
process would with the whole batch (``torch.nn.SyncBatchNorm``, ``hvd.SyncBatchNorm``).

It stays a ``BatchNormalization`` (same class, config, parameters and file format): only its
``forward`` and ``backward`` in training are those of this module, set on the layer itself by
:func:`synchronize_batch_norm`. A saved model therefore loads as plain batch normalization;
``nd.synchronize_batch_norm(model)`` synchronizes it again.
"""

import types

import numpy as np

from ..errors import ShapeError
from ..layers.normalization import BatchNormalization
from . import comm


def synchronize_batch_norm(target):
    """Make a BatchNormalization layer, or every one of a model, use the statistics of the
    global batch in training; returns ``target``.

    With :math:`p` ranks, rank :math:`r` holding :math:`m_r` values of a channel:

    .. math::

        \\mu = \\frac{\\sum_r \\sum_{i \\in r} x_i}{\\sum_r m_r}, \\qquad
        \\sigma^2 = \\frac{\\sum_r \\sum_{i \\in r} (x_i - \\mu)^2}{\\sum_r m_r}

    (two Allreduces of one number per channel), and in the backward pass the two sums of
    :func:`~nnscratch.layers.normalization.normalize_backward` run over the global batch (one
    Allreduce). Rank :math:`r`'s gradients are scaled for its own :math:`n_r` rows (a mean loss
    over its rows: :math:`\\partial L_r / \\partial \\hat x = (n / n_r)\\, \\partial L / \\partial
    \\hat x` with :math:`n = \\sum_r n_r`), so the sums take :math:`n_r \\sum_{i \\in r}` and each
    rank divides by its own :math:`n_r`:

    .. math::

        dx_i = \\frac{1}{m \\sqrt{\\sigma^2 + \\epsilon}} \\Big(m\\, d\\hat x_i
               - \\frac{1}{n_r} \\sum_s n_s \\sum_{j \\in s} d\\hat x_j
               - \\hat x_i \\frac{1}{n_r} \\sum_s n_s \\sum_{j \\in s} d\\hat x_j \\hat x_j\\Big)

    which, after the strategy's weighted average of the gradients, is the one-process gradient
    of the global batch. Every rank must hold rows in every step (``fit`` checks it). In
    inference, frozen, or in one process it is plain batch normalization.
    """
    if isinstance(target, BatchNormalization):
        layers = [target]
    else:
        layers = [layer for layer in target.layers if isinstance(layer, BatchNormalization)]
    for layer in layers:
        layer.synchronized = True
        layer.forward = types.MethodType(_forward, layer)
        layer.backward = types.MethodType(_backward, layer)
    return target


def SyncBatchNormalization(*args, **kwargs):
    """A :class:`~nnscratch.layers.BatchNormalization` (same arguments) synchronized over the
    ranks (:func:`synchronize_batch_norm`)."""
    return synchronize_batch_norm(BatchNormalization(*args, **kwargs))


def _forward(layer, x, training=False):
    """The forward pass with the global batch's statistics (plain in inference)."""
    layer._global_pass = bool(training) and layer.trainable and comm.size() > 1
    if not layer._global_pass:
        return type(layer).forward(layer, x, training)
    if not layer.built:
        layer.build(x.shape[1:])
    layer._check_input(x, (layer._channel_axis,))
    layer._training = True
    channels = layer._param_shape[0]
    sums = np.empty(channels + 1, dtype=np.float64)
    sums[:channels] = np.sum(x, axis=layer._reduce).reshape(-1)          # sum_i x_i, this rank
    sums[channels] = x.size // channels                                  # m_r
    comm.allreduce_sum(sums, f"the batch statistics of {layer.label}")
    m = int(sums[channels])
    if m < 2:
        raise ShapeError(f"BatchNormalization layer {layer.label} needs more than one value per "
                         f"channel over all ranks, got {m}")
    mean = (sums[:channels] / m).astype(x.dtype).reshape(layer._broadcast)
    centered = x - mean
    squares = np.sum(centered * centered, axis=layer._reduce).reshape(-1).astype(np.float64)
    comm.allreduce_sum(squares, f"the batch statistics of {layer.label}")
    var = (squares / m).astype(x.dtype).reshape(layer._broadcast)
    layer._inv_std = 1.0 / np.sqrt(var + x.dtype.type(layer.epsilon))
    layer._x_hat = centered * layer._inv_std
    layer._values, layer._rows = m, len(x)
    layer._update_running(mean.reshape(-1), var.reshape(-1), m)
    y = layer._affine_forward(layer._x_hat)
    layer._output_shape = y.shape
    return y


def _backward(layer, grad_y):
    """The backward pass with the global batch's sums (plain after a plain forward)."""
    if not layer._global_pass:
        return type(layer).backward(layer, grad_y)
    grad_xhat = layer._affine_backward(grad_y, layer._reduce)          # dxhat (and dgamma, dbeta)
    channels = layer._param_shape[0]
    sums = np.empty(2 * channels, dtype=np.float64)
    sums[:channels] = np.sum(grad_xhat, axis=layer._reduce).reshape(-1)
    sums[channels:] = np.sum(grad_xhat * layer._x_hat, axis=layer._reduce).reshape(-1)
    sums *= layer._rows                                                  # n_r sum_{j in r}
    comm.allreduce_sum(sums, f"the backward pass of {layer.label}")
    sums /= layer._rows                                                  # (1 / n_r) sum_s
    dtype = grad_xhat.dtype
    sum_grad = sums[:channels].astype(dtype).reshape(layer._broadcast)
    sum_grad_xhat = sums[channels:].astype(dtype).reshape(layer._broadcast)
    m = layer._values
    return (layer._inv_std / m) * (m * grad_xhat - sum_grad - layer._x_hat * sum_grad_xhat)
