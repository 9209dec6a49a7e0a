import numpy as np
import pytest

from nnscratch import initializers
from nnscratch.errors import ConfigError


@pytest.mark.parametrize("name", initializers.names())
def test_every_initializer_makes_the_shape_and_dtype(name):
    if name == "variance_scaling":
        init = initializers.get({"name": name, "scale": 2.0})
    else:
        init = initializers.get(name)
    w = init((64, 32), np.random.default_rng(0), np.float32)
    assert w.shape == (64, 32) and w.dtype == np.float32
    assert np.isfinite(w).all()


@pytest.mark.parametrize("name, expected_std", [
    ("glorot_uniform", np.sqrt(2 / (400 + 600))), ("glorot_normal", np.sqrt(2 / (400 + 600))),
    ("he_uniform", np.sqrt(2 / 400)), ("he_normal", np.sqrt(2 / 400)),
    ("lecun_uniform", np.sqrt(1 / 400)), ("lecun_normal", np.sqrt(1 / 400)),
])
def test_variance_scaling_has_the_published_variance(name, expected_std):
    w = initializers.get(name)((400, 600), np.random.default_rng(0), np.float64)
    assert w.std() == pytest.approx(expected_std, rel=0.02)
    assert abs(w.mean()) < 0.01 * expected_std * 10


def test_conv_kernel_fans_are_channels_first():
    assert initializers.compute_fans((16, 3, 5, 5)) == (75, 400)
    assert initializers.compute_fans((784, 10)) == (784, 10)


def test_truncated_normal_has_no_draw_beyond_two_std():
    init = initializers.get({"name": "truncated_normal", "stddev": 1.0})
    w = init((10000,), np.random.default_rng(1), np.float64)
    assert np.abs(w).max() <= 2.0


@pytest.mark.parametrize("shape", [(8, 8), (4, 10), (10, 4), (6, 2, 3)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape):
    w = initializers.get("orthogonal")(shape, np.random.default_rng(0), np.float64)
    m = w.reshape(shape[0], -1)
    gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
    np.testing.assert_allclose(gram, np.eye(gram.shape[0]), atol=1e-12)


def test_seeded_draws_are_reproducible():
    a = initializers.get("he_normal")((5, 5), np.random.default_rng(3), np.float32)
    b = initializers.get("he_normal")((5, 5), np.random.default_rng(3), np.float32)
    assert np.array_equal(a, b)


def test_unknown_initializer_lists_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown initializer 'gloriot'.*glorot_uniform"):
        initializers.get("gloriot")
