"""Name tables shared by the registries (activations, losses, optimizers, initializers, ...).

Each registry is built from the classes themselves: a class with a ``name`` attribute is known
by that name, as soon as it is defined. A module keeps its table (and its aliases), and uses
these helpers to find the classes, to resolve a name a user typed, and to word the error for a
name it does not know:

>>> from nnscratch import optimizers
>>> resolve("Adam", named_subclasses(optimizers.Optimizer))
'adam'
"""

from .errors import ConfigError


def all_subclasses(cls):
    """Every subclass of ``cls`` at any depth, depth first."""
    for sub in cls.__subclasses__():
        yield sub
        yield from all_subclasses(sub)


def named_subclasses(base):
    """``{name: class}`` for every subclass of ``base`` whose ``name`` is set."""
    return {cls.name: cls for cls in all_subclasses(base) if cls.name}


def lower(name):
    """The default spelling rule: names are case-insensitive."""
    return name.lower()


def resolve(name, table, aliases=None, normalize=lower):
    """The key of ``table`` that ``name`` stands for, or None if it stands for none.

    ``name`` is first respelled by ``normalize`` (lower case by default); a key of ``table``
    is taken as it is, anything else is looked up in ``aliases`` (alias -> key). Anything
    that is not a string stands for nothing.
    """
    if not isinstance(name, str):
        return None
    key = normalize(name)
    if key not in table and aliases:
        key = aliases.get(key, key)
    return key if key in table else None


def unknown_name(kind, name, known):
    """The error for a name no entry answers to: ``unknown <kind> 'x'; expected one of: ...``."""
    return ConfigError(f"unknown {kind} {name!r}; expected one of: {', '.join(known)}")
