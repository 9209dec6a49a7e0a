"""The Network: a stack of layers, a loss and an optimizer; feedforward, backprop and fit.

For layers :math:`f_1, \\dots, f_L` the feedforward pass is :math:`a_0 = x`,
:math:`a_l = f_l(a_{l-1})`, and the output :math:`\\hat y = a_L` is scored by the loss
:math:`L(\\hat y, y)`. Backpropagation applies the chain rule from the loss back to the input:

.. math::

    \\delta_L = \\frac{\\partial L}{\\partial \\hat y}, \\qquad
    \\delta_{l-1} = \\frac{\\partial L}{\\partial a_{l-1}}
                 = \\delta_l \\, \\frac{\\partial a_l}{\\partial a_{l-1}}
    \\quad(\\texttt{layer}_l.\\texttt{backward}(\\delta_l))

and each layer stores :math:`\\partial L / \\partial \\theta_l` for its parameters on the way.
Gradient descent then moves every parameter against its gradient (the optimizer's rule).

When the last layer's activation is softmax (or sigmoid) and the loss is the matching
cross-entropy, the two are fused: the loss is computed from the logits ``z`` with the stable
log-softmax form and the gradient with respect to ``z`` is simply ``p - y`` (over N), so no
probability is ever clipped or divided by.

A Network is the special case of a :class:`~nnscratch.Model` whose graph is a chain: it learns
its input shape from the first data it sees (or ``input_shape``), then builds the chain
``Input -> layer_1 -> ... -> layer_L`` and runs as any model does.

**Sequences of any length.** A network that learns its input shape from data of sequences,
(N, T, features...), or padded token ids (N, T) for a first ``Embedding(mask_zero=True)``,
leaves the length T free (``input_shape`` ``(None, features)``) when every layer takes a free
length (the rules of :mod:`nnscratch.symbolic`: recurrent layers, Dense, Embedding, Masking,
LayerNormalization, attention, pooling over time...): built on length 8, it predicts on length
15, its layers built for the length it learnt from. With a layer that needs the length
(Flatten, a convolution reading it as channels), T stays the one it learnt; so it does for
token ids without ``mask_zero``, which may as well be a fixed set of categorical features. An
``input_shape`` given to the constructor or to :meth:`build` is taken as it is (``(None, 4)``
for a free length, ``(12, 4)`` for a fixed one).
"""

import numpy as np

from .. import checks
from ..data import as_numeric_array
from ..errors import ConfigError, ShapeError
from ..layers.base import Layer
from ..layers.embedding import Embedding
from ..layers.memory import check_batch, check_network
from ..sequences import pad_ragged
from ..symbolic import Input, call_layer, example_shape, fits
from ..training.targets import prepare_target
from . import graph
from .model import Model
from .outputs import Outputs


class Network(Model):
    """A feedforward stack of layers trained by backpropagation.

    Parameters
    ----------
    layers : list of Layer
        Applied in order. Input sizes are inferred on first use (or from ``input_shape``).
    loss : str, dict or Loss
        The cost function (``"sse"`` is the article's sum of squared errors).
    optimizer : str, dict or Optimizer
        Defaults to plain gradient descent, ``SGD(learning_rate=0.01)``.
    metrics : list of str or Metric, or one of them
        Reported by ``fit`` (training and validation) and ``evaluate``.
    seed : int, optional
        Seeds weight initialisation, dropout and shuffling: the same seed gives identical weights.
    dtype : "float32" (default) or "float64"
        The type of parameters and of the data passed through the network.
    input_shape : tuple, optional
        Shape of one sample, to build the network before it sees data; ``None`` on an axis
        leaves it free (``(None, 4)``: sequences of any length, 4 features a step).
    """

    is_stack = True        # saved as a list of layers, not as a graph (see nnscratch.saving)

    def __init__(self, layers=None, loss="mse", optimizer=None, metrics=None, seed=None,
                 dtype="float32", input_shape=None, name=None):
        self._start(loss, optimizer, metrics, None, seed, dtype, name)
        self.layers = []
        self.nodes = []
        self._rows_checked = 0     # the largest batch whose forward pass is known to fit in memory
        self._shape_checked = None    # ... for samples of this shape
        for layer in layers or []:
            self.add(layer)
        self.outputs_spec = Outputs(["output"], loss, None, metrics)   # checked now, named at build
        first_dim = getattr(self.layers[0], "input_dim", None) if self.layers else None
        if input_shape is None and first_dim is not None:
            input_shape = (first_dim,)
        if input_shape is not None:
            self.build(input_shape)

    def add(self, layer):
        """Append a layer (before the network is built)."""
        if not isinstance(layer, Layer):
            raise ConfigError(f"Network layers must be Layer objects, got {type(layer).__name__} "
                              f"({layer!r})")
        if self.built:
            raise ConfigError("cannot add a layer to a network that is already built")
        if layer.name is None:
            layer.name = f"{type(layer).__name__.lower()}_{len(self.layers)}"
        if any(other.name == layer.name for other in self.layers):
            raise ConfigError(f"two layers are named {layer.name!r}; layer names must be unique")
        if any(other is layer for other in self.layers):
            raise ConfigError(f"layer {layer.name} is already in this network; a layer used "
                              "twice needs a functional Model (ns.Model)")
        self.layers.append(layer)

    def build(self, input_shape):
        """Create every layer's parameters for samples shaped ``input_shape`` (no batch axis;
        ``None`` for a free axis, such as the length of sequences)."""
        self._build_chain(input_shape)

    def _build_chain(self, input_shape, example=None):
        """:meth:`build`; ``example``: the shape of the data seen, where ``input_shape`` leaves
        its length free (the layers are then built for that length, as without a free one)."""
        if not self.layers:
            raise ConfigError("a Network needs at least one layer")
        shape = checks.sample_shape(input_shape, "input_shape", free=True)
        inputs = Input(shape, name="input")
        inputs.example_shape = example
        tensor = inputs
        for layer in self.layers:                   # shapes only: a refused shape fails here
            tensor = call_layer(layer, tensor)
        check_network(self.layers, example or example_shape(shape, self.layers), self.dtype,
                      self.optimizer)               # before allocating
        self._set_graph([inputs], [None], [tensor], [None])
        super().build()

    def free_length_shape(self, sample_shape):
        """``sample_shape`` (of data) with its first axis free, ``(None,) + sample_shape[1:]``,
        when the data are sequences (two axes or more, or padded token ids for a first
        ``Embedding(mask_zero=True)``) and every layer takes them at any length; else
        ``sample_shape`` as it is. How a network built from data decides whether it predicts
        on other lengths."""
        shape = tuple(int(size) for size in sample_shape)
        first = self.layers[0]
        padded_ids = isinstance(first, Embedding) and first.mask_zero
        if not (len(shape) >= 2 or padded_ids) or not all(shape):
            return shape
        tensor = Input((None,) + shape[1:])
        try:
            for layer in self.layers:
                tensor = call_layer(layer, tensor)
        except Exception:       # a layer needs the length: keep it (the build says why, if wrong)
            return shape
        return (None,) + shape[1:]

    def ensure_built(self, input_shape):
        """Build on first use (a free length where :meth:`free_length_shape` allows it);
        afterwards check the sample shape matches the built one."""
        if not self.built:
            if not self.layers:
                raise ConfigError("a Network needs at least one layer")
            shape = self.free_length_shape(input_shape)
            self._build_chain(shape, tuple(input_shape) if shape != tuple(input_shape) else None)
        elif not fits(tuple(input_shape), self.input_shape):
            raise ShapeError(
                f"this network expects samples shaped {self.input_shape} "
                f"({'features' if len(self.input_shape) == 1 else 'per-sample shape'}), got "
                f"{tuple(input_shape)}")

    def prepare_inputs(self, x, name="x"):
        """``[x]`` checked and cast to the network's dtype; builds the network on first use."""
        if not isinstance(x, dict):                 # a list of sequences, for a first layer
            x = pad_ragged(x, *graph.input_padding(self)[0], name=name)   # that makes masks
        if not isinstance(x, dict) and (not self.built
                                        or not fits(np.shape(x)[1:], self.input_shape)):
            x = as_numeric_array(x, name, dtype=self.dtype, min_ndim=2)    # a clear error first
            self.ensure_built(x.shape[1:])
        return super().prepare_inputs(x, name)

    def prepare_targets(self, y, name="y"):
        """``[y]`` checked and cast for the loss (against the output shape once built)."""
        if not self.built:
            return [prepare_target(y, self.loss, None, self.dtype, name, self.class_labels)]
        return super().prepare_targets(y, name)

    def forward(self, x, training=False):
        """Feedforward: ``a_l = f_l(a_{l-1})`` through every layer; returns the output."""
        if not self.built and np.ndim(x):
            self.ensure_built(np.shape(x)[1:])
        return super().forward(x, training)

    def forward_all(self, xs, training=False):
        """The chain's forward, after checking that a batch this large fits in memory."""
        x = xs[0]
        shape = x.shape[1:] if type(x) is np.ndarray else np.shape(x)[1:]
        if len(x) > self._rows_checked or shape != self._shape_checked:
            # the first or a larger batch, or samples of another length: check
            self._rows_checked = check_batch(self.layers, shape, len(x), self.dtype)
            self._shape_checked = shape
        return super().forward_all(xs, training)

    def __repr__(self):
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Network([{inner}], loss={self.loss.name!r})"
