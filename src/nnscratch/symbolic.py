"""Symbolic tensors: how a functional model is written down before any data flows.

``ns.Input((3,))`` stands for a batch of samples shaped (3,). Calling a layer on it does not
compute anything: it records a :class:`Node` (this layer, called on these tensors, with these
options) and returns a new :class:`SymbolicTensor` for the node's output, with the output's
per-sample shape. ``ns.Model(inputs, outputs)`` then walks the nodes back from the outputs to
find the graph it runs (:mod:`nnscratch.models.graph`)::

    x = ns.Input((3,))
    h = ns.Dense(4, activation="relu")(x)         # node 1: Dense on x
    y = ns.Add()([h, ns.Dense(4)(x)])             # node 2, node 3: a skip connection
    model = ns.Model(x, y)

One layer called twice makes two nodes sharing one layer (its weights); each node keeps its own
cache when the model runs. Nothing here imports a layer: a layer's ``__call__`` hands symbolic
arguments to :func:`call_layer`.
"""

import itertools

from . import checks
from .errors import ConfigError, ShapeError

_ids = itertools.count()


class SymbolicTensor:
    """A placeholder for a batch of arrays: per-sample ``shape`` and the ``node`` making it.

    An input tensor (from :func:`Input`) has no node. ``name`` names it in messages and is the
    key of this input in a dict given to ``fit`` / ``predict``.
    """

    def __init__(self, shape, node=None, name=None):
        self.shape = tuple(shape)
        self.node = node
        self.name = name
        self.id = next(_ids)        # creation order: a node's inputs are always older than it

    def __repr__(self):
        where = f"output of {self.node.layer.label}" if self.node else "input"
        name = f" {self.name}" if self.name else ""
        return f"<SymbolicTensor{name} shape=(None, {', '.join(map(str, self.shape))}) {where}>"

    def __array__(self, *args, **kwargs):
        raise ConfigError(f"{self!r} is symbolic: it has no values until a Model built from it "
                          "runs on data (model.predict(x))")


def Input(shape, name=None):
    """A model input: samples shaped ``shape`` (no batch axis), e.g. ``Input((1, 28, 28))``."""
    if isinstance(shape, (int,)) and not isinstance(shape, bool):
        shape = (shape,)
    shape = checks.sample_shape(shape, "Input shape")
    if name is not None and not isinstance(name, str):
        raise ConfigError(f"Input name must be a string or None, got {name!r}")
    return SymbolicTensor(shape, node=None, name=name)


class Node:
    """One call of a layer in a graph: the layer, its input tensors, its options, its output.

    ``options`` are the keyword arguments of the call (``use_causal_mask=True``); an option
    that is itself a symbolic tensor (``attention_mask=mask``) is an input of the node too,
    listed in ``option_tensors``, and gets no gradient.
    """

    def __init__(self, layer, inputs, options, output_shape):
        self.layer = layer
        self.inputs = list(inputs)
        self.options = dict(options)
        self.option_tensors = {k: v for k, v in self.options.items() if is_symbolic(v)}
        self.output = SymbolicTensor(output_shape, node=self)
        self.cache = None            # the layer's state after this node's forward (shared layers)

    @property
    def parents(self):
        """Every tensor this node reads: its inputs, then symbolic options."""
        return self.inputs + list(self.option_tensors.values())


def is_symbolic(value):
    """Whether ``value`` is a symbolic tensor, or a list/tuple holding one."""
    if isinstance(value, SymbolicTensor):
        return True
    return isinstance(value, (list, tuple)) and any(isinstance(v, SymbolicTensor) for v in value)


def call_layer(layer, inputs, options=None):
    """Record ``layer(inputs, **options)`` as a node and return its symbolic output.

    ``inputs`` is one tensor, or a list for a layer with ``multiple_inputs``. The output shape
    comes from the layer's ``compute_output_shape``; the layer itself is built later, by the
    model, with the model's random generator and dtype.
    """
    options = dict(options or {})
    many = getattr(layer, "multiple_inputs", False)
    tensors = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    for tensor in tensors:
        if not isinstance(tensor, SymbolicTensor):
            raise ConfigError(f"layer {layer.label} was called on a mix of symbolic tensors and "
                              f"arrays ({type(tensor).__name__}); in a functional model every "
                              "input must come from ns.Input or another layer")
    if not many and len(tensors) != 1:
        raise ConfigError(f"{type(layer).__name__} layer {layer.label} takes one input, got "
                          f"{len(tensors)}; merge them first (ns.Concatenate, ns.Add, ...)")
    shapes = [t.shape for t in tensors]
    try:
        output_shape = layer.compute_output_shape(shapes if many else shapes[0])
    except ShapeError:
        raise
    except (ValueError, IndexError, TypeError) as exc:
        raise ShapeError(f"{type(layer).__name__} layer {layer.label} cannot take inputs shaped "
                         f"{', '.join(str(s) for s in shapes)}: {exc}") from None
    return Node(layer, tensors, options, output_shape).output
