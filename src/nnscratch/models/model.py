"""The Model: layers joined as a graph, with its losses and optimizer; forward, backward, fit.

``ns.Model(inputs, outputs)`` takes the symbolic tensors of a functional model (see
:mod:`nnscratch.symbolic`): one tensor, a list, or a dict by name, each way::

    x = ns.Input((16,))
    h = ns.Dense(16, activation="relu")(x)
    y = ns.Dense(1)(ns.Add()([x, ns.Dense(16)(h)]))       # a residual block
    model = ns.Model(x, y, loss="mse", optimizer="adam")
    model.fit(x_train, y_train, epochs=10)

:class:`~nnscratch.Network` (a stack of layers, the article's network) is the special case of a
chain: both share this one implementation of forward and backward
(:mod:`nnscratch.models.graph`), ``fit`` (:mod:`nnscratch.training`), ``predict``,
``evaluate``, ``summary`` and saving.
"""

import numpy as np

from .. import checks
from .. import optimizers as optimizers_module
from ..errors import ConfigError, DataError, ShapeError
from ..layers.activated import ActivatedLayer
from ..symbolic import SymbolicTensor
from ..training.packing import pack_parameters, packed_arrays
from ..training.targets import predicted_labels
from . import graph
from .engine import Engine
from .outputs import Outputs
from .summary import summary_text


def _named(spec, what):
    """``(tensors, names)`` from one tensor, a list or a dict ``{name: tensor}``."""
    if isinstance(spec, dict):
        names, tensors = list(spec), list(spec.values())
    else:
        tensors = list(spec) if isinstance(spec, (list, tuple)) else [spec]
        names = [None] * len(tensors)
    for tensor in tensors:
        if not isinstance(tensor, SymbolicTensor):
            raise ConfigError(f"Model {what} must be symbolic tensors (from ns.Input or a layer "
                              f"call), got {type(tensor).__name__}")
    if not tensors:
        raise ConfigError(f"a Model needs at least one tensor in its {what}")
    return tensors, names


class Model(Engine):
    """Layers joined as a graph, trained by backpropagation through it.

    Parameters
    ----------
    inputs, outputs : SymbolicTensor, list or dict of them
        The model's input tensors (from :func:`nnscratch.Input`) and output tensors (from
        layer calls). Dict keys name them (for ``fit``/``predict`` with dicts, and the logs).
    loss : str, Loss, or a list / dict of them (one per output)
    optimizer : str, dict or Optimizer
        Defaults to plain gradient descent, ``SGD(learning_rate=0.01)``.
    metrics : list, or a list / dict of lists (one per output)
    loss_weights : list or dict of floats, optional
        The weight of each output's loss in the total (1 each by default).
    seed : int, optional
        Seeds weight initialisation, dropout and shuffling: the same seed gives identical weights.
    dtype : "float32" (default) or "float64"
    """

    def __init__(self, inputs=None, outputs=None, loss="mse", optimizer=None, metrics=None,
                 loss_weights=None, seed=None, dtype="float32", name=None):
        self._start(loss, optimizer, metrics, loss_weights, seed, dtype, name)
        if inputs is None or outputs is None:
            raise ConfigError("Model(inputs, outputs) needs both: the tensors from ns.Input and "
                              "the tensors the layers made from them")
        self._set_graph(*_named(inputs, "inputs"), *_named(outputs, "outputs"))
        self.build()

    def _start(self, loss, optimizer, metrics, loss_weights, seed, dtype, name):
        """What every model holds before its graph is known."""
        self.dtype = checks.float_dtype(dtype)
        self.name = name
        self._compile_args = (loss, metrics, loss_weights)
        self.optimizer = (optimizers_module.SGD(learning_rate=0.01) if optimizer is None
                          else optimizers_module.get(optimizer))
        self.seed = checks.seed(seed, f"{type(self).__name__} seed")
        self.rng = np.random.default_rng(self.seed)
        self.shuffle_rng = np.random.default_rng(None if seed is None else [int(seed), 1])
        self.built = False
        self.stop_training = False
        self.epochs_trained = 0
        self.metadata = None        # user data saved with the model (see nnscratch.saving)
        self.class_labels = None    # text class labels learnt by fit (see training.targets)
        self._packed = None         # see nnscratch.training.packing
        self.outputs_spec = None

    def compile(self, loss=None, optimizer=None, metrics=None, loss_weights=None):
        """Set the losses, optimizer, metrics and loss weights (Keras' ``compile``)."""
        old_loss, old_metrics, old_weights = self._compile_args
        self._compile_args = (old_loss if loss is None else loss,
                              old_metrics if metrics is None else metrics,
                              old_weights if loss_weights is None else loss_weights)
        if optimizer is not None:
            self.optimizer = optimizers_module.get(optimizer)
        if self.built:
            self._set_outputs()
        return self

    # -- the graph ---------------------------------------------------------------------------
    def _set_graph(self, inputs, input_names, outputs, output_names):
        self.inputs, self.outputs = inputs, outputs
        self.nodes = graph.topological_nodes(inputs, outputs)
        self.layers = graph.unique_layers(self.nodes)
        graph.check_names(self.layers)
        uses = {}
        for node in self.nodes:
            uses[id(node.layer)] = uses.get(id(node.layer), 0) + 1
        self._shared = {key for key, count in uses.items() if count > 1}
        self.input_names = [name or tensor.name or f"input_{i}"
                            for i, (tensor, name) in enumerate(zip(inputs, input_names))]
        self.output_names = [name or (t.node.layer.name if t.node else f"output_{i}")
                             for i, (t, name) in enumerate(zip(outputs, output_names))]
        for names, what in ((self.input_names, "input"), (self.output_names, "output")):
            if len(set(names)) != len(names):
                raise ConfigError(f"two model {what}s share a name: {names}")

    def build(self, input_shape=None):
        """Create every layer's parameters, in the order of the graph, with the model's seed.

        A layer reading a free axis (None: any length) is built for one length it takes
        (:mod:`nnscratch.symbolic`); its parameters are the same for every length.
        """
        for node in self.nodes:
            layer = node.layer
            if not layer.built:
                shapes = node.build_shapes          # a length in place of each free axis
                many = getattr(layer, "multiple_inputs", False)
                layer.build(shapes if many else shapes[0], rng=self.rng, dtype=self.dtype)
        self.built = True
        self._set_outputs()
        self._first_layers = [layer for layer in self.layers if all(
            t in self.inputs for n in self.nodes if n.layer is layer for t in n.inputs)]
        self._param_keys = [(layer, key, f"{layer.name}.{key}")
                            for layer in self.layers for key in layer.params]
        self._packed = pack_parameters(self._param_keys)      # None: per-array updates
        self._chain = self._as_chain()

    def _set_outputs(self):
        loss, metrics, loss_weights = self._compile_args
        self.outputs_spec = Outputs(self.output_names, loss, loss_weights, metrics)
        consumed = {t.id for node in self.nodes for t in node.parents}
        self._fused = [self._fused_loss(t, loss, consumed)
                       for t, loss in zip(self.outputs, self.outputs_spec.losses)]

    def _as_chain(self):
        """The layers in order when the graph is a plain chain (one input, one output, each
        call reading the one before, nothing shared), else None: it then runs without the
        bookkeeping of a graph, as the article's network does."""
        previous = self.inputs[0] if len(self.inputs) == 1 else None
        for node in self.nodes:
            if (previous is None or node.options or len(node.inputs) != 1
                    or node.inputs[0] is not previous or id(node.layer) in self._shared):
                return None
            previous = node.output
        if len(self.outputs) != 1 or self.outputs[0] is not previous:
            return None
        return [node.layer for node in self.nodes]

    def _fused_loss(self, tensor, loss, consumed):
        """The from-logits twin of ``loss`` when the layer making ``tensor`` ends in the
        activation the loss fuses with (and nothing else reads the tensor), else None."""
        node = tensor.node
        fused_with = getattr(loss, "fused_activation", None)
        if (node is None or fused_with is None or tensor.id in consumed
                or id(node.layer) in self._shared or not isinstance(node.layer, ActivatedLayer)
                or node.layer.activation.name != fused_with):
            return None
        return loss.with_logits()

    # -- what the rest of the library reads -------------------------------------------------
    @property
    def loss(self):
        """The loss of the first output (the loss, for a model with one output)."""
        return self.outputs_spec.losses[0] if self.outputs_spec else None

    @property
    def metrics(self):
        """The metrics of the first output (the metrics, for a model with one output)."""
        return self.outputs_spec.metrics[0] if self.outputs_spec else []

    @property
    def input_shape(self):
        """The per-sample input shape (a list of them for several inputs); None before build.

        ``None`` in it marks a free axis: ``(None, 8)`` takes sequences of any length.
        """
        if not self.built:
            return None
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        """The per-sample output shape (a list of them for several outputs)."""
        if not self.built:
            return None
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    def predict_labels(self, x, batch_size=32, threshold=0.5):
        """The predicted class of each sample of ``x``: its label in ``class_labels`` (learnt
        by ``fit`` from text labels, kept in the model file), or its class index without
        them. The largest output wins; a single output unit means class 1 when above
        ``threshold``."""
        return predicted_labels(self.predict(x, batch_size=batch_size), self.class_labels,
                                checks.number(threshold, "threshold"))

    def get_layer(self, name):
        """The layer called ``name``; ConfigError listing the names otherwise."""
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ConfigError(f"no layer named {name!r}; the layers are "
                          f"{', '.join(layer.name for layer in self.layers)}")

    def named_parameters(self):
        """``(name, param, grad)`` for every trainable parameter, e.g. ``("dense_0.W", W, dW)``."""
        if not self.built:
            return []
        return [(name, layer.params[key], layer.grads[key])
                for layer, key, name in self._param_keys if layer.trainable]

    def packed_arrays(self):
        """``(params, grads)`` of the packing while it holds and every layer trains, else None
        (see :func:`nnscratch.training.packing.packed_arrays`)."""
        return packed_arrays(self._packed)

    def count_params(self):
        """Number of scalar parameters in all layers."""
        return sum(layer.count_params() for layer in self.layers)

    def trainable_count(self):
        """``(trainable, non-trainable)`` scalar parameter counts (frozen layers' parameters and
        every buffer, such as running statistics, are non-trainable)."""
        trainable = sum(layer.count_params() for layer in self.layers if layer.trainable)
        frozen = sum(layer.count_params() for layer in self.layers if not layer.trainable)
        buffers = sum(int(b.size) for layer in self.layers for b in layer.buffers.values())
        return trainable, frozen + buffers

    def get_weights(self):
        """A dict of copies of every parameter and buffer, keyed ``"layer.key"``."""
        return {f"{layer.name}.{key}": value.copy() for layer in self.layers
                for key, value in {**layer.params, **layer.buffers}.items()}

    def set_weights(self, weights, allow_nonfinite=False):
        """Copy a dict like ``get_weights()`` in; NaN/inf raise DataError unless allowed."""
        from ..saving.common import nonfinite
        if not checks.boolean(allow_nonfinite, "allow_nonfinite") and (
                problem := nonfinite(weights.items())):
            raise DataError(f"set_weights: {problem}; pass allow_nonfinite=True to set it anyway")
        for layer in self.layers:
            for store in (layer.params, layer.buffers):
                for key, target in store.items():
                    full = f"{layer.name}.{key}"
                    if full not in weights:
                        raise DataError(f"set_weights is missing '{full}'")
                    value = np.asarray(weights[full])
                    if value.shape != target.shape:
                        raise ShapeError(f"set_weights expects '{full}' shaped {target.shape}, "
                                         f"got {value.shape}")
                    np.copyto(target, value, casting="same_kind")

    # -- description and files -----------------------------------------------------------------
    def summary(self, print_fn=print):
        """A table of layers, output shapes, inputs and parameter counts (printed and returned)."""
        text = summary_text(self)
        if print_fn is not None:
            print_fn(text)
        return text

    def save(self, path, include_optimizer=True, metadata=None, allow_nonfinite=False):
        """Write the model to ``path`` (see :mod:`nnscratch.saving`), atomically.

        ``include_optimizer`` also stores the optimizer and random-generator states, so training
        resumes exactly; ``metadata`` (a JSON-safe dict, default ``self.metadata``) is kept with
        the model and comes back as ``ns.load(path).metadata``; NaN/inf need ``allow_nonfinite``.
        """
        from ..saving import save
        return save(self, path, include_optimizer=include_optimizer, metadata=metadata,
                    allow_nonfinite=allow_nonfinite)

    def __repr__(self):
        return (f"{type(self).__name__}(inputs={self.input_names}, outputs={self.output_names}, "
                f"layers={len(self.layers)})")
