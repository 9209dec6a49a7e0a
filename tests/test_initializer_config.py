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
    ({"name": "uniform", "foo": 1}, "bad arguments for initializer RandomUniform: .*'foo'"),
])
def test_bad_hyperparameters_are_config_errors(config, words):
    with pytest.raises(ConfigError, match=words):
        ns.initializers.get(config)


def test_good_hyperparameters_round_trip_through_the_config():
    init = ns.initializers.get({"name": "uniform", "minval": -1, "maxval": 2})
    assert init.get_config() == {"name": "uniform", "minval": -1.0, "maxval": 2.0}
    assert ns.initializers.get(init.get_config()).get_config() == init.get_config()
