"""Training from data sources: a Dataset (arrays in memory or memory-mapped files) and
iterables of batches, with validation, callbacks, the divergence guard, resume and progress
working as they do with arrays."""

import io
import json
import os
import subprocess
import sys
import textwrap
import time
import types

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import nnscratch as ns
from nnscratch.callbacks import EarlyStopping, ModelCheckpoint
from nnscratch.data import ArrayDataset, Dataset, index_runs, is_dataset
from nnscratch.data.files import file_backed
from nnscratch.errors import ConfigError, DataError, DataTypeError, TrainingError


def data(n=53, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 5))
    return x, (x[:, 0] + x[:, 1] > 0).astype(int)


def classifier(seed=3, **options):
    return ns.Network([ns.Dense(8, activation="relu"), ns.Dropout(0.2),
                       ns.BatchNormalization(momentum=0.8), ns.Dense(2, activation="softmax")],
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"], seed=seed,
                      optimizer=ns.optimizers.Adam(learning_rate=0.01), dtype="float64",
                      **options)


def assert_same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    assert list(wa) == list(wb)
    for key in wa:
        assert wa[key].tobytes() == wb[key].tobytes(), key


def batches_of(x, y, size, w=None):
    return [(x[i:i + size], y[i:i + size]) + (() if w is None else (w[i:i + size],))
            for i in range(0, len(x), size)]


class Batches:
    """A re-iterable: every ``iter`` starts again from the first batch; no ``len``."""

    def __init__(self, items):
        self.items = items

    def __iter__(self):
        yield from self.items


def endless(items):
    while True:
        yield from items


@pytest.fixture
def npy_files(tmp_path):
    x, y = data(53)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    return (np.load(tmp_path / "x.npy", mmap_mode="r"), np.load(tmp_path / "y.npy", mmap_mode="r"),
            x, y)


# -- the Dataset protocol and ArrayDataset -------------------------------------------------------

def test_index_runs_cut_sorted_indices_into_blocks():
    starts, stops = index_runs(np.array([3, 4, 5, 9, 12, 13]))
    assert starts.tolist() == [0, 3, 4] and stops.tolist() == [3, 4, 6]
    starts, stops = index_runs(np.array([2, 2, 3]))          # a repeat starts a new run
    assert starts.tolist() == [0, 1] and stops.tolist() == [1, 3]
    assert [a.tolist() for a in index_runs(np.array([], dtype=int))] == [[], []]


def test_array_dataset_gives_the_rows_asked_for_in_their_order():
    x, y = data(10)
    w = np.linspace(0.1, 1, 10)
    ds = ArrayDataset(x, y, w)
    assert len(ds) == 10 and is_dataset(ds) and isinstance(ds, Dataset)
    bx, by, bw = ds.batch(np.array([7, 2, 2, 0]))
    assert np.array_equal(bx, x[[7, 2, 2, 0]]) and np.array_equal(by, y[[7, 2, 2, 0]])
    assert np.array_equal(bw, w[[7, 2, 2, 0]])
    inputs = ArrayDataset({"a": x, "b": x[:, :2]}, [y, y * 2]).batch(np.array([1, 0]))
    assert set(inputs[0]) == {"a", "b"} and np.array_equal(inputs[1][1], 2 * y[[1, 0]])
    assert ArrayDataset(x).batch(np.array([0]))[1] is None          # nothing to fit on


@pytest.mark.parametrize("make, error, match", [
    (lambda x, y: ArrayDataset(x, y[:5]), DataError, "same number of rows"),
    (lambda x, y: ArrayDataset(x, y).batch(np.array([0, 10])), DataError, r"indices in \[0, 10\)"),
    (lambda x, y: ArrayDataset(x, y).batch(np.array([-1])), DataError, r"indices in \[0, 10\)"),
    (lambda x, y: ArrayDataset(x, y).batch(np.array([0.5])), DataError, "integer indices"),
    (lambda x, y: ArrayDataset({}, y), DataError, "at least one array"),
    (lambda x, y: ArrayDataset(x, y, {"w": y}), DataTypeError, "one array of weights"),
])
def test_array_dataset_refuses_bad_input(make, error, match):
    x, y = data(10)
    with pytest.raises(error, match=match):
        make(x, y)


def test_a_memory_mapped_array_is_read_from_its_file_by_sorted_runs(npy_files, monkeypatch):
    xm, ym, x, y = npy_files
    ds = ArrayDataset(xm, ym)
    assert file_backed(xm) and file_backed(ym)
    reads = []
    real = os.preadv

    def counting(fd, buffers, position):
        reads.append((position, sum(len(b) for b in buffers)))
        return real(fd, buffers, position)

    monkeypatch.setattr(os, "preadv", counting)
    wanted = np.array([9, 5, 6, 7, 1, 2])
    bx, by = ds.batch(wanted)
    assert np.array_equal(bx, x[wanted]) and np.array_equal(by, y[wanted])
    row = 5 * 8
    assert sorted(size for _, size in reads if size % row == 0 and size > 8) == [row, 2 * row, 3 * row]
    assert len(reads) == 6                       # 3 runs in x, 3 in y: never one read per row


def test_views_of_a_memmap_and_copy_on_write_maps_read_the_right_rows(npy_files, tmp_path):
    xm, x = npy_files[0], npy_files[2]
    for view, expected in ((xm[10:40:3], x[10:40:3]), (xm[::-2], x[::-2]), (xm[7:], x[7:])):
        assert file_backed(view)
        ds = ArrayDataset(view)
        assert np.array_equal(ds.batch(np.array([4, 0, 2, 3]))[0], expected[[4, 0, 2, 3]])
    changed = np.load(tmp_path / "x.npy", mmap_mode="c")
    changed[0] = 100.0                           # only the mapping holds this change
    assert not file_backed(changed)
    assert ArrayDataset(changed).batch(np.array([0]))[0][0, 0] == 100.0
    assert file_backed(xm[:, 1:])                # rows apart from each other: one read a row
    assert np.array_equal(ArrayDataset(xm[:, 1:]).batch(np.array([3, 1]))[0], x[[3, 1], 1:])
    assert not file_backed(xm.T)                 # a row is not contiguous: indexed directly
    assert np.array_equal(ArrayDataset(xm.T).batch(np.array([3, 1]))[0], x.T[[3, 1]])


# -- fit from a Dataset and from iterables: the same training as from arrays ----------------

def test_fit_from_a_dataset_is_bit_identical_to_fit_from_the_arrays(npy_files):
    xm, ym, x, y = npy_files
    reference = classifier()
    expected = reference.fit(x, y, epochs=3, batch_size=8, validation_data=(x[:20], y[:20]),
                             verbose=0).history
    for source in (ArrayDataset(x, y), ArrayDataset(xm, ym)):
        net = classifier()
        history = net.fit(source, epochs=3, batch_size=8, verbose=0,
                          validation_data=ArrayDataset(xm[:20], ym[:20]))
        assert history.history == expected
        assert_same_weights(net, reference)


def test_fit_from_iterables_of_batches_equals_fit_from_arrays_in_order():
    x, y = data()
    w = np.linspace(0.5, 1.5, len(x))
    reference = classifier()
    expected = reference.fit(x, y, epochs=3, batch_size=8, shuffle=False, sample_weight=w,
                             verbose=0).history
    items = batches_of(x, y, 8, w)
    for source, options in ((items, {}), (Batches(items), {}),
                            (endless(items), {"steps_per_epoch": len(items)})):
        net = classifier()
        assert net.fit(source, epochs=3, verbose=0, **options).history == expected
        assert_same_weights(net, reference)


def test_a_generator_is_read_on_across_epochs():
    x, y = data(48)
    items = batches_of(x, y, 8)
    seen = []

    def generator():
        for k, item in enumerate(endless(items)):
            seen.append(k)
            yield item

    net = classifier()
    net.fit(generator(), epochs=3, steps_per_epoch=4, verbose=0)
    assert seen == list(range(12))               # 4 a epoch, none read beyond the last used
    one = classifier()
    one.fit(iter(items), epochs=1, verbose=0)                # one epoch needs no step count
    with pytest.raises(ConfigError, match=r"used up by one pass, and 2 epochs .* steps_per_epoch"):
        classifier().fit(iter(items), epochs=2, verbose=0)
    with pytest.raises(DataError, match="epoch 2 got no batch"):
        classifier().fit(iter(items[:2]), epochs=2, steps_per_epoch=2, verbose=0)


def test_weights_and_class_weight_with_a_dataset():
    x, y = data()
    w = np.linspace(0.5, 1.5, len(x))
    reference = classifier()
    expected = reference.fit(x, y, epochs=2, batch_size=16, sample_weight=w,
                             class_weight={0: 2.0, 1: 0.5}, verbose=0).history
    net = classifier()
    history = net.fit(ArrayDataset(x, y, w), epochs=2, batch_size=16,
                      class_weight={0: 2.0, 1: 0.5}, verbose=0)
    assert history.history == expected
    assert_same_weights(net, reference)


def test_validation_data_in_every_form_gives_the_same_logs():
    x, y = data()
    xv, yv = data(21, seed=1)
    items = batches_of(xv, yv, 5)
    logs = []
    for validation, options in (((xv, yv), {"validation_batch_size": 5}),
                                (ArrayDataset(xv, yv), {"validation_batch_size": 5}),
                                (items, {}), (Batches(items), {}),
                                (endless(items), {"validation_steps": len(items)})):
        history = classifier().fit(x, y, epochs=2, batch_size=16, validation_data=validation,
                                   verbose=0, **options)
        logs.append({k: v for k, v in history.history.items() if k.startswith("val_")})
    assert all(entry == logs[0] for entry in logs[1:])
    with pytest.raises(ConfigError, match="validation_data is an iterator .* validation_steps"):
        classifier().fit(x, y, epochs=2, validation_data=iter(items), verbose=0)


def test_a_network_learns_its_input_shape_from_the_first_batch():
    x, y = data()
    net = ns.Network([ns.Dense(4, activation="relu"), ns.Dense(2, activation="softmax")],
                     loss="sparse_categorical_crossentropy", seed=0)
    net.fit(endless(batches_of(x, y, 10)), epochs=2, steps_per_epoch=3, verbose=0)
    assert net.input_shape == (5,) and net.optimizer.iterations == 6


def test_a_model_with_two_inputs_reads_dicts_from_a_dataset():
    x, y = data()

    def model():
        a, b = ns.Input((3,), name="a"), ns.Input((2,), name="b")
        out = ns.Dense(2, activation="softmax")(ns.Concatenate()([ns.Dense(4)(a), b]))
        return ns.Model([a, b], out, loss="sparse_categorical_crossentropy", seed=0,
                        dtype="float64")

    reference = model()
    expected = reference.fit({"a": x[:, :3], "b": x[:, 3:]}, y, epochs=2, batch_size=8,
                             verbose=0).history
    ds = ArrayDataset({"a": x[:, :3], "b": x[:, 3:]}, y)
    assert model().fit(ds, epochs=2, batch_size=8, verbose=0).history == expected


@pytest.mark.parametrize("call, error, match", [
    (lambda net, x, y: net.fit(Batches([(x, y), x]), verbose=0), DataTypeError,
     r"batch 2 of the iterable must be a tuple \(x, y\)"),
    (lambda net, x, y: net.fit([(x,)], verbose=0), DataError, "batch 1 of the iterable has no targets"),
    (lambda net, x, y: net.fit([(x, y)], batch_size=4, verbose=0), ConfigError, "batch_size=4 cannot cut"),
    (lambda net, x, y: net.fit(ArrayDataset(x, y), sample_weight=y, verbose=0), ConfigError,
     "sample_weight and validation_split go with arrays"),
    (lambda net, x, y: net.fit(x, y, steps_per_epoch=2, verbose=0), ConfigError,
     "steps_per_epoch counts batches"),
    (lambda net, x, y: net.fit(ArrayDataset(x, y), steps_per_epoch=2, verbose=0), ConfigError,
     "a Dataset as x is read in full"),
    (lambda net, x, y: net.fit(x, verbose=0), ConfigError, "fit needs the targets y"),
    (lambda net, x, y: net.fit([], verbose=0), ConfigError, "fit needs the targets y"),
    (lambda net, x, y: net.fit(ArrayDataset(x, y), y, verbose=0), ConfigError, "leave y None"),
    (lambda net, x, y: net.evaluate(ArrayDataset(x, y), y), ConfigError, "leave y None"),
    (lambda net, x, y: net.fit(Batches([]), verbose=0), DataError, "epoch 1 got no batch"),
    (lambda net, x, y: net.fit([(x, y), (np.full_like(x, np.nan), y)], verbose=0), DataError,
     "x of batch 2 of the iterable must be finite"),
    (lambda net, x, y: net.fit(ArrayDataset(x[:0], y[:0]), verbose=0), DataError, "empty"),
])
def test_bad_data_sources_get_clear_errors(call, error, match):
    x, y = data(8)
    with pytest.raises(error, match=match):
        call(classifier(input_shape=(5,)), x, y)


# -- callbacks, the divergence guard and resume from a data source -------------------------------

def test_callbacks_see_the_same_epochs_and_batches():
    x, y = data()

    class Sizes(ns.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.sizes = []

        def on_batch_end(self, batch, logs=None):
            self.sizes.append(logs["size"])

    sizes = Sizes()
    stopper = EarlyStopping(monitor="loss", patience=0, min_delta=10.0)   # stops after epoch 2
    history = classifier().fit(Batches(batches_of(x, y, 20)), epochs=5, verbose=0,
                               callbacks=[sizes, stopper])
    assert history.epoch == [0, 1] and sizes.sizes == [20, 20, 13] * 2


def test_a_diverging_generator_run_names_epoch_and_batch_and_restores_the_weights():
    x = np.random.default_rng(0).standard_normal((64, 4)) * 10
    items = batches_of(x, x.sum(1), 16)
    net = ns.Network([ns.Dense(8, activation="relu"), ns.Dense(1)], loss="mse", seed=0,
                     optimizer=ns.optimizers.SGD(learning_rate=1e6))
    with pytest.raises(TrainingError, match=r"epoch \d+, batch \d+"):
        net.fit(endless(items), epochs=50, steps_per_epoch=4, verbose=0)
    assert all(np.isfinite(w).all() for w in net.get_weights().values())


@pytest.mark.parametrize("kind", ["dataset", "re-iterable"])
def test_resume_from_a_data_source_is_bit_identical(kind, tmp_path):
    """Checkpoints are written at epoch ends; the shuffling generator, saved with them, draws
    the next epoch's order again (a re-iterable gives its batches again)."""
    x, y = data()

    def source():
        return ArrayDataset(x, y) if kind == "dataset" else Batches(batches_of(x, y, 8))

    size = {"batch_size": 8} if kind == "dataset" else {}
    full = classifier()
    checkpoint = ModelCheckpoint(filepath=str(tmp_path / "ckpt-{epoch}.nns"))
    history = full.fit(source(), epochs=4, callbacks=[checkpoint], verbose=0,
                       validation_data=source(), **size)
    resumed = ns.load(tmp_path / "ckpt-2.nns")
    rest = resumed.fit(source(), epochs=4, initial_epoch=2, verbose=0, validation_data=source(),
                       **size)
    assert rest.history["loss"] == history.history["loss"][2:]
    assert rest.history["val_loss"] == history.history["val_loss"][2:]
    assert_same_weights(full, resumed)
    assert full.shuffle_rng.bit_generator.state == resumed.shuffle_rng.bit_generator.state


# -- progress ------------------------------------------------------------------------------------

def fake_notebook(monkeypatch):
    shell = types.SimpleNamespace(config={"IPKernelApp": {}})
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))


def test_progress_shows_in_a_notebook(monkeypatch):
    x, y = data()
    out = io.StringIO()                       # a notebook's output is no terminal
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setitem(sys.modules, "tqdm", None)                 # the text bar, for a stable check
    classifier().fit(x, y, epochs=1, batch_size=20, verbose=1)
    assert out.getvalue() == ""
    fake_notebook(monkeypatch)
    classifier().fit(x, y, epochs=1, batch_size=20, verbose=1)
    assert "\repoch 1/1 [" in out.getvalue() and "3/3" in out.getvalue()


def test_progress_in_a_notebook_uses_tqdm_auto(monkeypatch):
    pytest.importorskip("tqdm")
    fake_notebook(monkeypatch)
    bar = ns.callbacks.progress.progress_display(1, 2, 3)
    assert bar.uses_tqdm and bar._tqdm.__module__.startswith("tqdm")


def test_progress_of_an_iterable_without_a_length_counts_batches(monkeypatch):
    x, y = data()
    terminal = io.StringIO()
    terminal.isatty = lambda: True
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setitem(sys.modules, "tqdm", None)
    classifier().fit(Batches(batches_of(x, y, 20)), epochs=2, verbose=1)
    first, second = terminal.getvalue().split("\n")[:2]
    assert "epoch 1/2 3 batches" in first and "loss:" in first
    assert "epoch 2/2 [" in second and "3/3" in second            # the length, learnt


# -- measurements (small sizes, proportional bounds; benchmarks/memory.py has the full ones) -----

def peak_in_subprocess(code):
    """``(rss before, peak rss)`` in bytes of ``code`` run in a fresh interpreter, which marks
    its start with ``before = mark()``; VmHWM of /proc/self/status."""
    script = textwrap.dedent("""
        import json
        def status(field):
            for line in open("/proc/self/status"):
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        def mark():
            return status("VmRSS")
    """) + textwrap.dedent(code) + "\nprint(json.dumps([before, status('VmHWM')]))\n"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux's /proc")
def test_fit_over_a_memory_mapped_file_keeps_its_pages_out_of_memory(tmp_path):
    """96 MB of features, one shuffled epoch: the growth of the resident set stays far below the
    file (the full run: 2 GiB under 600 MB, benchmarks/memory.py)."""
    n, features = 96 * 2**20 // (256 * 4), 256
    x = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.float32,
                                  shape=(n, features))
    x[:] = np.random.default_rng(0).standard_normal((n, features), dtype=np.float32)
    x.flush()
    del x
    np.save(tmp_path / "y.npy", np.arange(n) % 10)
    before, peak = peak_in_subprocess(f"""
        import numpy as np, nnscratch as ns
        x = np.load({str(tmp_path / "x.npy")!r}, mmap_mode="r")
        y = np.load({str(tmp_path / "y.npy")!r}, mmap_mode="r")
        net = ns.Network([ns.Dense(16, activation="relu"), ns.Dense(10)], seed=0,
                         loss="sparse_categorical_crossentropy", input_shape=(256,))
        before = mark()
        net.fit(ns.data.ArrayDataset(x, y), epochs=1, batch_size=256, verbose=0)
    """)
    assert peak - before < 96 * 2**20 / 4, (before, peak)


def test_fit_from_a_generator_takes_about_the_time_of_fit_from_arrays():
    """The fastest of alternating rounds (the steadiest figure on a busy machine); a generous
    bound here (medians within 10% in benchmarks/memory.py)."""
    x = np.random.default_rng(0).standard_normal((16000, 64)).astype(np.float32)
    y = np.arange(16000) % 10

    def net():
        return ns.Network([ns.Dense(64, activation="relu"), ns.Dense(10, activation="softmax")],
                          loss="sparse_categorical_crossentropy", seed=0, input_shape=(64,))

    def generator():
        for start in range(0, len(x), 32):
            yield x[start:start + 32], y[start:start + 32]

    times = {"arrays": [], "generator": []}
    with threadpool_limits(1):
        for _ in range(7):
            start = time.perf_counter()
            net().fit(x, y, batch_size=32, shuffle=False, verbose=0)
            times["arrays"].append(time.perf_counter() - start)
            start = time.perf_counter()
            net().fit(generator(), verbose=0)
            times["generator"].append(time.perf_counter() - start)
    ratio = min(times["generator"]) / min(times["arrays"])
    assert ratio < 1.5, times
