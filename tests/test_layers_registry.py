"""The table of layer classes: every concrete layer by its class name, no abstract base."""

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.errors import ConfigError
from nnscratch.layers import LAYER_CLASSES, REGISTRY
from nnscratch.layers.activated import ActivatedLayer
from nnscratch.layers.base import Layer
from nnscratch.registry import all_subclasses

PUBLIC_LAYERS = {name: getattr(ns.layers, name) for name in ns.layers.__all__
                 if isinstance(getattr(ns.layers, name), type)
                 and issubclass(getattr(ns.layers, name), Layer)}
ABSTRACT = {"Layer", "ActivatedLayer"}
CONCRETE = sorted(set(PUBLIC_LAYERS) - ABSTRACT)


def test_abstract_bases_are_not_in_the_table():
    table = REGISTRY.table()
    for cls in (Layer, ActivatedLayer):
        assert cls.__name__ not in table
        assert cls.__name__ not in LAYER_CLASSES
        assert REGISTRY.resolve(cls.__name__) is None
    with pytest.raises(ConfigError, match="unknown layer class 'ActivatedLayer'; known layer class "
                                          "names: Activation, Add, Average, AvgPool1D"):
        REGISTRY.lookup("ActivatedLayer")


def test_every_base_of_the_package_stays_out():
    """The shared bases of conv, pooling and recurrent layers cannot run alone: none is listed."""
    ours = [cls for cls in all_subclasses(Layer) if cls.__module__.startswith("nnscratch.")]
    bases = {cls for cls in ours
             if any(sub.__module__.startswith("nnscratch.") for sub in cls.__subclasses__())}
    assert {"BaseConv", "BasePooling", "BaseRecurrent"} <= {cls.__name__ for cls in bases}
    assert not bases & set(REGISTRY.table().values())
    assert all(vars(cls).get("abstract") for cls in bases)


@pytest.mark.parametrize("name", CONCRETE)
def test_every_concrete_layer_is_in_the_table(name):
    assert REGISTRY.table()[name] is PUBLIC_LAYERS[name]
    assert LAYER_CLASSES[name] is PUBLIC_LAYERS[name]
    assert REGISTRY.lookup(name) == (name, PUBLIC_LAYERS[name])


def test_the_table_holds_exactly_the_public_concrete_layers():
    ours = {name for name, cls in REGISTRY.table().items() if cls.__module__.startswith("nnscratch.")}
    assert ours == set(CONCRETE)


def test_names_are_exact():
    assert REGISTRY.resolve("Dense") == "Dense"
    assert REGISTRY.resolve("dense") is None
    assert REGISTRY.resolve(None) is None


def test_layer_classes_is_a_read_only_view_that_sees_later_classes():
    class Scaled(ns.layers.Layer):
        def forward(self, x, training=False):
            return 2 * x

    class Template(ns.layers.Layer):
        abstract = True

    class FromTemplate(Template):
        pass

    assert LAYER_CLASSES["Scaled"] is Scaled is REGISTRY.table()["Scaled"]
    assert "Template" not in LAYER_CLASSES                 # marked abstract in its own body
    assert LAYER_CLASSES["FromTemplate"] is FromTemplate   # the mark is not inherited
    assert dict(LAYER_CLASSES) == REGISTRY.table()
    assert len(LAYER_CLASSES) == len(REGISTRY.table())
    with pytest.raises(TypeError):
        LAYER_CLASSES["Scaled"] = Template


def test_bidirectional_holds_its_two_copies_as_sublayers():
    bi = ns.Bidirectional(ns.GRU(3))
    assert bi.sublayers() == [bi.forward_layer, bi.backward_layer]
    assert [layer.go_backwards for layer in bi.sublayers()] == [False, True]


@pytest.mark.parametrize("name", ["BaseRecurrent", "Layer", "Dense", "NoSuchLayer", 3])
def test_bidirectional_config_naming_no_recurrent_layer_is_refused(name):
    with pytest.raises(ConfigError, match="wraps a recurrent layer"):
        ns.Bidirectional({"class": name, "config": {"units": 2}})


def test_bidirectional_rebuilt_from_its_config():
    bi = ns.Bidirectional(ns.LSTM(2, return_sequences=True), merge_mode="ave")
    twin = ns.Bidirectional.from_config(bi.get_config())
    assert twin.get_config() == bi.get_config()
    x = np.zeros((1, 3, 2))
    assert twin(x).shape == bi(x).shape == (1, 3, 2)
