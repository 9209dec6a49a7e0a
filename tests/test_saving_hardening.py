"""Hostile and unlucky model files: each defect an adversarial probe found, refused cleanly.

1. small files that ask for huge activations at predict (the activation budget of a load), and
   headers with too many entries or too much JSON structure;
2. files that are not regular files, or far bigger than what they declare (read order);
3. abstract layer classes named in a file;
4. flipped bits in the tensor bytes (the checksum) and NaN/inf weights;
5. a save keeps the file's mode and writes through a symbolic link;
6. bad paths and metadata too deep or too big give the library's errors;
7. flags in a file that are not true or false.
"""

import contextlib
import hashlib
import json
import os
import stat
import subprocess
import sys
import time
import tracemalloc

import numpy as np
import pytest

import nnscratch as ns
from nnscratch import cli, saving
from nnscratch.errors import ConfigError, DataError, ModelFileError
from nnscratch.saving import atomic, budget, container

L = ns.layers
POSIX = os.name == "posix"


def write_file(path, tensors, header):
    """Write a (possibly hostile) model file with these tensors and ``__metadata__``."""
    atomic.write_atomic(path, container.encode(list(tensors.items()), header))


def saved_parts(net, path):
    """Save ``net`` to ``path``; returns ``(tensors, header, architecture)`` to edit."""
    net.save(path)
    tensors, header = container.read(path)
    return ({k: np.array(v) for k, v in tensors.items()}, dict(header),
            json.loads(header["architecture"]))


def forged(path, net, edit):
    """Save ``net``, apply ``edit`` to its architecture dict, write the file back."""
    tensors, header, arch = saved_parts(net, path)
    edit(arch)
    header["architecture"] = json.dumps(arch)
    write_file(path, tensors, header)
    return path


@contextlib.contextmanager
def measured():
    """Yields a dict that receives ``seconds`` and ``peak`` (tracemalloc bytes) on exit."""
    result = {}
    tracemalloc.start()
    began = time.perf_counter()
    try:
        yield result
    finally:
        result["seconds"] = time.perf_counter() - began
        result["peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


def set_config(index, **values):
    def edit(arch):
        arch["layers"][index]["config"].update(values)
    return edit


# ---------------------------------------------------------------------------------------------
# 1. The activation budget and the header's size
# ---------------------------------------------------------------------------------------------

def test_a_small_file_asking_for_huge_upsampling_is_refused_at_load(tmp_path):
    net = ns.Network([L.UpSampling2D(2)], input_shape=(1, 2, 2), seed=0)
    path = forged(tmp_path / "bomb.nns", net, set_config(0, size=[60000, 60000]))
    assert path.stat().st_size < 2000
    with measured() as cost, pytest.raises(ModelFileError) as info:
        ns.load(path)
    message = str(info.value)
    assert "UpSampling2D" in message and "max_activation_bytes" in message
    assert "1 GiB" in message and "per sample" in message
    assert cost["peak"] < 8 << 20 and cost["seconds"] < 5


def test_a_huge_convolution_padding_is_refused_at_load(tmp_path):
    net = ns.Network([L.Conv2D(1, 3)], input_shape=(1, 4, 4), seed=0)
    path = forged(tmp_path / "pad.nns", net, set_config(0, padding=[30000, 30000]))
    with measured() as cost, pytest.raises(ModelFileError, match=r"Conv2D.*max_activation_bytes"):
        ns.load(path)
    assert cost["peak"] < 8 << 20


def test_an_unbuilt_file_is_probed_with_its_smallest_input(tmp_path):
    """Without an input shape the smallest input the layers accept is what is measured."""
    net = ns.Network([L.Conv2D(1, 3), L.UpSampling2D(2)], seed=0)
    path = forged(tmp_path / "unbuilt.nns", net, set_config(1, size=[60000, 60000]))
    with pytest.raises(ModelFileError, match="max_activation_bytes"):
        ns.load(path)
    dense = ns.Network([ns.Dense(10 ** 9)], seed=0)     # 4 GB of outputs per sample
    dense.save(tmp_path / "dense.nns")
    with pytest.raises(ModelFileError, match="max_activation_bytes"):
        ns.load(tmp_path / "dense.nns")
    fine = ns.Network([L.Conv2D(2, 3), L.UpSampling2D(2), L.Flatten(), ns.Dense(3)], seed=0)
    fine.save(tmp_path / "fine.nns")
    assert not ns.load(tmp_path / "fine.nns").built


def test_the_budget_can_be_raised_or_lowered(tmp_path):
    net = ns.Network([L.UpSampling2D(2)], input_shape=(1, 2, 2), seed=0)
    path = forged(tmp_path / "big.nns", net, set_config(0, size=[200, 200]))   # 640 kB out
    assert ns.load(path).output_shape == (1, 400, 400)
    with pytest.raises(ModelFileError, match="100000 bytes"):
        ns.load(path, max_activation_bytes=100_000)
    with pytest.raises(ModelFileError, match="max_activation_bytes"):
        saving.load_bytes(path.read_bytes(), ns.Network, max_activation_bytes=100_000)
    assert ns.load(path, max_activation_bytes=None).output_shape == (1, 400, 400)
    for bad in (0, -1, 1.5, "1", True):
        with pytest.raises(ConfigError, match="max_activation_bytes"):
            ns.load(path, max_activation_bytes=bad)


def test_unrolled_windows_count_toward_the_budget(tmp_path):
    """A 64x64 kernel over a padded 64x64 image: 65x65 outputs, but 17 M unrolled values."""
    net = ns.Network([L.Conv2D(1, 64, padding=32)], input_shape=(1, 64, 64), seed=0)
    net.save(tmp_path / "wide.nns")
    outputs_only = 4 * (65 * 65 + 128 * 128 + 64 * 64)
    per_sample = budget.activation_bytes(net.layers, net.input_shape, 4)
    assert per_sample > 64 * 64 * 65 * 65 * 4 > 100 * outputs_only
    assert ns.load(tmp_path / "wide.nns").built
    with pytest.raises(ModelFileError, match="Conv2D"):
        ns.load(tmp_path / "wide.nns", max_activation_bytes=50 << 20)


def test_every_example_network_fits_the_default_budget(tmp_path):
    from test_io import EXAMPLES, make_example
    for kind, example in EXAMPLES.items():
        if example is None:
            continue
        net, x, _ = make_example(kind, n=3)
        net.save(tmp_path / f"{kind}.nns")
        assert np.array_equal(ns.load(tmp_path / f"{kind}.nns").predict(x), net.predict(x))


def _raw_file(header_text, data=b""):
    body = header_text.encode() if isinstance(header_text, str) else header_text
    body += b" " * (-len(body) % 8)
    return len(body).to_bytes(8, "little") + body + data


def test_too_many_tensor_entries_are_refused_quickly():
    entry = '"t{}":{{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}'
    text = "{" + ",".join(entry.format(i) for i in range(150_001)) + "}"
    raw = _raw_file(text)
    with measured() as cost, pytest.raises(ModelFileError, match="100000 tensor"):
        saving.load_bytes(raw, ns.Network, "many.nns")
    assert cost["seconds"] < 1.0 and cost["peak"] < 4 * len(raw)


@pytest.mark.parametrize("filler", ["[]", "{}", "1", "[[[[]]]]"])
def test_a_header_of_endless_json_structure_is_refused_before_parsing(filler):
    text = '{"__metadata__":{},"a":[' + ",".join([filler] * 3_000_000) + "]}"
    raw = _raw_file(text)
    with measured() as cost, pytest.raises(ModelFileError, match="JSON"):
        saving.load_bytes(raw, ns.Network, "deep.nns")
    assert cost["seconds"] < 1.0 and cost["peak"] < 2 * len(raw)


def test_the_header_length_is_capped_before_it_is_read(tmp_path):
    path = tmp_path / "long_header.nns"
    declared = container.MAX_HEADER_BYTES + 8
    with open(path, "wb") as handle:
        handle.write(declared.to_bytes(8, "little") + b"{")
        handle.truncate(8 + declared)                      # sparse: no disk used
    assert container.MAX_HEADER_BYTES <= 32 << 20
    with measured() as cost, pytest.raises(ModelFileError, match="exceeds the"):
        ns.load(path)
    assert cost["peak"] < 1 << 20


# ---------------------------------------------------------------------------------------------
# 2. Read the 8-byte length first; only regular files; only the declared bytes
# ---------------------------------------------------------------------------------------------

def _load_in_child(path, seconds=60):
    """``ns.load(path)`` in a child process with 2 GB of address space and a time limit."""
    code = ("import resource, sys\n"
            "resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
            "import nnscratch as ns\n"
            "try:\n"
            "    ns.load(sys.argv[1])\n"
            "except ns.errors.ModelFileError as exc:\n"
            "    print('ModelFileError:', exc)\n")
    src = os.path.dirname(os.path.dirname(os.path.abspath(ns.__file__)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    try:
        done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                              text=True, timeout=seconds, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"loading {path} did not return within {seconds} s")
    return done.stdout + done.stderr


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_dev_zero_is_refused_without_reading_it():
    output = _load_in_child("/dev/zero")
    assert "ModelFileError:" in output and "not a regular file" in output, output


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    os.mkfifo(tmp_path / "pipe.nns")
    output = _load_in_child(tmp_path / "pipe.nns", seconds=30)
    assert "ModelFileError:" in output and "not a regular file" in output, output


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(ModelFileError, match="folder"):
        ns.load(tmp_path)


def test_a_big_file_that_is_not_a_model_costs_nothing(tmp_path):
    path = tmp_path / "big.bin"
    with open(path, "wb") as handle:
        handle.truncate(2 << 30)                           # 2 GB of zeros, sparse
    with measured() as cost, pytest.raises(ModelFileError, match="does not start with"):
        ns.load(path)
    assert cost["seconds"] < 0.5 and cost["peak"] < 1 << 20


def test_a_model_with_2_gb_of_trailing_bytes_is_refused_before_they_are_read(tmp_path):
    path = tmp_path / "m.nns"
    ns.Network([ns.Dense(2)], input_shape=(3,), seed=0).save(path)
    with open(path, "r+b") as handle:
        handle.truncate(2 << 30)
    with measured() as cost, pytest.raises(ModelFileError, match="trailing bytes"):
        ns.load(path)
    assert cost["seconds"] < 0.5 and cost["peak"] < 1 << 20


def test_a_file_that_shrinks_while_read_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "m.nns"
    ns.Network([ns.Dense(2)], input_shape=(3,), seed=0).save(path)
    real_fstat = os.fstat

    def fstat_then_shrink(fd):          # another process truncates the file right after fstat
        result = real_fstat(fd)
        if stat.S_ISREG(result.st_mode):
            os.truncate(path, 12)
        return result

    monkeypatch.setattr(os, "fstat", fstat_then_shrink)
    with pytest.raises(ModelFileError, match="changed while it was being read"):
        container.read(path)


# ---------------------------------------------------------------------------------------------
# 3. Abstract classes are not layers
# ---------------------------------------------------------------------------------------------

ABSTRACT = ["ActivatedLayer", "Layer", "BaseConv", "BasePooling", "BaseRecurrent"]


@pytest.mark.parametrize("name", ABSTRACT)
def test_abstract_layer_classes_are_refused_at_load(name, tmp_path):
    net = ns.Network([ns.Dense(2)], input_shape=(3,), seed=0)

    def edit(arch):
        arch["layers"] = [{"class": name, "config": {}, "trainable": True}]
        arch["input_shape"] = None
    path = forged(tmp_path / "m.nns", net, edit)
    with pytest.raises(ModelFileError, match=f"{name}.*not a known layer class"):
        ns.load(path)


@pytest.mark.parametrize("name", ABSTRACT)
def test_abstract_layer_classes_are_a_one_line_cli_error(name, tmp_path, capsys):
    net = ns.Network([ns.Dense(2)], input_shape=(3,), seed=0)

    def edit(arch):
        arch["layers"][0]["class"] = name
    path = forged(tmp_path / "m.nns", net, edit)
    (tmp_path / "x.csv").write_text("a,b,c\n1,2,3\n")
    assert cli.main(["predict", str(path), str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("nnscratch predict: error: model file"), err
    assert name in err


# ---------------------------------------------------------------------------------------------
# 4. The checksum of the tensor bytes; NaN and inf weights
# ---------------------------------------------------------------------------------------------

def _small_model(path):
    net = ns.Network([ns.Dense(2, activation="tanh"), ns.Dense(1)], input_shape=(2,), seed=0,
                     optimizer=ns.optimizers.SGD(0.1, momentum=0.9))
    net.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=1, verbose=0)
    net.save(path)
    return net


def test_the_checksum_is_the_sha256_of_the_data_section(tmp_path):
    _small_model(tmp_path / "m.nns")
    raw = (tmp_path / "m.nns").read_bytes()
    start = 8 + int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:start])
    assert header["__metadata__"]["tensors_sha256"] == hashlib.sha256(raw[start:]).hexdigest()
    assert ns.load(tmp_path / "m.nns").checksum == hashlib.sha256(raw[start:]).hexdigest()


def test_every_bit_flip_in_the_tensor_bytes_is_detected(tmp_path):
    _small_model(tmp_path / "m.nns")
    raw = (tmp_path / "m.nns").read_bytes()
    start = 8 + int.from_bytes(raw[:8], "little")
    assert len(raw) - start > 50          # weights and momenta: 72 bytes, 576 flips
    for position in range(start, len(raw)):
        for bit in range(8):
            data = bytearray(raw)
            data[position] ^= 1 << bit
            with pytest.raises(ModelFileError, match="checksum"):
                saving.load_bytes(bytes(data), ns.Network, "flip.nns")


@pytest.mark.parametrize("value", ["0" * 63, "g" * 64, "A" * 64, 3])
def test_a_malformed_checksum_is_refused(value, tmp_path):
    _small_model(tmp_path / "m.nns")
    raw = (tmp_path / "m.nns").read_bytes()
    start = 8 + int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:start])
    header["__metadata__"]["tensors_sha256"] = value
    with pytest.raises(ModelFileError, match="tensors_sha256"):
        saving.load_bytes(_raw_file(json.dumps(header), raw[start:]), ns.Network, "m.nns")


def _without_checksum(path):
    """Rewrite ``path`` with the safetensors package, dropping our checksum (another tool)."""
    from safetensors.numpy import load_file, save_file
    with open(path, "rb") as handle:
        start = 8 + int.from_bytes(handle.read(8), "little")
        metadata = json.loads(handle.read(start - 8))["__metadata__"]
    del metadata["tensors_sha256"]
    save_file(load_file(str(path)), str(path), metadata=metadata)


def test_files_of_other_tools_without_a_checksum_still_load(tmp_path, capsys):
    net = _small_model(tmp_path / "m.nns")
    assert cli.main(["info", str(tmp_path / "m.nns")]) == 0
    assert "checksum: verified" in capsys.readouterr().out
    _without_checksum(tmp_path / "m.nns")
    loaded = ns.load(tmp_path / "m.nns")
    assert loaded.checksum is None
    x = np.array([[0.5, -1.0]])
    assert np.array_equal(loaded.predict(x), net.predict(x))
    assert cli.main(["info", str(tmp_path / "m.nns")]) == 0
    assert "checksum: none (written by another tool)" in capsys.readouterr().out


def _nan_network():
    net = ns.Network([ns.Dense(2, name="d")], input_shape=(3,), seed=0)
    weights = net.get_weights()
    weights["d.W"][1, 0] = np.nan
    weights["d.b"][0] = np.inf
    return net, weights


def test_set_weights_refuses_nan_and_inf_unless_allowed():
    net, weights = _nan_network()
    before = net.get_weights()
    with pytest.raises(DataError, match=r"'d.W'.*NaN or infinite.*allow_nonfinite=True"):
        net.set_weights(weights)
    assert all(np.array_equal(before[k], v) for k, v in net.get_weights().items())
    net.set_weights(weights, allow_nonfinite=True)
    assert np.isnan(net.get_weights()["d.W"][1, 0])


def test_save_refuses_nan_and_inf_unless_allowed(tmp_path):
    net, weights = _nan_network()
    net.set_weights(weights, allow_nonfinite=True)
    with pytest.raises(DataError, match=r"'d.W'.*NaN or infinite.*allow_nonfinite=True"):
        net.save(tmp_path / "m.nns")
    assert os.listdir(tmp_path) == []
    with pytest.raises(DataError, match="allow_nonfinite"):
        saving.save(net, tmp_path / "m.nns")
    net.save(tmp_path / "m.nns", allow_nonfinite=True)
    with pytest.raises(ModelFileError, match=r"'d.W'.*NaN or infinite.*allow_nonfinite=True"):
        ns.load(tmp_path / "m.nns")
    with pytest.raises(ModelFileError, match="allow_nonfinite"):
        saving.load_bytes((tmp_path / "m.nns").read_bytes(), ns.Network)
    loaded = ns.load(tmp_path / "m.nns", allow_nonfinite=True)
    assert np.isnan(loaded.get_weights()["d.W"][1, 0])
    assert np.isinf(loaded.get_weights()["d.b"][0])
    with pytest.raises(ConfigError, match="allow_nonfinite"):
        ns.load(tmp_path / "m.nns", allow_nonfinite="yes")


def test_nan_in_the_optimizer_state_is_refused_too(tmp_path):
    net = _small_model(tmp_path / "m.nns")
    state = next(iter(net.optimizer.state.values()))
    next(v for v in state.values() if isinstance(v, np.ndarray))[...] = np.nan
    with pytest.raises(DataError, match="optimizer/"):
        net.save(tmp_path / "m.nns")


# ---------------------------------------------------------------------------------------------
# 5. Modes and symbolic links
# ---------------------------------------------------------------------------------------------

posix_only = pytest.mark.skipif(not POSIX, reason="POSIX file modes and symbolic links")


@posix_only
def test_save_keeps_the_mode_of_an_existing_file(tmp_path):
    net = ns.Network([ns.Dense(2)], input_shape=(3,), seed=0)
    path = tmp_path / "m.nns"
    net.save(path)
    for mode in (0o600, 0o640, 0o444):
        os.chmod(path, mode)
        net.save(path)
        assert stat.S_IMODE(os.stat(path).st_mode) == mode


@posix_only
def test_a_new_file_gets_the_mode_open_would_give(tmp_path):
    umask = os.umask(0o027)
    try:
        ns.Network([ns.Dense(2)], input_shape=(3,), seed=0).save(tmp_path / "m.nns")
        with open(tmp_path / "plain", "wb"):
            pass
    finally:
        os.umask(umask)
    assert (stat.S_IMODE(os.stat(tmp_path / "m.nns").st_mode)
            == stat.S_IMODE(os.stat(tmp_path / "plain").st_mode) == 0o640)


@posix_only
def test_save_writes_through_a_symbolic_link(tmp_path):
    (tmp_path / "store").mkdir()
    (tmp_path / "links").mkdir()
    target = tmp_path / "store" / "real.nns"
    link = tmp_path / "links" / "current.nns"
    first = ns.Network([ns.Dense(2)], input_shape=(3,), seed=0)
    second = ns.Network([ns.Dense(2)], input_shape=(3,), seed=1)
    first.save(target)
    os.chmod(target, 0o600)
    os.symlink(os.path.join("..", "store", "real.nns"), link)     # a relative link
    second.save(link)
    assert os.path.islink(link) and os.readlink(link) == os.path.join("..", "store", "real.nns")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    loaded = ns.load(target)
    assert all(np.array_equal(v, loaded.get_weights()[k])
               for k, v in second.get_weights().items())
    assert sorted(os.listdir(tmp_path / "links")) == ["current.nns"]
    assert sorted(os.listdir(tmp_path / "store")) == ["real.nns"]


@posix_only
def test_a_dangling_link_gets_its_target_created_and_a_loop_is_refused(tmp_path):
    os.symlink(tmp_path / "later.nns", tmp_path / "link.nns")
    net = ns.Network([ns.Dense(2)], input_shape=(3,), seed=0)
    net.save(tmp_path / "link.nns")
    assert os.path.islink(tmp_path / "link.nns") and (tmp_path / "later.nns").is_file()
    os.symlink(tmp_path / "b.nns", tmp_path / "a.nns")
    os.symlink(tmp_path / "a.nns", tmp_path / "b.nns")
    with pytest.raises(ModelFileError, match=r"a.nns"):
        net.save(tmp_path / "a.nns")
    assert os.path.islink(tmp_path / "a.nns") and os.path.islink(tmp_path / "b.nns")


# ---------------------------------------------------------------------------------------------
# 6. Bad paths and metadata give the library's errors
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [None, 3, ["m.nns"]])
def test_a_path_that_is_not_a_path_is_a_config_error(path):
    net = ns.Network([ns.Dense(2)], input_shape=(3,), seed=0)
    with pytest.raises(ConfigError, match=r"str or os.PathLike"):
        ns.export_onnx(net, path)
    with pytest.raises(ConfigError, match=r"str or os.PathLike"):
        net.save(path)


def test_a_path_given_as_bytes_is_a_path(tmp_path):
    net = ns.Network([ns.Dense(2)], input_shape=(3,), seed=0)
    net.save(os.fsencode(tmp_path / "m.nns"))
    assert ns.load(os.fsencode(tmp_path / "m.nns")).input_shape == (3,)
    assert os.listdir(tmp_path) == ["m.nns"]


def _nested(depth):
    value = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def test_metadata_depth_is_bounded(tmp_path):
    net = ns.Network([ns.Dense(2)], input_shape=(3,), seed=0)
    net.save(tmp_path / "ok.nns", metadata=_nested(32))
    assert ns.load(tmp_path / "ok.nns").metadata == _nested(32)
    for depth in (33, 900, 5000):
        with pytest.raises(ConfigError, match=r"metadata.*deeper than 32"):
            net.save(tmp_path / "m.nns", metadata=_nested(depth))
    with pytest.raises(ConfigError, match=r"metadata.*deeper than 32"):
        lists = [1]
        for _ in range(31):
            lists = [lists]
        net.save(tmp_path / "m.nns", metadata={"a": lists})       # 1 dict + 32 lists
    cyclic = {"a": []}
    cyclic["a"].append(cyclic)
    with pytest.raises(ConfigError, match="metadata"):
        net.save(tmp_path / "m.nns", metadata=cyclic)
    assert sorted(os.listdir(tmp_path)) == ["ok.nns"]


def test_metadata_size_is_bounded(tmp_path):
    net = ns.Network([ns.Dense(2)], input_shape=(3,), seed=0)
    with pytest.raises(ConfigError, match=r"metadata.*bytes"):
        net.save(tmp_path / "m.nns", metadata={"blob": "x" * (saving.common.MAX_METADATA_BYTES)})
    wide = {str(i): list(range(10)) for i in range(200_000)}
    with pytest.raises(ConfigError, match="metadata"):
        net.save(tmp_path / "m.nns", metadata=wide)
    assert os.listdir(tmp_path) == []


def test_too_deep_metadata_in_a_file_is_refused(tmp_path):
    net = ns.Network([ns.Dense(2)], input_shape=(3,), seed=0)
    path = forged(tmp_path / "m.nns", net, lambda arch: arch.update(metadata=_nested(40)))
    with pytest.raises(ModelFileError, match=r"metadata.*deeper than 32"):
        ns.load(path)


# ---------------------------------------------------------------------------------------------
# 7. Flags in a file are true or false
# ---------------------------------------------------------------------------------------------

def _flag_cases():
    """``(kind, layer index, key path)`` for every flag (a bool in a config) of every example."""
    from test_io import EXAMPLES, build_example
    cases = []
    for kind, example in EXAMPLES.items():
        if example is None:
            continue
        net = build_example(kind, seed=0)[0]
        for index, layer in enumerate(net.layers):
            stack = [((), layer.get_config())]
            while stack:                                   # a wrapper nests its layer's config
                keys, config = stack.pop()
                for key, value in config.items():
                    if isinstance(value, bool):
                        cases.append((kind, index, keys + (key,)))
                    elif isinstance(value, dict):
                        stack.append((keys + (key,), value))
    return sorted(set(cases))


FLAG_CASES = _flag_cases()


def test_the_flag_cases_cover_the_known_flags():
    keys = {path[-1] for _, _, path in FLAG_CASES}
    assert {"use_bias", "return_sequences", "go_backwards", "keepdims"} <= keys


@pytest.mark.parametrize("kind, index, path", FLAG_CASES)
@pytest.mark.parametrize("bad", [2 ** 64, 0.5, 1, 0, "yes", None])
def test_flags_that_are_not_true_or_false_are_refused(kind, index, path, bad, tmp_path):
    from test_io import build_example
    net = build_example(kind, seed=0)[0]

    def edit(arch):
        config = arch["layers"][index]["config"]
        for key in path[:-1]:
            config = config[key]
        config[path[-1]] = bad
    path_ = forged(tmp_path / "m.nns", net, edit)
    with pytest.raises(ModelFileError) as info:
        ns.load(path_)
    message = str(info.value)
    assert f"layer {index} (" in message and path[-1] in message, message
