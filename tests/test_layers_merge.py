"""Merge layers (Add ... Concatenate), the Activation layer and PositionalEmbedding: values,
gradients (float64 central differences), shape errors and config round trips."""

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.errors import ConfigError, NotBuiltError, ShapeError
from nnscratch.gradcheck import check_layer
from nnscratch.layers import LAYER_CLASSES

L = ns.layers
ELEMENTWISE = {
    "Add": (L.Add, lambda xs: sum(xs)),
    "Subtract": (L.Subtract, lambda xs: xs[0] - xs[1]),
    "Multiply": (L.Multiply, lambda xs: np.prod(xs, axis=0)),
    "Average": (L.Average, lambda xs: np.mean(xs, axis=0)),
    "Maximum": (L.Maximum, lambda xs: np.max(xs, axis=0)),
    "Minimum": (L.Minimum, lambda xs: np.min(xs, axis=0)),
}


def counts(kind):
    return [2] if kind == "Subtract" else [2, 3, 4]


def inputs(rng, count, shape=(3, 4, 2)):
    return [rng.standard_normal(shape) for _ in range(count)]


# -- values and gradients ------------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(ELEMENTWISE))
def test_elementwise_values_and_gradients(kind, rng):
    make, reference = ELEMENTWISE[kind]
    for count in counts(kind):
        xs = inputs(rng, count)
        layer = make()
        np.testing.assert_allclose(layer(xs), reference(np.stack(xs)), rtol=1e-14, atol=1e-14)
        assert layer.multiple_inputs and layer.built
        assert layer.input_shape == [(4, 2)] * count
        errors = check_layer(make(), xs, tol=1e-8)
        assert set(errors) == {f"input_{i}" for i in range(count)}


@pytest.mark.parametrize("kind", sorted(ELEMENTWISE))
def test_each_input_gets_an_array_of_its_own(kind, rng):
    make, _ = ELEMENTWISE[kind]
    count = counts(kind)[-1]
    layer = make()
    y = layer(inputs(rng, count))
    grads = layer.backward(np.ones_like(y))
    assert len(grads) == count
    assert len({id(g) for g in grads}) == count
    assert not any(np.shares_memory(a, b) for i, a in enumerate(grads) for b in grads[i + 1:])


def test_multiply_gradient_where_inputs_are_zero(rng):
    xs = inputs(rng, 3, (2, 5))
    xs[0][0, :2] = 0
    xs[1][0, 1:3] = 0
    layer = L.Multiply()
    y = layer(xs)
    g = rng.standard_normal(y.shape)
    grads = layer.backward(g)
    for i in range(3):                           # the product of the others, written out
        others = np.prod([xs[j] for j in range(3) if j != i], axis=0)
        np.testing.assert_allclose(grads[i], g * others, rtol=1e-14, atol=0)
    check_layer(L.Multiply(), xs, tol=1e-8)


@pytest.mark.parametrize("kind, pick", [("Maximum", np.argmax), ("Minimum", np.argmin)])
def test_maximum_and_minimum_send_the_gradient_to_the_winner_and_ties_to_the_first(kind, pick, rng):
    make = ELEMENTWISE[kind][0]
    a = rng.standard_normal((4, 6))
    xs = [a.copy(), a.copy(), rng.standard_normal((4, 6))]    # inputs 0 and 1 tie everywhere
    layer = make()
    y = layer(xs)
    g = rng.standard_normal(y.shape)
    grads = layer.backward(g)
    winner = pick(np.stack(xs), axis=0)                     # np.argmax picks the first of a tie
    for i in range(3):
        np.testing.assert_array_equal(grads[i], np.where(winner == i, g, 0.0))
    assert not grads[1].any()                                # never the second of a tie
    np.testing.assert_array_equal(sum(grads), g)             # every element's gradient goes once


@pytest.mark.parametrize("axis", [-1, -2, 1, 2, 3])
def test_concatenate_values_gradients_and_output_shape(axis, rng):
    shapes = [[3, 2, 4, 5], [3, 2, 4, 5], [3, 2, 4, 5]]
    for i, shape in enumerate(shapes):
        shape[axis] += i                                     # sizes 0, +1, +2 along the axis
    xs = [rng.standard_normal(shape) for shape in shapes]
    layer = L.Concatenate(axis=axis)
    y = layer(xs)
    np.testing.assert_array_equal(y, np.concatenate(xs, axis=axis))
    assert layer.compute_output_shape([x.shape[1:] for x in xs]) == y.shape[1:]
    grads = layer.backward(y * 2)
    for x, g in zip(xs, grads):
        np.testing.assert_array_equal(g, 2 * x)
    check_layer(L.Concatenate(axis=axis), xs, tol=1e-8)


def test_concatenate_joins_a_varying_batch(rng):
    layer = L.Concatenate()
    assert layer([np.ones((2, 3)), np.zeros((2, 1))]).shape == (2, 4)
    assert layer([np.ones((5, 3)), np.zeros((5, 1))]).shape == (5, 4)


@pytest.mark.parametrize("name", ["relu", "gelu", "tanh", "softmax", "log_softmax",
                                  {"name": "leaky_relu", "alpha": 0.2}])
def test_activation_layer_applies_the_registered_activation(name, rng):
    x = rng.standard_normal((3, 4, 5))
    layer = L.Activation(name)
    np.testing.assert_array_equal(layer(x), ns.activations.get(name).forward(x))
    assert layer.compute_output_shape((4, 5)) == (4, 5)
    check_layer(L.Activation(name), x, tol=1e-7)


def test_activation_layer_softmax_trains_as_a_dense_softmax():
    """A softmax Activation after a linear Dense gives the same gradients as Dense(softmax)
    (it fuses with cross-entropy the same way)."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 4)), np.eye(3)[rng.integers(0, 3, 8)]
    nets = [ns.Network(layers, loss="categorical_crossentropy", seed=1, dtype="float64",
                       input_shape=(4,))
            for layers in ([L.Dense(3, activation="softmax")], [L.Dense(3), L.Activation("softmax")])]
    nets[1].layers[0].params["W"][...] = nets[0].layers[0].params["W"]
    losses = [net.compute_gradients(x, y) for net in nets]
    assert losses[0] == pytest.approx(losses[1], rel=1e-14)
    for key in ("W", "b"):
        np.testing.assert_allclose(nets[1].layers[0].grads[key], nets[0].layers[0].grads[key],
                                   rtol=1e-12, atol=1e-15)
    ns.gradcheck.check_network(nets[1], x, y)


def test_activation_layer_refuses_an_unknown_activation():
    with pytest.raises(ConfigError, match="unknown activation 'nope'"):
        L.Activation("nope")


class _Masked(ns.layers.multi_input.MultiInputLayer):
    """y = x * mask: the mask (second input) is not differentiable. (A leading underscore keeps
    this test class out of the layer table.)"""

    max_inputs = 2

    def compute_output_shape(self, input_shapes):
        return tuple(input_shapes[0])

    def forward(self, inputs, training=False, scale=1.0):
        x, self._mask = self.input_list(inputs)
        self._scale = scale
        return x * self._mask * scale

    def backward(self, grad_y):
        return [grad_y * self._mask * self._scale, None]


def test_gradcheck_leaves_out_an_input_without_gradient_and_passes_options(rng):
    x, mask = rng.standard_normal((3, 4)), (rng.random((3, 4)) > 0.5).astype(float)
    layer = _Masked()
    assert check_layer(layer, [x, mask], scale=3.0).keys() == {"input_0"}
    assert layer._scale == 3.0


def test_gradcheck_refuses_a_multi_input_backward_that_is_not_a_list(rng):
    class _Wrong(_Masked):
        def backward(self, grad_y):
            return grad_y

    with pytest.raises(ns.errors.GradientCheckError, match="has 2 inputs, but its backward "
                                                           "returned ndarray instead of a list"):
        check_layer(_Wrong(), [rng.standard_normal((3, 4)), np.ones((3, 4))])


# -- PositionalEmbedding ---------------------------------------------------------------------------

def test_positional_embedding_adds_the_first_rows_and_trains_only_them(rng):
    layer = L.PositionalEmbedding(6, 3)
    x = rng.standard_normal((2, 4, 3))
    y = layer(x)
    W = layer.params["W"]
    assert W.shape == (6, 3)
    np.testing.assert_array_equal(y, x + W[None, :4])
    g = rng.standard_normal(y.shape)
    np.testing.assert_array_equal(layer.backward(g), g)
    np.testing.assert_allclose(layer.grads["W"][:4], g.sum(axis=0), rtol=1e-6)
    assert not layer.grads["W"][4:].any()
    assert layer(rng.standard_normal((5, 6, 3))).shape == (5, 6, 3)    # the full length
    errors = check_layer(L.PositionalEmbedding(6, 3), x, tol=1e-8)
    assert set(errors) == {"input", "W"}


def test_positional_embedding_shape_errors(rng):
    layer = L.PositionalEmbedding(4, 3)
    with pytest.raises(ShapeError, match=r"has 4 positions, got sequences of 5 steps"):
        layer(rng.standard_normal((2, 5, 3)))
    layer = L.PositionalEmbedding(4, 3)
    layer(rng.standard_normal((2, 4, 3)))
    with pytest.raises(ShapeError, match=r"has 4 positions, got sequences of 6 steps"):
        layer(rng.standard_normal((2, 6, 3)))
    with pytest.raises(ShapeError, match=r"expects inputs \(N, T, 3\), got inputs shaped \(2, 4, 2\)"):
        layer(rng.standard_normal((2, 4, 2)))
    with pytest.raises(ShapeError, match=r"expects inputs \(N, T, 3\), got samples shaped \(3,\)"):
        L.PositionalEmbedding(4, 3)(rng.standard_normal((2, 3)))
    for bad in (0, 2.0, "4", True):
        with pytest.raises(ConfigError, match="PositionalEmbedding sequence_length"):
            L.PositionalEmbedding(bad, 3)


def test_token_and_position_embedding_network_learns_and_saves(tmp_path):
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 9, (6, 5))
    net = ns.Network([L.Embedding(9, 4), L.PositionalEmbedding(8, 4), L.LayerNormalization(),
                      L.Dense(2), L.Activation("tanh")],
                     loss="mse", seed=0, dtype="float64", input_shape=(5,))
    target = rng.standard_normal((6, 5, 2))
    errors = ns.gradcheck.check_network(net, ids, target)
    assert "positionalembedding_1.W" in errors
    net.save(tmp_path / "net.nns")
    loaded = ns.load(tmp_path / "net.nns")
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in net.layers]
    np.testing.assert_array_equal(loaded.predict(ids), net.predict(ids))
    net.save(tmp_path / "net.nns")
    loaded = ns.load(tmp_path / "net.nns")
    np.testing.assert_array_equal(loaded.predict(ids), net.predict(ids))


# -- shape errors ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(ELEMENTWISE))
def test_elementwise_inputs_of_different_shapes_are_refused_naming_both(kind, rng):
    layer = ELEMENTWISE[kind][0](name="merge")
    with pytest.raises(ShapeError, match=rf"{kind} layer merge expects inputs of one shape, got "
                                         r"inputs shaped \(4, 5\), \(4, 6\)"):
        layer([np.ones((4, 5)), np.ones((4, 6))])
    layer = ELEMENTWISE[kind][0](name="merge")
    with pytest.raises(ShapeError, match=r"got per-sample shapes \(5,\), \(6,\)"):
        layer.build([(5,), (6,)])
    with pytest.raises(ShapeError, match=r"got per-sample shapes \(5,\), \(6,\)"):
        layer.compute_output_shape([(5,), (6,)])
    layer([np.ones((4, 5)), np.ones((4, 5))])
    with pytest.raises(ShapeError, match=r"inputs shaped \(4, 5\), \(3, 5\)"):   # batch sizes
        layer([np.ones((4, 5)), np.ones((3, 5))])


@pytest.mark.parametrize("kind", sorted(ELEMENTWISE) + ["Concatenate"])
def test_input_counts_and_a_lone_array_are_refused(kind):
    make = L.Concatenate if kind == "Concatenate" else ELEMENTWISE[kind][0]
    wanted = "exactly 2" if kind == "Subtract" else "2 or more"
    with pytest.raises(ShapeError, match=rf"{kind} layer {kind} expects {wanted} inputs, got 1"):
        make()([np.ones((2, 3))])
    with pytest.raises(ShapeError, match=rf"expects a list of {wanted} input arrays, got one "
                                         r"ndarray shaped \(2, 3\)"):
        make()(np.ones((2, 3)))
    with pytest.raises(ShapeError, match=rf"expects {wanted} inputs, got 1"):
        make().build([(3,)])
    if kind == "Subtract":
        with pytest.raises(ShapeError, match="Subtract layer Subtract expects exactly 2 inputs, got 3"):
            make()([np.ones((2, 3))] * 3)


def test_concatenate_shape_errors():
    layer = L.Concatenate(axis=-1, name="cat")
    with pytest.raises(ShapeError, match=r"Concatenate layer cat expects inputs of equal sizes on "
                                         r"every axis but axis -1, got inputs shaped \(2, 3, 4\), "
                                         r"\(2, 5, 4\)"):
        layer([np.ones((2, 3, 4)), np.ones((2, 5, 4))])
    with pytest.raises(ShapeError, match=r"expects inputs of one rank, got inputs shaped \(2, 3\), "
                                         r"\(2, 3, 1\)"):
        layer([np.ones((2, 3)), np.ones((2, 3, 1))])
    with pytest.raises(ShapeError, match=r"axis=3, which is not an axis of a sample"):
        L.Concatenate(axis=3)([np.ones((2, 3, 4)), np.ones((2, 3, 4))])
    with pytest.raises(ShapeError, match=r"axis=-1, which is not an axis of a sample"):
        L.Concatenate()([np.ones(2), np.ones(2)])              # (N,): only the batch axis
    with pytest.raises(ShapeError, match=r"got per-sample shapes \(3, 4\), \(5, 4\)"):
        L.Concatenate().compute_output_shape([(3, 4), (5, 4)])
    assert L.Concatenate(axis=1).compute_output_shape([(3, 4), (5, 4)]) == (8, 4)


@pytest.mark.parametrize("axis", [0, 1.0, "1", True, None])
def test_concatenate_refuses_the_batch_axis_and_non_integers(axis):
    with pytest.raises(ConfigError, match="Concatenate axis"):
        L.Concatenate(axis=axis)


def test_out_of_order_use_raises_the_library_errors(rng):
    xs = inputs(rng, 2, (3, 4, 2))
    for layer, given in ((L.Add(), xs), (L.Concatenate(), xs),
                         (L.PositionalEmbedding(4, 2), xs[0]), (L.Activation("relu"), xs[0])):
        layer.build([x.shape[1:] for x in given] if given is xs else given.shape[1:])
        with pytest.raises(NotBuiltError, match="backward called before forward"):
            layer.backward(np.ones((3, 4, 2)))
        y = layer(given)
        with pytest.raises(ShapeError, match="backward expects a gradient shaped"):
            layer.backward(np.ones(y.shape + (1,)))


# -- configs ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("layer", [L.Add(name="a"), L.Subtract(), L.Multiply(), L.Average(),
                                   L.Maximum(), L.Minimum(name="m"), L.Concatenate(axis=2),
                                   L.Activation({"name": "leaky_relu", "alpha": 0.2}, name="act"),
                                   L.PositionalEmbedding(7, 3, embeddings_initializer="normal",
                                                         embeddings_regularizer="l2")],
                         ids=lambda layer: type(layer).__name__)
def test_config_round_trip(layer, rng):
    config = layer.get_config()
    twin = LAYER_CLASSES[type(layer).__name__].from_config(config)
    assert twin.get_config() == config and type(twin) is type(layer)
    assert repr(twin) == repr(layer)
    if getattr(layer, "multiple_inputs", False):
        xs = inputs(rng, 2, (2, 3, 4))
    else:
        xs = rng.standard_normal((2, 3, 3))
    y = layer(xs)
    twin.build(layer.input_shape)
    for key, value in layer.params.items():
        twin.params[key][...] = value
    np.testing.assert_array_equal(twin(xs), y)
