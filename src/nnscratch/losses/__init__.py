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
``N`` (the number of rows), as in Keras. For outputs (N, T, ...) a weight may be given per
position, (N, T), and a sequence mask becomes such weights (:func:`masked_weights`: masked steps
0, the mean taken over the real steps), see :mod:`.positions`.

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

Registry (:data:`REGISTRY`): ``get("mse")``, ``get({"name": "huber", "delta": 2.0})``, ``get(loss_instance)``;
``names()`` lists the known names; ``register(name, value_fn, gradient_fn)`` adds a user loss.

One family per module: :mod:`.kernels` (stable kernels, reductions, ``EPSILON``), :mod:`.base`
(the contract), :mod:`.positions` (weights per position and masks), :mod:`.regression`,
:mod:`.robust`, :mod:`.crossentropy`, :mod:`.focal`, :mod:`.hinge`, :mod:`.overlap` and
:mod:`.user`; this module holds the registry.
"""

import functools

from ..errors import ConfigError
from ..registry import Registry, class_aliases, defined_in, snake
from .base import Loss
from .crossentropy import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    KLDivergence,
    SparseCategoricalCrossentropy,
)
from .focal import BinaryFocalCrossentropy, CategoricalFocalCrossentropy
from .hinge import CategoricalHinge, Hinge, SquaredHinge
from .kernels import EPSILON
from .overlap import CosineSimilarity, Dice, Tversky
from .positions import masked_weights
from .regression import (
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    RootMeanSquaredError,
    SumSquaredError,
)
from .robust import Huber, LogCosh, Pinball, SmoothL1
from .user import _FunctionLoss

__all__ = [
    "Loss", "REGISTRY", "EPSILON", "get", "names", "register", "masked_weights",
    "SumSquaredError", "MeanSquaredError", "MeanAbsoluteError", "RootMeanSquaredError",
    "MeanSquaredLogarithmicError", "MeanAbsolutePercentageError", "Poisson",
    "Huber", "LogCosh", "SmoothL1", "Pinball",
    "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "KLDivergence",
    "BinaryFocalCrossentropy", "CategoricalFocalCrossentropy",
    "Hinge", "SquaredHinge", "CategoricalHinge", "CosineSimilarity", "Dice", "Tversky",
]


def _spelling(name):
    """Registry spelling: :func:`~nnscratch.registry.snake`, and ``crossentropy`` in one word."""
    return snake(name).replace("cross_entropy", "crossentropy")


#: The losses by name: the classes of this package that set their own ``name`` (a user's
#: subclass is not entered), their ``aliases``, and the losses added by :func:`register`.
REGISTRY = Registry("loss", Loss, normalize=_spelling, key=defined_in(__name__))
REGISTRY.aliases.update(class_aliases(REGISTRY))


def names():
    """Sorted names of the known losses (built-in and registered; aliases not included)."""
    return REGISTRY.names()


def get(identifier):
    """A :class:`Loss` from a name (case-insensitive, aliases allowed), a Loss, a Loss class,
    or a config dict ``{"name": ..., **hyperparameters}`` as written by ``get_config``.

    Anything else, or an unknown name, raises :class:`~nnscratch.errors.ConfigError` listing the
    known names (register a new loss with :func:`register`).
    """
    return REGISTRY.get(identifier)


def register(name, value_fn, gradient_fn, overwrite=False):
    """Add a user-defined loss, reduced by the mean over samples.

    ``value_fn(y_pred, y_true)`` returns the loss of each sample, shape ``(N,)``;
    ``gradient_fn(y_pred, y_true)`` returns its derivative, row ``i`` = d loss_i / d y_pred[i],
    shaped like ``y_pred``. Check the pair with ``nnscratch.gradcheck.check_loss(name, ...)``.
    A name already known (a loss or an alias) raises ConfigError unless ``overwrite=True``.
    Returns the new loss.
    """
    if not isinstance(name, str) or not _spelling(name):
        raise ConfigError(f"a loss name must be a non-empty string, got {name!r}")
    for what, fn in (("value_fn", value_fn), ("gradient_fn", gradient_fn)):
        if not callable(fn):
            raise ConfigError(f"register({name!r}): {what} must be callable, got {fn!r}")
    key = _spelling(name)
    REGISTRY.add(key, functools.partial(_FunctionLoss, key, value_fn, gradient_fn),
                 overwrite=overwrite)
    return REGISTRY.get(key)
