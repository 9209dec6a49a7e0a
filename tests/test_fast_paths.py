"""The shortcuts taken for speed agree with the general code they bypass.

Each fast path (the plain sigmoid where it cannot overflow, the activation methods that skip
conversion for ready arrays, ...) is compared here with the slow path it replaces, on inputs
that take the fast path and on inputs that must not.
"""

import warnings

import numpy as np
import pytest

from nnscratch import activations


def two_branch_sigmoid(z):
    """The reference: 1/(1+e) for z >= 0 and e/(1+e) below, e = exp(-|z|), in float64 math."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(4, 4), (64, 32)])    # the dot-product test and the max test
def test_sigmoid_fast_path_matches_the_two_branch_form(dtype, shape):
    bound = -activations._exp_floor(dtype)
    reach = 0.99 * bound / (np.sqrt(np.prod(shape)) if np.prod(shape) <= 256 else 1.0)
    z = np.random.default_rng(0).uniform(-reach, reach, shape).astype(dtype)
    z.flat[:3] = [-reach, reach, 0.0]                  # both tails and the middle
    assert activations._all_small(z, bound)            # so sigmoid takes the fast path
    got = activations.sigmoid(z)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, two_branch_sigmoid(z), rtol=4 * np.finfo(dtype).eps, atol=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_takes_the_safe_path_for_large_or_non_finite_inputs(dtype):
    big = np.array([[-1e4, 0.0, 1e4, 1e30]], dtype=dtype)
    assert not activations._all_small(big, -activations._exp_floor(dtype))
    assert not activations._all_small(np.array([np.nan, 0.0], dtype=dtype), 10.0)
    assert not activations._all_small(np.full(300, np.inf, dtype=dtype), 10.0)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        a = activations.sigmoid(big)                 # vdot overflows to inf: no error, safe path
    np.testing.assert_array_equal(a, np.array([[0.0, 0.5, 1.0, 1.0]], dtype=dtype))


def test_all_small_is_exact_at_the_bound():
    assert not activations._all_small(np.array([3.0]), 3.0)          # |z| < bound, strictly
    assert activations._all_small(np.array([2.999]), 3.0)
    assert not activations._all_small(np.full(257, 3.0), 3.0)          # the max test
    assert activations._all_small(np.full(257, 2.999), 3.0)
    assert activations._all_small(np.zeros((0, 3)), 1.0)


@pytest.mark.parametrize("name", ["sigmoid", "relu", "tanh", "softmax", "gelu", "log_softmax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ready_arrays_give_what_converted_inputs_give(name, dtype):
    """forward/backward on a float ndarray (no conversion) equal the same values as lists."""
    act = activations.get(name)
    rng = np.random.default_rng(1)
    z = rng.standard_normal((5, 3)).astype(dtype)
    g = rng.standard_normal((5, 3)).astype(dtype)
    a = act.forward(z)
    assert a.dtype == dtype and a is not z
    slow_a = act.forward(z.tolist())                 # a list goes through the converting path
    np.testing.assert_allclose(a, slow_a.astype(dtype), rtol=1e-6 if dtype == np.float32 else 1e-14)
    grad = act.backward(z, a, g)
    assert grad.dtype == dtype
    slow = act.backward(z.tolist(), a.tolist(), g.tolist())
    np.testing.assert_allclose(grad, slow.astype(dtype), rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-7)


def test_backward_with_mismatched_shapes_still_raises():
    act = activations.get("sigmoid")
    z = np.zeros((2, 3))
    with pytest.raises(ValueError, match="one shape"):
        act.backward(z, act.forward(z), np.ones((3, 2)))


# -- losses: value and gradient in one call ---------------------------------------------------

@pytest.mark.parametrize("name", ["sse", "mse", "mae", "huber", "categorical_crossentropy",
                                  "binary_crossentropy"])
@pytest.mark.parametrize("weighted", [False, True])
def test_value_and_gradient_equals_value_then_gradient(name, weighted):
    from nnscratch import losses
    loss = losses.get(name)
    rng = np.random.default_rng(3)
    p = rng.uniform(0.05, 0.95, (6, 3))
    y = rng.uniform(0.0, 1.0, (6, 3))
    w = rng.uniform(0.5, 2.0, 6) if weighted else None
    value, grad = loss.value_and_gradient(p, y, w)
    assert value == pytest.approx(loss.value(p, y, w), rel=1e-12)
    np.testing.assert_allclose(grad, loss.gradient(p, y, w), rtol=1e-12)
    assert grad.dtype == p.dtype
    np.testing.assert_array_equal(p, np.asarray(p))          # inputs untouched (no in-place use)


def test_sse_value_and_gradient_keeps_float32_and_checks_shapes():
    from nnscratch import losses
    sse = losses.get("sse")
    p = np.array([[0.5], [0.25]], dtype=np.float32)
    y = np.array([[1.0], [0.0]], dtype=np.float32)
    value, grad = sse.value_and_gradient(p, y)
    assert value == pytest.approx(0.25 + 0.0625) and grad.dtype == np.float32
    np.testing.assert_allclose(grad, [[-1.0], [0.5]])
    value, grad = sse.value_and_gradient(p, [1.0, 0.0])       # a list: the general checks run
    assert value == pytest.approx(0.3125)
    with pytest.raises(ValueError, match="shaped like y_pred"):
        sse.value_and_gradient(p, np.zeros((2, 2), dtype=np.float32))


# -- layers and network: the unused data gradient of the first layer --------------------------

@pytest.mark.parametrize("kind", ["dense", "conv"])
def test_first_layer_skips_the_data_gradient_without_changing_the_others(kind):
    import nnscratch as ns
    rng = np.random.default_rng(4)
    if kind == "dense":
        first, x = ns.Dense(5, activation="tanh"), rng.standard_normal((7, 4))
    else:
        first, x = ns.layers.Conv2D(2, 3, activation="relu"), rng.standard_normal((7, 1, 5, 5))
    layers = [first] + ([ns.layers.Flatten()] if kind == "conv" else [])
    net = ns.Network(layers + [ns.Dense(3, activation="softmax")],
                     loss="sparse_categorical_crossentropy", seed=0, dtype="float64")
    y = rng.integers(0, 3, 7)
    x, y = net.prepare_input(x), net.prepare_target(y)
    loss_full, grad_x = net.compute_gradients(x, y, return_input_grad=True)
    full = {name: g.copy() for name, _, g in net.named_parameters()}
    assert grad_x.shape == x.shape
    loss_skip = net.compute_gradients(x, y)
    assert loss_skip == loss_full
    for name, _, g in net.named_parameters():
        np.testing.assert_array_equal(g, full[name])
    assert first.input_grad_needed                       # restored after the step
    assert first.backward(np.ones_like(first.forward(x))).shape == x.shape


def test_conv_backward_without_input_gradient():
    from nnscratch.layers.conv import conv_backward, conv_forward
    rng = np.random.default_rng(5)
    x, W, b = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3)), np.zeros(4)
    pads = ((1, 1), (1, 1))
    z, xp, cols = conv_forward(x, W, b, (1, 1), (1, 1), pads, (6, 6))
    g = rng.standard_normal(z.shape)
    dx, dW, db = conv_backward(g, xp, W, (1, 1), (1, 1), pads, cols)
    none, dW2, db2 = conv_backward(g, xp, W, (1, 1), (1, 1), pads, cols, need_input_grad=False)
    assert none is None and dx.shape == x.shape
    np.testing.assert_array_equal(dW, dW2)
    np.testing.assert_array_equal(db, db2)


# -- training loop bookkeeping ----------------------------------------------------------------

def test_state_finite_uses_the_dot_product_only_as_a_filter():
    import nnscratch as ns
    from nnscratch.training.divergence import all_finite
    net = ns.Network([ns.Dense(2)], loss="mse", seed=0, dtype="float64", input_shape=(3,))
    assert all_finite(net.state_arrays())
    net.layers[0].params["W"][0, 0] = 1e200            # finite, but its square overflows
    assert all_finite(net.state_arrays())
    net.layers[0].params["W"][0, 0] = np.nan
    assert not all_finite(net.state_arrays())
    net.layers[0].params["W"][0, 0] = 0.0
    net.layers[0].params["b"][1] = -np.inf
    assert not all_finite(net.state_arrays())


def test_callback_list_calls_only_the_hooks_a_callback_defines():
    from nnscratch.callbacks import Callback, CallbackList

    calls = []

    class Epochs(Callback):
        def on_epoch_end(self, epoch, logs=None):
            calls.append(("class", epoch))

    plain = Callback()
    plain.on_epoch_end = lambda epoch, logs=None: calls.append(("instance", epoch))
    cbs = CallbackList([Epochs(), plain, Callback()], network=None)
    cbs.on_epoch_end(3, {})
    cbs.on_batch_end(0, {})                          # nobody defines it: nothing happens
    cbs.on_epoch_end(4, {})
    assert calls == [("class", 3), ("instance", 3), ("class", 4), ("instance", 4)]
    assert "on_epoch_end" in vars(cbs)               # found directly from now on


def test_optimizer_scratch_views_are_made_once_per_shape():
    from nnscratch import optimizers
    opt = optimizers.SGD(learning_rate=0.1)
    a, b = np.zeros((3, 4)), np.zeros((12,))
    wa = opt._work(a)
    assert opt._work(a) is wa and wa.shape == (3, 4)
    wb = opt._work(b)
    assert wb.shape == (12,) and np.shares_memory(wa, wb)      # one flat buffer, two shapes
    big = opt._work(np.zeros(100))
    assert big.shape == (100,) and opt._work(a) is wa           # an older view stays usable


def test_sgd_momentum_without_dampening_follows_torch():
    from nnscratch import optimizers
    opt = optimizers.SGD(learning_rate=0.1, momentum=0.9)
    p = np.array([1.0, -2.0])
    grads = [np.array([0.5, 0.25]), np.array([-1.0, 2.0]), np.array([0.125, 0.0])]
    expected, buf = p.copy(), None
    for g in grads:
        buf = g.copy() if buf is None else 0.9 * buf + g
        expected = expected - 0.1 * buf
        opt.step([("p", p, g)])
    np.testing.assert_allclose(p, expected, rtol=1e-15)


# -- data checks --------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_check_finite_finds_the_first_bad_entry(bad):
    from nnscratch.data import check_finite
    from nnscratch.errors import DataError
    x = np.full((50, 4), 3e38, dtype=np.float32)            # huge but finite: fine
    check_finite(x, "x")
    x[37, 2] = bad
    x[41, 0] = np.nan
    with pytest.raises(DataError, match=r"x must be finite, got .* at row 37, column 2"):
        check_finite(x, "x")
    check_finite(np.zeros((0, 3)), "x")


def _overflowing_net():
    import nnscratch as ns
    return ns.Network([ns.Dense(4, activation="tanh"), ns.Dense(1)], loss="mse", seed=0,
                      optimizer=ns.optimizers.SGD(learning_rate=1e100), input_shape=(3,))


@pytest.mark.parametrize("watched", [False, True])
def test_an_overflowing_update_is_caught_with_or_without_epoch_end_checks(watched, no_warnings):
    import nnscratch as ns
    from nnscratch.errors import TrainingError
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((8, 3)), rng.standard_normal((8, 1))
    net = _overflowing_net()
    before = net.get_weights()
    callbacks = [ns.callbacks.Callback()] if watched else None
    # Unwatched, the overflow of epoch 1's update is seen by epoch 2's loss; watched, at once.
    where = "epoch 1, batch 1: the last update" if watched else "epoch 2, batch 1: the loss"
    with pytest.raises(TrainingError, match=where):
        net.fit(x, y, epochs=3, verbose=0, callbacks=callbacks)
    for key, value in net.get_weights().items():
        np.testing.assert_array_equal(value, before[key])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(7, 4), (3, 5, 4)])
def test_sparse_crossentropy_from_logits_in_one_call(dtype, weighted, shape):
    from nnscratch import losses
    loss = losses.get("sparse_categorical_crossentropy").with_logits()
    rng = np.random.default_rng(8)
    z = (rng.standard_normal(shape) * 5).astype(dtype)
    labels = rng.integers(0, shape[-1], shape[:-1])
    w = rng.uniform(0.5, 2.0, shape[0]) if weighted else None
    value, grad = loss.value_and_gradient(z, labels, w)
    assert grad.dtype == dtype
    assert value == pytest.approx(loss.value(z, labels, w), rel=1e-6 if dtype == np.float32 else 1e-13)
    np.testing.assert_allclose(grad, loss.gradient(z, labels, w),
                               rtol=1e-6 if dtype == np.float32 else 1e-13, atol=1e-9)
    with pytest.raises(ValueError, match="class labels"):
        loss.value_and_gradient(z, np.full(shape[:-1], shape[-1]), w)


# -- packed parameters --------------------------------------------------------------------------

def _xor_net(**kwargs):
    import nnscratch as ns
    options = dict(loss="sse", optimizer=ns.optimizers.SGD(learning_rate=0.5), seed=3,
                   dtype="float64", input_shape=(3,))
    options.update(kwargs)
    return ns.Network([ns.Dense(4, activation="sigmoid"), ns.Dense(1, activation="sigmoid")],
                      **options)


XOR_X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=float)


def test_parameters_and_gradients_are_packed_into_one_array_each():
    net = _xor_net()
    params, grads = net.packed_arrays()
    assert params.size == grads.size == net.count_params()
    for layer in net.layers:
        for key in layer.params:
            assert np.shares_memory(layer.params[key], params)
            assert np.shares_memory(layer.grads[key], grads)
    assert net.state_arrays()[0] is params
    weights = net.get_weights()
    net.set_weights({k: v + 1.0 for k, v in weights.items()})      # in place, still packed
    assert net.packed_arrays() is not None
    np.testing.assert_array_equal(net.layers[1].params["b"], weights["dense_1.b"] + 1.0)


@pytest.mark.parametrize("clip", [{}, {"clipvalue": 0.01}, {"clipnorm": 0.05}])
def test_packed_descent_follows_the_per_array_one(clip):
    import nnscratch as ns
    packed = _xor_net(optimizer=ns.optimizers.SGD(learning_rate=0.5, weight_decay=0.01, **clip))
    plain = _xor_net(optimizer=ns.optimizers.SGD(learning_rate=0.5, weight_decay=0.01, **clip))
    plain.set_weights(packed.get_weights())
    plain._packed = None                                # the per-array path
    packed.fit(XOR_X, XOR_Y, epochs=50, verbose=0)
    plain.fit(XOR_X, XOR_Y, epochs=50, verbose=0)
    assert packed.optimizer.iterations == plain.optimizer.iterations == 50
    assert sorted(packed.optimizer.state) == sorted(plain.optimizer.state)
    for key, value in packed.get_weights().items():
        np.testing.assert_allclose(value, plain.get_weights()[key], rtol=1e-12, atol=1e-15)


def test_packing_steps_aside_when_it_would_be_wrong():
    import nnscratch as ns
    net = _xor_net()
    net.layers[0].trainable = False                     # a frozen layer: per-array updates
    frozen = net.layers[0].params["W"].copy()
    assert net.packed_arrays() is None
    net.fit(XOR_X, XOR_Y, epochs=5, verbose=0)
    np.testing.assert_array_equal(net.layers[0].params["W"], frozen)
    net.layers[0].trainable = True
    net.layers[1].params["W"] = net.layers[1].params["W"].copy()   # rebound: not a view any more
    assert net.packed_arrays() is None
    before = net.layers[1].params["W"].copy()
    net.fit(XOR_X, XOR_Y, epochs=5, verbose=0)
    assert not np.array_equal(net.layers[1].params["W"], before)    # and it still trains
    mixed = ns.Network([ns.Dense(3), ns.BatchNormalization(), ns.Dense(1)], input_shape=(2,))
    assert mixed._packed is None                        # a layer that does not declare packable
    adam = _xor_net(optimizer=ns.optimizers.Adam())
    assert not adam.optimizer.elementwise_stateless()   # state per parameter: per-array updates
    adam.fit(XOR_X, XOR_Y, epochs=2, verbose=0)
    assert set(adam.optimizer.state) == {"dense_0.W", "dense_0.b", "dense_1.W", "dense_1.b"}


def test_a_deep_copy_of_a_packed_network_trains_like_the_original():
    import copy
    net = _xor_net()
    twin = copy.deepcopy(net)
    assert twin.packed_arrays() is None          # its views no longer share one array
    net.fit(XOR_X, XOR_Y, epochs=20, verbose=0)
    twin.fit(XOR_X, XOR_Y, epochs=20, verbose=0)
    for key, value in net.get_weights().items():
        np.testing.assert_allclose(twin.get_weights()[key], value, rtol=1e-12)


def test_callback_list_says_which_hooks_have_listeners():
    from nnscratch.callbacks import Callback, CallbackList, History

    class Batches(Callback):
        def on_batch_end(self, batch, logs=None):
            pass

    assert not CallbackList([History()], network=None).listened("on_batch_end")
    both = CallbackList([History(), Batches()], network=None)
    assert both.listened("on_batch_end") and both.listened("on_epoch_end")
    assert not both.listened("on_batch_begin")


@pytest.mark.parametrize("name", ["sigmoid", "relu", "tanh", "softmax"])
def test_activated_layer_backward_with_a_foreign_gradient_goes_through_the_checks(name):
    import nnscratch as ns
    layer = ns.Dense(3, activation=name)
    layer.build((2,), rng=np.random.default_rng(0), dtype=np.float32)
    x = np.random.default_rng(1).standard_normal((4, 2)).astype(np.float32)
    layer.forward(x)
    grad = np.random.default_rng(2).standard_normal((4, 3))
    fast = layer.backward(grad.astype(np.float32))                  # the network's case
    slow = layer.backward(grad)                                     # float64: converted first
    assert fast.dtype == slow.dtype == np.float32
    np.testing.assert_allclose(fast, slow, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="one shape"):
        layer.backward(np.ones((4, 2), dtype=np.float32))
