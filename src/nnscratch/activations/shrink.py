"""Shrinkage functions (soft and hard shrink) and the Gaussian bump."""

import numpy as np

from .. import checks
from .base import SCALE_LIMIT, ElementwiseActivation
from .kernels import _exp, _square


class Softshrink(ElementwiseActivation):
    r"""Soft thresholding, with threshold ``lambd`` (default 0.5, in :math:`[0, 10^3]`).

    .. math::

        f(z) = \begin{cases} z - \lambda & z > \lambda \\ z + \lambda & z < -\lambda \\
        0 & \text{otherwise} \end{cases}, \qquad
        f'(z) = \begin{cases} 1 & |z| > \lambda \\ 0 & \text{otherwise} \end{cases}

    Subgradient 0 at :math:`z = \pm\lambda` (as PyTorch).
    """

    name = "softshrink"
    aliases = ("soft_shrink",)
    hyperparameters = ("lambd",)

    def __init__(self, lambd=0.5):
        self.lambd = checks.number(lambd, "Softshrink lambd", low=0.0, high=SCALE_LIMIT)

    def _forward(self, z):
        return (z - np.sign(z) * self.lambd) * self._outside(z)

    def _derivative(self, z, a):
        return self._outside(z)

    def _outside(self, z):
        """1 where ``|z| > lambd``, else 0 (so 0 at the kinks)."""
        return (np.abs(z) > self.lambd).astype(z.dtype)


class Hardshrink(ElementwiseActivation):
    r"""Hard thresholding, with threshold ``lambd`` (default 0.5, in :math:`[0, 10^3]`).

    .. math::

        f(z) = \begin{cases} z & |z| > \lambda \\ 0 & \text{otherwise} \end{cases}, \qquad
        f'(z) = \begin{cases} 1 & |z| > \lambda \\ 0 & \text{otherwise} \end{cases}

    Subgradient 0 at :math:`z = \pm\lambda` (as PyTorch).
    """

    name = "hardshrink"
    aliases = ("hard_shrink",)
    hyperparameters = ("lambd",)

    def __init__(self, lambd=0.5):
        self.lambd = checks.number(lambd, "Hardshrink lambd", low=0.0, high=SCALE_LIMIT)

    def _forward(self, z):
        return z * self._outside(z)

    def _derivative(self, z, a):
        return self._outside(z)

    def _outside(self, z):
        """1 where ``|z| > lambd``, else 0 (so 0 at the kinks)."""
        return (np.abs(z) > self.lambd).astype(z.dtype)


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
