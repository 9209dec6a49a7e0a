"""Each rank's share of the data: sharded sources for ``fit`` under data parallelism.

The sources of :mod:`nnscratch.training.sources` become sharded ones; each yields the same
prepared batches ``(xs, ys, weights)``, only this rank's part of them.

**Training, arrays and Datasets.** ``batch_size`` is per rank, as in Horovod: a step takes a
*global batch* of ``batch_size x size`` samples. Every rank draws the same order of the samples
for the epoch (``rng.permutation(n)`` from the shuffling generator that rank 0 broadcast, the very
draw one process makes), cuts it into global batches, and takes the ``rank``-th of ``size``
near-equal pieces of each. The last global batch of an epoch holds what is left, ``m`` samples;
its pieces differ by at most one sample (``m = 130`` on 4 ranks: 33, 33, 32, 32). Since the
gradients are averaged weighted by each piece's rows (:mod:`nnscratch.distributed.strategy`),
every step is the step one process takes on the whole global batch: ``size`` ranks with batch
``b`` train as one process with batch ``b x size``, remainder included. When ``m < size`` some
ranks get no sample in that step: they compute nothing and weigh 0 (they still take part in the
step's Allreduce). A Dataset is read by index, so each rank reads only its own samples.

**Training, iterables.** An iterable of batches is read by every rank, in full and in the same
order, so it must give the same batches on every rank (a list, a generator seeded alike, a
reader of one shared file). Each global step is ``size`` consecutive batches; rank ``r``
prepares the ``r``-th and skips the others (reading them is cheap next to a step). An
incomplete last group leaves some ranks without a batch (weight 0, as above).
``steps_per_epoch`` counts global steps (``size`` batches each).

**Evaluation** (the validation pass): rank ``r`` takes the ``r``-th contiguous block of the
samples (of an iterable: batches ``r, r + size, ...``) and the results of all ranks are added up
(:meth:`DataParallel.combine_evaluation`).
"""

import itertools

import numpy as np

from ..data import batch_slices
from ..errors import DataError
from ..training.sources import ArraySource, DatasetSource, IterableSource


def piece(count, parts, index):
    """The ``index``-th of ``parts`` near-equal pieces of ``range(count)``, as a slice.

    The first ``count % parts`` pieces hold one more:
    :math:`\\text{start}_r = r \\lfloor m/p \\rfloor + \\min(r, m \\bmod p)`.
    """
    base, extra = divmod(count, parts)
    start = index * base + min(index, extra)
    return slice(start, start + base + (index < extra))


def synchronized(model):
    """Whether the model holds layers that communicate in their forward pass (SyncBN)."""
    return any(getattr(layer, "synchronized", False) for layer in model.layers)


class _Shards:
    """What every sharded source holds: the model, this rank and the number of ranks."""

    def __init__(self, model, rank, size):
        self.model, self.rank, self.size = model, rank, size
        self.synchronized = synchronized(model)

    def empty(self):
        """A batch of no rows: this rank computes nothing in the step and weighs 0."""
        return [np.zeros((0,))] * len(self.model.inputs), None, None

    def check_full(self, filled, where):
        """DataError on every rank when a step leaves a rank without rows while layers need
        every rank in their forward pass."""
        if self.synchronized and filled < self.size:
            raise DataError(
                f"{where} has data for {filled} of the {self.size} ranks, and "
                "SyncBatchNormalization needs every rank in every step; choose a batch size "
                "or a number of samples that leaves at least one sample per rank in the last "
                "batch of an epoch")


class ShardedIndexSource(_Shards):
    """Arrays (an :class:`ArraySource`) or a Dataset, sharded by index (see the module
    docstring). ``training``: global batches cut into pieces; else one block per rank."""

    def __init__(self, model, source, rank, size, training):
        super().__init__(model, rank, size)
        self.source, self.training = source, training
        n = source.samples
        per_rank = source.slices[0].stop - source.slices[0].start     # the batch size asked
        if training:
            if n < size:
                raise DataError(f"fit on {size} ranks needs at least {size} samples, got {n}")
            self.slices = batch_slices(n, per_rank * size)             # the global batches
            self.shuffle = source.shuffle and len(self.slices) > 1
            self.samples = None
        else:
            block = piece(n, size, rank)
            self.slices = [slice(block.start + s.start, block.start + s.stop)
                           for s in batch_slices(block.stop - block.start, per_rank)
                           if s.stop > s.start]
            self.shuffle = False
            self.samples = block.stop - block.start
        self.steps = len(self.slices)

    def batches(self, rng=None):
        """This rank's part of one pass (an empty batch where its piece of a step is empty)."""
        order = rng.permutation(self.source.samples) if self.shuffle else None
        for k, whole in enumerate(self.slices):
            if self.training:
                count = whole.stop - whole.start
                self.check_full(min(count, self.size), f"step {k + 1} of the epoch")
                part = piece(count, self.size, self.rank)
                part = slice(whole.start + part.start, whole.start + part.stop)
            else:
                part = whole
            if part.stop == part.start:
                yield self.empty()
            else:
                yield self.source.read(part if order is None else order[part], k)


class ShardedIterableSource(_Shards):
    """An iterable of batches shared out batch by batch (see the module docstring)."""

    def __init__(self, model, source, rank, size, training):
        super().__init__(model, rank, size)
        self.source, self.training = source, training
        self.one_shot, self.limit = source.one_shot, source.limit
        known = None if source.one_shot else getattr(source.data, "__len__", None)
        total = None if self.limit is None else self.limit * (size if training else 1)
        if known is not None:
            total = len(source.data) if total is None else min(total, len(source.data))
        self.total = total
        self.steps = None if total is None else -(-total // size) if training else total
        self.samples = None

    def batches(self, rng=None):
        """This rank's batches of one pass."""
        source = self.source
        items = source.data if source.one_shot else iter(source.data)
        if self.total is not None:
            items = itertools.islice(items, self.total)
        groups = iter(lambda: list(itertools.islice(items, self.size)), [])
        for k, group in enumerate(groups):
            if self.training:
                self.check_full(len(group), f"step {k + 1} of the epoch")
            if self.rank < len(group):
                yield source.read(group[self.rank], k * self.size + self.rank)
            elif self.training:
                yield self.empty()


def shard(model, source, rank, size, training):
    """This rank's share of ``source`` (an Array-, Dataset- or IterableSource), or None."""
    if source is None:
        return None
    if isinstance(source, (ArraySource, DatasetSource)):
        return ShardedIndexSource(model, source, rank, size, training)
    if isinstance(source, IterableSource):
        return ShardedIterableSource(model, source, rank, size, training)
    raise DataError(f"cannot shard a {type(source).__name__} over ranks")
