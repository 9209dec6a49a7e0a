"""Smooth activations: gated units (GELU, SiLU, hard swish, Mish) and softplus with its
relatives (squareplus, bent identity).
"""

import math

import numpy as np

from .. import checks
from .base import DIVISOR_FLOOR, SCALE_LIMIT, ElementwiseActivation
from .error_function import erfc
from .kernels import _exp, _select, _square, sigmoid, softplus

_INV_SQRT2 = 0.70710678118654752440
_INV_SQRT_2PI = 0.39894228040143267794


class GELU(ElementwiseActivation):
    r"""Gaussian error linear unit (Hendrycks and Gimpel, 2016).

    Exact form (``approximate="none"``, the default), with :math:`\Phi` the standard normal
    CDF and :math:`\varphi` its density:

    .. math::

        f(z) = z\,\Phi(z) = \frac{z}{2}\Bigl(1 + \operatorname{erf}\frac{z}{\sqrt 2}\Bigr),
        \qquad f'(z) = \Phi(z) + z\,\varphi(z), \quad \varphi(z) = \frac{e^{-z^2/2}}{\sqrt{2\pi}}

    Tanh approximation (``approximate="tanh"``, also registered as ``"gelu_tanh"``), with
    :math:`u = \sqrt{2/\pi}\,(z + 0.044715 z^3)`:

    .. math::

        f(z) = \frac{z}{2}(1 + \tanh u) = z\,\sigma(2u), \qquad
        f'(z) = \sigma(2u) + z\,\sigma(2u)\bigl(1 - \sigma(2u)\bigr)\, 2u'(z), \quad
        u'(z) = \sqrt{2/\pi}\,(1 + 3 \cdot 0.044715 z^2)

    :math:`\Phi(z)` is computed as :math:`\tfrac12 \operatorname{erfc}(-z/\sqrt 2)`, which keeps
    its accuracy for negative ``z`` where :math:`1 + \operatorname{erf}` would cancel; and
    :math:`\tfrac12(1 + \tanh u)` as :math:`\sigma(2u)` for the same reason.
    """

    name = "gelu"
    hyperparameters = ("approximate",)
    _CUBIC = 0.044715
    _SQRT_2_OVER_PI = 0.79788456080286535588

    def __init__(self, approximate="none"):
        self.approximate = checks.choice(approximate, "GELU approximate", ("none", "tanh"),
                                         normalize=str.lower)

    def _forward(self, z):
        if self.approximate == "tanh":
            return z * sigmoid(2.0 * self._u(z))
        return z * (0.5 * erfc(-_INV_SQRT2 * z))

    def _derivative(self, z, a):
        if self.approximate == "tanh":
            s = sigmoid(2.0 * self._u(z))
            du = self._SQRT_2_OVER_PI * (1.0 + 3.0 * self._CUBIC * _square(z))
            return s + z * (s * (1.0 - s)) * (2.0 * du)
        # Phi(z) = a / z, read off the output rather than a second erfc; Phi(0) = 1/2.
        phi_cdf = np.full_like(z, 0.5)
        np.divide(a, z, out=phi_cdf, where=z != 0)
        density = _INV_SQRT_2PI * _exp(-0.5 * _square(z))
        return phi_cdf + z * density

    def _u(self, z):
        return self._SQRT_2_OVER_PI * z * (1.0 + self._CUBIC * _square(z))


class GELUTanh(GELU):
    r"""GELU with the tanh approximation: the same function as ``GELU(approximate="tanh")``.

    .. math::

        f(z) = \frac{z}{2}\Bigl(1 + \tanh\bigl(\sqrt{2/\pi}(z + 0.044715 z^3)\bigr)\Bigr)

    with the derivative :math:`f'(z)` of :class:`GELU` for ``approximate="tanh"``.
    """

    name = "gelu_tanh"
    aliases = ("gelu_approximate",)
    hyperparameters = ()

    def __init__(self):
        super().__init__(approximate="tanh")


class SiLU(ElementwiseActivation):
    r"""Sigmoid-weighted linear unit, also called swish.

    .. math::

        f(z) = z\,\sigma(z), \qquad
        f'(z) = \sigma(z) + z\,\sigma(z)(1 - \sigma(z)) = \sigma(z) + f(z)\,(1 - \sigma(z))
    """

    name = "silu"
    aliases = ("swish",)

    def _forward(self, z):
        return z * sigmoid(z)

    def _derivative(self, z, a):
        s = sigmoid(z)
        return s + a * (1.0 - s)


class HardSwish(ElementwiseActivation):
    r"""Piecewise-quadratic swish (Howard et al., 2019), PyTorch's definition.

    .. math::

        f(z) = z\,\frac{\min(\max(z + 3, 0), 6)}{6}, \qquad
        f'(z) = \begin{cases} 0 & z < -3 \\ (2z + 3)/6 & -3 \le z \le 3 \\ 1 & z > 3 \end{cases}

    At the kinks the subgradient is PyTorch's: :math:`f'(-3) = -1/2` (the right derivative)
    and :math:`f'(3) = 3/2` (the left derivative).
    """

    name = "hard_swish"
    aliases = ("hardswish", "hard_silu")

    def _forward(self, z):
        return z * (np.clip(z + 3.0, 0.0, 6.0) / 6.0)

    def _derivative(self, z, a):
        d = z / 3.0 + 0.5
        d[z < -3.0] = 0.0
        d[z > 3.0] = 1.0
        return d


class Mish(ElementwiseActivation):
    r"""Mish (Misra, 2019).

    .. math::

        f(z) = z \tanh(\operatorname{softplus}(z)), \qquad
        f'(z) = \tanh(s) + z\,(1 - \tanh^2 s)\,\sigma(z), \quad s = \operatorname{softplus}(z)

    ``softplus`` is the stable :func:`softplus`; :math:`\sigma(z) = 1 - e^{-s}` is read off it.
    The backward recomputes :math:`s` and :math:`\tanh s` (``a / z`` would fail at 0).
    """

    name = "mish"

    def _forward(self, z):
        return z * np.tanh(softplus(z))

    def _derivative(self, z, a):
        s = softplus(z)
        t = np.tanh(s)
        sig = -np.expm1(-s)   # sigma(z) = 1 - exp(-softplus(z))
        return t + z * ((1.0 - t) * (1.0 + t)) * sig


class Softplus(ElementwiseActivation):
    r"""Softplus, a smooth ReLU, with sharpness ``beta`` (default 1, in :math:`[10^{-3}, 10^3]`).

    .. math::

        f(z) = \frac{1}{\beta}\log\bigl(1 + e^{\beta z}\bigr), \qquad
        f'(z) = \sigma(\beta z) = 1 - e^{-\beta f(z)}

    Stable form :math:`\max(\beta z, 0) + \log(1 + e^{-|\beta z|})` (see :func:`softplus`),
    exact for every input, so PyTorch's ``threshold`` switch to the identity is not needed. The
    derivative is read off the output as ``-expm1(-beta * a)``, accurate in both tails.
    """

    name = "softplus"
    hyperparameters = ("beta",)

    def __init__(self, beta=1.0):
        self.beta = checks.number(beta, "Softplus beta", low=DIVISOR_FLOOR, high=SCALE_LIMIT)

    def _forward(self, z):
        if self.beta == 1.0:
            return softplus(z)
        return softplus(self.beta * z) / self.beta

    def _derivative(self, z, a):
        return -np.expm1(-self.beta * a)


class Squareplus(ElementwiseActivation):
    r"""Squareplus (Barron, 2021), an algebraic smooth ReLU; Keras's definition, ``b = 4``.

    .. math::

        f(z) = \frac{z + \sqrt{z^2 + b}}{2}, \qquad
        f'(z) = \frac{1}{2}\Bigl(1 + \frac{z}{\sqrt{z^2 + b}}\Bigr) = \frac{f(z)}{2 f(z) - z}

    For :math:`z < 0` the forward uses the equivalent :math:`b / (2(\sqrt{z^2 + b} - z))`, free
    of the cancellation in :math:`z + \sqrt{z^2 + b}`; :math:`\sqrt{z^2 + b}` is
    ``hypot(z, sqrt(b))``, which cannot overflow. ``b`` lies in :math:`[10^{-6}, 10^6]`, so
    that :math:`\sqrt b` is within the bounds of the other hyperparameters.
    """

    name = "squareplus"
    hyperparameters = ("b",)

    def __init__(self, b=4.0):
        self.b = checks.number(b, "Squareplus b", low=DIVISOR_FLOOR ** 2, high=SCALE_LIMIT ** 2)

    def _forward(self, z):
        root = np.hypot(z, math.sqrt(self.b))
        return _select(z >= 0, 0.5 * (z + root), self.b / (2.0 * (root + np.abs(z))), z.dtype)

    def _derivative(self, z, a):
        return a / (2.0 * a - z)   # 2a - z = sqrt(z^2 + b) > 0


class BentIdentity(ElementwiseActivation):
    r"""Bent identity.

    .. math::

        f(z) = \frac{\sqrt{z^2 + 1} - 1}{2} + z, \qquad
        f'(z) = \frac{z}{2\sqrt{z^2 + 1}} + 1

    :math:`\sqrt{z^2 + 1} - 1` is computed as :math:`z^2 / (\sqrt{z^2 + 1} + 1)`, exact near 0.
    """

    name = "bent_identity"

    def _forward(self, z):
        root = np.hypot(z, 1.0)
        return 0.5 * _square(z) / (root + 1.0) + z

    def _derivative(self, z, a):
        return z / (2.0 * np.hypot(z, 1.0)) + 1.0
