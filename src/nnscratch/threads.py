"""How many threads nnscratch uses, and the small pool that splits memory-bound work.

Two kinds of work run on the cores:

- **Matrix products** go to NumPy's BLAS (OpenBLAS, MKL...), which has its own threads. They
  pay off only for large products: each product hands work to the other threads and waits for
  them, which costs microseconds on a quiet machine and far more on a busy one (a thread that
  lost its core holds everyone up). So the library picks the BLAS thread count by the size of
  the work (:func:`blas_threads_for`): one thread while the largest matrix product of a batch
  is below :data:`BLAS_MIN_WORK` multiply-adds, every allowed thread above.
- **Element-wise and copying work** (activations, im2col/col2im, pooling, optimizer passes)
  runs in NumPy's C loops, one thread, whatever the BLAS does. NumPy releases the GIL inside
  those loops, so the kernels that matter split their batch into parts and run the parts on a
  small thread pool (:func:`split`), when the arrays are large enough (:data:`SPLIT_MIN`) and
  the BLAS is on one thread (:func:`pool_threads`: the two never share the cores).
  Each such kernel keeps its plain one-thread path, which is what :func:`split` runs when it
  does not split, and the tests compare the two.

The policy acts inside ``fit``, ``predict`` and ``evaluate`` (:func:`restored` wraps them and
puts the caller's BLAS thread count back at the end); a bare ``forward`` leaves the BLAS alone.
The most threads it uses is what the BLAS had when the call began (so ``OPENBLAS_NUM_THREADS``
and a ``threadpoolctl`` limit still hold), or exactly ``n`` after :func:`set_num_threads`.

Controlling the BLAS needs ``threadpoolctl`` (a dependency of nnscratch); where it is missing,
the BLAS keeps its own count and only the pool follows the policy.
"""

import contextlib
import itertools
import math
import os
import threading

import numpy as np

from . import checks

#: Multiply-adds of the largest matrix product of a batch from which the BLAS gets every
#: allowed thread (below it, one). A (128, 784) @ (784, 256) product is 25.7 million.
BLAS_MIN_WORK = 8_000_000

#: Elements of the arrays a kernel touches from which :func:`split` uses the pool. Handing a
#: part to a pool thread and waiting for it costs about 50 us on a 2-core virtual machine (the
#: idle core has to be woken); ``np.maximum`` over 2**20 float32 values takes about 110 us on
#: one thread and no less in two halves, over 2**21 values 300 us against 200 us.
SPLIT_MIN = 1 << 21


class _State:
    fixed = None          # set_num_threads(n): n; None: the policy decides
    unfixed = None        # the BLAS count before set_num_threads fixed one
    ceiling = None        # the most threads the policy uses now (None: not known yet)
    blas = None           # threadpoolctl's controllers of the BLAS ([] when there is none)
    current = None        # the BLAS count last set here
    depth = 0             # how many fit/predict/evaluate calls are running (nested ones too)
    workers = ()          # split()'s pool threads (_Worker), made on first use
    pid = None            # the process that made them (a forked child makes its own)
    busy = threading.Lock()   # held while split() uses the workers


_state = _State()


def _blas():
    """threadpoolctl's controllers of the BLAS libraries loaded by NumPy ([] without it)."""
    if _state.blas is None:
        try:
            from threadpoolctl import ThreadpoolController
            _state.blas = ThreadpoolController().select(user_api="blas").lib_controllers
        except Exception:  # threadpoolctl missing or unable to read this platform's BLAS
            return []      # (not kept: it may be installed or readable later)
    return _state.blas


def _blas_get():
    """The BLAS's thread count now (None when it cannot be read)."""
    libs = _blas()
    return max(lib.get_num_threads() for lib in libs) if libs else None


def _blas_set(n):
    for lib in _blas():
        lib.set_num_threads(n)
    _state.current = n


def _environment_threads():
    """The cores this process may use, lowered by ``OMP_NUM_THREADS``-style variables."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        value = os.environ.get(var, "")
        if value.isdigit() and int(value) > 0:
            count = min(count, int(value))
    return max(1, count or 1)


def get_num_threads():
    """The most threads nnscratch uses now: ``n`` after ``set_num_threads(n)``, otherwise what
    the BLAS had when the running ``fit``/``predict`` began (or has now, outside them)."""
    if _state.fixed is not None:
        return _state.fixed
    if _state.depth and _state.ceiling is not None:
        return _state.ceiling
    now = _blas_get()
    return now if now is not None else _environment_threads()


def set_num_threads(n):
    """Use exactly ``n`` threads (BLAS and the pool alike) for all work; ``None`` goes back to
    the automatic policy (see the module docstring).

    >>> import nnscratch as ns
    >>> ns.set_num_threads(1)        # everything on one core
    >>> ns.set_num_threads(None)     # the library picks by the size of the work
    """
    if n is not None:
        n = checks.positive_int(n, "set_num_threads n")
        if _state.fixed is None:
            _state.unfixed = _blas_get()   # the count to go back to with set_num_threads(None)
        _blas_set(n)
    elif _state.fixed is not None and _state.unfixed is not None:
        _blas_set(_state.unfixed)          # the count the BLAS had before the first fixing
    _state.fixed = n


@contextlib.contextmanager
def num_threads(n):
    """``with ns.num_threads(n):`` :func:`set_num_threads` for a block, then as it was."""
    before, blas_before = _state.fixed, _blas_get()
    set_num_threads(n)
    try:
        yield
    finally:
        _state.fixed = before
        if blas_before is not None:
            _blas_set(blas_before)


@contextlib.contextmanager
def restored():
    """The scope of one ``fit``/``predict``/``evaluate``: the policy may change the BLAS
    count inside it; the count the caller had comes back at the end."""
    if _state.depth:                       # nested (evaluate inside fit): the outer one restores
        _state.depth += 1
        try:
            yield
        finally:
            _state.depth -= 1
        return
    before = _blas_get()
    _state.ceiling = before if before is not None else _environment_threads()
    _state.current = before
    _state.depth = 1
    try:
        yield
    finally:
        _state.depth = 0
        if before is not None and _state.current != before and _state.fixed is None:
            _blas_set(before)


def largest_product(layers, rows):
    r"""Multiply-adds of the largest matrix product among ``layers`` for a batch of ``rows``.

    A layer applies its weights at a number of positions per sample: once per output position
    for a convolution (:math:`\prod` of its output sizes, all in one product), once per
    leading position for the layers that act on the last axis (Dense over (N, T, d), attention);
    a recurrent layer multiplies its state once per step, a product of ``rows`` rows. So the
    estimate is ``rows x positions x parameters`` (``positions = 1`` for a recurrent layer),
    the largest over the layers. Layers not built yet count 0.
    """
    largest = 0
    for layer in layers:
        shape = getattr(layer, "input_shape", None)
        if not layer.params or shape is None or not all(isinstance(s, int) for s in shape):
            continue          # no weights, several inputs or not built: no product to size here
        size = sum(p.size for p in layer.params.values())
        if hasattr(layer, "return_sequences"):          # recurrent: one product per step
            positions = 1
        elif hasattr(layer, "kernel_size") and hasattr(layer, "filters"):   # a convolution
            positions = math.prod(layer.compute_output_shape(shape)[1:])
        else:
            positions = math.prod(shape[:-1])
        largest = max(largest, rows * positions * size)
    return largest


def blas_threads_for(work):
    """The BLAS thread count for a batch whose largest product is ``work`` multiply-adds:
    1 below :data:`BLAS_MIN_WORK`, else every allowed thread (:func:`get_num_threads`)."""
    return get_num_threads() if work >= BLAS_MIN_WORK else 1


def pick(model, xs):
    """Set the BLAS thread count for a batch ``xs`` of ``model`` (inside :func:`restored`).

    Worked out once per batch shape and model (``model._thread_choice``); a step of the same
    shape then costs two comparisons.
    """
    if not _state.depth or _state.fixed is not None:
        return
    shape = xs[0].shape
    choice = model.__dict__.get("_thread_choice")
    if choice is None or choice[0] != shape or choice[1] != _state.ceiling:
        n = blas_threads_for(largest_product(model.layers, shape[0] if shape else 1))
        choice = (shape, _state.ceiling, n)
        if all(layer.built for layer in model.layers):    # else sized again once they are
            model._thread_choice = choice
    if choice[2] != _state.current and _blas():
        _blas_set(choice[2])


# -- the pool for memory-bound work ------------------------------------------------------------

#: Pool threads to use whatever the policy says (None: the policy; the tests set it).
POOL = None


def pool_threads():
    """How many threads :func:`split` runs on (1: it calls the kernel once, in this thread).

    The pool works only while the BLAS runs on one thread: OpenBLAS's threads keep spinning on
    the other cores for a while after each product, so a pool thread started beside them waits
    for a core. Measured on two cores, W2, W3 and W4 ran faster with the BLAS alone on both
    cores than with the BLAS and the pool sharing them.
    """
    if POOL is not None:
        return POOL
    blas = _state.current if _state.depth else _blas_get()
    if blas is not None and blas > 1:
        return 1
    return get_num_threads()


class _Worker:
    """One pool thread that runs a part handed to it, woken and waited for through two locks.

    Handing over a part and waiting for it this way took about 50 us on the 2-core virtual
    machine of the benchmarks when the other core was idle (12 us when it was awake), against
    60 us for a ``concurrent.futures`` pool (a queue, a future and a condition per part); a
    split kernel runs for a few hundred microseconds.
    """

    def __init__(self, index):
        self.go, self.done = threading.Lock(), threading.Lock()
        self.go.acquire()
        self.done.acquire()
        self.task = self.error = None
        threading.Thread(target=self._loop, name=f"nnscratch-{index}", daemon=True).start()

    def _loop(self):
        while True:
            self.go.acquire()                   # sleeps until start() hands over a part
            body, start, stop = self.task
            try:
                body(start, stop)
            except BaseException as error:      # handed back to the caller by wait()
                self.error = error
            self.task = None
            self.done.release()

    def start(self, body, start, stop):
        """Run ``body(start, stop)`` on this worker; :meth:`wait` for it."""
        self.task = (body, start, stop)
        self.go.release()

    def wait(self):
        """Block until the part is done; raise what it raised."""
        self.done.acquire()
        error, self.error = self.error, None
        if error is not None:
            raise error


def _workers(count):
    """``count`` pool threads (made on first use, kept; new ones after a fork)."""
    if _state.pid != os.getpid():
        _state.workers, _state.pid = [], os.getpid()
    while len(_state.workers) < count:
        _state.workers.append(_Worker(len(_state.workers)))
    return _state.workers[:count]


def split(count, body, elements, threads=None):
    """Run ``body(start, stop)`` over ``range(count)`` cut into one part per thread.

    ``body`` computes parts ``[start, stop)`` of a batch (or of a flat array) that do not
    overlap, writing into arrays made before the call, so the parts may run at once; NumPy
    releases the GIL inside its loops. With fewer than :data:`SPLIT_MIN` ``elements`` in play,
    one thread, or ``count < 2``, it is the plain call ``body(0, count)`` in this thread: the
    reference path. ``threads`` overrides :func:`pool_threads` (the tests force both paths).
    """
    forced = threads is not None
    threads = threads if forced else pool_threads()
    parts = min(threads, count)
    if parts < 2 or (elements < SPLIT_MIN and not forced):
        body(0, count)
        return
    bounds = [count * k // parts for k in range(parts + 1)]
    if not _state.busy.acquire(blocking=False):   # a split inside a split, or two callers at
        body(0, count)                              # once: the pool is taken, run it here
        return
    try:
        workers = _workers(parts - 1)
        for worker, (start, stop) in zip(workers, itertools.pairwise(bounds[1:])):
            worker.start(body, start, stop)
        try:
            body(bounds[0], bounds[1])              # this thread takes the first part
        finally:
            errors = []
            for worker in workers:
                try:
                    worker.wait()
                except BaseException as error:
                    errors.append(error)
        if errors:
            raise errors[0]
    finally:
        _state.busy.release()


def memory_order(a):
    """The axes that put ``a`` in its memory order: ``a.transpose(axes)`` is C-contiguous.

    None when no order of the axes makes it contiguous (a strided slice, a broadcast view).
    For a batch-last view (see :mod:`nnscratch.layers.im2col`) these are ``(1, ..., 0)``.
    """
    axes = tuple(sorted(range(a.ndim), key=lambda k: -a.strides[k]))
    return axes if a.transpose(axes).flags.c_contiguous else None


def elementwise(func, out, *inputs):
    """``func(*inputs, out=out)`` over flat parts of ``out`` side by side (:func:`split`).

    ``func`` acts on each element on its own (a ufunc, or a function of ufuncs that takes
    ``out``); ``inputs`` are arrays shaped like ``out`` or scalars. The arrays are cut in
    their memory order (:func:`memory_order`), so they must all be laid out alike in one
    contiguous block each; others go through one plain call, as do small ones. Returns ``out``.
    """
    arrays = [a for a in inputs if isinstance(a, np.ndarray)]
    if out.size < SPLIT_MIN or pool_threads() < 2:
        func(*inputs, out=out)
        return out
    axes = memory_order(out)
    if axes is None or not all(a.shape == out.shape and a.strides == out.strides
                               for a in arrays):
        func(*inputs, out=out)
        return out
    flat_out = out.transpose(axes).reshape(-1)
    flat_in = [a.transpose(axes).reshape(-1) if isinstance(a, np.ndarray) else a
               for a in inputs]

    def part(start, stop):
        func(*(a[start:stop] if isinstance(a, np.ndarray) else a for a in flat_in),
             out=flat_out[start:stop])

    split(out.size, part, out.size)
    return out
