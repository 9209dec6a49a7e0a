"""Dense and Embedding as ONNX nodes.

Dense: ``Gemm`` on (N, features) inputs (:math:`Y = X W + b`, ``W`` stored (inputs, units) as
nnscratch keeps it), ``MatMul`` + ``Add`` on (N, ..., features) inputs, where ``Gemm`` (2-D only)
cannot go. Then the activation.

Embedding: the network's input is float in nnscratch, so the ids are ``Cast`` to int64 and
looked up with ``Gather(W, ids, axis=0)``, :math:`Y_{n,t} = W_{k_{n,t}}`.
"""

from .activations import convert_activation


def convert_dense(b, layer, x, in_shape):
    """:math:`A = f(X W + b)`."""
    hint = layer.name
    W = b.weight(f"{hint}.W", layer.params["W"])
    bias = b.weight(f"{hint}.b", layer.params["b"]) if layer.use_bias else None
    if len(in_shape) == 1:
        z = b.op("Gemm", [x, W] + ([bias] if bias else []), hint)           # Z = X W + b
    else:
        z = b.op("MatMul", [x, W], hint)                                      # Z = X W
        if bias:
            z = b.op("Add", [z, bias], hint)                                  #   + b
    return convert_activation(b, z, layer.activation, hint, describe(layer))


def convert_embedding(b, layer, x, in_shape):
    """:math:`Y = W[\\operatorname{int64}(X)]`."""
    hint = layer.name
    ids = b.op("Cast", [x], hint, to=b.INT64)
    return b.op("Gather", [b.weight(f"{hint}.W", layer.params["W"]), ids], hint, axis=0)


def describe(layer):
    """How error messages name a layer: ``Dense layer 'dense_0'``."""
    return f"{type(layer).__name__} layer '{layer.label}'"
