import json
import math
import warnings

import numpy as np
import pytest

from nnscratch import losses
from nnscratch.errors import ConfigError, DataError, GradientCheckError, ShapeError
from nnscratch.gradcheck import check_loss, numerical_gradient, relative_error

BUILTIN_NAMES = losses.names()

# ---------------------------------------------------------------------------------------------
# Valid data for each loss, away from kinks and clipping edges (so central differences hold).
# Every maker takes a shape (N, ..., k) and a seeded generator and returns (y_pred, y_true).
# ---------------------------------------------------------------------------------------------


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _one_hot(shape, rng):
    labels = rng.integers(0, shape[-1], size=shape[:-1])
    return np.eye(shape[-1])[labels], labels


def _regression(shape, rng, low=0.1, high=0.8):
    """Errors with |p - y| in [low, high] or [1.2, 2.0]: no kink of mae, huber or pinball."""
    y = rng.normal(size=shape)
    size = np.where(rng.random(shape) < 0.5, rng.uniform(low, high, shape), rng.uniform(1.2, 2.0, shape))
    return y + rng.choice([-1.0, 1.0], shape) * size, y


def _mape(shape, rng):
    y = rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)
    return y + rng.choice([-1.0, 1.0], shape) * rng.uniform(0.1, 0.4, shape), y


def _binary(shape, rng):
    return rng.uniform(0.05, 0.95, shape), rng.integers(0, 2, shape).astype(float)


def _binary_soft(shape, rng):
    return rng.uniform(0.05, 0.95, shape), rng.uniform(0.0, 1.0, shape)


def _categorical(shape, rng):
    return _softmax(rng.normal(size=shape)), _one_hot(shape, rng)[0]


def _sparse(shape, rng):
    return _softmax(rng.normal(size=shape)), _one_hot(shape, rng)[1]


def _signed(shape, rng):
    """Margins 1 - y p in {1.5, 0.7, 0.4, -0.5, -1}: both sides of the hinge, none at it."""
    y = rng.choice([-1.0, 1.0], shape)
    return y * rng.choice([-0.5, 0.3, 0.6, 1.5, 2.0], shape), y


def _categorical_hinge(shape, rng):
    while True:
        p, y = rng.normal(scale=2.0, size=shape), _one_hot(shape, rng)[0]
        wrong = np.sort((1 - y) * p, axis=-1)
        margin = wrong[..., -1] - np.sum(y * p, axis=-1) + 1
        if np.all(np.abs(margin) > 0.1) and np.all(wrong[..., -1] - wrong[..., -2] > 0.1):
            return p, y


def _kl(shape, rng):
    return _softmax(rng.normal(size=shape)), _softmax(rng.normal(size=shape))


DATA = {
    "sse": _regression,
    "mse": _regression,
    "mae": _regression,
    "rmse": _regression,
    "huber": _regression,
    "smooth_l1": _regression,
    "log_cosh": _regression,
    "pinball": _regression,
    "mape": _mape,
    "msle": lambda shape, rng: (rng.uniform(-0.5, 3.0, shape), rng.uniform(0.0, 3.0, shape)),
    "poisson": lambda shape, rng: (rng.uniform(0.2, 3.0, shape), rng.poisson(2.0, shape).astype(float)),
    "cosine_similarity": lambda shape, rng: (rng.normal(size=shape), rng.normal(size=shape)),
    "binary_crossentropy": _binary_soft,
    "binary_focal_crossentropy": _binary_soft,
    "categorical_crossentropy": _categorical,
    "categorical_focal_crossentropy": _categorical,
    "sparse_categorical_crossentropy": _sparse,
    "kl_divergence": _kl,
    "hinge": _signed,
    "squared_hinge": _signed,
    "categorical_hinge": _categorical_hinge,
    "dice": _binary,
    "tversky": _binary,
}

# configurations beyond the defaults: from-logits twins and other hyperparameters
VARIANTS = [
    {"name": "binary_crossentropy", "from_logits": True},
    {"name": "categorical_crossentropy", "from_logits": True},
    {"name": "sparse_categorical_crossentropy", "from_logits": True},
    {"name": "binary_focal_crossentropy", "from_logits": True},
    {"name": "binary_focal_crossentropy", "gamma": 0.5, "alpha": 0.25},
    {"name": "binary_focal_crossentropy", "gamma": 3.0, "alpha": 0.75, "from_logits": True},
    {"name": "categorical_focal_crossentropy", "from_logits": True},
    {"name": "categorical_focal_crossentropy", "gamma": 0.5, "alpha": 0.25},
    {"name": "categorical_focal_crossentropy", "gamma": 3.0, "alpha": 0.5, "from_logits": True},
    {"name": "huber", "delta": 0.5},
    {"name": "smooth_l1", "beta": 0.5},
    {"name": "pinball", "tau": 0.9},
    {"name": "tversky", "alpha": 0.7, "beta": 0.3},
]
CONFIGS = [{"name": name} for name in BUILTIN_NAMES] + VARIANTS


def _config_id(config):
    return "-".join(f"{v}" if k == "name" else f"{k}={v}" for k, v in config.items())


def make_data(config, shape, seed=0):
    """Valid (y_pred, y_true) for a loss config; logits where the loss takes logits."""
    rng = np.random.default_rng(seed)
    y_pred, y_true = DATA[config["name"]](shape, rng)
    if config.get("from_logits"):
        y_pred = rng.normal(scale=2.0, size=shape)
    return y_pred, y_true


def test_at_least_22_builtin_losses_each_with_test_data():
    assert len(BUILTIN_NAMES) >= 22
    assert set(BUILTIN_NAMES) == set(DATA), "every registered loss needs valid data in DATA"


# ---------------------------------------------------------------------------------------------
# Gradient checks
# ---------------------------------------------------------------------------------------------


GRADCHECK_CASES = [(config, shape) for config in CONFIGS
                   for shape in [(5, 3), (3, 2, 4), (6,)]
                   if len(shape) > 1 or not losses.get(config).sparse_labels]  # labels need a class axis


@pytest.mark.parametrize("config, shape", GRADCHECK_CASES,
                         ids=[f"{_config_id(c)}-{len(s)}d" for c, s in GRADCHECK_CASES])
def test_gradient_matches_finite_differences(config, shape):
    loss = losses.get(config)
    y_pred, y_true = make_data(config, shape)
    errors = check_loss(loss, y_pred, y_true)
    assert errors["y_pred"] < 1e-6


@pytest.mark.parametrize("config", CONFIGS, ids=_config_id)
def test_weighted_gradient_matches_finite_differences(config):
    loss = losses.get(config)
    y_pred, y_true = make_data(config, (5, 3), seed=1)
    weights = np.array([0.5, 2.0, 0.0, 1.0, 3.0])
    analytic = loss.gradient(y_pred, y_true, sample_weight=weights)
    numeric = numerical_gradient(lambda: loss.value(y_pred, y_true, sample_weight=weights), y_pred)
    assert relative_error(analytic, numeric) < 1e-6


def test_per_sample_gradient_rows_are_derivatives_of_per_sample_losses():
    loss = losses.get("huber")
    y_pred, y_true = make_data({"name": "huber"}, (4, 3))
    rows = loss.per_sample_gradient(y_pred, y_true)
    for i in range(4):
        numeric = numerical_gradient(lambda i=i: loss.per_sample(y_pred, y_true)[i], y_pred)
        assert relative_error(rows[i], numeric[i]) < 1e-6
        assert np.all(np.delete(numeric, i, axis=0) == 0)


@pytest.fixture
def scratch_registry(monkeypatch):
    """Let a test register losses without leaving them behind."""
    monkeypatch.setattr(losses.REGISTRY, "added", dict(losses.REGISTRY.added))
    monkeypatch.setattr(losses.REGISTRY, "aliases", dict(losses.REGISTRY.aliases))


def test_a_wrong_user_gradient_is_caught(scratch_registry):
    def value(p, y):
        return np.mean((p - y) ** 2, axis=1)

    def right(p, y):
        return 2 * (p - y) / p.shape[1]

    def wrong(p, y):  # the factor 2 forgotten
        return (p - y) / p.shape[1]

    y_pred, y_true = make_data({"name": "mse"}, (4, 3))
    losses.register("my_mse", value, right)
    check_loss("my_mse", y_pred, y_true)
    assert losses.get("my_mse").value(y_pred, y_true) == pytest.approx(
        losses.get("mse").value(y_pred, y_true))
    losses.register("my_bad_mse", value, wrong)
    with pytest.raises(GradientCheckError, match="my_bad_mse"):
        check_loss("my_bad_mse", y_pred, y_true)


def test_register_rules(scratch_registry):
    def value(p, y):
        return np.sum(np.abs(p - y), axis=1)

    def grad(p, y):
        return np.sign(p - y)

    loss = losses.register("My-L1", value, grad)
    assert loss.name == "my_l1" and "my_l1" in losses.names()
    assert loss.get_config() == {"name": "my_l1"}
    assert losses.get({"name": "my_l1"}).value([[1.0, 2.0]], [[0.0, 0.0]]) == 3.0
    with pytest.raises(ConfigError, match="already registered"):
        losses.register("my_l1", value, grad)
    with pytest.raises(ConfigError, match="already registered"):
        losses.register("mse", value, grad)
    with pytest.raises(ConfigError, match="already registered"):
        losses.register("mean_squared_error", value, grad)  # an alias is taken too
    losses.register("mse", value, grad, overwrite=True)
    assert losses.get("mse").value([[1.0, 2.0]], [[0.0, 0.0]]) == 3.0
    with pytest.raises(ConfigError, match="callable"):
        losses.register("other", value, "not a function")
    bad = losses.register("bad_shape", lambda p, y: np.sum(p), grad)
    with pytest.raises(ShapeError, match=r"one loss per sample, shape \(2,\), got \(\)"):
        bad.value(np.ones((2, 3)), np.ones((2, 3)))


# ---------------------------------------------------------------------------------------------
# Extreme inputs: finite, silent, dtype preserved
# ---------------------------------------------------------------------------------------------

_EDGES = [-1e4, -1e3, -88.0, -30.0, -1.0, -1e-3, 0.0, 1e-30, 1e-8, 1e-7, 0.5, 1 - 1e-7, 1.0,
          1 + 1e-6, 30.0, 88.0, 1e3, 1e4]


def _extreme_predictions(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    values = np.concatenate([_EDGES, rng.uniform(-1e4, 1e4, n), rng.uniform(-3, 3, n)])
    return rng.permutation(values)[:n].reshape(shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("config", CONFIGS, ids=_config_id)
def test_extreme_predictions_are_finite_and_silent(config, dtype, no_warnings):
    loss = losses.get(config)
    shape = (8, 3)
    _, y_true = make_data(config, shape)
    if y_true.dtype.kind == "f":
        y_true = y_true.astype(dtype)
    candidates = [_extreme_predictions(shape, dtype, seed) for seed in range(6)]
    candidates.append(np.zeros(shape, dtype))
    candidates.append(np.full(shape, 1.0, dtype))
    if not loss.sparse_labels:
        candidates.append(y_true.astype(dtype))  # a perfect prediction: rmse and mae at 0
    weights = np.linspace(0.0, 2.0, shape[0]).astype(dtype)
    for y_pred in candidates:
        for sample_weight in (None, weights):
            value = loss.value(y_pred, y_true, sample_weight)
            grad = loss.gradient(y_pred, y_true, sample_weight)
            assert isinstance(value, float) and math.isfinite(value)
            assert grad.dtype == dtype and grad.shape == shape
            assert np.all(np.isfinite(grad))
        per_sample = loss.per_sample(y_pred, y_true)
        assert per_sample.dtype == dtype and per_sample.shape == (shape[0],)


@pytest.mark.parametrize("name", ["binary_crossentropy", "categorical_crossentropy",
                                  "sparse_categorical_crossentropy", "binary_focal_crossentropy",
                                  "categorical_focal_crossentropy", "kl_divergence"])
def test_probabilities_exactly_0_and_1_are_clipped_with_zero_gradient(name, no_warnings):
    loss = losses.get(name)
    y_pred = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    y_true = np.array([0, 1]) if loss.sparse_labels else np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    value = loss.value(y_pred, y_true)
    assert math.isfinite(value) and value > 10  # confidently wrong: about -log(1e-7) = 16.1
    grad = loss.gradient(y_pred, y_true)
    if name != "kl_divergence":  # kl clips to [eps, 1]: 1 is inside
        np.testing.assert_array_equal(grad, 0.0)
    clipped = np.clip(y_pred, 1e-7, 1 - 1e-7)
    assert loss.value(clipped, y_true) == pytest.approx(value)


def test_float32_stays_float32_for_ints_and_python_lists():
    y = np.array([[0.0, 1.0]], np.float32)
    grad = losses.get("huber").gradient(y, [[1, 1]])
    assert grad.dtype == np.float32
    assert losses.get("mse").gradient([[1, 2]], [[0, 0]]).dtype == np.float64


# ---------------------------------------------------------------------------------------------
# Known values
# ---------------------------------------------------------------------------------------------

XOR_Y = np.array([[0.0], [1.0], [1.0], [0.0]])


def test_sse_of_the_xor_case():
    sse = losses.get("sse")
    assert sse.reduction == "sum"
    assert sse.value(np.full((4, 1), 0.5), XOR_Y) == pytest.approx(1.0)
    y_pred = np.array([[0.1], [0.9], [0.8], [0.3]])
    assert sse.value(y_pred, XOR_Y) == pytest.approx(0.01 + 0.01 + 0.04 + 0.09)
    np.testing.assert_allclose(sse.gradient(y_pred, XOR_Y), 2 * (y_pred - XOR_Y))
    np.testing.assert_allclose(sse.per_sample(y_pred, XOR_Y), [0.01, 0.01, 0.04, 0.09])


def test_mse_mae_rmse_by_hand():
    y_pred = np.array([[1.0, 2.0], [3.0, 5.0]])
    y_true = np.array([[0.0, 2.0], [1.0, 1.0]])
    assert losses.get("mse").value(y_pred, y_true) == pytest.approx((1 + 0 + 4 + 16) / 4)
    assert losses.get("mae").value(y_pred, y_true) == pytest.approx((1 + 0 + 2 + 4) / 4)
    assert losses.get("rmse").value(y_pred, y_true) == pytest.approx(math.sqrt(21 / 4))
    # rmse is the root of the batch mean, not the mean of per-sample roots
    np.testing.assert_allclose(losses.get("rmse").per_sample(y_pred, y_true), [math.sqrt(0.5), math.sqrt(10)])
    assert losses.get("rmse").value(y_pred, y_true) != pytest.approx((math.sqrt(0.5) + math.sqrt(10)) / 2)


def test_rmse_at_a_perfect_fit_is_zero_with_zero_gradient(no_warnings):
    y = np.array([[1.0, 2.0], [3.0, 4.0]])
    rmse = losses.get("rmse")
    assert rmse.value(y, y) == 0.0
    np.testing.assert_array_equal(rmse.gradient(y, y), 0.0)
    np.testing.assert_array_equal(rmse.per_sample_gradient(y, y), 0.0)


def test_mae_and_pinball_take_subgradient_zero_at_equality():
    y = np.array([[1.0, 2.0]])
    np.testing.assert_array_equal(losses.get("mae").gradient(y, y), 0.0)
    np.testing.assert_array_equal(losses.get("pinball").gradient(y, y), 0.0)


@pytest.mark.parametrize("k", [2, 3, 10])
def test_crossentropy_of_a_uniform_prediction_is_log_k(k):
    y_true = np.eye(k)[[0, k - 1, 1]]
    uniform = np.full((3, k), 1.0 / k)
    assert losses.get("categorical_crossentropy").value(uniform, y_true) == pytest.approx(math.log(k))
    sparse = losses.get("sparse_categorical_crossentropy")
    assert sparse.value(uniform, [0, k - 1, 1]) == pytest.approx(math.log(k))
    logits = losses.get({"name": "categorical_crossentropy", "from_logits": True})
    assert logits.value(np.full((3, k), 7.5), y_true) == pytest.approx(math.log(k))
    binary = losses.get("binary_crossentropy")
    assert binary.value(np.full((3, 2), 0.5), np.eye(2)[[0, 1, 1]]) == pytest.approx(math.log(2))


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


@pytest.mark.parametrize("name, activation", [
    ("binary_crossentropy", _sigmoid),
    ("binary_focal_crossentropy", _sigmoid),
    ("categorical_crossentropy", _softmax),
    ("sparse_categorical_crossentropy", _softmax),
    ("categorical_focal_crossentropy", _softmax),
])
def test_from_logits_equals_the_probability_version(name, activation):
    _, y_true = make_data({"name": name}, (6, 4), seed=3)
    logits = np.random.default_rng(3).normal(scale=2.0, size=(6, 4))
    on_probabilities = losses.get(name)
    on_logits = on_probabilities.with_logits()
    assert on_logits.from_logits and on_logits.fused_activation is None
    assert on_probabilities.fused_activation in ("sigmoid", "softmax")
    assert on_logits.value(logits, y_true) == pytest.approx(
        on_probabilities.value(activation(logits), y_true), rel=1e-9)


def test_fused_gradients_are_p_minus_y():
    logits = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]])
    y = np.eye(3)[[0, 2]]
    cce = losses.get({"name": "categorical_crossentropy", "from_logits": True})
    np.testing.assert_allclose(cce.gradient(logits, y), (_softmax(logits) - y) / 2)
    scce = losses.get({"name": "sparse_categorical_crossentropy", "from_logits": True})
    np.testing.assert_allclose(scce.gradient(logits, [0, 2]), (_softmax(logits) - y) / 2)
    bce = losses.get({"name": "binary_crossentropy", "from_logits": True})
    np.testing.assert_allclose(bce.gradient(logits, y), (_sigmoid(logits) - y) / 6)


def test_sparse_equals_categorical_with_one_hot():
    y_pred, labels = make_data({"name": "sparse_categorical_crossentropy"}, (5, 2, 4))
    one_hot = np.eye(4)[labels]
    for from_logits in (False, True):
        sparse = losses.SparseCategoricalCrossentropy(from_logits=from_logits)
        dense = losses.CategoricalCrossentropy(from_logits=from_logits)
        assert sparse.value(y_pred, labels) == pytest.approx(dense.value(y_pred, one_hot))
        np.testing.assert_allclose(sparse.gradient(y_pred, labels), dense.gradient(y_pred, one_hot))
    # labels as a column and as integral floats
    p2, l2 = make_data({"name": "sparse_categorical_crossentropy"}, (5, 4))
    sparse = losses.get("sparse_categorical_crossentropy")
    assert sparse.value(p2, l2[:, None]) == sparse.value(p2, l2.astype(float)) == sparse.value(p2, l2)


def test_huber_is_half_mse_inside_delta_and_smooth_l1_is_huber_over_beta():
    y_pred = np.array([[0.2, -0.5], [0.9, 0.0]])
    y_true = np.zeros((2, 2))
    huber, mse = losses.get("huber"), losses.get("mse")
    assert huber.value(y_pred, y_true) == pytest.approx(mse.value(y_pred, y_true) / 2)
    np.testing.assert_allclose(huber.gradient(y_pred, y_true), mse.gradient(y_pred, y_true) / 2)
    # beyond delta it is linear: delta * (|x| - delta / 2)
    assert losses.Huber(delta=1.0).value([[3.0]], [[0.0]]) == pytest.approx(2.5)
    wide, _ = _regression((4, 3), np.random.default_rng(0))
    for beta in (0.5, 2.0):
        assert losses.SmoothL1(beta=beta).value(wide, 0 * wide) == pytest.approx(
            losses.Huber(delta=beta).value(wide, 0 * wide) / beta)


def test_other_known_values():
    x = np.array([[-3.0, 0.5, 20.0]])
    assert losses.get("log_cosh").value(x, 0 * x) == pytest.approx(np.mean(np.log(np.cosh(x))))
    assert losses.get("mape").value([[110.0, 180.0]], [[100.0, 200.0]]) == pytest.approx(10.0)
    assert losses.get("msle").value([[math.e - 1]], [[0.0]]) == pytest.approx(1.0)
    assert losses.get("poisson").value([[2.0]], [[3.0]]) == pytest.approx(2 - 3 * math.log(2 + 1e-7))
    assert losses.get("cosine_similarity").value([[1.0, 2.0]], [[2.0, 4.0]]) == pytest.approx(-1.0)
    assert losses.get("cosine_similarity").value([[1.0, 0.0]], [[0.0, 3.0]]) == pytest.approx(0.0)
    dist = np.array([[0.2, 0.3, 0.5]])
    assert losses.get("kl_divergence").value(dist, dist) == pytest.approx(0.0, abs=1e-12)
    assert losses.get("pinball").value([[0.0, 0.0]], [[1.0, -1.0]]) == pytest.approx(0.5)
    assert losses.Pinball(tau=0.9).value([[0.0, 0.0]], [[1.0, -1.0]]) == pytest.approx(0.5)
    assert losses.Pinball(tau=0.9).value([[0.0]], [[1.0]]) == pytest.approx(0.9)
    # categorical hinge: best wrong score 2, true score 0.5
    assert losses.get("categorical_hinge").value([[0.5, 2.0, 1.0]], [[1.0, 0.0, 0.0]]) == pytest.approx(2.5)


def test_hinge_accepts_0_1_labels_like_minus_1_1():
    y_pred = np.array([[0.3, -2.0], [1.5, 0.2]])
    signed = np.array([[1.0, -1.0], [-1.0, 1.0]])
    for name in ("hinge", "squared_hinge"):
        loss = losses.get(name)
        assert loss.value(y_pred, (signed + 1) / 2) == loss.value(y_pred, signed)
        np.testing.assert_array_equal(loss.gradient(y_pred, (signed + 1) / 2), loss.gradient(y_pred, signed))
    assert losses.get("hinge").value(y_pred, signed) == pytest.approx((0.7 + 0 + 2.5 + 0.8) / 4)


def test_focal_reduces_to_crossentropy_at_gamma_0():
    y_pred, y_true = make_data({"name": "binary_crossentropy"}, (5, 3))
    focal = losses.BinaryFocalCrossentropy(gamma=0.0)
    bce = losses.get("binary_crossentropy")
    assert focal.value(y_pred, y_true) == pytest.approx(bce.value(y_pred, y_true))
    np.testing.assert_allclose(focal.gradient(y_pred, y_true), bce.gradient(y_pred, y_true))
    # alpha weighs positives by alpha and negatives by 1 - alpha
    balanced = losses.BinaryFocalCrossentropy(gamma=0.0, alpha=0.25)
    assert balanced.value([[0.3]], [[1.0]]) == pytest.approx(0.25 * bce.value([[0.3]], [[1.0]]))
    assert balanced.value([[0.3]], [[0.0]]) == pytest.approx(0.75 * bce.value([[0.3]], [[0.0]]))
    p, y = make_data({"name": "categorical_crossentropy"}, (5, 3))
    assert losses.CategoricalFocalCrossentropy(gamma=0.0).value(p, y) == pytest.approx(
        losses.get("categorical_crossentropy").value(p, y))
    # the focal factor shrinks easy examples: (1 - 0.9)^2 of the cross-entropy
    assert losses.get("binary_focal_crossentropy").value([[0.9]], [[1.0]]) == pytest.approx(
        0.01 * -math.log(0.9))


def test_tversky_at_one_half_is_dice():
    y_pred, y_true = make_data({"name": "dice"}, (4, 2, 3))
    dice, tversky = losses.get("dice"), losses.get("tversky")
    assert dice.value(y_pred, y_true) == pytest.approx(tversky.value(y_pred, y_true))
    np.testing.assert_allclose(dice.gradient(y_pred, y_true), tversky.gradient(y_pred, y_true))
    assert dice.value([[1.0, 0.0]], [[1.0, 0.0]]) == pytest.approx(0.0, abs=1e-6)


# ---------------------------------------------------------------------------------------------
# Sample weights
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mse", "sse", "categorical_crossentropy",
                                  "sparse_categorical_crossentropy", "huber"])
def test_weight_2_is_the_sample_counted_twice(name):
    loss = losses.get(name)
    y_pred, y_true = make_data({"name": name}, (4, 3))
    weights = np.array([2.0, 1.0, 1.0, 1.0])
    dup_pred = np.concatenate([y_pred, y_pred[:1]])
    dup_true = np.concatenate([y_true, y_true[:1]])
    weighted = loss.value(y_pred, y_true, sample_weight=weights)
    duplicated = loss.value(dup_pred, dup_true)
    grad_w = loss.gradient(y_pred, y_true, sample_weight=weights)
    grad_d = loss.gradient(dup_pred, dup_true)
    grad_d_merged = np.concatenate([grad_d[:1] + grad_d[4:], grad_d[1:4]])
    if loss.reduction == "sum":
        assert weighted == pytest.approx(duplicated)
        np.testing.assert_allclose(grad_w, grad_d_merged)
    else:  # the mean divides by the number of rows, 4 against 5
        assert weighted * 4 == pytest.approx(duplicated * 5)
        np.testing.assert_allclose(grad_w * 4, grad_d_merged * 5)


def test_rmse_weights_act_inside_the_root():
    y_pred, y_true = make_data({"name": "rmse"}, (4, 3))
    weights = np.array([2.0, 1.0, 1.0, 1.0])
    rmse = losses.get("rmse")
    dup = rmse.value(np.concatenate([y_pred, y_pred[:1]]), np.concatenate([y_true, y_true[:1]]))
    assert rmse.value(y_pred, y_true, weights) ** 2 * 4 == pytest.approx(dup ** 2 * 5)


def test_unit_weights_change_nothing_and_weight_shape_is_checked():
    y_pred, y_true = make_data({"name": "mse"}, (4, 3))
    mse = losses.get("mse")
    assert mse.value(y_pred, y_true, np.ones(4)) == pytest.approx(mse.value(y_pred, y_true))
    assert mse.value(y_pred, y_true, np.ones((4, 1))) == pytest.approx(mse.value(y_pred, y_true))
    with pytest.raises(ShapeError, match=r"sample_weight shaped \(4,\).*got \(3,\)"):
        mse.value(y_pred, y_true, np.ones(3))
    with pytest.raises(DataError, match=r"non-negative sample_weight, got -1\.0 at row 1"):
        mse.gradient(y_pred, y_true, np.array([1.0, -1.0, 1.0, 1.0]))


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("labels, got", [
    ([0, 1, 5, 2], "5 at row 2"),
    ([0, -1, 1, 2], "-1 at row 1"),
    ([0.0, 1.5, 1.0, 2.0], "1.5 at row 1"),
    ([0.0, 1.0, 2.0, np.nan], "nan at row 3"),
])
def test_sparse_labels_out_of_range_are_a_data_error(labels, got):
    sparse = losses.get("sparse_categorical_crossentropy")
    y_pred = np.full((4, 3), 1 / 3)
    message = f"sparse_categorical_crossentropy expects integer class labels in [0, 3), got {got}"
    for method in (sparse.value, sparse.gradient):
        with pytest.raises(DataError) as info:
            method(y_pred, np.array(labels))
        assert str(info.value) == message


def test_sparse_labels_shape_and_dtype_are_checked():
    sparse = losses.get("sparse_categorical_crossentropy")
    with pytest.raises(ShapeError, match=r"labels shaped \(4,\) \(or \(4, 1\)\).*got \(4, 3\)"):
        sparse.value(np.full((4, 3), 1 / 3), np.eye(3)[[0, 1, 2, 0]])
    with pytest.raises(DataError, match="dtype"):
        sparse.value(np.full((2, 3), 1 / 3), np.array(["a", "b"]))
    with pytest.raises(ShapeError, match=r"\(N, classes\)"):
        sparse.value(np.full(4, 0.5), np.zeros(4, int))


def test_shape_mismatch_is_a_shape_error():
    with pytest.raises(ShapeError) as info:
        losses.get("mse").value(np.zeros((4, 3)), np.zeros((4, 2)))
    assert str(info.value) == "mse expects y_true shaped like y_pred (4, 3), got (4, 2)"
    assert isinstance(info.value, ValueError)
    with pytest.raises(ShapeError, match=r"like y_pred \(4, 3\), got \(3, 3\)"):
        losses.get("binary_crossentropy").gradient(np.zeros((4, 3)), np.zeros((3, 3)))
    # a column and a vector of single outputs are the same thing
    assert losses.get("mse").value(np.zeros((4, 1)), np.ones(4)) == 1.0
    assert losses.get("mse").gradient(np.zeros(4), np.ones((4, 1))).shape == (4,)
    with pytest.raises(DataError, match="at least one sample"):
        losses.get("mse").value(np.zeros((0, 3)), np.zeros((0, 3)))


def test_unknown_name_lists_the_known_names():
    with pytest.raises(ConfigError) as info:
        losses.get("mean_cubed_error")
    message = str(info.value)
    assert "'mean_cubed_error'" in message
    assert all(name in message for name in BUILTIN_NAMES)
    with pytest.raises(ConfigError, match="known loss names"):
        losses.get(42)
    with pytest.raises(ConfigError, match="'name'"):
        losses.get({"delta": 1.0})


def test_bad_hyperparameters_are_config_errors():
    with pytest.raises(ConfigError, match="delta"):
        losses.Huber(delta=0)
    with pytest.raises(ConfigError, match="alpha"):
        losses.BinaryFocalCrossentropy(alpha=1.5)
    with pytest.raises(ConfigError, match="from_logits"):
        losses.CategoricalCrossentropy(from_logits="yes")
    with pytest.raises(ConfigError, match="takes no hyperparameters; got unexpected 'delta'"):
        losses.get({"name": "mse", "delta": 1.0})


@pytest.mark.parametrize("make", [
    lambda: losses.Huber(delta="2"), lambda: losses.get({"name": "huber", "delta": "2"}),
    lambda: losses.SmoothL1(beta="1"), lambda: losses.Pinball(tau="0.5"),
    lambda: losses.BinaryFocalCrossentropy(gamma="2"), lambda: losses.Tversky(alpha="0.3"),
    lambda: losses.CategoricalFocalCrossentropy(alpha=True),
], ids=["huber", "huber-config", "smooth_l1", "pinball", "focal-gamma", "tversky", "focal-bool"])
def test_numbers_are_never_strings_or_bools(make):
    with pytest.raises(ConfigError, match=r"must be a number .*, got .* \((str|bool)\)$"):
        make()


def test_huber_delta_given_as_a_string_is_refused_like_any_number():
    with pytest.raises(ConfigError) as info:
        losses.Huber(delta="2")
    assert str(info.value) == "huber delta must be a number > 0, got '2' (str)"


@pytest.mark.parametrize("flag", [1, 0, "yes", None])
def test_from_logits_is_only_true_or_false(flag):
    with pytest.raises(ConfigError, match=f"from_logits must be True or False, got {flag!r}"):
        losses.BinaryCrossentropy(from_logits=flag)
    assert losses.BinaryCrossentropy(from_logits=np.bool_(True)).from_logits is True


# ---------------------------------------------------------------------------------------------
# Registry and config
# ---------------------------------------------------------------------------------------------


def test_registry_is_built_from_the_classes():
    for name in BUILTIN_NAMES:
        loss = losses.get(name)
        assert type(loss).name == name == loss.name
        assert name == name.lower() and " " not in name and "-" not in name
        assert loss.reduction in ("mean", "sum")
    assert [n for n in BUILTIN_NAMES if losses.get(n).reduction == "sum"] == ["sse"]
    assert [n for n in BUILTIN_NAMES if losses.get(n).sparse_labels] == ["sparse_categorical_crossentropy"]


@pytest.mark.parametrize("alias, name", [
    ("MSE", "mse"), ("mean_squared_error", "mse"), ("Mean-Absolute-Error", "mae"),
    ("crossentropy", "categorical_crossentropy"), ("categorical_cross_entropy", "categorical_crossentropy"),
    ("binary_cross_entropy", "binary_crossentropy"), ("kld", "kl_divergence"),
    ("logcosh", "log_cosh"), ("sum_squared_error", "sse"), ("focal", "binary_focal_crossentropy"),
    ("quantile", "pinball"), ("root_mean_squared_error", "rmse"),
])
def test_names_are_case_insensitive_with_aliases(alias, name):
    assert losses.get(alias).name == name


@pytest.mark.parametrize("config", CONFIGS, ids=_config_id)
def test_config_round_trips_through_json(config):
    loss = losses.get(config)
    saved = json.loads(json.dumps(loss.get_config()))
    again = losses.get(saved)
    assert type(again) is type(loss) and again.get_config() == loss.get_config()
    assert losses.get(loss) is loss
    assert isinstance(losses.get(type(loss)), type(loss))


def test_with_logits_twins():
    focal = losses.BinaryFocalCrossentropy(gamma=3.0, alpha=0.4)
    twin = focal.with_logits()
    assert twin.get_config() == {"name": "binary_focal_crossentropy", "gamma": 3.0, "alpha": 0.4,
                                 "from_logits": True}
    assert twin.with_logits() is twin
    fused = {name: losses.get(name).fused_activation for name in BUILTIN_NAMES
             if losses.get(name).fused_activation}
    assert fused == {"binary_crossentropy": "sigmoid", "binary_focal_crossentropy": "sigmoid",
                     "categorical_crossentropy": "softmax", "sparse_categorical_crossentropy": "softmax",
                     "categorical_focal_crossentropy": "softmax"}
    for name in fused:
        assert losses.get(name).with_logits().from_logits
    for name in set(BUILTIN_NAMES) - set(fused):
        assert losses.get(name).with_logits() is None


def test_no_warning_escapes_on_ordinary_data():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for config in CONFIGS:
            losses.get(config).value(*make_data(config, (3, 4)))


@pytest.mark.parametrize("shape", [(7, 10), (3, 4, 6), (5, 1)])
def test_log_softmax_kernel_matches_the_definition(shape):
    # the row maximum is read at argmax and the row sums taken as a matrix-vector product
    from nnscratch.losses.kernels import _log_softmax
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) * 30
    log_p, p = _log_softmax(x)
    shifted = x - x.max(axis=-1, keepdims=True)
    expected = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    np.testing.assert_allclose(log_p, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(p, np.exp(expected), rtol=1e-12, atol=1e-300)
    with np.errstate(invalid="ignore"):
        assert np.isnan(_log_softmax(np.array([[0.0, np.nan, 1.0]]))[0]).all()   # NaN spreads
