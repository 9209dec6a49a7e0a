"""Mutated model files: loading one either works or raises ModelFileError, nothing else.

Over 1,000 mutated files per run (plus every truncation of a small file): bit flips, spliced
header bytes, random length fields, random headers, broken tensor entries, duplicate names,
overlapping offsets, and random values anywhere in the architecture and training state. Each
file is loaded with warnings turned into errors, so a NumPy warning would fail the test too.

The long mode (``pytest -m long tests/test_io_fuzz.py -s``) runs every fuzz test with
:data:`LONG` times as many files, over 100,000 in all, and prints how many it loaded.
"""

import json
import os
import tempfile
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nnscratch as ns
from nnscratch import saving
from nnscratch.errors import ModelFileError
from nnscratch.layers.base import LAYER_CLASSES
from nnscratch.saving import container

LONG = 80    # the long mode's factor: 1,780 files by default, 142,400 under -m long

# Every fuzz test runs once at its default size and once, marked ``long``, LONG times bigger.
SCALES = [1, pytest.param(LONG, marks=pytest.mark.long, id="long")]


def fuzz(examples, scale=1):
    """Hypothesis settings for one fuzz test: ``examples * scale`` files, no deadline."""
    return settings(max_examples=examples * scale, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def _base_file():
    """The bytes of a small saved model with a training state (Adam, Dropout, BatchNorm)."""
    net = ns.Network([ns.Dense(3, activation="tanh", input_dim=2), ns.Dropout(0.5),
                      ns.BatchNormalization(), ns.Dense(1)], loss="mse", metrics=["mae"],
                     optimizer=ns.optimizers.Adam(learning_rate=0.01), seed=0)
    x = np.random.default_rng(0).standard_normal((4, 2))
    net.fit(x, x[:, :1], epochs=1, batch_size=2, verbose=0)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "base.nns")
        net.save(path)
        with open(path, "rb") as handle:
            return handle.read()


def _graph_file():
    """The bytes of a small saved graph model: two inputs (one an attention mask), a shared
    layer called twice, attention with a symbolic option, a merge, two outputs."""
    x, mask = ns.Input((3, 2), name="x"), ns.Input((3, 3), name="mask")
    shared = ns.Dense(2, activation="tanh", name="shared")
    h = ns.MultiHeadAttention(1, 2, name="mha")(shared(x), x, attention_mask=mask)
    y = ns.Add(name="add")([shared(h), x])
    model = ns.Model([x, mask], [ns.Flatten(name="flat")(y), ns.Dense(1, name="head")(y)],
                     loss=["mse", "mae"], loss_weights=[0.5, 1.0], metrics=[["mae"], []],
                     optimizer=ns.optimizers.Adam(learning_rate=0.01), seed=0)
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((4, 3, 2)), np.ones((4, 3, 3))]
    model.fit(xs, [rng.standard_normal((4, 6)), rng.standard_normal((4, 3, 1))], epochs=1,
              batch_size=2, verbose=0)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "graph.nns")
        model.save(path)
        with open(path, "rb") as handle:
            return handle.read()


BASE = _base_file()
BASE_TENSORS, BASE_HEADER = container.parse(BASE)
BASE_TENSORS = [(k, np.array(v)) for k, v in BASE_TENSORS.items()]
HEADER_END = 8 + int.from_bytes(BASE[:8], "little")
GRAPH = _graph_file()
GRAPH_TENSORS, GRAPH_HEADER = container.parse(GRAPH)
GRAPH_TENSORS = [(k, np.array(v)) for k, v in GRAPH_TENSORS.items()]

LOADED = [0]       # mutated files loaded in this run
ACCEPTED = [0]     # of which were still valid models


def load_or_refuse(data):
    """Load ``data``; ModelFileError is fine, any other exception or warning fails the test."""
    LOADED[0] += 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            net = saving.load_bytes(data, ns.Network, "fuzz.nns", model_class=ns.Model)
        except ModelFileError as exc:
            assert "fuzz.nns" in str(exc)
            return None
    ACCEPTED[0] += 1
    assert isinstance(net, ns.Model)           # a Network (a stack) is a Model too
    return net


def assemble(tensors, header):
    return b"".join(bytes(c) for c in container.encode(tensors, header))


def with_length(body, length=None):
    return (len(body) if length is None else length).to_bytes(8, "little") + body


json_scalars = (st.none() | st.booleans() | st.integers(-3, 10) | st.integers()
                | st.sampled_from([2 ** 63, 10 ** 12, -(2 ** 31)])
                | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8)
                | st.sampled_from(sorted(LAYER_CLASSES) + ["float32", "float64", "F32", "I64"]))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=4),
    max_leaves=5)


# ---------------------------------------------------------------------------------------------
# Byte-level damage
# ---------------------------------------------------------------------------------------------

def test_base_file_loads():
    assert load_or_refuse(BASE) is not None


def test_every_truncation_and_extension_is_refused():
    for n in range(len(BASE)):
        with pytest.raises(ModelFileError):
            saving.load_bytes(BASE[:n], ns.Network, "fuzz.nns")
        LOADED[0] += 1
    for tail in (b"\0", b" " * 8, BASE[-8:]):
        with pytest.raises(ModelFileError, match="trailing bytes"):
            saving.load_bytes(BASE + tail, ns.Network, "fuzz.nns")


@pytest.mark.parametrize("scale", SCALES)
def test_bit_flips(scale):
    @fuzz(300, scale)
    @given(st.lists(st.tuples(st.integers(0, len(BASE) - 1), st.integers(0, 7)), min_size=1,
                    max_size=4))
    def run(flips):
        data = bytearray(BASE)
        for position, bit in flips:
            data[position] ^= 1 << bit
        load_or_refuse(bytes(data))

    run()


@pytest.mark.parametrize("scale", SCALES)
def test_header_splices(scale):
    @fuzz(200, scale)
    @given(st.integers(8, HEADER_END), st.integers(0, 4), st.binary(max_size=6), st.booleans())
    def run(position, deleted, inserted, fix_length):
        body = BASE[8:HEADER_END]
        at = position - 8
        body = body[:at] + inserted + body[at + deleted:]
        data = with_length(body + BASE[HEADER_END:], len(body) if fix_length else None)
        if not fix_length:
            data = BASE[:8] + data[8:]
        load_or_refuse(data)

    run()


@pytest.mark.parametrize("scale", SCALES)
def test_random_length_fields(scale):
    @fuzz(100, scale)
    @given(st.one_of(st.integers(0, 2 ** 64 - 1), st.integers(0, len(BASE) + 16),
                     st.sampled_from([2 ** 63, 2 ** 64 - 1, 100 * 2 ** 20 + 1])))
    def run(length):
        load_or_refuse(length.to_bytes(8, "little") + BASE[8:])

    run()


@pytest.mark.parametrize("scale", SCALES)
def test_bit_flips_in_the_tensors_behind_a_fresh_checksum(scale):
    """Weights changed with the checksum made to match: NaN/inf are refused, others load."""
    @fuzz(100, scale)
    @given(st.lists(st.tuples(st.integers(0, len(BASE) - HEADER_END - 1), st.integers(0, 7)),
                    min_size=1, max_size=4))
    def run(flips):
        section = bytearray(BASE[HEADER_END:])
        for position, bit in flips:
            section[position] ^= 1 << bit
        load_or_refuse(assemble(tensors_of(bytes(section)), BASE_HEADER))

    run()


def tensors_of(section):
    """BASE's ``(name, array)`` tensors read from ``section``, its data section (changed)."""
    entries = {k: v for k, v in json.loads(BASE[8:HEADER_END]).items() if k != "__metadata__"}
    found = []
    for name, entry in entries.items():
        dtype = container.DTYPES[entry["dtype"]]
        begin, end = entry["data_offsets"]
        found.append((name, np.frombuffer(section[begin:end], dtype).reshape(entry["shape"])))
    return found


entry_strategy = st.one_of(
    json_values,
    st.fixed_dictionaries({
        "dtype": st.sampled_from(list(container.DTYPES) + ["BF16", "F8", "f32", ""]) | json_values,
        "shape": st.lists(st.integers(-1, 5) | st.sampled_from([2 ** 40, 2 ** 64]), max_size=3)
        | json_values,
        "data_offsets": st.lists(st.integers(-2, 80), min_size=0, max_size=3) | json_values,
    }))


@pytest.mark.parametrize("scale", SCALES)
def test_random_headers(scale):
    @fuzz(150, scale)
    @given(st.dictionaries(st.text(max_size=6), entry_strategy, max_size=4),
           st.none() | st.dictionaries(st.text(max_size=4), st.text(max_size=4) | json_values,
                                       max_size=3),
           st.binary(max_size=80))
    def run(entries, metadata, data):
        header = dict(entries)
        if metadata is not None:
            header["__metadata__"] = metadata
        body = json.dumps(header).encode()
        load_or_refuse(with_length(body) + data)

    run()


# ---------------------------------------------------------------------------------------------
# Structured damage to a valid file
# ---------------------------------------------------------------------------------------------

def _raw_header():
    return json.loads(BASE[8:HEADER_END])


@pytest.mark.parametrize("scale", SCALES)
def test_broken_tensor_entries(scale):
    @fuzz(150, scale)
    @given(st.data())
    def run(data):
        header = _raw_header()
        names = [k for k in header if k != "__metadata__"]
        name = data.draw(st.sampled_from(names))
        field = data.draw(st.sampled_from(["dtype", "shape", "data_offsets", "name", "drop"]))
        if field == "name":
            header[data.draw(st.sampled_from(names))] = header[name]     # shared/overlapping bytes
            header[data.draw(st.text(max_size=8))] = dict(header[name])
        elif field == "drop":
            del header[name]
        elif field == "data_offsets":
            begin = data.draw(st.integers(0, len(BASE)))
            header[name]["data_offsets"] = [begin, begin + data.draw(st.integers(-8, 64))]
        elif field == "shape":
            header[name]["shape"] = data.draw(st.lists(st.integers(0, 6), max_size=3) | json_values)
        else:
            header[name]["dtype"] = data.draw(st.sampled_from(list(container.DTYPES)) | json_values)
        load_or_refuse(with_length(json.dumps(header).encode()) + BASE[HEADER_END:])

    run()


@pytest.mark.parametrize("scale", SCALES)
def test_duplicate_names_in_the_header_text(scale):
    """JSON text with one key twice (a dict cannot hold it): the parser must notice."""
    @fuzz(60, scale)
    @given(st.data())
    def run(data):
        text = BASE[8:HEADER_END].decode().rstrip()
        header = json.loads(text)
        names = [k for k in header if k != "__metadata__"]
        name = data.draw(st.sampled_from(names + ["__metadata__"]))
        duplicate = json.dumps({name: header[name]})[1:-1]
        text = text[:-1] + "," + duplicate + "}"
        with pytest.raises(ModelFileError, match="duplicate key"):
            saving.load_bytes(with_length(text.encode()) + BASE[HEADER_END:], ns.Network,
                               "fuzz.nns")
        LOADED[0] += 1

    run()


def _mutate_json(value, data, depth=0, values=json_values, max_depth=6):
    """``value`` with one node replaced, removed or duplicated, chosen by hypothesis; new
    values are drawn from ``values``."""
    if isinstance(value, dict) and value and depth < max_depth and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(value)))
        action = data.draw(st.sampled_from(["descend", "descend", "replace", "delete", "add"]))
        result = dict(value)
        if action == "descend":
            result[key] = _mutate_json(value[key], data, depth + 1, values, max_depth)
        elif action == "replace":
            result[key] = data.draw(values)
        elif action == "delete":
            del result[key]
        else:
            result[data.draw(st.text(max_size=6))] = data.draw(values)
        return result
    if isinstance(value, list) and value and depth < max_depth and data.draw(st.booleans()):
        index = data.draw(st.integers(0, len(value) - 1))
        action = data.draw(st.sampled_from(["descend", "descend", "replace", "delete", "copy"]))
        result = list(value)
        if action == "descend":
            result[index] = _mutate_json(value[index], data, depth + 1, values, max_depth)
        elif action == "replace":
            result[index] = data.draw(values)
        elif action == "delete":
            del result[index]
        else:
            result.insert(index, value[index])
        return result
    return data.draw(values)


@pytest.mark.parametrize("scale", SCALES)
def test_random_changes_anywhere_in_the_architecture(scale):
    @fuzz(250, scale)
    @given(st.data())
    def run(data):
        arch = json.loads(BASE_HEADER["architecture"])
        header = {**BASE_HEADER, "architecture": json.dumps(_mutate_json(arch, data))}
        load_or_refuse(assemble(BASE_TENSORS, header))

    run()


def _graph_names():
    """Every name the graph model's architecture uses: tensors, layers, outputs, options."""
    graph = json.loads(GRAPH_HEADER["architecture"])["graph"]
    names = {entry["name"] for key in ("inputs", "nodes", "outputs") for entry in graph[key]}
    names |= {node["layer"] for node in graph["nodes"]}
    return sorted(names | {"attention_mask", "use_causal_mask", "tensor"})


# references to the graph's own names make cycles, duplicates and wrong arities likely
graph_values = (json_values | st.sampled_from(_graph_names())
                | st.builds(lambda name: {"tensor": name}, st.sampled_from(_graph_names()))
                | st.lists(st.sampled_from(_graph_names()), min_size=1, max_size=3))


def test_graph_base_file_loads():
    assert type(load_or_refuse(GRAPH)) is ns.Model


@pytest.mark.parametrize("scale", SCALES)
def test_random_changes_anywhere_in_a_graph_architecture(scale):
    @fuzz(250, scale)
    @given(st.data())
    def run(data):
        arch = json.loads(GRAPH_HEADER["architecture"])
        if data.draw(st.booleans()):
            arch["graph"] = _mutate_json(arch["graph"], data, values=graph_values, max_depth=8)
        else:
            arch = _mutate_json(arch, data, values=graph_values, max_depth=8)
        header = {**GRAPH_HEADER, "architecture": json.dumps(arch)}
        load_or_refuse(assemble(GRAPH_TENSORS, header))

    run()


@pytest.mark.parametrize("scale", SCALES)
def test_random_changes_anywhere_in_the_training_state(scale):
    @fuzz(120, scale)
    @given(st.data())
    def run(data):
        state = json.loads(BASE_HEADER["training_state"])
        header = {**BASE_HEADER, "training_state": json.dumps(_mutate_json(state, data))}
        load_or_refuse(assemble(BASE_TENSORS, header))

    run()


@pytest.mark.parametrize("scale", SCALES)
def test_garbage_metadata_values(scale):
    @fuzz(100, scale)
    @given(st.sampled_from(["architecture", "training_state", "format", "format_version"]),
           st.text(max_size=40) | json_values.map(json.dumps))
    def run(key, value):
        load_or_refuse(assemble(BASE_TENSORS, {**BASE_HEADER, key: value}))

    run()


@pytest.mark.parametrize("scale", SCALES)
def test_tensor_shapes_and_dtypes_swapped(scale):
    @fuzz(100, scale)
    @given(st.data())
    def run(data):
        tensors = list(BASE_TENSORS)
        index = data.draw(st.integers(0, len(tensors) - 1))
        name = tensors[index][0]
        dtype = data.draw(st.sampled_from([np.float32, np.float64, np.int64, np.float16, np.uint8]))
        shape = tuple(data.draw(st.lists(st.integers(0, 4), max_size=3)))
        tensors[index] = (data.draw(st.sampled_from([name, name + "x", "optimizer/" + name])),
                          np.zeros(shape, dtype))
        load_or_refuse(assemble(tensors, BASE_HEADER))

    run()


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    """Print how many mutated files this module loaded (shown with ``-s``)."""
    yield
    print(f"\nmutated model files loaded: {LOADED[0]} (still valid models: {ACCEPTED[0]})")
