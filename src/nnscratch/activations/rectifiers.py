"""Piecewise-linear activations: identity, binary step and the rectifiers (ReLU, ReLU6,
leaky ReLU) with their exponential relatives (ELU, SELU, CELU).
"""

import numpy as np

from .. import checks, threads
from .base import DIVISOR_FLOOR, SCALE_LIMIT, ElementwiseActivation
from .kernels import _select


class Identity(ElementwiseActivation):
    r"""The identity (linear) activation.

    .. math::

        f(z) = z, \qquad f'(z) = 1

    ``forward`` returns a copy, so a caller may change ``a`` without touching ``z``.
    """

    name = "identity"
    aliases = ("linear", "none")

    def _forward(self, z):
        return z.copy()

    def _derivative(self, z, a):
        return np.ones_like(z)


class BinaryStep(ElementwiseActivation):
    r"""Heaviside step, with :math:`f(0) = 1`.

    .. math::

        f(z) = \begin{cases} 1 & z \ge 0 \\ 0 & z < 0 \end{cases}, \qquad f'(z) = 0

    The true derivative is 0 except at 0, where there is none (a Dirac delta); it is taken as 0
    everywhere, so no gradient flows through this activation.
    """

    name = "binary_step"
    aliases = ("step", "heaviside")

    def _forward(self, z):
        return (z >= 0).astype(z.dtype)

    def _derivative(self, z, a):
        return np.zeros_like(z)


#: dtype -> a flat array of zeros, as long as the longest input seen (see _zeros_like)
_ZEROS = {}
#: Inputs larger than this (elements) take the scalar 0 instead, so no large array is kept.
_ZEROS_MAX = 1 << 20


def _zeros_like(z):
    """Zeros shaped and laid out like ``z`` (a batch-last view stays one), a view of one flat
    array per dtype that nothing writes to; the scalar 0 for a very large ``z`` or one that is
    not a contiguous block. NumPy's maximum of two arrays runs about four times faster than
    against a scalar (2.5 us against 10.4 us for 128 x 256 float32), to the same bits."""
    if z.size > _ZEROS_MAX:
        return z.dtype.type(0)
    contiguous = z.flags.c_contiguous                 # C order: the common case, one reshape
    axes = None if contiguous else threads.memory_order(z)
    if not contiguous and axes is None:
        return z.dtype.type(0)
    flat = _ZEROS.get(z.dtype)
    if flat is None or flat.size < z.size:
        flat = _ZEROS[z.dtype] = np.zeros(z.size, z.dtype)
        flat.flags.writeable = False
    if contiguous:
        return flat[:z.size].reshape(z.shape)
    in_memory_order = flat[:z.size].reshape(tuple(z.shape[k] for k in axes))
    return in_memory_order.transpose(np.argsort(axes))


def _masked_by_positive(grad, z, out):
    """``out = grad * (z > 0)``: ReLU's chain-rule step on one part of the arrays."""
    return np.multiply(grad, z > 0, out=out)


class ReLU(ElementwiseActivation):
    r"""Rectified linear unit.

    .. math::

        f(z) = \max(z, 0), \qquad f'(z) = \begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}

    Subgradient 0 at :math:`z = 0` (as PyTorch, TensorFlow and tinygrad).
    """

    name = "relu"

    def _forward(self, z):
        # max(z, 0), in parts on several threads for a large array (nnscratch.threads)
        return threads.elementwise(np.maximum, np.empty_like(z), z, _zeros_like(z))

    def _derivative(self, z, a):
        return z > 0      # a 0/1 mask: multiplying by it keeps grad_a's dtype, one pass fewer

    def _backward(self, z, a, grad_a):     # backward() gave z and grad_a one shape and dtype
        # dZ = dA * (z > 0), in parts on several threads for a large array
        return threads.elementwise(_masked_by_positive, np.empty_like(grad_a), grad_a, z)


class ReLU6(ElementwiseActivation):
    r"""ReLU capped at 6.

    .. math::

        f(z) = \min(\max(z, 0), 6), \qquad
        f'(z) = \begin{cases} 1 & 0 < z < 6 \\ 0 & \text{otherwise} \end{cases}

    Subgradient 0 at both kinks, :math:`z = 0` and :math:`z = 6` (as PyTorch).
    """

    name = "relu6"

    def _forward(self, z):
        return np.clip(z, 0.0, 6.0)

    def _derivative(self, z, a):
        return ((z > 0) & (z < 6.0)).astype(z.dtype)


class LeakyReLU(ElementwiseActivation):
    r"""ReLU with a small slope ``alpha`` for negative inputs.

    .. math::

        f(z) = \begin{cases} z & z > 0 \\ \alpha z & z \le 0 \end{cases}, \qquad
        f'(z) = \begin{cases} 1 & z > 0 \\ \alpha & z \le 0 \end{cases}

    Subgradient :math:`\alpha` at :math:`z = 0` (as PyTorch). Default ``alpha = 0.01``;
    :math:`|\alpha| \le 10^3`.
    """

    name = "leaky_relu"
    aliases = ("leakyrelu",)
    hyperparameters = ("alpha",)

    def __init__(self, alpha=0.01):
        self.alpha = checks.number(alpha, "LeakyReLU alpha", low=-SCALE_LIMIT, high=SCALE_LIMIT)

    def _forward(self, z):
        return z * self._slope(z)

    def _derivative(self, z, a):
        return self._slope(z)

    def _slope(self, z):
        return _select(z > 0, 1.0, self.alpha, z.dtype)


class ELU(ElementwiseActivation):
    r"""Exponential linear unit.

    .. math::

        f(z) = \begin{cases} z & z > 0 \\ \alpha (e^z - 1) & z \le 0 \end{cases}, \qquad
        f'(z) = \begin{cases} 1 & z > 0 \\ \alpha e^z = f(z) + \alpha & z \le 0 \end{cases}

    Computed as :math:`\max(z, 0) + \alpha\,\mathrm{expm1}(\min(z, 0))`: ``expm1`` only sees
    non-positive numbers, so a large positive ``z`` cannot overflow it. Subgradient
    :math:`\alpha` at 0. Default ``alpha = 1.0``; :math:`|\alpha| \le 10^3`.
    """

    name = "elu"
    hyperparameters = ("alpha",)

    def __init__(self, alpha=1.0):
        self.alpha = checks.number(alpha, "ELU alpha", low=-SCALE_LIMIT, high=SCALE_LIMIT)

    def _forward(self, z):
        return np.maximum(z, 0.0) + self.alpha * np.expm1(np.minimum(z, 0.0))

    def _derivative(self, z, a):
        return _select(z > 0, 1.0, a + self.alpha, z.dtype)   # alpha e^z = a + alpha


class SELU(ElementwiseActivation):
    r"""Scaled ELU (Klambauer et al., 2017), with the self-normalizing constants.

    .. math::

        f(z) = \lambda \begin{cases} z & z > 0 \\ \alpha (e^z - 1) & z \le 0 \end{cases},
        \qquad
        f'(z) = \begin{cases} \lambda & z > 0 \\ \lambda \alpha e^z = f(z) + \lambda\alpha
        & z \le 0 \end{cases}

    with :math:`\alpha = 1.6732632423543772848` and :math:`\lambda = 1.0507009873554804934`.
    Subgradient :math:`\lambda\alpha` at 0.
    """

    name = "selu"
    ALPHA = 1.6732632423543772848170429916717
    SCALE = 1.0507009873554804934193349852946

    def _forward(self, z):
        return self.SCALE * (np.maximum(z, 0.0) + self.ALPHA * np.expm1(np.minimum(z, 0.0)))

    def _derivative(self, z, a):
        return _select(z > 0, self.SCALE, a + self.SCALE * self.ALPHA, z.dtype)


class CELU(ElementwiseActivation):
    r"""Continuously differentiable ELU (Barron, 2017).

    .. math::

        f(z) = \max(0, z) + \min\bigl(0, \alpha (e^{z/\alpha} - 1)\bigr), \qquad
        f'(z) = \begin{cases} 1 & z > 0 \\ e^{z/\alpha} = f(z)/\alpha + 1 & z \le 0 \end{cases}

    ``alpha`` lies in :math:`[10^{-3}, 10^3]` (it divides ``z``); default 1.0. The derivative
    is continuous at 0.
    """

    name = "celu"
    hyperparameters = ("alpha",)

    def __init__(self, alpha=1.0):
        self.alpha = checks.number(alpha, "CELU alpha", low=DIVISOR_FLOOR, high=SCALE_LIMIT)

    def _forward(self, z):
        return np.maximum(z, 0.0) + self.alpha * np.expm1(np.minimum(z, 0.0) / self.alpha)

    def _derivative(self, z, a):
        return _select(z > 0, 1.0, a / self.alpha + 1.0, z.dtype)   # e^(z/alpha)
