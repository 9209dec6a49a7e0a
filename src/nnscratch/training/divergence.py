"""The divergence guard of training: weight snapshots, a finiteness test, and the error.

A non-finite loss (or an update that makes a weight overflow) stops ``Network.fit``: the network
goes back to the last weights whose loss was finite, and a
:class:`~nnscratch.errors.TrainingError` says where it happened. ``fit`` keeps two snapshots of
every parameter and buffer array, the state before each of the last two batches
(``saved[step % 2]`` before step ``step``); it copies into them in place, so a step allocates
nothing.
"""

import math

import numpy as np

from ..errors import TrainingError


def snapshot(arrays):
    """Copies of ``arrays``: one slot of the guard, to be copied into before each step."""
    return [value.copy() for value in arrays]


def all_finite(arrays):
    """Whether every entry of every array in ``arrays`` is finite.

    One dot product per array almost always decides: a finite sum of squares means no NaN
    and no inf. Only when it is not (or huge finite values overflow it) are the entries
    tested one by one.
    """
    return all(math.isfinite(np.vdot(a, a)) or bool(np.isfinite(a).all()) for a in arrays)


def diverged(arrays, saved, step, where, learning_rate, after_update=False):
    """The TrainingError for a non-finite loss at ``where``; puts back the last good weights.

    ``arrays`` are the network's parameter and buffer arrays, ``saved[i % 2]`` holds them from
    before step ``i`` of this ``fit`` and ``step`` is the failing step. Its starting weights
    produced the non-finite loss (or the last update made them overflow), so the network goes
    back to those before the previous step, whose loss was finite (or, at the first step, to
    where it started, which undoes any change to buffers). Never left as NaN or inf.
    """
    what = "the last update overflowed" if after_update else "the loss is not finite"
    last_good = saved[(step - 1) % 2] if step else saved[0]
    for target, value in zip(arrays, last_good):
        np.copyto(target, value)
    if step:
        state = ("the weights were restored to those before the previous batch, the last "
                 "with a finite loss")
    else:
        state = "it happened before any update, so check the data and the initial weights"
    return TrainingError(
        f"training diverged at {where}: {what}; {state}. Lower the learning rate (now "
        f"{learning_rate:g}) or scale the data")
