import numpy as np
import pytest

import nnscratch as ns
from nnscratch.errors import ConfigError
from nnscratch.gradcheck import check_layer
from nnscratch.layers import LAYER_CLASSES


def built_dropout(rate, shape=(4,), seed=0, dtype=np.float64):
    layer = ns.Dropout(rate)
    layer.build(shape, rng=np.random.default_rng(seed), dtype=dtype)
    return layer


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4)])
def test_dropout_gradient_check(training, shape, rng):
    errors = check_layer(ns.Dropout(0.4), rng.standard_normal(shape), training=training)
    assert set(errors) == {"input"}


def test_dropout_is_the_identity_at_inference(rng):
    layer = built_dropout(0.5)
    x = rng.standard_normal((6, 4))
    np.testing.assert_array_equal(layer.forward(x, training=False), x)
    g = rng.standard_normal((6, 4))
    np.testing.assert_array_equal(layer.backward(g), g)


def test_dropout_training_zeroes_and_rescales(rng):
    rate = 0.3
    layer = built_dropout(rate, shape=(200,))
    x = rng.uniform(1.0, 2.0, (500, 200))
    y = layer.forward(x, training=True)
    kept = y != 0
    np.testing.assert_allclose(y[kept], x[kept] / (1 - rate), rtol=1e-15)
    dropped_share = 1 - kept.mean()
    n = x.size
    assert abs(dropped_share - rate) < 5 * np.sqrt(rate * (1 - rate) / n)
    # inverted dropout keeps the expected value: E[y] = x
    assert abs(np.mean(y / x) - 1.0) < 0.01


def test_dropout_backward_uses_the_forward_mask(rng):
    layer = built_dropout(0.5, shape=(8,))
    x = rng.uniform(1.0, 2.0, (10, 8))
    y = layer.forward(x, training=True)
    g = rng.standard_normal(y.shape)
    grad_x = layer.backward(g)
    # plain loop reference: dx = dy * (y / x), the mask the forward applied
    expected = np.zeros_like(x)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            expected[i, j] = g[i, j] * (y[i, j] / x[i, j])
    np.testing.assert_allclose(grad_x, expected, rtol=1e-14)


def test_dropout_keeps_float32_without_warnings(rng, no_warnings):
    layer = built_dropout(0.25, shape=(6,), dtype=np.float32)
    x = rng.standard_normal((5, 6)).astype(np.float32)
    y = layer.forward(x, training=True)
    assert y.dtype == np.float32
    assert layer.backward(np.ones_like(y)).dtype == np.float32


def test_dropout_rate_zero_is_the_identity_in_training(rng):
    layer = built_dropout(0.0)
    x = rng.standard_normal((3, 4))
    np.testing.assert_array_equal(layer.forward(x, training=True), x)


def test_dropout_masks_follow_the_generator_seed(rng):
    x = np.ones((20, 10))
    a = built_dropout(0.5, shape=(10,), seed=7).forward(x, training=True)
    b = built_dropout(0.5, shape=(10,), seed=7).forward(x, training=True)
    c = built_dropout(0.5, shape=(10,), seed=8).forward(x, training=True)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # successive calls draw fresh masks
    layer = built_dropout(0.5, shape=(10,), seed=7)
    assert not np.array_equal(layer.forward(x, training=True), layer.forward(x, training=True))


def test_dropout_built_alone_uses_its_seed():
    x = np.ones((6, 5))
    a = ns.Dropout(0.5, seed=3)(x, training=True)
    b = ns.Dropout(0.5, seed=3)(x, training=True)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5, "0.5", None, True])
def test_dropout_rejects_bad_rates(rate):
    with pytest.raises(ConfigError, match=r"Dropout rate must be a number in \[0, 1\), got"):
        ns.Dropout(rate)


def test_dropout_rejects_a_bad_seed():
    with pytest.raises(ConfigError,
                       match=r"Dropout seed must be None or an integer in \[0, 2\*\*63\), got 1.5"):
        ns.Dropout(0.1, seed=1.5)


def test_dropout_config_round_trip():
    layer = ns.Dropout(0.25, seed=4, name="drop")
    config = layer.get_config()
    clone = LAYER_CLASSES["Dropout"].from_config(config)
    assert clone.get_config() == config == {"name": "drop", "rate": 0.25, "seed": 4}


def dropout_net(seed):
    return ns.Network([ns.Dense(8, activation="relu"), ns.Dropout(0.5), ns.Dense(1)],
                      loss="mse", optimizer=ns.optimizers.SGD(learning_rate=0.05), seed=seed)


def test_network_dropout_is_active_only_in_training(rng):
    net = dropout_net(0)
    x = rng.standard_normal((16, 3)).astype(np.float32)
    net.build((3,))
    np.testing.assert_array_equal(net.predict(x), net.predict(x))
    assert not np.array_equal(net.forward(x, training=True), net.forward(x, training=True))


def test_same_seed_gives_bit_identical_weights_with_dropout_and_shuffling(rng):
    x = rng.standard_normal((40, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]])
    runs = []
    for seed in (5, 5, 6):
        net = dropout_net(seed)
        net.fit(x, y, epochs=3, batch_size=8, shuffle=True, verbose=0)
        runs.append(net.get_weights())
    assert runs[0].keys() == runs[1].keys()
    for key in runs[0]:
        assert runs[0][key].tobytes() == runs[1][key].tobytes(), key
    assert any(not np.array_equal(runs[0][k], runs[2][k]) for k in runs[0])


def test_network_gradient_check_with_dropout_in_training_mode(rng):
    net = ns.Network([ns.Dense(5, activation="tanh"), ns.Dropout(0.5), ns.Dense(2)], loss="mse",
                     seed=0, dtype="float64")
    errors = ns.gradcheck.check_network(net, rng.standard_normal((4, 3)), rng.standard_normal((4, 2)),
                                        training=True)
    assert set(errors) == {"input", "dense_0.W", "dense_0.b", "dense_2.W", "dense_2.b"}
