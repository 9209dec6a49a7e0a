"""Functional models: graphs of layer calls, fan-out, shared layers, several inputs and outputs."""

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.errors import ConfigError, ShapeError
from nnscratch.gradcheck import numerical_gradient


def numeric_gradients(model, xs, ys):
    """Central differences of the model's loss for every input entry and every parameter."""
    def loss():
        return model.loss_value(xs, ys, training=False)

    grads_x = [numerical_gradient(loss, x) for x in xs]
    grads_p = {name: numerical_gradient(loss, param) for name, param, _ in model.named_parameters()}
    return grads_x, grads_p


def assert_gradients_match(model, xs, ys, tol=1e-7):
    loss, grad_x = model.compute_gradients(xs, ys, training=False, return_input_grad=True)
    grad_x = grad_x if isinstance(grad_x, list) else [grad_x]
    analytic_p = {name: grad.copy() for name, _, grad in model.named_parameters()}
    numeric_x, numeric_p = numeric_gradients(model, xs, ys)
    for a, n in zip(grad_x, numeric_x):
        np.testing.assert_allclose(a, n, rtol=tol, atol=tol)
    assert analytic_p.keys() == numeric_p.keys()
    for name in analytic_p:
        np.testing.assert_allclose(analytic_p[name], numeric_p[name], rtol=tol, atol=tol,
                                   err_msg=name)
    return loss


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_a_diamond_graph_sums_the_gradients_of_a_fanned_out_tensor(rng):
    x = ns.Input((3,))
    b = ns.Dense(4, activation="tanh", name="B")(ns.Dense(4, activation="tanh", name="A")(x))
    c = ns.Dense(4, activation="sigmoid", name="C")(x)
    y = ns.Dense(2, name="head")(ns.Add()([b, c]))
    model = ns.Model(x, y, loss="mse", seed=0, dtype="float64")
    xs, ys = [rng.normal(size=(5, 3))], [rng.normal(size=(5, 2))]
    assert_gradients_match(model, xs, ys)


def test_one_layer_called_twice_sums_its_parameter_gradients(rng):
    shared = ns.Dense(3, activation="tanh", name="shared")
    a, b = ns.Input((2,), name="a"), ns.Input((2,), name="b")
    y = ns.Dense(1, name="out")(ns.Concatenate()([shared(a), shared(b)]))
    model = ns.Model([a, b], y, loss="mse", seed=0, dtype="float64")
    assert len(model.nodes) == 4 and len(model.layers) == 3           # two calls, one layer
    xs = [rng.normal(size=(4, 2)), rng.normal(size=(4, 2))]
    assert_gradients_match(model, xs, [rng.normal(size=(4, 1))])


def test_a_shared_layer_keeps_one_cache_per_call(rng):
    """Its backward for the first call must see the first call's inputs, not the second's."""
    shared = ns.Dense(2, activation="softplus")       # smooth: no kink for the differences
    x = ns.Input((2,))
    y = shared(ns.Dense(2)(shared(x)))                     # the same layer at two depths
    model = ns.Model(x, y, loss="mse", seed=1, dtype="float64")
    assert_gradients_match(model, [rng.normal(size=(6, 2))], [rng.normal(size=(6, 2))])


def test_two_outputs_with_loss_weights(rng):
    x = ns.Input((3,))
    h = ns.Dense(5, activation="tanh", name="trunk")(x)
    reg = ns.Dense(1, name="value")(h)
    cls = ns.Dense(3, activation="softmax", name="label")(h)
    model = ns.Model(x, [reg, cls], loss=["mse", "sparse_categorical_crossentropy"],
                     loss_weights=[0.3, 2.0], seed=0, dtype="float64")
    xs = [rng.normal(size=(6, 3))]
    ys = [rng.normal(size=(6, 1)), rng.integers(0, 3, size=6)]
    prepared = model.prepare_targets(ys)
    loss = assert_gradients_match(model, xs, prepared)
    each = model.last_output_losses
    assert loss == pytest.approx(0.3 * each[0] + 2.0 * each[1])
    history = model.fit(xs[0], {"value": ys[0], "label": ys[1]}, epochs=2, verbose=0)
    assert {"loss", "value_loss", "label_loss"} <= set(history.history)


def test_a_frozen_layer_passes_gradients_back_but_is_not_updated(rng):
    x = ns.Input((3,))
    frozen = ns.Dense(4, activation="tanh", name="frozen")
    y = ns.Dense(1, name="head")(frozen(ns.Dense(3, name="first")(x)))
    frozen.trainable = False
    model = ns.Model(x, y, loss="mse", seed=0, dtype="float64",
                     optimizer=ns.optimizers.SGD(learning_rate=0.1))
    names = [name for name, _, _ in model.named_parameters()]
    assert not any(name.startswith("frozen.") for name in names)
    assert_gradients_match(model, [rng.normal(size=(5, 3))], [rng.normal(size=(5, 1))])
    before = frozen.params["W"].copy()
    first_before = model.get_layer("first").params["W"].copy()
    model.fit(rng.normal(size=(20, 3)), rng.normal(size=(20, 1)), epochs=3, verbose=0)
    np.testing.assert_array_equal(frozen.params["W"], before)
    assert not np.array_equal(model.get_layer("first").params["W"], first_before)


def test_a_network_and_the_same_chain_as_a_model_train_alike(rng):
    x_data, y_data = rng.normal(size=(32, 4)), rng.normal(size=(32, 2))

    def layers():
        return [ns.Dense(8, activation="relu", name="d0"), ns.Dense(2, name="d1")]

    net = ns.Network(layers(), loss="mse", optimizer="adam", seed=3, dtype="float64",
                     input_shape=(4,))
    inputs = ns.Input((4,))
    stack = layers()
    model = ns.Model(inputs, stack[1](stack[0](inputs)), loss="mse", optimizer="adam", seed=3,
                     dtype="float64")
    h1 = net.fit(x_data, y_data, epochs=3, batch_size=8, verbose=0, seed=1)
    h2 = model.fit(x_data, y_data, epochs=3, batch_size=8, verbose=0, seed=1)
    assert h1.history["loss"] == h2.history["loss"]
    for key, value in net.get_weights().items():
        np.testing.assert_array_equal(value, model.get_weights()[key])


def test_a_model_from_an_inner_tensor_reads_intermediate_activations(rng):
    x = ns.Input((3,))
    hidden = ns.Dense(4, activation="relu", name="hidden")(x)
    model = ns.Model(x, ns.Dense(1)(hidden), seed=0)
    features = ns.Model(x, hidden)
    data = rng.normal(size=(5, 3)).astype(np.float32)
    layer = model.get_layer("hidden")
    expected = np.maximum(data @ layer.params["W"] + layer.params["b"], 0)
    np.testing.assert_allclose(features.predict(data), expected, rtol=1e-6)


def test_several_inputs_by_list_and_by_dict(rng):
    a, b = ns.Input((2,), name="a"), ns.Input((3,), name="b")
    y = ns.Dense(1)(ns.Concatenate()([a, b]))
    model = ns.Model({"a": a, "b": b}, y, seed=0)
    xa, xb = rng.normal(size=(4, 2)), rng.normal(size=(4, 3))
    np.testing.assert_array_equal(model.predict([xa, xb]), model.predict({"b": xb, "a": xa}))
    with pytest.raises(ConfigError, match="missing"):
        model.predict({"a": xa})
    with pytest.raises(ShapeError, match=r"\(N, 3\)"):
        model.predict([xa, xa])


def test_graph_errors_name_the_layers_involved():
    x, other = ns.Input((2,)), ns.Input((2,), name="other")
    y = ns.Add(name="merge")([ns.Dense(2)(x), ns.Dense(2)(other)])
    with pytest.raises(ConfigError, match="disconnected graph: layer Dense reads the input other"):
        ns.Model(x, y)
    z = ns.Add()([ns.Dense(2, name="twin")(x), ns.Dense(2, name="twin")(x)])
    with pytest.raises(ConfigError, match="two layers are named 'twin'"):
        ns.Model(x, z)
    with pytest.raises(ConfigError, match="takes one input"):
        ns.Dense(2)([x, x])


def test_summary_shows_inputs_and_trainable_counts():
    x = ns.Input((3,))
    frozen = ns.Dense(4, name="enc")
    y = ns.Dense(1, name="head")(ns.Add()([frozen(x), ns.Dense(4, name="skip")(x)]))
    frozen.trainable = False
    model = ns.Model(x, y)
    text = model.summary(print_fn=None)
    assert "enc, skip" in text and "[frozen]" in text
    assert "trainable: 21" in text and "non-trainable: 16" in text
