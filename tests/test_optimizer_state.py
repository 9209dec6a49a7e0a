"""Optimizer state kept by the parameter array itself, and one optimizer shared by two models.

What is allowed (one optimizer stepping the parameters of several models as one set) is checked
number for number against one optimizer per model and against the published Adam; what is
refused (two models taking turns with their own training steps) must fail with a ConfigError
that names both models before anything changes.
"""

import copy
import gc
import pickle
import tracemalloc
import weakref

import numpy as np
import pytest

import nnscratch as ns
from nnscratch import optimizers
from nnscratch.errors import ConfigError
from nnscratch.layers import memory

ALL = ["sgd", "adagrad", "adadelta", "rmsprop", "adam", "adamw", "adamax", "nadam", "radam", "lion"]
# element-wise settings (no clipnorm: its norm is global over whatever one step updates)
SETTINGS = {"sgd": {"momentum": 0.9, "nesterov": True}, "rmsprop": {"momentum": 0.5, "centered": True},
            "adam": {"amsgrad": True}, "adamw": {}, "adagrad": {"lr_decay": 0.1}, "adadelta": {},
            "adamax": {}, "nadam": {"decoupled_weight_decay": True}, "radam": {}, "lion": {}}


def config(name):
    return {"name": name, "learning_rate": 0.01, "weight_decay": 0.01, "clipvalue": 5.0,
            **SETTINGS[name]}


def make_net(width, seed, optimizer, name=None):
    """Two Dense layers named dense_0 and dense_1 whatever ``width`` is: alike names, shapes
    that differ between widths."""
    return ns.Network([ns.Dense(width, activation="tanh"), ns.Dense(1)], loss="mse",
                      optimizer=optimizer, seed=seed, dtype="float64", input_shape=(3,), name=name)


def data(seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (16, 3))
    return x, np.sin(x @ np.array([1.0, -2.0, 0.5]))[:, None]


def weights_bytes(net):
    return {k: v.tobytes() for k, v in net.get_weights().items()}


def state_bytes(optimizer, net):
    return {name: {k: np.asarray(v).tobytes() for k, v in optimizer.state_for(p).items()}
            for name, p, _ in net.named_parameters()}


# -- kept by the array itself ----------------------------------------------------------------------
def test_two_arrays_of_one_name_and_different_shapes_keep_their_own_state():
    """The defect: keyed by name, the second array met the first one's (3, 2) moments."""
    opt = optimizers.Adam(learning_rate=0.1)
    small, large = np.ones((3, 2)), np.ones((5, 4))
    for _ in range(3):
        opt.step([("dense_0.W", small, np.full((3, 2), 0.5)), ("dense_0.W", large, np.ones((5, 4)))])
    assert opt.state_for(small)["exp_avg"].shape == (3, 2)
    assert opt.state_for(large)["exp_avg"].shape == (5, 4)
    np.testing.assert_allclose(opt.state_for(small)["exp_avg"], 0.5 * (1 - 0.9 ** 3))
    np.testing.assert_allclose(opt.state_for(large)["exp_avg"], 1.0 * (1 - 0.9 ** 3))
    with pytest.raises(ConfigError, match=r"two different arrays named 'dense_0\.W'.*state_for"):
        opt.state                                                    # noqa: B018 (by name: ambiguous)


def test_the_optimizer_keeps_the_array_so_its_id_is_not_reused():
    opt = optimizers.Adam()
    param = np.zeros(4)
    opt.step([("w", param, np.ones(4))])
    alive, address = weakref.ref(param), id(param)
    del param
    gc.collect()
    assert alive() is not None                                       # the state holds the array
    fresh = [np.zeros(4) for _ in range(1000)]                       # none can take its id
    assert address not in {id(a) for a in fresh}
    assert all(opt.state_for(a) is None for a in fresh)
    assert list(opt.state) == ["w"]


def test_a_copy_or_a_pickle_keeps_the_state_of_its_own_arrays():
    opt = optimizers.Adam()
    param = np.arange(3.0)
    opt.step([("w", param, np.ones(3))])
    for other in (copy.deepcopy(opt), pickle.loads(pickle.dumps(opt))):
        assert other.state_for(param) is None                        # not the original's array
        assert other.state["w"]["exp_avg"].tobytes() == opt.state["w"]["exp_avg"].tobytes()
        assert other.state["w"]["exp_avg"] is not opt.state["w"]["exp_avg"]
        assert other.iterations == 1


# -- allowed: one optimizer over the union of two models' parameters ------------------------------
@pytest.mark.parametrize("name", ALL)
def test_one_optimizer_over_two_models_equals_one_optimizer_each(name):
    """Two models named alike (dense_0.W in both, shaped differently), stepped together by one
    optimizer, follow exactly the trajectories of one optimizer per model."""
    shared = optimizers.get(config(name))
    a, b = make_net(4, 1, shared), make_net(6, 2, shared)
    own_a, own_b = make_net(4, 1, config(name)), make_net(6, 2, config(name))
    (xa, ya), (xb, yb) = data(1), data(2)
    for _ in range(12):
        a.compute_gradients(xa, ya)
        b.compute_gradients(xb, yb)
        shared.step(a.named_parameters() + b.named_parameters())     # one step over the union
        for net, x, y in ((own_a, xa, ya), (own_b, xb, yb)):
            net.compute_gradients(x, y)
            net.optimizer.step(net.named_parameters())
    assert shared.iterations == own_a.optimizer.iterations == own_b.optimizer.iterations == 12
    assert weights_bytes(a) == weights_bytes(own_a) and weights_bytes(b) == weights_bytes(own_b)
    assert state_bytes(shared, a) == state_bytes(own_a.optimizer, own_a)
    assert state_bytes(shared, b) == state_bytes(own_b.optimizer, own_b)


def reference_adam(theta, g, s, t, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam as torch.optim documents it, one new array per line."""
    s["m"] = beta1 * s.get("m", 0.0) + (1 - beta1) * g
    s["v"] = beta2 * s.get("v", 0.0) + (1 - beta2) * g ** 2
    m_hat, v_hat = s["m"] / (1 - beta1 ** t), s["v"] / (1 - beta2 ** t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps)


def test_the_union_follows_the_published_adam_with_one_step_count():
    rng = np.random.default_rng(0)
    shapes = {"a": (3, 2), "b": (5, 4)}                              # both named "dense_0.W"
    params = {k: rng.standard_normal(s) for k, s in shapes.items()}
    expected = {k: p.copy() for k, p in params.items()}
    states = {k: {} for k in params}
    opt = optimizers.Adam(learning_rate=0.01)
    for t in range(1, 21):
        grads = {k: rng.standard_normal(s) * (3.0 if t % 4 else 0.1) for k, s in shapes.items()}
        opt.step([("dense_0.W", params[k], grads[k]) for k in params])
        for k in params:
            expected[k] = reference_adam(expected[k], grads[k], states[k], t)
    for k in params:
        np.testing.assert_allclose(params[k], expected[k], rtol=1e-12, atol=1e-15)
    assert opt.iterations == 20


def test_a_model_trained_in_a_union_saves_and_restores_only_its_own_state(tmp_path):
    shared = optimizers.Adam(learning_rate=0.01)
    a, b = make_net(4, 1, shared), make_net(6, 2, shared)
    (xa, ya), (xb, yb) = data(1), data(2)
    for _ in range(5):
        a.compute_gradients(xa, ya)
        b.compute_gradients(xb, yb)
        shared.step(a.named_parameters() + b.named_parameters())
    a.save(tmp_path / "a.nns")
    loaded = ns.load(tmp_path / "a.nns")
    assert loaded.optimizer.iterations == 5
    assert state_bytes(loaded.optimizer, loaded) == state_bytes(shared, a)
    assert loaded.optimizer.state["dense_0.W"]["exp_avg"].shape == (3, 4)   # a's, not b's (3, 6)
    loaded.fit(xa, ya, epochs=2, verbose=0)                          # it trains on, bound to it


# -- allowed: the set of one model changes ---------------------------------------------------------
def test_freezing_and_unfreezing_within_one_model_is_one_optimizer_over_its_parameters():
    net = make_net(4, 1, "adam")
    x, y = data(1)
    net.layers[0].trainable = False
    net.fit(x, y, epochs=3, verbose=0)
    assert net.optimizer.state_for(net.layers[0].params["W"]) is None
    net.layers[0].trainable = True
    net.fit(x, y, epochs=3, verbose=0)                               # the same model: no refusal
    assert net.optimizer.iterations == 6
    assert set(net.optimizer.state) == {"dense_0.W", "dense_0.b", "dense_1.W", "dense_1.b"}


def test_an_array_a_layer_replaced_starts_with_fresh_state():
    net = make_net(4, 1, optimizers.Adam(learning_rate=0.01))
    x, y = data(1)
    net.fit(x, y, epochs=2, verbose=0)
    old = net.layers[1].params["W"]
    new = net.layers[1].params["W"] = old.copy()
    net.fit(x, y, epochs=1, verbose=0)                               # one step: batch = all 16
    assert net.optimizer.state_for(old) is None                      # dropped, not kept aside
    grad = net.layers[1].grads["W"]                                  # that step's gradient
    np.testing.assert_allclose(net.optimizer.state_for(new)["exp_avg"], 0.1 * grad, rtol=1e-12)
    assert len(net.optimizer.state) == 4


def test_a_deep_copy_of_a_model_trains_with_its_own_copy_of_the_optimizer():
    net = make_net(4, 1, optimizers.Adam(learning_rate=0.01))
    x, y = data(1)
    net.fit(x, y, epochs=3, batch_size=4, verbose=0)
    twin = copy.deepcopy(net)
    assert twin.optimizer is not net.optimizer
    twin.fit(x, y, epochs=5, batch_size=4, verbose=0)                # bound to the copy
    net.fit(x, y, epochs=5, batch_size=4, verbose=0)
    assert weights_bytes(twin) == weights_bytes(net)
    assert state_bytes(twin.optimizer, twin) == state_bytes(net.optimizer, net)
    assert net.optimizer.state_for(twin.layers[0].params["W"]) is None
    with pytest.raises(ConfigError, match=f"already trains the Network at {id(twin):#x}"):
        make_net(4, 2, twin.optimizer).train_step(x, y)              # the copy is twin's
    loose = copy.deepcopy(net.optimizer)                             # copied alone: unbound
    make_net(4, 2, loose).train_step(x, y)


def test_counting_the_state_of_a_bound_optimizer_copies_neither_state_nor_model():
    net = make_net(20_000, 1, optimizers.Adam())                     # 100,001 parameters
    x, y = data(1)
    net.fit(x, y, epochs=1, verbose=0)
    tracemalloc.start()
    try:
        assert memory.optimizer_slots(net.optimizer, np.float64) == 2
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100_000                                            # the model holds 800 kB
    net.fit(x, y, epochs=1, verbose=0)                               # still bound to net
    assert net.optimizer.iterations == 2


# -- refused: two models taking turns ---------------------------------------------------------------
@pytest.mark.parametrize("name", ["sgd", "adam"], ids=["packed-sgd", "per-array-adam"])
@pytest.mark.parametrize("widths", [(4, 4), (4, 6)], ids=["same-shapes", "other-shapes"])
def test_a_second_model_training_with_a_bound_optimizer_is_refused(name, widths):
    shared = optimizers.get(name, learning_rate=0.05)
    first, second = make_net(widths[0], 1, shared, "first"), make_net(widths[1], 2, shared, "second")
    x, y = data(1)
    first.fit(x, y, epochs=3, verbose=0)
    assert first.packed_arrays() is not None
    assert shared.elementwise_stateless() == (name == "sgd")         # the packed path
    before = weights_bytes(second), state_bytes(shared, first), shared.iterations
    with pytest.raises(ConfigError) as caught:
        second.fit(x, y, epochs=1, verbose=0)
    message = str(caught.value)
    for part in ("already trains Network 'first' (parameters dense_0.W, dense_0.b, dense_1.W",
                 "Network 'second' (parameters dense_0.W", "its own optimizer",
                 "ns.optimizers.get(optimizer.get_config())", "a.named_parameters()"):
        assert part in message, (part, message)
    assert (weights_bytes(second), state_bytes(shared, first), shared.iterations) == before
    with pytest.raises(ConfigError, match="already trains Network 'first'"):
        second.train_step(x, y)
    first.fit(x, y, epochs=1, verbose=0)                             # the first model trains on
    assert shared.iterations == before[2] + 1


def test_models_without_names_are_told_apart_by_address():
    shared = optimizers.Adam()
    first, second = make_net(4, 1, shared), make_net(4, 2, shared)
    x, y = data(1)
    first.train_step(x, y)
    with pytest.raises(ConfigError, match=rf"already trains the Network at {id(first):#x} .*"
                                          rf"so the Network at {id(second):#x}"):
        second.train_step(x, y)


def test_a_loaded_model_binds_the_optimizer_it_comes_with(tmp_path):
    net = make_net(4, 1, "adam", name="saved")
    x, y = data(1)
    net.fit(x, y, epochs=2, verbose=0)
    net.save(tmp_path / "m.nns")
    loaded = ns.load(tmp_path / "m.nns")
    other = make_net(4, 2, loaded.optimizer, "other")
    with pytest.raises(ConfigError, match=r"already trains Network 'saved'.*Network 'other'"):
        other.fit(x, y, epochs=1, verbose=0)
    loaded.fit(x, y, epochs=1, verbose=0)


# -- the packed fast path ---------------------------------------------------------------------------
def test_packed_descent_still_updates_the_whole_model_in_one_call(monkeypatch):
    net = make_net(4, 1, optimizers.SGD(learning_rate=0.1))
    params, _ = net.packed_arrays()
    shapes = []
    original = optimizers.SGD.update

    def spy(self, param, grad, state, lr):
        shapes.append(param.shape)
        return original(self, param, grad, state, lr)

    monkeypatch.setattr(optimizers.SGD, "update", spy)
    x, y = data(1)
    net.fit(x, y, epochs=4, batch_size=8, verbose=0)
    assert shapes == [params.shape] * 8                              # one update per step
    assert set(net.optimizer.state) == {"dense_0.W", "dense_0.b", "dense_1.W", "dense_1.b"}
    assert all(net.optimizer.state_for(p) == {} for _, p, _ in net.named_parameters())
