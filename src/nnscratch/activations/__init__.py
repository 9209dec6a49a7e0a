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

The registry, :data:`REGISTRY` (a :class:`~nnscratch.registry.Registry`), is built from the
classes' own ``name`` (and ``aliases``) attributes:

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
from ..registry import Registry, class_aliases, defined_in, snake
from .base import Activation, ElementwiseActivation
from .error_function import erf, erfc
from .kernels import _all_small as _all_small  # re-exported: the fast-path tests use them
from .kernels import _exp_floor as _exp_floor
from .kernels import log_sigmoid, log_softmax, sigmoid, softmax, softplus
from .rectifiers import CELU, ELU, SELU, BinaryStep, Identity, LeakyReLU, ReLU, ReLU6
from .rowwise import LogSoftmax, Softmax, Softmin
from .shrink import Gaussian, Hardshrink, Softshrink
from .sigmoidal import Arctan, HardSigmoid, HardTanh, LogSigmoid, Sigmoid, Softsign, Tanh, Tanhshrink
from .smooth import GELU, BentIdentity, GELUTanh, HardSwish, Mish, SiLU, Softplus, Squareplus
from .user import UserActivation

__all__ = [
    "Activation", "ElementwiseActivation", "UserActivation", "REGISTRY", "get", "names",
    "register", "erf", "erfc", "sigmoid", "softplus", "log_sigmoid", "softmax", "log_softmax",
    "Identity", "BinaryStep", "ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "CELU",
    "Sigmoid", "HardSigmoid", "LogSigmoid", "Tanh", "HardTanh", "Tanhshrink", "Softsign", "Arctan",
    "GELU", "GELUTanh", "SiLU", "HardSwish", "Mish", "Softplus", "Squareplus", "BentIdentity",
    "Softshrink", "Hardshrink", "Gaussian", "Softmax", "LogSoftmax", "Softmin",
]


_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")

#: The activations by name: the classes of this package that set their own ``name`` (a user's
#: subclass is not entered), their ``aliases``, and the functions added by :func:`register`.
#: Names are spelled as :func:`~nnscratch.registry.snake` leaves them (``"Leaky-ReLU"``).
REGISTRY = Registry("activation", Activation, normalize=snake, key=defined_in(__name__))
REGISTRY.aliases.update(class_aliases(REGISTRY))


def names():
    """The registered activation names, sorted (aliases not included)."""
    return REGISTRY.names()


def get(identifier):
    """The activation an identifier names.

    - ``None``: the identity;
    - a string: a registered name or alias, case-insensitive (``"ReLU"``, ``"swish"``,
      ``"linear"``); built-ins get their default hyperparameters;
    - an :class:`Activation`: itself;
    - a dict ``{"name": ..., **hyperparameters}``, as ``get_config()`` returns: a new instance.

    Anything else (a class or a plain function too), or an unknown name, raises
    :class:`~nnscratch.errors.ConfigError` listing the known names.
    """
    if identifier is None:
        return Identity()
    if isinstance(identifier, (Activation, str, dict)):
        return REGISTRY.get(identifier)
    raise ConfigError(
        f"an activation must be given as a name, an Activation, a config dict or None, got "
        f"{identifier!r} ({type(identifier).__name__}); {REGISTRY.known()}. To use your own "
        "function, register it first: activations.register(name, forward, derivative)")


def register(name, forward, derivative, overwrite=False):
    """Register a user-defined elementwise activation and return it.

    ``forward(z) -> a`` and ``derivative(z, a) -> f'(z)`` act elementwise on arrays; the
    backward pass is ``grad_a * derivative(z, a)``. Check the pair with
    ``nnscratch.gradcheck.check_activation(name, z)``.

    The name (lower-case snake case) must be new, unless ``overwrite=True``. ``get(name)``
    returns this very object. Its ``get_config()`` is ``{"name": name}`` only: a saved model
    that uses it can be loaded only after the same name is registered again.
    """
    if not isinstance(name, str) or not _NAME_PATTERN.match(snake(name)):
        raise ConfigError(f"an activation name must be a lower-case identifier such as "
                          f"'my_act', got {name!r}")
    if not callable(forward) or not callable(derivative):
        raise ConfigError(f"register('{name}', forward, derivative) needs two functions, got "
                          f"{type(forward).__name__} and {type(derivative).__name__}")
    activation = UserActivation(snake(name), forward, derivative)
    REGISTRY.add(name, lambda: activation, overwrite=overwrite)
    return activation
