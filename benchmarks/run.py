"""Run the benchmarks of BENCHMARKS.md side by side and write benchmarks/RESULTS.md.

    python benchmarks/run.py                 # W1-W5, every contender, 5+ rounds each
    python benchmarks/run.py --quick         # fewer rounds, 1/8 of the W2-W5 data
    python benchmarks/run.py --workloads w1 --contenders nnscratch,numpy

Contenders: nnscratch, the lean NumPy loop of the same computation (the floor), PyTorch on the
CPU with as many threads as NumPy's BLAS, and scikit-learn's MLP (W1, W2). Each runs in its own
worker process (so peak memory is its own); the parent times them in turn, round after round,
and reports medians, ratios to nnscratch and the final training loss of each.

Some machines set OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE to pin an old, safe OpenBLAS kernel;
they slow a current NumPy down. Unless ``--keep-blas-env`` is given, the runner re-executes
itself without those two variables (for itself and its workers only) and reports which BLAS
kernel then runs.
"""

import argparse
import datetime
import importlib
import importlib.util
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for path in (ROOT, os.path.join(ROOT, "src")):
    if path not in sys.path:
        sys.path.insert(0, path)

from benchmarks import harness  # noqa: E402

WORKLOADS = {"w1": "benchmarks.w1_xor", "w2": "benchmarks.w2_mlp", "w3": "benchmarks.w3_cnn",
             "w4": "benchmarks.w4_transformer", "w5": "benchmarks.w5_gru",
             "w5-lstm": "benchmarks.w5_lstm"}
CONTENDERS = ("nnscratch", "numpy", "pytorch", "sklearn")
W2_GFLOP_PER_SAMPLE = 6 * 234_752 / 1e9          # forward + two backward products per weight


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", default="w1,w2,w3,w4,w5,w5-lstm",
                        help="comma-separated: w1,w2,w3,w4,w5,w5-lstm")
    parser.add_argument("--contenders", default=",".join(CONTENDERS),
                        help="comma-separated subset of " + ",".join(CONTENDERS))
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed rounds per contender (default 7 for W1, 5 otherwise; "
                             "--quick: 3 for W1, 1 otherwise)")
    parser.add_argument("--quick", action="store_true",
                        help="fewer rounds and 1/8 of the W2-W5 data, for trying things")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"),
                        help="where to write the Markdown tables (default benchmarks/RESULTS.md)")
    parser.add_argument("--no-write", action="store_true", help="print the tables only")
    parser.add_argument("--keep-blas-env", action="store_true",
                        help="keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE as they are")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for NumPy's BLAS and PyTorch alike (default: what NumPy's "
                             "BLAS uses, normally one per core)")
    args = parser.parse_args(argv)
    args.workloads = [w.strip().lower() for w in args.workloads.split(",") if w.strip()]
    args.contenders = [c.strip().lower() for c in args.contenders.split(",") if c.strip()]
    for w in args.workloads:
        if w not in WORKLOADS:
            parser.error(f"unknown workload {w!r}; expected some of {', '.join(WORKLOADS)}")
    for c in args.contenders:
        if c not in CONTENDERS:
            parser.error(f"unknown contender {c!r}; expected some of {', '.join(CONTENDERS)}")
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be at least 1")
    return args


def reexec_without_blas_env(argv):
    """Start this script again without the OpenBLAS pinning variables (benchmark runs only)."""
    env = dict(os.environ)
    for var in harness.BLAS_ENV_VARS:
        env.pop(var, None)
    env["NNSCRATCH_BENCH_UNSET"] = ",".join(v for v in harness.BLAS_ENV_VARS if v in os.environ)
    os.execve(sys.executable, [sys.executable, os.path.abspath(__file__), *argv], env)


def contender_available(name):
    """None when the contender can run here, else the reason it cannot."""
    needs = {"pytorch": "torch", "sklearn": "sklearn"}.get(name)
    if needs and importlib.util.find_spec(needs) is None:
        return f"{needs} is not installed (pip install -e '.[bench]')"
    return None


def matmul_rate(n=2048, repeats=3):
    """GFLOP/s of a float32 ``(n, n) @ (n, n)`` product in this process (median of repeats)."""
    import numpy as np
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b                                                            # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * n**3 / statistics.median(times) / 1e9


def run_one(key, args, threads, log):
    """Time one workload; returns its section of the report (text) or a skip line."""
    module_name = WORKLOADS[key]
    module = importlib.import_module(module_name)
    reason = getattr(module, "unavailable", lambda: None)()
    if reason:
        log(f"{module.NAME}: skipped: {reason}")
        return f"## {module.TITLE}\n\nSkipped: {reason}\n"
    contenders = []
    for name in args.contenders:
        if name not in module.CONTENDERS:
            continue
        why = contender_available(name)
        if why:
            log(f"{module.NAME}: {name} skipped: {why}")
        else:
            contenders.append(name)
        if name == "nnscratch" and threads > 1:      # and on one thread, in the same rounds
            contenders.append("nnscratch" + harness.ONE_THREAD)
    if args.repeats is not None:
        repeats = args.repeats
    else:
        repeats = (3 if args.quick else 7) if key == "w1" else (1 if args.quick else 5)
    log(f"{module.TITLE}\n  {repeats} round(s); contenders: {', '.join(contenders)}")

    rates = []
    between = (lambda: rates.append(matmul_rate())) if key == "w2" else None
    results = harness.run_workload(module_name, contenders, repeats, args.quick, args.seed,
                                   threads, between_rounds=between, log=log)
    if key == "w2":
        rates.append(matmul_rate())
    base = results.get("nnscratch", {}).get("median")
    header = ["contender", "median time", "vs nnscratch", "final loss"]
    extra = {}
    if key == "w2":
        ctx_samples = module.sample_count(args.quick)
        flop = W2_GFLOP_PER_SAMPLE * ctx_samples
        peak_rate = statistics.median(rates)
        header += ["GFLOP/s", "of matmul rate"]
        for name, r in results.items():
            if r["median"]:
                extra[name] = [f"{flop / r['median']:.1f}",
                               f"{flop / r['median'] / peak_rate:.0%}"]
    header.append("peak memory")
    rows = []
    for name, r in results.items():
        median = r["median"]
        ratio = "" if not (median and base) else (
            "1.00" if name == "nnscratch" else f"{median / base:.2f}x")
        loss = "n/a" if r["loss"] is None else f"{r['loss']:.6g}"
        rows.append([name, harness.seconds_text(median), ratio, loss,
                     *extra.get(name, ["", ""] if key == "w2" else []), harness.mib(r["peak_memory"])])
    table = harness.format_table(header, rows)
    notes = [f"Median of {repeats} round(s); \"vs nnscratch\" is the contender's time divided by "
             "nnscratch's (above 1: nnscratch is faster)."]
    if "nnscratch" + harness.ONE_THREAD in results:
        notes.append(f"nnscratch{harness.ONE_THREAD} is nnscratch in a process started with one "
                     "thread (OPENBLAS_NUM_THREADS=1), timed in the same rounds: above 1, the "
                     f"default {threads} threads are faster than one.")
    if key == "w2":
        notes.append(f"Work: {flop:.1f} GFLOP per epoch ({ctx_samples} samples x 6 x 234,752); "
                     f"float32 2048x2048 matrix product in the same run: {peak_rate:.1f} GFLOP/s "
                     f"(median of {len(rates)}).")
    notes.append("Every round, in seconds (a shared machine's noise shows here): " + "; ".join(
        f"{name} " + " ".join(f"{t:.3g}" for t in r["times"]) for name, r in results.items()))
    notes.extend(getattr(module, "NOTES", []))
    failures = [f"{n}: {r['error']}" for n, r in results.items() if r["error"]]
    if failures:
        notes.append("Failed: " + "; ".join(failures))
    log("\n" + table + "\n" + "\n".join(notes) + "\n")
    return f"## {module.TITLE}\n\n{table}\n\n" + "\n".join(f"- {n}" for n in notes) + "\n"


def kept_sections(path):
    """The sections of an existing results file that this runner does not write (a "## "
    heading that names no workload, such as the MPI section that benchmarks/mpi.py's page links
    from), so that a new run keeps them, after its own."""
    try:
        with open(path) as handle:
            text = handle.read()
    except OSError:
        return ""
    ours = tuple(f"## {importlib.import_module(m).NAME}:" for m in WORKLOADS.values())
    kept = [part for part in text.split("\n## ")[1:] if not ("## " + part).startswith(ours)]
    return "".join("\n## " + part.rstrip("\n") + "\n" for part in kept)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    if args.threads is not None:          # before NumPy loads, here and in the workers
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    if not args.keep_blas_env and any(v in os.environ for v in harness.BLAS_ENV_VARS):
        reexec_without_blas_env(argv)
    import numpy as np
    threads = harness.blas_threads()
    unset = os.environ.get("NNSCRATCH_BENCH_UNSET", "")
    header = [
        f"Date: {datetime.date.today().isoformat()}",
        f"Machine: {harness.machine_description()}",
        f"NumPy {np.__version__}, BLAS: {harness.blas_description()}"
        + (f" (run with {unset.replace(',', ' and ')} unset)" if unset else ""),
        f"Threads: {threads} for NumPy's BLAS and for PyTorch (torch.set_num_threads)"
        + (f", set with --threads (the machine has {os.cpu_count()} logical CPUs)"
           if args.threads is not None else ""),
    ]
    try:
        import torch
        header.append(f"PyTorch {torch.__version__}")
    except ImportError:
        pass
    try:
        import sklearn
        header.append(f"scikit-learn {sklearn.__version__}")
    except ImportError:
        pass
    command = "python benchmarks/run.py" + (" " + " ".join(argv) if argv else "")
    header.append(f"Command: `{command}`" + (" (quick mode: not the reference numbers)"
                                              if args.quick else ""))
    print("\n".join(header) + "\n")
    sections = [run_one(key, args, threads, print) for key in args.workloads]
    report = ("# Benchmark results\n\n" + "\n".join(f"- {line}" for line in header) + "\n\n"
              + "\n".join(sections))
    if not args.no_write:
        report += kept_sections(args.out)
        with open(args.out, "w") as handle:
            handle.write(report)
        print(f"wrote {args.out}")
    return report


if __name__ == "__main__":
    main()
