r"""Sequences in an exported graph: masks, and a time axis of any length.

**Masks.** The masks a model carries (:mod:`nnscratch.layers.masking`) are computed in the graph
from its inputs, as ``predict`` computes them: ``Embedding(mask_zero=True)`` gives
``Not(Equal(ids, 0))``, ``Masking`` gives ``Not(Equal(x, v))`` reduced over the features; a
layer that passes a mask on passes the same tensor, merges take its ``And``. Where a mask is
consumed:

- SimpleRNN, LSTM, GRU and Bidirectional get ONNX's ``sequence_lens`` input, the number of real
  steps of each sequence, :math:`\sum_t m_{n,t}` (int32). ONNX's recurrent operators read the
  first ``sequence_lens[n]`` steps as the sequence (a reversed one from its last real step),
  which is exactly the layer's mask when the real steps come first: **end-padded sequences**
  (``padding="post"``, what ``fit``/``predict`` use for lists of sequences). A mask with leading
  padding or gaps has no ONNX form with these operators and would be read as end padding. The
  unrolled SimpleRNN (an activation the ``RNN`` operator lacks) keeps its state with ``Where``
  at each step instead, exact for any mask. With ``return_sequences`` ONNX outputs zeros after
  the last real step; where the layer repeats its last output instead (a forward layer without
  ``zero_output_for_mask``) a ``Where`` puts ``Y_h`` there.
- Global pooling over time (channels last) takes the masked mean
  :math:`\sum_t m_t x_t / \max(\sum_t m_t, 1)`, or the maximum over ``Where(m, x, -inf)``
  (0 where no step is real), as the layer does.
- MultiHeadAttention turns the key's mask into a key padding mask, ``And``-ed with its
  ``attention_mask``.

A mask reaching any other layer that consumes masks is refused with an ExportError naming it.

**The time axis.** An input of sequences (N, T, ...) (or token ids (N, T) read by Embeddings)
is declared with a symbolic length ``"T"`` (``"T_<input name>"`` with several inputs), as the
batch axis is ``"N"``, when every layer that reads it, and each layer after that still sees the
time axis, computes the same thing for any length in ONNX (:data:`KEEPS_TIME`: the recurrent
operators, Dense, Embedding, Masking, Dropout, Activation, LayerNormalization over the features,
elementwise merges, attention without a causal mask; the output of pooling over time, or of a
layer without ``return_sequences``, no longer has the axis). Otherwise every length stays the
one the model was built for.
"""

import numpy as np

from ...errors import ExportError
from ...layers import (
    GRU,
    LSTM,
    Activation,
    Add,
    Average,
    Bidirectional,
    Concatenate,
    Dense,
    Dropout,
    Embedding,
    GlobalAvgPool1D,
    GlobalMaxPool1D,
    LayerNormalization,
    Masking,
    Maximum,
    Minimum,
    MultiHeadAttention,
    Multiply,
    SimpleRNN,
    Subtract,
)
from ...layers.recurrent_base import BaseRecurrent
from .dense import describe
from .recurrent import RNN_ACTIVATIONS


def _recurrent_keeps(layer):
    cells = [layer] if isinstance(layer, BaseRecurrent) else [layer.forward_layer]
    if any(type(c) is SimpleRNN and c.activation.name not in RNN_ACTIVATIONS for c in cells):
        return None                               # unrolled over the built number of steps
    return layer.return_sequences


def _global_pool_keeps(layer):
    return False if layer.data_format == "channels_last" else None


def _layer_norm_keeps(layer):
    return None if 1 in layer._axes else True


def _concatenate_keeps(layer, ndim):
    return None if layer.axis % ndim == 1 else True


#: layer class -> whether its output keeps a time axis of any length: ``keeps(layer) -> True``
#: (the output has it too), False (the output has none), or None (the layer needs the built
#: length in ONNX)
KEEPS_TIME = {
    Embedding: lambda layer: True, Masking: lambda layer: True, Dense: lambda layer: True,
    Dropout: lambda layer: True, Activation: lambda layer: True,
    LayerNormalization: _layer_norm_keeps,
    SimpleRNN: _recurrent_keeps, LSTM: _recurrent_keeps, GRU: _recurrent_keeps,
    Bidirectional: _recurrent_keeps,
    GlobalAvgPool1D: _global_pool_keeps, GlobalMaxPool1D: _global_pool_keeps,
    Add: lambda layer: True, Subtract: lambda layer: True, Multiply: lambda layer: True,
    Average: lambda layer: True, Maximum: lambda layer: True, Minimum: lambda layer: True,
}


def time_axes(network, input_names):
    """``{tensor id: symbolic name of its axis 1}`` for the tensors whose time axis may have any
    length in the exported graph; empty when the model needs its built lengths (see the module
    docstring)."""
    option_reads = {t.id for node in network.nodes for t in node.option_tensors.values()}
    axes = {}
    for tensor, name in zip(network.inputs, input_names):
        readers = [node.layer for node in network.nodes if tensor in node.inputs]
        ids = len(tensor.shape) == 1 and readers and all(type(r) is Embedding for r in readers)
        if tensor.id not in option_reads and (len(tensor.shape) >= 2 or ids):
            axes[tensor.id] = "T" if len(network.inputs) == 1 else f"T_{name}"
    for node in network.nodes:
        carried = [axes.get(t.id) for t in node.inputs]
        if not any(carried):
            continue
        layer = node.layer
        if type(layer) is MultiHeadAttention:      # query and key may have their own lengths
            if None in carried or node.options.get("use_causal_mask") or node.option_tensors:
                return {}
            axes[node.output.id] = carried[0]
            continue
        rule = KEEPS_TIME.get(type(layer))
        if type(layer) is Concatenate:
            keeps = _concatenate_keeps(layer, len(node.inputs[0].shape) + 1)
        else:
            keeps = None if rule is None else rule(layer)
        if keeps is None or len(set(carried)) > 1 or any(
                t.id in axes for t in node.option_tensors.values()):
            return {}
        if keeps:
            axes[node.output.id] = carried[0]
    return axes


# -- masks ---------------------------------------------------------------------------------------

def _real_steps(b, x, value, feature_axes, hint):
    """(N, T) booleans: some feature of the step differs from ``value``."""
    differs = b.op("Not", [b.op("Equal", [x, b.scalar(value)], hint)], hint)
    if not feature_axes:
        return differs
    anywhere = b.op("ReduceMax", [b.op("Cast", [differs], hint, to=b.FLOAT)], hint,
                    axes=feature_axes, keepdims=0)
    return b.op("Cast", [anywhere], hint, to=b.BOOL)


def made_mask(b, layer, x, in_shape):
    """The mask an Embedding (``mask_zero``) or a Masking layer makes from ``x``, or None; made
    once per layer call (the Masking converter and the mask share it)."""
    key = (layer.name, x)
    if key not in b.masks:
        if type(layer) is Embedding and layer.mask_zero:
            b.masks[key] = _real_steps(b, x, 0.0, [], f"{layer.name}/mask")        # ids != 0
        elif type(layer) is Masking:
            axes = list(range(2, len(in_shape) + 1))
            b.masks[key] = _real_steps(b, x, layer.mask_value, axes, f"{layer.name}/mask")
        else:
            b.masks[key] = None
    return b.masks[key]


def convert_masking(b, layer, x, in_shape):
    """Masking: :math:`y = m x`, the masked steps set to 0."""
    keep = b.step_mask(made_mask(b, layer, x, in_shape), layer.name)
    if len(in_shape) > 2:                                      # (N, T, 1, ...) for more axes
        keep = b.op("Unsqueeze", [keep, b.ints(f"{layer.name}/axes",
                                                list(range(3, len(in_shape) + 1)))], layer.name)
    return b.op("Where", [keep, x, b.scalar(0.0)], layer.name)


def output_mask(b, layer, x, in_shape, mask):
    """The mask of a layer call's output in the graph (as the layer's ``compute_mask``)."""
    if type(layer) in (Embedding, Masking):
        return made_mask(b, layer, x, in_shape)
    if mask is None:
        return None
    if getattr(layer, "multiple_inputs", False):
        if type(layer) is MultiHeadAttention:
            return mask[0]
        if type(layer) is Concatenate and layer.axis % (len(in_shape[0]) + 1) == 1:
            raise ExportError(f"cannot export {describe(layer)}: it joins masked sequences along "
                              "time, and ONNX export does not join their masks")
        if not (layer.supports_masking or type(layer) is Concatenate):
            return None
        given = [m for m in mask if m is not None]
        combined = given[0]
        for other in given[1:]:
            combined = b.op("And", [combined, other], f"{layer.name}/mask")
        return combined
    if isinstance(layer, (BaseRecurrent, Bidirectional)):
        if not layer.return_sequences:
            return None
        backwards = isinstance(layer, BaseRecurrent) and layer.go_backwards
        return b.reverse_time(mask, f"{layer.name}/mask") if backwards else mask
    return mask if layer.supports_masking else None


def masked_global_pool(b, layer, x, mask):
    """Pooling over the real steps of (N, T, F) (see the module docstring) -> (N, F)."""
    hint = layer.name
    keep = b.step_mask(mask, f"{hint}/mask")                                     # (N, T, 1)
    if type(layer) is GlobalAvgPool1D:
        axes = b.ints(f"{hint}/axes", [1])
        real = b.op("Cast", [keep], hint, to=b.FLOAT)
        total = b.op("ReduceSum", [b.op("Mul", [x, real], hint), axes], hint, keepdims=0)
        count = b.op("Max", [b.op("ReduceSum", [real, axes], hint, keepdims=0), b.scalar(1.0)],
                     hint)                                                        # max(sum m, 1)
        return b.op("Div", [total, count], hint)
    candidates = b.op("Where", [keep, x, b.scalar(-np.inf)], hint)
    y = b.op("ReduceMax", [candidates], hint, axes=[1], keepdims=0)
    some = b.op("Cast", [b.op("ReduceMax", [b.op("Cast", [keep], hint, to=b.FLOAT)], hint,
                              axes=[1], keepdims=0)], hint, to=b.BOOL)            # (N, 1)
    return b.op("Where", [some, y, b.scalar(0.0)], hint)
