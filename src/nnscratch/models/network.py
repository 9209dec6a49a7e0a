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
"""

import numpy as np

from .. import checks
from ..data import as_numeric_array
from ..errors import ConfigError, ShapeError
from ..layers.base import Layer
from ..layers.memory import check_batch, check_network
from ..sequences import pad_ragged
from ..symbolic import Input, call_layer
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
        Shape of one sample, to build the network before it sees data.
    """

    is_stack = True        # saved as a list of layers, not as a graph (see nnscratch.saving)

    def __init__(self, layers=None, loss="mse", optimizer=None, metrics=None, seed=None,
                 dtype="float32", input_shape=None, name=None):
        self._start(loss, optimizer, metrics, None, seed, dtype, name)
        self.layers = []
        self.nodes = []
        self._rows_checked = 0     # the largest batch whose forward pass is known to fit in memory
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
        """Create every layer's parameters for samples shaped ``input_shape`` (no batch axis)."""
        if not self.layers:
            raise ConfigError("a Network needs at least one layer")
        shape = checks.sample_shape(input_shape, "input_shape")
        check_network(self.layers, shape, self.dtype, self.optimizer)     # before allocating
        inputs = Input(shape, name="input")
        tensor = inputs
        for layer in self.layers:
            tensor = call_layer(layer, tensor)
        self._set_graph([inputs], [None], [tensor], [None])
        super().build()

    def ensure_built(self, input_shape):
        """Build on first use; afterwards check the sample shape matches the built one."""
        if not self.built:
            self.build(input_shape)
        elif tuple(input_shape) != self.input_shape:
            raise ShapeError(
                f"this network expects samples shaped {self.input_shape} "
                f"({'features' if len(self.input_shape) == 1 else 'per-sample shape'}), got "
                f"{tuple(input_shape)}")

    def prepare_inputs(self, x, name="x"):
        """``[x]`` checked and cast to the network's dtype; builds the network on first use."""
        if not isinstance(x, dict):                 # a list of sequences, for a first layer
            x = pad_ragged(x, *graph.input_padding(self)[0], name=name)   # that makes masks
        if not isinstance(x, dict) and (not self.built or np.shape(x)[1:] != self.input_shape):
            x = as_numeric_array(x, name, dtype=self.dtype, min_ndim=2)    # a clear error first
            self.ensure_built(x.shape[1:])
        return super().prepare_inputs(x, name)

    def prepare_targets(self, y, name="y"):
        """``[y]`` checked and cast for the loss (against the output shape once built)."""
        if not self.built:
            return [prepare_target(y, self.loss, None, self.dtype, name)]
        return super().prepare_targets(y, name)

    def forward(self, x, training=False):
        """Feedforward: ``a_l = f_l(a_{l-1})`` through every layer; returns the output."""
        if not self.built and np.ndim(x):
            self.build(np.shape(x)[1:])
        return super().forward(x, training)

    def forward_all(self, xs, training=False):
        """The chain's forward, after checking that a batch this large fits in memory."""
        if len(xs[0]) > self._rows_checked:           # the first or a larger batch: check
            self._rows_checked = check_batch(self.layers, self.input_shape, len(xs[0]),
                                             self.dtype)
        return super().forward_all(xs, training)

    def __repr__(self):
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Network([{inner}], loss={self.loss.name!r})"
