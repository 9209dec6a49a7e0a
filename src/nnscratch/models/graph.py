r"""Running a graph of layer calls: forward in topological order, backward in reverse.

A model is a directed acyclic graph: tensors are the edges, nodes (one per layer call) the
vertices. **Forward** visits the nodes in a topological order (every node after the nodes that
make its inputs) and keeps each tensor's value. **Backward** visits them in the reverse order.
A node receives :math:`\partial L/\partial y` for its output and its layer's ``backward``
returns :math:`\partial L/\partial x_i` for each input. Where a tensor :math:`t` fans out to
several consumers :math:`c_1, \dots, c_k`, the multivariate chain rule sums what they send back:

.. math::

    \frac{\partial L}{\partial t} = \sum_{j=1}^{k} \frac{\partial L}{\partial c_j}
    \frac{\partial c_j}{\partial t}

so a tensor's gradient is complete once all its consumers, which come later in the forward
order, have run their backward. A layer called at several nodes (a shared layer) has one set of
parameters :math:`\theta` used :math:`k` times, and by the same rule

.. math::

    \frac{\partial L}{\partial \theta} = \sum_{\text{calls } j}
    \frac{\partial L}{\partial y_j}\frac{\partial y_j}{\partial \theta}

so its parameter gradients are summed over its calls. A layer keeps one cache (what its
backward needs), so for a shared layer each node keeps a copy of the layer's state right after
its own forward, put back before its own backward (:func:`snapshot` / :func:`restore`).

**Masks** (:mod:`nnscratch.layers.masking`): a tensor may carry a mask (N, T), kept in the
same ``values`` table under :func:`mask_key`. Forward, each node's layer gets its inputs'
masks through a ``mask`` keyword when its ``forward`` takes one, and says what mask its own
output carries (``compute_mask``); :func:`forward_with_mask` is that one step, shared with a
plain chain. A mask gets no gradient: backward is unchanged, each layer that used a mask having
kept it for its own backward.
"""

import numpy as np

from ..errors import ConfigError
from ..layers.masking import takes_mask
from ..symbolic import SymbolicTensor


def topological_nodes(inputs, outputs):
    """The nodes between ``inputs`` and ``outputs``, each after the nodes it depends on.

    Raises ConfigError naming the layer when an output depends on an input tensor that is not
    among ``inputs`` (a disconnected graph), and when the graph has a cycle.
    """
    input_ids = {t.id for t in inputs}
    order, state = [], {}              # state: node id -> "visiting" | "done"

    def visit(tensor, consumer):
        if tensor.id in input_ids:
            return
        node = tensor.node
        if node is None:
            raise ConfigError(f"disconnected graph: layer {consumer.layer.label} reads the input "
                              f"{tensor.name or 'tensor'} shaped {tensor.shape}, which is not among "
                              "the model's inputs; pass it in Model(inputs=[...])")
        mark = state.get(id(node))
        if mark == "done":
            return
        if mark == "visiting":
            raise ConfigError(f"the graph has a cycle through layer {node.layer.label}")
        state[id(node)] = "visiting"
        for parent in node.parents:
            visit(parent, node)
        state[id(node)] = "done"
        order.append(node)

    for tensor in outputs:
        if tensor.id in input_ids:
            continue
        if tensor.node is None:
            raise ConfigError(f"model output {tensor!r} is an input that is not among the model's "
                              "inputs")
        visit(tensor, tensor.node)
    return order


def unique_layers(nodes):
    """The layers of ``nodes`` in order of first use, each once."""
    seen, layers = set(), []
    for node in nodes:
        if id(node.layer) not in seen:
            seen.add(id(node.layer))
            layers.append(node.layer)
    return layers


def check_names(layers):
    """Give unnamed layers ``<class>_<i>``; refuse two layers with one name, naming both."""
    taken = {}
    for i, layer in enumerate(layers):
        if layer.name is None:
            base = type(layer).__name__.lower()
            name, k = f"{base}_{i}", i
            while name in taken or any(other.name == name for other in layers):
                k += 1
                name = f"{base}_{k}"
            layer.name = name
        if layer.name in taken:
            other = taken[layer.name]
            raise ConfigError(f"two layers are named {layer.name!r} ({type(other).__name__} and "
                              f"{type(layer).__name__}); layer names must be unique")
        taken[layer.name] = layer


# -- one cache per node for shared layers -----------------------------------------------------

def _copied(value):
    """A copy of what a layer caches: arrays copied, containers of them copied, the rest kept."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copied(v) for v in value)
    return value


_KEPT = frozenset({"params", "grads", "buffers", "regularizers", "name", "trainable", "built"})


def snapshot(layer):
    """The state a shared layer's backward will need: its cache attributes (arrays copied, since
    a layer may reuse a buffer in its next forward), and those of the layers inside it."""
    state = {k: _copied(v) for k, v in vars(layer).items()
             if k not in _KEPT and not _is_object(v)}
    return state, [snapshot(inner) for inner in layer.sublayers()]


def restore(layer, saved):
    """Put back what :func:`snapshot` took, so that the layer's backward sees this call."""
    state, inner = saved
    vars(layer).update(state)
    for sub, sub_saved in zip(layer.sublayers(), inner):
        restore(sub, sub_saved)


def _is_object(value):
    """Layers, activations, generators...: shared objects, never part of one call's cache."""
    return not isinstance(value, (np.ndarray, dict, list, tuple, int, float, bool, str,
                                  type(None), np.generic))


def input_padding(model):
    """``[(padding value, sequence length)]``, one per model input: the value that the layers
    reading the input mask (``Embedding(mask_zero=True)``: 0, ``Masking``: its ``mask_value``)
    when they all agree on one, else None; and the input's length T (None before a Network is
    built). What ``fit``/``predict`` pad a list of sequences with
    (:func:`nnscratch.sequences.pad_ragged`)."""
    if not model.built:                 # a Network before its first data: its first layer reads it
        first = model.layers[0] if model.layers else None
        return [(getattr(first, "padding_value", None), None)]
    padding = []
    for tensor in model.inputs:
        values = {getattr(node.layer, "padding_value", None)
                  for node in model.nodes if tensor in node.inputs}
        value = values.pop() if len(values) == 1 else None
        padding.append((value, tensor.shape[0] if value is not None else None))
    return padding


# -- forward and backward ----------------------------------------------------------------------

def node_options(node, values):
    """The node's options with symbolic ones replaced by their values."""
    return {k: values[v.id] if isinstance(v, SymbolicTensor) else v
            for k, v in node.options.items()}


def mask_key(tensor_id):
    """Where the mask of tensor ``tensor_id`` is kept in a ``values`` table (absent: none)."""
    return ("mask", tensor_id)


def forward_with_mask(layer, x, training, mask, options=None):
    """``(y, mask of y)``: ``layer.forward`` on ``x`` carrying ``mask`` (None; a list, one per
    input, for a layer of several inputs), the mask handed to a layer whose ``forward`` takes
    one, then the output's mask from ``layer.compute_mask``. A ``mask`` given in the layer's
    call (``options``) wins over the carried one, as in Keras."""
    if options and "mask" in options:
        mask = options["mask"]
    elif mask is not None and takes_mask(layer):
        options = {**(options or {}), "mask": mask}
    y = layer.forward(x, training, **options) if options else layer.forward(x, training)
    return y, layer.compute_mask(x, mask)


def run_forward(nodes, values, training, shared):
    """Run every node on the values of its inputs; ``values`` maps tensor id -> array, and
    :func:`mask_key` of a tensor id -> its mask where it has one.

    ``shared``: ids of layers called at more than one node, whose state is kept per node.
    """
    for node in nodes:
        layer = node.layer
        args = [values[t.id] for t in node.inputs]
        masks = [values.get(mask_key(t.id)) for t in node.inputs]
        if getattr(layer, "multiple_inputs", False):
            x, mask = args, (masks if any(m is not None for m in masks) else None)
        else:
            x, mask = args[0], masks[0]
        options = node_options(node, values) if node.options else None
        values[node.output.id], out_mask = forward_with_mask(layer, x, training, mask, options)
        if out_mask is not None:
            values[mask_key(node.output.id)] = out_mask
        if id(layer) in shared:
            node.cache = snapshot(layer)
    return values


def run_backward(nodes, grads, values, shared, fused=None):
    """Backpropagate through ``nodes`` in reverse order; ``grads`` maps tensor id -> dL/dtensor.

    Gradients arriving at one tensor from several consumers are summed; a shared layer's
    parameter gradients are summed over its nodes. ``fused`` maps a node to ``dL/dz`` for an
    output layer whose activation is fused with the loss (its ``backward_from_z`` is used).
    Returns ``grads``, which then holds dL/dx for the inputs that received one.
    """
    fused = fused or {}
    sums = {}                                # shared layer id -> {key: summed gradient}
    for node in reversed(nodes):
        layer = node.layer
        if id(layer) in shared:
            restore(layer, node.cache)
        if node in fused:
            grad_in = layer.backward_from_z(fused[node])
        else:
            grad_y = grads.pop(node.output.id, None)
            if grad_y is None:               # an unused branch: nothing flows back from it
                grad_y = np.zeros_like(values[node.output.id])
            grad_in = layer.backward(grad_y)
        if id(layer) in shared:
            total = sums.setdefault(id(layer), {})
            for key, grad in layer.grads.items():
                if key in total:
                    total[key] += grad
                else:
                    total[key] = grad.copy()
        many = getattr(layer, "multiple_inputs", False)
        for tensor, grad in zip(node.inputs, grad_in if many else [grad_in]):
            if grad is None:
                continue
            if tensor.id in grads:
                grads[tensor.id] = grads[tensor.id] + grad       # fan-out: sum (chain rule)
            else:
                grads[tensor.id] = grad
    for node in nodes:                       # the sums go back into each shared layer's grads
        total = sums.pop(id(node.layer), None)
        if total:
            for key, grad in total.items():
                np.copyto(node.layer.grads[key], grad)
    return grads
