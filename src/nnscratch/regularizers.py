"""Weight penalties added to the loss: L1, L2 and both.

A regulariser is called on a parameter array and returns the penalty it adds to the loss;
``gradient(w)`` returns the derivative of that penalty, which the layer adds to the
parameter's gradient before the optimizer step.

.. math::

    \\Omega_{L1}(W) = \\lambda_1 \\sum |W|, \\quad
    \\partial\\Omega_{L1}/\\partial W = \\lambda_1 \\operatorname{sign}(W)

    \\Omega_{L2}(W) = \\lambda_2 \\sum W^2, \\quad \\partial\\Omega_{L2}/\\partial W = 2 \\lambda_2 W

As in Keras the L2 penalty is ``l2 * sum(W**2)`` (no 1/2), and the L1 subgradient at 0 is 0.
The penalty is added once per batch, to the batch's mean loss.
"""

import numpy as np

from . import checks
from .errors import ConfigError
from .registry import Configurable, Registry


class Regularizer(Configurable):
    """An L1/L2 penalty ``l1 * sum|W| + l2 * sum W^2``, with ``l1, l2 >= 0``.

    The one class of its family, so it has no ``name``: its config is ``{"l1": .., "l2": ..}``.
    """

    hyperparameters = ("l1", "l2")

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = checks.number(l1, "regularizer l1", low=0.0)
        self.l2 = checks.number(l2, "regularizer l2", low=0.0)

    def __call__(self, w):
        penalty = 0.0
        if self.l1:
            penalty += self.l1 * float(np.sum(np.abs(w)))
        if self.l2:
            penalty += self.l2 * float(np.sum(np.square(w)))
        return penalty

    def gradient(self, w):
        """d penalty / dW, shaped like ``w``."""
        grad = np.zeros_like(w)
        if self.l1:
            grad += w.dtype.type(self.l1) * np.sign(w)
        if self.l2:
            grad += w.dtype.type(2.0 * self.l2) * w
        return grad


def L1(l1=0.01):
    """``l1 * sum|W|``."""
    return Regularizer(l1=l1)


def L2(l2=0.01):
    """``l2 * sum W^2``."""
    return Regularizer(l2=l2)


def L1L2(l1=0.0, l2=0.0):
    """``l1 * sum|W| + l2 * sum W^2``."""
    return Regularizer(l1=l1, l2=l2)


#: The regularizers by name: ``"l1"``, ``"l2"`` and ``"l1_l2"``, each with the weight 0.01.
REGISTRY = Registry("regularizer", Regularizer)
REGISTRY.add("l1", L1)
REGISTRY.add("l2", L2)
REGISTRY.add("l1_l2", lambda: L1L2(0.01, 0.01))


def names():
    """The regularizer names, sorted."""
    return REGISTRY.names()


def get(identifier):
    """A Regularizer from None, a Regularizer, a config dict ``{"l1": .., "l2": ..}`` or a name
    (``"l1"``, ``"l2"``, ``"l1_l2"``, case-insensitive); None stays None."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        unexpected = sorted(set(identifier) - set(Regularizer.hyperparameters), key=repr)
        if unexpected:
            raise ConfigError(f"a regularizer config takes 'l1' and 'l2', got unexpected "
                              f"{', '.join(map(repr, unexpected))} in {identifier!r}")
        return Regularizer(**identifier)
    return REGISTRY.get(identifier)
