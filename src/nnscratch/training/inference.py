"""Prediction and evaluation in batches: memory for one batch, whatever the size of the data.

``predict`` and ``evaluate`` (and ``fit``'s validation pass) run the model on one batch of a
source (:mod:`nnscratch.training.sources`) at a time, so their peak memory is the model, one
batch's activations and the outputs. The outputs are written into arrays allocated once when
the number of samples is known, else joined at the end.

A loss of "mean" reduction is the mean over the whole data, put together from the batches:
with :math:`L_b` the loss of batch :math:`b` over :math:`D_b` samples (its rows, or its real
positions when the output carries a mask),

.. math::

    L = \\frac{\\sum_b D_b L_b}{\\sum_b D_b}
      = \\frac{\\sum_i w_i l_i}{D}

the loss of the whole data at once; a "sum" loss is :math:`\\sum_b L_b`. The metrics read the
joined outputs and targets, as they would in one batch. Only rounding differs from running all
the data in one batch.
"""

import numpy as np

from ..errors import DataError


class Outputs:
    """Per-output arrays gathered batch after batch (``samples`` known: filled in place)."""

    def __init__(self, samples):
        self.samples = samples
        self.arrays = None           # known size: one array per output, filled row by row
        self.pieces = []             # unknown size: copies of each batch's arrays
        self.rows = 0

    def add(self, arrays):
        """Keep one batch's arrays (a list, one per output)."""
        rows = len(arrays[0])
        if self.samples is None:
            self.pieces.append([np.array(a) for a in arrays])
        else:
            if self.arrays is None:
                self.arrays = [np.empty((self.samples,) + a.shape[1:], dtype=a.dtype)
                               for a in arrays]
            for target, a in zip(self.arrays, arrays):
                target[self.rows:self.rows + rows] = a
        self.rows += rows

    def result(self):
        """The arrays of all the batches, one per output."""
        if self.samples is None:
            return joined(self.pieces)
        if self.rows != self.samples:
            raise DataError(f"the data gave {self.rows} samples, {self.samples} expected")
        return self.arrays


def joined(batches):
    """Lists of per-output arrays, one list per batch, joined along the samples per output."""
    return [np.concatenate([batch[k] for batch in batches]) for k in range(len(batches[0]))]


def joined_masks(batches):
    """Per-output masks joined along the samples (None for an output with none)."""
    return [None if any(batch[k] is None for batch in batches)
            else np.concatenate([batch[k] for batch in batches])
            for k in range(len(batches[0]))]


def predict_batches(model, source):
    """The model's outputs for every batch of ``source``: an array, or a list for several."""
    outputs = Outputs(source.samples)
    for xs, _, _ in source.batches():
        out = model.forward(xs if len(xs) > 1 else xs[0], training=False)
        outputs.add(out if isinstance(out, list) else [out])
    if outputs.rows == 0:
        raise DataError("predict got no batch from the data")
    result = outputs.result()
    return result[0] if len(result) == 1 else result


def evaluate_batches(model, source):
    """``{"loss": ..., metrics...}`` over every batch of ``source`` (see the module docstring)."""
    spec = model.outputs_spec
    with_metrics = any(spec.metrics)
    totals, shares = [0.0] * len(spec), [0] * len(spec)
    outputs, targets, masks, count = Outputs(source.samples), [], [], 0
    for xs, ys, weights in source.batches():
        count += 1
        losses, outs, out_masks = model.evaluate_batch(xs, ys, weights)
        rows = len(xs[0])
        for k, (loss, mask) in enumerate(zip(losses, out_masks)):
            if spec.losses[k].reduction == "mean":
                share = rows if mask is None else int(np.count_nonzero(mask))
                totals[k] += loss * share           # sum_b D_b L_b
                shares[k] += share
            else:
                totals[k] += loss
        if with_metrics:
            outputs.add(outs)
            targets.append(ys)
            masks.append(out_masks)
    strategy = getattr(source, "strategy", None)   # one shard per rank (nnscratch.distributed)
    if strategy is not None:
        count, totals, shares, outputs, targets, masks = strategy.combine_evaluation(
            model, count, totals, shares, outputs, targets, masks)
    if count == 0:
        raise DataError("evaluate got no batch from the data")
    losses = [total / share if spec.losses[k].reduction == "mean" and share else total
              for k, (total, share) in enumerate(zip(totals, shares))]
    total = sum(w * v for w, v in zip(spec.weights, losses)) + model.penalty()
    metric_values = [{} for _ in losses]
    if with_metrics:
        metric_values = model.metric_values(outputs.result(), joined(targets),
                                            joined_masks(masks))
    return spec.logs(total, losses, metric_values)

