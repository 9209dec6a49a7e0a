import numpy as np
import pytest

import nnscratch as ns
from nnscratch.errors import ConfigError, ShapeError
from nnscratch.gradcheck import check_layer


@pytest.mark.parametrize("activation", ["identity", "sigmoid", "tanh", "softmax", "gelu"])
@pytest.mark.parametrize("use_bias", [True, False])
def test_dense_gradients_of_input_and_parameters(activation, use_bias, rng):
    layer = ns.Dense(5, activation=activation, use_bias=use_bias)
    errors = check_layer(layer, rng.standard_normal((6, 4)))
    assert set(errors) == ({"input", "W", "b"} if use_bias else {"input", "W"})


def test_dense_three_dimensional_input_gradients(rng):
    check_layer(ns.Dense(3, activation="tanh"), rng.standard_normal((2, 4, 5)))


def test_dense_forward_is_x_w_plus_b(rng):
    layer = ns.Dense(3)
    x = rng.standard_normal((4, 2))
    layer.build((2,), rng=rng, dtype=np.float64)
    expected = x @ layer.params["W"] + layer.params["b"]
    np.testing.assert_allclose(layer.forward(x), expected)
    assert layer.params["W"].shape == (2, 3)


def test_dense_backward_matches_a_plain_loop(rng):
    layer = ns.Dense(3, activation="sigmoid")
    layer.build((2,), rng=rng, dtype=np.float64)
    x = rng.standard_normal((4, 2))
    a = layer.forward(x)
    g = rng.standard_normal(a.shape)
    dx = layer.backward(g)
    W = layer.params["W"]
    dW = np.zeros_like(W)
    db = np.zeros(3)
    dx_loop = np.zeros_like(x)
    for n in range(4):
        for j in range(3):
            dz = g[n, j] * a[n, j] * (1 - a[n, j])
            db[j] += dz
            for i in range(2):
                dW[i, j] += x[n, i] * dz
                dx_loop[n, i] += dz * W[i, j]
    np.testing.assert_allclose(layer.grads["W"], dW, rtol=1e-12)
    np.testing.assert_allclose(layer.grads["b"], db, rtol=1e-12)
    np.testing.assert_allclose(dx, dx_loop, rtol=1e-12)


def test_dense_rejects_wrong_feature_count(rng):
    layer = ns.Dense(2, name="hidden")
    layer.build((4,), rng=rng)
    with pytest.raises(ShapeError, match=r"expects 4 input features, got 3 \(input shape \(5, 3\)\)"):
        layer.forward(np.zeros((5, 3), np.float32))


@pytest.mark.parametrize("units", [0, -1, 2.5, "4", True])
def test_dense_rejects_bad_units(units):
    with pytest.raises(ConfigError, match="units must be a positive integer"):
        ns.Dense(units)


def test_dense_float32_stays_float32(rng):
    layer = ns.Dense(3, activation="relu")
    layer.build((2,), rng=rng, dtype=np.float32)
    y = layer.forward(rng.standard_normal((4, 2)).astype(np.float32))
    assert y.dtype == np.float32
    assert layer.backward(np.ones_like(y)).dtype == np.float32
    assert layer.grads["W"].dtype == np.float32


def test_regularizer_penalty_and_gradient(rng):
    layer = ns.Dense(3, kernel_regularizer={"l1": 0.1, "l2": 0.2})
    layer.build((2,), rng=rng, dtype=np.float64)
    W = layer.params["W"]
    assert layer.penalty() == pytest.approx(0.1 * np.abs(W).sum() + 0.2 * (W ** 2).sum())
    layer.grads["W"][:] = 0
    layer.add_penalty_gradients()
    np.testing.assert_allclose(layer.grads["W"], 0.1 * np.sign(W) + 0.4 * W)
