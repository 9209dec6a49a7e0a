"""An element-wise rule with state (Adam, Adamax, Adagrad) over a network's packed parameters:
one update over the whole packed array, the same numbers as one update per parameter, each
parameter's state a view of the flat state (Optimizer._flat_state)."""

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.optimizers.base import Optimizer

RULES = [lambda: ns.optimizers.Adam(learning_rate=0.01),
         lambda: ns.optimizers.Adam(learning_rate=0.01, amsgrad=True, weight_decay=0.01),
         lambda: ns.optimizers.AdamW(learning_rate=0.01, clipnorm=0.5),
         lambda: ns.optimizers.Adamax(learning_rate=0.01),
         lambda: ns.optimizers.Adagrad(learning_rate=0.05)]


def make_net(optimizer, seed=3):
    return ns.Network([ns.Dense(8, activation="tanh"), ns.Dense(3, activation="relu"),
                       ns.Dense(1)], loss="mse", optimizer=optimizer, seed=seed,
                      dtype="float64", input_shape=(5,))


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5))
    return x, np.sin(x.sum(axis=1, keepdims=True))


@pytest.mark.parametrize("rule", RULES)
def test_one_update_over_the_packing_gives_the_per_parameter_numbers(rule, monkeypatch):
    x, y = data()
    packed, plain = make_net(rule()), make_net(rule())
    packed.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert packed.optimizer._flat["params"] is packed.packed_arrays()[0]
    monkeypatch.setattr(Optimizer, "_flat_state", lambda self, *args: None)
    plain.fit(x, y, epochs=3, batch_size=16, verbose=0)
    for key, value in packed.get_weights().items():
        np.testing.assert_array_equal(value, plain.get_weights()[key])
    for name, state in plain.optimizer.state.items():
        for key, value in state.items():
            np.testing.assert_array_equal(packed.optimizer.state[name][key], value)


def test_each_state_is_a_view_of_the_flat_state_and_a_loaded_state_is_used():
    x, y = data()
    net = make_net(ns.optimizers.Adam(learning_rate=0.01))
    net.fit(x, y, epochs=1, batch_size=16, verbose=0)
    flat = net.optimizer._flat["state"]["exp_avg"]
    params = {name: param for name, param, _ in net.named_parameters()}
    for param in params.values():
        assert np.shares_memory(net.optimizer.state_for(param)["exp_avg"], flat)
    # a state put in from outside (as a checkpoint does) is what the next step starts from
    loaded = {name: {key: np.full_like(value, 0.5) for key, value in state.items()}
              for name, state in net.optimizer.state.items()}
    net.optimizer.load_state(params, loaded, model=net)
    twin = make_net(ns.optimizers.Adam(learning_rate=0.01))
    twin.set_weights(net.get_weights())
    twin.optimizer.iterations = net.optimizer.iterations
    twin.optimizer.load_state({n: p for n, p, _ in twin.named_parameters()},
                              {n: {k: v.copy() for k, v in s.items()} for n, s in loaded.items()},
                              model=twin)
    twin._packed = None                                  # per parameter
    net.train_step(x[:16], y[:16])
    twin.train_step(x[:16], y[:16])
    for key, value in net.get_weights().items():
        np.testing.assert_array_equal(value, twin.get_weights()[key])
