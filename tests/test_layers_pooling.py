import json

import numpy as np
import pytest
import reference_conv as ref

import nnscratch as ns
from nnscratch.errors import ConfigError, ShapeError
from nnscratch.gradcheck import check_layer
from nnscratch.layers import LAYER_CLASSES

# (pool_size, stride, padding): non-overlapping, overlapping (stride < pool), padded, asymmetric.
POOL2D_OPTIONS = [
    (2, None, 0),
    (3, 1, 0),
    (3, 2, 1),
    ((2, 3), (1, 2), ((1, 0), (0, 2))),
    (2, 2, "same"),
    (3, 2, "same"),
    ((3, 2), None, "valid"),
    (3, (2, 1), (1, 2)),
]
POOL1D_OPTIONS = [(2, None, 0), (3, 1, 1), (3, 2, "same"), (4, 3, (0, 3)), (2, 1, ((1, 0),))]


def _pads(padding, in_sizes, pool, stride):
    rank = len(in_sizes)
    pool = pool if isinstance(pool, tuple) else (pool,) * rank
    stride = pool if stride is None else stride if isinstance(stride, tuple) else (stride,) * rank
    if padding == "same":
        pads = ref.same_pads(in_sizes, pool, stride, (1,) * rank)
    elif padding == "valid":
        pads = ((0, 0),) * rank
    elif isinstance(padding, int):
        pads = ((padding, padding),) * rank
    elif rank == 1 and isinstance(padding[0], int):
        pads = (padding,)
    else:
        pads = tuple(p if isinstance(p, tuple) else (p, p) for p in padding)
    return pool, stride, pads


def _distinct(rng, shape):
    """Values 0.1 apart in random order: no ties, so max pooling is differentiable at them."""
    return rng.permutation(np.arange(np.prod(shape)) * 0.1 - 3.0).reshape(shape)


# -- agreement with the plain-loop reference ---------------------------------------------------

@pytest.mark.parametrize("pool, stride, padding", POOL2D_OPTIONS)
def test_max_pool2d_matches_the_loop_reference(pool, stride, padding, rng):
    # Integer values in a small range: many ties, which must go to the first maximum.
    x = rng.integers(-3, 3, (2, 3, 7, 6)).astype(np.float64)
    layer = ns.MaxPool2D(pool, stride=stride, padding=padding)
    p, s, pads = _pads(padding, x.shape[2:], pool, stride)
    y = layer(x)
    np.testing.assert_array_equal(y, ref.max_pool(x, p, s, pads)[0])
    gy = rng.standard_normal(y.shape)
    np.testing.assert_allclose(layer.backward(gy), ref.max_pool_backward(x, gy, p, s, pads),
                               rtol=0, atol=1e-12)


@pytest.mark.parametrize("pool, stride, padding", POOL1D_OPTIONS)
def test_max_pool1d_matches_the_loop_reference(pool, stride, padding, rng):
    x = rng.integers(-3, 3, (2, 2, 11)).astype(np.float64)
    layer = ns.MaxPool1D(pool, stride=stride, padding=padding)
    p, s, pads = _pads(padding, x.shape[2:], pool, stride)
    y = layer(x)
    np.testing.assert_array_equal(y, ref.max_pool(x, p, s, pads)[0])
    gy = rng.standard_normal(y.shape)
    np.testing.assert_allclose(layer.backward(gy), ref.max_pool_backward(x, gy, p, s, pads),
                               rtol=0, atol=1e-12)


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("pool, stride, padding", POOL2D_OPTIONS)
def test_avg_pool2d_matches_the_loop_reference(pool, stride, padding, count_include_pad, rng):
    x = rng.standard_normal((2, 3, 7, 6))
    layer = ns.AvgPool2D(pool, stride=stride, padding=padding, count_include_pad=count_include_pad)
    p, s, pads = _pads(padding, x.shape[2:], pool, stride)
    y = layer(x)
    np.testing.assert_allclose(y, ref.avg_pool(x, p, s, pads, count_include_pad), rtol=0, atol=1e-12)
    gy = rng.standard_normal(y.shape)
    np.testing.assert_allclose(layer.backward(gy),
                               ref.avg_pool_backward(x, gy, p, s, pads, count_include_pad),
                               rtol=0, atol=1e-12)


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("pool, stride, padding", POOL1D_OPTIONS)
def test_avg_pool1d_matches_the_loop_reference(pool, stride, padding, count_include_pad, rng):
    x = rng.standard_normal((2, 2, 11))
    layer = ns.AvgPool1D(pool, stride=stride, padding=padding, count_include_pad=count_include_pad)
    p, s, pads = _pads(padding, x.shape[2:], pool, stride)
    y = layer(x)
    np.testing.assert_allclose(y, ref.avg_pool(x, p, s, pads, count_include_pad), rtol=0, atol=1e-12)
    gy = rng.standard_normal(y.shape)
    np.testing.assert_allclose(layer.backward(gy),
                               ref.avg_pool_backward(x, gy, p, s, pads, count_include_pad),
                               rtol=0, atol=1e-12)


def test_avg_pool_default_counts_padding_as_pytorch(rng):
    x = np.ones((1, 1, 3, 3))
    y = ns.AvgPool2D(3, stride=1, padding=1)(x)
    assert y[0, 0, 0, 0] == pytest.approx(4 / 9)        # corner window: 4 ones and 5 padded zeros
    assert ns.AvgPool2D(3, stride=1, padding=1, count_include_pad=False)(x)[0, 0, 0, 0] == 1.0


@pytest.mark.parametrize("cls, rank", [(ns.GlobalAvgPool2D, 2), (ns.GlobalAvgPool1D, 1),
                                       (ns.GlobalMaxPool2D, 2), (ns.GlobalMaxPool1D, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pools_match_the_definition(cls, rank, keepdims, rng):
    shape = (3, 4, 5, 6)[:2 + rank]
    x = rng.integers(-3, 3, shape).astype(np.float64)       # ties: the first maximum wins
    layer = cls(keepdims=keepdims)
    y = layer(x)
    flat = x.reshape(shape[:2] + (-1,))
    is_max = "Max" in cls.__name__
    expected = flat.max(-1) if is_max else flat.mean(-1)
    assert y.shape == (shape[:2] + (1,) * rank if keepdims else shape[:2])
    assert layer.compute_output_shape(shape[1:]) == y.shape[1:]
    np.testing.assert_allclose(y.reshape(shape[:2]), expected, rtol=0, atol=1e-12)
    gy = rng.standard_normal(y.shape)
    dx = layer.backward(gy).reshape(flat.shape)
    g = gy.reshape(shape[:2])
    expected_dx = np.zeros(flat.shape)
    for n in range(shape[0]):
        for c in range(shape[1]):
            if is_max:
                expected_dx[n, c, int(np.argmax(flat[n, c]))] = g[n, c]
            else:
                expected_dx[n, c, :] = g[n, c] / flat.shape[-1]
    np.testing.assert_allclose(dx, expected_dx, rtol=0, atol=1e-12)


# -- cross-check with ONNX Runtime's MaxPool / AveragePool -------------------------------------

@pytest.mark.parametrize("pool, stride, padding", [(3, 2, 1), ((2, 3), (1, 2), ((1, 0), (0, 2)))])
@pytest.mark.parametrize("op", ["MaxPool", "AveragePool0", "AveragePool1"])
def test_pooling_agrees_with_onnx_runtime(op, pool, stride, padding, rng):
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
    p, s, pads = _pads(padding, x.shape[2:], pool, stride)
    attrs = dict(kernel_shape=list(p), strides=list(s), pads=[pads[0][0], pads[1][0], pads[0][1],
                                                              pads[1][1]])
    if op == "MaxPool":
        layer = ns.MaxPool2D(pool, stride=stride, padding=padding)
        assert layer.explicit_padding(x.shape[1:]) == pads
    else:
        include = op.endswith("1")
        layer = ns.AvgPool2D(pool, stride=stride, padding=padding, count_include_pad=include)
        attrs["count_include_pad"] = int(include)
    expected = ref.run_onnx_node(op.rstrip("01"), {"x": x}, {}, 4, **attrs)
    np.testing.assert_allclose(layer(x), expected, rtol=1e-6, atol=1e-6)


# -- gradient checks ---------------------------------------------------------------------------

@pytest.mark.parametrize("pool, stride, padding", POOL2D_OPTIONS)
def test_pool2d_gradient_checks(pool, stride, padding, rng):
    x = _distinct(rng, (2, 2, 5, 6))
    check_layer(ns.MaxPool2D(pool, stride=stride, padding=padding), x)
    check_layer(ns.AvgPool2D(pool, stride=stride, padding=padding), x)
    check_layer(ns.AvgPool2D(pool, stride=stride, padding=padding, count_include_pad=False), x)


@pytest.mark.parametrize("pool, stride, padding", POOL1D_OPTIONS)
def test_pool1d_gradient_checks(pool, stride, padding, rng):
    x = _distinct(rng, (2, 2, 9))
    check_layer(ns.MaxPool1D(pool, stride=stride, padding=padding), x)
    check_layer(ns.AvgPool1D(pool, stride=stride, padding=padding), x)
    check_layer(ns.AvgPool1D(pool, stride=stride, padding=padding, count_include_pad=False), x)


@pytest.mark.parametrize("cls, shape", [(ns.GlobalAvgPool2D, (2, 3, 4, 3)), (ns.GlobalAvgPool1D, (2, 3, 5)),
                                        (ns.GlobalMaxPool2D, (2, 3, 4, 3)), (ns.GlobalMaxPool1D, (2, 3, 5))])
def test_global_pool_gradient_checks(cls, shape, rng):
    assert check_layer(cls(), _distinct(rng, shape)) == pytest.approx({"input": 0}, abs=1e-6)


# -- dtypes, configs, errors -------------------------------------------------------------------

@pytest.mark.parametrize("layer", [ns.MaxPool2D(3, stride=2, padding=1), ns.AvgPool2D(2, padding="same"),
                                   ns.AvgPool2D(3, 1, 1, count_include_pad=False),
                                   ns.GlobalMaxPool2D(), ns.GlobalAvgPool2D(keepdims=True)])
def test_float32_stays_float32_without_warnings(layer, rng, no_warnings):
    x = rng.standard_normal((2, 3, 5, 5)).astype(np.float32)
    y = layer(x)
    assert y.dtype == np.float32
    dx = layer.backward(np.ones_like(y))
    assert dx.dtype == np.float32 and dx.shape == x.shape


@pytest.mark.parametrize("layer", [
    ns.MaxPool2D((2, 3), stride=(1, 2), padding=((1, 0), (0, 2))), ns.MaxPool1D(3, padding="same"),
    ns.AvgPool2D(3, 2, 1, count_include_pad=False), ns.AvgPool1D(2), ns.GlobalAvgPool1D(keepdims=True),
    ns.GlobalMaxPool2D()])
def test_pool_config_round_trips_through_json(layer, rng):
    shape = (2, 3, 7, 6) if "2D" in type(layer).__name__ else (2, 3, 9)
    x = rng.standard_normal(shape)
    config = json.loads(json.dumps(layer.get_config()))
    twin = LAYER_CLASSES[type(layer).__name__](**config)
    assert twin.get_config() == layer.get_config()
    np.testing.assert_array_equal(twin(x), layer(x))


def test_stride_defaults_to_the_pool_size():
    assert ns.MaxPool2D((2, 3)).stride == (2, 3)
    assert ns.MaxPool2D(2).compute_output_shape((4, 7, 9)) == (4, 3, 4)   # odd border dropped


def test_pool_shape_errors_name_the_layer():
    layer = ns.MaxPool2D(2, name="pool")
    with pytest.raises(ShapeError, match=r"MaxPool2D layer pool expects input \(N, C, H, W\) "
                                         r"\(channels first\), got shape \(N, 8, 8\)"):
        layer(np.zeros((4, 8, 8)))
    layer.build((3, 8, 8))
    with pytest.raises(ShapeError, match=r"MaxPool2D layer pool expects input \(N, C, H, W\), "
                                         r"got shape \(4, 8, 8\)"):
        layer.forward(np.zeros((4, 8, 8)))
    with pytest.raises(ShapeError, match="MaxPool2D layer pool needs a spatial size of at least 2x2"):
        layer(np.zeros((4, 3, 1, 8)))
    with pytest.raises(ShapeError, match=r"AvgPool1D layer a expects input \(N, C, L\)"):
        ns.AvgPool1D(2, name="a").build((3, 8, 8))
    with pytest.raises(ShapeError, match=r"GlobalMaxPool2D layer g expects input \(N, C, H, W\)"):
        ns.GlobalMaxPool2D(name="g")(np.zeros((2, 5)))


@pytest.mark.parametrize("cls, kwargs, message", [
    (ns.MaxPool2D, dict(pool_size=0), "pool_size must be a positive integer"),
    (ns.MaxPool2D, dict(pool_size=2, stride=(1, 2, 3)), "stride must be"),
    (ns.MaxPool2D, dict(pool_size=2, padding=2), "padding must be smaller than the pool size"),
    (ns.AvgPool1D, dict(pool_size=3, padding=(0, 3)), "padding must be smaller than the pool size"),
    (ns.AvgPool2D, dict(pool_size=2, padding="full"), "padding must be"),
])
def test_bad_pool_arguments_are_config_errors(cls, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        cls(**kwargs)


@pytest.mark.parametrize("pool, stride, size", [(2, 2, 8), (2, 2, 9), (3, 2, 9), (2, 3, 8)])
def test_max_pool_inference_forward_and_a_later_backward_match_training(rng, pool, stride, size):
    # Outside training the taps are not recorded (one np.maximum a tap); a backward after such
    # a forward finds them again, and the windows that tile the input skip the zero fill.
    layer = ns.MaxPool2D(pool, stride=stride)
    x = rng.standard_normal((3, 2, size, size))
    x[0, 0, :2, :2] = 1.5                                      # a tie: the first tap wins
    y_train = layer.forward(x, training=True)
    g = rng.standard_normal(y_train.shape)
    dx_train = layer.backward(g)
    y_infer = layer.forward(x, training=False)
    np.testing.assert_array_equal(y_infer, y_train)
    np.testing.assert_array_equal(layer.backward(g), dx_train)
    expected = np.zeros_like(x)                                 # the plain definition
    out = y_train.shape[2]
    for i in range(out):
        for j in range(out):
            window = x[:, :, i * stride:i * stride + pool, j * stride:j * stride + pool]
            flat = window.reshape(3, 2, -1).argmax(axis=-1)
            for n in range(3):
                for c in range(2):
                    u, v = divmod(flat[n, c], pool)
                    expected[n, c, i * stride + u, j * stride + v] += g[n, c, i, j]
    np.testing.assert_allclose(dx_train, expected, rtol=0, atol=1e-15)    # overlaps add up
