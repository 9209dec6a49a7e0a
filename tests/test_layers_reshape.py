import json

import numpy as np
import pytest
import reference_conv as ref

import nnscratch as ns
from nnscratch.errors import ConfigError, ShapeError
from nnscratch.gradcheck import check_layer
from nnscratch.layers import LAYER_CLASSES


def test_flatten_is_row_major_and_its_backward_restores_the_shape(rng):
    x = rng.standard_normal((3, 2, 4, 5))
    layer = ns.Flatten()
    y = layer(x)
    assert y.shape == (3, 40) and layer.compute_output_shape((2, 4, 5)) == (40,)
    for n, c, i, j in [(0, 0, 0, 0), (1, 1, 2, 3), (2, 1, 3, 4)]:
        assert y[n, c * 20 + i * 5 + j] == x[n, c, i, j]       # as torch.nn.Flatten orders it
    gy = rng.standard_normal(y.shape)
    np.testing.assert_array_equal(layer.backward(gy), gy.reshape(x.shape))
    check_layer(ns.Flatten(), x[:2, :, :2, :3])


def test_flatten_takes_a_batch_last_conv_output(rng):
    # Convolutions hand on batch-last views; Flatten must still give C-order features.
    conv = ns.Conv2D(3, 2)
    conv.build((2, 4, 4), rng=rng, dtype=np.float64)
    z = conv(rng.standard_normal((5, 2, 4, 4)))
    np.testing.assert_array_equal(ns.Flatten()(z), np.ascontiguousarray(z).reshape(5, -1))


@pytest.mark.parametrize("target, expected", [((1, 8, 8), (1, 8, 8)), ((-1, 4), (16, 4)),
                                              ([2, -1, 2], (2, 16, 2)), (64, (64,))])
def test_reshape_with_an_inferred_axis(target, expected, rng):
    layer = ns.Reshape(target)
    x = rng.standard_normal((3, 64))
    y = layer(x)
    assert y.shape == (3,) + expected and layer.compute_output_shape((64,)) == expected
    np.testing.assert_array_equal(y.reshape(3, -1), x)
    gy = rng.standard_normal(y.shape)
    np.testing.assert_array_equal(layer.backward(gy), gy.reshape(x.shape))
    check_layer(ns.Reshape(target), x[:2])


@pytest.mark.parametrize("size", [2, (3, 1), (1, 2), (2, 3)])
def test_upsampling2d_matches_the_loop_reference(size, rng):
    x = rng.standard_normal((2, 3, 3, 4))
    layer = ns.UpSampling2D(size)
    s = size if isinstance(size, tuple) else (size, size)
    y = layer(x)
    assert layer.compute_output_shape(x.shape[1:]) == y.shape[1:]
    np.testing.assert_array_equal(y, ref.upsample(x, s))
    gy = rng.standard_normal(y.shape)
    np.testing.assert_allclose(layer.backward(gy), ref.upsample_backward(x, gy, s), rtol=0, atol=1e-12)
    check_layer(ns.UpSampling2D(size), x[:, :2, :2, :3])


@pytest.mark.parametrize("size", [1, 2, 3])
def test_upsampling1d_matches_the_loop_reference(size, rng):
    x = rng.standard_normal((2, 3, 5))
    layer = ns.UpSampling1D(size)
    y = layer(x)
    np.testing.assert_array_equal(y, ref.upsample(x, (size,)))
    gy = rng.standard_normal(y.shape)
    np.testing.assert_allclose(layer.backward(gy), ref.upsample_backward(x, gy, (size,)),
                               rtol=0, atol=1e-12)
    check_layer(ns.UpSampling1D(size), x)


@pytest.mark.parametrize("layer", [ns.Flatten(), ns.Reshape((4, -1)), ns.UpSampling2D((2, 3))])
def test_float32_stays_float32_without_warnings(layer, rng, no_warnings):
    x = rng.standard_normal((2, 2, 4, 4)).astype(np.float32)
    y = layer(x)
    dx = layer.backward(np.ones_like(y))
    assert y.dtype == dx.dtype == np.float32 and dx.shape == x.shape


@pytest.mark.parametrize("layer", [ns.Flatten(name="f"), ns.Reshape((2, -1)), ns.UpSampling1D(3),
                                   ns.UpSampling2D((1, 2))])
def test_reshape_config_round_trips_through_json(layer, rng):
    x = rng.standard_normal((2, 2, 4, 4) if "2D" in type(layer).__name__ else (2, 2, 6))
    config = json.loads(json.dumps(layer.get_config()))
    twin = LAYER_CLASSES[type(layer).__name__](**config)
    assert twin.get_config() == layer.get_config()
    np.testing.assert_array_equal(twin(x), layer(x))


def test_upsampling_then_conv_builds_in_a_network(rng):
    net = ns.Network([ns.Reshape((1, 4, 4)), ns.UpSampling2D(2), ns.Conv2D(2, 3, padding="same"),
                      ns.GlobalAvgPool2D(), ns.Dense(1)], seed=0)
    out = net.predict(rng.standard_normal((3, 16)))
    assert out.shape == (3, 1) and out.dtype == np.float32


def test_reshape_errors():
    with pytest.raises(ShapeError, match=r"Reshape layer r cannot reshape samples of shape \(10,\) "
                                         r"\(10 values\) to \(3, -1\)"):
        ns.Reshape((3, -1), name="r").build((10,))
    with pytest.raises(ShapeError, match="cannot reshape"):
        ns.Reshape((3, 3))(np.zeros((2, 8)))
    with pytest.raises(ShapeError, match=r"UpSampling2D layer u expects input \(N, C, H, W\)"):
        ns.UpSampling2D(name="u")(np.zeros((2, 3)))
    with pytest.raises(ConfigError, match="at most one -1"):
        ns.Reshape((-1, -1))
    with pytest.raises(ConfigError, match="positive ints"):
        ns.Reshape((0, 3))
    with pytest.raises(ConfigError, match="size must be a positive integer"):
        ns.UpSampling2D(0)
    with pytest.raises(ConfigError, match="interpolation must be one of 'nearest', got 'bilinear'"):
        ns.UpSampling2D(2, interpolation="bilinear")
