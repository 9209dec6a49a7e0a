"""Weight penalties added to the loss: L1, L2 and both.

A regulariser is called on a parameter array and returns the penalty it adds to the loss;
``gradient(w)`` returns the derivative of that penalty, which the layer adds to the
parameter's gradient before the optimizer step.

.. math::

    \\Omega_{L1}(W) = \\lambda_1 \\sum |W|, \\quad \\partial\\Omega_{L1}/\\partial W = \\lambda_1 \\operatorname{sign}(W)

    \\Omega_{L2}(W) = \\lambda_2 \\sum W^2, \\quad \\partial\\Omega_{L2}/\\partial W = 2 \\lambda_2 W

As in Keras the L2 penalty is ``l2 * sum(W**2)`` (no 1/2), and the L1 subgradient at 0 is 0.
The penalty is added once per batch, to the batch's mean loss.
"""

import numpy as np

from .errors import ConfigError


class Regularizer:
    """An L1/L2 penalty ``l1 * sum|W| + l2 * sum W^2``."""

    def __init__(self, l1=0.0, l2=0.0):
        for label, value in (("l1", l1), ("l2", l2)):
            if not (isinstance(value, (int, float)) and value >= 0):
                raise ConfigError(f"regularizer {label} must be a number >= 0, got {value!r}")
        self.l1, self.l2 = float(l1), float(l2)

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

    def get_config(self):
        """``{"l1": ..., "l2": ...}``, JSON-safe; ``get(config)`` rebuilds it."""
        return {"l1": self.l1, "l2": self.l2}

    def __repr__(self):
        return f"Regularizer(l1={self.l1}, l2={self.l2})"


def L1(l1=0.01):
    """``l1 * sum|W|``."""
    return Regularizer(l1=l1)


def L2(l2=0.01):
    """``l2 * sum W^2``."""
    return Regularizer(l2=l2)


def L1L2(l1=0.0, l2=0.0):
    """``l1 * sum|W| + l2 * sum W^2``."""
    return Regularizer(l1=l1, l2=l2)


def get(identifier):
    """A Regularizer from None, a Regularizer, a config dict, ``"l1"``, ``"l2"`` or ``"l1_l2"``."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, dict):
        unexpected = sorted(set(identifier) - {"l1", "l2"}, key=repr)
        if unexpected:
            raise ConfigError(f"a regularizer config takes 'l1' and 'l2', got unexpected "
                              f"{', '.join(map(repr, unexpected))} in {identifier!r}")
        return Regularizer(**identifier)
    defaults = {"l1": L1, "l2": L2, "l1_l2": lambda: L1L2(0.01, 0.01)}
    if isinstance(identifier, str) and identifier.lower() in defaults:
        return defaults[identifier.lower()]()
    raise ConfigError(f"unknown regularizer {identifier!r}; expected None, 'l1', 'l2', 'l1_l2', "
                      "a dict {'l1': .., 'l2': ..} or a Regularizer")
