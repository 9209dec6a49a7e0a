"""Model files: round trips for every layer kind, safetensors compatibility, validation errors."""

import json
import os
import tracemalloc
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pytest

import nnscratch as ns
from nnscratch import saving
from nnscratch.errors import ConfigError, ModelFileError
from nnscratch.layers.base import LAYER_CLASSES
from nnscratch.saving import atomic, container, training_state

L = ns.layers


def _ids(rng, n, shape, high):
    return rng.integers(0, high, (n,) + shape).astype(float)


class Graph(NamedTuple):
    """A graph example: ``build(*inputs)`` returns the output tensor of a Model whose inputs
    are shaped ``input_shapes``."""
    build: Callable
    input_shapes: tuple


def _merged(merge, count=2):
    """A graph that merges ``count`` Dense branches of one input with ``merge``, then a Dense."""
    def build(x):
        branches = [L.Dense(3, activation="tanh")(x) for _ in range(count)]
        return L.Dense(2)(merge(branches))
    return Graph(build, [(4,)])


def _attention(x, key):
    mha = L.MultiHeadAttention(2, 3, value_dim=2, dropout=0.2)
    return L.Dense(2)(mha(x, x, key, use_causal_mask=True))


# One small example network per layer class: (layers, input shape of one sample[, x maker]), or
# a Graph for a class that takes several inputs. A class without an entry fails
# test_every_layer_class_has_an_example: add one when adding a layer. None marks an abstract
# base that is never a layer on its own.
EXAMPLES = {
    "ActivatedLayer": None,
    "Dense": lambda: ([L.Dense(3, activation="tanh", kernel_regularizer="l2"), L.Dense(2)], (4,)),
    "Conv1D": lambda: ([L.Conv1D(3, 2, padding="same", activation="relu"), L.Flatten(),
                        L.Dense(2)], (2, 5)),
    "Conv2D": lambda: ([L.Conv2D(2, (2, 3), stride=(1, 2), padding=1, activation="elu")],
                       (1, 5, 5)),
    "Conv2DTranspose": lambda: ([L.Conv2DTranspose(2, 3, stride=2, output_padding=1)], (2, 3, 3)),
    "MaxPool1D": lambda: ([L.Conv1D(2, 2), L.MaxPool1D(2)], (1, 7)),
    "MaxPool2D": lambda: ([L.Conv2D(2, 2), L.MaxPool2D(2, stride=1)], (1, 4, 4)),
    "AvgPool1D": lambda: ([L.Conv1D(2, 2), L.AvgPool1D(2, padding=1, count_include_pad=False)],
                          (2, 5)),
    "AvgPool2D": lambda: ([L.Conv2D(2, 1), L.AvgPool2D(2)], (1, 4, 4)),
    "GlobalAvgPool1D": lambda: ([L.Conv1D(2, 2), L.GlobalAvgPool1D()], (3, 4)),
    "GlobalAvgPool2D": lambda: ([L.Conv2D(2, 2), L.GlobalAvgPool2D(keepdims=True)], (2, 3, 3)),
    "GlobalMaxPool1D": lambda: ([L.Conv1D(2, 2), L.GlobalMaxPool1D()], (3, 4)),
    "GlobalMaxPool2D": lambda: ([L.Conv2D(2, 2), L.GlobalMaxPool2D()], (2, 3, 3)),
    "Flatten": lambda: ([L.Flatten(), L.Dense(2)], (2, 3)),
    "Reshape": lambda: ([L.Dense(6), L.Reshape((3, 2)), L.Dense(2)], (4,)),
    "UpSampling1D": lambda: ([L.Conv1D(2, 1), L.UpSampling1D(2)], (2, 3)),
    "UpSampling2D": lambda: ([L.Conv2D(1, 1), L.UpSampling2D(2)], (1, 2, 2)),
    "SimpleRNN": lambda: ([L.SimpleRNN(3, return_sequences=True), L.SimpleRNN(2, activation="relu")],
                          (4, 2)),
    "LSTM": lambda: ([L.LSTM(3)], (4, 2)),
    "GRU": lambda: ([L.GRU(3, return_sequences=True, go_backwards=True)], (4, 2)),
    "Bidirectional": lambda: ([L.Bidirectional(L.LSTM(2, return_sequences=True), merge_mode="sum"),
                               L.Bidirectional(L.GRU(2))], (4, 2)),
    "Embedding": lambda: ([L.Embedding(7, 3), L.LSTM(2)], (5,),
                          lambda rng, n: _ids(rng, n, (5,), 7)),
    "Masking": lambda: ([L.Masking(), L.LSTM(2)], (4, 2)),
    "Dropout": lambda: ([L.Dense(4, activation="relu"), L.Dropout(0.5), L.Dense(2)], (3,)),
    "BatchNormalization": lambda: ([L.Conv2D(2, 2), L.BatchNormalization(momentum=0.5),
                                    L.Flatten(), L.Dense(3), L.BatchNormalization()], (1, 4, 4)),
    "LayerNormalization": lambda: ([L.Dense(4), L.LayerNormalization()], (3,)),
    "Activation": lambda: ([L.Dense(3), L.Activation("gelu"), L.Dense(2)], (4,)),
    "PositionalEmbedding": lambda: ([L.Embedding(7, 3), L.PositionalEmbedding(6, 3), L.Flatten(),
                                     L.Dense(2)], (5,), lambda rng, n: _ids(rng, n, (5,), 7)),
    "Add": lambda: Graph(lambda x: L.Dense(2)(L.Add()([x, L.Dense(4, activation="tanh")(x)])),
                         [(4,)]),
    "Subtract": lambda: Graph(lambda a, b: L.Dense(2)(L.Subtract()([L.Dense(3)(a), b])),
                              [(4,), (3,)]),
    "Multiply": lambda: _merged(L.Multiply(), 3),
    "Average": lambda: _merged(L.Average(), 3),
    "Maximum": lambda: _merged(L.Maximum()),
    "Minimum": lambda: _merged(L.Minimum()),
    "Concatenate": lambda: Graph(lambda a, b: L.Dense(2)(L.Flatten()(
        L.Concatenate(axis=1)([a, L.Dense(4)(b)]))), [(2, 4), (3, 2)]),
    "MultiHeadAttention": lambda: Graph(_attention, [(5, 4), (5, 3)]),
}

OUR_LAYER_CLASSES = sorted(name for name, cls in LAYER_CLASSES.items()
                           if cls.__module__.startswith("nnscratch."))


def build_example(kind, **options):
    """``(model, make_x)``: the built, untrained example of ``kind`` (a Network, or a Model for
    a Graph) made with ``options``, and ``make_x(rng, n)``, which draws n samples for it."""
    entry = EXAMPLES[kind]()
    if isinstance(entry, Graph):
        inputs = [ns.Input(shape, name=f"in_{i}") for i, shape in enumerate(entry.input_shapes)]
        net = ns.Model(inputs, entry.build(*inputs), **options)

        def make_x(rng, n):
            x = [rng.standard_normal((n,) + shape) for shape in entry.input_shapes]
            return x[0] if len(x) == 1 else x
        return net, make_x
    layers, input_shape = entry[0], entry[1]
    make_x = entry[2] if len(entry) > 2 else (
        lambda rng, n: rng.standard_normal((n,) + input_shape))
    return ns.Network(layers, input_shape=input_shape, **options), make_x


def make_example(kind, dtype="float64", optimizer=None, seed=3, n=6):
    """A trained example network (a Network, or a Model for a Graph) for ``kind`` and its
    training data."""
    net, make_x = build_example(kind, loss="mse", seed=seed, dtype=dtype, metrics=["mae"],
                                optimizer=optimizer or ns.optimizers.Adam(learning_rate=0.01))
    rng = np.random.default_rng(seed)
    x = make_x(rng, n)
    y = rng.standard_normal((n,) + net.output_shape)
    net.fit(x, y, epochs=2, batch_size=3, verbose=0)
    return net, x, y


def assert_same_bits(a, b, what=""):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype, what
    assert a.shape == b.shape, what
    assert a.tobytes() == b.tobytes(), what


def assert_same_network(original, loaded):
    """Architecture, weights, optimizer and generator states identical, bit for bit."""
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in original.layers]
    for a, b in zip(original.layers, loaded.layers):
        assert json.dumps(a.get_config()) == json.dumps(b.get_config())
        assert a.name == b.name and a.trainable == b.trainable
    assert loaded.loss.get_config() == original.loss.get_config()
    assert loaded.optimizer.get_config() == original.optimizer.get_config()
    assert [m.get_config() for m in loaded.metrics] == [m.get_config() for m in original.metrics]
    assert (loaded.dtype, loaded.seed, loaded.input_shape, loaded.output_shape, loaded.name) == (
        original.dtype, original.seed, original.input_shape, original.output_shape, original.name)
    assert loaded.epochs_trained == original.epochs_trained
    w1, w2 = original.get_weights(), loaded.get_weights()
    assert list(w1) == list(w2)
    for key in w1:
        assert_same_bits(w1[key], w2[key], key)
    assert loaded.optimizer.iterations == original.optimizer.iterations
    assert loaded.optimizer.state.keys() == original.optimizer.state.keys()
    for name, state in original.optimizer.state.items():
        assert state.keys() == loaded.optimizer.state[name].keys()
        for key, value in state.items():
            other = loaded.optimizer.state[name][key]
            if isinstance(value, (np.ndarray, np.generic)):
                assert_same_bits(value, other, f"{name}/{key}")
            else:
                assert type(value) is type(other) and value == other
    g1, g2 = training_state.generators(original), training_state.generators(loaded)
    assert g1.keys() == g2.keys()
    for key in g1:
        assert g1[key].bit_generator.state == g2[key].bit_generator.state, key


# ---------------------------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------------------------

def test_every_layer_class_has_an_example():
    missing = [name for name in OUR_LAYER_CLASSES if name not in EXAMPLES]
    assert not missing, (f"no example network for the layer classes {missing}: add one to "
                         "EXAMPLES in tests/test_io.py so that saving them is tested")


@pytest.mark.parametrize("kind", OUR_LAYER_CLASSES)
def test_round_trip_is_bit_identical(kind, tmp_path):
    if kind not in EXAMPLES:
        pytest.fail(f"no example network for layer class {kind}; add one to EXAMPLES")
    if EXAMPLES[kind] is None:
        return  # an abstract base class, covered by the layers built on it
    for dtype in ("float32", "float64"):
        net, x, y = make_example(kind, dtype)
        path = tmp_path / f"{kind}-{dtype}.nns"
        net.save(path)
        loaded = ns.load(path)
        assert_same_network(net, loaded)
        assert_same_bits(net.predict(x), loaded.predict(x), "predictions")
        assert loaded.evaluate(x, y) == net.evaluate(x, y)
        # Saving the loaded model again writes the very same bytes.
        again = tmp_path / "again.nns"
        loaded.save(again)
        assert again.read_bytes() == path.read_bytes()
        # Training goes on identically (optimizer state, dropout masks, shuffling restored).
        net.fit(x, y, epochs=1, batch_size=2, verbose=0)
        loaded.fit(x, y, epochs=1, batch_size=2, verbose=0)
        assert_same_network(net, loaded)
        assert not any(f.endswith(".tmp") for f in os.listdir(tmp_path))


@pytest.mark.parametrize("optimizer", ns.optimizers.names())
def test_every_optimizer_state_round_trips(optimizer, tmp_path):
    opt = ns.optimizers.get(optimizer)
    net, x, y = make_example("Dense", "float32", optimizer=opt)
    net.save(tmp_path / "m.nns")
    loaded = ns.load(tmp_path / "m.nns")
    assert_same_network(net, loaded)
    net.fit(x, y, epochs=2, batch_size=4, verbose=0)
    loaded.fit(x, y, epochs=2, batch_size=4, verbose=0)
    assert_same_network(net, loaded)


def test_optimizer_with_a_schedule_and_options_round_trips(tmp_path):
    lr = ns.schedules.StepDecay(0.05, step_size=2, gamma=0.5)
    opt = ns.optimizers.SGD(learning_rate=lr, momentum=0.9, nesterov=True, clipnorm=1.0)
    net, _, _ = make_example("Dense", optimizer=opt)
    net.save(tmp_path / "m.nns")
    loaded = ns.load(tmp_path / "m.nns")
    assert_same_network(net, loaded)
    assert loaded.optimizer.current_learning_rate() == net.optimizer.current_learning_rate()


def test_include_optimizer_false_keeps_weights_and_hyperparameters_only(tmp_path):
    net, x, _ = make_example("Dropout")
    net.save(tmp_path / "m.nns", include_optimizer=False)
    tensors, header = container.read(tmp_path / "m.nns")
    assert "training_state" not in header
    assert not any(name.startswith("optimizer/") for name in tensors)
    loaded = ns.load(tmp_path / "m.nns")
    assert loaded.optimizer.get_config() == net.optimizer.get_config()
    assert loaded.optimizer.iterations == 0 and loaded.optimizer.state == {}
    for key, value in net.get_weights().items():
        assert_same_bits(value, loaded.get_weights()[key])
    assert_same_bits(net.predict(x), loaded.predict(x))


def test_unbuilt_network_round_trips(tmp_path):
    net = ns.Network([ns.Dense(3), ns.Dense(1, activation="sigmoid")], loss="binary_crossentropy",
                     seed=5, name="tiny")
    net.save(tmp_path / "m.nns")
    loaded = ns.load(tmp_path / "m.nns")
    assert not loaded.built and loaded.name == "tiny"
    # Built on first use from the same seed, it draws the same initial weights.
    x = np.ones((2, 4))
    assert_same_bits(net.predict(x), loaded.predict(x))


def test_user_metadata_round_trips(tmp_path):
    net, _, _ = make_example("Dense")
    meta = {"classes": ["cat", "dog"], "mean": np.array([0.1, 2.5]), "std": [1.0, 3.0],
            "nested": {"n": np.int64(3), "ok": True, "none": None}}
    net.save(tmp_path / "m.nns", metadata=meta)
    loaded = ns.load(tmp_path / "m.nns")
    assert loaded.metadata == {"classes": ["cat", "dog"], "mean": [0.1, 2.5], "std": [1.0, 3.0],
                               "nested": {"n": 3, "ok": True, "none": None}}
    # network.metadata is the default for the next save
    loaded.save(tmp_path / "n.nns")
    assert ns.load(tmp_path / "n.nns").metadata == loaded.metadata
    assert ns.load(tmp_path / "m.nns").metadata["mean"][0] == 0.1   # exact float


@pytest.mark.parametrize("bad, needle", [
    ({"x": float("nan")}, "JSON"), ({"x": object()}, "JSON-serialisable"),
    ({1: "a"}, "keys must be strings"), ([1, 2], "must be a dict"),
])
def test_bad_metadata_is_refused_before_writing(bad, needle, tmp_path):
    net, _, _ = make_example("Dense")
    with pytest.raises(ConfigError, match=needle):
        net.save(tmp_path / "m.nns", metadata=bad)
    assert os.listdir(tmp_path) == []


def test_user_registered_activation_and_loss_are_saved_by_name(tmp_path, monkeypatch):
    from nnscratch import activations, losses
    activations.register("cube_io_test", lambda z: z ** 3, lambda z, a: 3 * z ** 2)
    losses.register("quartic_io_test", lambda p, y: np.sum((p - y) ** 4, axis=1),
                    lambda p, y: 4 * (p - y) ** 3)
    try:
        net = ns.Network([ns.Dense(2, activation="cube_io_test")], loss="quartic_io_test",
                         seed=0, input_shape=(3,))
        net.save(tmp_path / "m.nns")
        arch = json.loads(container.read(tmp_path / "m.nns")[1]["architecture"])
        assert arch["layers"][0]["config"]["activation"] == {"name": "cube_io_test"}
        assert ns.load(tmp_path / "m.nns").layers[0].activation.name == "cube_io_test"
        with monkeypatch.context() as patch:
            patch.delitem(activations.REGISTRY.added, "cube_io_test")
            with pytest.raises(ModelFileError, match=r"cube_io_test.*not registered"):
                ns.load(tmp_path / "m.nns")
        with monkeypatch.context() as patch:
            patch.delitem(losses.REGISTRY.added, "quartic_io_test")
            with pytest.raises(ModelFileError, match=r"quartic_io_test.*not registered"):
                ns.load(tmp_path / "m.nns")
    finally:
        activations.REGISTRY.added.pop("cube_io_test", None)
        losses.REGISTRY.added.pop("quartic_io_test", None)


def test_unregistered_layer_class_cannot_be_saved(tmp_path):
    class _Private(ns.layers.Layer):   # a leading underscore keeps it out of LAYER_CLASSES
        pass

    net = ns.Network([_Private()], input_shape=(2,))
    with pytest.raises(ConfigError, match="not the one registered"):
        net.save(tmp_path / "m.nns")
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------------------------------
# The file is a safetensors file
# ---------------------------------------------------------------------------------------------

def test_safetensors_package_reads_our_files(tmp_path):
    from safetensors import safe_open
    from safetensors.numpy import load_file

    net, _, _ = make_example("Bidirectional", "float32")
    path = tmp_path / "m.nns"
    net.save(path)
    theirs = load_file(str(path))
    ours, header = container.read(path)
    expected = {**net.get_weights(),
                **{f"optimizer/{p}/{k}": v for p, s in net.optimizer.state.items()
                   for k, v in s.items()}}
    assert set(theirs) == set(ours) == set(expected)
    for name, value in expected.items():
        assert_same_bits(theirs[name], value, name)
        assert_same_bits(np.asarray(ours[name], dtype=value.dtype), value, name)
    with safe_open(str(path), framework="np") as handle:
        assert handle.metadata() == header
    assert header["format"] == "nnscratch" and json.loads(header["architecture"])["layers"]


def test_we_read_files_written_by_the_safetensors_package(tmp_path):
    from safetensors.numpy import save_file

    rng = np.random.default_rng(0)
    arrays = {"b": rng.standard_normal((2, 3)).astype(np.float32), "a": np.arange(5, dtype=np.int64),
              "e": np.zeros((0, 4), np.float64), "h": rng.standard_normal(3).astype(np.float16)}
    save_file(arrays, str(tmp_path / "t.safetensors"), metadata={"k": "v"})
    tensors, meta = container.read(tmp_path / "t.safetensors")
    assert meta == {"k": "v"} and set(tensors) == set(arrays)
    for name, value in arrays.items():
        assert_same_bits(np.asarray(tensors[name], dtype=value.dtype), value, name)
    with pytest.raises(ModelFileError, match="no nnscratch architecture"):
        ns.load(tmp_path / "t.safetensors")


def test_layout_is_little_endian_and_8_byte_aligned(tmp_path):
    net, _, _ = make_example("Dense", "float32")
    path = tmp_path / "m.nns"
    net.save(path, include_optimizer=False)
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    assert (8 + n) % 8 == 0 and raw[8:8 + n].rstrip(b" ").endswith(b"}")
    header = json.loads(raw[8:8 + n])
    for name, value in net.get_weights().items():
        begin, end = header[name]["data_offsets"]
        assert header[name]["dtype"] == "F32" and header[name]["shape"] == list(value.shape)
        assert raw[8 + n + begin:8 + n + end] == value.astype("<f4").tobytes()


# ---------------------------------------------------------------------------------------------
# Loading refuses bad files with ModelFileError
# ---------------------------------------------------------------------------------------------

@pytest.fixture
def saved(tmp_path):
    """A saved example network: (path, tensors dict, header dict)."""
    net, _, _ = make_example("Dense", "float32", optimizer=ns.optimizers.SGD(0.1, momentum=0.9))
    path = tmp_path / "m.nns"
    net.save(path)
    tensors, header = container.read(path)
    return path, {k: np.array(v) for k, v in tensors.items()}, dict(header)


def rewrite(path, tensors, header):
    """Write a (possibly inconsistent) model file with the given tensors and metadata."""
    atomic.write_atomic(path, container.encode(list(tensors.items()), header))


def edit_architecture(header, change):
    arch = json.loads(header["architecture"])
    change(arch)
    header["architecture"] = json.dumps(arch)


def assert_edit_refused(saved, change, needle):
    """The file of ``saved`` (path, tensors, header) with its architecture changed by ``change``
    must fail to load with a ModelFileError matching ``needle`` and naming the file."""
    path, tensors, header = saved
    edit_architecture(header, change)
    rewrite(path, tensors, header)
    with pytest.raises(ModelFileError, match=needle) as info:
        ns.load(path)
    assert str(path) in str(info.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ModelFileError, match="no model file") as info:
        ns.load(tmp_path / "nope.nns")
    assert isinstance(info.value, OSError) and "nope.nns" in str(info.value)
    with pytest.raises(ModelFileError, match="folder"):
        ns.load(tmp_path)
    with pytest.raises(ModelFileError, match=r"str or os.PathLike"):
        ns.load(3)


@pytest.mark.parametrize("raw, needle", [
    (b"", "fewer than the 8-byte"),
    (b"\x05\x00\x00", "fewer than the 8-byte"),
    ((100).to_bytes(8, "little") + b"{}", "only 2 bytes follow"),
    ((2).to_bytes(8, "little") + b"\xff\xfe", "not UTF-8"),
    ((4).to_bytes(8, "little") + b"[1] ", "does not start with"),
    ((8).to_bytes(8, "little") + b'{"a":1,}', "not valid JSON"),
    ((16).to_bytes(8, "little") + b'{"a":1, "a":2}  ', "duplicate key 'a'"),
    ((8).to_bytes(8, "little") + b'{"a":1} ', "must be a JSON object"),
    ((2).to_bytes(8, "little") + b"{}", "no nnscratch architecture"),
    ((2).to_bytes(8, "little") + b"{}" + b"\0" * 4, "trailing bytes"),
])
def test_corrupt_containers(raw, needle):
    with pytest.raises(ModelFileError, match=needle):
        saving.load_bytes(raw, ns.Network, "x.nns")


def _entry(dtype="F32", shape=(2,), offsets=(0, 8)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


@pytest.mark.parametrize("entries, data_len, needle", [
    ({"t": _entry(dtype="F128")}, 8, "dtype 'F128' is not one of"),
    ({"t": _entry(dtype="BF16")}, 8, "is not one of"),
    ({"t": _entry(shape=(-2,))}, 8, "non-negative integers"),
    ({"t": _entry(shape=(2.0,))}, 8, "non-negative integers"),
    ({"t": _entry(shape=[True])}, 8, "non-negative integers"),
    ({"t": _entry(offsets=(0,))}, 8, "two non-negative integers"),
    ({"t": _entry(offsets=(8, 0))}, 8, "end before they begin"),
    ({"t": _entry(offsets=(0, 16))}, 8, "past the end of the data section"),
    ({"t": _entry(shape=(3,))}, 8, "needs 12 bytes"),
    ({"t": _entry(shape=(2 ** 40, 2 ** 40))}, 8, "needs"),
    ({"t": _entry(), "u": _entry(offsets=(4, 12))}, 12, "overlaps"),
    ({"t": _entry(), "u": _entry(offsets=(0, 8))}, 8, "overlaps"),
    ({"t": _entry(offsets=(4, 12))}, 12, "gap of 4"),
    ({"t": {"dtype": "F32", "shape": [2]}}, 8, "missing data_offsets"),
    ({"t": {**_entry(), "x": 1}}, 8, "unexpected 'x'"),
    ({"t": [1]}, 8, "must be a JSON object"),
    ({"__metadata__": {"a": 1}}, 0, "values must be strings"),
    ({"__metadata__": [1]}, 0, "must be a JSON object"),
])
def test_bad_header_entries(entries, data_len, needle):
    text = json.dumps(entries).encode()
    raw = len(text).to_bytes(8, "little") + text + b"\0" * data_len
    with pytest.raises(ModelFileError, match=needle):
        saving.load_bytes(raw, ns.Network, "x.nns")


def test_header_length_cap(monkeypatch):
    monkeypatch.setattr(container, "MAX_HEADER_BYTES", 16)
    text = b'{"__metadata__":{}}    '
    with pytest.raises(ModelFileError, match="exceeds the 16-byte limit"):
        saving.load_bytes(len(text).to_bytes(8, "little") + text, ns.Network)


def test_huge_declared_header_length_allocates_nothing():
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match="truncated"):
            saving.load_bytes((2 ** 64 - 1).to_bytes(8, "little") + b"{}", ns.Network)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def test_forged_architecture_is_refused_before_allocating(saved):
    path, tensors, header = saved

    def huge(arch):
        arch["layers"][0]["config"]["units"] = 10 ** 9
    edit_architecture(header, huge)
    rewrite(path, tensors, header)
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match="more bytes of parameters"):
            ns.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20     # the forged layer would need 16 GB


@pytest.mark.parametrize("change, needle", [
    (lambda a: a["layers"][0].update({"class": "Teleporter"}), "'Teleporter'.*not a known"),
    (lambda a: a["layers"][0]["config"].update({"units": -3}), "cannot be rebuilt"),
    (lambda a: a["layers"][0]["config"].update({"colour": "red"}), "cannot be rebuilt"),
    (lambda a: a["layers"][0]["config"].update({"activation": {"name": "nope"}}), "'nope'"),
    (lambda a: a["layers"][0]["config"].update({"kernel_initializer": {"name": "x"}}),
     "does not build"),
    (lambda a: a["layers"][0]["config"].update({"units": 5}), "shape"),
    (lambda a: a["layers"][1].update({"name": "b"}), "keys class, config, trainable"),
    (lambda a: a["layers"][0].update({"trainable": "yes"}), "trainable must be"),
    (lambda a: a["layers"].clear(), "non-empty list"),
    (lambda a: a.update({"dtype": "float16"}), "dtype must be"),
    (lambda a: a.update({"input_shape": [0]}), "input_shape"),
    (lambda a: a.update({"input_shape": [5]}), "does not build|shape"),
    (lambda a: a.update({"seed": "zero"}), "seed must be"),
    (lambda a: a.update({"seed": -1}), "does not build"),
    (lambda a: a.update({"epochs_trained": -1}), "epochs_trained"),
    (lambda a: a.update({"format_version": 2}), "format_version"),
    (lambda a: a.update({"loss": {"name": "mse", "delta": 1}}), "loss config"),
    (lambda a: a.update({"loss": "no_such_loss"}), "'no_such_loss' is not registered"),
    (lambda a: a.update({"optimizer": {"name": "sgd", "learning_rate": -1}}), "optimizer config"),
    (lambda a: a.update({"metrics": [{"name": "nope"}]}), "metric config"),
    (lambda a: a.update({"metadata": 3}), "metadata must be"),
    (lambda a: a.pop("loss"), "missing loss"),
    (lambda a: a.update({"extra": 1}), "unexpected 'extra'"),
])
def test_bad_architectures(saved, change, needle):
    assert_edit_refused(saved, change, needle)


def test_architecture_json_is_strict(saved):
    path, tensors, header = saved
    for text, needle in [('{"a": 1, "a": 2}', "duplicate key"), ('{"a": NaN}', "NaN"),
                         ('{"a": 1e999}', "out of range"), ("[" * 100000, "not valid JSON"),
                         ("3", "must be a JSON object")]:
        rewrite(path, tensors, {**header, "architecture": text})
        with pytest.raises(ModelFileError, match=needle):
            ns.load(path)
    for key, value, needle in [("format", "other", "format"), ("format_version", "9", "version")]:
        rewrite(path, tensors, {**header, key: value})
        with pytest.raises(ModelFileError, match=needle):
            ns.load(path)


@pytest.mark.parametrize("edit, needle", [
    (lambda t: t.pop("dense_0.W"), "lacks the tensor 'dense_0.W'"),
    (lambda t: t.update({"dense_9.W": np.zeros(2, np.float32)}), "does not use"),
    (lambda t: t.update({"dense_0.b": np.zeros(5, np.float32)}), "has shape"),
    (lambda t: t.update({"dense_0.b": t["dense_0.b"].astype(np.float64)}), "is float64"),
    (lambda t: t.update({"optimizer/dense_0.b/momentum_buffer": np.zeros(5, np.float32)}),
     "has shape"),
    (lambda t: t.pop("optimizer/dense_0.b/momentum_buffer"), "is missing"),
    (lambda t: t.update({"optimizer/dense_0.b/other": np.zeros(3, np.float32)}),
     "does not describe"),
])
def test_tensors_must_be_exactly_what_the_architecture_needs(saved, edit, needle):
    path, tensors, header = saved
    edit(tensors)
    rewrite(path, tensors, header)
    with pytest.raises(ModelFileError, match=needle):
        ns.load(path)


@pytest.mark.parametrize("change, needle", [
    (lambda s: s.update({"optimizer_iterations": -1}), "optimizer_iterations"),
    (lambda s: s.pop("rng"), "exactly the keys"),
    (lambda s: s["optimizer_state"].update({"dense_7.W": {}}), "no such parameter"),
    (lambda s: s["optimizer_state"]["dense_0.W"].update({"momentum_buffer": {"kind": "odd"}}),
     "needs the keys|unknown kind"),
    (lambda s: s["optimizer_state"]["dense_0.W"].update({"step": {"kind": "int", "value": "x"}}),
     "bad int"),
    (lambda s: s["rng"].pop("network.rng"), "missing network.rng"),
    (lambda s: s["rng"]["network.rng"].update({"bit_generator": "MT19937"}), "MT19937"),
    (lambda s: s["rng"]["network.rng"]["state"].update({"state": "12x"}), "decimal string"),
    (lambda s: s["rng"]["network.rng"]["state"].update({"state": str(2 ** 200)}),
     "invalid state"),
    (lambda s: s["rng"]["network.rng"].update({"has_uint32": 2 ** 70}), "decimal string"),
])
def test_bad_training_state(saved, change, needle):
    path, tensors, header = saved
    state = json.loads(header["training_state"])
    change(state)
    header["training_state"] = json.dumps(state)
    rewrite(path, tensors, header)
    with pytest.raises(ModelFileError, match=needle):
        ns.load(path)


def test_optimizer_tensors_without_training_state(saved):
    path, tensors, header = saved
    del header["training_state"]
    rewrite(path, tensors, header)
    with pytest.raises(ModelFileError, match="no training_state"):
        ns.load(path)


def test_failed_load_leaves_nothing_half_done(saved):
    """A bad training state is found before any array of the network is touched."""
    path, tensors, header = saved
    state = json.loads(header["training_state"])
    state["rng"]["network.shuffle_rng"]["state"]["inc"] = "nope"
    header["training_state"] = json.dumps(state)
    rewrite(path, tensors, header)
    with pytest.raises(ModelFileError):
        ns.load(path)


# ---------------------------------------------------------------------------------------------
# Saving is atomic
# ---------------------------------------------------------------------------------------------

def test_save_into_a_missing_folder(tmp_path):
    net, _, _ = make_example("Dense")
    with pytest.raises(ModelFileError, match="cannot write model file"):
        net.save(tmp_path / "no" / "such" / "m.nns")
    with pytest.raises(ModelFileError, match="cannot write model file"):
        (tmp_path / "d").mkdir()
        net.save(tmp_path / "d")
    assert sorted(os.listdir(tmp_path)) == ["d"] and os.listdir(tmp_path / "d") == []


def test_failed_write_keeps_the_old_file_and_removes_the_temp(tmp_path):
    target = tmp_path / "m.bin"
    target.write_bytes(b"old")

    def chunks():
        yield b"new, part one"
        raise KeyboardInterrupt   # interrupted in the middle of the write

    with pytest.raises(KeyboardInterrupt):
        atomic.write_atomic(target, chunks())
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["m.bin"]
    atomic.write_atomic(target, [b"new, ", b"complete"])
    assert target.read_bytes() == b"new, complete" and os.listdir(tmp_path) == ["m.bin"]


def test_next_save_removes_leftovers_of_dead_writers_only(tmp_path):
    import subprocess
    import sys
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(dead.stdout)
    prefix = atomic.temp_prefix("m.nns")
    stale = tmp_path / f"{prefix}.{dead_pid}.{'a' * 16}.tmp"
    live = tmp_path / f"{prefix}.{os.getpid()}.{'b' * 16}.tmp"
    other = tmp_path / f".other.nns.{dead_pid}.{'c' * 16}.tmp"
    for f in (stale, live, other):
        f.write_bytes(b"half a model")
    net, _, _ = make_example("Dense")
    net.save(tmp_path / "m.nns")
    assert sorted(os.listdir(tmp_path)) == sorted(["m.nns", live.name, other.name])


def test_long_file_names_get_short_temp_names(tmp_path):
    name = "m" * 240 + ".nns"
    atomic.write_atomic(tmp_path / name, [b"x"])
    assert (tmp_path / name).read_bytes() == b"x"
    assert len(atomic.temp_prefix(name)) < 110
    assert atomic.temp_prefix(name) != atomic.temp_prefix("m" * 239 + "n.nns")


def test_save_argument_checks(tmp_path):
    net, _, _ = make_example("Dense")
    with pytest.raises(ConfigError, match="include_optimizer"):
        net.save(tmp_path / "m.nns", include_optimizer="yes")
    with pytest.raises(ConfigError, match="expects a Network"):
        saving.save([ns.Dense(2)], tmp_path / "m.nns")
    with pytest.raises(ModelFileError, match="bytes of a model file"):
        saving.load_bytes("not bytes", ns.Network)
    assert os.listdir(tmp_path) == []
