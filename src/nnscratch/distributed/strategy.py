"""Data parallelism: the strategy object that ``fit`` and ``train_step`` consult.

:func:`distribute` sets ``model.distribution`` to a :class:`DataParallel`; the model's
``train_step`` and the fit loop (:mod:`nnscratch.training.loop`) call it at four points and
nowhere else:

1. ``start_fit``: broadcast rank 0's parameters, buffers, optimizer state and shuffling
   generator (so every rank starts identical, a resumed run included); shard the training and
   validation data (:mod:`nnscratch.distributed.sharding`); keep the callbacks that write files
   or print on rank 0 only (:func:`runs_here`);
2. ``compute_gradients`` (each step): this rank's gradients :math:`g_r` on its :math:`n_r` rows,
   then **one** Allreduce of one buffer ``[n_r g_r, n_r, n_r L_r]`` (the packed gradients and
   two numbers), after which every rank holds the same

   .. math::

       g = \\frac{\\sum_r n_r g_r}{\\sum_r n_r}, \\qquad L = \\frac{\\sum_r n_r L_r}{\\sum_r n_r}

   the gradient and loss of the global batch (for a loss that is a mean over samples), so the
   optimizer makes the same update on every rank;
3. ``end_epoch``: the epoch's loss sums added up over the ranks (one Allreduce, which also
   averages the buffers of per-rank batch normalization), and the outputs and targets of every
   rank gathered, so the metrics are those of all the data;
4. ``combine_evaluation`` (the validation pass): the same for each rank's block of the
   validation data.
"""

import time

import numpy as np

from .. import checks
from ..callbacks import CSVLogger, ModelCheckpoint
from ..callbacks.progress import EpochLogger, ProgressBar
from ..errors import TrainingError
from ..training.inference import Outputs
from . import comm
from .sharding import shard

#: callbacks that write files or print: they run on rank 0 only (a ModelCheckpoint that
#: writes files; one that keeps the best weights in memory runs everywhere, for ``restore``)
ROOT_ONLY = (ModelCheckpoint, CSVLogger, ProgressBar, EpochLogger)


def runs_here(callback, rank, root=0):
    """Whether ``callback`` runs on this rank: all do on the root; elsewhere those that write
    files or print (:data:`ROOT_ONLY`, or any with ``rank_zero_only = True``) do not."""
    if rank == root or (isinstance(callback, ModelCheckpoint) and callback.filepath is None):
        return True
    return not (isinstance(callback, ROOT_ONLY) or getattr(callback, "rank_zero_only", False))


def _contiguous_copy(arrays):
    """The arrays as they are where contiguous, else contiguous copies (with the originals)."""
    return [(a, a if a.flags.c_contiguous else np.ascontiguousarray(a)) for a in arrays]


def broadcast_arrays(arrays, root=0, what="the broadcast of the parameters"):
    """Copy rank ``root``'s values of ``arrays`` (same shapes on every rank) into them."""
    for original, buffer in _contiguous_copy(arrays):
        comm.broadcast_array(buffer, root, what)
        if buffer is not original:
            original[...] = buffer


def broadcast_parameters(model, root=0):
    """Make every rank's parameters and buffers (BN running statistics) rank ``root``'s.

    One broadcast of the packed parameters where the model packs them.
    """
    broadcast_arrays(model.state_arrays(), root)


def broadcast_optimizer_state(model, root=0):
    """Make every rank's optimizer state (step count, moments) rank ``root``'s, as after a
    resume: the state of each parameter by name, created where a rank has none."""
    optimizer = model.optimizer
    if comm.size() == 1:
        return
    params = {name: param for name, param, _ in model.named_parameters()}
    layout = None
    if comm.rank() == root:
        layout = {"iterations": optimizer.iterations, "states": {}}
        for name, param in params.items():
            state = optimizer.state_for(param)
            if state:
                layout["states"][name] = {
                    key: ["array", value.dtype.str, list(value.shape)]
                    if isinstance(value, np.ndarray) else ["value", _plain(value)]
                    for key, value in state.items()}
    layout = comm.broadcast_json(layout, root, "the broadcast of the optimizer state")
    optimizer.iterations = layout["iterations"]
    if not layout["states"]:
        return
    states = {}
    for name, keys in layout["states"].items():
        mine = optimizer.state_for(params[name]) or {}
        state = {}
        for key, (kind, *spec) in keys.items():
            if kind == "value":
                state[key] = spec[0]
                continue
            value = mine.get(key)
            dtype, shape = np.dtype(spec[0]), tuple(spec[1])
            if not isinstance(value, np.ndarray) or value.dtype != dtype or value.shape != shape:
                value = np.zeros(shape, dtype)
            state[key] = value
        states[name] = state
    broadcast_arrays([v for s in states.values() for v in s.values() if isinstance(v, np.ndarray)],
                     root, "the broadcast of the optimizer state")
    optimizer.load_state(params, states, model=model)


def _plain(value):
    """A state entry that is not an array, as JSON keeps it."""
    return value.item() if isinstance(value, np.generic) else value


class DataParallel:
    """Data-parallel training over the MPI ranks (see the module docstring).

    ``compute_seconds`` and ``allreduce_seconds`` add up, over the steps, the time of this
    rank's forward and backward passes and of the gradient Allreduce (waiting for slower ranks
    included); ``steps`` counts them.

    Parameters
    ----------
    root : int
        The rank whose initial state every rank takes, and the one that writes and prints.
    """

    def __init__(self, root=0):
        comm.init()                     # once; a later call returns at once
        self.root = checks.integer(root, "root", low=0, high=comm.size() - 1)
        self.rank, self.size = comm.rank(), comm.size()
        self._buffer = None
        self._synced = False
        self.compute_seconds = self.allreduce_seconds = 0.0
        self.steps = 0

    def __deepcopy__(self, memo):
        return self           # one per process: a copy of the model shares it

    def __repr__(self):
        return f"DataParallel(rank={self.rank}, size={self.size}, root={self.root})"

    @property
    def is_root(self):
        """Whether this rank is the root (writes files, prints)."""
        return self.rank == self.root

    # -- 1. the start of fit ---------------------------------------------------------------
    def synchronize(self, model):
        """Broadcast the root's parameters, buffers and optimizer state (once the model is
        built; ``fit`` does it at its start, or at the first step of a model built from the
        data)."""
        if model.built:
            broadcast_parameters(model, self.root)
            broadcast_optimizer_state(model, self.root)
            self._synced = True

    def start_fit(self, model, source, val):
        """``(source, val)`` sharded, every rank holding the root's state and shuffling."""
        self._synced = False
        self.synchronize(model)
        if self.size > 1:
            state = comm.broadcast_json(model.shuffle_rng.bit_generator.state, self.root,
                                        "the broadcast of the shuffling generator")
            model.shuffle_rng.bit_generator.state = state
        source = shard(model, source, self.rank, self.size, True)
        val = shard(model, val, self.rank, self.size, False)
        if val is not None:
            val.strategy = self      # evaluate_batches adds up the ranks' results
        return source, val

    def callbacks(self, callbacks):
        """The callbacks that run on this rank (:func:`runs_here`)."""
        return [cb for cb in callbacks if runs_here(cb, self.rank, self.root)]

    # -- 2. each step ----------------------------------------------------------------------
    def compute_gradients(self, model, x, y, sample_weight=None):
        """This rank's gradients, then the average over the ranks; returns this rank's loss
        (0 for a rank without rows in the step). TrainingError on every rank together when the
        loss of the global batch is not finite."""
        rows = len(x[0]) if isinstance(x, list) else len(x)
        if not self._synced:
            if not model.built:
                raise comm.CommunicationError(
                    f"rank {self.rank} got no data in the first step, so it cannot build a "
                    "model that learns its input shape from the data: give the model its "
                    f"input_shape, or at least {self.size} batches")
            self.synchronize(model)               # a model that the first batch built
        start = time.perf_counter()
        loss = 0.0
        if rows:
            loss = model.compute_gradients(x, y, sample_weight, training=True)
        else:
            model.last_output_losses = [0.0] * len(model.outputs)
        packed = model.packed_arrays()
        grads = [packed[1]] if packed is not None else [g for _, _, g in model.named_parameters()]
        total = sum(g.size for g in grads)
        dtype = grads[0].dtype
        if self._buffer is None or self._buffer.size != total + 2 or self._buffer.dtype != dtype:
            self._buffer = np.empty(total + 2, dtype)
        buffer, offset = self._buffer, 0
        for g in grads:                                     # n_r g_r, then n_r and n_r L_r
            part = buffer[offset:offset + g.size]
            if rows:
                np.multiply(g.reshape(-1), rows, out=part)
            else:
                part[...] = 0
            offset += g.size
        buffer[total], buffer[total + 1] = rows, loss * rows if rows else 0.0
        middle = time.perf_counter()
        comm.allreduce_sum(buffer, f"the gradient Allreduce of step {self.steps + 1}")
        self.allreduce_seconds += time.perf_counter() - middle
        count, global_loss = float(buffer[total]), float(buffer[total + 1] / buffer[total])
        if not np.isfinite(global_loss):
            raise TrainingError(f"the training loss of the global batch became {global_loss} "
                                f"(over {self.size} ranks); the parameters were not updated")
        offset = 0
        for g in grads:                                     # g = sum_r n_r g_r / sum_r n_r
            np.divide(buffer[offset:offset + g.size], count, out=g.reshape(-1))
            offset += g.size
        self.compute_seconds += middle - start
        self.steps += 1
        return loss

    # -- 3. the end of an epoch ------------------------------------------------------------
    def end_epoch(self, model, total_loss, seen, output_losses, outputs, targets, masks):
        """The epoch's sums over all ranks, and every rank's outputs, targets and masks (each
        as one batch), with the per-rank batch-normalization buffers averaged."""
        buffers = [v for layer in model.layers if not getattr(layer, "synchronized", False)
                   for v in layer.buffers.values()]
        sums = np.concatenate([[total_loss, seen], output_losses] +
                              [b.reshape(-1).astype(np.float64) for b in buffers])
        comm.allreduce_sum(sums, "the sums of the epoch")
        offset = 2 + len(output_losses)
        for b in buffers:                         # running statistics: the mean over ranks
            b[...] = (sums[offset:offset + b.size] / self.size).reshape(b.shape)
            offset += b.size
        total_loss, seen = float(sums[0]), int(sums[1])
        output_losses = [float(v) for v in sums[2:2 + len(output_losses)]]
        if any(model.outputs_spec.metrics):
            outputs, targets, masks = self.gather(model, outputs, targets, masks,
                                                  "the gathering of the epoch's outputs")
        return total_loss, seen, output_losses, outputs, targets, masks

    def gather(self, model, outputs, targets, masks, what):
        """Per-batch lists (one array per output) of every rank, joined into one batch each:
        ``([outputs], [targets], [masks])``. A mask missing on some rank is None everywhere."""
        result = []
        for batches, is_mask in ((outputs, False), (targets, False), (masks, True)):
            arrays = []
            for k in range(len(model.outputs)):
                parts = [batch[k] for batch in batches]
                if is_mask:
                    missing = np.array([any(p is None for p in parts)], dtype=np.int64)
                    if comm.allreduce_sum(missing, what)[0]:
                        arrays.append(None)
                        continue
                local = np.concatenate(parts) if parts else None
                arrays.append(comm.allgather_rows(local, what))
            result.append([arrays])
        return result

    # -- 4. the validation pass ------------------------------------------------------------
    def combine_evaluation(self, model, count, totals, shares, outputs, targets, masks):
        """The validation sums of all ranks, and their outputs (an ``Outputs`` gathering),
        targets and masks joined (see :func:`nnscratch.training.inference.evaluate_batches`)."""
        sums = np.array([count] + list(totals) + list(shares), dtype=np.float64)
        comm.allreduce_sum(sums, "the sums of the validation pass")
        k = len(totals)
        count = int(sums[0])
        totals, shares = [float(v) for v in sums[1:1 + k]], [float(v) for v in sums[1 + k:]]
        if any(model.outputs_spec.metrics):
            mine = [outputs.result()] if outputs.rows else []
            (joined,), targets, masks = self.gather(model, mine, targets, masks,
                                                    "the gathering of the validation outputs")
            outputs = Outputs(None)
            outputs.pieces, outputs.rows = [joined], len(joined[0])
        return count, totals, shares, outputs, targets, masks
