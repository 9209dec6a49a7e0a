"""Initializer hyperparameters: a bad config gives a ConfigError naming what was wrong."""

import pytest

import nnscratch as ns
from nnscratch.errors import ConfigError


@pytest.mark.parametrize("config, words", [
    ({"name": "uniform", "minval": "a"}, "minval must be a finite number, got 'a'"),
    ({"name": "normal", "stddev": "x"}, "stddev must be a finite number, got 'x'"),
    ({"name": "truncated_normal", "mean": float("nan")}, "mean must be a finite number"),
    ({"name": "constant", "value": None}, "value must be a finite number, got None"),
    ({"name": "orthogonal", "gain": float("inf")}, "gain must be a finite number"),
    ({"name": "variance_scaling", "scale": True}, "scale must be a finite number, got True"),
    ({"name": "uniform", "minval": 1, "maxval": 0}, "minval < maxval"),
    ({"name": "uniform", "foo": 1}, "initializer 'uniform' takes minval, maxval; got unexpected 'foo'"),
])
def test_bad_hyperparameters_are_config_errors(config, words):
    with pytest.raises(ConfigError, match=words):
        ns.initializers.get(config)


@pytest.mark.parametrize("config, message", [
    ({"name": "constant", "value": "1"},
     "constant initializer value must be a finite number, got '1' (str)"),
    ({"name": "uniform", "minval": "-1"},
     "uniform initializer minval must be a finite number, got '-1' (str)"),
    ({"name": "variance_scaling", "mode": "fan_sum"},
     "variance_scaling initializer mode must be one of 'fan_in', 'fan_out', 'fan_avg', "
     "got 'fan_sum' (str)"),
])
def test_a_number_given_as_a_string_is_refused(config, message):
    with pytest.raises(ConfigError) as info:
        ns.initializers.get(config)
    assert str(info.value) == message


def test_good_hyperparameters_round_trip_through_the_config():
    init = ns.initializers.get({"name": "uniform", "minval": -1, "maxval": 2})
    assert init.get_config() == {"name": "uniform", "minval": -1.0, "maxval": 2.0}
    assert ns.initializers.get(init.get_config()).get_config() == init.get_config()
    assert repr(init) == "RandomUniform(minval=-1.0, maxval=2.0)"
    assert ns.initializers.get("Xavier_Uniform").get_config() == {"name": "glorot_uniform"}
    assert ns.initializers.get(ns.initializers.Orthogonal).get_config() == {"name": "orthogonal",
                                                                           "gain": 1.0}
