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
