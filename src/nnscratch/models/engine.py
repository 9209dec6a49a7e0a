"""What a model computes: data in, forward, losses, backward, one training step, inference.

For a model with outputs :math:`\\hat y_k` the training step is the article's, over a graph:

1. forward: every layer call in topological order (:func:`~nnscratch.models.graph.run_forward`);
2. the loss :math:`L = \\sum_k w_k L_k(\\hat y_k, y_k)` and :math:`\\partial L/\\partial \\hat y_k`
   (:mod:`nnscratch.models.outputs`); where an output's softmax or sigmoid is fused with its
   cross-entropy, :math:`\\partial L/\\partial z = (p - y)/N` straight from the logits;
3. backward: every call in reverse order, gradients summed where a tensor fans out
   (:func:`~nnscratch.models.graph.run_backward`), then the weight penalties;
4. the optimizer's update of every trainable parameter.

:class:`Engine` is a base of :class:`~nnscratch.Model`; it reads the graph the model holds
(``inputs``, ``outputs``, ``nodes``, ``layers``, ``outputs_spec``).
"""

import math

from .. import threads
from ..data import as_numeric_array, check_same_length
from ..errors import ConfigError, ShapeError, TrainingError
from ..layers.masking import may_make_masks
from ..losses import masked_weights
from ..sequences import pad_ragged
from ..symbolic import fits, shape_text
from ..training import fit as fit_loop
from ..training.inference import evaluate_batches, predict_batches
from ..training.packing import packed_arrays
from ..training.sources import ArraySource, inference_source
from ..training.targets import fit_class_labels, prepare_target, sample_weights
from . import graph


def _by_name(data, names, what):
    """One entry per name from a list/tuple (in order) or a dict (by name)."""
    if isinstance(data, dict):
        missing = [n for n in names if n not in data]
        extra = sorted(set(data) - set(names))
        if missing or extra:
            raise ConfigError(f"{what} by name needs exactly {names}; missing {missing}, "
                              f"unexpected {extra}")
        return [data[n] for n in names]
    if isinstance(data, (list, tuple)) and len(data) == len(names):
        return list(data)
    raise ConfigError(f"{what} must be a list of {len(names)} arrays (or a dict by name: "
                      f"{names}), got {type(data).__name__}"
                      + (f" of length {len(data)}" if isinstance(data, (list, tuple)) else ""))


class Engine:
    """Forward, backward, losses, a training step and inference over the model's graph."""
    distribution = None     # the data-parallel strategy (nnscratch.distributed) or None

    # -- data in -------------------------------------------------------------------------------
    def prepare_inputs(self, x, name="x"):
        """``x`` as a list of checked arrays of the model's dtype, one per input.

        A model with one input takes its array as it is (a dict by name works too); with
        several, a list in the order of the inputs or a dict by input name. An input read by
        layers that make masks also takes a list of sequences of different lengths, padded at
        the end (:func:`nnscratch.sequences.pad_ragged`). A free axis of an input (None in
        ``ns.Input``) takes any size.
        """
        if len(self.inputs) == 1 and not isinstance(x, dict):
            xs = [x]
        else:
            xs = _by_name(x, self.input_names, name)
        xs = [pad_ragged(data, *padding, name=name)                 # lists of sequences
              for data, padding in zip(xs, graph.input_padding(self))]
        arrays = []
        for tensor, array, label in zip(self.inputs, xs, self.input_names):
            where = name if len(xs) == 1 else f"{name}[{label!r}]"
            array = as_numeric_array(array, where, dtype=self.dtype, min_ndim=2)
            if not fits(array.shape[1:], tensor.shape):         # None: an axis of any size
                raise ShapeError(f"this model expects {where} shaped "
                                 f"{shape_text(tensor.shape)}, got {array.shape}")
            arrays.append(array)
        for other, label in zip(arrays[1:], self.input_names[1:]):
            check_same_length(arrays[0], other, self.input_names[0], label)
        return arrays

    def prepare_targets(self, y, name="y"):
        """``y`` as one checked target array per output (see ``training.targets``)."""
        spec = self.outputs_spec
        ys = [y] if len(spec) == 1 and not isinstance(y, dict) else _by_name(y, spec.names, name)
        classes = self.class_labels if len(ys) == 1 else None      # text labels: one output
        return [prepare_target(target, loss, tensor.shape, self.dtype,
                               name if len(ys) == 1 else f"{name}[{label!r}]", classes)
                for target, loss, tensor, label in zip(ys, spec.losses, self.outputs, spec.names)]

    def prepare_input(self, x, name="x"):
        """The one input's array, checked and cast (a model with one input)."""
        return self.prepare_inputs(x, name)[0]

    def prepare_target(self, y, name="y"):
        """The one output's targets, checked and cast (a model with one output)."""
        return self.prepare_targets(y, name)[0]

    def sample_weights(self, ys, sample_weight, class_weight):
        """Weights from ``sample_weight`` times ``class_weight[label]``, or None
        (:func:`nnscratch.training.targets.sample_weights`).

        ``sample_weight`` is (N,), or (N, T) (one weight per position) when the outputs have a
        time axis (N, T, ...); with several outputs it weighs each, so it must fit each.
        ``class_weight`` reads the labels of the one output; with several it is refused.
        """
        ys = ys if isinstance(ys, list) else [ys]
        if class_weight is not None and len(ys) > 1:
            raise ConfigError("class_weight needs a model with one output; weigh the samples "
                              "with sample_weight instead")
        if sample_weight is not None:
            for y, tensor in zip(ys[1:], self.outputs[1:]):      # the same weights fit them all
                sample_weights(y, sample_weight, None, self.dtype, tensor.shape)
        return sample_weights(ys[0], sample_weight, class_weight, self.dtype,
                              self.outputs[0].shape, self.class_labels)

    # -- forward and backward ------------------------------------------------------------------
    def forward_all(self, xs, training=False):
        """Every node's output for prepared inputs ``xs``: ``{tensor id: array}``, and the
        masks some carry (under ``graph.mask_key(tensor id)``)."""
        threads.pick(self, xs)                  # BLAS threads by the size of the work
        chain = self._chain
        if chain is not None and not self._chain_masks(chain):   # a plain chain: layer after layer
            x = xs[0]
            for layer in chain:
                x = layer.forward(x, training)
            return {self.outputs[0].id: x}
        if chain is not None:                        # a chain whose layers make masks: carry them
            x, mask = xs[0], None
            for layer in chain:
                x, mask = graph.forward_with_mask(layer, x, training, mask)
            out = self.outputs[0].id
            return {out: x} if mask is None else {out: x, graph.mask_key(out): mask}
        values = {t.id: x for t, x in zip(self.inputs, xs)}
        return graph.run_forward(self.nodes, values, training, self._shared)

    def _chain_masks(self, chain):
        """Whether a layer of the chain may make a mask (worked out once per chain)."""
        known = self.__dict__.get("_chain_mask_flag")
        if known is None or known[0] is not chain:
            known = self._chain_mask_flag = (chain, may_make_masks(chain))
        return known[1]

    def backward_all(self, grads, values, fused=None):
        """Backpropagate ``{tensor id: dL/dtensor}`` (and fused ``{node: dL/dz}``) through the
        graph; returns the gradients, dL/dx among them."""
        if self._chain is not None:                  # a plain chain: delta_{l-1} = backward(delta_l)
            layers = self._chain
            if fused:
                grad = layers[-1].backward_from_z(next(iter(fused.values())))
                layers = layers[:-1]
            else:
                grad = grads[self.outputs[0].id]
            for layer in reversed(layers):
                grad = layer.backward(grad)
            return {self.inputs[0].id: grad}
        return graph.run_backward(self.nodes, grads, values, self._shared, fused)

    def forward(self, x, training=False):
        """The model's output(s) for ``x`` (an array, or a list of them for several inputs)."""
        xs = x if isinstance(x, list) and len(self.inputs) > 1 else [x]
        values = self.forward_all(xs, training)
        self._values = values                       # for a backward() that follows
        outputs = [values[t.id] for t in self.outputs]
        return outputs[0] if len(outputs) == 1 else outputs

    def backward(self, grad_output):
        """Backpropagation from ``dL/d(output)`` (a list for several outputs) through the graph.

        Fills every layer's ``grads``; returns dL/d(input) (a list for several inputs).
        """
        grads_out = grad_output if len(self.outputs) > 1 else [grad_output]
        grads = {}
        for tensor, grad in zip(self.outputs, grads_out):
            grads[tensor.id] = grads[tensor.id] + grad if tensor.id in grads else grad
        grads = self.backward_all(grads, self._values)
        grad_x = [grads.get(t.id) for t in self.inputs]
        return grad_x[0] if len(grad_x) == 1 else grad_x

    def penalty(self):
        """Sum of the layers' weight penalties (L1/L2)."""
        return sum(layer.penalty() for layer in self.layers if layer.regularizers)

    def _output_masks(self, values):
        """Each output's mask in ``values``, or None (a table of the outputs alone has none)."""
        if len(values) == len(self.outputs):
            return [None] * len(values)
        return [values.get(graph.mask_key(t.id)) for t in self.outputs]

    def _output_losses(self, values, ys, weights, with_gradient, masks=None):
        """Each output's loss; with ``with_gradient`` also ``{tensor id: dL/dy}`` and the
        ``{node: dL/dz}`` of fused outputs, each scaled by its loss weight.

        An output that carries a mask weighs its masked steps 0 (``losses.masked_weights``).
        """
        spec, losses, grads, fused = self.outputs_spec, [], {}, {}
        masks = self._output_masks(values) if masks is None else masks
        for k, tensor in enumerate(self.outputs):
            loss, logit_loss, w = spec.losses[k], self._fused[k], spec.weights[k]
            source = tensor.node.layer.last_z if logit_loss is not None else values[tensor.id]
            scorer = logit_loss if logit_loss is not None else loss
            mask = masks[k]
            weights_k = weights if mask is None else masked_weights(scorer, mask, weights)
            if not with_gradient:
                losses.append(float(scorer.value(source, ys[k], weights_k)))
                continue
            value, grad = scorer.value_and_gradient(source, ys[k], weights_k)
            losses.append(float(value))
            if w != 1.0:
                grad = grad * w
            if logit_loss is not None:
                fused[tensor.node] = grad             # dL/dz = w (p - y) / N
            elif tensor.id in grads:
                grads[tensor.id] = grads[tensor.id] + grad
            else:
                grads[tensor.id] = grad
        return losses, grads, fused

    def compute_gradients(self, x, y, sample_weight=None, training=True, return_input_grad=False):
        """One forward and backward pass on prepared data: fills the gradients, returns the loss.

        ``x`` and ``y`` are arrays (one input, one output) or lists of them. The loss includes
        the weight penalties and the gradients their derivatives. With ``return_input_grad``
        also returns dL/dx. Each output's loss is left in ``last_output_losses``, each
        output's mask (or None) in ``last_output_masks``.
        """
        xs = x if isinstance(x, list) else [x]
        ys = y if isinstance(y, list) else [y]
        values = self.forward_all(xs, training)
        self._values = values
        outputs = [values[t.id] for t in self.outputs]
        self.last_output = outputs[0] if len(outputs) == 1 else outputs
        self.last_output_masks = self._output_masks(values)
        losses, grads, fused = self._output_losses(values, ys, sample_weight, True,
                                                   self.last_output_masks)
        for layer in self._first_layers:   # nothing reads dL/dx: the first layers may skip it
            layer.input_grad_needed = return_input_grad
        try:
            grads = self.backward_all(grads, values, fused)
        finally:
            for layer in self._first_layers:
                layer.input_grad_needed = True
        self.last_output_losses = losses
        weights = self.outputs_spec.weights
        loss = (weights[0] * losses[0] if len(losses) == 1      # L = sum_k w_k L_k
                else sum(w * value for w, value in zip(weights, losses)))
        for layer in self.layers:
            if layer.regularizers:
                loss += layer.penalty()
                layer.add_penalty_gradients()
        if not return_input_grad:
            return loss
        grad_x = [grads.get(t.id) for t in self.inputs]
        return loss, grad_x[0] if len(grad_x) == 1 else grad_x

    def loss_value(self, x, y, sample_weight=None, training=False):
        """The loss (with penalties) of prepared data, without computing gradients."""
        xs, ys = (x if isinstance(x, list) else [x]), (y if isinstance(y, list) else [y])
        values = self.forward_all(xs, training)
        losses, _, _ = self._output_losses(values, ys, sample_weight, False)
        return sum(w * v for w, v in zip(self.outputs_spec.weights, losses)) + self.penalty()

    def train_step(self, x, y, sample_weight=None):
        """One gradient-descent step on a prepared batch; returns the batch loss before it."""
        dist = self.distribution          # data parallel: gradients averaged over the ranks
        loss = (self.compute_gradients(x, y, sample_weight, training=True) if dist is None
                else dist.compute_gradients(self, x, y, sample_weight))
        if not math.isfinite(loss):
            raise TrainingError(f"the training loss became {loss}; the parameters were not updated")
        packed = packed_arrays(self._packed)        # Model.packed_arrays, one call less
        # while the packing holds, the parameter list is the one made when packing
        named = self._packed[3] if packed is not None else self.named_parameters()
        self.optimizer.step(named, packed=packed, model=self)
        return loss

    # -- training and inference ----------------------------------------------------------------
    def fit(self, x, y=None, epochs=1, batch_size=None, shuffle=True, seed=None, verbose=1,
            validation_data=None, validation_split=0.0, callbacks=None, sample_weight=None,
            class_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None):
        """Train by gradient descent; returns a :class:`~nnscratch.callbacks.History`.

        The loop lives in :mod:`nnscratch.training.loop`, apart from the model; the data
        forms in :mod:`nnscratch.training.sources`.

        Parameters
        ----------
        x, y : array-like, or lists / dicts of them (several inputs or outputs)
            Inputs (N, ...) and targets (N, outputs), or integer labels (N,) for a sparse loss,
            or text labels (N,) (``class_labels``, :mod:`nnscratch.training.targets`).
            Without ``y``, ``x`` is a data source: a :class:`~nnscratch.data.Dataset` (read
            ``batch_size`` indices at a time, shuffled by index), or an iterable of batches
            ``(x, y)`` / ``(x, y, sample_weight)`` used as they come. A re-iterable (a list, an
            object whose ``__iter__`` returns a fresh iterator) is one epoch per pass; a
            generator is read on across epochs and needs ``steps_per_epoch`` for more than one.
        epochs : int
            The epoch to train up to, as in Keras: ``epochs - initial_epoch`` passes over the
            data (the article's iterations when ``batch_size=None``).
        batch_size : int or None
            Samples per gradient step; None uses the whole set at once, as in the article
            (leave it None for an iterable of batches).
        shuffle : bool
            Reshuffle the samples every epoch (mini-batches of arrays or a Dataset).
        seed : int, optional
            Seeds the shuffling for this call (otherwise the model's seed stream is used).
        verbose : 0, 1 or 2
            0 silent; 1 a progress bar on a terminal or in a notebook, quiet otherwise; 2 a
            line per epoch.
        validation_data : (x_val, y_val) or (x_val, y_val, w_val), a Dataset or an iterable
            of batches, optional; evaluated in batches after every epoch
        validation_split : float
            Fraction of the data, taken from the end before shuffling, held out for validation.
        callbacks : list of Callback
        sample_weight : array (N,) or (N, T), optional
            Weight of each sample in the loss (of every output), finite and >= 0; for outputs
            with a time axis (N, T, ...), (N, T) weighs each position (0 leaves it out, e.g.
            the prompt of a GPT). The same forms come as the third item of a data source's
            ``(x, y, sample_weight)`` batches and of ``validation_data``.
        class_weight : dict or "balanced", optional
            ``{class: weight}`` multiplying the weight of each sample of that class;
            ``"balanced"`` weighs class c by n / (classes * n_c), as scikit-learn.
        initial_epoch : int
            Epoch to start counting from (when resuming from a checkpoint of that epoch).
        steps_per_epoch, validation_steps : int, optional
            Batches per epoch taken from an iterable or generator (needed for an endless one).
        validation_batch_size : int, optional
            Batch of the validation pass (default ``batch_size``, or 32 when that is None).
        """
        self.class_labels = fit_class_labels(self, y, class_weight)      # of text labels
        with threads.restored():     # the thread policy acts inside; the caller's count after
            return fit_loop(self, x, y, epochs=epochs, batch_size=batch_size, shuffle=shuffle,
                            seed=seed, verbose=verbose, validation_data=validation_data,
                            validation_split=validation_split, callbacks=callbacks,
                            sample_weight=sample_weight, class_weight=class_weight,
                            initial_epoch=initial_epoch, steps_per_epoch=steps_per_epoch,
                            validation_steps=validation_steps,
                            validation_batch_size=validation_batch_size)

    def metric_values(self, outputs, ys, masks=None):
        """``[{metric name: value}]`` per output, from outputs and targets (lists, or arrays).

        ``masks`` (one per output, None where it has none): an output's metrics score its
        real steps only (``metric(out, y, mask=mask)``).
        """
        outputs = outputs if isinstance(outputs, list) else [outputs]
        ys = ys if isinstance(ys, list) else [ys]
        masks = masks or [None] * len(outputs)
        return [{m.name: m(out, y) if mask is None else m(out, y, mask=mask) for m in metrics}
                for metrics, out, y, mask in zip(self.outputs_spec.metrics, outputs, ys, masks)]

    def predict(self, x, batch_size=32, steps=None):
        """The model's outputs for ``x`` (inference mode: no dropout, running statistics).

        Runs ``batch_size`` samples at a time (None: 32, as Keras), so memory holds the model,
        one batch's activations and the outputs. ``x`` is arrays, a
        :class:`~nnscratch.data.Dataset`, or an iterator / iterable object (not a list) of
        batches ``x`` or ``(x, ...)``, of which ``steps`` are read when given.
        """
        with threads.restored():
            return predict_batches(self, inference_source(self, x, None, None, batch_size, steps,
                                                          with_targets=False))

    def evaluate_batch(self, xs, ys, weights=None):
        """``(losses, outputs, masks)`` of one prepared batch, each a list with one entry per
        output (a mask None where the output carries none), in inference mode."""
        values = self.forward_all(xs, training=False)
        losses, _, _ = self._output_losses(values, ys, weights, False)
        return (losses, [values[t.id] for t in self.outputs],
                [values.get(graph.mask_key(t.id)) for t in self.outputs])

    def evaluate_prepared(self, xs, ys, weights=None, batch_size=None):
        """``{"loss": ..., metrics...}`` of prepared lists of inputs and targets, in batches of
        ``batch_size`` (None: one batch)."""
        return evaluate_batches(self, ArraySource(xs, ys, weights, batch_size))

    def evaluate(self, x, y=None, sample_weight=None, batch_size=32, steps=None):
        """``{"loss": ..., "<metric>": ...}`` on the given data, in inference mode.

        Runs ``batch_size`` samples at a time (None: 32); the loss is the mean over all the
        data put together from the batches (:mod:`nnscratch.training.inference`). Without
        ``y``, ``x`` is a :class:`~nnscratch.data.Dataset` or an iterable of ``(x, y)`` /
        ``(x, y, sample_weight)`` batches, of which ``steps`` are read when given.
        """
        with threads.restored():
            return evaluate_batches(self, inference_source(self, x, y, sample_weight, batch_size,
                                                           steps, with_targets=True))

    def state_arrays(self):
        """Every parameter and buffer array, in layer order (the packed parameters as one).

        Layers change these in place, so the training loop's divergence guard snapshots them.
        """
        packed = self.packed_arrays()
        if packed is not None:
            return [packed[0]] + [value for layer in self.layers for value in layer.buffers.values()]
        return [value for layer in self.layers
                for store in (layer.params, layer.buffers) for value in store.values()]
