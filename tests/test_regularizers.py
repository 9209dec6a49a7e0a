"""Weight penalties (nnscratch.regularizers): value, gradient, and the registry's errors."""

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.errors import ConfigError


def test_penalty_and_its_gradient_follow_the_formula():
    reg = ns.regularizers.L1L2(l1=0.1, l2=0.2)
    w = np.array([[-1.5, 0.5], [2.0, -0.25]])
    assert reg(w) == pytest.approx(0.1 * np.abs(w).sum() + 0.2 * (w ** 2).sum())
    np.testing.assert_allclose(reg.gradient(w), 0.1 * np.sign(w) + 0.4 * w)


def test_get_accepts_names_configs_and_none():
    assert ns.regularizers.get(None) is None
    assert ns.regularizers.get("L2").l2 > 0
    assert ns.regularizers.get({"l2": 0.5}).get_config() == {"l1": 0.0, "l2": 0.5}
    assert ns.regularizers.get(" L1_L2 ").get_config() == {"l1": 0.01, "l2": 0.01}
    assert ns.regularizers.names() == ["l1", "l1_l2", "l2"]
    assert repr(ns.regularizers.L1(0.5)) == "Regularizer(l1=0.5, l2=0.0)"


@pytest.mark.parametrize("identifier, words", [
    ({"l1": 0.1, "l3": 0.2}, "takes 'l1' and 'l2', got unexpected 'l3'"),
    ("l3", "unknown regularizer 'l3'"),
    ({"l1": -1.0}, "l1 must be a number >= 0"),
    ({"l2": "0.1"}, r"l2 must be a number >= 0, got '0.1' \(str\)"),
    ({"l1": True}, r"l1 must be a number >= 0, got True \(bool\)"),
    ({"l2": float("inf")}, "l2 must be a number >= 0, got inf"),
    (3, r"a regularizer must be given as .*got 3 \(int\)"),
])
def test_bad_identifiers_are_config_errors(identifier, words):
    with pytest.raises(ConfigError, match=words):
        ns.regularizers.get(identifier)
