"""Layers used out of order or with wrong gradients raise the library's errors, never raw ones.

- ``forward`` before ``build`` builds the layer on first use, as calling it does;
- ``backward`` before ``forward`` is a NotBuiltError naming the layer;
- a gradient whose shape is not the output's is a ShapeError naming both shapes.

Each case runs on every layer class of one input in the registry.
"""

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.errors import NotBuiltError, ShapeError

# one instance of every registered layer class, with an input it takes
CASES = {
    "Dense": (lambda: ns.Dense(3, activation="tanh"), (4, 5)),
    "Conv1D": (lambda: ns.layers.Conv1D(2, 3), (2, 3, 8)),
    "Conv2D": (lambda: ns.layers.Conv2D(2, 3, activation="relu"), (2, 3, 6, 6)),
    "Conv2DTranspose": (lambda: ns.layers.Conv2DTranspose(2, 3, stride=2), (2, 3, 4, 4)),
    "MaxPool1D": (lambda: ns.layers.MaxPool1D(2), (2, 3, 8)),
    "MaxPool2D": (lambda: ns.layers.MaxPool2D(2), (2, 3, 6, 6)),
    "AvgPool1D": (lambda: ns.layers.AvgPool1D(2), (2, 3, 8)),
    "AvgPool2D": (lambda: ns.layers.AvgPool2D(2), (2, 3, 6, 6)),
    "GlobalAvgPool1D": (lambda: ns.layers.GlobalAvgPool1D(), (2, 3, 8)),
    "GlobalAvgPool2D": (lambda: ns.layers.GlobalAvgPool2D(), (2, 3, 6, 6)),
    "GlobalMaxPool1D": (lambda: ns.layers.GlobalMaxPool1D(), (2, 3, 8)),
    "GlobalMaxPool2D": (lambda: ns.layers.GlobalMaxPool2D(keepdims=True), (2, 3, 6, 6)),
    "Flatten": (lambda: ns.layers.Flatten(), (2, 3, 4)),
    "Reshape": (lambda: ns.layers.Reshape((2, 6)), (2, 3, 4)),
    "UpSampling1D": (lambda: ns.layers.UpSampling1D(2), (2, 3, 4)),
    "UpSampling2D": (lambda: ns.layers.UpSampling2D(2), (2, 3, 4, 4)),
    "SimpleRNN": (lambda: ns.layers.SimpleRNN(3), (2, 5, 4)),
    "LSTM": (lambda: ns.layers.LSTM(3, return_sequences=True), (2, 5, 4)),
    "GRU": (lambda: ns.layers.GRU(3), (2, 5, 4)),
    "Bidirectional": (lambda: ns.layers.Bidirectional(ns.layers.GRU(3)), (2, 5, 4)),
    "Embedding": (lambda: ns.layers.Embedding(10, 4), (2, 5)),
    "Masking": (lambda: ns.layers.Masking(), (2, 5, 4)),
    "Dropout": (lambda: ns.layers.Dropout(0.5, seed=0), (4, 5)),
    "BatchNormalization": (lambda: ns.layers.BatchNormalization(), (4, 3, 2)),
    "LayerNormalization": (lambda: ns.layers.LayerNormalization(), (4, 5)),
    "Activation": (lambda: ns.layers.Activation("softmax"), (4, 5)),
    "PositionalEmbedding": (lambda: ns.layers.PositionalEmbedding(6, 4), (2, 5, 4)),
}


def data(shape, kind):
    rng = np.random.default_rng(0)
    if kind == "Embedding":
        return rng.integers(0, 10, shape)
    return rng.standard_normal(shape).astype(np.float32)


def single_input_layers():
    """Registered layers of one input (layers of several, ``multiple_inputs``, take a list and
    are checked the same way in their own tests). Only the library's own: a subclass a test
    defines is registered too while it lives."""
    return {name for name, cls in ns.layers.REGISTRY.table().items()
            if not getattr(cls, "multiple_inputs", False)
            and cls.__module__.startswith("nnscratch.")}


def test_every_registered_layer_has_a_case():
    assert single_input_layers() == set(CASES)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_forward_before_build_builds_on_first_use(kind):
    make, shape = CASES[kind]
    x = data(shape, kind)
    layer = make()
    y = layer.forward(x, training=True)
    assert layer.built
    called = make()
    np.testing.assert_array_equal(np.shape(called(x, training=True)), y.shape)
    grad_x = layer.backward(np.ones_like(y))
    assert np.shape(grad_x) == x.shape


@pytest.mark.parametrize("kind", sorted(CASES))
def test_backward_before_forward_is_a_not_built_error_naming_the_layer(kind):
    make, shape = CASES[kind]
    layer = make()
    layer.name = f"my_{kind.lower()}"
    layer.build(shape[1:], rng=np.random.default_rng(0))
    with pytest.raises(NotBuiltError, match=rf"{kind} layer my_{kind.lower()}: backward .*before forward"):
        layer.backward(np.ones(shape, np.float32))


@pytest.mark.parametrize("kind", sorted(CASES))
def test_a_gradient_of_the_wrong_shape_is_a_shape_error_naming_both_shapes(kind):
    make, shape = CASES[kind]
    layer = make()
    y = layer.forward(data(shape, kind), training=True)
    wrong = y.shape[:-1] + (y.shape[-1] + 1,)
    expected = rf"{kind} layer \w+ backward expects a gradient shaped {re_shape(y.shape)}, " \
               rf"got {re_shape(wrong)}"
    with pytest.raises(ShapeError, match=expected):
        layer.backward(np.ones(wrong, np.float32))
    with pytest.raises(ShapeError, match=expected):
        layer.backward(np.ones(wrong, np.float32).tolist())      # not an array: same check


def re_shape(shape):
    return str(tuple(shape)).replace("(", r"\(").replace(")", r"\)")


def test_the_reported_cases():
    with pytest.raises(NotBuiltError, match="before forward"):
        ns.Dense(3).backward(np.ones((2, 3)))
    dense = ns.Dense(3)
    assert dense.forward(np.ones((2, 4), np.float32)).shape == (2, 3)       # was KeyError: 'W'
    conv = ns.layers.Conv2D(4, 3)
    conv.forward(np.ones((2, 1, 5, 5), np.float32), training=True)
    with pytest.raises(ShapeError, match=r"\(2, 4, 3, 3\), got \(2, 4, 3, 2\)"):
        conv.backward(np.ones((2, 4, 3, 2), np.float32))


def test_a_subclass_calling_its_parents_backward_is_checked_once():
    """A subclass whose forward reshapes its parent's output hands the parent a gradient of the
    parent's shape: only the outermost backward compares with the layer's output."""

    class FlatDense(ns.Dense):
        def forward(self, x, training=False):
            return super().forward(x, training).reshape(len(x), -1, 1)

        def backward(self, grad_y):
            return super().backward(grad_y.reshape(len(grad_y), -1))

    layer = FlatDense(3)
    y = layer.forward(np.ones((2, 4), np.float32))
    assert y.shape == (2, 3, 1)
    assert layer.backward(np.ones((2, 3, 1), np.float32)).shape == (2, 4)
    with pytest.raises(ShapeError, match=r"shaped \(2, 3, 1\), got \(2, 3\)"):
        layer.backward(np.ones((2, 3), np.float32))


def test_a_network_forward_before_build_builds_it():
    net = ns.Network([ns.Dense(3), ns.Dense(2)], seed=0, dtype="float64")
    y = net.forward(np.ones((4, 5)))
    assert net.built and y.shape == (4, 2) and y.dtype == np.float64
    assert net.layers[0].params["W"].dtype == np.float64
