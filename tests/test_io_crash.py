"""Saves killed with SIGKILL at random moments: the target is always a complete model.

A warm saver process (this file run as a script) has the models in memory; for each trial it
forks a child that saves model A, then B, then A... to one target as fast as it can, and the
test kills that child with SIGKILL after a random delay spanning a few saves. After every kill
the target must be byte for byte a complete save of A or of B (and load), and the temporary
file a killed save left behind must be gone after the next save. Forking from the warm process
keeps a trial at a few milliseconds instead of the cost of starting Python and NumPy.

The default run kills 200 saves; the long run (``pytest -m long tests/test_io_crash.py -s``)
kills 1,000 and prints how many landed mid-write.
"""

import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest

import nnscratch as ns

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL (POSIX)")

TRIALS = 200         # kills in the default run
LONG_TRIALS = 1000   # kills in the long run (pytest -m long)


def build_models():
    """Two networks of the same architecture with different weights (about 1.6 MB each saved)."""
    models = []
    x = np.random.default_rng(0).standard_normal((8, 256)).astype(np.float32)
    for seed in (1, 2):
        net = ns.Network([ns.Dense(256, activation="relu", input_dim=256), ns.Dense(256),
                          ns.Dense(10)], loss="mse", seed=seed,
                         optimizer=ns.optimizers.Adam(learning_rate=1e-3))
        net.fit(x, np.zeros((8, 10), np.float32), epochs=1, verbose=0)   # Adam state exists
        models.append(net)
    return models


def serve(folder, reference_folder):
    """The saver process: ``fork <i>`` starts a child saving forever, ``reap <pid>`` waits.

    It first writes its two models to ``ref0.nns`` and ``ref1.nns`` in ``reference_folder``
    (the bytes every complete save must have) and the first one to the target.
    """
    models = build_models()
    target = os.path.join(folder, "model.nns")
    for i, net in enumerate(models):
        net.save(os.path.join(reference_folder, f"ref{i}.nns"), include_optimizer=True)
    models[0].save(target)
    print("ready", flush=True)
    for line in sys.stdin:
        command, argument = line.split()
        if command == "fork":
            pid = os.fork()
            if pid == 0:                       # the child: save until killed
                i = int(argument)
                try:
                    while True:
                        models[i % 2].save(target)
                        i += 1
                finally:
                    os._exit(1)
            print(pid, flush=True)
        elif command == "reap":
            _, status = os.waitpid(int(argument), 0)
            print(status, flush=True)


def temp_files(folder):
    return sorted(f for f in os.listdir(folder) if f.endswith(".tmp"))


@pytest.fixture
def saves_folder(tmp_path):
    """A folder for the saves: in memory (/dev/shm) where there is one, so that each fsync is
    cheap and 200 trials take seconds; the rename logic under test is the same on any disk."""
    shm = "/dev/shm"
    if os.path.isdir(shm) and os.access(shm, os.W_OK):
        folder = tempfile.mkdtemp(prefix="nnscratch-crash-", dir=shm)
        yield pathlib.Path(folder)
        shutil.rmtree(folder, ignore_errors=True)
    else:
        (tmp_path / "saves").mkdir()
        yield tmp_path / "saves"


@pytest.mark.parametrize("trials", [TRIALS, pytest.param(LONG_TRIALS, marks=pytest.mark.long,
                                                        id="long")])
def test_sigkill_during_save_leaves_the_old_or_the_new_model(tmp_path, saves_folder, trials):
    folder = saves_folder
    target = folder / "model.nns"
    src = os.path.dirname(os.path.dirname(os.path.abspath(ns.__file__)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]),
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    saver = subprocess.Popen([sys.executable, os.path.abspath(__file__), str(folder),
                              str(tmp_path)], env=env,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(line):
        saver.stdin.write(line + "\n")
        saver.stdin.flush()
        answer = saver.stdout.readline()
        assert answer, f"the saver process died (exit code {saver.poll()})"
        return int(answer)

    rng = np.random.default_rng(12345)
    outcomes, killed_mid_write = [0, 0], 0
    began = time.perf_counter()
    try:
        assert saver.stdout.readline().strip() == "ready"
        reference = [(tmp_path / f"ref{i}.nns").read_bytes() for i in (0, 1)]
        models = [ns.load(tmp_path / f"ref{i}.nns") for i in (0, 1)]
        assert reference[0] != reference[1] and target.read_bytes() == reference[0]
        start = time.perf_counter()
        models[0].save(folder / "timing.nns")
        save_seconds = time.perf_counter() - start
        trial = 0
        # at least ``trials`` kills, and more (up to three times as many) while fewer than a
        # tenth have landed inside a save: on a loaded machine the save's timing drifts
        while trial < trials or (killed_mid_write < trials // 10 and trial < 3 * trials):
            pid = ask(f"fork {trial}")
            time.sleep(rng.uniform(0.0, 2.0 * save_seconds))
            os.kill(pid, signal.SIGKILL)
            status = ask(f"reap {pid}")
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL

            data = target.read_bytes()
            assert data in reference, f"trial {trial}: the target is not a complete model"
            outcomes[reference.index(data)] += 1
            if trial % 20 == 0:
                loaded = ns.load(target)
                expected = models[reference.index(data)].get_weights()
                assert all(np.array_equal(loaded.get_weights()[k], v) for k, v in expected.items())
            leftovers = temp_files(folder)
            if leftovers:
                killed_mid_write += 1
                models[trial % 2].save(target)          # the next save cleans up
                assert temp_files(folder) == [], f"{leftovers} outlived the next save"
            trial += 1
    finally:
        saver.stdin.close()
        saver.wait(timeout=30)
    elapsed = time.perf_counter() - began
    print(f"\n{trial} SIGKILL trials in {elapsed:.2f} s (one save: {save_seconds * 1e3:.1f} ms); "
          f"killed mid-write: {killed_mid_write}; target was A {outcomes[0]} / B {outcomes[1]} times")
    assert killed_mid_write >= trials // 10, "too few kills landed inside a save to test anything"
    assert min(outcomes) > 0


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2])
