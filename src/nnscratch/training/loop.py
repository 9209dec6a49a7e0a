"""The fit loop, apart from the model: epochs, batches, validation, callbacks, the guard.

The model (:class:`~nnscratch.Network`) knows how to run one step on a batch
(``train_step``: forward, loss, backward, optimizer update) and how to score data
(``evaluate_prepared``). This module drives those steps over the data, as Keras keeps its
trainer apart from the model::

    for epoch in range(initial_epoch, epochs):
        for batch in batches(x, y, shuffled):
            loss = model.train_step(batch)       # one gradient-descent step
        logs = {"loss": mean loss, metrics..., val_loss...}
        callbacks.on_epoch_end(epoch, logs)      # history, early stopping, checkpoints

A step whose loss is not finite (or an epoch whose last update overflowed) stops training with
a :class:`~nnscratch.errors.TrainingError`, the weights put back to the last finite ones
(:mod:`nnscratch.training.divergence`).
"""

import sys

import numpy as np

from .. import checks
from ..callbacks import Callback, CallbackList, EpochLogger, History, ProgressBar
from ..data import batch_slices, check_same_length
from ..errors import ConfigError, DataError, TrainingError
from .divergence import all_finite, diverged, snapshot


def fit(model, x, y, epochs=1, batch_size=None, shuffle=True, seed=None, verbose=1,
        validation_data=None, validation_split=0.0, callbacks=None, sample_weight=None,
        class_weight=None, initial_epoch=0):
    """Train ``model`` by gradient descent; returns a :class:`~nnscratch.callbacks.History`.

    The arguments are those of :meth:`nnscratch.Network.fit`, which documents them.
    """
    epochs = checks.positive_int(epochs, "epochs")
    if not checks.is_whole(initial_epoch) or not 0 <= initial_epoch < epochs:
        raise ConfigError(f"initial_epoch must be an integer in [0, epochs={epochs}), got "
                          f"{initial_epoch!r} (epochs is the epoch to train up to, as in Keras)")
    batch_size = checks.optional_positive_int(batch_size, "batch_size")
    shuffle = checks.boolean(shuffle, "shuffle")
    seed = checks.seed(seed)
    if verbose not in (0, 1, 2) or not isinstance(verbose, (int, np.integer)):
        raise ConfigError(f"verbose must be 0, 1 or 2, got {verbose!r}")
    validation_split = checks.number(validation_split, "validation_split", low=0.0, high=1.0,
                                     high_open=True)
    x = model.prepare_inputs(x)                # one array per model input
    y = model.prepare_targets(y)               # one array per model output
    for target in y:
        check_same_length(x[0], target)
    n = len(x[0])
    if n == 0:
        raise DataError("fit needs at least one sample, got an empty x")
    weights = model.sample_weights(y, sample_weight, class_weight)

    val = None
    if validation_data is not None:
        val = prepare_validation(model, validation_data)
    elif validation_split > 0:
        n_val = round(n * validation_split)
        if n_val == 0 or n_val == n:
            raise DataError(f"validation_split={validation_split} of {n} samples leaves "
                            "no training or no validation sample")
        cut = n - n_val
        val = ([a[cut:] for a in x], [a[cut:] for a in y],
               None if weights is None else weights[cut:])
        x, y = [a[:cut] for a in x], [a[:cut] for a in y]
        weights = None if weights is None else weights[:cut]
        n = cut

    if seed is not None:
        model.shuffle_rng = np.random.default_rng(seed)
    history = History()
    # the user's callbacks first, so History and the progress display see what they log
    if isinstance(callbacks, Callback):
        callbacks = [callbacks]
    cb_list = list(callbacks or []) + [history]
    progress = progress_callback(epochs, verbose, n, batch_size) if verbose else None
    if progress is not None:
        cb_list.append(progress)
    cbs = CallbackList(cb_list, model)
    model.history = history
    model.stop_training = False

    slices = batch_slices(n, batch_size)
    cbs.on_train_begin({})
    # A diverging run overflows before its loss turns inf; the loss check reports it, so
    # NumPy's overflow warnings are silenced here instead of escaping to the user.
    with np.errstate(over="ignore", invalid="ignore"):
        train_epochs(model, x, y, weights, val, slices, shuffle, initial_epoch, epochs, cbs,
                     watched=bool(callbacks) or val is not None)
    cbs.on_train_end({})
    return history


def train_epochs(model, x, y, weights, val, slices, shuffle, initial_epoch, epochs, cbs,
                 watched=True):
    """The epoch and batch loops of :func:`fit` on prepared data (lists of arrays, one per
    input and one per output).

    ``watched``: something looks at the weights at the end of each epoch (the user's
    callbacks, a validation pass), so they are checked finite after every epoch. Otherwise
    only after the last one: a non-finite weight shows in the next batch's loss anyway.
    """
    n = len(x[0])
    use_permutation = shuffle and len(slices) > 1
    whole = len(slices) == 1 and slices[0] == slice(0, n)
    several = len(model.outputs_spec) > 1
    if len(x) == 1 and len(y) == 1:            # one input, one output: arrays, not lists
        x, y = x[0], y[0]
    epoch_begin = cbs.listened("on_epoch_begin")
    batch_begin, batch_end = cbs.listened("on_batch_begin"), cbs.listened("on_batch_end")
    collect_outputs = any(model.outputs_spec.metrics)
    # The weights and buffers before each of the last two batches: when a loss turns out
    # non-finite, those before the previous batch (whose loss was finite) are put back.
    arrays = model.state_arrays()        # layers change parameters and buffers in place
    saved, step = [snapshot(arrays), snapshot(arrays)], 0

    def failure(epoch, batch_index, after_update=False):
        return diverged(model.state_arrays(), saved, step,
                        f"epoch {epoch + 1}, batch {batch_index + 1}",
                        model.optimizer.current_learning_rate(), after_update)

    for epoch in range(initial_epoch, epochs):
        if epoch_begin:
            cbs.on_epoch_begin(epoch, {})
        order = model.shuffle_rng.permutation(n) if use_permutation else None
        total_loss, outputs, targets = 0.0, [], []
        output_losses = [0.0] * len(model.outputs_spec)
        for batch_index, piece in enumerate(slices):
            index = piece if order is None else order[piece]
            if whole:                        # one batch of everything, in order: no slicing
                xb, yb, wb = x, y, weights
            elif isinstance(x, list) or isinstance(y, list):
                xb = [a[index] for a in x] if isinstance(x, list) else x[index]
                yb = [a[index] for a in y] if isinstance(y, list) else y[index]
                wb = None if weights is None else weights[index]
            else:
                xb, yb = x[index], y[index]
                wb = None if weights is None else weights[index]
            rows = len(xb[0]) if isinstance(xb, list) else len(xb)
            if batch_begin:
                cbs.on_batch_begin(batch_index, {"size": rows})
            for target, value in zip(saved[step % 2], arrays):     # the weights before it
                np.copyto(target, value)
            try:
                loss = model.train_step(xb, yb, wb)
            except TrainingError:
                raise failure(epoch, batch_index) from None
            step += 1
            total_loss += loss * rows
            if several:
                for k, value in enumerate(model.last_output_losses):
                    output_losses[k] += value * rows
            if collect_outputs:
                last = model.last_output
                outputs.append([a.copy() for a in last] if isinstance(last, list) else last.copy())
                targets.append(yb)
            if batch_end:
                cbs.on_batch_end(batch_index, {"size": rows, "loss": loss})
        if (watched or epoch + 1 == epochs) and not all_finite(arrays):
            raise failure(epoch, len(slices) - 1, after_update=True)   # the last update overflowed
        metric_values = [{} for _ in output_losses]
        if collect_outputs:
            metric_values = model.metric_values(_joined(outputs), _joined(targets))
        logs = model.outputs_spec.logs(total_loss / n, [v / n for v in output_losses],
                                       metric_values)
        if val is not None:
            val_logs = model.evaluate_prepared(*val)
            logs.update({f"val_{k}": v for k, v in val_logs.items()})
        model.epochs_trained = epoch + 1
        cbs.on_epoch_end(epoch, logs)
        if model.stop_training:
            break


def _joined(batches):
    """The batches' arrays joined along the samples (per output where they are lists)."""
    if isinstance(batches[0], list):
        return [np.concatenate([b[k] for b in batches]) for k in range(len(batches[0]))]
    return np.concatenate(batches)


def progress_callback(epochs, verbose, n_samples, batch_size):
    """verbose=1: a progress bar on a terminal, nothing otherwise; verbose=2: a line per epoch."""
    if verbose == 2:
        return EpochLogger(epochs)
    if sys.stdout.isatty():
        return ProgressBar(epochs=epochs, steps=len(batch_slices(n_samples, batch_size)))
    return None


def prepare_validation(model, validation_data):
    """``(x_val, y_val, w_val)`` checked and cast for ``model`` from ``validation_data``."""
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ConfigError("validation_data must be a tuple (x_val, y_val) or "
                          f"(x_val, y_val, sample_weight), got {type(validation_data).__name__}")
    xv = model.prepare_inputs(validation_data[0], "x_val")
    yv = model.prepare_targets(validation_data[1], "y_val")
    for target in yv:
        check_same_length(xv[0], target, "x_val", "y_val")
    wv = None
    if len(validation_data) == 3 and validation_data[2] is not None:
        wv = model.sample_weights(yv, validation_data[2], None)
    return xv, yv, wv
