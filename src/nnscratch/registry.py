"""One name table for every named family, and one base for every configurable object.

:class:`Registry` is how activations, losses, optimizers, schedules, initializers, metrics,
regularizers and layers are looked up by name. A table is built from the classes themselves:
a subclass of the family's base class that sets its own ``name`` is known by that name as soon as
it is defined (Keras builds its tables the same way; :func:`defined_in` keeps a family to the
classes of its own package); ``add`` registers a user's entry. A
registry accepts a name (respelled by ``normalize``, aliases allowed), an object of the family, a
class of it, or a config dict ``{"name": ..., **hyperparameters}``, and words one error, listing
the known names, for anything else.

:class:`Configurable` is the base of every object that a config rebuilds: it lists its
hyperparameters once (``hyperparameters``), and ``get_config`` and ``__repr__`` are written here
only.

>>> from nnscratch import optimizers
>>> optimizers.REGISTRY.resolve("Adam")
'adam'
"""

from .errors import ConfigError


def all_subclasses(cls):
    """Every subclass of ``cls`` at any depth, depth first."""
    for sub in cls.__subclasses__():
        yield sub
        yield from all_subclasses(sub)


def lower(name):
    """The default spelling rule: names are case-insensitive, surrounding spaces ignored."""
    return name.strip().lower()


def snake(name):
    """Spelling rule for names written many ways: ``"Leaky ReLU"``, ``leaky-relu`` -> ``leaky_relu``."""
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def own_name(cls):
    """The ``name`` a class sets itself (not one inherited from its parent), or None."""
    return vars(cls).get("name")


def defined_in(package):
    """A ``key`` for :class:`Registry` that enters only the classes of ``package``.

    For families whose users register functions rather than subclasses (activations, losses):
    a user's subclass is then not entered by itself, so it cannot take a built-in's name.
    """
    def key(cls):
        inside = cls.__module__ == package or cls.__module__.startswith(package + ".")
        return own_name(cls) if inside else None
    return key


def class_aliases(registry):
    """``{alias: name}`` from the ``aliases`` tuple that each class of ``registry`` declares.

    An alias that is also a name, or that two classes declare, is a mistake in the library, so
    it stops the import with a RuntimeError.
    """
    table = registry.table()
    aliases = {}
    for name, cls in table.items():
        for alias in getattr(cls, "aliases", ()):
            if alias in table or alias in aliases:
                raise RuntimeError(f"{registry.kind} name '{alias}' is declared twice")
            aliases[alias] = name
    return aliases


class Configurable:
    """Base of objects described by ``{"name": ..., **hyperparameters}``.

    A subclass sets ``name`` (its registry key) and ``hyperparameters``, the names of the
    constructor arguments it keeps as attributes of the same name. Then
    ``type(obj)(**{k: v for k, v in obj.get_config().items() if k != "name"})`` is a copy of
    ``obj``, and ``repr(obj)`` shows the same arguments. A family of one class (the regularizer)
    leaves ``name`` None, and its config is the hyperparameters alone.
    """

    name = None
    hyperparameters = ()

    def get_config(self):
        """``{"name": ..., **hyperparameters}``, JSON-safe; the family's ``get`` rebuilds it."""
        named = {"name": self.name} if self.name is not None else {}
        return {**named, **{key: getattr(self, key) for key in self.hyperparameters}}

    def __repr__(self):
        args = ", ".join(f"{key}={getattr(self, key)!r}" for key in self.hyperparameters)
        return f"{type(self).__name__}({args})"


class Registry:
    """The name table of one family of objects.

    Parameters
    ----------
    kind : str
        How messages name a member: ``"activation"``, ``"loss"``, ``"optimizer"``...
    base : type
        The family's base class. Its subclasses that set their own name (see ``key``) are
        entries, found again at each look-up, so a class defined later is known too.
    aliases : dict, optional
        ``{alias: name}``, alias spelled as ``normalize`` leaves it.
    normalize : callable
        Respells what a user typed before the look-up (:func:`lower` by default).
    key : callable
        ``key(cls)`` is a class's name in the table, or None to leave it out
        (:func:`own_name` by default: the ``name`` the class itself sets).
    """

    def __init__(self, kind, base, aliases=None, normalize=lower, key=own_name):
        self.kind = kind
        self.base = base
        self.aliases = dict(aliases or {})
        self.normalize = normalize
        self.key = key
        self.added = {}        # entries registered with add(): name -> factory

    # -- the table ------------------------------------------------------------------------------
    def table(self):
        """``{name: factory}``: the named subclasses of ``base`` and the added entries."""
        table = {}
        for cls in all_subclasses(self.base):
            name = self.key(cls)
            if name:
                table[name] = cls
        table.update(self.added)
        return table

    def names(self):
        """The known names, sorted (aliases not included)."""
        return sorted(self.table())

    def known(self):
        """``known <kind>s: a, b, c (aliases: x -> a)``, for error messages."""
        text = f"known {self.kind} names: {', '.join(self.names())}"
        if self.aliases:
            text += " (aliases: " + ", ".join(f"{a} -> {n}" for a, n in sorted(self.aliases.items())) + ")"
        return text

    def resolve(self, name):
        """The table key that ``name`` stands for, or None (also for anything not a string)."""
        if not isinstance(name, str):
            return None
        table = self.table()
        key = self.normalize(name)
        if key not in table:
            key = self.aliases.get(key, key)
        return key if key in table else None

    def lookup(self, name):
        """``(key, factory)`` for ``name``, or ConfigError listing the known names."""
        key = self.resolve(name)
        if key is None:
            raise self.unknown(name)
        return key, self.table()[key]

    def unknown(self, name):
        """The error for a name no entry answers to."""
        return ConfigError(f"unknown {self.kind} {name!r}; {self.known()}")

    def add(self, name, factory, overwrite=False):
        """Register ``factory`` (a callable returning a new member) under ``name``.

        A name already taken, by an entry or an alias, raises ConfigError unless
        ``overwrite=True``. Returns the normalised name.
        """
        key = self.normalize(name)
        taken = key in self.table() or key in self.aliases
        if taken and not overwrite:
            shown = f"{key} (an alias of {self.aliases[key]})" if key in self.aliases else key
            raise ConfigError(f"{self.kind} '{shown}' is already registered; pass "
                              "overwrite=True to replace it")
        self.aliases.pop(key, None)
        self.added[key] = factory
        return key

    # -- building members -------------------------------------------------------------------------
    def from_config(self, config, **defaults):
        """A new member from ``{"name": ..., **hyperparameters}`` (``defaults`` fill the rest)."""
        params = dict(config)
        name = params.pop("name", None)
        if not isinstance(name, str):
            raise ConfigError(f"a {self.kind} config needs a string 'name', got {config!r}; "
                              f"{self.known()}")
        key, factory = self.lookup(name)
        allowed = getattr(factory, "hyperparameters", None)
        if allowed is not None:
            unexpected = sorted(set(params) - set(allowed))
            if unexpected:
                takes = ", ".join(allowed) if allowed else "no hyperparameters"
                raise ConfigError(f"{self.kind} '{key}' takes {takes}; got unexpected "
                                  f"{', '.join(map(repr, unexpected))} in {config!r}")
        try:
            return factory(**{**defaults, **params})
        except TypeError as exc:
            raise ConfigError(f"{self.kind} '{key}' cannot be built from {config!r}: {exc}") from None

    def get(self, identifier, **defaults):
        """The member ``identifier`` stands for.

        - a member (an instance of ``base``): itself;
        - a subclass of ``base``: a new instance;
        - a string: the entry of that name (or alias), built with ``defaults``;
        - a dict: :meth:`from_config`.

        Anything else raises ConfigError naming what is accepted and the known names.
        """
        if isinstance(identifier, self.base):
            return identifier
        if isinstance(identifier, type) and issubclass(identifier, self.base):
            return identifier(**defaults)
        if isinstance(identifier, str):
            return self.lookup(identifier)[1](**defaults)
        if isinstance(identifier, dict):
            return self.from_config(identifier, **defaults)
        raise ConfigError(f"a {self.kind} must be given as a name, a {self.base.__name__} or a "
                          f"config dict, got {identifier!r} ({type(identifier).__name__}); "
                          f"{self.known()}")

