r"""Activation functions: the forward map, its derivative, and a registry by name.

Every activation is an :class:`Activation` with the same two methods, so any one can replace
any other in a layer:

- ``forward(z) -> a``, shaped and typed like ``z``;
- ``backward(z, a, grad_a) -> grad_z``, the vector-Jacobian product
  :math:`\partial L / \partial z` given :math:`\partial L / \partial a`, where ``a`` is the
  output ``forward(z)`` already computed. For an elementwise activation this is
  ``grad_a * f'(z)``; for a row-wise one (softmax, log-softmax, softmin, over the last axis)
  it is the product with the full Jacobian of each row, computed without forming it.

Each class writes its formula and derivative in its docstring, its forward and derivative side
by side, and the subgradient it takes at a kink. Stable kernels that more than one class uses
(:func:`sigmoid`, :func:`softplus`, :func:`log_sigmoid`, :func:`softmax`, :func:`log_softmax`,
:func:`erf`, :func:`erfc`) are plain functions of arrays, public so that losses and users can
share them.

Numerical conventions (all tested):

- The computation runs in the dtype of ``z``: float32 in, float32 out (constants are Python
  floats, which NumPy does not let widen an array). Integer or boolean input becomes float64;
  float16 is computed in float32 and returned as float16.
- No overflow: ``exp`` is only ever taken of a non-positive number (two-branch sigmoid,
  ``logaddexp``-style softplus, row maximum subtracted in softmax, ``expm1(min(z, 0))`` in the
  ELU family).
- No underflow either, so the functions run cleanly even under ``np.errstate(all="raise")``:
  an ``exp`` whose result would fall below the square root of the dtype's smallest normal number
  (about ``1e-154`` in float64, ``1e-19`` in float32) returns exactly 0, and a square too small
  to matter next to 1 (``|z|`` below the dtype's epsilon) is taken as 0. The products a backward
  pass forms from such values then stay in the normal range. The absolute error this costs is
  below those thresholds.
- Every forward and backward is finite for inputs in ``[-1e4, 1e4]`` in float32 and float64
  (most of them for any finite input).

The registry is built from the classes' own ``name`` (and ``aliases``) attributes:

>>> get("relu")                     # by name, case-insensitive
ReLU()
>>> get({"name": "leaky_relu", "alpha": 0.2})
LeakyReLU(alpha=0.2)
>>> get("swish").name               # an alias
'silu'

:func:`register` adds a user-defined elementwise activation from a forward function and its
derivative.

The package keeps one family per module: :mod:`.kernels` (stable shared kernels),
:mod:`.error_function`, :mod:`.base` (the contract), :mod:`.rectifiers`, :mod:`.sigmoidal`,
:mod:`.smooth`, :mod:`.shrink`, :mod:`.rowwise` (the softmax family) and :mod:`.user`; this
module holds the registry.
"""

import re

from ..errors import ConfigError
from ..registry import all_subclasses, resolve
from .base import Activation, ElementwiseActivation
from .error_function import erf, erfc
from .kernels import _all_small, _exp_floor, log_sigmoid, log_softmax, sigmoid, softmax, softplus
from .rectifiers import CELU, ELU, SELU, BinaryStep, Identity, LeakyReLU, ReLU, ReLU6
from .sigmoidal import (Arctan, HardSigmoid, HardTanh, LogSigmoid, Sigmoid, Softsign, Tanh,
                        Tanhshrink)
from .smooth import GELU, BentIdentity, GELUTanh, HardSwish, Mish, SiLU, Softplus, Squareplus
from .shrink import Gaussian, Hardshrink, Softshrink
from .rowwise import LogSoftmax, Softmax, Softmin
from .user import UserActivation

__all__ = [
    "Activation", "ElementwiseActivation", "UserActivation", "get", "names", "register",
    "erf", "erfc", "sigmoid", "softplus", "log_sigmoid", "softmax", "log_softmax",
]


_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


def _builtin_classes():
    """Every class of this package that declares its own ``name``, found from the classes."""
    return [cls for cls in all_subclasses(Activation)
            if cls.__module__.startswith(__name__ + ".") and cls.__dict__.get("name")]


def _build_registry():
    registry, aliases = {}, {}
    for cls in _builtin_classes():
        for key in (cls.name, *cls.aliases):
            if key in registry or key in aliases:
                raise RuntimeError(f"activation name '{key}' is declared twice")
        registry[cls.name] = cls
        aliases.update({alias: cls.name for alias in cls.aliases})
    return registry, aliases


# name -> a class (built-ins) or a UserActivation instance (register); alias -> name
_REGISTRY, _ALIASES = _build_registry()


def names():
    """The registered activation names, sorted (aliases not included)."""
    return sorted(_REGISTRY)


def _normalize(name):
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def _known():
    alias_text = ", ".join(f"{a} -> {n}" for a, n in sorted(_ALIASES.items()))
    return f"known names: {', '.join(names())} (aliases: {alias_text})"


def _lookup(name, came_in):
    key = resolve(name, _REGISTRY, _ALIASES, _normalize)
    if key is None:
        raise ConfigError(f"unknown activation {came_in!r}; {_known()}")
    return key, _REGISTRY[key]


def _from_config(config):
    params = dict(config)
    name = params.pop("name", None)
    if not isinstance(name, str):
        raise ConfigError(f"an activation config needs a string 'name', got {config!r}; "
                          f"{_known()}")
    key, entry = _lookup(name, name)
    allowed = entry.hyperparameters
    unexpected = sorted(set(params) - set(allowed))
    if unexpected:
        takes = ", ".join(allowed) if allowed else "no hyperparameters"
        raise ConfigError(f"activation '{key}' takes {takes}; got unexpected "
                          f"{', '.join(map(repr, unexpected))} in {config!r}")
    return entry(**params) if isinstance(entry, type) else entry


def get(identifier):
    """The activation an identifier names.

    - ``None``: the identity;
    - a string: a registered name or alias, case-insensitive (``"ReLU"``, ``"swish"``,
      ``"linear"``); built-ins get their default hyperparameters;
    - an :class:`Activation`: itself;
    - a dict ``{"name": ..., **hyperparameters}``, as ``get_config()`` returns: a new instance.

    Anything else, or an unknown name, raises :class:`~nnscratch.errors.ConfigError` listing
    the known names.
    """
    if identifier is None:
        return Identity()
    if isinstance(identifier, Activation):
        return identifier
    if isinstance(identifier, str):
        _, entry = _lookup(identifier, identifier)
        return entry() if isinstance(entry, type) else entry
    if isinstance(identifier, dict):
        return _from_config(identifier)
    raise ConfigError(
        f"an activation must be given as a name, an Activation, a config dict or None, got "
        f"{identifier!r} ({type(identifier).__name__}); {_known()}. To use your own "
        "function, register it first: activations.register(name, forward, derivative)")


def register(name, forward, derivative, overwrite=False):
    """Register a user-defined elementwise activation and return it.

    ``forward(z) -> a`` and ``derivative(z, a) -> f'(z)`` act elementwise on arrays; the
    backward pass is ``grad_a * derivative(z, a)``. Check the pair with
    ``nnscratch.gradcheck.check_activation(name, z)``.

    The name (lower-case snake case) must be new, unless ``overwrite=True``. The activation's
    ``get_config()`` is ``{"name": name}`` only: a saved model that uses it can be loaded only
    after the same name is registered again.
    """
    if not isinstance(name, str) or not _NAME_PATTERN.match(_normalize(name)):
        raise ConfigError(f"an activation name must be a lower-case identifier such as "
                          f"'my_act', got {name!r}")
    if not callable(forward) or not callable(derivative):
        raise ConfigError(f"register('{name}', forward, derivative) needs two functions, got "
                          f"{type(forward).__name__} and {type(derivative).__name__}")
    key = _normalize(name)
    if (key in _REGISTRY or key in _ALIASES) and not overwrite:
        taken = key if key in _REGISTRY else f"{key} (an alias of {_ALIASES[key]})"
        raise ConfigError(f"activation '{taken}' is already registered; pass overwrite=True "
                          "to replace it")
    _ALIASES.pop(key, None)
    activation = UserActivation(key, forward, derivative)
    _REGISTRY[key] = activation
    return activation
