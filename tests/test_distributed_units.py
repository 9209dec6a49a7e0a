"""Pieces of nnscratch.distributed that need no MPI: how batches are cut, which callbacks run
where, how a launcher is recognised (the MPI runs are in test_distributed.py)."""

import itertools

import pytest

import nnscratch as ns
import nnscratch.distributed as nd
from nnscratch.distributed.sharding import piece


@pytest.mark.parametrize("count, parts", [(130, 4), (128, 2), (10, 4), (3, 4), (7, 1)])
def test_pieces_cover_the_batch_and_differ_by_at_most_one(count, parts):
    pieces = [piece(count, parts, r) for r in range(parts)]
    sizes = [p.stop - p.start for p in pieces]
    assert pieces[0].start == 0 and pieces[-1].stop == count
    assert all(a.stop == b.start for a, b in itertools.pairwise(pieces))
    assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)


def test_the_last_batch_of_130_on_4_ranks():
    assert [piece(130, 4, r) for r in range(4)] == [slice(0, 33), slice(33, 66), slice(66, 98),
                                                   slice(98, 130)]


def test_files_and_printing_run_on_rank_zero_only(tmp_path):
    cb = ns.callbacks
    writers = [cb.CSVLogger(tmp_path / "log.csv"), cb.ModelCheckpoint(tmp_path / "m.nns")]
    everywhere = [cb.EarlyStopping(monitor="loss"), cb.ModelCheckpoint(), cb.TerminateOnNaN()]
    marked = cb.Callback()
    marked.rank_zero_only = True
    for callback in writers + everywhere + [marked]:
        assert nd.runs_here(callback, 0)
    for callback in writers + [marked]:
        assert not nd.runs_here(callback, 1)
    for callback in everywhere:
        assert nd.runs_here(callback, 1)


def test_a_launcher_is_recognised_by_its_environment(monkeypatch):
    for name in nd.LAUNCHER_SIZE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert not nd.launched()
    monkeypatch.setenv("PMI_SIZE", "1")
    assert not nd.launched()
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "4")
    assert nd.launched()


def test_a_flag_that_is_not_a_bool_is_a_config_error():
    model = ns.Network([ns.Dense(1)], loss="mse", input_shape=(2,))
    with pytest.raises(ns.errors.ConfigError, match="sync_batch_norm"):
        nd.distribute(model, sync_batch_norm="yes")
    assert model.distribution is None


def test_one_process_is_rank_0_of_1_until_init():
    if nd.is_initialized():
        pytest.skip("MPI was started in this process")
    assert (nd.rank(), nd.size(), nd.local_rank(), nd.is_root()) == (0, 1, 0, True)
    assert nd.allreduce([1.0, 2.0]).tolist() == [1.0, 2.0]
    assert nd.broadcast([3, 4]).tolist() == [3, 4]


def test_sync_batch_norm_is_plain_batch_norm_in_one_process(tmp_path):
    import copy

    import numpy as np

    def model(norm):
        return ns.Network([ns.Dense(8), norm(momentum=0.9, name="norm"), ns.Dense(1)],
                          loss="mse", optimizer="adam", seed=0, dtype="float64", input_shape=(3,))

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 3)), rng.normal(size=(64, 1))
    synced, plain = model(nd.SyncBatchNormalization), model(ns.layers.BatchNormalization)
    assert synced.layers[1].synchronized and type(synced.layers[1]) is ns.layers.BatchNormalization
    for net in (synced, plain):
        net.fit(x, y, epochs=2, batch_size=16, seed=1, verbose=0)
    for key, value in plain.get_weights().items():
        np.testing.assert_array_equal(synced.get_weights()[key], value)
    assert copy.deepcopy(synced).layers[1].synchronized
    synced.save(tmp_path / "m.nns")               # loads anywhere as a plain BatchNormalization
    loaded = ns.load(tmp_path / "m.nns")
    assert type(loaded.layers[1]) is ns.layers.BatchNormalization
    assert nd.synchronize_batch_norm(loaded).layers[1].synchronized
