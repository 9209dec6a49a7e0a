"""Where the batches of ``fit``, ``evaluate`` and ``predict`` come from.

The data comes in one of three forms, and each becomes a *source*: an object with ``steps``
(batches per pass, None when unknown), ``samples`` (None when unknown) and
``batches(rng)``, which yields one pass of prepared batches ``(xs, ys, weights)``: ``xs`` a
list of arrays, one per model input, checked and cast; ``ys`` one per output (None when
predicting); ``weights`` one per sample, or None.

- **Arrays** (``y`` given): prepared once, then cut into ``batch_size`` rows
  (:class:`ArraySource`). When shuffling, each pass draws ``rng.permutation(n)``.
- **A Dataset** (:mod:`nnscratch.data.dataset`: ``len`` and ``batch(indices)``): read
  ``batch_size`` indices at a time, shuffled by the very same draw, each batch prepared as it
  comes (:class:`DatasetSource`). A data set over arrays therefore trains bit-identically to
  the arrays.
- **An iterable of batches** ``(x, y)`` or ``(x, y, sample_weight)`` (a bare ``x`` or ``(x,)``
  when predicting), used in its own order and batch sizes (:class:`IterableSource`):

  - a *re-iterable* (a list, or an object whose ``__iter__`` returns a fresh iterator each
    time) is read from the start on every pass: one pass is one epoch, or its first
    ``steps_per_epoch`` batches;
  - a *one-shot iterator* (a generator: ``iter(g) is g``) is read on from where the last pass
    stopped, ``steps_per_epoch`` batches each epoch (an endless generator needs it). Without
    ``steps_per_epoch`` it is used up by one epoch, so only one epoch may be trained on it.

  Callables are not taken: wrap a generator function in a class whose ``__iter__`` calls it.

``x`` is read as a data source when ``y`` is None (``fit``, ``evaluate``); ``predict`` reads
it as one when it is a Dataset, an iterator, or an iterable that is not a list, tuple, dict or
array (a list of arrays is the inputs of a model with several).
"""

import itertools

import numpy as np

from .. import checks
from ..data import batch_slices, check_same_length, is_dataset
from ..errors import ConfigError, DataError, DataTypeError

#: batch size of predict, evaluate and the validation pass when none is given (as in Keras)
DEFAULT_BATCH_SIZE = 32


def is_batches(data):
    """Whether ``data`` is an iterable of batches rather than arrays.

    An iterator, or an iterable object that is not an array, a dict or a string, is; so is a
    list or tuple all of whose items are tuples (``[(x0, y0), (x1, y1)]``). A list of arrays
    or numbers is data for a model's inputs.
    """
    if isinstance(data, (np.ndarray, dict, str, bytes)) or not hasattr(data, "__iter__"):
        return False
    if isinstance(data, (list, tuple)):
        return bool(data) and all(isinstance(item, tuple) for item in data)
    return True


def is_source(data):
    """Whether ``data`` is a Dataset or an iterable of batches (not arrays)."""
    return is_dataset(data) or is_batches(data)


class ArraySource:
    """Prepared arrays (lists, one per input / output) cut into batches of ``batch_size``."""

    def __init__(self, xs, ys, weights, batch_size, shuffle=False):
        self.xs, self.ys, self.weights = xs, ys, weights
        self.samples = len(xs[0])
        self.slices = batch_slices(self.samples, batch_size)
        self.steps = len(self.slices)
        self.shuffle = shuffle and self.steps > 1

    def batches(self, rng=None):
        """One pass: the batches in order, or in the order of ``rng.permutation(n)``."""
        if self.steps == 1:                  # one batch of everything, in order: no copy
            return [(self.xs, self.ys, self.weights)]
        return self._cut(rng)

    def _cut(self, rng):
        """The batches of :meth:`batches` when there are several, made one by one."""
        order = rng.permutation(self.samples) if self.shuffle else None
        for piece in self.slices:
            yield self.read(piece if order is None else order[piece])

    def read(self, index, k=None):
        """The batch of the samples ``index`` (a slice or an index array); ``k`` is unused
        (the batch's number, as :meth:`DatasetSource.read` takes it)."""
        return ([a[index] for a in self.xs],
                None if self.ys is None else [a[index] for a in self.ys],
                None if self.weights is None else self.weights[index])


class DatasetSource:
    """A Dataset read ``batch_size`` indices at a time, shuffled by index when asked."""

    def __init__(self, model, dataset, batch_size, shuffle, with_targets, class_weight=None):
        self.model, self.dataset = model, dataset
        self.with_targets, self.class_weight = with_targets, class_weight
        self.samples = len(dataset)
        if self.samples == 0:
            raise DataError("the data set is empty (len 0); it needs at least one sample")
        self.slices = batch_slices(self.samples, batch_size)
        self.steps = len(self.slices)
        self.shuffle = shuffle and self.steps > 1

    def batches(self, rng=None):
        """One pass over the data set, each batch read by its indices and prepared."""
        order = rng.permutation(self.samples) if self.shuffle else None
        for k, piece in enumerate(self.slices):
            yield self.read(piece if order is None else order[piece], k)

    def read(self, index, k):
        """Batch ``k`` (counted from 0): the samples ``index`` (a slice or an index array)
        read from the data set and prepared."""
        if isinstance(index, slice):
            index = np.arange(index.start, index.stop)
        return prepare_batch(self.model, self.dataset.batch(index), self.with_targets,
                             self.class_weight, f"batch {k + 1} of the data set")


class IterableSource:
    """Batches as an iterable makes them (see the module docstring for re-iterables and
    one-shot iterators)."""

    def __init__(self, model, data, steps, with_targets, class_weight=None):
        self.model, self.data = model, data
        self.with_targets, self.class_weight = with_targets, class_weight
        self.one_shot = iter(data) is data
        if steps is None and not self.one_shot and hasattr(data, "__len__"):
            steps = len(data)
        self.steps, self.limit = steps, steps
        self.samples = None

    def batches(self, rng=None):
        """One pass: a fresh iterator (re-iterable) or the iterator read on (one-shot)."""
        items = self.data if self.one_shot else iter(self.data)
        if self.limit is not None:
            items = itertools.islice(items, self.limit)      # takes no item beyond the last
        for k, item in enumerate(items):
            yield self.read(item, k)

    def read(self, item, k):
        """Batch ``k`` (counted from 0) of the iterable, ``item``, prepared."""
        return prepare_batch(self.model, item, self.with_targets, self.class_weight,
                             f"batch {k + 1} of the iterable")


def prepare_batch(model, item, with_targets, class_weight, where):
    """``(xs, ys, weights)`` of one batch ``item`` from a data source, checked and cast."""
    if isinstance(item, tuple) and 1 <= len(item) <= 3:
        x, y, weights = item + (None,) * (3 - len(item))
    elif isinstance(item, tuple) or with_targets:
        raise DataTypeError(f"{where} must be a tuple (x, y) or (x, y, sample_weight), got "
                            + (f"a tuple of {len(item)}" if isinstance(item, tuple)
                               else f"a {type(item).__name__}"))
    else:
        x, y, weights = item, None, None
    xs = model.prepare_inputs(x, f"x of {where}")
    if not with_targets:
        return xs, None, None
    if y is None:
        raise DataError(f"{where} has no targets: it must be (x, y) or (x, y, sample_weight)")
    ys = model.prepare_targets(y, f"y of {where}")
    for target in ys:
        check_same_length(xs[0], target, f"x of {where}", f"y of {where}")
    if weights is not None or class_weight is not None:
        weights = model.sample_weights(ys, weights, class_weight)
    return xs, ys, weights


def prepare_arrays(model, x, y, sample_weight=None, class_weight=None, names=("x", "y")):
    """``(xs, ys, weights)``: arrays ``x`` and ``y`` checked and cast, one per input / output,
    of equal length, and the per-sample weights (None); ``y`` None gives ``ys`` None."""
    xs = model.prepare_inputs(x, names[0])
    if y is None:
        return xs, None, None
    ys = model.prepare_targets(y, names[1])
    for target in ys:
        check_same_length(xs[0], target, *names)
    return xs, ys, model.sample_weights(ys, sample_weight, class_weight)


def data_source(model, data, batch_size, steps, shuffle=False, with_targets=True,
                class_weight=None, what="x"):
    """A :class:`DatasetSource` or :class:`IterableSource` for ``data``."""
    if is_dataset(data):
        if steps is not None:
            raise ConfigError(f"steps count batches of an iterable; a Dataset as {what} is read "
                              "in full each pass (set batch_size instead)")
        return DatasetSource(model, data, batch_size, shuffle, with_targets, class_weight)
    if not is_batches(data):
        raise DataTypeError(f"{what} must be arrays with y given, a Dataset, or an iterable of "
                            f"(x, y) batches, got {type(data).__name__}")
    return IterableSource(model, data, steps, with_targets, class_weight)


def inference_source(model, x, y, sample_weight, batch_size, steps, with_targets):
    """The source of ``predict`` (``with_targets=False``) or ``evaluate``."""
    batch_size = (DEFAULT_BATCH_SIZE if batch_size is None
                  else checks.positive_int(batch_size, "batch_size"))
    steps = checks.optional_positive_int(steps, "steps")
    source_given = (y is None and is_source(x)) if with_targets else (
        is_dataset(x) or (is_batches(x) and not isinstance(x, (list, tuple))))
    if source_given:
        if sample_weight is not None:
            raise ConfigError("sample_weight goes with arrays; a data source gives each "
                              "batch's weights as (x, y, sample_weight)")
        return data_source(model, x, batch_size, steps, with_targets=with_targets)
    if steps is not None:
        raise ConfigError("steps counts batches of an iterable or generator; with arrays "
                          "set batch_size instead")
    if with_targets and y is None:
        raise ConfigError("evaluate needs the targets y with arrays x (or x as a Dataset or "
                          "an iterable of (x, y) batches)")
    if with_targets and is_source(x):
        raise ConfigError("a Dataset or an iterable of batches as x gives the targets itself: "
                          "leave y None")
    return ArraySource(*prepare_arrays(model, x, y if with_targets else None, sample_weight),
                       batch_size)

