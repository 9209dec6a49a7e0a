"""Optimizers against trajectories computed from the published algorithms.

Each ``ref_*`` below is a plain, functional transcription of the pseudo-code that torch.optim
documents (Lion: the paper's Algorithm 2): new arrays at every line, no in-place tricks, the
state a dict of the symbols in the formulas. The library's in-place implementations must follow
the same trajectory to 1e-12 (relative) in float64.
"""

import json
import math
import tracemalloc

import numpy as np
import pytest

import nnscratch as ns
from nnscratch import optimizers
from nnscratch.errors import ConfigError, ShapeError

STEPS = 10


# -- references, one per algorithm -------------------------------------------------------------
def ref_sgd(theta, g, s, t, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
    if weight_decay != 0:
        g = g + weight_decay * theta
    if momentum != 0:
        if t > 1:
            s["b"] = momentum * s["b"] + (1 - dampening) * g
        else:
            s["b"] = g
        if nesterov:
            g = g + momentum * s["b"]
        else:
            g = s["b"]
    return theta - lr * g


def ref_adagrad(theta, g, s, t, lr, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                eps=1e-10):
    if t == 1:
        s["sum"] = np.full(theta.shape, initial_accumulator_value)
    lr_t = lr / (1 + (t - 1) * lr_decay)
    if weight_decay != 0:
        g = g + weight_decay * theta
    s["sum"] = s["sum"] + g * g
    return theta - lr_t * g / (np.sqrt(s["sum"]) + eps)


def ref_adadelta(theta, g, s, t, lr, rho=0.9, eps=1e-6, weight_decay=0.0):
    if t == 1:
        s["v"], s["u"] = np.zeros(theta.shape), np.zeros(theta.shape)
    if weight_decay != 0:
        g = g + weight_decay * theta
    s["v"] = s["v"] * rho + g * g * (1 - rho)
    dx = np.sqrt(s["u"] + eps) / np.sqrt(s["v"] + eps) * g
    s["u"] = s["u"] * rho + dx * dx * (1 - rho)
    return theta - lr * dx


def ref_rmsprop(theta, g, s, t, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                centered=False):
    if t == 1:
        s["v"], s["b"], s["g_ave"] = (np.zeros(theta.shape) for _ in range(3))
    if weight_decay != 0:
        g = g + weight_decay * theta
    s["v"] = alpha * s["v"] + (1 - alpha) * g * g
    v_tilde = s["v"]
    if centered:
        s["g_ave"] = s["g_ave"] * alpha + (1 - alpha) * g
        v_tilde = v_tilde - s["g_ave"] * s["g_ave"]
    if momentum > 0:
        s["b"] = momentum * s["b"] + g / (np.sqrt(v_tilde) + eps)
        return theta - lr * s["b"]
    return theta - lr * g / (np.sqrt(v_tilde) + eps)


def ref_adam(theta, g, s, t, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
             amsgrad=False, decoupled=False):
    if t == 1:
        s["m"], s["v"], s["v_max"] = (np.zeros(theta.shape) for _ in range(3))
    if decoupled:
        theta = theta - lr * weight_decay * theta
    elif weight_decay != 0:
        g = g + weight_decay * theta
    s["m"] = beta1 * s["m"] + (1 - beta1) * g
    s["v"] = beta2 * s["v"] + (1 - beta2) * g ** 2
    m_hat = s["m"] / (1 - beta1 ** t)
    if amsgrad:
        s["v_max"] = np.maximum(s["v_max"], s["v"])
        v_hat = s["v_max"] / (1 - beta2 ** t)
    else:
        v_hat = s["v"] / (1 - beta2 ** t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps)


def ref_adamax(theta, g, s, t, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    if t == 1:
        s["m"], s["u"] = np.zeros(theta.shape), np.zeros(theta.shape)
    if weight_decay != 0:
        g = g + weight_decay * theta
    s["m"] = beta1 * s["m"] + (1 - beta1) * g
    s["u"] = np.maximum(beta2 * s["u"], np.abs(g) + eps)
    return theta - lr * s["m"] / ((1 - beta1 ** t) * s["u"])


def ref_nadam(theta, g, s, t, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
              momentum_decay=4e-3, decoupled=False):
    if t == 1:
        s["m"], s["v"], s["mus"] = np.zeros(theta.shape), np.zeros(theta.shape), []
    if decoupled:
        theta = theta - lr * weight_decay * theta
    elif weight_decay != 0:
        g = g + weight_decay * theta

    def mu(i):
        return beta1 * (1 - 0.5 * 0.96 ** (i * momentum_decay))

    s["mus"].append(mu(t))
    prod_t = math.prod(s["mus"])                    # prod_{i=1}^{t} mu_i
    prod_t1 = prod_t * mu(t + 1)                    # prod_{i=1}^{t+1} mu_i
    s["m"] = beta1 * s["m"] + (1 - beta1) * g
    s["v"] = beta2 * s["v"] + (1 - beta2) * g ** 2
    m_hat = mu(t + 1) * s["m"] / (1 - prod_t1) + (1 - mu(t)) * g / (1 - prod_t)
    v_hat = s["v"] / (1 - beta2 ** t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps)


def ref_radam(theta, g, s, t, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
              decoupled=False):
    if t == 1:
        s["m"], s["v"], s["rectified"] = np.zeros(theta.shape), np.zeros(theta.shape), []
    if decoupled:
        theta = theta - lr * weight_decay * theta
    elif weight_decay != 0:
        g = g + weight_decay * theta
    rho_inf = 2 / (1 - beta2) - 1
    s["m"] = beta1 * s["m"] + (1 - beta1) * g
    s["v"] = beta2 * s["v"] + (1 - beta2) * g ** 2
    m_hat = s["m"] / (1 - beta1 ** t)
    rho_t = rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)
    s["rectified"].append(rho_t > 5)
    if rho_t > 5:
        l_t = np.sqrt(1 - beta2 ** t) / (np.sqrt(s["v"]) + eps)
        r_t = np.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        return theta - lr * m_hat * r_t * l_t
    return theta - lr * m_hat


def ref_lion(theta, g, s, t, lr, beta1=0.9, beta2=0.99, weight_decay=0.0):
    if t == 1:
        s["m"] = np.zeros(theta.shape)
    c = beta1 * s["m"] + (1 - beta1) * g
    theta = theta - lr * (np.sign(c) + weight_decay * theta)
    s["m"] = beta2 * s["m"] + (1 - beta2) * g
    return theta


# -- the test problem: two parameter arrays, gradients of a quadratic plus fixed noise ----------
_rng = np.random.default_rng(7)
W0 = _rng.uniform(0.5, 1.5, (3, 2)) * _rng.choice([-1.0, 1.0], (3, 2))
B0 = _rng.uniform(0.5, 1.5, 2)
# noise of changing size, so squared-gradient averages both grow and shrink (amsgrad's max acts)
_SCALES = [3.0, 1.0, 0.2, 2.0, 0.1, 1.0, 0.05, 2.0, 0.5, 1.0, 3.0, 0.1]
NOISE = {"layer.W": [_rng.standard_normal((3, 2)) * s for s in _SCALES],
         "layer.b": [_rng.standard_normal(2) * s for s in _SCALES[::-1]]}


def problem_gradient(name, theta, step):
    """d/dtheta of 0.75 ||theta - 0.3||^2, plus a fixed noise term for this step."""
    return 1.5 * (theta - 0.3) + NOISE[name][step]


def initial_params(dtype=np.float64):
    return {"layer.W": W0.astype(dtype), "layer.b": B0.astype(dtype)}


def run_library(opt, steps=STEPS, dtype=np.float64):
    params = initial_params(dtype)
    trajectory = []
    for step in range(steps):
        grads = {k: problem_gradient(k, p, step).astype(dtype) for k, p in params.items()}
        opt.step([(k, params[k], grads[k]) for k in params])
        trajectory.append({k: p.copy() for k, p in params.items()})
    return trajectory


def run_reference(rule, steps=STEPS, states=None, **hyper):
    params = initial_params()
    states = {k: {} for k in params} if states is None else states
    trajectory = []
    for t in range(1, steps + 1):
        for k in params:
            g = problem_gradient(k, params[k], t - 1)
            params[k] = rule(params[k], g, states[k], t, **hyper)
        trajectory.append({k: p.copy() for k, p in params.items()})
    return trajectory


def assert_same_trajectory(got, expected, rtol=1e-12):
    assert len(got) == len(expected)
    for step, (a, b) in enumerate(zip(got, expected)):
        for k in b:
            np.testing.assert_allclose(a[k], b[k], rtol=rtol, atol=0, err_msg=f"step {step + 1}, {k}")


# (library class, library kwargs, reference rule, reference kwargs (torch's names))
CASES = {
    "sgd": (optimizers.SGD, {"learning_rate": 0.1}, ref_sgd, {"lr": 0.1}),
    "sgd-momentum": (optimizers.SGD, {"learning_rate": 0.1, "momentum": 0.9},
                     ref_sgd, {"lr": 0.1, "momentum": 0.9}),
    "sgd-dampening": (optimizers.SGD, {"learning_rate": 0.1, "momentum": 0.8, "dampening": 0.3},
                      ref_sgd, {"lr": 0.1, "momentum": 0.8, "dampening": 0.3}),
    "sgd-nesterov": (optimizers.SGD, {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True},
                     ref_sgd, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    "sgd-weight-decay": (optimizers.SGD, {"learning_rate": 0.1, "weight_decay": 0.2},
                         ref_sgd, {"lr": 0.1, "weight_decay": 0.2}),
    "sgd-all": (optimizers.SGD, {"learning_rate": 0.05, "momentum": 0.7, "nesterov": True,
                                 "weight_decay": 0.1},
                ref_sgd, {"lr": 0.05, "momentum": 0.7, "nesterov": True, "weight_decay": 0.1}),
    "adagrad": (optimizers.Adagrad, {"learning_rate": 0.3}, ref_adagrad, {"lr": 0.3}),
    "adagrad-lr-decay": (optimizers.Adagrad, {"learning_rate": 0.3, "lr_decay": 0.2},
                         ref_adagrad, {"lr": 0.3, "lr_decay": 0.2}),
    "adagrad-all": (optimizers.Adagrad, {"learning_rate": 0.3, "lr_decay": 0.1,
                                         "weight_decay": 0.2, "initial_accumulator_value": 0.5,
                                         "epsilon": 1e-3},
                    ref_adagrad, {"lr": 0.3, "lr_decay": 0.1, "weight_decay": 0.2,
                                  "initial_accumulator_value": 0.5, "eps": 1e-3}),
    "adadelta": (optimizers.Adadelta, {}, ref_adadelta, {"lr": 1.0}),
    "adadelta-all": (optimizers.Adadelta, {"learning_rate": 5.0, "rho": 0.6, "epsilon": 1e-3,
                                           "weight_decay": 0.2},
                     ref_adadelta, {"lr": 5.0, "rho": 0.6, "eps": 1e-3, "weight_decay": 0.2}),
    "rmsprop": (optimizers.RMSprop, {"learning_rate": 0.05}, ref_rmsprop, {"lr": 0.05}),
    "rmsprop-centered": (optimizers.RMSprop, {"learning_rate": 0.05, "centered": True, "rho": 0.9},
                         ref_rmsprop, {"lr": 0.05, "centered": True, "alpha": 0.9}),
    "rmsprop-momentum": (optimizers.RMSprop, {"learning_rate": 0.05, "momentum": 0.8},
                         ref_rmsprop, {"lr": 0.05, "momentum": 0.8}),
    "rmsprop-all": (optimizers.RMSprop, {"learning_rate": 0.05, "rho": 0.8, "epsilon": 1e-4,
                                         "weight_decay": 0.2, "momentum": 0.5, "centered": True},
                    ref_rmsprop, {"lr": 0.05, "alpha": 0.8, "eps": 1e-4, "weight_decay": 0.2,
                                  "momentum": 0.5, "centered": True}),
    "adam": (optimizers.Adam, {"learning_rate": 0.1}, ref_adam, {"lr": 0.1}),
    "adam-amsgrad": (optimizers.Adam, {"learning_rate": 0.1, "amsgrad": True},
                     ref_adam, {"lr": 0.1, "amsgrad": True}),
    "adam-weight-decay": (optimizers.Adam, {"learning_rate": 0.1, "weight_decay": 0.3,
                                            "beta_1": 0.8, "beta_2": 0.95, "epsilon": 1e-3},
                          ref_adam, {"lr": 0.1, "weight_decay": 0.3, "beta1": 0.8, "beta2": 0.95,
                                     "eps": 1e-3}),
    "adam-decoupled": (optimizers.Adam, {"learning_rate": 0.1, "weight_decay": 0.3,
                                         "decoupled_weight_decay": True, "amsgrad": True},
                       ref_adam, {"lr": 0.1, "weight_decay": 0.3, "decoupled": True,
                                  "amsgrad": True}),
    "adamw": (optimizers.AdamW, {"learning_rate": 0.1}, ref_adam,
              {"lr": 0.1, "weight_decay": 1e-2, "decoupled": True}),
    "adamw-amsgrad": (optimizers.AdamW, {"learning_rate": 0.1, "weight_decay": 0.3, "amsgrad": True},
                      ref_adam, {"lr": 0.1, "weight_decay": 0.3, "decoupled": True,
                                 "amsgrad": True}),
    "adamax": (optimizers.Adamax, {"learning_rate": 0.1}, ref_adamax, {"lr": 0.1}),
    "adamax-all": (optimizers.Adamax, {"learning_rate": 0.1, "weight_decay": 0.3, "beta_1": 0.7,
                                       "beta_2": 0.8, "epsilon": 1e-2},
                   ref_adamax, {"lr": 0.1, "weight_decay": 0.3, "beta1": 0.7, "beta2": 0.8,
                                "eps": 1e-2}),
    "nadam": (optimizers.NAdam, {"learning_rate": 0.1}, ref_nadam, {"lr": 0.1}),
    "nadam-momentum-decay": (optimizers.NAdam, {"learning_rate": 0.1, "momentum_decay": 0.3},
                             ref_nadam, {"lr": 0.1, "momentum_decay": 0.3}),
    "nadam-weight-decay": (optimizers.NAdam, {"learning_rate": 0.1, "weight_decay": 0.3},
                           ref_nadam, {"lr": 0.1, "weight_decay": 0.3}),
    "nadam-decoupled": (optimizers.NAdam, {"learning_rate": 0.1, "weight_decay": 0.3,
                                           "decoupled_weight_decay": True},
                        ref_nadam, {"lr": 0.1, "weight_decay": 0.3, "decoupled": True}),
    "radam": (optimizers.RAdam, {"learning_rate": 0.1}, ref_radam, {"lr": 0.1}),
    "radam-weight-decay": (optimizers.RAdam, {"learning_rate": 0.1, "weight_decay": 0.3,
                                              "beta_2": 0.9},
                           ref_radam, {"lr": 0.1, "weight_decay": 0.3, "beta2": 0.9}),
    "radam-decoupled": (optimizers.RAdam, {"learning_rate": 0.1, "weight_decay": 0.3,
                                           "decoupled_weight_decay": True},
                        ref_radam, {"lr": 0.1, "weight_decay": 0.3, "decoupled": True}),
    "lion": (optimizers.Lion, {"learning_rate": 0.05}, ref_lion, {"lr": 0.05}),
    "lion-all": (optimizers.Lion, {"learning_rate": 0.05, "weight_decay": 0.5, "beta_1": 0.5,
                                   "beta_2": 0.7},
                 ref_lion, {"lr": 0.05, "weight_decay": 0.5, "beta1": 0.5, "beta2": 0.7}),
}

ALL = ["sgd", "adagrad", "adadelta", "rmsprop", "adam", "adamw", "adamax", "nadam", "radam", "lion"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_trajectory_matches_the_published_algorithm(case, no_warnings):
    cls, kwargs, rule, hyper = CASES[case]
    assert_same_trajectory(run_library(cls(**kwargs)), run_reference(rule, **hyper))


@pytest.mark.parametrize("case", ["adam-amsgrad", "adam-decoupled", "adamw-amsgrad"])
def test_amsgrad_takes_effect_on_the_test_problem(case):
    cls, kwargs, _, _ = CASES[case]
    without = run_library(cls(**{**kwargs, "amsgrad": False}))
    assert not np.allclose(run_library(cls(**kwargs))[-1]["layer.W"], without[-1]["layer.W"])


@pytest.mark.parametrize("case", ["radam", "radam-weight-decay"])
def test_radam_trajectory_crosses_the_rectification_switch(case):
    _, _, rule, hyper = CASES[case]
    states = {"layer.W": {}, "layer.b": {}}
    run_reference(rule, states=states, **hyper)
    rectified = states["layer.W"]["rectified"]
    assert not rectified[0] and rectified[-1]        # both branches of rho_t > 5 are exercised
    opt = optimizers.RAdam(**CASES[case][1])
    assert [opt.rectification(t) is not None for t in range(1, STEPS + 1)] == rectified


def test_weight_decay_variants_differ():
    """L2-in-the-gradient and decoupled decay are different algorithms for adaptive methods."""
    l2 = run_library(optimizers.Adam(learning_rate=0.1, weight_decay=0.3))[-1]["layer.W"]
    decoupled = run_library(optimizers.AdamW(learning_rate=0.1, weight_decay=0.3))[-1]["layer.W"]
    plain = run_library(optimizers.Adam(learning_rate=0.1))[-1]["layer.W"]
    assert not np.allclose(l2, decoupled) and not np.allclose(l2, plain)


def test_adamw_is_adam_with_decoupled_weight_decay():
    a = run_library(optimizers.AdamW(learning_rate=0.1, weight_decay=0.2, amsgrad=True))
    b = run_library(optimizers.Adam(learning_rate=0.1, weight_decay=0.2, amsgrad=True,
                                    decoupled_weight_decay=True))
    assert_same_trajectory(a, b, rtol=0)


def test_rmsprop_centered_variance_never_goes_negative(no_warnings):
    """A constant gradient makes v_t - gbar_t^2 = rho^t (1 - rho^t) g^2 vanish: no NaN from rounding."""
    opt = optimizers.RMSprop(learning_rate=1e-3, rho=0.5, centered=True)
    p, g = np.zeros(1000), np.full(1000, 0.7)
    for _ in range(80):
        opt.step([("p", p, g)])
    assert np.all(np.isfinite(p))


# -- defaults and hyperparameters ----------------------------------------------------------------
TORCH_DEFAULTS = {
    "sgd": {"learning_rate": 1e-3, "momentum": 0.0, "dampening": 0.0, "nesterov": False,
            "weight_decay": 0.0},
    "adagrad": {"learning_rate": 1e-2, "lr_decay": 0.0, "weight_decay": 0.0,
                "initial_accumulator_value": 0.0, "epsilon": 1e-10},
    "adadelta": {"learning_rate": 1.0, "rho": 0.9, "epsilon": 1e-6, "weight_decay": 0.0},
    "rmsprop": {"learning_rate": 1e-2, "rho": 0.99, "epsilon": 1e-8, "weight_decay": 0.0,
                "momentum": 0.0, "centered": False},
    "adam": {"learning_rate": 1e-3, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8,
             "weight_decay": 0.0, "amsgrad": False, "decoupled_weight_decay": False},
    "adamw": {"learning_rate": 1e-3, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8,
              "weight_decay": 1e-2, "amsgrad": False},
    "adamax": {"learning_rate": 2e-3, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8,
               "weight_decay": 0.0},
    "nadam": {"learning_rate": 2e-3, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8,
              "weight_decay": 0.0, "momentum_decay": 4e-3, "decoupled_weight_decay": False},
    "radam": {"learning_rate": 1e-3, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8,
              "weight_decay": 0.0, "decoupled_weight_decay": False},
    "lion": {"learning_rate": 1e-4, "beta_1": 0.9, "beta_2": 0.99, "weight_decay": 0.0},
}


def test_names_lists_every_optimizer():
    assert optimizers.names() == sorted(ALL)


@pytest.mark.parametrize("name", ALL)
def test_defaults_are_torch_defaults(name):
    config = optimizers.get(name).get_config()
    assert config == {"name": name, **TORCH_DEFAULTS[name]}


def nondefault_config(name):
    """Every hyperparameter moved off its default (keeping the combination valid)."""
    changed = {}
    for key, value in TORCH_DEFAULTS[name].items():
        if isinstance(value, bool):
            changed[key] = not value
        elif key in ("momentum", "rho", "beta_1", "beta_2", "dampening"):
            changed[key] = 0.5
        else:
            changed[key] = value * 3 if value else 0.25
    if name == "sgd":
        changed["dampening"] = 0.0                   # nesterov needs no dampening
    return {**changed, "clipnorm": 2.0, "clipvalue": 1.5}


@pytest.mark.parametrize("name", ALL)
def test_get_config_round_trip_rebuilds_an_equal_optimizer(name):
    opt = optimizers.get({"name": name, **nondefault_config(name)})
    config = json.loads(json.dumps(opt.get_config()))
    rebuilt = optimizers.get(config)
    assert type(rebuilt) is type(opt) and rebuilt is not opt
    assert rebuilt.get_config() == opt.get_config() == {"name": name, **nondefault_config(name)}
    assert_same_trajectory(run_library(rebuilt, steps=6), run_library(opt, steps=6), rtol=0)


@pytest.mark.parametrize("name", ALL)
def test_get_config_round_trip_with_a_schedule(name):
    schedule = ns.schedules.StepDecay(0.05, step_size=2, gamma=0.5)
    opt = optimizers.get(name, learning_rate=schedule)
    config = json.loads(json.dumps(opt.get_config()))
    assert config["learning_rate"] == schedule.get_config()
    rebuilt = optimizers.get(config)
    assert isinstance(rebuilt.learning_rate, ns.schedules.StepDecay)
    assert_same_trajectory(run_library(rebuilt, steps=6), run_library(opt, steps=6), rtol=0)


def test_get_accepts_names_in_any_case_and_instances():
    assert isinstance(optimizers.get("Adam"), optimizers.Adam)
    assert isinstance(optimizers.get("NADAM"), optimizers.NAdam)
    opt = optimizers.RMSprop()
    assert optimizers.get(opt) is opt


@pytest.mark.parametrize("identifier", ["adamm", {"name": "nope"}, {"learning_rate": 0.1}, 3])
def test_unknown_optimizer_names_the_known_ones(identifier):
    with pytest.raises(ConfigError) as err:
        optimizers.get(identifier)
    message = str(err.value)
    assert "unknown optimizer" in message and all(name in message for name in ALL)


def test_unknown_hyperparameter_is_a_config_error():
    with pytest.raises(ConfigError, match=r"Adam got unknown hyperparameter\(s\) betas.*beta_1"):
        optimizers.get({"name": "adam", "betas": (0.9, 0.999)})


BAD = [(name, key, value)
       for name in ALL
       for key, value in [("learning_rate", 0.0), ("learning_rate", -1e-3),
                          ("learning_rate", float("nan")), ("learning_rate", "0.1"),
                          ("weight_decay", -0.1)]] + [
    (name, key, value)
    for name in ["adam", "adamw", "adamax", "nadam", "radam", "lion"]
    for key, value in [("beta_1", 1.0), ("beta_1", -0.1), ("beta_2", 1.0), ("beta_2", 1.5)]] + [
    (name, "epsilon", value)
    for name in ["adagrad", "adadelta", "rmsprop", "adam", "adamw", "adamax", "nadam", "radam"]
    for value in (0.0, -1e-8)] + [
    ("sgd", "momentum", 1.0), ("sgd", "momentum", -0.5), ("sgd", "dampening", 1.5),
    ("rmsprop", "momentum", -0.1), ("rmsprop", "rho", 1.0), ("adadelta", "rho", -0.2),
    ("adagrad", "lr_decay", -1.0), ("adagrad", "initial_accumulator_value", -0.1),
    ("nadam", "momentum_decay", -1e-3)]


@pytest.mark.parametrize("name, key, value", BAD)
def test_bad_hyperparameter_names_the_parameter_and_the_value(name, key, value):
    with pytest.raises(ConfigError) as err:
        optimizers.get({"name": name, key: value})
    assert key in str(err.value) and repr(value) in str(err.value)


def test_nesterov_needs_momentum_and_no_dampening():
    with pytest.raises(ConfigError, match="nesterov"):
        optimizers.SGD(nesterov=True)
    with pytest.raises(ConfigError, match="dampening"):
        optimizers.SGD(momentum=0.9, dampening=0.1, nesterov=True)


@pytest.mark.parametrize("key", ["clipnorm", "clipvalue"])
def test_bad_clipping_threshold(key):
    with pytest.raises(ConfigError, match=key):
        optimizers.Adam(**{key: 0.0})


# -- clipping, on every optimizer ------------------------------------------------------------------
def run_with_clipped_gradients(opt, clip, steps=6):
    """Feed ``opt`` gradients clipped by the test's own ``clip`` function."""
    params = initial_params()
    trajectory, scales = [], []
    for step in range(steps):
        grads = {k: problem_gradient(k, p, step) for k, p in params.items()}
        clipped, scale = clip(grads)
        scales.append(scale)
        opt.step([(k, params[k], clipped[k]) for k in params])
        trajectory.append({k: p.copy() for k, p in params.items()})
    return trajectory, scales


def clip_by_global_norm(max_norm):
    def clip(grads):
        norm = math.sqrt(sum(float((g ** 2).sum()) for g in grads.values()))
        scale = min(1.0, max_norm / norm)
        return {k: g * scale for k, g in grads.items()}, scale
    return clip


def clip_by_value(limit):
    def clip(grads):
        clipped = {k: np.minimum(np.maximum(g, -limit), limit) for k, g in grads.items()}
        changed = any((np.abs(g) > limit).any() for g in grads.values())
        return clipped, 0.5 if changed else 1.0
    return clip


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("mode", ["clipnorm", "clipvalue", "both"])
def test_clipping_is_applied_before_the_update(name, mode, no_warnings):
    kwargs = {"learning_rate": 0.05}
    if mode == "clipnorm":
        kwargs["clipnorm"], clip = 2.0, clip_by_global_norm(2.0)
    elif mode == "clipvalue":
        kwargs["clipvalue"], clip = 0.8, clip_by_value(0.8)
    else:
        kwargs["clipvalue"], kwargs["clipnorm"] = 0.8, 1.0
        by_value, by_norm = clip_by_value(0.8), clip_by_global_norm(1.0)

        def clip(grads):
            clipped, _ = by_value(grads)
            return by_norm(clipped)
    expected, scales = run_with_clipped_gradients(optimizers.get(name, learning_rate=0.05), clip)
    assert min(scales) < 1.0 and max(scales) <= 1.0          # clipping was active on some step
    got = run_library(optimizers.get(name, **kwargs), steps=6)
    assert_same_trajectory(got, expected)


def test_clipnorm_uses_the_global_norm_and_leaves_small_gradients_alone():
    opt = optimizers.SGD(learning_rate=1.0, clipnorm=5.0)
    a, b = np.array([3.0, 0.0]), np.array([[0.0], [4.0]])      # global norm 5: untouched
    opt.clip([a, b])
    np.testing.assert_array_equal(a, [3.0, 0.0])
    a, b = np.array([6.0, 0.0]), np.array([[0.0], [8.0]])      # global norm 10: halved
    opt.clip([a, b])
    np.testing.assert_allclose(a, [3.0, 0.0], rtol=1e-15)
    np.testing.assert_allclose(b, [[0.0], [4.0]], rtol=1e-15)


def test_clipping_keeps_float32():
    opt = optimizers.Adam(clipnorm=0.5, clipvalue=0.1)
    g = np.linspace(-1, 1, 7, dtype=np.float32)
    opt.clip([g])
    assert g.dtype == np.float32 and np.linalg.norm(g) <= 0.5 + 1e-6 and np.abs(g).max() <= 0.1


# -- state, dtype, memory --------------------------------------------------------------------------
@pytest.mark.parametrize("name", ALL)
def test_state_is_created_lazily_for_each_array_with_its_shape_and_shown_by_name(name):
    opt = optimizers.get({"name": name, **nondefault_config(name)})
    assert opt.state == {} and opt.iterations == 0
    params = initial_params()
    assert all(opt.state_for(p) is None for p in params.values())
    grads = {k: problem_gradient(k, p, 0) for k, p in params.items()}
    opt.step([(k, params[k], grads[k]) for k in params])
    assert set(opt.state) == {"layer.W", "layer.b"} and opt.iterations == 1
    for key, state in opt.state.items():
        assert opt.state_for(params[key]) is state                  # kept by the array itself
        arrays = {n: a for n, a in state.items() if n != "mu_product"}
        assert arrays, f"{name} keeps no state arrays"
        for array in arrays.values():
            assert array.shape == params[key].shape and array.dtype == params[key].dtype
            assert not np.shares_memory(array, params[key]) and not np.shares_memory(array, grads[key])


@pytest.mark.parametrize("name", ALL)
def test_float32_stays_float32_and_tracks_float64(name, no_warnings):
    config = {"name": name, "learning_rate": 0.01, "weight_decay": 0.1}
    if name in ("sgd", "rmsprop"):
        config["momentum"] = 0.5
    opt32, opt64 = optimizers.get(config), optimizers.get(config)
    got = run_library(opt32, steps=8, dtype=np.float32)
    expected = run_library(opt64, steps=8)
    for key, value in got[-1].items():
        assert value.dtype == np.float32
        np.testing.assert_allclose(value, expected[-1][key], rtol=2e-4, atol=2e-5)
    for state in opt32.state.values():
        for n, array in state.items():
            if n != "mu_product":
                assert array.dtype == np.float32


@pytest.mark.parametrize("name", ALL)
def test_steady_state_step_allocates_no_parameter_sized_array(name):
    """Updates run in place through reused scratch arrays (these run in benchmarks' hot loop)."""
    opt = optimizers.get({"name": name, **nondefault_config(name), "clipnorm": 1e9,
                          "clipvalue": 1e9})
    p = np.linspace(-1.0, 1.0, 50_000).reshape(250, 200)
    g = np.cos(p)
    for _ in range(2):                               # create the state and the scratch arrays
        opt.step([("p", p, g)])
    tracemalloc.start()
    try:
        opt.step([("p", p, g)])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < p.nbytes // 10


def test_scratch_is_shared_between_parameters_of_different_shapes():
    opt = optimizers.Adam(learning_rate=0.1)
    run_library(opt, steps=2)
    assert len(opt._scratch) == 1                    # one float64 work buffer, no weight decay
    assert next(iter(opt._scratch.values())).size == W0.size


def test_gradient_shaped_unlike_its_parameter_is_a_shape_error():
    opt = optimizers.Adam()
    with pytest.raises(ShapeError, match=r"'dense_0.W' is shaped \(3,\), its parameter \(3, 1\)"):
        opt.step([("dense_0.W", np.zeros((3, 1)), np.zeros(3))])


def test_iterations_count_steps_not_parameters():
    opt = optimizers.Adam()
    run_library(opt, steps=3)
    assert opt.iterations == 3


# -- with a network -----------------------------------------------------------------------------
TRAINING_RATES = {"sgd": 0.1, "adagrad": 0.1, "adadelta": 1.0, "rmsprop": 0.01, "adam": 0.02,
                  "adamw": 0.02, "adamax": 0.03, "nadam": 0.02, "radam": 0.03, "lion": 0.003}


def tiny_regression():
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (32, 3))
    y = np.sin(x @ np.array([1.5, -2.0, 0.5]))[:, None] + 0.3
    return x, y


@pytest.mark.parametrize("name", ALL)
def test_each_optimizer_trains_a_small_network(name, no_warnings):
    x, y = tiny_regression()
    net = ns.Network([ns.Dense(8, activation="tanh"), ns.Dense(1)], loss="mse",
                     optimizer=optimizers.get(name, learning_rate=TRAINING_RATES[name]),
                     seed=0, dtype="float64")
    before = net.evaluate(x, y)["loss"]
    history = net.fit(x, y, epochs=60, batch_size=8, verbose=0)
    after = net.evaluate(x, y)["loss"]
    assert after < 0.3 * before, (before, after)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert net.optimizer.iterations == 60 * 4
    assert set(net.optimizer.state) == {name for name, _, _ in net.named_parameters()}
