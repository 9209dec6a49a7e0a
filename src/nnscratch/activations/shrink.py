"""Shrinkage functions (soft and hard shrink) and the Gaussian bump."""

import numpy as np

from .. import checks
from .base import SCALE_LIMIT, ElementwiseActivation
from .kernels import _exp, _square


class Shrink(ElementwiseActivation):
    r"""Base of the shrinkage functions: zero inside :math:`[-\lambda, \lambda]`, slope 1 outside.

    Holds the threshold ``lambd`` (default 0.5, in :math:`[0, 10^3]`) and the derivative both
    share, :math:`f'(z) = 1` where :math:`|z| > \lambda`, else 0, with subgradient 0 at
    :math:`z = \pm\lambda` (as PyTorch). A subclass writes only ``_forward``.
    """

    hyperparameters = ("lambd",)

    def __init__(self, lambd=0.5):
        self.lambd = checks.number(lambd, f"{type(self).__name__} lambd", low=0.0, high=SCALE_LIMIT)

    def _derivative(self, z, a):
        return self._outside(z)

    def _outside(self, z):
        """1 where ``|z| > lambd``, else 0 (so 0 at the kinks)."""
        return (np.abs(z) > self.lambd).astype(z.dtype)


class Softshrink(Shrink):
    r"""Soft thresholding, with threshold ``lambd`` (default 0.5, in :math:`[0, 10^3]`).

    .. math::

        f(z) = \begin{cases} z - \lambda & z > \lambda \\ z + \lambda & z < -\lambda \\
        0 & \text{otherwise} \end{cases}, \qquad
        f'(z) = \begin{cases} 1 & |z| > \lambda \\ 0 & \text{otherwise} \end{cases}

    Subgradient 0 at :math:`z = \pm\lambda` (as PyTorch).
    """

    name = "softshrink"
    aliases = ("soft_shrink",)

    def _forward(self, z):
        return (z - np.sign(z) * self.lambd) * self._outside(z)


class Hardshrink(Shrink):
    r"""Hard thresholding, with threshold ``lambd`` (default 0.5, in :math:`[0, 10^3]`).

    .. math::

        f(z) = \begin{cases} z & |z| > \lambda \\ 0 & \text{otherwise} \end{cases}, \qquad
        f'(z) = \begin{cases} 1 & |z| > \lambda \\ 0 & \text{otherwise} \end{cases}

    Subgradient 0 at :math:`z = \pm\lambda` (as PyTorch).
    """

    name = "hardshrink"
    aliases = ("hard_shrink",)

    def _forward(self, z):
        return z * self._outside(z)


class Gaussian(ElementwiseActivation):
    r"""Gaussian bump.

    .. math::

        f(z) = e^{-z^2}, \qquad f'(z) = -2z\,e^{-z^2} = -2z\,f(z)
    """

    name = "gaussian"

    def _forward(self, z):
        return _exp(-_square(z))

    def _derivative(self, z, a):
        return -2.0 * z * a
