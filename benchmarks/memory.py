"""Memory and time of nnscratch on data at scale; writes benchmarks/RESULTS-memory.md.

    python benchmarks/memory.py              # the full measurements (a few minutes, 2.1 GB on /tmp)
    python benchmarks/memory.py --quick      # 1/10 of the data, for trying things
    python benchmarks/memory.py --no-write   # print the table only
    python benchmarks/memory.py --threads 1  # one BLAS thread (steadier on a busy machine)

Three measurements:

1. **Batched inference.** ``predict`` and ``evaluate`` (batches of 32, the default) on 100,000
   float32 images 1x28x28 with a small CNN (Conv2D 8 3x3 relu, MaxPool2D 2, Conv2D 16 3x3 relu,
   MaxPool2D 2, Flatten, Dense 10 softmax). Bound: peak resident memory under the data size
   plus 150 MB. For contrast, ``predict`` of the same data in one batch.
2. **Training from a memory-mapped file.** One epoch of ``fit`` (batch 128, shuffled, with the
   accuracy metric) of an MLP 784-64-10 over a 2 GiB float32 ``.npy`` file of flattened images
   written to /tmp (and deleted after), opened with ``np.load(mmap_mode="r")`` and given as an
   ``ArrayDataset``. Bound: peak resident memory under 600 MB. For contrast, the same epoch
   reading the rows through the mapping (a Dataset that indexes the memmap).
3. **Generator against arrays.** ``fit`` for one epoch from a generator of batches and from the
   same arrays in the same batches (``shuffle=False``), side by side, several rounds, medians;
   for the small CNN and for the MLP. Bound: the generator within 10% of the arrays.

Each memory figure is the peak resident set (``VmHWM`` of ``/proc/self/status``) of a fresh
subprocess that does only that one thing: interpreter, NumPy, the library, the data, all of it.
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for path in (ROOT, os.path.join(ROOT, "src")):
    if path not in sys.path:
        sys.path.insert(0, path)

from benchmarks.harness import blas_description, machine_description  # noqa: E402

MB = 1e6
IMAGES = 100_000
FILE_BYTES = 2 << 30                  # 2 GiB of features
FEATURES = 784
THREADS = None                        # BLAS threads (--threads), None: BLAS's own default


def status_bytes(field):
    """``VmRSS`` or ``VmHWM`` of this process, in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def small_cnn():
    import nnscratch as ns
    return ns.Network([ns.Conv2D(8, 3, activation="relu"), ns.MaxPool2D(2),
                       ns.Conv2D(16, 3, activation="relu"), ns.MaxPool2D(2), ns.Flatten(),
                       ns.Dense(10, activation="softmax")],
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                      optimizer="adam", seed=0, input_shape=(1, 28, 28))


def mlp():
    import nnscratch as ns
    return ns.Network([ns.Dense(64, activation="relu"), ns.Dense(10, activation="softmax")],
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                      optimizer="adam", seed=0, input_shape=(FEATURES,))


def images(n, seed=0):
    """``n`` float32 images 1x28x28 and labels, drawn in place (no temporary copy)."""
    rng = np.random.default_rng(seed)
    x = np.empty((n, 1, 28, 28), dtype=np.float32)
    rng.standard_normal(dtype=np.float32, out=x)
    return x, rng.integers(0, 10, n)


# -- the subprocesses -------------------------------------------------------------------------

def child_inference(what, n):
    """Peak memory of ``predict`` / ``evaluate`` / whole-batch ``predict`` on ``n`` images."""
    net = small_cnn()
    x, y = images(n)
    before = status_bytes("VmRSS")
    start = time.perf_counter()
    if what == "predict":
        net.predict(x)
    elif what == "evaluate":
        net.evaluate(x, y)
    else:
        net.predict(x, batch_size=len(x))
    seconds = time.perf_counter() - start
    return {"data": x.nbytes, "before": before, "peak": status_bytes("VmHWM"),
            "seconds": seconds}


def child_fit_file(how, x_path, y_path):
    """Peak memory of one epoch of ``fit`` over the memory-mapped files."""
    import nnscratch as ns

    class Mapped(ns.data.Dataset):
        """Reads rows through the mapping (the contrast): the pages touched stay resident."""

        def __init__(self, x, y):
            self.x, self.y = x, y

        def __len__(self):
            return len(self.x)

        def batch(self, indices):
            return self.x[indices], self.y[indices]

    x = np.load(x_path, mmap_mode="r")
    y = np.load(y_path, mmap_mode="r")
    data = ns.data.ArrayDataset(x, y) if how == "dataset" else Mapped(x, y)
    net = mlp()
    before = status_bytes("VmRSS")
    start = time.perf_counter()
    history = net.fit(data, epochs=1, batch_size=128, verbose=0)
    seconds = time.perf_counter() - start
    return {"file": x.nbytes + y.nbytes, "before": before, "peak": status_bytes("VmHWM"),
            "seconds": seconds, "loss": history.history["loss"][-1]}


def run_child(*args):
    """Run this script as ``--child args...`` in a fresh interpreter; its JSON answer."""
    threads = [] if THREADS is None else ["--threads", str(THREADS)]
    out = subprocess.run([sys.executable, os.path.abspath(__file__), *threads, "--child",
                          *map(str, args)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- the measurements -------------------------------------------------------------------------

def inference(n):
    rows = []
    for what in ("predict", "evaluate", "predict-one-batch"):
        result = run_child("inference", what, n)
        rows.append((what, result))
        print(f"{what}: peak {result['peak'] / MB:.0f} MB, data {result['data'] / MB:.0f} MB, "
              f"{result['seconds']:.1f} s", flush=True)
    return rows


def write_file(folder, file_bytes):
    """A float32 .npy of ``file_bytes`` bytes of features and its labels; their paths."""
    n = -(-file_bytes // (FEATURES * 4))
    x_path, y_path = os.path.join(folder, "nns-x.npy"), os.path.join(folder, "nns-y.npy")
    rng = np.random.default_rng(1)
    x = np.lib.format.open_memmap(x_path, mode="w+", dtype=np.float32, shape=(n, FEATURES))
    for start in range(0, n, 65536):
        stop = min(start + 65536, n)
        rng.standard_normal(dtype=np.float32, out=x[start:stop])
    x.flush()
    del x
    np.save(y_path, rng.integers(0, 10, n))
    return x_path, y_path


def fit_file(file_bytes, folder="/tmp"):
    x_path, y_path = write_file(folder, file_bytes)
    try:
        rows = []
        for how in ("dataset", "mapped"):
            result = run_child("fit-file", how, x_path, y_path)
            rows.append((how, result))
            print(f"fit over the file ({how}): peak {result['peak'] / MB:.0f} MB, "
                  f"{result['seconds']:.1f} s", flush=True)
        return rows
    finally:
        for path in (x_path, y_path):
            os.remove(path)


def generator_timing(rounds, n_images, n_vectors):
    """Median seconds of one epoch from arrays and from a generator, per model."""
    results = []
    for name, make, x, y in (
            ("small CNN", small_cnn, *images(n_images)),
            ("MLP 784-64-10", mlp, np.random.default_rng(2).standard_normal(
                (n_vectors, FEATURES), dtype=np.float32),
             np.random.default_rng(3).integers(0, 10, n_vectors))):
        def batches(x=x, y=y):
            for start in range(0, len(x), 32):
                yield x[start:start + 32], y[start:start + 32]

        def from_arrays(make=make, x=x, y=y):
            make().fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0)

        def from_generator(make=make, batches=batches):
            make().fit(batches(), epochs=1, verbose=0)

        times = {"arrays": [], "generator": []}
        from_arrays()                                             # warm-up
        for k in range(rounds):
            order = [("arrays", from_arrays), ("generator", from_generator)]
            for label, run in order if k % 2 == 0 else order[::-1]:
                start = time.perf_counter()
                run()
                times[label].append(time.perf_counter() - start)
        medians = {k: statistics.median(v) for k, v in times.items()}
        results.append((name, len(x), medians))
        print(f"{name}: arrays {medians['arrays']:.3f} s, generator "
              f"{medians['generator']:.3f} s ({medians['generator'] / medians['arrays']:.3f}x)",
              flush=True)
    return results


def table(inference_rows, file_rows, timing, n, command):
    lines = [
        "# Memory and time at scale",
        "",
        f"Written by `{command}` on "
        f"{datetime.date.today().isoformat()}: {machine_description()}; BLAS "
        f"{blas_description()}; NumPy {np.__version__}, Python {sys.version.split()[0]}.",
        "Peak memory is the peak resident set (VmHWM) of a fresh process doing only that one "
        "thing (interpreter, NumPy, library and data included).",
        "",
        f"## Batched inference: {n:,} float32 images 1x28x28, small CNN, batches of 32",
        "",
        "| call | data | peak resident | peak - data | bound (data + 150 MB) | time |",
        "|------|-----:|--------------:|------------:|------------------------|-----:|",
    ]
    for what, r in inference_rows:
        bound = "met" if r["peak"] < r["data"] + 150 * MB else "**missed**"
        if what == "predict-one-batch":
            bound = "(contrast: the old whole-batch predict)"
        lines.append(f"| `{what}` | {r['data'] / MB:.0f} MB | {r['peak'] / MB:.0f} MB | "
                     f"{(r['peak'] - r['data']) / MB:.0f} MB | {bound} | {r['seconds']:.1f} s |")
    lines += ["", "## One epoch of fit over a memory-mapped file",
              "", "MLP 784-64-10, batch 128, shuffled, accuracy metric; x float32 in a .npy "
              "opened with `np.load(mmap_mode=\"r\")`.", "",
              "| reading | file | peak resident | bound (600 MB) | epoch time |",
              "|---------|-----:|--------------:|----------------|-----------:|"]
    for how, r in file_rows:
        label = ("`ArrayDataset` (positioned reads, sorted index runs)" if how == "dataset"
                 else "contrast: indexing the memmap (pages stay mapped)")
        bound = "met" if r["peak"] < 600 * MB else "**missed**"
        if how != "dataset":
            bound = "(contrast)"
        lines.append(f"| {label} | {r['file'] / MB:.0f} MB | {r['peak'] / MB:.0f} MB | {bound} "
                     f"| {r['seconds']:.1f} s |")
    lines += ["", "## fit from a generator against fit from the same arrays",
              "", "One epoch, batches of 32 in the same order (`shuffle=False`); medians of "
              "alternating rounds.", "",
              "| model | samples | arrays | generator | ratio | bound (within 10%) |",
              "|-------|--------:|-------:|----------:|------:|--------------------|"]
    for name, samples, m in timing:
        ratio = m["generator"] / m["arrays"]
        lines.append(f"| {name} | {samples:,} | {m['arrays']:.3f} s | {m['generator']:.3f} s | "
                     f"{ratio:.3f} | {'met' if ratio <= 1.10 else '**missed**'} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1/10 of the data")
    parser.add_argument("--no-write", action="store_true", help="print, do not write the file")
    parser.add_argument("--rounds", type=int, default=7, help="rounds of the timing (default 7)")
    parser.add_argument("--threads", type=int, help="BLAS threads (default: BLAS's own)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    global THREADS
    THREADS = args.threads
    if THREADS is not None:
        from threadpoolctl import threadpool_limits
        threadpool_limits(THREADS)
    if args.child:
        kind, *rest = args.child
        if kind == "inference":
            result = child_inference(rest[0], int(rest[1]))
        else:
            result = child_fit_file(*rest)
        print(json.dumps(result))
        return
    scale = 10 if args.quick else 1
    n = IMAGES // scale
    inference_rows = inference(n)
    file_rows = fit_file(FILE_BYTES // scale)
    timing = generator_timing(args.rounds, 8192 // scale, 60_000 // scale)
    command = ("python benchmarks/memory.py" + (" --quick" if args.quick else "")
               + ("" if THREADS is None else f" --threads {THREADS}"))
    text = table(inference_rows, file_rows, timing, n, command)
    print(text)
    if not args.no_write:
        with open(os.path.join(HERE, "RESULTS-memory.md"), "w") as out:
            out.write(text)


if __name__ == "__main__":
    main()
