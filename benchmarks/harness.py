"""The machinery of the benchmark runner: worker processes, timing, memory, BLAS facts, tables.

Each contender of a workload runs in a worker process of its own, started once and kept for the
whole workload. The parent asks the workers in turn for one timed training run each, round after
round (the order rotates every round), so that every contender sees the same drift of a shared,
noisy machine; the median of the rounds is reported. Before each run the parent waits half a
second, untimed: the workers stay alive between their runs, and the idle threads of the one
that just finished (OpenBLAS's, PyTorch's OpenMP pool) spin on the cores for a while before they
sleep, which would otherwise slow whichever contender runs next. A worker measures its own peak resident
memory (``VmHWM`` from ``/proc/self/status``, or ``ru_maxrss``) when it is told to stop: data,
model, library and all, with nothing of the other contenders in it. Between rounds (untimed) it
runs the cyclic garbage collector, so that a finished round's model does not linger in the peak.

A workload is a module with:

- ``NAME`` and ``TITLE``;
- ``setup(quick, seed) -> ctx``: the data and the initial weights, identical in every worker;
- ``CONTENDERS``: ``{name: train}`` where ``train(ctx, limit=None) -> weights`` trains from the
  initial weights (``limit`` caps the samples or steps, for a warm-up) and returns the trained
  weights as NumPy arrays in the workload's common layout;
- ``final_loss(ctx, weights) -> float``: the loss of trained weights on the training set,
  computed by one shared NumPy function for every contender;
- optionally ``available(name) -> None or reason`` and ``warmup_limit(ctx)``.
"""

import gc
import importlib
import multiprocessing
import os
import resource
import statistics
import sys
import time
import traceback

import numpy as np

BLAS_ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

#: Seconds of idle time before each timed run (see run_workload).
IDLE_PAUSE = 0.5


def peak_memory_bytes():
    """This process's peak resident set size, in bytes."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


def blas_threads():
    """The number of threads NumPy's BLAS uses (threadpoolctl when present, else the CPU count)."""
    try:
        import threadpoolctl
        counts = [p["num_threads"] for p in threadpoolctl.threadpool_info()
                  if p.get("user_api") == "blas"]
        if counts:
            return max(counts)
    except ImportError:
        pass
    return os.cpu_count() or 1


def blas_description():
    """One line naming NumPy's BLAS library, version, kernel (architecture) and threads."""
    try:
        import threadpoolctl
    except ImportError:
        return "unknown (threadpoolctl is not installed)"
    for pool in threadpoolctl.threadpool_info():
        if pool.get("user_api") == "blas":
            return (f"{pool.get('internal_api')} {pool.get('version')}, kernel "
                    f"{pool.get('architecture', '?')}, {pool.get('num_threads')} threads")
    return "no BLAS found by threadpoolctl"


def machine_description():
    """CPU model and core count, from /proc/cpuinfo where available."""
    model = None
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import platform
    return f"{model or platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs"


# -- workers --------------------------------------------------------------------------------

#: The suffix of a contender run on one thread beside the others (``nnscratch-1t``): the same
#: training function, in a worker started with one thread for the BLAS and OpenMP.
ONE_THREAD = "-1t"
_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _worker_main(conn, module_name, contender, quick, seed, threads):
    """The loop of one worker process: set up once, then answer "run" and "stop" requests."""
    contender = contender.removesuffix(ONE_THREAD)
    try:
        if contender == "pytorch":
            import torch
            torch.set_num_threads(threads)
        module = importlib.import_module(module_name)
        ctx = module.setup(quick, seed)
        train = module.CONTENDERS[contender]
        limit = getattr(module, "warmup_limit", lambda ctx: None)(ctx)
        train(ctx, limit=limit)                                      # warm-up, not timed
        conn.send(("ready", None))
        while True:
            request = conn.recv()
            if request == "run":
                start = time.perf_counter()
                weights = train(ctx)
                seconds = time.perf_counter() - start
                loss = float(module.final_loss(ctx, weights))
                # untimed: free the last run's model now (a model held in reference cycles
                # would otherwise wait for the cyclic collector, adding up in peak memory)
                del weights
                gc.collect()
                conn.send(("result", (seconds, loss)))
            else:
                conn.send(("stopped", peak_memory_bytes()))
                return
    except Exception:  # report any failure to the parent instead of dying silently
        conn.send(("error", traceback.format_exc()))


class Worker:
    """A contender's own process, driven through a pipe."""

    def __init__(self, module_name, contender, quick, seed, threads):
        context = multiprocessing.get_context("spawn")
        self.contender = contender
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker_main, daemon=True,
                                       args=(child, module_name, contender, quick, seed, threads))
        saved = {var: os.environ.get(var) for var in _THREAD_VARS}
        if contender.endswith(ONE_THREAD):          # the child reads these before NumPy loads
            os.environ.update({var: "1" for var in _THREAD_VARS})
        try:
            self.process.start()
        finally:
            for var, value in saved.items():
                if value is None:
                    os.environ.pop(var, None)
                else:
                    os.environ[var] = value
        child.close()
        self.error = None

    def _expect(self, kind):
        try:
            got, payload = self.conn.recv()
        except EOFError:
            got, payload = "error", f"the worker process died (exit code {self.process.exitcode})"
        if got == "error":
            self.error = payload
            return None
        assert got == kind, (got, kind)
        return payload

    def wait_ready(self):
        self._expect("ready")
        return self.error is None

    def run(self):
        """One timed training run: ``(seconds, final_loss)``, or None after a failure."""
        if self.error is not None:
            return None
        self.conn.send("run")
        return self._expect("result")

    def stop(self):
        """End the worker; returns its peak resident memory in bytes (None after a failure)."""
        peak = None
        if self.error is None:
            self.conn.send("stop")
            peak = self._expect("stopped")
        self.process.join(timeout=60)
        return peak


def run_workload(module_name, contenders, repeats, quick, seed, threads, between_rounds=None,
                 log=print):
    """Time every contender ``repeats`` times, interleaved; returns ``{name: result dict}``."""
    workers = {}
    for name in contenders:
        workers[name] = Worker(module_name, name, quick, seed, threads)
        if not workers[name].wait_ready():
            log(f"  {name}: failed to start:\n{workers[name].error}")
    times = {name: [] for name in contenders}
    losses = {name: [] for name in contenders}
    order = list(contenders)
    for round_index in range(repeats):
        if between_rounds is not None:
            between_rounds()
        for name in order:
            # untimed: a finished contender's idle BLAS/OpenMP threads spin for a while before
            # they sleep (OpenBLAS about 0.1 s); the pause keeps them off the next one's cores
            time.sleep(IDLE_PAUSE)
            result = workers[name].run()
            if result is None:
                continue
            seconds, loss = result
            times[name].append(seconds)
            losses[name].append(loss)
            log(f"  round {round_index + 1}/{repeats}  {name:<10} {seconds:8.3f} s   "
                f"final loss {loss:.6g}")
        order = order[1:] + order[:1]
    results = {}
    for name in contenders:
        peak = workers[name].stop()
        error = workers[name].error
        results[name] = {
            "times": times[name],
            "median": statistics.median(times[name]) if times[name] else None,
            "loss": statistics.median(losses[name]) if losses[name] else None,
            "peak_memory": peak,
            "error": error.strip().splitlines()[-1] if error else None,
        }
    return results


# -- tables ---------------------------------------------------------------------------------

def cross_entropy_sum(logits, labels):
    """:math:`-\\sum_i \\log \\mathrm{softmax}(z_i)_{y_i}` in float64, the shared final loss of the
    classification workloads (each sums it over chunks of the training set)."""
    z = logits.astype(np.float64)
    z -= z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(z)), labels].sum()


def format_table(header, rows):
    """A Markdown table (also readable as plain text)."""
    cells = [list(map(str, header))] + [list(map(str, row)) for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def mib(nbytes):
    return "n/a" if nbytes is None else f"{nbytes / 2**20:.0f} MiB"


def seconds_text(value):
    if value is None:
        return "failed"
    return f"{value * 1e3:.1f} ms" if value < 1 else f"{value:.2f} s"


def torch_epoch(model, optimizer, x, labels, n, batch, seed):
    """One epoch of PyTorch mini-batch steps with cross-entropy over the first ``n`` samples,
    shuffled by torch's own generator; every batch's loss is read back, as nnscratch's History
    records it. Returns those losses."""
    import torch
    loss_fn = torch.nn.CrossEntropyLoss()
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    losses = []
    for start in range(0, n, batch):
        index = order[start:start + batch]
        optimizer.zero_grad()
        loss = loss_fn(model(x[index]), labels[index])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
