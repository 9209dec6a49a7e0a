"""Convolutions as ONNX ``Conv`` and ``ConvTranspose`` nodes.

nnscratch's layouts are ONNX's: data (N, C, *spatial), ``Conv`` kernels (out, in, *k) and
``ConvTranspose`` kernels (in, out, *k) (PyTorch's layout), so the weights go in unchanged.
The padding is written out explicitly as ``pads = [begin_1, ..., end_1, ...]``, worked out by
the layer itself for the network's (static) spatial sizes, so ``"same"`` with an odd total
(the extra row at the end, ``SAME_UPPER``) exports exactly. A transposed convolution's
``output_padding`` adds rows at the end, as ONNX's attribute of the same name does:

.. math::

    n_{out} = s (n - 1) + \\text{output\\_padding} + d (k - 1) + 1 - p_{begin} - p_{end}
"""

from .activations import convert_activation
from .dense import describe


def _pads(pairs):
    """((b_1, e_1), (b_2, e_2)) -> [b_1, b_2, e_1, e_2], ONNX's order."""
    return [p0 for p0, _ in pairs] + [p1 for _, p1 in pairs]


def convert_conv(b, layer, x, in_shape):
    """``Conv`` with the layer's kernel, strides, dilations and explicit pads."""
    hint = layer.name
    pads, _ = layer._geometry(in_shape[1:])
    inputs = [x, b.weight(f"{hint}.W", layer.params["W"])]
    if layer.use_bias:
        inputs.append(b.weight(f"{hint}.b", layer.params["b"]))
    z = b.op("Conv", inputs, hint, kernel_shape=list(layer.kernel_size),
             strides=list(layer.stride), dilations=list(layer.dilation), pads=_pads(pads))
    return convert_activation(b, z, layer.activation, hint, describe(layer))


def convert_conv_transpose(b, layer, x, in_shape):
    """``ConvTranspose``: the kernel (in, out, *k) as it is, pads and output_padding explicit."""
    hint = layer.name
    in_sizes = in_shape[1:]
    pads, full, _ = layer._geometry(in_sizes)
    # The scatter buffer's size beyond (n - 1) s + d (k - 1) + 1: output_padding, or the extra
    # zeros a "same" layer appends when its stride exceeds its kernel span.
    extras = [m - ((n - 1) * s + d * (k - 1) + 1) for m, n, k, s, d
              in zip(full, in_sizes, layer.kernel_size, layer.stride, layer.dilation)]
    inputs = [x, b.weight(f"{hint}.W", layer.params["W"])]
    if layer.use_bias:
        inputs.append(b.weight(f"{hint}.b", layer.params["b"]))
    z = b.op("ConvTranspose", inputs, hint, kernel_shape=list(layer.kernel_size),
             strides=list(layer.stride), dilations=list(layer.dilation), pads=_pads(pads),
             output_padding=extras if any(extras) else None)
    return convert_activation(b, z, layer.activation, hint, describe(layer))
