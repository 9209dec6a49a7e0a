"""checks.py: one behaviour for numbers, whole numbers, flags, choices, seeds, dtypes and shapes;
and the Network/fit arguments that go through it."""

import numpy as np
import pytest

import nnscratch as ns
from nnscratch import checks
from nnscratch.errors import ConfigError


@pytest.mark.parametrize("value", [0.5, 1, np.float32(0.25), np.int64(1), 1e-300])
def test_number_accepts_real_numbers_and_returns_a_float(value):
    out = checks.number(value, "rate", low=0, high=1)
    assert type(out) is float and out == float(value)


@pytest.mark.parametrize("value", ["0.1", True, np.bool_(False), None, [0.1], np.nan, np.inf, 1j])
def test_number_refuses_strings_bools_nan_inf_and_containers(value):
    with pytest.raises(ConfigError, match=r"rate must be a finite number, got"):
        checks.number(value, "rate")


@pytest.mark.parametrize("value, kwargs, wanted", [
    (0.0, dict(low=0, low_open=True), "> 0"),
    (1.0, dict(low=0, high=1, high_open=True), r"in \[0, 1\)"),
    (-1.0, dict(low=0), ">= 0"),
    (2.0, dict(high=1), "<= 1"),
])
def test_number_bounds_are_named_in_the_message(value, kwargs, wanted):
    with pytest.raises(ConfigError, match=wanted):
        checks.number(value, "x", **kwargs)


def test_number_allows_infinity_only_when_asked():
    assert checks.number(np.inf, "x", low=0, allow_inf=True) == np.inf
    with pytest.raises(ConfigError):
        checks.number(np.nan, "x", allow_inf=True)


@pytest.mark.parametrize("value", [3, np.int32(3), np.uint8(3)])
def test_integer_accepts_whole_numbers(value):
    assert checks.positive_int(value, "units") == 3 and type(checks.positive_int(value, "u")) is int


@pytest.mark.parametrize("value", [0, -2, 3.0, "3", True, None, 2.5])
def test_positive_int_refuses_the_rest(value):
    with pytest.raises(ConfigError, match="units must be a positive integer"):
        checks.positive_int(value, "units")


def test_boolean_takes_only_true_and_false():
    assert checks.boolean(np.bool_(True), "flag") is True
    for value in (0, 1, "no", None, 0.5, 2**64):
        with pytest.raises(ConfigError, match="flag must be True or False"):
            checks.boolean(value, "flag")


def test_choice_lists_the_options():
    assert checks.choice("Same", "padding", ("valid", "same"), normalize=str.lower) == "same"
    with pytest.raises(ConfigError, match="'valid', 'same'"):
        checks.choice("full", "padding", ("valid", "same"))
    with pytest.raises(ConfigError):
        checks.choice(None, "padding", ("valid", "same"))


def test_int_tuple_broadcasts_a_single_int_and_checks_each():
    assert checks.int_tuple(3, "kernel_size", 2) == (3, 3)
    assert checks.int_tuple([3, 5], "kernel_size", 2) == (3, 5)
    for bad in ((3,), "3", (3, 0), (3, 2.0)):
        with pytest.raises(ConfigError):
            checks.int_tuple(bad, "kernel_size", 2)


def test_seed_and_dtype_and_shape():
    assert checks.seed(None) is None and checks.seed(np.int64(7)) == 7
    for bad in (-1, "abc", 1.5, True, 2**63):
        with pytest.raises(ConfigError, match="seed must be None or an integer"):
            checks.seed(bad)
    assert checks.float_dtype(np.float64) == np.float64 and checks.float_dtype("float32") == np.float32
    for bad in (None, "int32", int, "float16"):
        with pytest.raises(ConfigError, match="'float32' or 'float64'"):
            checks.float_dtype(bad)
    assert checks.sample_shape([1, 28, 28]) == (1, 28, 28)
    for bad in ("12", (), (-1,), (2.0,), None):
        with pytest.raises(ConfigError):
            checks.sample_shape(bad)


# -- the network's arguments go through these checks -----------------------------------------

@pytest.mark.parametrize("kwargs", [dict(seed=-1), dict(seed="1"), dict(dtype=None),
                                    dict(input_shape="12"), dict(input_shape=(-1,))])
def test_network_refuses_bad_arguments_with_a_config_error(kwargs):
    with pytest.raises(ConfigError):
        ns.Network([ns.Dense(1)], **kwargs)


@pytest.mark.parametrize("kwargs", [dict(seed="abc"), dict(seed=-1), dict(validation_split="0.2"),
                                    dict(validation_split=None), dict(validation_split=1.0),
                                    dict(shuffle="no"), dict(shuffle=0), dict(verbose=3),
                                    dict(batch_size=0), dict(epochs=2.0), dict(initial_epoch=5)])
def test_fit_refuses_bad_arguments_before_training(kwargs):
    net = ns.Network([ns.Dense(1)], seed=0, input_shape=(2,))
    x, y = np.ones((8, 2)), np.ones(8)
    before = net.get_weights()
    with pytest.raises(ConfigError):
        net.fit(x, y, **{"epochs": 2, "verbose": 0, **kwargs})
    assert net.epochs_trained == 0
    assert all(np.array_equal(before[k], v) for k, v in net.get_weights().items())
