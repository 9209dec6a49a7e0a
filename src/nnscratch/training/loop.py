"""The fit loop, apart from the model: epochs, batches, validation, callbacks, the guard.

The model (:class:`~nnscratch.Network`) knows how to run one step on a batch
(``train_step``: forward, loss, backward, optimizer update) and how to score data
(``evaluate_prepared``). This module drives those steps over the data, as Keras keeps its
trainer apart from the model::

    for epoch in range(initial_epoch, epochs):
        for batch in source.batches(shuffle_rng):  # arrays, a Dataset or an iterable
            loss = model.train_step(batch)       # one gradient-descent step
        logs = {"loss": mean loss, metrics..., val_loss...}
        callbacks.on_epoch_end(epoch, logs)      # history, early stopping, checkpoints

The data comes as arrays, a :class:`~nnscratch.data.Dataset` or an iterable of batches
(:mod:`nnscratch.training.sources`); the validation pass goes in batches
(:mod:`nnscratch.training.inference`).

A step whose loss is not finite (or an epoch whose last update overflowed) stops training with
a :class:`~nnscratch.errors.TrainingError`, the weights put back to the last finite ones
(:mod:`nnscratch.training.divergence`).
"""

import numpy as np

from .. import checks
from ..callbacks import Callback, CallbackList, History
from ..callbacks.progress import progress_display
from ..data import is_dataset
from ..errors import ConfigError, DataError, TrainingError
from .divergence import all_finite, diverged, snapshot
from .inference import evaluate_batches, joined, joined_masks
from .sources import DEFAULT_BATCH_SIZE, ArraySource, data_source, is_source, prepare_arrays


def fit(model, x, y=None, epochs=1, batch_size=None, shuffle=True, seed=None, verbose=1,
        validation_data=None, validation_split=0.0, callbacks=None, sample_weight=None,
        class_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
        validation_batch_size=None):
    """Train ``model`` by gradient descent; returns a :class:`~nnscratch.callbacks.History`.

    The arguments are those of :meth:`nnscratch.Model.fit`, which documents them.
    """
    epochs = checks.positive_int(epochs, "epochs")
    if not checks.is_whole(initial_epoch) or not 0 <= initial_epoch < epochs:
        raise ConfigError(f"initial_epoch must be an integer in [0, epochs={epochs}), got "
                          f"{initial_epoch!r} (epochs is the epoch to train up to, as in Keras)")
    batch_size = checks.optional_positive_int(batch_size, "batch_size")
    shuffle = checks.boolean(shuffle, "shuffle")
    seed = checks.seed(seed)
    verbose = checks.integer(verbose, "verbose", low=0, high=2)
    validation_split = checks.number(validation_split, "validation_split", low=0.0, high=1.0,
                                     high_open=True)
    steps_per_epoch = checks.optional_positive_int(steps_per_epoch, "steps_per_epoch")
    validation_steps = checks.optional_positive_int(validation_steps, "validation_steps")
    validation_batch_size = checks.optional_positive_int(validation_batch_size,
                                                         "validation_batch_size")
    passes = epochs - initial_epoch
    if y is None and is_source(x):
        if sample_weight is not None or validation_split:
            raise ConfigError("sample_weight and validation_split go with arrays; a data source "
                              "gives each batch's weights as (x, y, sample_weight), and "
                              "validation data as validation_data")
        if not is_dataset(x) and batch_size is not None:
            raise ConfigError(f"batch_size={batch_size} cannot cut an iterable of batches: its "
                              "batches are used as they come (leave batch_size None)")
        source = data_source(model, x, batch_size, steps_per_epoch, shuffle, True, class_weight)
        _check_passes(source, passes, "steps_per_epoch", "x")
        val = None
    else:
        if y is None:
            raise ConfigError("fit needs the targets y with arrays x (or x as a Dataset or an "
                              "iterable of (x, y) batches)")
        if is_source(x):
            raise ConfigError("a Dataset or an iterable of batches as x gives the targets "
                              "itself: leave y None")
        if steps_per_epoch is not None:
            raise ConfigError("steps_per_epoch counts batches of an iterable or generator; with "
                              "arrays set batch_size instead")
        source, val = _arrays(model, x, y, sample_weight, class_weight, batch_size, shuffle,
                              validation_split)
    if validation_data is not None:
        val = validation_source(model, validation_data, validation_batch_size or batch_size,
                                validation_steps, passes)
    elif val is not None:
        val = ArraySource(*val, validation_batch_size or batch_size or DEFAULT_BATCH_SIZE)

    if seed is not None:
        model.shuffle_rng = np.random.default_rng(seed)
    dist = model.distribution   # data parallel (nnscratch.distributed): each rank its shard
    if dist is not None:
        source, val = dist.start_fit(model, source, val)
    history = History()
    # the user's callbacks first, so History and the progress display see what they log
    if isinstance(callbacks, Callback):
        callbacks = [callbacks]
    cb_list = list(callbacks or []) + [history]
    progress = progress_display(verbose, epochs, source.steps)
    if progress is not None:
        cb_list.append(progress)
    if dist is not None:
        cb_list = dist.callbacks(cb_list)           # files and printing: rank 0 only
    cbs = CallbackList(cb_list, model)
    model.history = history
    model.stop_training = False

    cbs.on_train_begin({})
    # A diverging run overflows before its loss turns inf; the loss check reports it, so
    # NumPy's overflow warnings are silenced here instead of escaping to the user.
    with np.errstate(over="ignore", invalid="ignore"):
        train_epochs(model, source, val, initial_epoch, epochs, cbs,
                     watched=bool(callbacks) or val is not None)
    cbs.on_train_end({})
    return history


def _arrays(model, x, y, sample_weight, class_weight, batch_size, shuffle, validation_split):
    """``(source, (x_val, y_val, w_val) or None)`` of arrays, the split taken off the end."""
    x, y, weights = prepare_arrays(model, x, y, sample_weight, class_weight)
    n = len(x[0])
    if n == 0:
        raise DataError("fit needs at least one sample, got an empty x")
    val = None
    if validation_split > 0:
        n_val = round(n * validation_split)
        if n_val == 0 or n_val == n:
            raise DataError(f"validation_split={validation_split} of {n} samples leaves "
                            "no training or no validation sample")
        cut = n - n_val
        val = ([a[cut:] for a in x], [a[cut:] for a in y],
               None if weights is None else weights[cut:])
        x, y = [a[:cut] for a in x], [a[:cut] for a in y]
        weights = None if weights is None else weights[:cut]
    return ArraySource(x, y, weights, batch_size, shuffle), val


def validation_source(model, validation_data, batch_size, steps, passes):
    """The source of ``validation_data``: a tuple ``(x_val, y_val)`` or
    ``(x_val, y_val, w_val)`` of arrays, a Dataset, or an iterable of batches."""
    batch_size = batch_size or DEFAULT_BATCH_SIZE
    if isinstance(validation_data, tuple) or (
            isinstance(validation_data, list) and not is_source(validation_data)):
        if len(validation_data) not in (2, 3):
            raise ConfigError("validation_data must be a tuple (x_val, y_val) or "
                              "(x_val, y_val, sample_weight) of arrays, a Dataset or an "
                              f"iterable of batches, got a {type(validation_data).__name__} "
                              f"of {len(validation_data)}")
        if steps is not None:
            raise ConfigError("validation_steps counts batches of an iterable or generator; "
                              "with arrays set validation_batch_size instead")
        weights = validation_data[2] if len(validation_data) == 3 else None
        return ArraySource(*prepare_arrays(model, *validation_data[:2], weights,
                                           names=("x_val", "y_val")), batch_size)
    if not is_source(validation_data):
        raise ConfigError("validation_data must be a tuple (x_val, y_val) or "
                          "(x_val, y_val, sample_weight) of arrays, a Dataset or an iterable "
                          f"of batches, got {type(validation_data).__name__}")
    source = data_source(model, validation_data, batch_size, steps, what="validation_data")
    _check_passes(source, passes, "validation_steps", "validation_data")
    return source


def _check_passes(source, passes, steps_name, what):
    """ConfigError when a one-shot iterator without a step count must serve several passes."""
    if getattr(source, "one_shot", False) and source.limit is None and passes > 1:
        raise ConfigError(f"{what} is an iterator (a generator), used up by one pass, and "
                          f"{passes} epochs are asked for: give {steps_name} (batches per "
                          "epoch, read on from the same iterator), or a re-iterable such as a "
                          "list or an object whose __iter__ returns a fresh iterator")


def train_epochs(model, source, val, initial_epoch, epochs, cbs, watched=True):
    """The epoch and batch loops of :func:`fit`: each epoch one pass over ``source`` (see
    :mod:`nnscratch.training.sources`), then the validation pass over ``val`` (or None).

    ``watched``: something looks at the weights at the end of each epoch (the user's
    callbacks, a validation pass), so they are checked finite after every epoch. Otherwise
    only after the last one: a non-finite weight shows in the next batch's loss anyway.
    """
    n_outputs = len(model.outputs_spec)
    several = n_outputs > 1
    epoch_begin = cbs.listened("on_epoch_begin")
    batch_begin, batch_end = cbs.listened("on_batch_begin"), cbs.listened("on_batch_end")
    collect_outputs = any(model.outputs_spec.metrics)
    # The weights and buffers before each of the last two batches: when a loss turns out
    # non-finite, those before the previous batch (whose loss was finite) are put back.
    # Taken at the first batch, which builds a network that learns its input shape from data.
    arrays, saved, step = None, None, 0

    def failure(epoch, batch_index, after_update=False):
        return diverged(model.state_arrays(), saved, step,
                        f"epoch {epoch + 1}, batch {batch_index + 1}",
                        model.optimizer.current_learning_rate(), after_update)

    # logs of the loss alone (one output, no metric): built here, without the general method
    plain_logs = not several and not collect_outputs
    epoch_end = cbs.on_epoch_end
    train_step = model.train_step
    for epoch in range(initial_epoch, epochs):
        if epoch_begin:
            cbs.on_epoch_begin(epoch, {})
        total_loss, seen, outputs, targets, masks = 0.0, 0, [], [], []
        output_losses = [0.0] * n_outputs
        batch_index = -1
        for batch_index, (xb, yb, wb) in enumerate(source.batches(model.shuffle_rng)):
            if arrays is None:
                arrays = model.state_arrays()  # layers change parameters and buffers in place
                saved = [snapshot(arrays), snapshot(arrays)]
            rows = len(xb[0])
            if batch_begin:
                cbs.on_batch_begin(batch_index, {"size": rows})
            for target, value in zip(saved[step & 1], arrays):     # the weights before it
                target[...] = value                # np.copyto's copy, without its dispatch
            try:
                loss = train_step(xb, yb, wb)
            except TrainingError:
                raise failure(epoch, batch_index) from None
            step += 1
            total_loss += loss * rows
            seen += rows
            if several:
                for k, value in enumerate(model.last_output_losses):
                    output_losses[k] += value * rows
            if collect_outputs and rows:
                last = model.last_output
                outputs.append([a.copy() for a in last] if isinstance(last, list) else [last.copy()])
                targets.append(yb)
                masks.append(getattr(model, "last_output_masks", None) or [None] * len(yb))
            if batch_end:
                cbs.on_batch_end(batch_index, {"size": rows, "loss": loss})
        if batch_index < 0:
            raise DataError(f"epoch {epoch + 1} got no batch from the data: an iterator that "
                            "ran out, or an empty iterable")
        if model.distribution is not None:      # data parallel: the sums of all the ranks
            total_loss, seen, output_losses, outputs, targets, masks = \
                model.distribution.end_epoch(model, total_loss, seen, output_losses, outputs,
                                             targets, masks)
        if (watched or epoch + 1 == epochs) and not all_finite(arrays):
            raise failure(epoch, batch_index, after_update=True)   # the last update overflowed
        if plain_logs:
            logs = {"loss": total_loss / seen}
        else:
            metric_values = [{} for _ in range(n_outputs)]
            if collect_outputs:
                metric_values = model.metric_values(joined(outputs), joined(targets),
                                                    joined_masks(masks))
            logs = model.outputs_spec.logs(total_loss / seen, [v / seen for v in output_losses],
                                           metric_values)
        if val is not None:
            val_logs = evaluate_batches(model, val)
            logs.update({f"val_{k}": v for k, v in val_logs.items()})
        model.epochs_trained = epoch + 1
        epoch_end(epoch, logs)
        if model.stop_training:
            break
