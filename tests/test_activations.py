"""Tests of nnscratch.activations: gradients, numerics at extreme inputs, known values, registry."""

import json
import math
import warnings

import numpy as np
import pytest

from nnscratch import activations
from nnscratch.activations import (
    CELU,
    ELU,
    GELU,
    SELU,
    Hardshrink,
    LeakyReLU,
    Softplus,
    Softshrink,
    Squareplus,
)
from nnscratch.errors import ConfigError, DataTypeError, GradientCheckError, ShapeError
from nnscratch.gradcheck import check_activation

BUILTIN_NAMES = activations.names()
ROWWISE = {"softmax", "log_softmax", "softmin"}
KINKS = (0.0, 1.0, -1.0, 3.0, -3.0, 0.5, -0.5, 6.0, -6.0)


@pytest.fixture
def scratch_registry(monkeypatch):
    """A private copy of the registry, so user registrations do not leak between tests."""
    monkeypatch.setattr(activations.REGISTRY, "added", dict(activations.REGISTRY.added))
    monkeypatch.setattr(activations.REGISTRY, "aliases", dict(activations.REGISTRY.aliases))


def away_from_kinks(z, kinks=KINKS, gap=1e-2):
    """Move every point within ``gap`` of a kink to ``gap`` away from it."""
    z = np.array(z, dtype=np.float64)
    for k in kinks:
        near = np.abs(z - k) < gap
        z[near] = k + np.where(z[near] >= k, gap, -gap)
    return z


def gradcheck_points(seed=0):
    rng = np.random.default_rng(seed)
    return [
        away_from_kinks(rng.uniform(-3, 3, size=(4, 5))),
        away_from_kinks(rng.uniform(-8, 8, size=(3, 6))),   # past +-3 and 6
        away_from_kinks(rng.uniform(-2, 2, size=(2, 3, 4))),  # rows along the last axis of 3-D
    ]


# --------------------------------------------------------------------------------------------
# Gradients
# --------------------------------------------------------------------------------------------

def test_at_least_28_builtins():
    assert len(BUILTIN_NAMES) >= 28
    for required in ("identity", "binary_step", "sigmoid", "hard_sigmoid", "tanh", "hard_tanh",
                     "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "gelu_tanh",
                     "silu", "hard_swish", "mish", "softplus", "softsign", "log_sigmoid",
                     "tanhshrink", "softshrink", "hardshrink", "softmax", "log_softmax",
                     "softmin", "gaussian"):
        assert required in BUILTIN_NAMES


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_gradient_check(name):
    for z in gradcheck_points():
        check_activation(name, z)


@pytest.mark.parametrize("act", [
    LeakyReLU(alpha=0.2), ELU(alpha=0.5), ELU(alpha=-0.3), CELU(alpha=2.5), Softplus(beta=3.0),
    Softshrink(lambd=1.2), Hardshrink(lambd=1.2), Squareplus(b=1.0), GELU(approximate="tanh"),
], ids=repr)
def test_gradient_check_with_hyperparameters(act):
    for z in gradcheck_points(seed=1):
        check_activation(act, away_from_kinks(z, KINKS + (1.2, -1.2)))


def test_gradient_check_catches_a_wrong_derivative(scratch_registry):
    wrong = activations.register("cube_wrong", lambda z: z ** 3, lambda z, a: 2.0 * z ** 2)
    right = activations.register("cube_right", lambda z: z ** 3, lambda z, a: 3.0 * z ** 2)
    z = gradcheck_points()[0]
    check_activation(right, z)
    with pytest.raises(GradientCheckError, match="cube_wrong"):
        check_activation("cube_wrong", z)
    assert check_activation(wrong, z, raise_on_failure=False)["input"] > 0.1


def jacobian_by_loops(f, z):
    """The Jacobian of one row function by central differences, element by element."""
    n = z.size
    jac = np.zeros((n, n))
    for k in range(n):
        step = np.zeros(n)
        step[k] = 1e-6
        jac[:, k] = (f(z + step) - f(z - step)) / 2e-6
    return jac


@pytest.mark.parametrize("name", sorted(ROWWISE))
def test_rowwise_backward_is_the_jacobian_transpose_product(name):
    act = activations.get(name)
    rng = np.random.default_rng(3)
    z = rng.standard_normal((3, 5))
    g = rng.standard_normal((3, 5))
    grad = act.backward(z, act.forward(z), g)
    for row in range(3):
        jac = jacobian_by_loops(act.forward, z[row])
        np.testing.assert_allclose(grad[row], jac.T @ g[row], rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_backward_reuses_a_instead_of_running_forward(name):
    act = activations.get(name)
    z = gradcheck_points()[0]
    a = act.forward(z)
    expected = act.backward(z, a, np.ones_like(z))

    def fail(_z):
        raise AssertionError("backward ran the forward kernel again")

    act._forward = fail   # on this instance only
    np.testing.assert_array_equal(act.backward(z, a, np.ones_like(z)), expected)


# --------------------------------------------------------------------------------------------
# Numerics: extreme inputs, dtypes
# --------------------------------------------------------------------------------------------

SPECIAL = [0.0, 1e-30, 1e-7, 0.5, 1.0, 3.0, 6.0, 20.0, 30.0, 43.5, 44.0, 87.0, 88.8, 89.0,
           100.0, 354.0, 355.0, 700.0, 708.0, 709.0, 710.0, 745.0, 746.0, 1000.0, 1e4]


def extreme_inputs(dtype):
    special = np.array(SPECIAL + ([1e-300] if dtype == np.float64 else []))
    values = np.concatenate([np.linspace(-1e4, 1e4, 2001), special, -special,
                             np.linspace(-60, 60, 2401)]).astype(dtype)
    rng = np.random.default_rng(0)
    rows = [values, values[::-1], rng.permutation(values), np.full_like(values, -1e4),
            np.full_like(values, 1e4)]
    return np.stack(rows)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_extreme_inputs_are_finite_and_warning_free(name, dtype):
    act = activations.get(name)
    z = extreme_inputs(dtype)
    z_before = z.copy()
    grads = [np.ones_like(z), np.random.default_rng(1).standard_normal(z.shape).astype(dtype)]
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        a = act.forward(z)
        a_before = a.copy()
        assert a.dtype == dtype and a.shape == z.shape
        assert np.all(np.isfinite(a)), z[~np.isfinite(a)]
        for grad_a in grads:
            grad_z = act.backward(z, a, grad_a)
            assert grad_z.dtype == dtype and grad_z.shape == z.shape
            assert np.all(np.isfinite(grad_z)), z[~np.isfinite(grad_z)]
        pieces = (z[0, :50], z[0, 7]) if act.elementwise else (z[0, :50],)   # 1-D, 0-d
        for piece in pieces:
            piece_a = act.forward(piece)
            assert piece_a.dtype == dtype and piece_a.shape == piece.shape
            assert act.backward(piece, piece_a, np.ones_like(piece)).dtype == dtype
    np.testing.assert_array_equal(z, z_before)   # nothing modified in place
    np.testing.assert_array_equal(a, a_before)


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_float32_agrees_with_float64(name):
    act = activations.get(name)
    z64 = away_from_kinks(np.random.default_rng(2).uniform(-6, 6, size=(6, 7)))
    g64 = np.random.default_rng(3).standard_normal(z64.shape)
    z32, g32 = z64.astype(np.float32), g64.astype(np.float32)
    a64, a32 = act.forward(z64), act.forward(z32)
    np.testing.assert_allclose(a32, a64, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(act.backward(z32, a32, g32), act.backward(z64, a64, g64),
                               rtol=2e-4, atol=2e-5)


def test_integer_input_becomes_float64_and_float16_stays_float16():
    assert activations.get("relu").forward(np.arange(-3, 3)).dtype == np.float64
    assert activations.get("sigmoid").forward([True, False]).dtype == np.float64
    z16 = np.linspace(-20, 20, 41, dtype=np.float16)
    a16 = activations.get("gelu").forward(z16)
    assert a16.dtype == np.float16
    np.testing.assert_allclose(a16, activations.get("gelu").forward(z16.astype(np.float64)),
                               rtol=2e-3, atol=2e-3)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(DataTypeError, match="relu"):
        activations.get("relu").forward(np.array(["a", "b"]))
    with pytest.raises(DataTypeError):
        activations.get("tanh").forward(np.array([1 + 2j]))
    with pytest.raises(ShapeError, match="softmax"):
        activations.get("softmax").forward(np.float64(1.0))
    with pytest.raises(ShapeError, match="grad_a"):
        activations.get("relu").backward(np.zeros(3), np.zeros(3), np.zeros(4))
    with pytest.raises(ShapeError):
        activations.get("softmax").forward(np.zeros((2, 0)))


# --------------------------------------------------------------------------------------------
# Known values
# --------------------------------------------------------------------------------------------

def _softplus(x):
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

REFERENCE = {   # each elementwise built-in, written straight from its textbook formula
    "identity": lambda x: x,
    "binary_step": lambda x: 1.0 if x >= 0 else 0.0,
    "sigmoid": _sigmoid,
    "hard_sigmoid": lambda x: min(max(x + 3.0, 0.0), 6.0) / 6.0,
    "tanh": math.tanh,
    "hard_tanh": lambda x: min(max(x, -1.0), 1.0),
    "relu": lambda x: max(x, 0.0),
    "relu6": lambda x: min(max(x, 0.0), 6.0),
    "leaky_relu": lambda x: x if x > 0 else 0.01 * x,
    "elu": lambda x: x if x > 0 else math.expm1(x),
    "selu": lambda x: SELU_SCALE * (x if x > 0 else SELU_ALPHA * math.expm1(x)),
    "celu": lambda x: max(0.0, x) + min(0.0, math.expm1(x)),
    "gelu": lambda x: 0.5 * x * (1.0 + math.erf(x / math.sqrt(2.0))),
    "gelu_tanh": lambda x: 0.5 * x * (1.0 + math.tanh(math.sqrt(2.0 / math.pi)
                                                      * (x + 0.044715 * x ** 3))),
    "silu": lambda x: x * _sigmoid(x),
    "hard_swish": lambda x: x * min(max(x + 3.0, 0.0), 6.0) / 6.0,
    "mish": lambda x: x * math.tanh(_softplus(x)),
    "softplus": _softplus,
    "softsign": lambda x: x / (1.0 + abs(x)),
    "log_sigmoid": lambda x: -_softplus(-x),
    "tanhshrink": lambda x: x - math.tanh(x),
    "softshrink": lambda x: x - 0.5 if x > 0.5 else (x + 0.5 if x < -0.5 else 0.0),
    "hardshrink": lambda x: x if abs(x) > 0.5 else 0.0,
    "gaussian": lambda x: math.exp(-x * x),
    "arctan": math.atan,
    "squareplus": lambda x: (x + math.sqrt(x * x + 4.0)) / 2.0,
    "bent_identity": lambda x: (math.sqrt(x * x + 1.0) - 1.0) / 2.0 + x,
}


def test_every_elementwise_builtin_has_a_reference():
    elementwise = {n for n in BUILTIN_NAMES if activations.get(n).elementwise}
    assert elementwise == set(REFERENCE)
    assert {n for n in BUILTIN_NAMES if not activations.get(n).elementwise} == ROWWISE


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_forward_matches_the_formula(name):
    z = np.concatenate([np.linspace(-7, 7, 281), [-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0]])
    expected = np.array([REFERENCE[name](float(v)) for v in z])
    np.testing.assert_allclose(activations.get(name).forward(z), expected, rtol=1e-12,
                               atol=1e-14)


def test_some_values_by_hand():
    get = activations.get
    assert get("sigmoid").forward(0.0) == 0.5
    assert get("sigmoid").forward(-1e4) == 0.0 and get("sigmoid").forward(1e4) == 1.0
    assert get("hard_sigmoid").forward(0.0) == 0.5
    assert get("relu6").forward(7.0) == 6.0
    assert get("leaky_relu").forward(-1.0) == pytest.approx(-0.01)
    assert get("gaussian").forward(1.0) == pytest.approx(math.exp(-1.0), rel=1e-15)
    assert get("selu").forward(1.0) == pytest.approx(SELU_SCALE, rel=1e-15)
    assert get("selu").forward(-1e4) == pytest.approx(-SELU_SCALE * SELU_ALPHA, rel=1e-15)
    assert get("softplus").forward(1e4) == 1e4
    assert get("log_sigmoid").forward(-1e4) == -1e4
    assert get("gelu").forward(-40.0) == 0.0 and get("gelu").forward(40.0) == 40.0
    # GELU deep in the negative tail keeps its relative accuracy (erfc, not 1 + erf).
    x = -10.0
    assert get("gelu").forward(x) == pytest.approx(x * 0.5 * math.erfc(-x / math.sqrt(2)),
                                                   rel=1e-13)
    # gelu'(z) = Phi(z) + z phi(z)
    for v in (-2.5, -0.3, 0.0, 0.7, 2.0):
        phi_cdf = 0.5 * (1.0 + math.erf(v / math.sqrt(2.0)))
        density = math.exp(-v * v / 2.0) / math.sqrt(2.0 * math.pi)
        assert get("gelu").derivative(v) == pytest.approx(phi_cdf + v * density, rel=1e-14)
    np.testing.assert_array_equal(get("binary_step").forward([-1e-9, 0.0, 2.0]), [0.0, 1.0, 1.0])


def test_softmax_family_values():
    rng = np.random.default_rng(5)
    z = rng.normal(scale=3.0, size=(4, 6))
    naive = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    p = activations.get("softmax").forward(z)
    np.testing.assert_allclose(p, naive, rtol=1e-13)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(activations.get("log_softmax").forward(z), np.log(naive),
                               rtol=1e-12)
    np.testing.assert_allclose(activations.get("softmin").forward(z),
                               activations.get("softmax").forward(-z), rtol=1e-15)
    # Shift invariance, even for huge logits that would overflow a naive softmax.
    np.testing.assert_allclose(activations.get("softmax").forward(z + 1e4), p, rtol=1e-9)
    big = activations.get("softmax").forward(np.array([[1e4, 0.0, -1e4]], dtype=np.float32))
    np.testing.assert_array_equal(big, [[1.0, 0.0, 0.0]])


def test_subgradients_at_kinks():
    get = activations.get

    def d(name, z):
        return float(get(name).derivative(np.float64(z)))

    assert d("relu", 0.0) == 0.0
    assert d("leaky_relu", 0.0) == 0.01
    assert d("relu6", 0.0) == 0.0 and d("relu6", 6.0) == 0.0
    assert d("hard_tanh", -1.0) == 0.0 and d("hard_tanh", 1.0) == 0.0
    assert d("hard_sigmoid", -3.0) == 0.0 and d("hard_sigmoid", 3.0) == 0.0
    assert d("hard_swish", -3.0) == -0.5 and d("hard_swish", 3.0) == 1.5
    assert d("softshrink", 0.5) == 0.0 and d("hardshrink", -0.5) == 0.0
    assert d("elu", 0.0) == 1.0 and ELU(alpha=0.3).derivative(0.0) == pytest.approx(0.3)
    assert d("binary_step", 0.0) == 0.0 and d("binary_step", 5.0) == 0.0


def test_erf_against_math():
    x = np.concatenate([np.linspace(-7, 7, 40001), np.geomspace(1e-300, 30, 2000),
                        -np.geomspace(1e-300, 30, 2000), [0.0, 0.46875, 4.0, -4.0, 1e4, -1e4]])
    expected = np.array([math.erf(v) for v in x])
    got = activations.erf(x)
    nonzero = expected != 0
    assert np.max(np.abs(got[nonzero] - expected[nonzero]) / np.abs(expected[nonzero])) < 1e-14
    assert np.all(got[~nonzero] == 0.0)
    # erfc keeps relative accuracy in the right tail, down to its flush threshold
    y = np.concatenate([np.linspace(-6, 18, 20001), [0.46875, 4.0]])
    expected = np.array([math.erfc(v) for v in y])
    assert np.max(np.abs(activations.erfc(y) - expected) / expected) < 1e-13
    assert activations.erfc(np.array(40.0)) == 0.0 and activations.erfc(np.array(-40.0)) == 2.0
    # float32 in, float32 out, to float32 precision
    x32 = np.linspace(-6, 6, 1001, dtype=np.float32)
    got32 = activations.erf(x32)
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, [math.erf(float(v)) for v in x32], rtol=3e-7, atol=1e-7)


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------

def test_get_by_name_alias_instance_none_and_config():
    assert activations.get("relu").name == "relu"
    assert activations.get("  ReLU ").name == "relu"
    assert activations.get("Leaky-ReLU").name == "leaky_relu"
    assert activations.get("swish").name == "silu"
    assert activations.get("linear").name == "identity"
    assert activations.get(None).name == "identity"
    act = LeakyReLU(alpha=0.3)
    assert activations.get(act) is act
    built = activations.get({"name": "leaky_relu", "alpha": 0.3})
    assert isinstance(built, LeakyReLU) and built.alpha == 0.3
    assert activations.get({"name": "gelu", "approximate": "tanh"}).approximate == "tanh"
    assert activations.get("gelu_tanh").approximate == "tanh"


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_config_round_trip(name):
    act = activations.get(name)
    config = act.get_config()
    assert config["name"] == name
    assert json.loads(json.dumps(config)) == config
    again = activations.get(config)
    assert again == act and type(again) is type(act)
    assert repr(act).startswith(type(act).__name__ + "(")
    z = gradcheck_points()[0]
    np.testing.assert_array_equal(again.forward(z), act.forward(z))


def test_config_round_trip_keeps_hyperparameters():
    for act in (LeakyReLU(alpha=0.2), ELU(alpha=0.5), CELU(alpha=2.0), Softplus(beta=2.0),
                Softshrink(lambd=1.0), Hardshrink(lambd=0.1), GELU("tanh"), Squareplus(b=1.0)):
        assert activations.get(json.loads(json.dumps(act.get_config()))) == act
    assert LeakyReLU(alpha=0.2) != LeakyReLU(alpha=0.3)
    assert repr(LeakyReLU(alpha=0.2)) == "LeakyReLU(alpha=0.2)"
    assert SELU().get_config() == {"name": "selu"}


def test_unknown_name_lists_known_names_and_says_what_came_in():
    with pytest.raises(ConfigError) as info:
        activations.get("relu9")
    message = str(info.value)
    assert "'relu9'" in message
    for name in BUILTIN_NAMES:
        assert name in message
    with pytest.raises(ConfigError, match="nope"):
        activations.get({"name": "nope"})


@pytest.mark.parametrize("bad", [3, 1.5, ["relu"], np.tanh, activations.ReLU, b"relu"])
def test_other_identifiers_raise_config_error(bad):
    with pytest.raises(ConfigError) as info:
        activations.get(bad)
    assert type(bad).__name__ in str(info.value)
    assert "relu" in str(info.value)


def test_bad_configs_and_hyperparameters():
    with pytest.raises(ConfigError, match="alpha"):
        activations.get({"name": "leaky_relu", "beta": 1.0})
    with pytest.raises(ConfigError, match="no hyperparameters"):
        activations.get({"name": "relu", "alpha": 1.0})
    with pytest.raises(ConfigError, match="name"):
        activations.get({"alpha": 1.0})
    for make in (lambda: LeakyReLU(alpha="big"), lambda: ELU(alpha=float("nan")),
                 lambda: CELU(alpha=0.0), lambda: Softshrink(lambd=-1.0),
                 lambda: Softplus(beta=0), lambda: GELU(approximate="fast"),
                 lambda: Squareplus(b=-4.0), lambda: LeakyReLU(alpha=True)):
        with pytest.raises(ConfigError):
            make()


@pytest.mark.parametrize("make, message", [
    (lambda: LeakyReLU(alpha="0.2"),
     "LeakyReLU alpha must be a number in [-1000, 1000], got '0.2' (str)"),
    (lambda: activations.get({"name": "softplus", "beta": "2"}),
     "Softplus beta must be a number in [0.001, 1000], got '2' (str)"),
    (lambda: GELU(approximate=1), "GELU approximate must be one of 'none', 'tanh', got 1"),
], ids=["leaky_relu", "softplus-config", "gelu"])
def test_a_number_given_as_a_string_is_refused(make, message):
    with pytest.raises(ConfigError) as info:
        make()
    assert str(info.value) == message


# every hyperparameter that scales or divides the input, with the range it is kept in
BOUNDS = [("leaky_relu", "alpha", -1e3, 1e3), ("elu", "alpha", -1e3, 1e3),
          ("celu", "alpha", 1e-3, 1e3), ("softplus", "beta", 1e-3, 1e3),
          ("squareplus", "b", 1e-6, 1e6), ("softshrink", "lambd", 0.0, 1e3),
          ("hardshrink", "lambd", 0.0, 1e3)]


def test_every_numeric_hyperparameter_has_bounds():
    numeric = {(name, key) for name in BUILTIN_NAMES
               for key, value in activations.get(name).get_config().items()
               if isinstance(value, float)}
    assert numeric == {(name, key) for name, key, _, _ in BOUNDS}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name, key, low, high", BOUNDS, ids=[b[0] for b in BOUNDS])
def test_hyperparameters_at_their_bounds_stay_finite_and_warning_free(name, key, low, high, dtype):
    z = extreme_inputs(dtype)
    for value in (low, high):
        act = activations.get({"name": name, key: value})
        with warnings.catch_warnings(), np.errstate(all="raise"):
            warnings.simplefilter("error")
            a = act.forward(z)
            grad_z = act.backward(z, a, np.ones_like(z))
        assert np.all(np.isfinite(a)) and np.all(np.isfinite(grad_z)), (key, value)


@pytest.mark.parametrize("name, key, low, high", BOUNDS, ids=[b[0] for b in BOUNDS])
def test_hyperparameters_beyond_their_bounds_are_refused(name, key, low, high):
    for value in (np.nextafter(low, -np.inf), np.nextafter(high, np.inf), 1e308, -1e308):
        with pytest.raises(ConfigError, match=f"{key} must be a number in"):
            activations.get({"name": name, key: value})


def test_an_alpha_that_would_overflow_the_output_is_refused_at_construction():
    # 1e308 * z overflows for any |z| > 1.8: the network would predict inf and NaN
    with pytest.raises(ConfigError) as info:
        activations.get({"name": "leaky_relu", "alpha": 1e308})
    assert str(info.value) == "LeakyReLU alpha must be a number in [-1000, 1000], got 1e+308"


def test_register_a_user_activation(scratch_registry):
    cube = activations.register("Cube", lambda z: z ** 3, lambda z, a: 3.0 * z ** 2)
    assert cube.name == "cube" and "cube" in activations.names()
    assert activations.get("cube") is cube
    assert cube.get_config() == {"name": "cube"}
    assert activations.get({"name": "cube"}) is cube
    z = np.array([[1.0, -2.0]], dtype=np.float32)
    np.testing.assert_array_equal(cube.forward(z), [[1.0, -8.0]])
    np.testing.assert_array_equal(cube.backward(z, cube.forward(z), np.ones_like(z)),
                                  [[3.0, 12.0]])
    # a function that widens float32 does not widen the result
    wide = activations.register("wide", lambda z: z * np.float64(2.0),
                                lambda z, a: np.full(z.shape, 2.0))
    assert wide.forward(z).dtype == np.float32
    assert wide.backward(z, wide.forward(z), np.ones_like(z)).dtype == np.float32
    check_activation("cube", gradcheck_points()[0])


def test_register_errors_and_overwrite(scratch_registry):
    activations.register("cube", lambda z: z ** 3, lambda z, a: 3.0 * z ** 2)
    with pytest.raises(ConfigError, match="already registered"):
        activations.register("cube", lambda z: z, lambda z, a: np.ones_like(z))
    with pytest.raises(ConfigError, match="already registered"):
        activations.register("relu", lambda z: z, lambda z, a: np.ones_like(z))
    with pytest.raises(ConfigError, match="alias"):
        activations.register("swish", lambda z: z, lambda z, a: np.ones_like(z))
    replaced = activations.register("cube", lambda z: z, lambda z, a: np.ones_like(z),
                                    overwrite=True)
    assert activations.get("cube") is replaced
    with pytest.raises(ConfigError):
        activations.register("9lives", lambda z: z, lambda z, a: z)
    with pytest.raises(ConfigError):
        activations.register(None, lambda z: z, lambda z, a: z)
    with pytest.raises(ConfigError, match="two functions"):
        activations.register("fine", "z**2", lambda z, a: z)
    with pytest.raises(ShapeError, match="elementwise"):
        activations.register("summing", lambda z: z.sum(), lambda z, a: z).forward(np.ones(3))


def test_row_kernels_match_numpy_in_every_layout():
    from nnscratch.activations.kernels import pick_last, row_max, row_sum
    rng = np.random.default_rng(0)
    base = rng.standard_normal((4, 5, 7))
    for a in (base, base.transpose(1, 0, 2), base[:, ::2], base.reshape(20, 7)):
        index = rng.integers(0, a.shape[-1], a.shape[:-1])
        np.testing.assert_array_equal(pick_last(a, index),
                                      np.take_along_axis(a, index[..., None], axis=-1)[..., 0])
        np.testing.assert_array_equal(row_max(a), a.max(axis=-1, keepdims=True))
        np.testing.assert_allclose(row_sum(a), a.sum(axis=-1, keepdims=True), rtol=1e-13)
    assert np.isnan(row_max(np.array([[1.0, np.nan, 3.0]]))).all()
