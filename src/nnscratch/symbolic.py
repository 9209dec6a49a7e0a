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

**Free axes.** ``ns.Input((None, 8))`` stands for sequences of any length T, 8 features each
step. A layer called on a shape with ``None`` is tried on the lengths :data:`FREE_PROBES` in
its place (``compute_output_shape`` and ``param_shapes``, which allocate nothing); it takes the
free axis when

1. it accepts at least two of them,
2. its parameters are the same for every length it accepts (a Dense on a flattened axis, a
   convolution reading the axis as channels: no), and
3. where its output changes with the length, it keeps the free axis where its input has it,
   without folding other axes into it (an output rank at least the input's: a Flatten, whose
   output size would be T times the features, no).

Its output then has ``None`` on the axes that change with the length, and the layer is built
for one length (:attr:`Node.build_shapes`): that of the data a Network learnt its shape from
(:attr:`SymbolicTensor.example_shape`), else the shortest it accepted; its parameters are the
same for any. Otherwise the call is a
:class:`~nnscratch.errors.ShapeError` naming the layer, when the model is written down. A
length the layer cannot take at run time (a sequence longer than a PositionalEmbedding's
``sequence_length``, shorter than a convolution's kernel) is the layer's own ShapeError then.
"""

import itertools

from . import checks
from .errors import ConfigError, ShapeError

_ids = itertools.count()

#: lengths tried in place of a free (None) axis (see the module docstring): short ones for
#: layers with a longest length, long and far apart ones so that a strided layer's output
#: changes between them too
FREE_PROBES = (1, 2, 3, 4, 5, 8, 13, 32, 100, 257, 1000)


class SymbolicTensor:
    """A placeholder for a batch of arrays: per-sample ``shape`` and the ``node`` making it.

    An input tensor (from :func:`Input`) has no node. ``name`` names it in messages and is the
    key of this input in a dict given to ``fit`` / ``predict``. ``None`` in ``shape`` is a free
    axis (see the module docstring).
    """

    def __init__(self, shape, node=None, name=None):
        self.shape = tuple(shape)
        self.node = node
        self.name = name
        self.id = next(_ids)        # creation order: a node's inputs are always older than it
        # where ``shape`` has a free axis: the concrete shape of the data the model was built
        # from, if any (a Network built from its first data), else None
        self.example_shape = None

    def __repr__(self):
        where = f"output of {self.node.layer.label}" if self.node else "input"
        name = f" {self.name}" if self.name else ""
        return f"<SymbolicTensor{name} shape={shape_text(self.shape)} {where}>"

    def __array__(self, *args, **kwargs):
        raise ConfigError(f"{self!r} is symbolic: it has no values until a Model built from it "
                          "runs on data (model.predict(x))")


def Input(shape, name=None):
    """A model input: samples shaped ``shape`` (no batch axis), e.g. ``Input((1, 28, 28))``.

    ``None`` marks a free axis, of any size: ``Input((None, 8))`` takes sequences of any length
    (see the module docstring).
    """
    if isinstance(shape, (int,)) and not isinstance(shape, bool):
        shape = (shape,)
    shape = checks.sample_shape(shape, "Input shape", free=True)
    if name is not None and not isinstance(name, str):
        raise ConfigError(f"Input name must be a string or None, got {name!r}")
    return SymbolicTensor(shape, node=None, name=name)


class Node:
    """One call of a layer in a graph: the layer, its input tensors, its options, its output.

    ``options`` are the keyword arguments of the call (``use_causal_mask=True``); an option
    that is itself a symbolic tensor (``attention_mask=mask``) is an input of the node too,
    listed in ``option_tensors``, and gets no gradient.
    """

    def __init__(self, layer, inputs, options, output_shape, concrete=None):
        self.layer = layer
        self.inputs = list(inputs)
        self.options = dict(options)
        self.option_tensors = {k: v for k, v in self.options.items() if is_symbolic(v)}
        self.output = SymbolicTensor(output_shape, node=self)
        self.cache = None            # the layer's state after this node's forward (shared layers)
        # the input shapes with a length in place of each free axis, and the output shape for
        # them (``concrete``; the shapes themselves where none is free): what the layer is
        # built for, and what its memory is counted on
        self.build_shapes, self.build_output_shape = concrete or (
            [t.shape for t in self.inputs], self.output.shape)

    @property
    def parents(self):
        """Every tensor this node reads: its inputs, then symbolic options."""
        return self.inputs + list(self.option_tensors.values())


def is_symbolic(value):
    """Whether ``value`` is a symbolic tensor, or a list/tuple holding one."""
    if isinstance(value, SymbolicTensor):
        return True
    return isinstance(value, (list, tuple)) and any(isinstance(v, SymbolicTensor) for v in value)


def shape_text(shape):
    """``(N, None, 8)``: a per-sample shape with the batch axis in front."""
    return "(" + ", ".join(["N", *map(str, shape)]) + ")"


def fill(shape, length):
    """``shape`` with ``length`` in place of each free axis (None); None stays None."""
    return None if shape is None else tuple(length if size is None else size for size in shape)


def is_free(shape):
    """Whether ``shape`` has a free axis (None)."""
    return shape is not None and any(size is None for size in shape)


def fits(shape, expected):
    """Whether a concrete ``shape`` matches ``expected``, where a free axis takes any size."""
    return len(shape) == len(expected) and all(
        want is None or int(got) == want for got, want in zip(shape, expected))


def example_shape(shape, layers=()):
    """``shape`` with its free axes set to the first of :data:`FREE_PROBES` that a chain of
    ``layers`` takes one after the other (what a stack's memory is counted on); ``shape`` as
    it is without free axes, and None for None."""
    if not is_free(shape):
        return shape
    for length in FREE_PROBES:
        concrete = current = fill(shape, length)
        try:
            for layer in layers:
                current = tuple(layer.compute_output_shape(current))
        except Exception:       # any refusal (a file's forged layer too): the next length
            continue
        return concrete
    return fill(shape, FREE_PROBES[0])


def _output_shape(layer, shapes, many):
    """``layer.compute_output_shape`` of concrete ``shapes``, a refusal as a ShapeError."""
    try:
        return tuple(layer.compute_output_shape(shapes if many else shapes[0]))
    except ShapeError:
        raise
    except (ValueError, IndexError, TypeError) as exc:
        raise ShapeError(f"{type(layer).__name__} layer {layer.label} cannot take inputs shaped "
                         f"{', '.join(str(s) for s in shapes)}: {exc}") from None


def _sizes(param_shapes):
    """``param_shapes`` with each shape as a tuple, to compare."""
    return {key: tuple(shape) for key, shape in param_shapes.items()}


def _free_output_shape(layer, shapes, many, examples=None):
    """``(output shape, (concrete input shapes, concrete output shape))`` of ``layer`` on
    ``shapes`` with free axes, by the rules of the module docstring; ShapeError otherwise.

    The concrete shapes are ``examples`` (the shapes of data seen) where the layer takes them,
    else those of the shortest length it takes."""
    where = f"{type(layer).__name__} layer {layer.label}"
    shown = ", ".join(shape_text(s) for s in shapes)
    tried, first_problem = [], None
    for length in FREE_PROBES:
        concrete = [fill(s, length) for s in shapes]
        try:
            out = _output_shape(layer, concrete, many)
            params = layer.param_shapes(concrete if many else concrete[0])
        except Exception as exc:      # this length refused (a user's layer may raise anything)
            first_problem = first_problem or f"length {length}: {exc}"
            continue
        tried.append((concrete, out, _sizes(params)))
    if len(tried) < 2:
        raise ShapeError(f"{where} cannot take inputs shaped {shown}: it needs a fixed size "
                         f"where the input has a free axis (None) ({first_problem}); give "
                         "ns.Input that size")
    if any(params != tried[0][2] for _, _, params in tried):
        raise ShapeError(f"{where} sizes its parameters by an axis that is free (None) in its "
                         f"input shaped {shown}; it needs a fixed size there (give ns.Input "
                         "that size)")
    outputs = [out for _, out, _ in tried]
    if any(len(out) != len(outputs[0]) for out in outputs):
        raise ShapeError(f"{where} gives outputs of different ranks for different lengths of "
                         f"the free axis (None) of its input shaped {shown}")
    changing = [k for k in range(len(outputs[0])) if len({out[k] for out in outputs}) > 1]
    for k in changing:
        if not any(k < len(s) and s[k] is None and len(outputs[0]) >= len(s) for s in shapes):
            varying = ", ".join(f"{out[k]}" for out in outputs[:3])
            raise ShapeError(f"{where} cannot take inputs shaped {shown}: it folds the free "
                             f"axis (None) into axis {k + 1} of its output (sized {varying}, ... "
                             "as the length varies), so the layers after it could not have "
                             "fixed sizes. Pool over the free axis first (e.g. "
                             "GlobalAveragePooling1D(data_format='channels_last')), or give "
                             "ns.Input a fixed length")
    shape = tuple(None if k in changing else size for k, size in enumerate(outputs[0]))
    if examples is not None:                # built on the length of the data seen, if it can
        try:
            out = _output_shape(layer, examples, many)
            if _sizes(layer.param_shapes(examples if many else examples[0])) == tried[0][2]:
                return shape, (examples, out)
        except Exception:             # not the data's length: the shortest one taken
            pass
    return shape, (tried[0][0], tried[0][1])


def call_layer(layer, inputs, options=None):
    """Record ``layer(inputs, **options)`` as a node and return its symbolic output.

    ``inputs`` is one tensor, or a list for a layer with ``multiple_inputs``. The output shape
    comes from the layer's ``compute_output_shape`` (tried on several lengths where an input
    has a free axis: see the module docstring); the layer itself is built later, by the
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
    if not any(is_free(shape) for shape in shapes):
        return Node(layer, tensors, options, _output_shape(layer, shapes, many)).output
    examples = [t.shape if t.example_shape is None else t.example_shape for t in tensors]
    examples = None if any(is_free(shape) for shape in examples) else examples
    output_shape, concrete = _free_output_shape(layer, shapes, many, examples)
    output = Node(layer, tensors, options, output_shape, concrete).output
    if examples is not None and concrete[0] is examples:
        output.example_shape = concrete[1]
    return output
