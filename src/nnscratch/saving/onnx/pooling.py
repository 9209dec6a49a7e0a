"""Pooling as ONNX ``MaxPool``, ``AveragePool``, ``GlobalMaxPool`` and ``GlobalAveragePool``.

Windowed pooling: the layer's window, strides and explicit pads for the network's spatial
sizes (``"same"`` resolved by the layer, any odd extra at the end), ``ceil_mode=0`` (outputs
rounded down, as nnscratch and PyTorch count them). ONNX's ``MaxPool`` never picks a padded
position, as nnscratch pads with :math:`-\\infty`; ``AveragePool`` takes the layer's
``count_include_pad`` (padded zeros counted in each window's mean, or only the input values).

Global pooling keeps the pooled axes with size 1 in ONNX; without ``keepdims`` a
``Flatten(axis=1)`` drops them: (N, C, 1, 1) -> (N, C). Channels last, it is ``ReduceMean`` /
``ReduceMax`` over the axes between the batch and the channels; with a mask, the masked
pooling of :func:`.sequences.masked_global_pool`.
"""

from ...errors import ExportError
from .conv import _pads
from .dense import describe
from .sequences import masked_global_pool


def convert_max_pool(b, layer, x, in_shape):
    """:math:`Y_{n,c,o} = \\max_j X^p_{n,c,\\, o s + j}`."""
    pads, _ = layer._geometry(in_shape[1:])
    return b.op("MaxPool", [x], layer.name, kernel_shape=list(layer.pool_size),
                strides=list(layer.stride), pads=_pads(pads))


def convert_avg_pool(b, layer, x, in_shape):
    """:math:`Y_{n,c,o} = \\frac{1}{|w_o|}\\sum_j X^p_{n,c,\\, o s + j}`."""
    pads, _ = layer._geometry(in_shape[1:])
    return b.op("AveragePool", [x], layer.name, kernel_shape=list(layer.pool_size),
                strides=list(layer.stride), pads=_pads(pads),
                count_include_pad=int(layer.count_include_pad))


def _global(op_type, reduce_type):
    def convert(b, layer, x, in_shape, mask=None):
        if layer.data_format == "channels_last":
            if mask is None:
                return b.op(reduce_type, [x], layer.name, axes=list(range(1, layer.rank + 1)),
                            keepdims=int(layer.keepdims))                   # (N, F)
            y = masked_global_pool(b, layer, x, mask)                       # (N, F)
            return b.op("Unsqueeze", [y, b.ints(f"{layer.name}/axes", [1])], layer.name) \
                if layer.keepdims else y
        if mask is not None:              # as the layer: a mask needs the time axis first
            raise ExportError(f"cannot export {describe(layer)}: a sequence mask reaches it, and "
                              "it pools masks only with data_format='channels_last'")
        y = b.op(op_type, [x], layer.name)                                  # (N, C, 1, ...)
        return y if layer.keepdims else b.op("Flatten", [y], layer.name, axis=1)   # (N, C)
    convert.__doc__ = (f"``{op_type}``, then ``Flatten`` unless the layer keeps the pooled axes; "
                       f"``{reduce_type}`` channels last.")
    return convert


convert_global_max_pool = _global("GlobalMaxPool", "ReduceMax")
convert_global_avg_pool = _global("GlobalAveragePool", "ReduceMean")
