"""The shared registry helpers: subclass tables, name resolution, the unknown-name error."""

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


def test_named_subclasses_finds_every_depth_and_skips_unnamed():
    assert registry.named_subclasses(_Base) == {"alpha": _Alpha, "beta": _Beta}
    assert list(registry.all_subclasses(_Base)) == [_Alpha, _Unnamed, _Beta]


def test_a_class_defined_later_is_found():
    class Gamma(_Base):
        name = "gamma"
    assert registry.named_subclasses(_Base)["gamma"] is Gamma


def test_resolve_is_case_insensitive_and_follows_aliases():
    table = {"alpha": _Alpha, "beta": _Beta}
    assert registry.resolve("ALPHA", table) == "alpha"
    assert registry.resolve("a", table, {"a": "alpha"}) == "alpha"
    assert registry.resolve("a", table) is None
    assert registry.resolve("gamma", table, {"a": "alpha"}) is None
    assert registry.resolve("x-y", {"x_y": 1}, normalize=lambda s: s.replace("-", "_")) == "x_y"


@pytest.mark.parametrize("name", [None, 3, b"alpha", ["alpha"]])
def test_resolve_takes_only_strings(name):
    assert registry.resolve(name, {"alpha": _Alpha}) is None


def test_unknown_name_is_a_config_error_naming_the_choices():
    error = registry.unknown_name("widget", "gizmo", ["a", "b"])
    assert isinstance(error, ConfigError)
    assert str(error) == "unknown widget 'gizmo'; expected one of: a, b"
