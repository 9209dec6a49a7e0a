"""W2 trained data-parallel over MPI, side by side with one process; writes
benchmarks/RESULTS-mpi.md.

    python benchmarks/mpi.py             # 3 rounds of each configuration, the full W2 epoch
    python benchmarks/mpi.py --quick     # 1 round, 1/8 of the data: to try things
    python benchmarks/mpi.py --no-write  # print the tables only

Configurations (W2 of BENCHMARKS.md: 784-256-128-10, Adam, one epoch of 60,000 samples, a
global batch of 128, float32):

- **2 ranks x 1 thread**: ``mpiexec -n 2``, 64 samples per rank and step, one BLAS thread each,
  one Allreduce of the packed gradients per step (``nnscratch.distributed``);
- **1 process x 2 threads** and **1 process x 1 thread**: plain ``fit``, batch 128.

Each configuration runs in fresh processes, round after round in rotating order; the medians
are reported. A step's time is split into *compute* (forward and backward,
``compute_gradients``), *Allreduce* (the gradient Allreduce, waiting for the slower rank
included) and *the rest* (the optimizer's update, batching, the loop). The script also times
W2 and W4 (the transformer) in one process on one thread at two batch sizes each, and fills
the scaling model of docs/guide/distributed.md with the measured compute per step and the
gradient sizes.
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for path in (ROOT, os.path.join(ROOT, "src")):
    if path not in sys.path:
        sys.path.insert(0, path)

from benchmarks import harness  # noqa: E402

CONFIGS = {"2 ranks x 1 thread": ("ranks", 1), "1 process x 2 threads": ("process", 2),
           "1 process x 1 thread": ("process", 1)}
NETWORKS = {"10 Gbit/s Ethernet (TCP)": (10e9 / 8, 25e-6),
            "100 Gbit/s InfiniBand": (100e9 / 8, 2e-6)}
RANKS = (8, 64, 512)


# -- workers ------------------------------------------------------------------------------------

def timed_compute(model, totals):
    """Wrap ``model.compute_gradients`` so that its seconds add up in ``totals["compute"]``."""
    inner = model.compute_gradients

    def compute_gradients(*args, **kwargs):
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            totals["compute"] += time.perf_counter() - start
    model.compute_gradients = compute_gradients


def w2_worker(kind, threads, quick, seed):
    """One timed W2 epoch; rank 0 (or the process) prints ``RESULT {json}``."""
    import numpy as np

    import nnscratch as ns
    from benchmarks import w2_mlp as w2
    ns.set_num_threads(threads)      # BLAS threads, as the configuration says
    ctx = w2.setup(quick, seed)
    nd, size = None, 1
    if kind == "ranks":
        import nnscratch.distributed as nd
        nd.init(timeout=600)
        size = nd.size()

    def network():
        net = ns.Network([ns.Dense(256, activation="relu"), ns.Dense(128, activation="relu"),
                          ns.Dense(10, activation="softmax")],
                         loss="sparse_categorical_crossentropy",
                         optimizer=ns.optimizers.Adam(learning_rate=w2.LEARNING_RATE),
                         seed=seed, dtype="float32", input_shape=(w2.SIZES[0],))
        net.set_weights({f"dense_{i}.{p}": ctx["init"][f"{p}{i + 1}"]
                         for i in range(3) for p in "Wb"})
        return nd.distribute(net) if nd is not None else net

    batch = w2.BATCH // size
    limit = w2.warmup_limit(ctx)
    network().fit(ctx["x"][:limit], ctx["labels"][:limit], batch_size=batch, verbose=0)  # warm-up
    net = network()
    totals = {"compute": 0.0}
    if nd is None:
        timed_compute(net, totals)
    else:
        nd.barrier()
    start = time.perf_counter()
    net.fit(ctx["x"], ctx["labels"], epochs=1, batch_size=batch, seed=seed + 1, verbose=0)
    seconds = time.perf_counter() - start
    strategy = net.distribution
    steps = strategy.steps if strategy else -(-len(ctx["x"]) // batch)
    compute = strategy.compute_seconds if strategy else totals["compute"]
    allreduce = strategy.allreduce_seconds if strategy else 0.0
    lockstep = 0.0
    if nd is not None:             # the mean over the ranks
        compute, allreduce = (float(v) for v in nd.allreduce(np.array([compute, allreduce])))
        lockstep = lockstep_allreduce(nd, net.count_params() + 2)
    if nd is None or nd.rank() == 0:
        w = net.get_weights()
        loss = w2.final_loss(ctx, {f"{p}{i + 1}": w[f"dense_{i}.{p}"]
                                   for i in range(3) for p in "Wb"})
        print("RESULT " + json.dumps({"seconds": seconds, "steps": steps, "compute": compute,
                                      "allreduce": allreduce, "lockstep": lockstep, "loss": loss,
                                      "parameters": net.count_params()}), flush=True)


def lockstep_allreduce(nd, count, repeats=50):
    """Seconds of one Allreduce of ``count`` float32 values when the ranks arrive together
    (a barrier before each): the Allreduce itself, without waiting for a slower rank."""
    import numpy as np

    from nnscratch.distributed import comm
    buffer = np.ones(count, dtype=np.float32)
    total = 0.0
    for _ in range(repeats):
        nd.barrier()
        start = time.perf_counter()
        comm.allreduce_sum(buffer)
        total += time.perf_counter() - start
    return float(nd.allreduce(np.array([total / repeats]))[0])


def step_times(build, x, y, w, batches, steps, repeats=3):
    """``{batch: seconds per step}`` of ``steps`` training steps on one thread (the least of
    ``repeats`` runs: the machine's noise only adds), and the parameter count."""
    out = {}
    for batch in batches:
        n = batch * steps
        best = None
        for _ in range(repeats):
            model = build()
            extra = {} if w is None else {"sample_weight": w[:n]}
            start = time.perf_counter()
            model.fit(x[:n], y[:n], batch_size=batch, verbose=0, shuffle=False, **extra)
            seconds = (time.perf_counter() - start) / steps
            best = seconds if best is None else min(best, seconds)
        out[str(batch)] = best
    out["parameters"] = model.count_params()
    return out


def steps_worker(quick, seed):
    """W2 (batches 128 and 64) and W4 (64 and 32) on one thread, for the scaling model."""
    import nnscratch as ns
    from benchmarks import w2_mlp as w2
    from benchmarks import w4_transformer as w4
    ns.set_num_threads(1)
    c2 = w2.setup(True, seed)

    def mlp():
        return ns.Network([ns.Dense(256, activation="relu"), ns.Dense(128, activation="relu"),
                           ns.Dense(10, activation="softmax")],
                          loss="sparse_categorical_crossentropy",
                          optimizer=ns.optimizers.Adam(learning_rate=w2.LEARNING_RATE),
                          seed=seed, dtype="float32", input_shape=(w2.SIZES[0],))
    c4 = w4.setup(False, seed)
    example = w4._example()

    def gpt():
        return example.build_model(learning_rate=w4.LEARNING_RATE,
                                   weight_decay=w4.WEIGHT_DECAY, total_steps=None, seed=seed)
    result = {"w2": step_times(mlp, c2["x"], c2["labels"], None, (128, 64), 50),
              "w4": step_times(gpt, c4["x"], c4["labels"], c4["weights"], (64, 32), 15)}
    print("RESULT " + json.dumps(result), flush=True)


# -- the parent ---------------------------------------------------------------------------------

def run_config(kind, threads, quick, seed):
    """One run of a configuration in fresh processes; its RESULT dict."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               PYTHONPATH=os.pathsep.join([ROOT, os.path.join(ROOT, "src")]))
    for var in harness.BLAS_ENV_VARS:      # the current OpenBLAS kernel, as benchmarks/run.py
        env.pop(var, None)
    command = [sys.executable, os.path.abspath(__file__), "--worker", kind,
               "--threads", str(threads), "--seed", str(seed)] + (["--quick"] if quick else [])
    if kind == "ranks":
        mpiexec = os.path.join(os.path.dirname(sys.executable), "mpiexec")
        command = [mpiexec if os.path.exists(mpiexec) else "mpiexec", "-n", "2"] + command
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(lines[-1][len("RESULT "):])


def allreduce_seconds(nbytes, ranks, bandwidth, latency):
    """A ring Allreduce: :math:`2 (p-1)/p \\cdot S/B + 2 (p-1) \\alpha`."""
    return 2 * (ranks - 1) / ranks * nbytes / bandwidth + 2 * (ranks - 1) * latency


def scaling_rows(name, fixed, per_sample, batch, nbytes):
    """Rows of the scaling table for one network: step time ``fixed + per_sample x b``."""
    rows = []
    for network, (bandwidth, latency) in NETWORKS.items():
        for p in RANKS:
            comm = allreduce_seconds(nbytes, p, bandwidth, latency)
            step = fixed + per_sample * batch
            efficiency = step / (step + comm)
            half = (comm - fixed) / per_sample              # t(b) = t_Allreduce: 50 %
            rows.append([name, network, p, f"{comm * 1e3:.2f} ms", f"{efficiency:.0%}",
                         f"{half:,.0f} ({half * p:,.0f} global)" if half >= 1 else "none"])
    return rows


def report(results, steps, quick, seed):
    """The Markdown of RESULTS-mpi.md."""
    import numpy  # noqa: F401 - loaded, so that threadpoolctl finds its BLAS
    medians = {name: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
               for name, runs in results.items()}
    base = medians["1 process x 1 thread"]["seconds"]
    rows = []
    for name, m in medians.items():
        count = m["steps"]
        rest = m["seconds"] - m["compute"] - m["allreduce"]
        rows.append([name, harness.seconds_text(m["seconds"]), f"{m['seconds'] / count * 1e3:.2f} ms",
                     f"{m['compute'] / count * 1e3:.2f} ms", f"{m['allreduce'] / count * 1e3:.2f} ms",
                     f"{rest / count * 1e3:.2f} ms", f"{base / m['seconds']:.2f}x", f"{m['loss']:.6g}"])
    ranks = medians["2 ranks x 1 thread"]
    fits = {}
    for name, (big, small) in (("w2", (128, 64)), ("w4", (64, 32))):
        times = steps[name]
        per_sample = max((times[str(big)] - times[str(small)]) / (big - small), 1e-12)
        fits[name] = (max(times[str(big)] - big * per_sample, 0.0), per_sample,
                      times["parameters"] * 4 + 8)
    (w2_fixed, w2_per_sample, w2_bytes), (w4_fixed, w4_per_sample, w4_bytes) = \
        fits["w2"], fits["w4"]
    lines = [
        "# Data-parallel training over MPI (W2)", "",
        f"- Date: {datetime.date.today().isoformat()}",
        f"- Machine: {harness.machine_description()}",
        f"- NumPy BLAS: {harness.blas_description()} (the workers: one or two threads as "
        "named, OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, as benchmarks/run.py does)",
        f"- Command: `python benchmarks/mpi.py{' --quick' if quick else ''}` (seed {seed})", "",
        "## W2, one epoch, global batch 128", "",
        harness.format_table(["configuration", "epoch", "per step", "compute (fwd+bwd)",
                              "Allreduce", "update and rest", "speed-up vs 1x1", "final loss"],
                             rows), "",
        f"- Median of {len(next(iter(results.values())))} round(s), each in fresh processes.",
        "- 2 ranks: 64 samples per rank and step, one Allreduce of the "
        f"{ranks['parameters']:,} packed float32 gradients ({w2_bytes / 1e6:.2f} MB) per step; "
        "compute and Allreduce are the mean over the ranks, the Allreduce including the wait "
        "for the slower rank. The Allreduce alone, the ranks arriving together (a barrier "
        f"before each of 50): {ranks['lockstep'] * 1e3:.2f} ms.",
        "- Every round, epoch seconds: " + "; ".join(
            f"{name} " + " ".join(f"{r['seconds']:.3g}" for r in runs)
            for name, runs in results.items()), "",
        "## The scaling model (docs/guide/distributed.md)", "",
        "Step time on one core (one process, the least of 3 runs of 50 W2 or 15 W4 steps), "
        "fitted as t(b) = t0 + c b from two batches: W2 "
        f"t0 = {w2_fixed * 1e3:.2f} ms, c = {w2_per_sample * 1e6:.2f} us per sample "
        f"(t(64) = {steps['w2']['64'] * 1e3:.2f} ms, t(128) = {steps['w2']['128'] * 1e3:.2f} ms, "
        f"{w2_bytes / 1e6:.2f} MB of gradients); W4 "
        f"t0 = {w4_fixed * 1e3:.2f} ms, c = {w4_per_sample * 1e6:.1f} us per sample "
        f"(t(32) = {steps['w4']['32'] * 1e3:.2f} ms, t(64) = {steps['w4']['64'] * 1e3:.2f} ms, "
        f"{steps['w4']['parameters']:,} parameters, {w4_bytes / 1e6:.2f} MB of gradients). Ring "
        "Allreduce 2(p-1)/p S/B + 2(p-1) a; efficiency t(b) / (t(b) + Allreduce) at the "
        "benchmark's batch per rank (W2 128, W4 64), no overlap of compute and communication; "
        "the last column is the batch per rank (and global) below which the Allreduce takes "
        "longer than the compute (efficiency under 50 %; none: the step's fixed part, the "
        "optimizer's update, alone takes longer than the Allreduce).", "",
        harness.format_table(["network", "interconnect", "ranks", "Allreduce", "efficiency",
                              "stops scaling below batch per rank"],
                             scaling_rows("W2", w2_fixed, w2_per_sample, 128, w2_bytes)
                             + scaling_rows("W4", w4_fixed, w4_per_sample, 64, w4_bytes)),
        "",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 round, 1/8 of the W2 data")
    parser.add_argument("--repeats", type=int, default=None, help="rounds (default 3; quick 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-write", action="store_true", help="print the tables only")
    parser.add_argument("--out", default=os.path.join(HERE, "RESULTS-mpi.md"))
    parser.add_argument("--worker", choices=("ranks", "process", "steps"), help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker == "steps":
        return steps_worker(args.quick, args.seed)
    if args.worker:
        return w2_worker(args.worker, args.threads, args.quick, args.seed)
    repeats = args.repeats or (1 if args.quick else 3)
    results = {name: [] for name in CONFIGS}
    names = list(CONFIGS)
    for round_index in range(repeats):
        order = names[round_index % len(names):] + names[:round_index % len(names)]
        for name in order:
            kind, threads = CONFIGS[name]
            results[name].append(run_config(kind, threads, args.quick, args.seed))
            print(f"round {round_index + 1}: {name}: {results[name][-1]['seconds']:.3f} s",
                  flush=True)
    steps = run_config("steps", 1, args.quick, args.seed)
    text = report(results, steps, args.quick, args.seed)
    print(text)
    if not args.no_write:
        with open(args.out, "w") as out:
            out.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
