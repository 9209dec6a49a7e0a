"""Network size is checked before anything is allocated; weights are drawn in their own dtype.

A layer says which parameters it will have for an input shape (``param_shapes``) before it
draws them, so building a network too large for the machine is refused at once with a
ResourceError (a MemoryError) naming the layer, the bytes needed and the bytes available.
"""

import time
import tracemalloc

import numpy as np
import pytest

import nnscratch as ns
from nnscratch import errors, initializers
from nnscratch.layers import memory

FAR_TOO_MANY = 10**6          # Dense(10**6) on 10**6 inputs: 10**12 weights, terabytes


def peak_bytes_of(call):
    """``(result or raised exception, peak bytes traced, seconds)`` of ``call()``."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        result = call()
    except Exception as exc:          # the caller checks what it is
        result = exc
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, peak, seconds


def test_a_dense_layer_beyond_memory_is_a_clear_error_not_a_raw_memory_error():
    layer = ns.Dense(FAR_TOO_MANY)
    raised, peak, seconds = peak_bytes_of(lambda: layer.build((FAR_TOO_MANY,)))
    assert isinstance(raised, errors.ResourceError), repr(raised)
    assert isinstance(raised, MemoryError) and isinstance(raised, errors.NNScratchError)
    message = str(raised)
    assert "Dense layer Dense" in message
    assert "7.28 TiB (8,000,008,000,000 bytes)" in message       # (10**12 + 10**6) * 4 * 2
    assert "available" in message
    assert peak < 1 << 20 and seconds < 1.0
    assert not layer.built and layer.params == {}


def test_a_network_far_beyond_memory_is_refused_quickly_without_allocating():
    layers = [ns.Dense(FAR_TOO_MANY, activation="relu"), ns.Dense(FAR_TOO_MANY), ns.Dense(1)]
    raised, peak, seconds = peak_bytes_of(
        lambda: ns.Network(layers, optimizer="adam", input_shape=(FAR_TOO_MANY,)))
    assert isinstance(raised, errors.ResourceError), repr(raised)
    message = str(raised)
    assert "2 arrays of optimizer state" in message            # Adam's two moments
    assert "dense_0" in message and "needs" in message and "available" in message
    assert peak < 1 << 20 and seconds < 1.0
    assert not any(layer.built for layer in layers)


def test_the_command_line_case_a_huge_hidden_layer_is_refused_before_training():
    """``nnscratch train data.csv --hidden 100000000`` scaled down: the parameters of a hidden
    layer of 10**6 relu units fit, a forward pass of 50,000 rows (400 GB of outputs) does not."""
    net = ns.Network([ns.Dense(10**6, activation="relu"), ns.Dense(2, activation="softmax")],
                     loss="sparse_categorical_crossentropy", seed=0)
    available = memory.available_memory()
    if available is not None and available > 50_000 * 10**6 * 4 * 2:
        pytest.skip("this machine has room for the batch")
    x = np.zeros((50_000, 3), np.float32)
    y = np.zeros(50_000, np.int64)
    raised, _, seconds = peak_bytes_of(lambda: net.fit(x, y, epochs=1, batch_size=50_000,
                                                       verbose=0))
    assert isinstance(raised, errors.ResourceError), repr(raised)
    assert "a forward pass of 50,000 samples" in str(raised) and "dense_0" in str(raised)
    assert seconds < 5.0


def test_a_batch_whose_outputs_cannot_fit_is_refused_before_the_forward_pass():
    net = ns.Network([ns.Dense(10**5, activation="relu"), ns.Dense(1)], seed=0, input_shape=(3,))
    x = np.zeros((10**6, 3), np.float32)
    # predict runs in batches of 32 by default; one batch of all 10**6 samples cannot fit
    raised, peak, seconds = peak_bytes_of(lambda: net.predict(x, batch_size=len(x)))
    assert isinstance(raised, errors.ResourceError), repr(raised)
    assert "1,000,000 samples" in str(raised) and "batch_size" in str(raised)
    assert peak < 64 << 20 and seconds < 1.0
    assert net.predict(x[:4]).shape == (4, 1)                     # a small batch still runs


def test_optimizer_state_counts_towards_the_network_estimate(monkeypatch):
    """Dense(500) on 500 float64 inputs: 250,500 parameters, 2 MB. With 6 MB available, plain
    descent (parameters and gradients: 4 MB) fits and Adam (two moments more: 8 MB) does not."""
    monkeypatch.setattr(memory, "UNCHECKED_BYTES", 0)
    monkeypatch.setattr(memory, "available_memory", lambda: 6_000_000)
    ns.Network([ns.Dense(500)], optimizer="sgd", dtype="float64", input_shape=(500,))
    with pytest.raises(errors.ResourceError,
                       match=r"needs 7\.64 MiB \(8,016,000 bytes\).* only 5\.72 MiB \(6,000,000 bytes\)"):
        ns.Network([ns.Dense(500)], optimizer="adam", dtype="float64", input_shape=(500,))


def test_the_optimizer_state_is_counted_by_what_the_optimizer_keeps():
    assert memory.optimizer_slots(ns.optimizers.SGD(), np.float32) == 0
    assert memory.optimizer_slots(ns.optimizers.SGD(momentum=0.9), np.float32) == 1
    assert memory.optimizer_slots(ns.optimizers.Adam(), np.float32) == 2
    assert memory.optimizer_slots(ns.optimizers.Adam(amsgrad=True), np.float64) == 3
    assert memory.optimizer_slots(None, np.float32) == 0
    adam = ns.optimizers.Adam()
    memory.optimizer_slots(adam, np.float32)
    assert adam.iterations == 0 and adam.state == {}                # the probe ran on a copy
    big = np.zeros(10**6, np.float32)
    adam.step([("w", big, big)])                                    # 8 MB of moments
    _, peak, _ = peak_bytes_of(lambda: memory.optimizer_slots(adam, np.float32))
    assert peak < 1 << 20 and set(adam.state) == {"w"}              # not copied


def test_available_memory_reads_the_system_and_has_a_fallback(monkeypatch):
    found = memory.available_memory()
    assert found is None or found > 0
    monkeypatch.setattr(memory, "MEMINFO", "/nonexistent/meminfo")
    fallback = memory.available_memory()
    assert fallback is None or fallback > 0


@pytest.mark.parametrize("needed, text", [
    (512, "512 B (512 bytes)"),
    (3 * 2**30, "3 GiB (3,221,225,472 bytes)"),
    (8_000_008_000_000, "7.28 TiB (8,000,008,000,000 bytes)"),
])
def test_sizes_are_written_in_binary_units_and_bytes(needed, text):
    assert memory.format_bytes(needed) == text


# -- param_shapes: every layer's parameters, known before they are drawn ----------------------

LAYERS = [
    (lambda: ns.Dense(3), (4,)),
    (lambda: ns.Dense(3, use_bias=False), (2, 5)),
    (lambda: ns.layers.Conv1D(2, 3), (3, 8)),
    (lambda: ns.layers.Conv2D(2, 3), (3, 6, 6)),
    (lambda: ns.layers.Conv2DTranspose(2, 3, stride=2), (3, 4, 4)),
    (lambda: ns.layers.SimpleRNN(3), (5, 2)),
    (lambda: ns.layers.LSTM(3, use_bias=False), (5, 2)),
    (lambda: ns.layers.GRU(4), (5, 2)),
    (lambda: ns.layers.Bidirectional(ns.layers.LSTM(3)), (5, 2)),
    (lambda: ns.layers.Embedding(10, 4), (6,)),
    (lambda: ns.layers.Masking(), (6, 2)),
    (lambda: ns.layers.BatchNormalization(), (3, 4, 4)),
    (lambda: ns.layers.BatchNormalization(axis=-1, center=False), (5, 2)),
    (lambda: ns.layers.LayerNormalization(axis=(1, 2)), (3, 4)),
    (lambda: ns.layers.Flatten(), (3, 4)),
    (lambda: ns.layers.MaxPool2D(), (2, 4, 4)),
    (lambda: ns.layers.Dropout(0.5), (3,)),
    (lambda: ns.layers.PositionalEmbedding(6, 4), (5, 4)),
]


@pytest.mark.parametrize("make, input_shape", LAYERS)
def test_param_shapes_are_the_shapes_that_build_creates(make, input_shape):
    layer = make()
    shapes = layer.param_shapes(input_shape)
    assert not layer.built
    layer.build(input_shape, rng=np.random.default_rng(0))
    assert shapes == {key: value.shape for key, value in layer.params.items()}


def test_every_registered_layer_is_covered_by_the_param_shapes_cases():
    """Layers of one input; those of several (a list of shapes) have their own tests."""
    covered = {type(make()).__name__ for make, _ in LAYERS}
    parameterless = {"Flatten", "Reshape", "UpSampling1D", "UpSampling2D", "Dropout",
                     "MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D", "GlobalAvgPool1D",
                     "GlobalAvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D", "Activation"}
    single = {name for name, cls in ns.layers.REGISTRY.table().items()   # the library's own
              if not getattr(cls, "multiple_inputs", False)
              and cls.__module__.startswith("nnscratch.")}
    assert single <= covered | parameterless


# -- initial weights drawn in the parameters' dtype --------------------------------------------

def test_float32_weights_are_drawn_without_a_float64_copy():
    shape = (1000, 1000)                        # 4 MB of float32, 8 MB as float64
    for name in ("glorot_uniform", "he_normal", "normal", "uniform", "truncated_normal",
                 "lecun_normal"):
        init = initializers.get(name)
        values, peak, _ = peak_bytes_of(lambda init=init: init(shape, np.random.default_rng(0),
                                                               np.float32))
        assert values.dtype == np.float32
        assert peak < 1.6 * values.nbytes, (name, peak)


def test_a_dense_layer_builds_within_its_parameters_and_gradients():
    layer = ns.Dense(1000)
    _, peak, _ = peak_bytes_of(lambda: layer.build((1000,), rng=np.random.default_rng(0)))
    assert peak < 2.5 * layer.params["W"].nbytes          # W, dW: 2x (the float64 way: 4x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_drawn_weights_keep_their_distributions(dtype):
    rng = np.random.default_rng(1)
    shape = (400, 500)
    u = initializers.get({"name": "uniform", "minval": -0.5, "maxval": 1.5})(shape, rng, dtype)
    assert u.dtype == dtype and u.min() >= -0.5 and u.max() <= 1.5
    assert u.mean() == pytest.approx(0.5, abs=0.01) and u.var() == pytest.approx(4 / 12, rel=0.02)
    n = initializers.get({"name": "normal", "mean": 1.0, "stddev": 2.0})(shape, rng, dtype)
    assert n.mean() == pytest.approx(1.0, abs=0.02) and n.std() == pytest.approx(2.0, rel=0.02)
    t = initializers.get("he_normal")(shape, rng, dtype)        # truncated at 2 s, rescaled
    s = np.sqrt(2.0 / 400)
    assert np.abs(t).max() <= 2 * s / 0.87962566 * (1 + 1e-6)
    assert t.std() == pytest.approx(s, rel=0.02)
    g = initializers.get("glorot_uniform")(shape, rng, dtype)
    limit = np.sqrt(6.0 / 900)
    assert np.abs(g).max() <= limit * (1 + 1e-6) and g.var() == pytest.approx(limit**2 / 3, rel=0.02)


def _old_truncated_normal(rng, shape, std):
    """The float64 truncated normal as it was drawn before (the reference for float64)."""
    values = rng.standard_normal(shape)
    outside = np.abs(values) > 2.0
    while outside.any():
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2.0
    return values * std


def test_float64_weights_are_bit_identical_to_the_float64_draws():
    shape, seed = (30, 20), 7
    r = lambda: np.random.default_rng(seed)          # noqa: E731
    limit = np.sqrt(6.0 / 50)
    cases = [
        ("glorot_uniform", r().uniform(-limit, limit, shape)),
        ({"name": "uniform", "minval": -0.2, "maxval": 0.3}, r().uniform(-0.2, 0.3, shape)),
        ({"name": "normal", "mean": 0.5, "stddev": 2.0}, 0.5 + 2.0 * r().standard_normal(shape)),
        ({"name": "variance_scaling", "distribution": "normal"},
         np.sqrt(1.0 / 30) * r().standard_normal(shape)),
        ("he_normal", _old_truncated_normal(r(), shape, np.sqrt(2.0 / 30) / 0.87962566103423978)),
        ({"name": "truncated_normal", "mean": 1.0, "stddev": 0.1},
         1.0 + _old_truncated_normal(r(), shape, 0.1)),
    ]
    for spec, expected in cases:
        got = initializers.get(spec)(shape, r(), np.float64)
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, expected, err_msg=str(spec))
