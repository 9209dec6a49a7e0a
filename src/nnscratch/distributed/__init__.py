"""Data-parallel training over MPI (mpi4py), in the spirit of Horovod.

Every rank (process) holds the whole model; each trains on its own shard of the data, and one
Allreduce per step averages the gradients, so every rank makes the same update::

    import nnscratch as ns
    import nnscratch.distributed as nd

    nd.init()                                   # MPI; nd.rank(), nd.size(), nd.local_rank()
    model = ns.Network([...], optimizer="adam", seed=0)
    nd.distribute(model)                        # rank 0's weights everywhere; fit goes parallel
    model.fit(x, y, epochs=10, batch_size=64,   # 64 per rank: a global batch of 64 x size
              validation_data=(x_val, y_val),
              callbacks=[ns.callbacks.ModelCheckpoint("best.nns")])   # written by rank 0

launched with ``mpiexec -n 4 python train.py`` (``pip install 'nnscratch[mpi]'`` brings mpi4py
and MPICH). What :func:`distribute` does, against Horovod's pieces:

=====================================  ==============================================================
Horovod (Keras)                        nnscratch.distributed
=====================================  ==============================================================
``hvd.init()``, ``rank()``, ``size()``   :func:`init`, :func:`rank`, :func:`size`, :func:`local_rank`
``hvd.DistributedOptimizer(opt)``        ``model.distribution`` (:class:`DataParallel`): one
                                       Allreduce of the packed gradients per step
``BroadcastGlobalVariablesCallback``     at the start of every ``fit``: parameters, buffers,
                                       optimizer state and shuffling generator from rank 0
``MetricAverageCallback``                loss and metrics of all ranks' data, weighted by samples
a ``DistributedSampler`` per epoch       ``fit`` shards arrays, Datasets and iterables itself
``if hvd.rank() == 0: callbacks +=``     ModelCheckpoint, CSVLogger and the progress display run on
                                       rank 0 only (and any callback with ``rank_zero_only = True``)
``hvd.SyncBatchNorm``                    :func:`SyncBatchNormalization`, ``distribute(model,
                                       sync_batch_norm=True)``
=====================================  ==============================================================

Details: :mod:`.sharding` (who reads what, uneven remainders), :mod:`.strategy` (the hooks of
``fit``), :mod:`.comm` (the timeout that ends the job when a rank dies or hangs).
"""

import os

import numpy as np

from .. import checks
from .comm import (
    DEFAULT_TIMEOUT,
    CommunicationError,
    abort,
    allreduce_sum,
    barrier,
    broadcast_array,
    init,
    is_initialized,
    is_root,
    local_rank,
    local_size,
    rank,
    size,
    timeout,
)
from .strategy import DataParallel, broadcast_optimizer_state, broadcast_parameters, runs_here
from .sync_batch_norm import SyncBatchNormalization, synchronize_batch_norm

#: environment variables by which MPI launchers tell a process how many ranks the job has
LAUNCHER_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MV2_COMM_WORLD_SIZE")

__all__ = ["init", "is_initialized", "rank", "size", "local_rank", "local_size", "is_root",
           "timeout", "barrier", "abort", "allreduce", "broadcast", "distribute", "DataParallel",
           "broadcast_parameters", "broadcast_optimizer_state", "SyncBatchNormalization",
           "synchronize_batch_norm",
           "runs_here", "launched", "start_command", "CommunicationError", "DEFAULT_TIMEOUT"]


def distribute(model, root=0, timeout=None, sync_batch_norm=False):
    """Train ``model`` data-parallel over the MPI ranks; returns the model.

    Starts MPI if needed (:func:`init`, with ``timeout``), copies rank ``root``'s parameters
    to every rank when the model is built, and sets ``model.distribution`` to a
    :class:`DataParallel`, which ``fit`` and ``train_step`` then consult. With
    ``sync_batch_norm`` its BatchNormalization layers use the global batch's statistics
    (:func:`synchronize_batch_norm`). In a job of one process it changes nothing.
    ``model.distribution = None`` undoes it.
    """
    sync_batch_norm = checks.boolean(sync_batch_norm, "sync_batch_norm")
    init(timeout)
    if size() == 1:
        return model
    if sync_batch_norm:
        synchronize_batch_norm(model)
    strategy = DataParallel(root)
    strategy.synchronize(model)
    model.distribution = strategy
    return model


def allreduce(array, average=True):
    """The sum (or mean, with ``average``) of ``array`` over the ranks, as a new array."""
    result = np.array(array, dtype=np.result_type(np.asarray(array).dtype, np.float32),
                      copy=True, order="C")
    allreduce_sum(result, "an allreduce")
    if average:
        result /= size()
    return result


def broadcast(array, root=0):
    """Rank ``root``'s ``array`` (same shape and dtype on every rank), as a new array."""
    result = np.array(array, copy=True, order="C")
    return broadcast_array(result, root, "a broadcast")


def launched():
    """Whether an MPI launcher (``mpiexec -n N`` with N > 1) started this process."""
    for name in LAUNCHER_SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 1:
            return True
    return False


def start_command():
    """For a command-line program: whether it runs data-parallel (:func:`launched`). If so,
    MPI starts and every rank but 0 sends its standard output to ``os.devnull``, so the
    program prints once; errors still reach standard error from every rank."""
    if not launched():
        return False
    init()
    if rank() != 0:
        import sys
        sys.stdout = open(os.devnull, "w")      # noqa: SIM115 - for the life of the process
    return size() > 1
