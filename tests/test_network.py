import numpy as np
import pytest

import nnscratch as ns
from nnscratch.errors import ConfigError, DataError, DataTypeError, NNScratchError, ShapeError, TrainingError
from nnscratch.gradcheck import check_network

X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
Y = np.array([0, 1, 1, 0], dtype=float)


def small_classifier(loss="categorical_crossentropy", out="softmax", dtype="float64", **kw):
    return ns.Network([ns.Dense(5, activation="tanh"), ns.Dense(3, activation=out)],
                      loss=loss, seed=0, dtype=dtype, **kw)


@pytest.mark.parametrize("hidden, activation, loss", [
    ((4,), "sigmoid", "sse"),
    ((5, 4), "tanh", "mse"),
    ((6, 5, 4), "elu", "binary_crossentropy"),
    ((3,), "softplus", "huber"),
])
def test_whole_network_gradient_check(hidden, activation, loss, rng):
    layers = [ns.Dense(h, activation=activation) for h in hidden] + [ns.Dense(1, activation="sigmoid")]
    net = ns.Network(layers, loss=loss, seed=0, dtype="float64")
    errors = check_network(net, rng.uniform(-1, 1, (5, 3)), rng.uniform(0.1, 0.9, (5, 1)))
    assert len(errors) == 1 + 2 * (len(hidden) + 1)


@pytest.mark.parametrize("loss, labels", [("categorical_crossentropy", False),
                                          ("sparse_categorical_crossentropy", True)])
def test_fused_softmax_cross_entropy_gradient_check(loss, labels, rng):
    net = small_classifier(loss=loss)
    y_int = rng.integers(0, 3, 6)
    y = y_int if labels else ns.data.one_hot(y_int, 3, np.float64)
    check_network(net, rng.standard_normal((6, 4)), y)
    assert net._fused[0] is not None and net._fused[0].with_logits is not None


def test_fused_sigmoid_binary_cross_entropy_gradient_check(rng):
    net = ns.Network([ns.Dense(4, activation="relu"), ns.Dense(1, activation="sigmoid")],
                     loss="binary_crossentropy", seed=1, dtype="float64")
    check_network(net, rng.standard_normal((6, 3)) + 0.05, rng.integers(0, 2, 6).astype(float))
    assert net._fused[0] is not None


def test_fused_path_is_stable_for_saturated_logits():
    net = small_classifier()
    net.build((4,))
    net.layers[-1].params["W"][:] = 0
    net.layers[-1].params["b"][:] = [1000.0, -1000.0, 0.0]
    y = np.array([[0, 1, 0]], dtype=float)
    with np.errstate(all="raise"):
        loss = net.compute_gradients(np.zeros((1, 4)), y)
    assert loss == pytest.approx(2000.0)          # -log softmax = 1000 - (-1000)
    np.testing.assert_allclose(net.layers[-1].grads["b"], [1.0, -1.0, 0.0], atol=1e-12)


def test_backward_is_the_chain_rule_through_all_layers(rng):
    net = ns.Network([ns.Dense(3, activation="tanh"), ns.Dense(2)], seed=0, dtype="float64")
    x = rng.standard_normal((4, 2))
    out = net.forward(net.prepare_input(x))
    g = rng.standard_normal(out.shape)
    grad_x = net.backward(g)
    l0, l1 = net.layers
    expected = ((g @ l1.params["W"].T) * (1 - np.tanh(x @ l0.params["W"] + l0.params["b"]) ** 2)) @ l0.params["W"].T
    np.testing.assert_allclose(grad_x, expected, rtol=1e-12)


def test_fit_matches_a_plain_numpy_loop():
    net = ns.Network([ns.Dense(4, activation="sigmoid"), ns.Dense(1, activation="sigmoid")],
                     loss="sse", optimizer=ns.optimizers.SGD(learning_rate=1.0), seed=3,
                     dtype="float64", input_shape=(3,))
    W1, b1 = net.layers[0].params["W"].copy(), net.layers[0].params["b"].copy()
    W2, b2 = net.layers[1].params["W"].copy(), net.layers[1].params["b"].copy()
    y = Y[:, None]

    def sig(z):
        return 1 / (1 + np.exp(-z))

    losses = []
    for _ in range(50):
        a1 = sig(X @ W1 + b1)
        a2 = sig(a1 @ W2 + b2)
        losses.append(((a2 - y) ** 2).sum())
        d2 = 2 * (a2 - y) * a2 * (1 - a2)
        d1 = (d2 @ W2.T) * a1 * (1 - a1)
        W2 -= a1.T @ d2
        b2 -= d2.sum(0)
        W1 -= X.T @ d1
        b1 -= d1.sum(0)
    history = net.fit(X, Y, epochs=50, verbose=0)
    np.testing.assert_allclose(history.history["loss"], losses, rtol=1e-12)
    np.testing.assert_allclose(net.layers[0].params["W"], W1, rtol=1e-10)


def test_minibatch_fit_with_same_seed_is_bit_identical(rng):
    x = rng.standard_normal((50, 4))
    y = rng.integers(0, 3, 50)

    def train():
        net = ns.Network([ns.Dense(8, activation="relu"), ns.Dense(3, activation="softmax")],
                         loss="sparse_categorical_crossentropy", seed=7,
                         optimizer=ns.optimizers.SGD(0.1))
        net.fit(x, y, epochs=3, batch_size=8, verbose=0)
        return net.get_weights()
    a, b = train(), train()
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_float32_end_to_end(rng):
    x = rng.standard_normal((10, 4))
    net = ns.Network([ns.Dense(5, activation="relu"), ns.Dense(3, activation="softmax")],
                     loss="sparse_categorical_crossentropy", seed=0)
    net.fit(x, rng.integers(0, 3, 10), epochs=2, batch_size=4, verbose=0)
    assert all(p.dtype == np.float32 for _, p, _ in net.named_parameters())
    assert net.predict(x).dtype == np.float32


def test_validation_split_and_metrics_in_history(rng):
    x = rng.standard_normal((40, 4))
    y = (x[:, 0] > 0).astype(int)
    net = ns.Network([ns.Dense(8, activation="relu"), ns.Dense(2, activation="softmax")],
                     loss="sparse_categorical_crossentropy", metrics=["accuracy"], seed=0,
                     optimizer=ns.optimizers.SGD(0.5))
    h = net.fit(x, y, epochs=5, batch_size=10, validation_split=0.25, verbose=0).history
    assert set(h) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 5 for v in h.values())
    result = net.evaluate(x[30:], y[30:])
    assert result["loss"] == pytest.approx(h["val_loss"][-1])


def test_sample_weight_zero_ignores_samples(rng):
    x = rng.standard_normal((6, 2))
    y = rng.standard_normal((6, 1))
    net = ns.Network([ns.Dense(1)], loss="mse", seed=0, dtype="float64")
    net.build((2,))
    w = np.array([1, 1, 1, 0, 0, 0.0])
    full = net.compute_gradients(x, y, w)
    grads = {k: g.copy() for k, _, g in net.named_parameters()}
    half = net.compute_gradients(x[:3], y[:3])
    assert full == pytest.approx(half / 2)
    for k, _, g in net.named_parameters():
        np.testing.assert_allclose(grads[k], g / 2)


def test_class_weight_scales_the_loss(rng):
    x = rng.standard_normal((6, 2))
    y = np.array([0, 1, 0, 1, 0, 1])
    net = ns.Network([ns.Dense(2, activation="softmax")], loss="sparse_categorical_crossentropy",
                     seed=0, dtype="float64")
    net.build((2,))
    base = net.evaluate(x, y)["loss"]
    w = net.sample_weights(y, None, {0: 2.0, 1: 2.0})
    assert net.loss_value(x, y, w) == pytest.approx(2 * base)


def test_divergence_raises_with_epoch_and_batch():
    net = ns.Network([ns.Dense(8, activation="relu"), ns.Dense(1)], loss="mse", seed=0,
                     optimizer=ns.optimizers.SGD(learning_rate=1e6))
    x = np.random.default_rng(0).standard_normal((64, 4)) * 10
    with pytest.raises(TrainingError, match=r"epoch \d+, batch \d+"):
        net.fit(x, x.sum(1), epochs=50, batch_size=16, verbose=0)


def test_summary_lists_layers_and_parameters():
    net = ns.Network([ns.Dense(4, activation="sigmoid"), ns.Dense(1)], input_shape=(3,))
    text = net.summary(print_fn=None)
    assert "dense_0" in text and "Dense (sigmoid)" in text and "(N, 4)" in text
    assert "total parameters: 21" in text


# -- bad input -----------------------------------------------------------------------------------

def test_feature_count_mismatch_is_reported():
    net = ns.Network([ns.Dense(4), ns.Dense(1)], input_shape=(3,))
    with pytest.raises(ShapeError, match=r"expects samples shaped \(3,\).*got \(5,\)"):
        net.predict(np.zeros((2, 5)))


def test_row_count_mismatch_is_reported():
    net = ns.Network([ns.Dense(1)])
    with pytest.raises(ShapeError, match="same number of rows.*4 rows in x and 3 in y"):
        net.fit(np.zeros((4, 3)), np.zeros(3), epochs=1, verbose=0)


@pytest.mark.parametrize("bad, what", [(np.nan, "nan"), (np.inf, "inf")])
def test_nan_or_inf_in_x_or_y(bad, what):
    net = ns.Network([ns.Dense(1)])
    x = np.zeros((4, 3))
    x[2, 1] = bad
    with pytest.raises(DataError, match=f"x must be finite, got {what} at row 2, column 1"):
        net.fit(x, np.zeros(4), epochs=1, verbose=0)
    y = np.zeros(4)
    y[3] = bad
    with pytest.raises(DataError, match=f"y must be finite, got {what} at row 3"):
        net.fit(np.zeros((4, 3)), y, epochs=1, verbose=0)


@pytest.mark.parametrize("x", [[["a", "b"], ["c", "d"]], np.array([[object(), 1]], dtype=object), "abc"])
def test_strings_or_objects_as_data(x):
    net = ns.Network([ns.Dense(1)])
    with pytest.raises(DataTypeError, match="x must hold numbers|x must be an array of numbers"):
        net.predict(x)


def test_ragged_rows_are_reported():
    with pytest.raises(NNScratchError, match="x must"):
        ns.Network([ns.Dense(1)]).predict([[1, 2], [3]])


def test_unknown_names_list_the_known_ones():
    with pytest.raises(ConfigError, match="relu"):
        ns.Dense(3, activation="relux")
    with pytest.raises(ConfigError, match="mse"):
        ns.Network([ns.Dense(1)], loss="msee")


@pytest.mark.parametrize("lr", [0, -0.1, float("nan")])
def test_non_positive_learning_rate(lr):
    with pytest.raises(ConfigError, match="learning_rate must be a number > 0"):
        ns.optimizers.SGD(learning_rate=lr)


@pytest.mark.parametrize("epochs", [0, -3, 1.5])
def test_non_positive_epochs(epochs):
    with pytest.raises(ConfigError, match="epochs must be a positive integer"):
        ns.Network([ns.Dense(1)]).fit(np.zeros((2, 1)), np.zeros(2), epochs=epochs)


def test_integer_labels_with_one_hot_loss_get_a_hint():
    net = ns.Network([ns.Dense(3, activation="softmax")], loss="categorical_crossentropy")
    with pytest.raises(ShapeError, match="sparse_categorical_crossentropy"):
        net.fit(np.zeros((4, 2)), np.array([0, 1, 2, 1]), epochs=1, verbose=0)


def test_non_layer_in_network():
    with pytest.raises(ConfigError, match="must be Layer objects, got int"):
        ns.Network([3])


def test_bad_dtype():
    with pytest.raises(ConfigError, match="float32' or 'float64'"):
        ns.Network([ns.Dense(1)], dtype="int8")
