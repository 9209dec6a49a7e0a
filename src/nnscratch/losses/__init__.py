"""Loss (cost) functions: a value, its exact gradient, and a registry by name.

Every loss is written as two pure pieces, the loss of each sample and its derivative,

.. math::

    l_i = \\ell(p_i, y_i), \\qquad g_i = \\frac{\\partial l_i}{\\partial p_i}

and the base class :class:`Loss` turns them into the batch value and its gradient, with optional
sample weights :math:`w_i` (1 when not given):

.. math::

    L = \\frac{1}{D} \\sum_{i=1}^{N} w_i\\, l_i, \\qquad
    \\frac{\\partial L}{\\partial p_i} = \\frac{w_i}{D}\\, g_i, \\qquad
    D = N \\text{ for reduction "mean"}, \\; D = 1 \\text{ for "sum"}.

So with ``"mean"`` a weight of 2 counts a sample twice in the numerator but the divisor stays
``N`` (the number of rows), as in Keras.

Conventions shared by all losses:

- ``y_pred`` has shape ``(N, ...)``: a batch of ``N`` samples. ``(N,)`` is a batch of single
  outputs. ``y_true`` has the same shape (``(N,)`` and ``(N, 1)`` are accepted for each other);
  the sparse categorical cross-entropy takes integer class labels shaped ``y_pred.shape[:-1]``
  (or with a trailing 1) instead.
- Elementwise losses (mse, mae, huber, log_cosh, msle, mape, binary cross-entropy, the hinges,
  poisson, focal) average over all the output elements of a sample, as Keras does; ``sse``
  sums them. Losses over a distribution (categorical cross-entropies, categorical hinge,
  KL divergence, cosine similarity) work along the last axis and average over any axes between
  the batch axis and the last one.
- Probabilities are clipped to :math:`[\\epsilon, 1 - \\epsilon]` with ``EPSILON = 1e-7`` (the Keras
  value) before any logarithm. The loss is then the loss *of the clipped value*, so where a
  prediction is clipped the gradient is zero and value and gradient stay consistent. Feed logits
  (``from_logits=True``, or let the Network fuse a softmax/sigmoid output with its loss) to avoid
  this flat region: the fused forms are exact and stable for any finite input.
- Subgradients at kinks are written next to each formula (mae takes 0 at ``p = y``).
- The gradient has the shape and dtype of ``y_pred``: float32 in, float32 out. Targets are cast to
  the dtype of ``y_pred``.
- For any finite input no overflow or invalid operation happens. Underflow to zero (``exp(-1e4)``)
  is harmless and is not reported, even under ``np.errstate(all="raise")``: value, gradient and
  the per-sample methods of every subclass run with underflow ignored.

Registry: ``get("mse")``, ``get({"name": "huber", "delta": 2.0})``, ``get(loss_instance)``;
``names()`` lists the known names; ``register(name, value_fn, gradient_fn)`` adds a user loss.

One family per module: :mod:`.kernels` (stable kernels, reductions, ``EPSILON``), :mod:`.base`
(the contract), :mod:`.regression`, :mod:`.robust`, :mod:`.crossentropy`, :mod:`.focal`,
:mod:`.hinge`, :mod:`.overlap` and :mod:`.user`; this module holds the registry.
"""

import functools

from ..errors import ConfigError
from ..registry import resolve
from .base import Loss
from .regression import (MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
                         MeanSquaredLogarithmicError, Poisson, RootMeanSquaredError,
                         SumSquaredError)
from .robust import Huber, LogCosh, Pinball, SmoothL1
from .crossentropy import (BinaryCrossentropy, CategoricalCrossentropy, KLDivergence,
                           SparseCategoricalCrossentropy)
from .focal import BinaryFocalCrossentropy, CategoricalFocalCrossentropy
from .hinge import CategoricalHinge, Hinge, SquaredHinge
from .overlap import CosineSimilarity, Dice, Tversky
from .kernels import EPSILON
from .user import _FunctionLoss


_BUILTINS = (
    SumSquaredError, MeanSquaredError, MeanAbsoluteError, RootMeanSquaredError, Huber, SmoothL1,
    LogCosh, MeanSquaredLogarithmicError, MeanAbsolutePercentageError, Pinball, Poisson,
    CosineSimilarity, BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy, CategoricalFocalCrossentropy, Hinge, SquaredHinge,
    CategoricalHinge, KLDivergence, Dice, Tversky,
)

# name -> factory (a Loss class, or a partial that builds a user loss); built from the classes
_REGISTRY = {cls.name: cls for cls in _BUILTINS}
_ALIASES = {alias: cls.name for cls in _BUILTINS for alias in cls.aliases}


def _normalize(name):
    """Registry spelling: lower case, ``_`` for spaces and dashes, ``crossentropy`` in one word."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    return key.replace("cross_entropy", "crossentropy")


def names():
    """Sorted names of the known losses (built-in and registered; aliases not included)."""
    return sorted(_REGISTRY)


def _lookup(name):
    key = resolve(name, _REGISTRY, _ALIASES, _normalize)
    if key is None:
        raise ConfigError(f"unknown loss {name!r}; known losses: {', '.join(names())}")
    return _REGISTRY[key]


def get(identifier):
    """A :class:`Loss` from a name (case-insensitive, aliases allowed), a Loss, a Loss class,
    or a config dict ``{"name": ..., **hyperparameters}`` as written by ``get_config``."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, str):
        return _lookup(identifier)()
    if isinstance(identifier, dict):
        config = dict(identifier)
        name = config.pop("name", None)
        if not isinstance(name, str):
            raise ConfigError(f"a loss config needs a 'name' string, got {identifier!r}")
        factory = _lookup(name)
        try:
            return factory(**config)
        except TypeError:
            raise ConfigError(
                f"loss {name!r} does not take the hyperparameters {sorted(config)}; "
                f"got config {identifier!r}"
            ) from None
    raise ConfigError(
        f"expected a loss name, a Loss or a config dict, got {type(identifier).__name__} "
        f"{identifier!r}; known losses: {', '.join(names())} "
        "(register a new one with nnscratch.losses.register)"
    )


def register(name, value_fn, gradient_fn, overwrite=False):
    """Add a user-defined loss, reduced by the mean over samples.

    ``value_fn(y_pred, y_true)`` returns the loss of each sample, shape ``(N,)``;
    ``gradient_fn(y_pred, y_true)`` returns its derivative, row ``i`` = d loss_i / d y_pred[i],
    shaped like ``y_pred``. Check the pair with ``nnscratch.gradcheck.check_loss(name, ...)``.
    A name already known (a loss or an alias) raises ConfigError unless ``overwrite=True``.
    Returns the new loss.
    """
    if not isinstance(name, str) or not _normalize(name):
        raise ConfigError(f"a loss name must be a non-empty string, got {name!r}")
    for what, fn in (("value_fn", value_fn), ("gradient_fn", gradient_fn)):
        if not callable(fn):
            raise ConfigError(f"register({name!r}): {what} must be callable, got {fn!r}")
    key = _normalize(name)
    if not overwrite and (key in _REGISTRY or key in _ALIASES):
        raise ConfigError(
            f"a loss named {key!r} already exists; pass overwrite=True to replace it"
        )
    _ALIASES.pop(key, None)
    _REGISTRY[key] = functools.partial(_FunctionLoss, key, value_fn, gradient_fn)
    return _REGISTRY[key]()
