"""Batch and layer normalization as ONNX nodes (inference).

BatchNormalization normalizes with its running statistics at inference,

.. math::

    y = \\gamma \\frac{x - \\mu_{run}}{\\sqrt{\\sigma^2_{run} + \\epsilon}} + \\beta,

which is ONNX's ``BatchNormalization`` (inference mode) when the channel axis is 1, ONNX's
only one. On another axis (say the features of (N, T, F) data) the same per-channel affine map
is written as ``(x - mean) * (gamma / sqrt(var + eps)) + beta`` with the constants shaped to
broadcast along that axis. ``center=False`` / ``scale=False`` export as ``beta = 0`` /
``gamma = 1``.

LayerNormalization: ONNX's ``LayerNormalization`` (opset 17) normalizes over the trailing axes
from ``axis`` on. When the layer's axes are not trailing, a ``Transpose`` moves them to the end
(in order) and another moves them back.
"""

import numpy as np


def _gamma_beta(layer, shape):
    gamma = layer.params["gamma"] if layer.scale else np.ones(shape)
    beta = layer.params["beta"] if layer.center else np.zeros(shape)
    return gamma, beta


def convert_batch_norm(b, layer, x, in_shape):
    """Running-statistics batch normalization."""
    hint = layer.name
    channels = layer._param_shape
    gamma, beta = _gamma_beta(layer, channels)
    mean, var = layer.buffers["running_mean"], layer.buffers["running_var"]
    if layer._channel_axis == 1:
        inputs = [b.weight(f"{hint}.gamma", gamma), b.weight(f"{hint}.beta", beta),
                  b.weight(f"{hint}.running_mean", mean), b.weight(f"{hint}.running_var", var)]
        return b.op("BatchNormalization", [x] + inputs, hint, epsilon=layer.epsilon)
    shape = layer._broadcast                                      # (1, ..., C, ..., 1)
    factor = np.asarray(gamma, np.float64) / np.sqrt(np.asarray(var, np.float64) + layer.epsilon)
    centred = b.op("Sub", [x, b.weight(f"{hint}.running_mean", mean.reshape(shape))], hint)
    scaled = b.op("Mul", [centred, b.weight(f"{hint}.factor", factor.reshape(shape))], hint)
    return b.op("Add", [scaled, b.weight(f"{hint}.beta", np.reshape(beta, shape))], hint)


def convert_layer_norm(b, layer, x, in_shape):
    """Per-sample normalization over the layer's axes."""
    hint = layer.name
    ndim = len(in_shape) + 1
    axes = list(layer._axes)                                      # sorted, batch axis excluded
    gamma, beta = _gamma_beta(layer, layer._param_shape)
    trailing = axes == list(range(ndim - len(axes), ndim))
    perm = [a for a in range(ndim) if a not in axes] + axes
    if not trailing:
        x = b.op("Transpose", [x], hint, perm=perm)               # normalized axes last
    y = b.op("LayerNormalization",
             [x, b.weight(f"{hint}.gamma", gamma), b.weight(f"{hint}.beta", beta)], hint,
             axis=ndim - len(axes), epsilon=layer.epsilon)
    if not trailing:
        y = b.op("Transpose", [y], hint, perm=[int(i) for i in np.argsort(perm)])   # and back
    return y
