r"""Merge layers, Activation and PositionalEmbedding as ONNX nodes.

A converter of a layer of several inputs takes the list of its inputs' tensor names and the
list of their per-sample shapes, in the order of the layer call:

==============  ===========================================================================
layer           ONNX
==============  ===========================================================================
Add             ``Sum`` (:math:`y = \sum_i x_i`)
Subtract        ``Sub`` (:math:`y = x_1 - x_2`)
Multiply        ``Mul`` of each next input (:math:`y = \prod_i x_i`)
Average         ``Mean`` (:math:`y = \frac1k \sum_i x_i`)
Maximum         ``Max`` (:math:`y = \max_i x_i`)
Minimum         ``Min`` (:math:`y = \min_i x_i`)
Concatenate     ``Concat`` on the layer's axis (counting the batch axis, as ONNX does)
==============  ===========================================================================

Activation is the activation's converter (:mod:`.activations`) on its input. PositionalEmbedding
adds the first T rows of its table, T being the (fixed) length of the exported input:
:math:`y_{n,t} = x_{n,t} + W_t`.
"""

from .activations import convert_activation
from .dense import describe


def _variadic(op_type):
    def convert(b, layer, xs, in_shapes):
        return b.op(op_type, list(xs), layer.name)
    convert.__doc__ = f"``{op_type}`` of all the inputs."
    return convert


convert_add = _variadic("Sum")
convert_average = _variadic("Mean")
convert_maximum = _variadic("Max")
convert_minimum = _variadic("Min")


def convert_subtract(b, layer, xs, in_shapes):
    """:math:`y = x_1 - x_2`."""
    return b.op("Sub", list(xs), layer.name)


def convert_multiply(b, layer, xs, in_shapes):
    """:math:`y = ((x_1 x_2) x_3) \\cdots`, left to right as the layer multiplies."""
    y = xs[0]
    for x in xs[1:]:
        y = b.op("Mul", [y, x], layer.name)
    return y


def convert_concatenate(b, layer, xs, in_shapes):
    """:math:`y = [x_1, \\dots, x_k]` along the layer's axis."""
    return b.op("Concat", list(xs), layer.name, axis=layer.axis)


def convert_activation_layer(b, layer, x, in_shape):
    """:math:`y = f(x)`."""
    return convert_activation(b, x, layer.activation, layer.name, describe(layer))


def convert_positional_embedding(b, layer, x, in_shape):
    """:math:`y = x + W_{:T}` (broadcast over the batch)."""
    steps = in_shape[0]
    return b.op("Add", [x, b.weight(f"{layer.name}.W", layer.params["W"][:steps])], layer.name)
