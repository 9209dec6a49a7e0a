"""Graph models (ns.Model) in model files: round trips, resume, and strict checks of the graph."""

import json

import numpy as np
import pytest
from test_io import (
    assert_edit_refused,
    assert_same_bits,
    assert_same_network,
    edit_architecture,
    rewrite,
)

import nnscratch as ns
from nnscratch import saving
from nnscratch.errors import ConfigError, ModelFileError
from nnscratch.saving import container

L = ns.layers
T, E, V = 5, 8, 7          # the transformer's sequence length, width and vocabulary


def residual(dtype="float64", seed=1):
    """A residual block: y = x + f(x), with dropout and batch normalization inside f."""
    x = ns.Input((6,), name="x")
    h = L.Dense(6, activation="relu", name="f1")(x)
    h = L.BatchNormalization(momentum=0.8, name="bn")(L.Dropout(0.3, name="drop")(h))
    y = L.Add(name="skip")([x, L.Dense(6, name="f2")(h)])
    out = L.Dense(2, name="head")(L.Activation("tanh", name="act")(y))
    return ns.Model(x, out, loss="mse", metrics=["mae"], seed=seed, dtype=dtype,
                    optimizer=ns.optimizers.Adam(learning_rate=0.01))


def two_inputs(dtype="float64", seed=1):
    a, b = ns.Input((3,), name="a"), ns.Input((2, 4), name="b")
    joined = L.Concatenate(name="join")([L.Dense(4, name="da")(a), L.Flatten(name="flat")(b)])
    return ns.Model([a, b], L.Dense(2, name="head")(joined), loss="mse", seed=seed, dtype=dtype,
                    optimizer=ns.optimizers.SGD(learning_rate=0.05, momentum=0.9))


def shared_layer(dtype="float64", seed=1):
    """One Dense called on two inputs: one set of weights, two nodes."""
    shared = L.Dense(3, activation="tanh", name="shared")
    a, b = ns.Input((4,), name="left"), ns.Input((4,), name="right")
    merged = L.Subtract(name="diff")([shared(a), shared(b)])
    return ns.Model({"left": a, "right": b}, L.Dense(1, name="head")(merged), seed=seed,
                    dtype=dtype, loss="mse", optimizer="rmsprop")


def two_outputs(dtype="float64", seed=1):
    x = ns.Input((4,), name="x")
    trunk = L.Dense(6, activation="tanh", name="trunk")(x)
    value = L.Dense(1, name="value")(trunk)
    label = L.Dense(3, activation="softmax", name="label")(trunk)
    return ns.Model(x, {"value": value, "label": label}, seed=seed, dtype=dtype,
                    loss={"value": "mse", "label": "sparse_categorical_crossentropy"},
                    loss_weights=[0.3, 2.0], metrics={"label": ["accuracy"], "value": ["mae"]},
                    optimizer=ns.optimizers.Adam(learning_rate=0.01))


def transformer(dtype="float64", seed=1):
    """One GPT block: token and position embeddings, causal self-attention, a feed-forward
    part on (N, T, E), residual additions and layer normalizations."""
    tokens = ns.Input((T,), name="tokens")
    h = L.PositionalEmbedding(T, E, name="pos")(L.Embedding(V, E, name="tok")(tokens))
    attended = L.MultiHeadAttention(2, 4, dropout=0.1, name="mha")(h, h, use_causal_mask=True)
    h = L.LayerNormalization(name="ln1")(L.Add(name="res1")([h, attended]))
    ff = L.Dense(E, name="ff2")(L.Dense(2 * E, activation="gelu", name="ff1")(h))
    h = L.LayerNormalization(name="ln2")(L.Add(name="res2")([h, ff]))
    logits = L.Dense(V, activation="softmax", name="logits")(h)
    return ns.Model(tokens, logits, loss="categorical_crossentropy", seed=seed, dtype=dtype,
                    optimizer=ns.optimizers.AdamW(learning_rate=0.01))


def masked_attention(dtype="float64", seed=1):
    """Attention whose mask is a model input (a symbolic option of the call)."""
    x, mask = ns.Input((T, 3), name="x"), ns.Input((T, T), name="mask")
    attended = L.MultiHeadAttention(2, 2, name="mha")(x, x, attention_mask=mask)
    return ns.Model([x, mask], L.Dense(2, name="head")(attended), seed=seed, dtype=dtype)


MODELS = {"residual": residual, "two_inputs": two_inputs, "shared_layer": shared_layer,
          "two_outputs": two_outputs, "transformer": transformer,
          "masked_attention": masked_attention}


def data(kind, n=12, seed=0):
    """``(x, y)`` for the model ``kind``."""
    rng = np.random.default_rng(seed)
    if kind == "two_inputs":
        return [rng.normal(size=(n, 3)), rng.normal(size=(n, 2, 4))], rng.normal(size=(n, 2))
    if kind == "shared_layer":
        return {"left": rng.normal(size=(n, 4)), "right": rng.normal(size=(n, 4))}, \
            rng.normal(size=(n, 1))
    if kind == "two_outputs":
        return rng.normal(size=(n, 4)), {"value": rng.normal(size=(n, 1)),
                                         "label": rng.integers(0, 3, n)}
    if kind == "transformer":
        tokens = rng.integers(0, V, (n, T + 1))
        return tokens[:, :-1].astype(float), np.eye(V)[tokens[:, 1:]]
    if kind == "masked_attention":
        mask = rng.random((n, T, T)) < 0.6
        mask[0, 1] = False                                  # a query row that attends to nothing
        return [rng.normal(size=(n, T, 3)), mask.astype(float)], rng.normal(size=(n, T, 2))
    return rng.normal(size=(n, 6)), rng.normal(size=(n, 2))


def architecture(path):
    return json.loads(container.read(path)[1]["architecture"])


def assert_same_model(original, loaded):
    """What assert_same_network checks, for every output, and the same graph."""
    assert type(loaded) is ns.Model
    assert_same_network(original, loaded)
    assert (loaded.input_names, loaded.output_names) == (original.input_names,
                                                         original.output_names)
    a, b = original.outputs_spec, loaded.outputs_spec
    assert [loss.get_config() for loss in a.losses] == [loss.get_config() for loss in b.losses]
    assert a.weights == b.weights
    assert [[m.get_config() for m in ms] for ms in a.metrics] == [
        [m.get_config() for m in ms] for ms in b.metrics]
    assert [(n.layer.name, [t.shape for t in n.inputs], n.output.shape) for n in original.nodes] \
        == [(n.layer.name, [t.shape for t in n.inputs], n.output.shape) for n in loaded.nodes]


def assert_same_outputs(a, b):
    a, b = (a, b) if isinstance(a, list) else ([a], [b])
    for x, y in zip(a, b):
        assert_same_bits(x, y, "predictions")


# ---------------------------------------------------------------------------------------------
# Round trips and resume
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", sorted(MODELS))
def test_round_trip_is_bit_identical(kind, dtype, tmp_path):
    model, (x, y) = MODELS[kind](dtype), data(kind)
    model.fit(x, y, epochs=2, batch_size=5, verbose=0)
    path = tmp_path / "m.nns"
    model.save(path, metadata={"kind": kind})
    loaded = ns.load(path)
    assert_same_model(model, loaded)
    assert loaded.metadata == {"kind": kind}
    assert_same_outputs(model.predict(x), loaded.predict(x))
    assert loaded.evaluate(x, y) == model.evaluate(x, y)
    loaded.save(tmp_path / "again.nns")
    assert (tmp_path / "again.nns").read_bytes() == path.read_bytes()
    model.fit(x, y, epochs=3, initial_epoch=2, batch_size=5, verbose=0)
    loaded.fit(x, y, epochs=3, initial_epoch=2, batch_size=5, verbose=0)
    assert_same_model(model, loaded)


def test_the_file_records_the_graph(tmp_path):
    shared_layer().save(tmp_path / "shared.nns")
    arch = architecture(tmp_path / "shared.nns")
    assert "input_shape" not in arch and "loss" not in arch
    assert [spec["config"]["name"] for spec in arch["layers"]] == ["shared", "diff", "head"]
    graph = arch["graph"]
    assert graph["inputs"] == [{"name": "left", "shape": [4]}, {"name": "right", "shape": [4]}]
    assert [(n["name"], n["layer"], n["inputs"]) for n in graph["nodes"]] == [
        ("shared:0", "shared", ["left"]), ("shared:1", "shared", ["right"]),
        ("diff:0", "diff", ["shared:0", "shared:1"]), ("head:0", "head", ["diff:0"])]
    two_outputs().save(tmp_path / "two.nns")
    outputs = architecture(tmp_path / "two.nns")["graph"]["outputs"]
    assert [(o["name"], o["tensor"], o["loss"]["name"], o["loss_weight"]) for o in outputs] == [
        ("value", "value:0", "mse", 0.3), ("label", "label:0", "sparse_categorical_crossentropy", 2.0)]
    assert [o["metrics"][0]["name"] for o in outputs] == ["mae", "accuracy"]
    transformer().save(tmp_path / "gpt.nns")
    mha = next(n for n in architecture(tmp_path / "gpt.nns")["graph"]["nodes"] if n["layer"] == "mha")
    assert mha["inputs"] == ["pos:0", "pos:0"]
    assert mha["options"] == {"attention_mask": None, "use_causal_mask": True}
    masked_attention().save(tmp_path / "mask.nns")
    mha = architecture(tmp_path / "mask.nns")["graph"]["nodes"][0]
    assert mha["options"]["attention_mask"] == {"tensor": "mask"}


def test_a_stack_is_still_saved_as_a_stack_and_loads_as_a_network(tmp_path):
    net = ns.Network([ns.Dense(3), ns.Dense(1)], input_shape=(2,), seed=0)
    net.save(tmp_path / "net.nns")
    assert "graph" not in architecture(tmp_path / "net.nns")
    assert type(ns.load(tmp_path / "net.nns")) is ns.Network
    x = ns.Input((2,))
    chain = ns.Model(x, ns.Dense(1)(ns.Dense(3)(x)), seed=0)      # a chain, but a Model
    chain.save(tmp_path / "chain.nns")
    assert type(ns.load(tmp_path / "chain.nns")) is ns.Model


def test_resuming_a_residual_model_from_epoch_2_is_bit_identical(tmp_path):
    x, y = data("residual", n=30)
    full = residual()
    checkpoint = ns.callbacks.ModelCheckpoint(filepath=str(tmp_path / "ckpt-{epoch}.nns"))
    history = full.fit(x, y, epochs=4, batch_size=8, callbacks=[checkpoint], verbose=0)
    resumed = ns.load(tmp_path / "ckpt-2.nns")
    assert type(resumed) is ns.Model and resumed.epochs_trained == 2
    rest = resumed.fit(x, y, epochs=4, initial_epoch=2, batch_size=8, verbose=0)
    assert rest.history["loss"] == history.history["loss"][2:]
    assert_same_model(full, resumed)
    assert_same_bits(full.predict(x), resumed.predict(x))
    # without the training state (dropout masks, shuffling, moments) the run differs
    fresh = ns.load(tmp_path / "ckpt-2.nns")
    fresh.save(tmp_path / "weights.nns", include_optimizer=False)
    other = ns.load(tmp_path / "weights.nns")
    other.fit(x, y, epochs=4, initial_epoch=2, batch_size=8, verbose=0)
    assert not np.array_equal(other.get_weights()["f1.W"], full.get_weights()["f1.W"])


def test_an_option_that_a_file_cannot_hold_is_refused_at_save(tmp_path):
    x = ns.Input((T, 3))
    y = L.MultiHeadAttention(1, 2)(x, x, attention_mask=np.tri(T, dtype=bool))
    with pytest.raises(ConfigError, match="option attention_mask"):
        ns.Model(x, y).save(tmp_path / "m.nns")
    assert not (tmp_path / "m.nns").exists()


# ---------------------------------------------------------------------------------------------
# Strict checks of the graph in a file
# ---------------------------------------------------------------------------------------------

@pytest.fixture
def saved(tmp_path):
    """A saved graph model (two inputs, a shared layer): (path, tensors, header)."""
    model, (x, y) = shared_layer("float32"), data("shared_layer")
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "g.nns"
    model.save(path)
    tensors, header = container.read(path)
    return path, {k: np.array(v) for k, v in tensors.items()}, dict(header)


def _node(arch, name):
    return next(n for n in arch["graph"]["nodes"] if n["name"] == name)


def _extra_layer(arch):
    arch["layers"].append({"class": "Activation", "config": {"name": "idle", "activation":
                                                            {"name": "relu"}}, "trainable": True})


@pytest.mark.parametrize("change, needle", [
    (lambda a: _node(a, "diff:0")["inputs"].append("nowhere"),
     "node 'diff:0' reads 'nowhere', which is neither an input nor a node"),
    (lambda a: a["graph"]["outputs"][0].update({"tensor": "ghost:0"}),
     "output 'head' is the tensor 'ghost:0', which is neither"),
    (lambda a: _node(a, "shared:0")["inputs"].__setitem__(0, "diff:0"),
     "cycle: 'diff:0' -> 'shared:0' -> 'diff:0'"),
    (lambda a: _node(a, "head:0")["inputs"].__setitem__(0, "head:0"), "cycle: 'head:0' -> 'head:0'"),
    (lambda a: _node(a, "head:0").update({"layer": "teleporter"}),
     "node 'head:0' calls the layer 'teleporter', which is not among the file's layers"),
    (lambda a: _node(a, "diff:0").update({"name": "left"}), "two tensors named 'left'"),
    (lambda a: _node(a, "shared:1").update({"name": "shared:0"}), "two tensors named 'shared:0'"),
    (lambda a: a["graph"]["inputs"][1].update({"name": "left"}), "two tensors named 'left'"),
    (lambda a: a["graph"]["outputs"].append(dict(a["graph"]["outputs"][0])),
     "two outputs are named 'head'"),
    (lambda a: a["layers"][1]["config"].update({"name": "shared"}), "two layers are named 'shared'"),
    (lambda a: a["layers"][1]["config"].update({"name": None}), "layer 1 of a graph model needs a name"),
    (_extra_layer, "layer 'idle' is called by no node"),
    (lambda a: a["graph"]["nodes"].append({"name": "spare", "layer": "head", "inputs": ["diff:0"],
                                           "options": {}}), "node 'spare' is not used by any output"),
    (lambda a: _node(a, "head:0")["options"].update({"colour": "red"}),
     "Dense takes no option 'colour'"),
    (lambda a: _node(a, "head:0")["options"].update({"x": {"tensor": 3}}), "option 'x' must be"),
    (lambda a: _node(a, "head:0")["options"].update({"x": [1]}), "option 'x' must be"),
    (lambda a: _node(a, "head:0").update({"inputs": ["diff:0", "left"]}), "cannot take its inputs"),
    (lambda a: _node(a, "head:0").update({"inputs": []}), "inputs must be a non-empty list"),
    (lambda a: _node(a, "diff:0")["inputs"].append("shared:0"),
     "does not build into a model: Subtract layer diff expects exactly 2 inputs, got 3"),
    (lambda a: a["graph"]["inputs"][0].update({"shape": [5]}), "cannot take its inputs|shape"),
    (lambda a: a["graph"]["inputs"][0].update({"shape": [0]}), "shape must be a non-empty list"),
    (lambda a: a["graph"]["inputs"][0].update({"shape": []}), "shape must be a non-empty list"),
    (lambda a: a["graph"]["inputs"].clear(), "inputs must be a non-empty list"),
    (lambda a: a["graph"]["outputs"].clear(), "outputs must be a non-empty list"),
    (lambda a: a["graph"].pop("nodes"), "graph must be an object with the keys"),
    (lambda a: _node(a, "head:0").pop("options"), "must be an object with the keys"),
    (lambda a: a["graph"]["outputs"][0].update({"loss_weight": -1}), "loss_weight must be"),
    (lambda a: a["graph"]["outputs"][0].update({"loss_weight": True}), "loss_weight must be"),
    (lambda a: a["graph"]["outputs"][0].update({"loss": "no_such_loss"}), "'no_such_loss' is not registered"),
    (lambda a: a["graph"]["outputs"][0].update({"metrics": [{"name": "nope"}]}), "metric config"),
    (lambda a: a["graph"]["outputs"][0].update({"metrics": "mae"}), "metrics must be a list"),
    (lambda a: a.update({"loss": "mse"}), "graph model needs exactly the keys.*unexpected 'loss'"),
    (lambda a: a.update({"input_shape": [4]}), "unexpected 'input_shape'"),
    (lambda a: a.pop("graph"), "missing input_shape, loss, metrics"),
])
def test_bad_graphs_are_refused_naming_what_is_wrong(saved, change, needle):
    assert_edit_refused(saved, change, needle)


def test_bad_options_of_an_attention_call(tmp_path):
    path = tmp_path / "gpt.nns"
    transformer("float32").save(path)
    tensors, header = container.read(path)
    for value, needle in [(1, "option use_causal_mask must be bool"),
                          ({"tensor": "tokens"}, "option use_causal_mask must be bool"),
                          ({"tensor": "nowhere"}, "reads 'nowhere'")]:
        edit_architecture(header, lambda a, v=value: _node(a, "mha:0")["options"].update(
            {"use_causal_mask": v}))
        rewrite(path, tensors, header)
        with pytest.raises(ModelFileError, match=needle):
            ns.load(path)


def test_forged_sizes_are_refused_before_allocating(tmp_path):
    path = tmp_path / "gpt.nns"
    transformer("float32").save(path)
    tensors, header = container.read(path)
    huge = dict(header)
    edit_architecture(huge, lambda a: a["layers"][-1]["config"].update({"units": 10 ** 9}))
    rewrite(path, tensors, huge)
    with pytest.raises(ModelFileError, match="more bytes of parameters"):
        ns.load(path)
    # attention over a very long sequence: 2 heads x 60000^2 weights per sample
    path = tmp_path / "mha.nns"
    masked_attention("float32").save(path)
    tensors, header = container.read(path)
    edit_architecture(header, lambda a: [entry.update({"shape": [60000] + entry["shape"][1:]})
                                         for entry in a["graph"]["inputs"]])
    rewrite(path, tensors, header)
    with pytest.raises(ModelFileError, match=r"node 'mha:0' \(MultiHeadAttention.*max_activation_bytes"):
        ns.load(path)


def test_a_graph_file_needs_the_model_class(saved):
    path = saved[0]
    with pytest.raises(ModelFileError, match="holds a graph model"):
        saving.load(path, ns.Network)
    assert type(saving.load(path, ns.Network, model_class=ns.Model)) is ns.Model
    with pytest.raises(ConfigError, match="model_class must be a class"):
        saving.load(path, ns.Network, model_class="Model")


def test_a_long_chain_loads_without_deep_recursion(tmp_path):
    x = ns.Input((2,))
    h = x
    for _ in range(300):
        h = L.Activation("tanh")(h)
    model = ns.Model(x, h)
    model.save(tmp_path / "long.nns")
    assert len(ns.load(tmp_path / "long.nns").nodes) == 300
