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
"""

import math

import numpy as np

from . import checks, training
from . import losses as losses_module
from . import metrics as metrics_module
from . import optimizers as optimizers_module
from .data import as_numeric_array, batch_slices, check_same_length
from .errors import ConfigError, DataError, ShapeError, TrainingError
from .layers.base import ActivatedLayer, Layer
from .training.packing import pack_parameters, packed_arrays
from .training.targets import prepare_target, sample_weights


class Network:
    """A feedforward stack of layers trained by backpropagation.

    Parameters
    ----------
    layers : list of Layer
        Applied in order. Input sizes are inferred on first use (or from ``input_shape``).
    loss : str, dict or Loss
        The cost function (``"sse"`` is the article's sum of squared errors).
    optimizer : str, dict or Optimizer
        Defaults to plain gradient descent, ``SGD(learning_rate=0.01)``.
    metrics : list of str or Metric
        Reported by ``fit`` (training and validation) and ``evaluate``.
    seed : int, optional
        Seeds weight initialisation, dropout and shuffling: the same seed gives identical weights.
    dtype : "float32" (default) or "float64"
        The type of parameters and of the data passed through the network.
    input_shape : tuple, optional
        Shape of one sample, to build the network before it sees data.
    """

    def __init__(self, layers=None, loss="mse", optimizer=None, metrics=None, seed=None,
                 dtype="float32", input_shape=None, name=None):
        self.dtype = checks.float_dtype(dtype)
        self.name = name
        self.layers = []
        for layer in layers or []:
            self.add(layer)
        self.loss = losses_module.get(loss)
        self.optimizer = (optimizers_module.SGD(learning_rate=0.01) if optimizer is None
                          else optimizers_module.get(optimizer))
        self.metrics = [metrics_module.get(m) for m in (metrics or [])]
        self.seed = checks.seed(seed, "Network seed")
        self.rng = np.random.default_rng(self.seed)
        self.shuffle_rng = np.random.default_rng(None if seed is None else [int(seed), 1])
        self.built = False
        self.input_shape = None
        self.output_shape = None
        self.stop_training = False
        self.epochs_trained = 0
        self.metadata = None      # user data saved with the model (see nnscratch.saving)
        self._logit_loss = None
        self._packed = None       # see nnscratch.training.packing
        first_dim = getattr(self.layers[0], "input_dim", None) if self.layers else None
        if input_shape is None and first_dim is not None:
            input_shape = (first_dim,)
        if input_shape is not None:
            self.build(input_shape)

    # -- structure -------------------------------------------------------------------------
    def add(self, layer):
        """Append a layer (before the network is built)."""
        if not isinstance(layer, Layer):
            raise ConfigError(f"Network layers must be Layer objects, got {type(layer).__name__} "
                              f"({layer!r})")
        if getattr(self, "built", False):
            raise ConfigError("cannot add a layer to a network that is already built")
        if layer.name is None:
            layer.name = f"{type(layer).__name__.lower()}_{len(self.layers)}"
        if any(other.name == layer.name for other in self.layers):
            raise ConfigError(f"two layers are named {layer.name!r}; layer names must be unique")
        self.layers.append(layer)

    def build(self, input_shape):
        """Create every layer's parameters for samples shaped ``input_shape`` (no batch axis)."""
        if not self.layers:
            raise ConfigError("a Network needs at least one layer")
        shape = checks.sample_shape(input_shape, "input_shape")
        self.input_shape = shape
        for layer in self.layers:
            if not layer.built:
                layer.build(shape, rng=self.rng, dtype=self.dtype)
            shape = tuple(layer.compute_output_shape(shape))
        self.output_shape = shape
        self.built = True
        self._logit_loss = self._fused_loss()
        self._param_keys = [(layer, key, f"{layer.name}.{key}")    # named_parameters, per batch
                            for layer in self.layers for key in layer.params]
        self._packed = pack_parameters(self._param_keys)   # None: per-array updates

    def packed_arrays(self):
        """``(params, grads)`` of the packing while it holds and every layer trains, else None
        (see :func:`nnscratch.training.packing.packed_arrays`)."""
        return packed_arrays(self._packed)

    def ensure_built(self, input_shape):
        """Build on first use; afterwards check the sample shape matches the built one."""
        if not self.built:
            self.build(input_shape)
        elif tuple(input_shape) != self.input_shape:
            raise ShapeError(
                f"this network expects samples shaped {self.input_shape} "
                f"({'features' if len(self.input_shape) == 1 else 'per-sample shape'}), got "
                f"{tuple(input_shape)}")

    def _fused_loss(self):
        """The from-logits twin of the loss when the last activation fuses with it, else None."""
        last = self.layers[-1]
        fused_with = getattr(self.loss, "fused_activation", None)
        if (fused_with is not None and isinstance(last, ActivatedLayer)
                and last.activation.name == fused_with):
            return self.loss.with_logits()
        return None

    def named_parameters(self):
        """``(name, param, grad)`` for every trainable parameter, e.g. ``("dense_0.W", W, dW)``."""
        if not self.built:
            return []
        return [(name, layer.params[key], layer.grads[key])
                for layer, key, name in self._param_keys if layer.trainable]

    def get_weights(self):
        """A dict of copies of every parameter and buffer, keyed ``"layer.key"``."""
        weights = {}
        for layer in self.layers:
            for key, value in {**layer.params, **layer.buffers}.items():
                weights[f"{layer.name}.{key}"] = value.copy()
        return weights

    def set_weights(self, weights):
        """Copy arrays from a dict like ``get_weights()`` into the parameters and buffers."""
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

    def count_params(self):
        """Number of scalar parameters in all layers."""
        return sum(layer.count_params() for layer in self.layers)

    # -- feedforward and backpropagation ---------------------------------------------------
    def forward(self, x, training=False):
        """Feedforward: ``a_l = f_l(a_{l-1})`` through every layer; returns the output."""
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def backward(self, grad_output):
        """Backpropagation: ``delta_{l-1} = layer_l.backward(delta_l)`` from the last layer.

        ``grad_output`` is dL/d(output). Fills every layer's ``grads``; returns dL/d(input).
        """
        return self._backward_through(self.layers, grad_output)

    @staticmethod
    def _backward_through(layers, grad):
        for layer in reversed(layers):
            grad = layer.backward(grad)
        return grad

    def _loss_from_output(self, output, y, sample_weight):
        """The loss of a forward pass (from the logits when fused), without penalties."""
        if self._logit_loss is not None:
            return self._logit_loss.value(self.layers[-1].last_z, y, sample_weight)
        return self.loss.value(output, y, sample_weight)

    def penalty(self):
        """Sum of the layers' weight penalties (L1/L2)."""
        return sum(layer.penalty() for layer in self.layers if layer.regularizers)

    def loss_value(self, x, y, sample_weight=None, training=False):
        """The loss (with penalties) of prepared data, without computing gradients."""
        output = self.forward(x, training=training)
        return float(self._loss_from_output(output, y, sample_weight)) + self.penalty()

    def compute_gradients(self, x, y, sample_weight=None, training=True, return_input_grad=False):
        """One forward and backward pass on prepared data: fills the gradients, returns the loss.

        The loss includes the weight penalties and the gradients their derivatives. With
        ``return_input_grad`` also returns dL/dx.
        """
        output = self.forward(x, training=training)
        self.last_output = output
        first = self.layers[0]
        first.input_grad_needed = return_input_grad       # else the first layer may skip dL/dx
        try:
            if self._logit_loss is not None:
                last = self.layers[-1]
                loss, grad_z = self._logit_loss.value_and_gradient(last.last_z, y, sample_weight)
                grad_x = self._backward_through(self.layers[:-1],
                                                last.backward_from_z(grad_z))  # dL/dz = (p - y) / N
            else:
                loss, grad = self.loss.value_and_gradient(output, y, sample_weight)
                grad_x = self.backward(grad)
        finally:
            first.input_grad_needed = True
        loss = float(loss)
        for layer in self.layers:
            if layer.regularizers:
                loss += layer.penalty()
                layer.add_penalty_gradients()
        return (loss, grad_x) if return_input_grad else loss

    def train_step(self, x, y, sample_weight=None):
        """One gradient-descent step on a prepared batch; returns the batch loss before it."""
        loss = self.compute_gradients(x, y, sample_weight, training=True)
        if not math.isfinite(loss):
            raise TrainingError(f"the training loss became {loss}; the parameters were not updated")
        packed = self.packed_arrays()
        # while the packing holds, the parameter list is the one made when packing
        named = self._packed[3] if packed is not None else self.named_parameters()
        self.optimizer.step(named, packed=packed)
        return loss

    # -- data ------------------------------------------------------------------------------
    def prepare_input(self, x, name="x"):
        """Check ``x`` and cast it to the network's dtype; builds the network on first use."""
        x = as_numeric_array(x, name, dtype=self.dtype, min_ndim=2)
        self.ensure_built(x.shape[1:])
        return x

    def prepare_target(self, y, name="y"):
        """Check ``y`` against the output shape: integer labels for sparse losses, else floats.

        A 1-D ``y`` is read as one column when the network has a single output (see
        :func:`nnscratch.targets.prepare_target`).
        """
        return prepare_target(y, self.loss, self.output_shape, self.dtype, name)

    def sample_weights(self, y, sample_weight, class_weight):
        """Per-sample weights from ``sample_weight`` times ``class_weight[label]``, or None."""
        return sample_weights(y, sample_weight, class_weight, self.dtype)

    # -- training --------------------------------------------------------------------------
    def fit(self, x, y, epochs=1, batch_size=None, shuffle=True, seed=None, verbose=1,
            validation_data=None, validation_split=0.0, callbacks=None, sample_weight=None,
            class_weight=None, initial_epoch=0):
        """Train by gradient descent; returns a :class:`~nnscratch.callbacks.History`.

        The loop itself lives in :mod:`nnscratch.training.loop`, apart from the model.

        Parameters
        ----------
        x, y : array-like
            Inputs (N, ...) and targets (N, outputs), or integer labels (N,) for a sparse loss.
        epochs : int
            The epoch to train up to, as in Keras: ``epochs - initial_epoch`` passes over the
            data (the article's iterations when ``batch_size=None``).
        batch_size : int or None
            Samples per gradient step; None uses the whole set at once, as in the article.
        shuffle : bool
            Reshuffle the samples every epoch (mini-batches only).
        seed : int, optional
            Seeds the shuffling for this call (otherwise the network's seed stream is used).
        verbose : 0, 1 or 2
            0 silent; 1 a progress bar when writing to a terminal, quiet otherwise; 2 a line per epoch.
        validation_data : (x_val, y_val) or (x_val, y_val, w_val), optional
        validation_split : float
            Fraction of the data, taken from the end before shuffling, held out for validation.
        callbacks : list of Callback
        sample_weight : array (N,), optional
            Weight of each sample in the loss.
        class_weight : dict, optional
            ``{class: weight}`` multiplying the weight of each sample of that class.
        initial_epoch : int
            Epoch to start counting from (when resuming from a checkpoint of that epoch).
        """
        return training.fit(self, x, y, epochs=epochs, batch_size=batch_size, shuffle=shuffle,
                            seed=seed, verbose=verbose, validation_data=validation_data,
                            validation_split=validation_split, callbacks=callbacks,
                            sample_weight=sample_weight, class_weight=class_weight,
                            initial_epoch=initial_epoch)

    def state_arrays(self):
        """Every parameter and buffer array, in layer order (the packed parameters as one).

        Layers change these in place, so the training loop's divergence guard snapshots them.
        """
        packed = self.packed_arrays()
        if packed is not None:
            return [packed[0]] + [value for layer in self.layers for value in layer.buffers.values()]
        return [value for layer in self.layers
                for store in (layer.params, layer.buffers) for value in store.values()]

    def metric_values(self, output, y):
        """``{metric name: value}`` of the network's metrics on outputs and targets."""
        return {metric.name: metric(output, y) for metric in self.metrics}

    # -- inference -------------------------------------------------------------------------
    def predict(self, x, batch_size=None):
        """The network's outputs for ``x`` (inference mode: no dropout, running statistics)."""
        x = self.prepare_input(x)
        if batch_size is None:
            return self.forward(x, training=False)
        batch_size = checks.positive_int(batch_size, "batch_size")
        return np.concatenate([self.forward(x[s], training=False)
                               for s in batch_slices(len(x), batch_size)])

    def evaluate_prepared(self, x, y, weights=None):
        output = self.forward(x, training=False)
        loss = float(self._loss_from_output(output, y, weights)) + self.penalty()
        return {"loss": loss, **self.metric_values(output, y)}

    def evaluate(self, x, y, sample_weight=None):
        """``{"loss": ..., "<metric>": ...}`` on the given data, in inference mode."""
        x = self.prepare_input(x)
        y = self.prepare_target(y)
        check_same_length(x, y)
        return self.evaluate_prepared(x, y, self.sample_weights(y, sample_weight, None))

    # -- description and files -------------------------------------------------------------
    def summary(self, print_fn=print):
        """A table of layers, output shapes and parameter counts (printed and returned)."""
        rows = [("layer", "type", "output shape", "params")]
        shape = self.input_shape
        for layer in self.layers:
            if shape is not None:
                shape = tuple(layer.compute_output_shape(shape))
            activation = getattr(layer, "activation", None)
            kind = type(layer).__name__ + (f" ({activation.name})" if activation is not None
                                            and activation.name != "identity" else "")
            rows.append((layer.name, kind, "(N, " + ", ".join(map(str, shape)) + ")"
                         if shape is not None else "?", str(layer.count_params())))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows]
        lines.insert(1, "-" * len(lines[0]))
        lines.append("-" * len(lines[0]))
        lines.append(f"total parameters: {self.count_params()}   loss: {self.loss.name}   "
                     f"optimizer: {type(self.optimizer).__name__}   dtype: {self.dtype.name}")
        text = "\n".join(lines)
        if print_fn is not None:
            print_fn(text)
        return text

    def save(self, path, include_optimizer=True, metadata=None):
        """Write the model to ``path`` (see :mod:`nnscratch.saving`), atomically.

        ``include_optimizer`` also stores the optimizer and random-generator states, so training
        resumes exactly; ``metadata`` (a JSON-safe dict, default ``self.metadata``) is kept with
        the model and comes back as ``ns.load(path).metadata``.
        """
        from .saving import save
        return save(self, path, include_optimizer=include_optimizer, metadata=metadata)

    def __repr__(self):
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Network([{inner}], loss={self.loss.name!r})"
