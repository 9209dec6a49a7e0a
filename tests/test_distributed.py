"""Data-parallel training over MPI: the scenarios of distributed_worker.py run under
``mpiexec -n 2`` and ``-n 4``, compared with one process trained on the global batch.

Skipped without mpi4py or an ``mpiexec`` (``pip install 'nnscratch[mpi]'`` brings both).
"""

import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

import nnscratch as ns

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import distributed_worker as worker  # noqa: E402

pytest.importorskip("mpi4py")
MPIEXEC = (shutil.which("mpiexec", path=os.path.dirname(sys.executable))
           or shutil.which("mpiexec"))
pytestmark = pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec (pip install mpich)")

TWO_RANKS = ["equivalence", "remainder", "graph_dataset", "iterable", "sync_bn", "local_bn",
             "callbacks", "resume", "unbuilt", "several_outputs", "frozen"]
FOUR_RANKS = ["equivalence", "remainder", "sync_bn", "iterable"]


def mpiexec(ranks, *command, timeout=120):
    """Run ``command`` on ``ranks`` ranks (one BLAS thread each); the finished process."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")     # the last three for Open MPI's mpiexec
    return subprocess.run([MPIEXEC, "-n", str(ranks), *command], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=HERE)


def run_scenarios(ranks, names, out):
    done = mpiexec(ranks, sys.executable, "distributed_worker.py", str(out), ",".join(names))
    assert done.returncode == 0, done.stdout + done.stderr
    (out / "stdout.txt").write_text(done.stdout)
    return {name: [dict(np.load(out / f"{name}-{r}.npz")) for r in range(ranks)]
            for name in names}


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    out = tmp_path_factory.mktemp("two")
    return out, run_scenarios(2, TWO_RANKS, out)


@pytest.fixture(scope="module")
def four(tmp_path_factory):
    return run_scenarios(4, FOUR_RANKS, tmp_path_factory.mktemp("four"))


def result(model, history):
    out = {f"w:{k}": v for k, v in model.get_weights().items()}
    out.update({f"h:{k}": np.array(v) for k, v in history.history.items()})
    return out


def assert_close(got, expected, tol=1e-10):
    assert set(got) == set(expected)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=0, atol=tol, err_msg=key)


def one_process(n, batch_size, batch_norm=None):
    model = worker.network(batch_norm)
    return result(model, worker.fit_arrays(model, n, batch_size))


def test_every_rank_ends_with_bitwise_equal_parameters(two, four):
    for runs in (two[1], four):
        for name, ranks in runs.items():
            for other in ranks[1:]:
                for key in ranks[0]:
                    assert np.array_equal(ranks[0][key], other[key]), (name, key)


def test_two_ranks_of_64_train_as_one_process_of_128(two):
    # 1280 samples, 2 epochs: 20 Adam steps of 128 samples, float64, no dropout
    assert_close(two[1]["equivalence"][0], one_process(1280, 128))


def test_four_ranks_of_32_train_as_one_process_of_128(four):
    assert_close(four["equivalence"][0], one_process(1280, 128))


def test_an_uneven_last_batch_is_weighted_as_one_process_does(two, four):
    expected = one_process(1290, 128)          # the last batch of each epoch holds 10 samples
    assert_close(two[1]["remainder"][0], expected)       # 5 + 5
    assert_close(four["remainder"][0], expected)         # 3 + 3 + 2 + 2


def test_a_graph_model_from_a_dataset(two):
    model = worker.graph_model()
    x, y = worker.data(600)
    history = model.fit(ns.data.ArrayDataset(x, y), epochs=2, batch_size=64, seed=5, verbose=0,
                        validation_data=worker.data(101, seed=1))
    assert_close(two[1]["graph_dataset"][0], result(model, history))


def test_an_iterable_is_shared_out_batch_by_batch(two, four):
    for ranks, runs in ((2, two[1]), (4, four)):
        # a global step is `ranks` consecutive batches of 50: one process with batches of 50 x ranks
        model = worker.network()
        history = model.fit(worker.batches_of(500, 50 * ranks), epochs=2, verbose=0,
                            validation_data=worker.batches_of(120, 40, seed=1))
        assert_close(runs["iterable"][0], result(model, history))


def test_a_graph_model_with_two_outputs(two):
    model = worker.two_outputs()
    x, y = worker.two_targets(300)
    history = model.fit(x, y, epochs=2, batch_size=64, seed=5, verbose=0,
                        validation_data=worker.two_targets(101, seed=1))
    assert_close(two[1]["several_outputs"][0], result(model, history))


def test_a_frozen_layer_unpacks_the_gradients(two):
    model = worker.network()
    model.layers[0].trainable = False
    assert_close(two[1]["frozen"][0], result(model, worker.fit_arrays(model, 640, 64)))


def test_sync_batch_norm_matches_one_process_batch_norm(two, four):
    expected = one_process(640, 64, ns.layers.BatchNormalization)
    assert_close(two[1]["sync_bn"][0], expected)
    assert_close(four["sync_bn"][0], expected)


def test_per_rank_batch_norm_averages_its_running_statistics(two):
    got = two[1]["local_bn"][0]
    one = one_process(640, 64, ns.layers.BatchNormalization)
    assert set(got) == set(one)
    # each rank normalizes its 32 samples with their own statistics: not the global batch's
    assert not np.allclose(got["w:dense_0.W"], one["w:dense_0.W"], atol=1e-10)
    np.testing.assert_allclose(got["w:norm.running_mean"],
                               one["w:norm.running_mean"], atol=0.05)


def test_files_and_printing_come_from_rank_zero_only(two):
    out, runs = two
    assert (out / "log-0.csv").exists() and not (out / "log-1.csv").exists()
    assert (out / "marker-0").exists() and not (out / "marker-1").exists()
    history = runs["callbacks"][0]["h:loss"]
    assert 1 <= len(history) < 5                 # EarlyStopping stopped every rank together
    assert (out / "stdout.txt").read_text().count("epoch 1/5") == 1     # verbose=2 on rank 0


def test_resuming_from_a_checkpoint_continues_exactly(two):
    got = two[1]["resume"][0]
    for key in [k for k in got if k.startswith("w:")]:
        assert np.array_equal(got[key], got["s:" + key[2:]]), key


@pytest.mark.parametrize("how", ["hang", "raise", "kill"])
def test_a_rank_that_stops_ends_the_job_within_the_timeout(tmp_path, how):
    start = time.perf_counter()
    done = mpiexec(2, sys.executable, "distributed_worker.py", str(tmp_path), f"stop-{how}",
                   timeout=60)
    elapsed = time.perf_counter() - start
    assert done.returncode != 0
    assert elapsed < 30                     # the worker sets a 2 s timeout
    if how == "hang":
        assert "waited 2 s for the other ranks in the gradient Allreduce of step 3" in done.stderr
    if how == "raise":
        assert "rank 1 stopped on an uncaught RuntimeError" in done.stderr


def test_the_command_line_trains_under_mpiexec(tmp_path):
    x, y = worker.data(300)
    table = tmp_path / "data.csv"
    lines = ["a,b,c,d,e,f,y"] + [",".join(f"{v:.6f}" for v in row) + f",{label}"
                                 for row, label in zip(x, y)]
    table.write_text("\n".join(lines) + "\n")
    model = tmp_path / "m.nns"
    done = mpiexec(2, sys.executable, "-m", "nnscratch", "train", str(table), "--target", "y",
                   "--epochs", "3", "--out", str(model))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("model written to") == 1
    assert "data parallel: 2 ranks" in done.stdout
    assert ns.load(model).count_params() > 0
