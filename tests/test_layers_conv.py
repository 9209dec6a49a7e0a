import json

import numpy as np
import pytest
import reference_conv as ref

import nnscratch as ns
from nnscratch.errors import ConfigError, ShapeError
from nnscratch.gradcheck import check_layer, check_network
from nnscratch.layers import LAYER_CLASSES

# (kernel_size, stride, padding, dilation): every option, with non-square and even kernels.
CONV2D_OPTIONS = [
    (3, 1, 0, 1),
    (3, 2, 0, 1),
    ((2, 3), (2, 1), 0, 1),
    (3, 1, "valid", 2),
    (3, 1, "same", 1),
    (2, 1, "same", 1),                     # even kernel: the odd padding goes at the end
    ((2, 4), 2, "same", 1),
    (3, (2, 3), "same", (2, 1)),
    (3, 1, 1, 1),
    (3, 2, (2, 1), 1),
    ((3, 2), 1, ((2, 0), (1, 3)), (1, 2)),  # asymmetric padding per side
]
CONV1D_OPTIONS = [
    (3, 1, 0, 1),
    (3, 2, "same", 1),
    (4, 1, "same", 1),
    (2, 3, 1, 2),
    (3, 1, (0, 2), 1),
    (3, 2, ((1, 2),), 2),
]
# (kernel_size, stride, padding, output_padding, dilation)
TRANSPOSE_OPTIONS = [
    (3, 1, 0, 0, 1),
    (3, 2, 0, 1, 1),
    ((2, 3), (2, 1), (1, 0), 0, 1),
    (3, 2, 1, (1, 0), 2),
    (3, 1, 0, 1, 2),                       # output_padding below the dilation
    (3, 2, "same", 0, 1),
    ((1, 2), 3, "same", 0, 1),             # "same" needing extra rows instead of a crop
    ((3, 2), 2, ((1, 0), (0, 2)), 0, (1, 2)),
]


def _pads(padding, in_sizes, kernel, stride, dilation):
    rank = len(in_sizes)
    tup = lambda v: v if isinstance(v, tuple) else (v,) * rank  # noqa: E731
    if padding == "same":
        return ref.same_pads(in_sizes, tup(kernel), tup(stride), tup(dilation))
    if padding == "valid":
        return ((0, 0),) * rank
    if isinstance(padding, int):
        return ((padding, padding),) * rank
    if rank == 1 and len(padding) == 2 and isinstance(padding[0], int):
        return (padding,)
    return tuple(p if isinstance(p, tuple) else (p, p) for p in padding)


def _tuple(v, rank):
    return v if isinstance(v, tuple) else (v,) * rank


def _built(layer, x_shape, rng):
    """A float64 layer with random weights and a nonzero bias."""
    layer.build(x_shape[1:], rng=rng, dtype=np.float64)
    for key in layer.params:
        layer.params[key][...] = rng.standard_normal(layer.params[key].shape)
    return layer


# -- agreement with the plain-loop reference (float64, 1e-10) ----------------------------------

@pytest.mark.parametrize("kernel, stride, padding, dilation", CONV2D_OPTIONS)
def test_conv2d_matches_the_loop_reference(kernel, stride, padding, dilation, rng):
    x = rng.standard_normal((2, 3, 7, 6))
    layer = _built(ns.Conv2D(4, kernel, stride=stride, padding=padding, dilation=dilation),
                   x.shape, rng)
    W, b = layer.params["W"], layer.params["b"]
    pads = _pads(padding, x.shape[2:], kernel, stride, dilation)
    s, d = _tuple(stride, 2), _tuple(dilation, 2)
    y = layer.forward(x, training=True)
    np.testing.assert_allclose(y, ref.conv(x, W, b, s, d, pads), rtol=0, atol=1e-10)
    gy = rng.standard_normal(y.shape)
    dx = layer.backward(gy)
    dx_ref, dW_ref, db_ref = ref.conv_backward(x, W, gy, s, d, pads)
    np.testing.assert_allclose(dx, dx_ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(layer.grads["W"], dW_ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(layer.grads["b"], db_ref, rtol=0, atol=1e-10)


@pytest.mark.parametrize("kernel, stride, padding, dilation", CONV1D_OPTIONS)
def test_conv1d_matches_the_loop_reference(kernel, stride, padding, dilation, rng):
    x = rng.standard_normal((2, 3, 9))
    layer = _built(ns.Conv1D(2, kernel, stride=stride, padding=padding, dilation=dilation),
                   x.shape, rng)
    W, b = layer.params["W"], layer.params["b"]
    pads = _pads(padding, x.shape[2:], kernel, stride, dilation)
    y = layer.forward(x)
    np.testing.assert_allclose(y, ref.conv(x, W, b, (stride,), (dilation,), pads), rtol=0, atol=1e-10)
    gy = rng.standard_normal(y.shape)
    dx = layer.backward(gy)
    dx_ref, dW_ref, db_ref = ref.conv_backward(x, W, gy, (stride,), (dilation,), pads)
    np.testing.assert_allclose(dx, dx_ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(layer.grads["W"], dW_ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(layer.grads["b"], db_ref, rtol=0, atol=1e-10)


@pytest.mark.parametrize("kernel, stride, padding, output_padding, dilation", TRANSPOSE_OPTIONS)
def test_conv2d_transpose_matches_the_loop_reference(kernel, stride, padding, output_padding,
                                                     dilation, rng):
    x = rng.standard_normal((2, 3, 4, 3))
    layer = _built(ns.Conv2DTranspose(2, kernel, stride=stride, padding=padding,
                                      output_padding=output_padding, dilation=dilation), x.shape, rng)
    W, b = layer.params["W"], layer.params["b"]
    k, s, d = _tuple(kernel, 2), _tuple(stride, 2), _tuple(dilation, 2)
    extra = _tuple(output_padding, 2)
    if padding == "same":   # the crop of a "same" Conv2D on the n*s output, or extra rows
        total = [dd * (kk - 1) + 1 - ss for kk, ss, dd in zip(k, s, d)]
        pads = tuple((max(t, 0) // 2, max(t, 0) - max(t, 0) // 2) for t in total)
        extra = tuple(max(-t, 0) for t in total)
    else:
        pads = _pads(padding, x.shape[2:], k, s, d)
    y = layer.forward(x)
    if padding == "same":
        assert y.shape[2:] == (x.shape[2] * s[0], x.shape[3] * s[1])
    np.testing.assert_allclose(y, ref.conv_transpose(x, W, b, s, d, pads, extra), rtol=0, atol=1e-10)
    gy = rng.standard_normal(y.shape)
    dx = layer.backward(gy)
    dx_ref, dW_ref, db_ref = ref.conv_transpose_backward(x, W, gy, s, d, pads)
    np.testing.assert_allclose(dx, dx_ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(layer.grads["W"], dW_ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(layer.grads["b"], db_ref, rtol=0, atol=1e-10)


# -- gradient checks (central differences, input and every parameter) -------------------------

@pytest.mark.parametrize("kernel, stride, padding, dilation", CONV2D_OPTIONS)
def test_conv2d_gradient_check(kernel, stride, padding, dilation, rng):
    layer = ns.Conv2D(2, kernel, stride=stride, padding=padding, dilation=dilation, activation="tanh")
    errors = check_layer(layer, rng.standard_normal((2, 2, 6, 5)))
    assert set(errors) == {"input", "W", "b"}


@pytest.mark.parametrize("kernel, stride, padding, dilation", CONV1D_OPTIONS)
def test_conv1d_gradient_check(kernel, stride, padding, dilation, rng):
    layer = ns.Conv1D(2, kernel, stride=stride, padding=padding, dilation=dilation,
                      activation="sigmoid")
    assert set(check_layer(layer, rng.standard_normal((2, 2, 8)))) == {"input", "W", "b"}


@pytest.mark.parametrize("kernel, stride, padding, output_padding, dilation", TRANSPOSE_OPTIONS)
def test_conv2d_transpose_gradient_check(kernel, stride, padding, output_padding, dilation, rng):
    layer = ns.Conv2DTranspose(2, kernel, stride=stride, padding=padding,
                               output_padding=output_padding, dilation=dilation, activation="tanh")
    assert set(check_layer(layer, rng.standard_normal((2, 2, 3, 3)))) == {"input", "W", "b"}


@pytest.mark.parametrize("cls", [ns.Conv1D, ns.Conv2D, ns.Conv2DTranspose])
def test_conv_without_bias_has_only_a_kernel(cls, rng):
    shape = (2, 2, 5) if cls is ns.Conv1D else (2, 2, 4, 4)
    layer = cls(3, 2, use_bias=False)
    assert set(check_layer(layer, rng.standard_normal(shape))) == {"input", "W"}


@pytest.mark.parametrize("cls, shape", [(ns.Conv2D, (5, 2, 6, 5)), (ns.Conv1D, (5, 2, 9))])
def test_inference_in_chunks_matches_one_pass(cls, shape, rng, monkeypatch):
    from nnscratch.layers import conv as conv_module
    x = rng.standard_normal(shape)
    layer = _built(cls(3, 3, stride=2, padding="same"), shape, rng)
    gy = rng.standard_normal(layer.forward(x, training=True).shape)
    y_whole, dx_whole = layer.forward(x, training=True), layer.backward(gy)
    dW_whole = layer.grads["W"].copy()
    monkeypatch.setattr(conv_module, "INFERENCE_CHUNK", 40)     # about 2 samples per chunk
    y_chunked = layer.forward(x, training=False)
    assert layer._cache[1] is None                              # no column matrix kept
    np.testing.assert_allclose(y_chunked, y_whole, rtol=0, atol=1e-12)
    np.testing.assert_allclose(layer.backward(gy), dx_whole, rtol=0, atol=1e-12)
    np.testing.assert_allclose(layer.grads["W"], dW_whole, rtol=0, atol=1e-12)


# -- the transposed convolution is the adjoint of the convolution -----------------------------

@pytest.mark.parametrize("kernel, stride, padding, output_padding, dilation", [
    (3, 1, 0, 0, 1), (3, 2, 1, 1, 1), ((2, 3), (2, 3), (1, 2), (1, 0), (2, 1)), (3, 2, "same", 0, 1),
    (2, 2, "same", 0, 1), (4, 3, "same", 0, 2),
])
def test_conv2d_transpose_forward_is_the_conv2d_input_gradient(kernel, stride, padding,
                                                               output_padding, dilation, rng):
    conv_in = rng.standard_normal((3, 2, 4, 5))            # what the transposed layer takes
    tconv = _built(ns.Conv2DTranspose(4, kernel, stride=stride, padding=padding,
                                      output_padding=output_padding, dilation=dilation,
                                      use_bias=False), conv_in.shape, rng)
    y = tconv.forward(conv_in)
    # A Conv2D from y's size back to conv_in's size, sharing the kernel W (in, out) = (2, 4):
    conv = ns.Conv2D(2, kernel, stride=stride, padding=padding, dilation=dilation, use_bias=False)
    conv.build(y.shape[1:], dtype=np.float64)
    conv.params["W"][...] = tconv.params["W"]
    x = rng.standard_normal(y.shape)
    assert conv.forward(x).shape == conv_in.shape
    np.testing.assert_allclose(conv.backward(conv_in), y, rtol=0, atol=1e-12)
    # and <conv(x), u> = <x, conv_transpose(u)>
    np.testing.assert_allclose(np.vdot(conv.forward(x), conv_in), np.vdot(x, y), rtol=1e-12)


# -- cross-check with ONNX Runtime's Conv / ConvTranspose --------------------------------------

def _run_onnx(op, x, W, b, out_rank, **attrs):
    return ref.run_onnx_node(op, {"x": x}, {"W": W, "b": b}, out_rank, **attrs)


@pytest.mark.parametrize("kernel, stride, padding, dilation", [
    (3, 1, "same", 1), (2, 2, "same", 1), ((2, 3), (2, 1), ((2, 0), (1, 3)), (1, 2)), (3, 2, 1, 2),
])
def test_conv2d_agrees_with_onnx_runtime(kernel, stride, padding, dilation, rng):
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
    layer = _built(ns.Conv2D(4, kernel, stride=stride, padding=padding, dilation=dilation),
                   x.shape, rng)
    W, b = (layer.params[k].astype(np.float32) for k in ("W", "b"))
    attrs = dict(kernel_shape=list(_tuple(kernel, 2)), strides=list(_tuple(stride, 2)),
                 dilations=list(_tuple(dilation, 2)))
    (t, bt), (lf, rt) = layer.explicit_padding(x.shape[1:])
    if padding == "same":
        attrs["auto_pad"] = "SAME_UPPER"
    else:
        attrs["pads"] = [t, lf, bt, rt]
    assert ((t, bt), (lf, rt)) == _pads(padding, x.shape[2:], kernel, stride, dilation)
    expected = _run_onnx("Conv", x, W, b, 4, **attrs)
    np.testing.assert_allclose(layer.forward(x.astype(np.float64)), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kernel, stride, padding, output_padding, dilation", [
    (3, 2, 1, 1, 1), ((2, 3), (3, 2), (0, 1), (2, 1), (1, 2)), (4, 2, "same", 0, 1),
    ((1, 3), (3, 2), "same", 0, (1, 2)),
])
def test_conv2d_transpose_agrees_with_onnx_runtime(kernel, stride, padding, output_padding,
                                                    dilation, rng):
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    layer = _built(ns.Conv2DTranspose(2, kernel, stride=stride, padding=padding,
                                      output_padding=output_padding, dilation=dilation), x.shape, rng)
    W, b = (layer.params[k].astype(np.float32) for k in ("W", "b"))
    (t, bt), (lf, rt) = layer.explicit_padding(x.shape[1:])
    extra = layer.explicit_output_padding(x.shape[1:])
    if padding != "same":
        assert ((t, bt), (lf, rt)) == _pads(padding, x.shape[2:], kernel, stride, dilation)
        assert extra == _tuple(output_padding, 2)
    expected = _run_onnx("ConvTranspose", x, W, b, 4, kernel_shape=list(_tuple(kernel, 2)),
                         strides=list(_tuple(stride, 2)), dilations=list(_tuple(dilation, 2)),
                         pads=[t, lf, bt, rt], output_padding=list(extra))
    np.testing.assert_allclose(layer.forward(x.astype(np.float64)), expected, rtol=1e-5, atol=1e-5)


def test_conv1d_agrees_with_onnx_runtime(rng):
    x = rng.standard_normal((2, 3, 10)).astype(np.float32)
    layer = _built(ns.Conv1D(4, 4, stride=3, padding="same", dilation=1), x.shape, rng)
    W, b = (layer.params[k].astype(np.float32) for k in ("W", "b"))
    expected = _run_onnx("Conv", x, W, b, 3, kernel_shape=[4], strides=[3], auto_pad="SAME_UPPER")
    np.testing.assert_allclose(layer.forward(x.astype(np.float64)), expected, rtol=1e-5, atol=1e-5)


# -- shapes, layouts, dtypes ------------------------------------------------------------------

@pytest.mark.parametrize("size, kernel, stride", [(7, 3, 2), (8, 2, 3), (5, 4, 1), (9, 1, 4)])
def test_same_padding_gives_ceil_of_input_over_stride(size, kernel, stride):
    layer = ns.Conv2D(2, kernel, stride=stride, padding="same")
    assert layer.compute_output_shape((1, size, size + 1)) == (
        2, -(-size // stride), -(-(size + 1) // stride))


def test_parameter_layouts_match_pytorch(rng):
    conv = ns.Conv2D(5, (2, 3))
    conv.build((4, 8, 8), rng=rng)
    assert conv.params["W"].shape == (5, 4, 2, 3) and conv.params["b"].shape == (5,)
    tconv = ns.Conv2DTranspose(5, (2, 3))
    tconv.build((4, 8, 8), rng=rng)
    assert tconv.params["W"].shape == (4, 5, 2, 3)
    conv1 = ns.Conv1D(5, 3)
    conv1.build((4, 10), rng=rng)
    assert conv1.params["W"].shape == (5, 4, 3)
    # PyTorch's ConvTranspose2d output size: (H - 1) s - 2 p + d (k - 1) + output_padding + 1
    layer = ns.Conv2DTranspose(3, 3, stride=2, padding=1, output_padding=1, dilation=2)
    assert layer.compute_output_shape((4, 5, 6)) == (3, 4 * 2 - 2 + 4 + 1 + 1, 5 * 2 - 2 + 4 + 1 + 1)


@pytest.mark.parametrize("cls", [ns.Conv1D, ns.Conv2D, ns.Conv2DTranspose])
def test_float32_stays_float32_without_warnings(cls, rng, no_warnings):
    shape = (3, 2, 9) if cls is ns.Conv1D else (3, 2, 6, 7)
    layer = cls(4, 3, stride=2, padding=1, activation="relu")
    x = rng.standard_normal(shape).astype(np.float32)
    layer.build(shape[1:], rng=rng, dtype=np.float32)
    y = layer.forward(x)
    dx = layer.backward(np.ones_like(y))
    assert y.dtype == dx.dtype == layer.grads["W"].dtype == layer.grads["b"].dtype == np.float32


def test_glorot_fans_count_the_receptive_field(rng):
    layer = ns.Conv2D(8, 3, kernel_initializer="glorot_uniform")
    layer.build((4, 9, 9), rng=rng)
    limit = np.sqrt(6 / (4 * 9 + 8 * 9))
    W = layer.params["W"]
    assert np.abs(W).max() <= limit and np.abs(W).max() > 0.9 * limit


@pytest.mark.parametrize("layer, x_shape", [
    (ns.Conv2D(3, (2, 3), stride=(2, 1), padding=((1, 0), (2, 1)), dilation=(1, 2), activation="relu",
               kernel_regularizer="l2"), (2, 2, 6, 7)),
    (ns.Conv2D(3, 3, padding="same", kernel_initializer={"name": "he_normal"}), (2, 2, 5, 5)),
    (ns.Conv1D(2, 3, stride=2, padding=(1, 2)), (2, 3, 8)),
    (ns.Conv2DTranspose(2, 3, stride=2, padding=1, output_padding=1, activation="tanh"), (2, 3, 3, 4)),
])
def test_config_round_trips_through_json(layer, x_shape, rng):
    x = rng.standard_normal(x_shape)
    layer.build(x_shape[1:], rng=rng, dtype=np.float64)
    config = json.loads(json.dumps(layer.get_config()))
    twin = LAYER_CLASSES[type(layer).__name__](**config)
    twin.build(x_shape[1:], rng=rng, dtype=np.float64)
    for key, value in layer.params.items():
        twin.params[key][...] = value
    assert twin.get_config() == layer.get_config()
    np.testing.assert_array_equal(twin.forward(x), layer.forward(x))


def test_conv_stack_trains_in_a_network_with_fused_softmax(rng):
    net = ns.Network([ns.Conv2D(3, 3, padding="same", activation="relu"), ns.MaxPool2D(2),
                      ns.Conv2D(4, 2, activation="tanh"), ns.Flatten(),
                      ns.Dense(3, activation="softmax")],
                     loss="categorical_crossentropy", seed=0, dtype="float64")
    x = rng.standard_normal((4, 2, 6, 6))
    y = np.eye(3)[[0, 1, 2, 1]]
    errors = check_network(net, x, y)
    assert len(errors) == 1 + 6
    assert net._fused[0] is not None                     # the fused from-logits path is taken
    assert net.summary(print_fn=None).count("Conv2D") == 2


def test_softmax_on_a_conv_layer_fuses_with_cross_entropy(rng):
    # Softmax runs over the last axis; for a Conv1D output (N, F, L) that is L. The network must
    # read the conv layer's logits and take the fused from-logits path, with exact gradients.
    # (No bias: softmax over L ignores a per-channel constant, so its gradient is exactly 0.)
    net = ns.Network([ns.Conv1D(3, 2, padding="same", activation="softmax", use_bias=False)],
                     loss="categorical_crossentropy", seed=0, dtype="float64")
    x = rng.standard_normal((2, 2, 4))
    y = np.eye(4)[rng.integers(0, 4, (2, 3))]              # one-hot over L, shape (2, 3, 4)
    check_network(net, x, y)
    assert net._fused[0] is not None


# -- errors -----------------------------------------------------------------------------------

def test_wrong_input_rank_or_channels_names_the_layer(rng):
    layer = ns.Conv2D(4, 3, name="conv2d_0")
    layer.build((3, 28, 28), rng=rng)
    with pytest.raises(ShapeError, match=r"Conv2D layer conv2d_0 expects input \(N, 3, H, W\), "
                                         r"got shape \(8, 28, 28\)"):
        layer.forward(np.zeros((8, 28, 28), np.float32))
    with pytest.raises(ShapeError, match=r"expects input \(N, 3, H, W\), got shape \(8, 1, 28, 28\)"):
        layer.forward(np.zeros((8, 1, 28, 28), np.float32))
    conv1 = ns.Conv1D(2, 3, name="c1")
    with pytest.raises(ShapeError, match=r"Conv1D layer c1 expects input \(N, C, L\)"):
        conv1.build((28, 28, 1))


def test_input_smaller_than_the_kernel_is_a_shape_error(rng):
    layer = ns.Conv2D(2, 5, dilation=2, name="big")
    with pytest.raises(ShapeError, match=r"Conv2D layer big needs a spatial size of at least 9x9 .*"
                                         r"got 6x6"):
        layer.build((1, 6, 6), rng=rng)
    layer = ns.Conv1D(2, 4)
    layer.build((1, 10), rng=rng)
    with pytest.raises(ShapeError, match="needs a spatial size of at least 4"):
        layer.forward(np.zeros((2, 1, 3)))
    net = ns.Network([ns.Conv2D(2, 3), ns.Flatten(), ns.Dense(1)])
    with pytest.raises(ShapeError, match="at least 3x3"):
        net.predict(np.zeros((1, 1, 2, 2)))


def test_transposed_padding_that_crops_everything_is_a_shape_error():
    layer = ns.Conv2DTranspose(2, 2, padding=2, name="up")
    with pytest.raises(ShapeError, match="Conv2DTranspose layer up would produce an output of size"):
        layer.compute_output_shape((1, 1, 1))


@pytest.mark.parametrize("kwargs, message", [
    (dict(filters=0, kernel_size=3), "filters must be a positive integer"),
    (dict(filters=2, kernel_size=(3,)),
     r"kernel_size must be an integer or a sequence of 2 integers >= 1, got \(3,\)"),
    (dict(filters=2, kernel_size=0), "kernel_size must be a positive integer"),
    (dict(filters=2, kernel_size=3, stride=(1, 0)), "stride must be"),
    (dict(filters=2, kernel_size=3, dilation=1.5), "dilation must be"),
    (dict(filters=2, kernel_size=3, padding="full"), "padding must be one of 'valid', 'same', got 'full'"),
    (dict(filters=2, kernel_size=3, padding=-1), "padding must be"),
    (dict(filters=2, kernel_size=3, padding=((1, 2), (3,))), "padding must be"),
    (dict(filters=2, kernel_size=3, activation="nope"), "nope"),
])
def test_bad_conv_arguments_are_config_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ns.Conv2D(**kwargs)


@pytest.mark.parametrize("kwargs, message", [
    (dict(stride=2, output_padding=2), "output_padding must be smaller than the stride or the dilation"),
    (dict(stride=1, output_padding=1), "output_padding must be smaller"),
    (dict(stride=2, output_padding=1, padding="same"), "output_padding must be 0"),
    (dict(output_padding=-1), "output_padding must be an integer >= 0"),
])
def test_bad_transpose_arguments_are_config_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ns.Conv2DTranspose(2, 3, **kwargs)


def _batch_last_block(a):
    """True when ``a`` (N, C, *spatial) is a view of a (C, *spatial, N) block (cropped or not:
    the samples next to each other, then the columns, rows and channels)."""
    strides = np.moveaxis(a, 0, -1).strides
    return strides[-1] == a.itemsize and list(strides) == sorted(strides, reverse=True)


@pytest.mark.parametrize("pool", [ns.MaxPool2D(2), ns.AvgPool2D(3, stride=2, padding=1)])
def test_convolution_and_pooling_hand_on_batch_last_memory(rng, pool):
    # Every tap of im2col, col2im and the pools then moves runs of W_out * N values; a layer
    # that hands on another layout silently makes the next one several times slower.
    net = ns.Network([ns.Conv2D(4, 3, padding=1, activation="relu"), pool,
                      ns.Conv2D(3, 2)], input_shape=(2, 9, 9), dtype="float64", seed=0)
    x = rng.standard_normal((5, 2, 9, 9))
    h = x
    for layer in net.layers:
        h = layer.forward(h, training=True)
        assert _batch_last_block(h), type(layer).__name__
    g = rng.standard_normal(h.shape)
    for layer in reversed(net.layers[1:]):
        g = layer.backward(g)
        assert _batch_last_block(g), type(layer).__name__
    # and the values are those of the plain (N, C, H, W) computation
    expected = net.layers[2].forward(np.ascontiguousarray(net.layers[1].forward(
        np.ascontiguousarray(net.layers[0].forward(x)))))
    np.testing.assert_allclose(h, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("filters, rows, positions", [
    (16, 9, 16 * 1024 + 37),      # small both ways: blocks of positions, and the rest
    (16, 27, 40 * 1024),          # blocks only
    (32, 144, 7744),              # the longer side as the rows of the product
    (64, 9, 20_000),              # the filters as the rows
])
def test_weight_gradient_takes_every_position_once(rng, filters, rows, positions):
    from nnscratch.layers.conv import weight_gradient
    dz = rng.standard_normal((filters, positions))
    cols = rng.standard_normal((rows, positions))
    np.testing.assert_allclose(weight_gradient(dz, cols), dz @ cols.T, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(weight_gradient(dz[:, :-5], cols[:, :-5]),     # one block short
                               dz[:, :-5] @ cols[:, :-5].T, rtol=1e-12, atol=1e-9)
