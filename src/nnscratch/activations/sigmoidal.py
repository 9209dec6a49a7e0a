"""S-shaped activations: the sigmoid family (sigmoid, hard sigmoid, log-sigmoid) and the tanh
family (tanh, hard tanh, tanhshrink, softsign, arctan).
"""

import numpy as np

from .base import ElementwiseActivation
from .kernels import _ONE, _square, log_sigmoid, sigmoid


class Sigmoid(ElementwiseActivation):
    r"""Logistic sigmoid.

    .. math::

        f(z) = \frac{1}{1 + e^{-z}}, \qquad f'(z) = f(z)\,\bigl(1 - f(z)\bigr)

    Two-branch form (see :func:`sigmoid`): finite and warning-free for every finite input.
    """

    name = "sigmoid"
    aliases = ("logistic",)

    _forward = staticmethod(sigmoid)      # f(z), called as self._forward(z)

    def _derivative(self, z, a):
        d = _ONE.get(a.dtype.char, 1.0) - a
        d *= a              # a (1 - a)
        return d


class HardSigmoid(ElementwiseActivation):
    r"""Piecewise-linear sigmoid, PyTorch's definition (``relu6(z + 3) / 6``).

    .. math::

        f(z) = \frac{\min(\max(z + 3, 0), 6)}{6}, \qquad
        f'(z) = \begin{cases} 1/6 & -3 < z < 3 \\ 0 & \text{otherwise} \end{cases}

    Subgradient 0 at the kinks :math:`z = \pm 3` (as PyTorch).
    """

    name = "hard_sigmoid"
    aliases = ("hardsigmoid",)

    def _forward(self, z):
        return np.clip(z + 3.0, 0.0, 6.0) / 6.0

    def _derivative(self, z, a):
        return ((z > -3.0) & (z < 3.0)).astype(z.dtype) / 6.0


class LogSigmoid(ElementwiseActivation):
    r"""Logarithm of the sigmoid.

    .. math::

        f(z) = \log \sigma(z) = -\operatorname{softplus}(-z), \qquad
        f'(z) = 1 - \sigma(z) = 1 - e^{f(z)}

    The derivative is computed from the output as ``-expm1(a)``, accurate in both tails.
    """

    name = "log_sigmoid"
    aliases = ("logsigmoid",)

    def _forward(self, z):
        return log_sigmoid(z)

    def _derivative(self, z, a):
        return -np.expm1(a)


class Tanh(ElementwiseActivation):
    r"""Hyperbolic tangent.

    .. math::

        f(z) = \tanh z, \qquad f'(z) = 1 - f(z)^2

    The derivative is written ``(1 - a)(1 + a)``, which cannot underflow for tiny ``a``.
    """

    name = "tanh"

    def _forward(self, z):
        return np.tanh(z)

    def _derivative(self, z, a):
        return (1.0 - a) * (1.0 + a)


class HardTanh(ElementwiseActivation):
    r"""Tanh clipped to a line.

    .. math::

        f(z) = \min(\max(z, -1), 1), \qquad
        f'(z) = \begin{cases} 1 & -1 < z < 1 \\ 0 & \text{otherwise} \end{cases}

    Subgradient 0 at the kinks :math:`z = \pm 1` (as PyTorch).
    """

    name = "hard_tanh"
    aliases = ("hardtanh",)

    def _forward(self, z):
        return np.clip(z, -1.0, 1.0)

    def _derivative(self, z, a):
        return ((z > -1.0) & (z < 1.0)).astype(z.dtype)


class Tanhshrink(ElementwiseActivation):
    r"""The input minus its tanh.

    .. math::

        f(z) = z - \tanh z, \qquad f'(z) = \tanh^2 z = (z - f(z))^2
    """

    name = "tanhshrink"
    aliases = ("tanh_shrink",)

    def _forward(self, z):
        return z - np.tanh(z)

    def _derivative(self, z, a):
        return _square(z - a)   # z - a = tanh z


class Softsign(ElementwiseActivation):
    r"""Softsign.

    .. math::

        f(z) = \frac{z}{1 + |z|}, \qquad f'(z) = \frac{1}{(1 + |z|)^2}

    The derivative is taken from ``z`` (``1 - |a|`` would cancel for large ``|z|``).
    """

    name = "softsign"

    def _forward(self, z):
        return z / (1.0 + np.abs(z))

    def _derivative(self, z, a):
        r = 1.0 / (1.0 + np.abs(z))
        return r * r


class Arctan(ElementwiseActivation):
    r"""Inverse tangent.

    .. math::

        f(z) = \arctan z, \qquad f'(z) = \frac{1}{1 + z^2}
    """

    name = "arctan"
    aliases = ("atan",)

    def _forward(self, z):
        return np.arctan(z)

    def _derivative(self, z, a):
        return 1.0 / (1.0 + _square(z))
