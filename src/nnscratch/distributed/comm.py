"""The communicator: MPI through mpi4py, every collective guarded by a deadline.

``init()`` starts MPI (mpi4py's ``MPI.COMM_WORLD``); ``rank()``, ``size()``,
``local_rank()`` and ``local_size()`` say where this process stands. Without mpi4py, or
before ``init``, the world is one process: rank 0 of 1, and every collective returns its input.

**Failure.** A blocking MPI collective waits for ever when another rank died without taking the
job down, or hangs. So every collective here is the non-blocking one (``Iallreduce``,
``Ibcast``, ``Iallgather``), polled until it completes or ``timeout`` seconds pass; then this
rank writes a clear error to standard error and calls ``MPI_Abort``, which ends every rank of
the job. The timeout is ``init(timeout=...)``, else the environment variable
``NNSCRATCH_MPI_TIMEOUT``, else :data:`DEFAULT_TIMEOUT` seconds. It bounds how long one rank may
run ahead of the slowest (a step's compute, rank 0 writing a checkpoint), so it is generous.

With ``abort_on_exception`` (the default) ``init`` also makes an uncaught exception on any rank
abort the whole job at once, as ``python -m mpi4py`` does, instead of leaving the other ranks
waiting for the timeout.
"""

import json
import os
import sys
import time

import numpy as np

from .. import checks
from ..errors import ConfigError, NNScratchError, require

#: seconds a collective may wait for the other ranks before the job is aborted
DEFAULT_TIMEOUT = 120.0
#: exit code of a job aborted by the watchdog
ABORT_CODE = 70
_SPIN = 0.02        # seconds of busy polling before the poll starts sleeping
_MAX_SLEEP = 1e-3   # the longest sleep between two polls
_GRACE = 0.5        # seconds between an error message and MPI_Abort
_yield = getattr(os, "sched_yield", lambda: time.sleep(0))


class CommunicationError(NNScratchError, RuntimeError):
    """MPI is missing, not started, or used in a way the ranks cannot agree on."""


class _World:
    """The state of this process's MPI world (one per process)."""

    def __init__(self):
        self.comm = None            # MPI.COMM_WORLD once init() ran
        self.mpi = None
        self.rank, self.size = 0, 1
        self.local_rank, self.local_size = 0, 1
        self.timeout = DEFAULT_TIMEOUT
        self.waited = 0.0           # seconds spent waiting in collectives (for benchmarks)


WORLD = _World()


def init(timeout=None, abort_on_exception=True):
    """Start MPI (once; a later call only sets a ``timeout`` it is given); returns this
    rank's number.

    ``timeout``: seconds a collective may wait before the job is aborted (default: the
    variable ``NNSCRATCH_MPI_TIMEOUT``, else :data:`DEFAULT_TIMEOUT`).
    """
    if WORLD.comm is not None and timeout is None:
        return WORLD.rank
    if timeout is None:
        text = os.environ.get("NNSCRATCH_MPI_TIMEOUT")
        try:
            timeout = DEFAULT_TIMEOUT if text is None else float(text)
        except ValueError:
            raise ConfigError("NNSCRATCH_MPI_TIMEOUT must be a number of seconds, got "
                              f"{text!r}") from None
    WORLD.timeout = checks.number(timeout, "timeout", low=0, low_open=True)
    abort_on_exception = checks.boolean(abort_on_exception, "abort_on_exception")
    if WORLD.comm is not None:
        return WORLD.rank
    mpi = require("mpi4py.MPI", "mpi", "nnscratch.distributed")
    comm = mpi.COMM_WORLD
    local = comm.Split_type(mpi.COMM_TYPE_SHARED)        # the ranks on this machine
    WORLD.mpi, WORLD.comm = mpi, comm
    WORLD.rank, WORLD.size = comm.Get_rank(), comm.Get_size()
    WORLD.local_rank, WORLD.local_size = local.Get_rank(), local.Get_size()
    local.Free()
    if abort_on_exception and WORLD.size > 1:
        _abort_on_uncaught_exception()
    return WORLD.rank


def _abort_on_uncaught_exception():
    """An uncaught exception prints its traceback, then ends every rank (MPI_Abort)."""
    previous = sys.excepthook

    def hook(kind, value, traceback):
        previous(kind, value, traceback)
        sys.stderr.write(f"nnscratch.distributed: rank {WORLD.rank} stopped on an uncaught "
                         f"{kind.__name__}; aborting all {WORLD.size} ranks\n")
        sys.stderr.flush()
        sys.stdout.flush()
        time.sleep(_GRACE)
        WORLD.comm.Abort(1)
    sys.excepthook = hook


def is_initialized():
    """Whether :func:`init` started MPI in this process."""
    return WORLD.comm is not None


def rank():
    """This process's rank, 0 .. size - 1 (0 before :func:`init`)."""
    return WORLD.rank


def size():
    """The number of ranks (1 before :func:`init`)."""
    return WORLD.size


def local_rank():
    """This process's rank among the ranks on its machine (to pick a device or cores)."""
    return WORLD.local_rank


def local_size():
    """The number of ranks on this machine."""
    return WORLD.local_size


def is_root(root=0):
    """Whether this is rank ``root`` (rank 0 writes files and prints)."""
    return WORLD.rank == root


def timeout():
    """Seconds a collective waits for the other ranks before the job is aborted."""
    return WORLD.timeout


def abort(message, code=ABORT_CODE):
    """Write ``message`` to standard error and end every rank of the job."""
    sys.stdout.flush()
    sys.stderr.write(f"nnscratch.distributed: rank {WORLD.rank} of {WORLD.size}: {message}\n")
    sys.stderr.flush()
    if WORLD.comm is None:                      # pragma: no cover - one process: just stop
        raise SystemExit(code)
    time.sleep(_GRACE)            # the launcher forwards the message before it ends the ranks
    WORLD.comm.Abort(code)


def wait(request, what):
    """Poll ``request`` until it completes, or abort the job after ``timeout`` seconds.

    Polls in a tight loop for a short while (a step's partner is usually just behind; each
    poll also moves MPI's transfer on, so a sleeping poller would slow it down), yielding the
    core between polls; then sleeps between polls, up to a millisecond.
    """
    start = time.perf_counter()
    deadline = start + WORLD.timeout
    pause = 0.0
    while not request.Test():
        now = time.perf_counter()
        if now > deadline:
            abort(f"waited {WORLD.timeout:g} s for the other ranks in {what}: a rank died, hangs "
                  "or skipped it. Aborting the job (the limit is nd.init(timeout=...) or "
                  "NNSCRATCH_MPI_TIMEOUT)")
        if now - start < _SPIN:
            _yield()                # give the core to a rank that shares it, if any
        else:
            time.sleep(pause)
            pause = min(_MAX_SLEEP, pause * 2 or 1e-5)
    WORLD.waited += time.perf_counter() - start


def allreduce_sum(buffer, what="an Allreduce"):
    """Sum a contiguous array over the ranks, in place (one ``Iallreduce``)."""
    if WORLD.size > 1:
        wait(WORLD.comm.Iallreduce(WORLD.mpi.IN_PLACE, buffer, op=WORLD.mpi.SUM), what)
    return buffer


def broadcast_array(buffer, root=0, what="a broadcast"):
    """Copy rank ``root``'s contiguous array into ``buffer`` on every rank, in place."""
    if WORLD.size > 1:
        wait(WORLD.comm.Ibcast(buffer, root=root), what)
    return buffer


def broadcast_json(value, root=0, what="a broadcast"):
    """Rank ``root``'s JSON-able ``value`` on every rank (its length, then its UTF-8 bytes)."""
    if WORLD.size == 1:
        return value
    data = json.dumps(value).encode() if WORLD.rank == root else b""
    length = broadcast_array(np.array([len(data)], dtype=np.int64), root, what)
    buffer = np.frombuffer(data, dtype=np.uint8).copy() if WORLD.rank == root else \
        np.empty(int(length[0]), dtype=np.uint8)
    broadcast_array(buffer, root, what)
    return json.loads(buffer.tobytes().decode())


def allgather_rows(array, what="an Allgather"):
    """Every rank's ``array`` stacked along axis 0, in rank order (ranks may differ in rows).

    The arrays agree in dtype and trailing shape on the ranks that hold rows; a rank with none
    may pass ``None``.
    """
    if WORLD.size == 1:
        return array
    described = None if array is None else [array.dtype.str, list(array.shape)]
    everyone = [json.loads(s) for s in _allgather_text(json.dumps(described), what)]
    known = [d for d in everyone if d is not None]
    if not known:
        return None
    dtype, tail = np.dtype(known[0][0]), tuple(known[0][1][1:])
    if any(np.dtype(d[0]) != dtype or tuple(d[1][1:]) != tail for d in known):
        raise CommunicationError(f"the ranks' arrays disagree in {what}: {everyone}")
    rows = [0 if d is None else d[1][0] for d in everyone]
    unit = int(np.prod(tail, dtype=np.int64))
    mine = (np.zeros((0,) + tail, dtype) if array is None
            else np.ascontiguousarray(array, dtype=dtype))
    out = np.empty((sum(rows),) + tail, dtype)
    counts = [r * unit for r in rows]
    request = WORLD.comm.Iallgatherv(mine.reshape(-1),
                                     [out.reshape(-1), (counts, _offsets(counts))])
    wait(request, what)
    return out


def _offsets(counts):
    return [int(v) for v in np.concatenate([[0], np.cumsum(counts)[:-1]])]


def _allgather_text(text, what):
    """Every rank's string, in rank order."""
    data = np.frombuffer(text.encode(), dtype=np.uint8)
    lengths = np.zeros(WORLD.size, dtype=np.int64)
    wait(WORLD.comm.Iallgather(np.array([len(data)], dtype=np.int64), lengths), what)
    out = np.empty(int(lengths.sum()), dtype=np.uint8)
    counts = [int(n) for n in lengths]
    wait(WORLD.comm.Iallgatherv(data.copy(), [out, (counts, _offsets(counts))]), what)
    ends = np.cumsum(lengths)
    return [out[end - n:end].tobytes().decode() for n, end in zip(counts, ends)]


def barrier(what="a barrier"):
    """Wait until every rank gets here (``Ibarrier``, under the same deadline)."""
    if WORLD.size > 1:
        wait(WORLD.comm.Ibarrier(), what)
