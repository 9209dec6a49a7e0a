"""The shared registry: name tables, name resolution, errors, and the Configurable base."""

import re

import pytest

from nnscratch import registry
from nnscratch.errors import ConfigError


class _Base:
    name = None


class _Alpha(_Base):
    name = "alpha"


class _Unnamed(_Alpha):
    name = None


class _Beta(_Unnamed):
    name = "beta"


def test_the_table_has_every_depth_and_skips_unnamed():
    assert registry.Registry("widget", _Base).table() == {"alpha": _Alpha, "beta": _Beta}
    assert list(registry.all_subclasses(_Base)) == [_Alpha, _Unnamed, _Beta]


def test_a_class_defined_later_is_found():
    widgets = registry.Registry("widget", _Base)

    class Gamma(_Base):
        name = "gamma"
    assert widgets.table()["gamma"] is Gamma


def test_resolve_is_case_insensitive_and_follows_aliases():
    widgets = registry.Registry("widget", _Base, aliases={"a": "alpha"})
    assert widgets.resolve("ALPHA") == "alpha"
    assert widgets.resolve(" a ") == "alpha"
    assert widgets.resolve("b") is None
    assert registry.Registry("widget", _Base).resolve("a") is None
    assert registry.snake(" Leaky-ReLU x") == "leaky_relu_x"


@pytest.mark.parametrize("name", [None, 3, b"alpha", ["alpha"]])
def test_resolve_takes_only_strings(name):
    assert registry.Registry("widget", _Base).resolve(name) is None


class _Part(registry.Configurable):
    name = None


class _Bolt(_Part):
    name = "bolt"
    hyperparameters = ("size",)

    def __init__(self, size=3):
        self.size = size


def test_unknown_name_is_a_config_error_naming_the_choices():
    parts = registry.Registry("part", _Part, aliases={"screw": "bolt"})
    error = parts.unknown("gizmo")
    assert isinstance(error, ConfigError)
    assert str(error) == "unknown part 'gizmo'; known part names: bolt (aliases: screw -> bolt)"
    with pytest.raises(ConfigError, match="unknown part 'nut'"):
        parts.get({"name": "nut"})


def test_get_takes_a_name_a_member_a_class_or_a_config():
    parts = registry.Registry("part", _Part, aliases={"screw": "bolt"})
    bolt = _Bolt(5)
    assert parts.get(bolt) is bolt
    assert parts.get("Screw").size == 3 and parts.get(_Bolt).size == 3
    assert parts.get({"name": "bolt", "size": 8}).get_config() == {"name": "bolt", "size": 8}
    assert parts.get("bolt", size=4).size == 4
    with pytest.raises(ConfigError, match=r"part 'bolt' takes size; got unexpected 'width'"):
        parts.get({"name": "bolt", "width": 1})
    with pytest.raises(ConfigError, match=r"needs a string 'name'"):
        parts.get({"size": 1})
    with pytest.raises(ConfigError, match=r"got 3\.5 \(float\); known part names: bolt"):
        parts.get(3.5)


def test_add_registers_a_factory_and_guards_names_and_aliases():
    parts = registry.Registry("part", _Part, aliases={"screw": "bolt"})
    assert parts.add("Nut", lambda: _Bolt(1)) == "nut"
    assert parts.names() == ["bolt", "nut"] and parts.get("nut").size == 1
    for taken, words in (("bolt", "'bolt' is already registered"),
                         ("screw", "'screw (an alias of bolt)' is already registered")):
        with pytest.raises(ConfigError, match=re.escape(words)):
            parts.add(taken, lambda: _Bolt(2))
    parts.add("screw", lambda: _Bolt(2), overwrite=True)
    assert parts.get("screw").size == 2 and "screw" not in parts.aliases


def test_defined_in_enters_only_the_classes_of_a_package():
    table = registry.Registry("widget", _Base, key=registry.defined_in(__name__)).table()
    assert table["alpha"] is _Alpha and table["beta"] is _Beta
    assert registry.Registry("widget", _Base, key=registry.defined_in("elsewhere")).names() == []


def test_class_aliases_are_read_from_the_classes_and_a_clash_stops_the_import():
    class Root:
        name = None

    class One(Root):
        name = "one"
        aliases = ("uno", "1")

    table = registry.Registry("widget", Root)
    assert registry.class_aliases(table) == {"uno": "one", "1": "one"}

    class Two(Root):
        name = "two"
        aliases = ("uno",)

    with pytest.raises(RuntimeError, match="widget name 'uno' is declared twice"):
        registry.class_aliases(table)


def test_configurable_config_and_repr_come_from_the_hyperparameters():
    class Scaled(registry.Configurable):
        name = "scaled"
        hyperparameters = ("factor", "shift")

        def __init__(self, factor=2.0, shift=0.0):
            self.factor, self.shift = factor, shift

    assert Scaled(3.0).get_config() == {"name": "scaled", "factor": 3.0, "shift": 0.0}
    assert repr(Scaled(3.0)) == "Scaled(factor=3.0, shift=0.0)"
    Scaled.name = None          # a family of one class: the config is the hyperparameters alone
    assert Scaled().get_config() == {"factor": 2.0, "shift": 0.0}
