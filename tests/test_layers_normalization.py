import itertools
import math

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.errors import ConfigError, ShapeError
from nnscratch.gradcheck import check_layer
from nnscratch.layers import LAYER_CLASSES


def randomize(layer, rng):
    """Random gamma, beta and running statistics, so no term hides behind a 1 or a 0."""
    for key, value in layer.params.items():
        value[...] = rng.uniform(0.5, 1.5, value.shape) if key == "gamma" else rng.standard_normal(value.shape)
    if "running_mean" in layer.buffers:
        layer.buffers["running_mean"][...] = rng.standard_normal(layer.buffers["running_mean"].shape)
        layer.buffers["running_var"][...] = rng.uniform(0.5, 2.0, layer.buffers["running_var"].shape)
    return layer


def built(layer, shape, rng, dtype=np.float64):
    layer.build(shape[1:], rng=rng, dtype=dtype)
    return randomize(layer, rng)


# ---- plain-loop references -----------------------------------------------------------------

def groups(shape, axes):
    """Index lists of the elements that share a mean and variance (reduced over ``axes``)."""
    table = {}
    for idx in itertools.product(*(range(s) for s in shape)):
        key = tuple(i for a, i in enumerate(idx) if a not in axes)
        table.setdefault(key, []).append(idx)
    return list(table.values())


def param_index(idx, axes_of_params):
    return tuple(idx[a] for a in axes_of_params)


def reference_forward_backward(x, grad_y, gamma, beta, stat_axes, param_axes, eps):
    """Loops over groups and elements; the backward from the explicit Jacobian of x_hat."""
    y = np.zeros_like(x)
    grad_x = np.zeros_like(x)
    grad_gamma = np.zeros_like(gamma)
    grad_beta = np.zeros_like(beta)
    for members in groups(x.shape, stat_axes):
        m = len(members)
        mean = sum(x[i] for i in members) / m
        var = sum((x[i] - mean) ** 2 for i in members) / m
        inv_std = 1.0 / math.sqrt(var + eps)
        x_hat = {i: (x[i] - mean) * inv_std for i in members}
        for i in members:
            p = param_index(i, param_axes)
            y[i] = gamma[p] * x_hat[i] + beta[p]
            grad_gamma[p] += grad_y[i] * x_hat[i]
            grad_beta[p] += grad_y[i]
        for i in members:              # d x_hat_j / d x_i = inv_std (delta_ij - 1/m - x_hat_i x_hat_j / m)
            total = 0.0
            for j in members:
                jac = inv_std * ((i == j) - 1.0 / m - x_hat[i] * x_hat[j] / m)
                total += grad_y[j] * gamma[param_index(j, param_axes)] * jac
            grad_x[i] = total
    return y, grad_x, grad_gamma, grad_beta


@pytest.mark.parametrize("shape", [(6, 3), (3, 2, 4), (2, 3, 2, 3)])
def test_batch_norm_training_matches_plain_loops(shape, rng):
    layer = built(ns.BatchNormalization(), shape, rng)
    x = rng.standard_normal(shape) * 2 + 1
    g = rng.standard_normal(shape)
    y = layer.forward(x, training=True)
    grad_x = layer.backward(g)
    stat_axes = tuple(a for a in range(len(shape)) if a != 1)
    ref = reference_forward_backward(x, g, layer.params["gamma"], layer.params["beta"],
                                     stat_axes, (1,), layer.epsilon)
    for got, want in zip((y, grad_x, layer.grads["gamma"], layer.grads["beta"]), ref):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)


def test_batch_norm_inference_matches_plain_loops(rng):
    layer = built(ns.BatchNormalization(), (4, 3, 2), rng)
    x = rng.standard_normal((4, 3, 2))
    g = rng.standard_normal((4, 3, 2))
    y = layer.forward(x, training=False)
    grad_x = layer.backward(g)
    mean, var = layer.buffers["running_mean"], layer.buffers["running_var"]
    gamma, beta = layer.params["gamma"], layer.params["beta"]
    for n, c, t in itertools.product(range(4), range(3), range(2)):
        scale = gamma[c] / math.sqrt(var[c] + layer.epsilon)
        assert abs(y[n, c, t] - (scale * (x[n, c, t] - mean[c]) + beta[c])) < 1e-12
        assert abs(grad_x[n, c, t] - scale * g[n, c, t]) < 1e-12


@pytest.mark.parametrize("axis, shape", [(-1, (3, 5)), (-1, (2, 3, 4)), ((1, 2), (2, 3, 4)), (1, (2, 3, 4))])
def test_layer_norm_matches_plain_loops(axis, shape, rng):
    layer = built(ns.LayerNormalization(axis=axis), shape, rng)
    x = rng.standard_normal(shape) * 3 - 1
    g = rng.standard_normal(shape)
    y = layer.forward(x, training=True)
    grad_x = layer.backward(g)
    ndim = len(shape)
    norm_axes = tuple(sorted(a % ndim for a in (axis if isinstance(axis, tuple) else (axis,))))
    stat_axes = norm_axes
    ref = reference_forward_backward(x, g, layer.params["gamma"], layer.params["beta"],
                                     stat_axes, norm_axes, layer.epsilon)
    for got, want in zip((y, grad_x, layer.grads["gamma"], layer.grads["beta"]), ref):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)


# ---- gradient checks -----------------------------------------------------------------------

@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 4), (2, 3, 3, 2)])
def test_batch_norm_gradient_check(training, shape, rng):
    layer = built(ns.BatchNormalization(), shape, rng)
    errors = check_layer(layer, rng.standard_normal(shape), training=training)
    assert set(errors) == {"input", "gamma", "beta"}


@pytest.mark.parametrize("center, scale, keys", [(False, True, {"gamma"}), (True, False, {"beta"}),
                                                 (False, False, set())])
def test_batch_norm_without_center_or_scale(center, scale, keys, rng):
    layer = built(ns.BatchNormalization(center=center, scale=scale), (4, 3), rng)
    assert set(layer.params) == keys
    errors = check_layer(layer, rng.standard_normal((4, 3)), training=True)
    assert set(errors) == {"input"} | keys


def test_batch_norm_channels_last_axis_gradient_check(rng):
    layer = built(ns.BatchNormalization(axis=-1), (3, 2, 4), rng)
    assert layer.params["gamma"].shape == (4,)
    check_layer(layer, rng.standard_normal((3, 2, 4)), training=True)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("axis, shape", [(-1, (4, 5)), ((1, 2), (2, 3, 4)), (-2, (2, 3, 4))])
def test_layer_norm_gradient_check(training, axis, shape, rng):
    layer = built(ns.LayerNormalization(axis=axis), shape, rng)
    errors = check_layer(layer, rng.standard_normal(shape), training=training)
    assert set(errors) == {"input", "gamma", "beta"}


def test_gradient_check_through_a_network_with_both_norms(rng):
    # the bias before batch norm has an exactly zero gradient in training (the mean removes it)
    net = ns.Network([ns.Dense(5, use_bias=False), ns.BatchNormalization(), ns.Dense(4, activation="tanh"),
                      ns.LayerNormalization(), ns.Dense(2)], loss="mse", seed=0, dtype="float64")
    errors = ns.gradcheck.check_network(net, rng.standard_normal((6, 3)), rng.standard_normal((6, 2)),
                                        training=True)
    assert "batchnormalization_1.gamma" in errors and "layernormalization_3.beta" in errors


# ---- statistics ----------------------------------------------------------------------------

def test_batch_norm_training_output_has_beta_mean_and_gamma_std(rng):
    layer = built(ns.BatchNormalization(epsilon=1e-12), (2, 3, 4, 5), rng)
    x = rng.standard_normal((2, 3, 4, 5)) * 5 + 3
    y = layer.forward(x, training=True)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), layer.params["beta"], atol=1e-12)
    np.testing.assert_allclose(y.std(axis=(0, 2, 3)), layer.params["gamma"], rtol=1e-9)


def test_batch_norm_running_statistics_update(rng):
    momentum = 0.9
    layer = ns.BatchNormalization(momentum=momentum)
    layer.build((3, 2), rng=rng, dtype=np.float64)
    x1, x2 = rng.standard_normal((4, 3, 2)), rng.standard_normal((5, 3, 2)) + 2
    layer.forward(x1, training=True)
    layer.forward(x2, training=True)
    mean, var = np.zeros(3), np.ones(3)
    for x in (x1, x2):
        per_channel = x.transpose(1, 0, 2).reshape(3, -1)
        mean = momentum * mean + (1 - momentum) * per_channel.mean(axis=1)
        var = momentum * var + (1 - momentum) * per_channel.var(axis=1, ddof=1)   # unbiased
    np.testing.assert_allclose(layer.buffers["running_mean"], mean, rtol=1e-12)
    np.testing.assert_allclose(layer.buffers["running_var"], var, rtol=1e-12)
    before = {k: v.copy() for k, v in layer.buffers.items()}
    layer.forward(x1, training=False)                       # inference leaves them alone
    for key in before:
        np.testing.assert_array_equal(layer.buffers[key], before[key])


def test_layer_norm_normalizes_each_sample_on_its_own(rng):
    layer = ns.LayerNormalization(epsilon=1e-12)
    layer.build((6,), rng=rng, dtype=np.float64)
    x = rng.standard_normal((4, 6)) * np.array([[1], [10], [100], [0.1]])
    y = layer.forward(x)
    np.testing.assert_allclose(y.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=1), 1, rtol=1e-9)
    x2 = x.copy()
    x2[0] *= 7
    np.testing.assert_allclose(layer.forward(x2)[1:], y[1:], rtol=1e-15)
    np.testing.assert_array_equal(layer.forward(x, training=True), layer.forward(x, training=False))


def test_batch_norm_running_statistics_are_saved_weights(rng):
    net = ns.Network([ns.Dense(3), ns.BatchNormalization(), ns.Dense(1)], loss="mse", seed=0)
    x = rng.standard_normal((16, 2))
    net.fit(x, x[:, :1] * 2, epochs=2, batch_size=4, verbose=0)
    weights = net.get_weights()
    assert "batchnormalization_1.running_mean" in weights
    assert not np.allclose(weights["batchnormalization_1.running_mean"], 0)
    other = ns.Network([ns.Dense(3), ns.BatchNormalization(), ns.Dense(1)], loss="mse", seed=1)
    other.build((2,))
    other.set_weights(weights)
    np.testing.assert_array_equal(other.predict(x), net.predict(x))


@pytest.mark.parametrize("layer", [ns.BatchNormalization, ns.LayerNormalization])
def test_float32_stays_float32_without_warnings(layer, rng, no_warnings):
    norm = layer()
    norm.build((3, 4), rng=rng, dtype=np.float32)
    x = (rng.standard_normal((5, 3, 4)) * 1e3).astype(np.float32)
    for training in (True, False):
        y = norm.forward(x, training=training)
        grad_x = norm.backward(np.ones_like(y))
        assert y.dtype == grad_x.dtype == np.float32
        assert all(g.dtype == np.float32 for g in norm.grads.values())
        assert all(b.dtype == np.float32 for b in norm.buffers.values())
    constant = np.full((5, 3, 4), 2.5, np.float32)        # zero variance: finite, no warning
    assert np.isfinite(norm.forward(constant, training=True)).all()


# ---- errors and config ---------------------------------------------------------------------

def test_batch_norm_needs_two_values_per_channel_in_training(rng):
    layer = ns.BatchNormalization(name="bn")
    layer.build((3,), rng=rng)
    with pytest.raises(ShapeError, match=r"bn needs more than one value per channel .* \(1, 3\)"):
        layer.forward(np.ones((1, 3), np.float32), training=True)
    assert layer.forward(np.ones((1, 3), np.float32)).shape == (1, 3)   # inference is fine


def test_normalization_rejects_wrong_input_shapes(rng):
    bn = ns.BatchNormalization(name="bn")
    bn.build((3, 4), rng=rng)
    with pytest.raises(ShapeError, match=r"bn expects 3-D inputs with 3 along axis 1 .* got shape \(2, 5, 4\)"):
        bn.forward(np.ones((2, 5, 4), np.float32))
    with pytest.raises(ShapeError, match=r"got shape \(2, 12\)"):
        bn.forward(np.ones((2, 12), np.float32))
    ln = ns.LayerNormalization(name="ln")
    ln.build((4,), rng=rng)
    with pytest.raises(ShapeError, match=r"ln expects 2-D inputs with 4 along axis 1"):
        ln.forward(np.ones((2, 5), np.float32))


def test_layer_norm_accepts_other_lengths_along_unnormalized_axes(rng):
    ln = ns.LayerNormalization()
    ln.build((3, 4), rng=rng)
    assert ln.forward(np.ones((2, 7, 4), np.float32)).shape == (2, 7, 4)


@pytest.mark.parametrize("kwargs, message", [
    ({"momentum": 1.0}, r"momentum must be a number in \[0, 1\), got 1.0"),
    ({"momentum": -0.1}, "momentum must be a number"),
    ({"epsilon": 0}, "epsilon must be a number > 0, got 0"),
    ({"epsilon": "1e-3"}, "epsilon must be a number"),
    ({"axis": 0}, "axis must be a non-zero integer"),
    ({"axis": 1.0}, "axis must be a non-zero integer"),
    ({"center": "yes"}, "center must be True or False"),
])
def test_batch_norm_rejects_bad_config(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ns.BatchNormalization(**kwargs)


def test_normalization_rejects_an_axis_outside_the_input(rng):
    with pytest.raises(ConfigError, match=r"axis=3, which is not a feature axis of inputs shaped \(N, 4\)"):
        ns.BatchNormalization(axis=3).build((4,), rng=rng)
    with pytest.raises(ConfigError, match=r"axis=\(1, -2\), which does not name distinct"):
        ns.LayerNormalization(axis=(1, -2)).build((4, 5), rng=rng)
    with pytest.raises(ConfigError, match="LayerNormalization axis must be"):
        ns.LayerNormalization(axis=())


@pytest.mark.parametrize("layer", [ns.BatchNormalization(axis=-1, momentum=0.9, epsilon=1e-5, center=False),
                                   ns.LayerNormalization(axis=(1, 2), scale=False)])
def test_normalization_config_round_trip(layer):
    config = layer.get_config()
    clone = LAYER_CLASSES[type(layer).__name__].from_config(config)
    assert clone.get_config() == config
