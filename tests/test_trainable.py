"""Freezing layers: the ``trainable`` keyword, its config and file, what fit does to frozen layers,
and the frozen batch normalization (its running statistics in training too)."""

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.errors import ConfigError
from nnscratch.gradcheck import check_layer
from nnscratch.layers.base import Layer

PUBLIC_LAYERS = {name: getattr(ns.layers, name) for name in ns.layers.__all__
                 if isinstance(getattr(ns.layers, name), type)
                 and issubclass(getattr(ns.layers, name), Layer)
                 and name not in ("Layer", "ActivatedLayer")}

# The positional arguments that make one of each layer class.
ARGS = {
    "Activation": ("relu",), "Add": (), "Average": (), "AvgPool1D": (), "AvgPool2D": (),
    "BatchNormalization": (), "Bidirectional": (ns.LSTM(2),), "Concatenate": (),
    "Conv1D": (2, 3), "Conv2D": (2, 3), "Conv2DTranspose": (2, 3), "Dense": (2,), "Dropout": (0.5,),
    "Embedding": (5, 2), "Flatten": (), "GRU": (2,), "GlobalAvgPool1D": (), "GlobalAvgPool2D": (),
    "GlobalMaxPool1D": (), "GlobalMaxPool2D": (), "LSTM": (2,), "LayerNormalization": (),
    "Masking": (), "MaxPool1D": (), "MaxPool2D": (), "Maximum": (), "Minimum": (), "MultiHeadAttention": (2, 4),
    "Multiply": (), "PositionalEmbedding": (4, 2), "Reshape": ((2,),), "SimpleRNN": (2,),
    "Subtract": (), "UpSampling1D": (), "UpSampling2D": (),
}


def test_every_layer_class_is_in_the_table_here():
    assert set(ARGS) == set(PUBLIC_LAYERS)


@pytest.mark.parametrize("name", sorted(PUBLIC_LAYERS))
def test_trainable_is_a_keyword_of_every_layer_and_part_of_its_config(name):
    cls = PUBLIC_LAYERS[name]
    layer = cls(*ARGS[name])
    assert layer.trainable is True and "trainable" not in layer.get_config()
    frozen = cls(*ARGS[name], trainable=False)
    assert frozen.trainable is False
    config = frozen.get_config()
    assert config["trainable"] is False
    twin = cls.from_config(config)
    assert twin.trainable is False and twin.get_config() == config
    assert "trainable=False" in repr(frozen)
    layer.trainable = False                               # settable later, the same way
    assert layer.get_config() == {**config, "name": layer.name}
    layer.trainable = True
    assert layer.trainable is True and "trainable" not in layer.get_config()


@pytest.mark.parametrize("value", [0, 1, "no", None, 1.0])
def test_trainable_is_a_flag(value):
    with pytest.raises(ConfigError, match=r"Dense trainable must be True or False, got"):
        ns.Dense(2, trainable=value)
    layer = ns.Dense(2)
    with pytest.raises(ConfigError, match=r"trainable must be True or False"):
        layer.trainable = value
    assert layer.trainable is True
    assert ns.Dense(2, trainable=np.bool_(False)).trainable is False


def test_bidirectional_freezes_its_two_copies_with_it():
    bi = ns.Bidirectional(ns.LSTM(2))
    assert [copy.trainable for copy in bi.sublayers()] == [True, True]
    bi.trainable = False
    assert [copy.trainable for copy in bi.sublayers()] == [False, False]
    bi.trainable = True
    assert [copy.trainable for copy in bi.sublayers()] == [True, True]
    made_frozen = ns.Bidirectional(ns.GRU(2), trainable=False)
    assert [copy.trainable for copy in made_frozen.sublayers()] == [False, False]
    # wrapping a frozen layer makes a frozen wrapper; the wrapped config keeps no flag of its own
    wrapped = ns.Bidirectional(ns.GRU(2, trainable=False))
    assert wrapped.trainable is False and all(not c.trainable for c in wrapped.sublayers())
    config = wrapped.get_config()
    assert config["trainable"] is False and "trainable" not in config["layer"]["config"]
    twin = ns.Bidirectional.from_config(config)
    assert twin.trainable is False and all(not c.trainable for c in twin.sublayers())


def _data(rng, shape, n=16):
    return rng.standard_normal((n,) + shape), rng.standard_normal((n, 1))


def _fit_and_compare(net, x, y, frozen, learning):
    """Fit; the frozen layers' parameters stay bit for bit, the learning layers' move."""
    net.build(x.shape[1:])
    before = {name: {k: v.copy() for k, v in net.get_layer(name).params.items()}
              for name in frozen + learning}
    net.fit(x, y, epochs=3, batch_size=4, verbose=0)
    for name in frozen:
        for key, value in before[name].items():
            assert net.get_layer(name).params[key].tobytes() == value.tobytes(), f"{name}.{key}"
    for name in learning:
        assert any(not np.array_equal(net.get_layer(name).params[key], value)
                   for key, value in before[name].items()), name


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_frozen_conv2d_is_not_updated_but_the_layers_before_it_learn(optimizer, rng):
    net = ns.Network([ns.Conv2D(2, 3, activation="tanh", name="first"),
                      ns.Conv2D(2, 3, activation="tanh", name="frozen", trainable=False),
                      ns.Flatten(), ns.Dense(1, name="head")],
                     loss="mse", optimizer=optimizer, seed=0, dtype="float64")
    x, y = _data(rng, (1, 6, 6))
    _fit_and_compare(net, x, y, frozen=["frozen"], learning=["first", "head"])
    assert not any(name.startswith("frozen.") for name, _, _ in net.named_parameters())


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_frozen_lstm_is_not_updated_but_the_layers_before_it_learn(optimizer, rng):
    net = ns.Network([ns.Dense(4, activation="tanh", name="first"),
                      ns.LSTM(3, name="frozen", trainable=False), ns.Dense(1, name="head")],
                     loss="mse", optimizer=optimizer, seed=0, dtype="float64")
    x, y = _data(rng, (5, 3))
    _fit_and_compare(net, x, y, frozen=["frozen"], learning=["first", "head"])


def test_a_frozen_bidirectional_is_not_updated(rng):
    frozen = ns.Bidirectional(ns.GRU(3), name="frozen")
    net = ns.Network([ns.Dense(4, name="first"), frozen, ns.Dense(1, name="head")], loss="mse",
                     optimizer="adam", seed=0, dtype="float64")
    frozen.trainable = False                             # frozen after it was made
    x, y = _data(rng, (5, 3))
    _fit_and_compare(net, x, y, frozen=["frozen"], learning=["first", "head"])


def test_a_frozen_layer_saves_and_loads_frozen(tmp_path, rng):
    net = ns.Network([ns.Dense(4, name="a", trainable=False), ns.BatchNormalization(name="bn"),
                      ns.Bidirectional(ns.LSTM(2), name="bi"), ns.Dense(1, name="head")],
                     loss="mse", seed=0, dtype="float64", input_shape=(3, 2))
    net.get_layer("bn").trainable = False
    net.get_layer("bi").trainable = False
    net.save(tmp_path / "frozen.nns")
    loaded = ns.load(tmp_path / "frozen.nns")
    assert [layer.trainable for layer in loaded.layers] == [False, False, False, True]
    assert [layer.get_config() for layer in loaded.layers] == [
        layer.get_config() for layer in net.layers]
    assert all(not copy.trainable for copy in loaded.get_layer("bi").sublayers())
    assert [name for name, _, _ in loaded.named_parameters()] == ["head.W", "head.b"]
    assert loaded.trainable_count() == net.trainable_count()


def test_a_shared_layer_keeps_the_flag_set_between_its_forward_and_backward(rng):
    """The graph copies a shared layer's state per call; the flag is not part of that state."""
    shared = ns.Dense(2, name="shared")
    x = ns.Input((2,))
    model = ns.Model(x, shared(shared(x)), seed=0, dtype="float64")
    data = rng.standard_normal((3, 2))
    out = model.forward(data, training=True)
    shared.trainable = False
    model.backward(np.ones_like(out))
    assert shared.trainable is False and model.named_parameters() == []


# ---- the frozen batch normalization --------------------------------------------------------

def _frozen_bn(shape, rng, **kwargs):
    layer = ns.BatchNormalization(trainable=False, **kwargs)
    layer.build(shape[1:], rng=rng, dtype=np.float64)
    for key, value in layer.params.items():
        value[...] = rng.uniform(0.5, 1.5, value.shape) if key == "gamma" else rng.normal(size=value.shape)
    layer.buffers["running_mean"][...] = rng.standard_normal(layer.buffers["running_mean"].shape)
    layer.buffers["running_var"][...] = rng.uniform(0.5, 2.0, layer.buffers["running_var"].shape)
    return layer


@pytest.mark.parametrize("shape, axis", [((6, 3), 1), ((4, 2, 3, 3), 1), ((3, 4, 2), -1)])
def test_a_frozen_batch_norm_trains_with_its_running_statistics(shape, axis, rng):
    layer = _frozen_bn(shape, rng, axis=axis)
    stats = {k: v.copy() for k, v in layer.buffers.items()}
    x = rng.standard_normal(shape) * 3 + 1
    y_train = layer.forward(x, training=True)
    np.testing.assert_array_equal(y_train, layer.forward(x, training=False))
    # y = gamma (x - running_mean) / sqrt(running_var + eps) + beta, per channel
    bshape = [1] * len(shape)
    bshape[axis] = shape[axis]
    mean, var = (stats[k].reshape(bshape) for k in ("running_mean", "running_var"))
    gamma, beta = (layer.params[k].reshape(bshape) for k in ("gamma", "beta"))
    np.testing.assert_allclose(y_train, gamma * (x - mean) / np.sqrt(var + 1e-3) + beta, rtol=1e-12)
    for key, value in stats.items():
        assert layer.buffers[key].tobytes() == value.tobytes()
    layer.trainable = True                                 # unfrozen: the batch's statistics again
    assert not np.allclose(layer.forward(x, training=True), y_train)
    assert not np.array_equal(layer.buffers["running_mean"], stats["running_mean"])


@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 4), (2, 3, 3, 2)])
def test_a_frozen_batch_norm_gradient_check_in_training_mode(shape, rng):
    layer = _frozen_bn(shape, rng)
    stats = {k: v.copy() for k, v in layer.buffers.items()}
    errors = check_layer(layer, rng.standard_normal(shape), training=True)
    assert set(errors) == {"input", "gamma", "beta"}
    for key, value in stats.items():                       # many forwards, the statistics kept
        assert layer.buffers[key].tobytes() == value.tobytes()


def test_fit_leaves_a_frozen_batch_norms_statistics_and_parameters(rng):
    net = ns.Network([ns.Dense(4, name="first"), ns.BatchNormalization(name="bn", trainable=False),
                      ns.Dense(1, name="head")], loss="mse", optimizer="adam", seed=0,
                     dtype="float64")
    x, y = _data(rng, (3,))
    net.build((3,))
    stats = {k: v.copy() for k, v in net.get_layer("bn").buffers.items()}
    _fit_and_compare(net, x, y, frozen=["bn"], learning=["first", "head"])
    for key, value in stats.items():
        assert net.get_layer("bn").buffers[key].tobytes() == value.tobytes()
