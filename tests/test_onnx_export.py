"""ONNX export: every layer class and activation, networks and graph models, run in ONNX Runtime
and compared with predict."""

import os
import subprocess
import sys

import numpy as np
import pytest

import nnscratch as ns
from nnscratch import activations
from nnscratch.errors import ConfigError, ExportError, MissingDependencyError, ModelFileError, NotBuiltError
from nnscratch.layers import LAYER_CLASSES
from nnscratch.layers.base import Layer
from nnscratch.saving.onnx import INPUT_NAME, LAYER_CONVERTERS, NOT_EXPORTABLE, OPSET, OUTPUT_NAME, to_onnx
from nnscratch.saving.onnx.activations import CONVERTERS as ACTIVATION_CONVERTERS

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

def randomize(net, rng):
    """Move every parameter and buffer away from its initial value (biases 0, variances 1...)."""
    for layer in net.layers:
        for key, value in {**layer.params, **layer.buffers}.items():
            if "var" in key:
                value[...] = rng.uniform(0.5, 2.0, value.shape)
            elif "gamma" in key:
                value[...] = rng.uniform(0.5, 1.5, value.shape)
            else:
                value += rng.normal(0.0, 0.3, value.shape).astype(value.dtype)


def make_input(kind, shape, rng, n=5):
    if kind == "ids":
        return rng.integers(0, 10, (n,) + shape).astype(np.float32)
    if kind == "mask":                       # 0/1, the first sample's first query sees nothing
        mask = (rng.random((n,) + shape) < 0.6).astype(np.float32)
        mask[0, ..., 0, :] = 0
        return mask
    scale = {"wide": 3.0}.get(kind, 1.0)
    return (scale * rng.standard_normal((n,) + shape)).astype(np.float32)


def run_onnx(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run([OUTPUT_NAME], {INPUT_NAME: x})[0]


def check_export(tmp_path, layers, input_shape, rng, kind="normal", dtype="float32"):
    """Export a randomized network, run it in ONNX Runtime, compare with ``predict``."""
    net = ns.Network(layers, seed=0, input_shape=input_shape, dtype=dtype)
    randomize(net, rng)
    path = tmp_path / "net.onnx"
    ns.export_onnx(net, path)
    x = make_input(kind, input_shape, rng)
    expected = net.predict(x)
    got = run_onnx(path, x)
    assert got.dtype == np.float32
    assert got.shape == expected.shape
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * scale)
    return net, path


def check_graph_export(tmp_path, model, kinds, rng):
    """Export a randomized graph model, run it in ONNX Runtime by input names, compare every
    output with ``predict``."""
    randomize(model, rng)
    path = tmp_path / "model.onnx"
    ns.export_onnx(model, path)
    xs = [make_input(kind, t.shape, rng) for kind, t in zip(kinds, model.inputs)]
    expected = model.predict(xs if len(xs) > 1 else xs[0])
    expected = expected if isinstance(expected, list) else [expected]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == model.input_names
    got = session.run(model.output_names, dict(zip(model.input_names, xs)))
    for a, e in zip(got, expected):
        assert a.dtype == np.float32 and a.shape == e.shape
        np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-5 * max(1.0, float(np.abs(e).max())))
    return path, xs, expected


# --------------------------------------------------------------------------------------------
# Layers: one or more small networks per class and option
# --------------------------------------------------------------------------------------------

# id -> (layers factory, input shape, input kind)
CASES = {
    "dense": (lambda: [ns.Dense(6, activation="tanh"), ns.Dense(3)], (4,), "normal"),
    "dense_no_bias": (lambda: [ns.Dense(3, use_bias=False, activation="sigmoid")], (4,), "normal"),
    "dense_3d_input": (lambda: [ns.Dense(4, activation="relu"), ns.Dense(2)], (3, 5), "normal"),
    "conv2d_valid": (lambda: [ns.Conv2D(4, 3, activation="relu")], (2, 7, 6), "normal"),
    "conv2d_stride_dilation_pads": (
        lambda: [ns.Conv2D(3, (3, 2), stride=(2, 1), padding=((1, 0), (2, 1)), dilation=(1, 2))],
        (2, 8, 7), "normal"),
    "conv2d_same_odd_pads": (lambda: [ns.Conv2D(3, 4, stride=2, padding="same")], (2, 7, 8),
                             "normal"),
    "conv2d_no_bias": (lambda: [ns.Conv2D(2, 2, use_bias=False, padding=1)], (1, 4, 4), "normal"),
    "conv1d_same_stride": (lambda: [ns.Conv1D(3, 4, stride=3, padding="same")], (2, 10), "normal"),
    "conv1d_dilation": (lambda: [ns.Conv1D(2, 3, dilation=2, padding=1, activation="elu")],
                        (3, 9), "normal"),
    "conv2d_transpose": (lambda: [ns.Conv2DTranspose(3, 3, stride=2, padding=1, output_padding=1)],
                         (2, 4, 5), "normal"),
    "conv2d_transpose_same": (lambda: [ns.Conv2DTranspose(2, 3, stride=2, padding="same")],
                              (2, 3, 4), "normal"),
    "conv2d_transpose_same_small_kernel": (
        lambda: [ns.Conv2DTranspose(2, 2, stride=3, padding="same", activation="tanh")],
        (1, 3, 2), "normal"),
    "conv2d_transpose_dilated_no_bias": (
        lambda: [ns.Conv2DTranspose(2, (2, 3), stride=(1, 2), dilation=2, use_bias=False)],
        (2, 3, 3), "normal"),
    "maxpool2d": (lambda: [ns.MaxPool2D(2)], (2, 5, 6), "normal"),
    "maxpool2d_overlap_pad": (lambda: [ns.MaxPool2D(3, stride=2, padding=1)], (2, 6, 7), "normal"),
    "maxpool1d_same": (lambda: [ns.MaxPool1D(2, padding="same")], (3, 7), "normal"),
    "avgpool2d_include_pad": (lambda: [ns.AvgPool2D(3, stride=2, padding=1)], (2, 6, 5), "normal"),
    "avgpool2d_exclude_pad": (
        lambda: [ns.AvgPool2D((2, 3), stride=(1, 2), padding=((1, 0), (1, 1)),
                              count_include_pad=False)], (2, 5, 6), "normal"),
    "avgpool1d_same_exclude_pad": (
        lambda: [ns.AvgPool1D(3, stride=2, padding="same", count_include_pad=False)], (2, 8),
        "normal"),
    "avgpool1d": (lambda: [ns.AvgPool1D(2)], (2, 6), "normal"),
    "global_max_pool1d": (lambda: [ns.GlobalMaxPool1D()], (3, 6), "normal"),
    "global_max_pool2d_keepdims": (lambda: [ns.GlobalMaxPool2D(keepdims=True)], (3, 4, 5),
                                   "normal"),
    "global_avg_pool1d_keepdims": (lambda: [ns.GlobalAvgPool1D(keepdims=True)], (3, 6), "normal"),
    "global_avg_pool2d": (lambda: [ns.Conv2D(4, 3), ns.GlobalAvgPool2D(), ns.Dense(2)],
                          (2, 6, 6), "normal"),
    "cnn_flatten_dense": (
        lambda: [ns.Conv2D(3, 3, padding="same", activation="relu"), ns.MaxPool2D(2), ns.Flatten(),
                 ns.Dense(5, activation="softmax")], (1, 6, 6), "normal"),
    "flatten_3d": (lambda: [ns.Flatten(), ns.Dense(2)], (3, 4), "normal"),
    "reshape": (lambda: [ns.Dense(12), ns.Reshape((3, -1)), ns.Conv1D(2, 2)], (5,), "normal"),
    "reshape_to_image": (lambda: [ns.Reshape((1, 4, 4)), ns.Conv2D(2, 3)], (16,), "normal"),
    "upsampling1d": (lambda: [ns.UpSampling1D(3)], (2, 4), "normal"),
    "upsampling2d": (lambda: [ns.UpSampling2D((2, 3)), ns.Conv2D(2, 2)], (2, 3, 4), "normal"),
    "dropout": (lambda: [ns.Dense(8, activation="relu"), ns.Dropout(0.5), ns.Dense(2)], (4,),
                "normal"),
    "batchnorm_features": (lambda: [ns.Dense(6), ns.BatchNormalization(), ns.Dense(2)], (4,),
                           "normal"),
    "batchnorm_channels": (lambda: [ns.Conv2D(3, 2), ns.BatchNormalization(epsilon=1e-5)],
                           (2, 5, 5), "normal"),
    "batchnorm_last_axis_no_center": (lambda: [ns.BatchNormalization(axis=-1, center=False)],
                                      (3, 4), "normal"),
    "batchnorm_middle_axis_no_scale": (lambda: [ns.BatchNormalization(axis=2, scale=False)],
                                       (3, 4, 5), "normal"),
    "layernorm_last": (lambda: [ns.Dense(6), ns.LayerNormalization(), ns.Dense(2)], (4,),
                       "normal"),
    "layernorm_two_trailing_axes": (lambda: [ns.LayerNormalization(axis=(-2, -1))], (3, 5),
                                    "normal"),
    "layernorm_channels_no_scale": (lambda: [ns.LayerNormalization(axis=1, scale=False)],
                                    (4, 3, 2), "normal"),
    "layernorm_outer_axes_no_center": (lambda: [ns.LayerNormalization(axis=(1, 3), center=False)],
                                       (3, 2, 4), "normal"),
    "embedding_flatten_dense": (lambda: [ns.Embedding(10, 4), ns.Flatten(), ns.Dense(3)], (5,),
                                "ids"),
    "embedding_lstm": (lambda: [ns.Embedding(10, 3), ns.LSTM(4), ns.Dense(2)], (6,), "ids"),
    "simple_rnn": (lambda: [ns.SimpleRNN(4)], (5, 3), "normal"),
    "simple_rnn_sequences_relu": (
        lambda: [ns.SimpleRNN(4, activation="relu", return_sequences=True), ns.Dense(2)], (5, 3),
        "normal"),
    "simple_rnn_backwards_sequences": (
        lambda: [ns.SimpleRNN(3, activation="sigmoid", return_sequences=True, go_backwards=True)],
        (4, 2), "normal"),
    "simple_rnn_unrolled_gelu": (lambda: [ns.SimpleRNN(4, activation="gelu")], (5, 3), "normal"),
    "simple_rnn_unrolled_sequences_backwards": (
        lambda: [ns.SimpleRNN(3, activation={"name": "leaky_relu", "alpha": 0.1},
                              return_sequences=True, go_backwards=True, use_bias=False)],
        (4, 2), "normal"),
    "lstm": (lambda: [ns.LSTM(4)], (5, 3), "normal"),
    "lstm_sequences": (lambda: [ns.LSTM(3, return_sequences=True), ns.Dense(2)], (4, 3), "normal"),
    "lstm_backwards": (lambda: [ns.LSTM(3, go_backwards=True)], (4, 2), "normal"),
    "lstm_backwards_sequences_no_bias": (
        lambda: [ns.LSTM(3, go_backwards=True, return_sequences=True, use_bias=False)], (4, 2),
        "normal"),
    "gru": (lambda: [ns.GRU(4)], (5, 3), "normal"),
    "gru_sequences": (lambda: [ns.GRU(3, return_sequences=True), ns.GRU(2)], (4, 3), "normal"),
    "gru_backwards_sequences": (lambda: [ns.GRU(3, go_backwards=True, return_sequences=True)],
                                (4, 2), "normal"),
    "activation_layer": (lambda: [ns.Dense(4), ns.Activation("gelu"), ns.Dense(2),
                                  ns.Activation("softmax")], (3,), "normal"),
    "positional_embedding": (lambda: [ns.Embedding(10, 4), ns.PositionalEmbedding(8, 4),
                                      ns.Flatten(), ns.Dense(3)], (5,), "ids"),
    "masking_gru": (lambda: [ns.Masking(), ns.GRU(3)], (4, 2), "normal"),   # masks: test_masking
    "stacked_rnn_head": (
        lambda: [ns.Conv1D(4, 3, padding="same"), ns.Reshape((6, 4)), ns.LSTM(5),
                 ns.Dense(3, activation="log_softmax")], (2, 6), "normal"),
}

for _mode in ("concat", "sum", "mul", "ave"):
    CASES[f"bidirectional_lstm_{_mode}"] = (
        lambda m=_mode: [ns.Bidirectional(ns.LSTM(3), merge_mode=m)], (4, 2), "normal")
    CASES[f"bidirectional_gru_sequences_{_mode}"] = (
        lambda m=_mode: [ns.Bidirectional(ns.GRU(3, return_sequences=True), merge_mode=m)],
        (4, 2), "normal")
CASES.update({
    "bidirectional_rnn_sequences": (
        lambda: [ns.Bidirectional(ns.SimpleRNN(3, return_sequences=True)), ns.Dense(2)], (5, 2),
        "normal"),
    "bidirectional_inner_backwards_sequences": (
        lambda: [ns.Bidirectional(ns.LSTM(3, go_backwards=True, return_sequences=True),
                                  merge_mode="sum")], (4, 2), "normal"),
    "bidirectional_inner_backwards": (
        lambda: [ns.Bidirectional(ns.GRU(2, go_backwards=True), merge_mode="concat")], (4, 3),
        "normal"),
    "bidirectional_unrolled_rnn": (
        lambda: [ns.Bidirectional(ns.SimpleRNN(3, activation="silu", return_sequences=True),
                                  merge_mode="ave")], (3, 2), "normal"),
})


@pytest.mark.parametrize("case", sorted(CASES))
def test_network_matches_onnx_runtime(case, tmp_path, rng):
    factory, input_shape, kind = CASES[case]
    check_export(tmp_path, factory(), input_shape, rng, kind)


# --------------------------------------------------------------------------------------------
# Graph models: several inputs and outputs, fan-out, shared layers, merges, attention
# --------------------------------------------------------------------------------------------

def residual_cnn():
    x = ns.Input((2, 6, 6), name="image")
    h = ns.BatchNormalization()(ns.Conv2D(4, 3, padding="same", activation="relu")(x))
    h = ns.Add()([ns.Conv2D(4, 1)(x), ns.BatchNormalization()(ns.Conv2D(4, 3, padding="same")(h))])
    y = ns.Dense(3, activation="softmax", name="probabilities")(
        ns.GlobalAvgPool2D()(ns.Activation("relu")(h)))
    return ns.Model(x, y)


def two_inputs():
    a, b = ns.Input((3,), name="a"), ns.Input((2, 4), name="b")
    joined = ns.Concatenate()([ns.Dense(4, activation="tanh")(a), ns.Flatten()(b)])
    return ns.Model([a, b], ns.Dense(2)(joined))


def shared_layer():
    shared = ns.Dense(3, activation="tanh", name="shared")
    a, b = ns.Input((4,), name="left"), ns.Input((4,), name="right")
    return ns.Model([a, b], ns.Dense(1)(ns.Concatenate(axis=-1)([shared(a), shared(b)])))


def two_outputs():
    x = ns.Input((4,), name="x")
    trunk = ns.Dense(6, activation="relu")(x)
    return ns.Model(x, {"value": ns.Dense(1)(trunk),
                        "label": ns.Dense(3, activation="softmax")(trunk)},
                    loss=["mse", "sparse_categorical_crossentropy"], loss_weights=[0.5, 1.0])


def merges():
    x, other = ns.Input((2, 3), name="x"), ns.Input((2, 3), name="other")
    a, b = ns.Dense(3, activation="tanh")(x), ns.Dense(3)(other)
    parts = [ns.Subtract()([a, b]), ns.Multiply()([a, b, x]), ns.Average()([a, b, other]),
             ns.Maximum()([a, b]), ns.Minimum()([a, b, x])]
    return ns.Model([x, other], ns.Concatenate(axis=1)(parts))


def transformer(T=6, E=8, V=10):
    tokens = ns.Input((T,), name="tokens")
    h = ns.PositionalEmbedding(T, E)(ns.Embedding(V, E)(tokens))
    attended = ns.MultiHeadAttention(2, 4, dropout=0.1)(h, h, use_causal_mask=True)
    h = ns.LayerNormalization()(ns.Add()([h, attended]))
    ff = ns.Dense(E)(ns.Dense(2 * E, activation="gelu")(h))
    h = ns.LayerNormalization()(ns.Add()([h, ff]))
    return ns.Model(tokens, ns.Dense(V, activation="softmax", name="next_token")(h))


def attention(mask_shape=None, causal=False, **options):
    """Cross-attention with a separate key; a mask input shaped ``mask_shape`` per sample."""
    q, v, k = ns.Input((4, 3), name="q"), ns.Input((5, 2), name="v"), ns.Input((5, 4), name="k")
    inputs = [q, v, k]
    mask = None
    if mask_shape is not None:
        mask = ns.Input(mask_shape, name="mask")
        inputs.append(mask)
    y = ns.MultiHeadAttention(2, 3, **options)(q, v, k, attention_mask=mask,
                                               use_causal_mask=causal)
    return ns.Model(inputs, y)


# id -> (model factory, input kinds)
GRAPH_CASES = {
    "residual_cnn": (residual_cnn, ["normal"]),
    "two_inputs": (two_inputs, ["normal", "normal"]),
    "shared_layer": (shared_layer, ["normal", "normal"]),
    "two_outputs": (two_outputs, ["normal"]),
    "merges": (merges, ["normal", "normal"]),
    "transformer": (transformer, ["ids"]),
    "attention_key_value_dim_output_shape": (
        lambda: attention(value_dim=4, output_shape=5), ["normal"] * 3),
    "attention_no_bias_causal": (lambda: attention(causal=True, use_bias=False), ["normal"] * 3),
    "attention_mask": (lambda: attention((4, 5)), ["normal"] * 3 + ["mask"]),
    "attention_mask_and_causal": (lambda: attention((4, 5), causal=True), ["normal"] * 3 + ["mask"]),
    "attention_mask_broadcast_over_queries": (lambda: attention((1, 5)), ["normal"] * 3 + ["mask"]),
}


@pytest.mark.parametrize("case", sorted(GRAPH_CASES))
def test_graph_model_matches_onnx_runtime(case, tmp_path, rng):
    factory, kinds = GRAPH_CASES[case]
    check_graph_export(tmp_path, factory(), kinds, rng)


def test_a_fully_masked_query_gives_the_zeros_of_predict(tmp_path, rng):
    model = attention((4, 5))
    path, xs, _ = check_graph_export(tmp_path, model, ["normal"] * 3 + ["mask"], rng)
    xs[3][:] = 0                                        # no query may attend to anything
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, dict(zip(model.input_names, xs)))[0]
    bias = model.layers[0].params["b_o"]
    np.testing.assert_allclose(model.predict(xs), np.broadcast_to(bias, got.shape), rtol=1e-6)
    np.testing.assert_allclose(got, model.predict(xs), rtol=1e-6, atol=1e-6)
    assert np.all(np.isfinite(got))


def test_graph_model_interface(tmp_path, rng):
    path, _, _ = check_graph_export(tmp_path, two_outputs(), ["normal"], rng)
    model = onnx.load(str(path))
    onnx.checker.check_model(model)

    def dims(v):
        return [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]

    assert [(v.name, dims(v)) for v in model.graph.input] == [("x", ["N", 4])]
    assert [(v.name, dims(v)) for v in model.graph.output] == [("value", ["N", 1]),
                                                                ("label", ["N", 3])]
    shared = shared_layer()
    assert sum(t.name.startswith("shared.W") for t in to_onnx(shared).graph.initializer) == 2


def test_a_name_shared_by_an_input_and_an_output_is_refused(tmp_path):
    x = ns.Input((3,), name="same")
    model = ns.Model(x, {"same": ns.Dense(2)(x)})
    _assert_refused(model, tmp_path / "m.onnx", "'same' names both an input and an output")


def test_an_option_without_an_onnx_form_is_refused(tmp_path):
    x = ns.Input((4,), name="x")
    model = ns.Model(x, ns.Dense(3, name="d")(x, scale=2.0))     # recorded, never exportable
    _assert_refused(model, tmp_path / "m.onnx", "Dense layer 'd'", "option scale")


def test_float64_network_exports_as_float32(tmp_path, rng):
    layers = [ns.Conv1D(3, 3), ns.Flatten(), ns.Dense(2, activation="tanh")]
    _, path = check_export(tmp_path, layers, (2, 6), rng, dtype="float64")
    model = onnx.load(str(path))
    assert all(t.data_type == onnx.TensorProto.FLOAT for t in model.graph.initializer)


def test_every_layer_class_has_a_converter_or_a_reason():
    """A new layer class in nnscratch must get an ONNX converter or a deliberate refusal."""
    ours = {cls for cls in LAYER_CLASSES.values() if cls.__module__.startswith("nnscratch.")}
    missing = sorted(cls.__name__ for cls in ours
                     if cls not in LAYER_CONVERTERS and cls not in NOT_EXPORTABLE)
    assert not missing, f"layer classes with neither an ONNX converter nor a reason: {missing}"


def test_every_converter_is_exercised():
    """Each exportable layer class appears in at least one network of CASES."""
    used = {type(layer) for factory, _, _ in CASES.values() for layer in factory()}
    used |= {type(layer.layer) for factory, _, _ in CASES.values() for layer in factory()
             if hasattr(layer, "layer")}
    used |= {type(layer) for factory, _ in GRAPH_CASES.values() for layer in factory().layers}
    missing = sorted(cls.__name__ for cls in LAYER_CONVERTERS if cls not in used)
    assert not missing, f"no test network uses {missing}"


@pytest.mark.parametrize("cls", sorted(NOT_EXPORTABLE, key=lambda c: c.__name__),
                         ids=lambda c: c.__name__)
def test_deliberately_unexportable_layer_classes_raise(cls, tmp_path):
    net = ns.Network([cls(name="odd")], input_shape=(3,))
    with pytest.raises(ExportError, match=f"{cls.__name__} layer 'odd'"):
        ns.export_onnx(net, tmp_path / "net.onnx")


# --------------------------------------------------------------------------------------------
# Activations: every built-in one, with default and non-default hyperparameters
# --------------------------------------------------------------------------------------------

# the built-in activations (other test modules may have registered functions of their own)
BUILT_IN = [name for name in activations.names()
            if not isinstance(activations.get(name), activations.UserActivation)]

NON_DEFAULT = [
    {"name": "leaky_relu", "alpha": 0.2}, {"name": "elu", "alpha": 0.5},
    {"name": "celu", "alpha": 2.0}, {"name": "softplus", "beta": 2.0},
    {"name": "squareplus", "b": 2.0}, {"name": "softshrink", "lambd": 0.3},
    {"name": "hardshrink", "lambd": 0.8}, {"name": "gelu", "approximate": "tanh"},
]


@pytest.mark.parametrize("spec", BUILT_IN + NON_DEFAULT,
                         ids=lambda s: s if isinstance(s, str) else "-".join(map(str, s.values())))
def test_activation_matches_onnx_runtime(spec, tmp_path, rng):
    # pre-activations of a few units across [-8, 8]: both tails and every kink get visited
    check_export(tmp_path, [ns.Dense(6, activation=spec)], (4,), rng, kind="wide")


KINKS = [-6.0, -3.0, -1.0, -0.8, -0.5, -0.3, 0.0, 0.3, 0.5, 0.8, 1.0, 3.0, 6.0]


@pytest.mark.parametrize("spec", BUILT_IN + NON_DEFAULT,
                         ids=lambda s: s if isinstance(s, str) else "-".join(map(str, s.values())))
def test_activation_at_its_kinks(spec, tmp_path):
    """Pre-activations exactly at every threshold the activations use (0, +-lambda, +-3, 6...)."""
    size = len(KINKS)
    net = ns.Network([ns.Dense(size, activation=spec)], seed=0, input_shape=(size,))
    net.layers[0].params["W"][...] = np.eye(size)                 # z = x, exactly
    path = tmp_path / "net.onnx"
    ns.export_onnx(net, path)
    x = np.array([KINKS, KINKS[::-1]], dtype=np.float32)
    expected = net.predict(x)
    np.testing.assert_allclose(run_onnx(path, x), expected, rtol=1e-5,
                               atol=1e-5 * max(1.0, float(np.abs(expected).max())))


def test_every_activation_has_an_onnx_form():
    assert sorted(ACTIVATION_CONVERTERS) == BUILT_IN


def test_softmax_family_works_on_the_last_axis(tmp_path, rng):
    for name in ("softmax", "log_softmax", "softmin"):
        check_export(tmp_path, [ns.Conv1D(3, 2, activation=name)], (2, 5), rng)


# --------------------------------------------------------------------------------------------
# The model file: names, shapes, opset, dynamic batch
# --------------------------------------------------------------------------------------------

def test_model_interface(tmp_path, rng):
    net = ns.Network([ns.Conv2D(2, 3), ns.Flatten(), ns.Dense(3)], seed=0, input_shape=(1, 5, 5))
    path = tmp_path / "net.onnx"
    returned = ns.export_onnx(net, path)
    model = onnx.load(str(path))
    assert returned == model
    onnx.checker.check_model(model)
    assert [op.version for op in model.opset_import if op.domain in ("", "ai.onnx")] == [OPSET]
    (inp,), (out,) = model.graph.input, model.graph.output
    assert inp.name == "input" and out.name == "output"

    def dims(v):
        return [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]

    assert dims(inp) == ["N", 1, 5, 5]
    assert dims(out) == ["N", 3]
    assert inp.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    for n in (1, 7):                                  # any batch size runs
        x = make_input("normal", (1, 5, 5), rng, n=n)
        np.testing.assert_allclose(run_onnx(path, x), net.predict(x), rtol=1e-5, atol=1e-5)


def test_weights_keep_layer_names(rng):
    net = ns.Network([ns.Dense(3), ns.BatchNormalization()], seed=0, input_shape=(2,))
    names = {t.name for t in to_onnx(net).graph.initializer}
    assert {"dense_0.W", "dense_0.b", "batchnormalization_1.running_mean"} <= names


def test_export_replaces_an_existing_file_atomically(tmp_path):
    path = tmp_path / "net.onnx"
    path.write_bytes(b"old")
    net = ns.Network([ns.Dense(2)], seed=0, input_shape=(3,))
    ns.export_onnx(net, path)
    assert onnx.load(str(path)).graph.output[0].name == "output"
    assert os.listdir(tmp_path) == ["net.onnx"]       # no temporary file left behind


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------

def _square(z):
    return z * z


def _twice(z, a):
    return 2 * z


class _Doubler(Layer):
    """A user's layer (leading underscore: not added to the layer registry)."""

    def forward(self, x, training=False):
        return 2 * x


class _MyDense(ns.Dense):
    """A user's subclass of Dense: it could compute anything, so it is not exported as Dense."""


class _MyActivation(activations.ElementwiseActivation):
    name = "my_activation"

    def _forward(self, z):
        return z

    def _derivative(self, z, a):
        return np.ones_like(z)


def _assert_refused(net, path, *fragments):
    with pytest.raises(ExportError) as info:
        ns.export_onnx(net, path)
    for fragment in fragments:
        assert fragment in str(info.value)
    assert not path.exists()


def test_user_layer_is_refused_by_name(tmp_path):
    net = ns.Network([ns.Dense(3), _Doubler(name="twice")], input_shape=(2,))
    _assert_refused(net, tmp_path / "net.onnx", "_Doubler layer 'twice'", "exportable layers")


def test_subclass_of_a_known_layer_is_refused(tmp_path):
    net = ns.Network([_MyDense(3)], input_shape=(2,))
    _assert_refused(net, tmp_path / "net.onnx", "_MyDense")


@pytest.mark.parametrize("make", [lambda: activations.UserActivation("squared", _square, _twice),
                                  lambda: _MyActivation()], ids=["registered-function", "subclass"])
def test_user_activation_is_refused_by_name(make, tmp_path):
    act = make()
    net = ns.Network([ns.Dense(3, activation=act, name="head")], input_shape=(2,))
    _assert_refused(net, tmp_path / "net.onnx", f"activation '{act.name}'", "Dense layer 'head'")


def test_user_activation_inside_a_recurrent_layer_is_refused(tmp_path, monkeypatch):
    act = activations.UserActivation("squared", _square, _twice)
    # registered for this test only: Bidirectional rebuilds its copies from the configuration
    monkeypatch.setitem(activations.REGISTRY.added, "squared", lambda: act)
    net = ns.Network([ns.Bidirectional(ns.SimpleRNN(2, activation=act), name="bi")],
                     input_shape=(3, 2))
    _assert_refused(net, tmp_path / "net.onnx", "activation 'squared'", "Bidirectional layer 'bi'")


def test_refusal_leaves_an_existing_file_alone(tmp_path):
    path = tmp_path / "net.onnx"
    path.write_bytes(b"previous model")
    net = ns.Network([_Doubler()], input_shape=(2,))
    with pytest.raises(ExportError):
        ns.export_onnx(net, path)
    assert path.read_bytes() == b"previous model"


def test_non_finite_weights_are_refused(tmp_path):
    net = ns.Network([ns.Dense(2, name="d")], input_shape=(3,))
    net.layers[0].params["b"][0] = np.nan
    _assert_refused(net, tmp_path / "net.onnx", "Dense layer 'd'", "'b'", "NaN")


def test_unbuilt_network_and_non_network(tmp_path):
    with pytest.raises(NotBuiltError, match="build"):
        ns.export_onnx(ns.Network([ns.Dense(2)]), tmp_path / "a.onnx")
    with pytest.raises(ConfigError, match="expects a Network, got list"):
        ns.export_onnx([ns.Dense(2)], tmp_path / "a.onnx")


def test_unwritable_path_raises_model_file_error(tmp_path):
    net = ns.Network([ns.Dense(2)], input_shape=(3,))
    with pytest.raises(ModelFileError, match="missing_folder"):
        ns.export_onnx(net, tmp_path / "missing_folder" / "net.onnx")


def test_importing_the_exporter_does_not_import_onnx():
    code = ("import sys, nnscratch, nnscratch.saving.onnx; "
            "sys.exit(int('onnx' in sys.modules or 'onnxruntime' in sys.modules))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    assert subprocess.run([sys.executable, "-c", code], env=env).returncode == 0


def test_missing_onnx_package_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)     # makes ``import onnx`` fail
    net = ns.Network([ns.Dense(2)], input_shape=(3,))
    with pytest.raises(MissingDependencyError, match=r"pip install 'nnscratch\[onnx\]'"):
        ns.export_onnx(net, tmp_path / "net.onnx")
    assert not (tmp_path / "net.onnx").exists()
