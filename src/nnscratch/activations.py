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

The registry is built from the classes' own ``name`` (and ``aliases``) attributes:

>>> get("relu")                     # by name, case-insensitive
ReLU()
>>> get({"name": "leaky_relu", "alpha": 0.2})
LeakyReLU(alpha=0.2)
>>> get("swish").name               # an alias
'silu'

:func:`register` adds a user-defined elementwise activation from a forward function and its
derivative.
"""

import functools
import math
import re

import numpy as np

from .errors import ConfigError, DataTypeError, ShapeError

__all__ = [
    "Activation", "ElementwiseActivation", "UserActivation", "get", "names", "register",
    "erf", "erfc", "sigmoid", "softplus", "log_sigmoid", "softmax", "log_softmax",
]


# --------------------------------------------------------------------------------------------
# Numerical helpers
# --------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _exp_floor(dtype):
    """The smallest argument for which :func:`_exp` computes ``exp``: half of log(tiny)."""
    return 0.5 * math.log(float(np.finfo(dtype).tiny))


def _exp(t):
    """``exp(t)`` for ``t <= 0``, with results below ``sqrt(tiny)`` flushed to exactly 0.

    ``np.exp`` of a large negative number underflows (a floating-point warning, and an error
    under ``np.errstate(all="raise")``); here those elements are never computed.
    """
    out = np.zeros_like(t)
    np.exp(t, out=out, where=t > _exp_floor(t.dtype))
    return out


def _square(z):
    """``z * z``, with squares that are negligible next to 1 (``|z| < eps``) set to exactly 0.

    Used only where the square is added to something of order 1 (or is itself a derivative
    whose absolute size is what matters); it keeps ``z * z`` from underflowing for tiny ``z``.
    """
    out = np.zeros_like(z)
    np.multiply(z, z, out=out, where=np.abs(z) >= np.finfo(z.dtype).eps)
    return out


def _select(condition, if_true, if_false, dtype):
    """``if_true`` where ``condition`` holds, else ``if_false``: finite arrays or constants.

    Computed as ``if_true * m + if_false * (1 - m)`` on a 0/1 mask ``m`` of ``dtype``: exact
    (one of the two terms is always 0), several times faster than ``np.where`` on a mask with
    no pattern, and Python constants stay in ``dtype`` (``np.where`` would make them float64).
    """
    mask = condition.astype(dtype)
    return if_true * mask + if_false * (1.0 - mask)


def _as_float_array(z, what):
    """``z`` as a floating-point array: float arrays keep their dtype, integers become float64."""
    z = np.asarray(z)
    if z.dtype.kind == "f":
        return z
    if z.dtype.kind in "biu":
        return z.astype(np.float64)
    raise DataTypeError(f"{what} expects a real-valued numeric array, got dtype {z.dtype}")


def _number(owner, param, value, minimum=None, positive=False):
    """A hyperparameter as a Python float, or ConfigError saying what was wrong with it."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ConfigError(f"{owner} {param} must be a number, got {value!r} "
                          f"({type(value).__name__})")
    value = float(value)
    if not math.isfinite(value):
        raise ConfigError(f"{owner} {param} must be finite, got {value!r}")
    if positive and value <= 0:
        raise ConfigError(f"{owner} {param} must be > 0, got {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{owner} {param} must be >= {minimum:g}, got {value!r}")
    return value


# --------------------------------------------------------------------------------------------
# The error function (NumPy has none, and SciPy is not a dependency)
# --------------------------------------------------------------------------------------------
# W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23 (1969),
# with the coefficients of his CALERF routine (SPECFUN). Relative error about 1e-16 in float64:
#   |x| <= 0.46875:        erf(x)  = x * A(x^2) / B(x^2)
#   0.46875 < |x| <= 4:    erfc(x) = exp(-x^2) * C(x) / D(x)
#   |x| > 4:               erfc(x) = exp(-x^2) / x * (1/sqrt(pi) - P(1/x^2) / (x^2 Q(1/x^2)))

_ERF_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
          3.20937758913846947e03, 1.85777706184603153e-1)
_ERF_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
          2.84423683343917062e03)
_ERF_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
          2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
          2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
_ERF_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
          1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
          3.43936767414372164e03, 1.23033935480374942e03)
_ERF_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
          1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
_ERF_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
          6.05183413124413191e-2, 2.33520497626869185e-3)
_ERF_SMALL = 0.46875
_ERFC_BEYOND = 40.0   # erfc(40) ~ 1e-697: zero in every float type
_INV_SQRT_PI = 0.56418958354775628695
_INV_SQRT2 = 0.70710678118654752440
_INV_SQRT_2PI = 0.39894228040143267794


def _polyval(coeffs, x):
    """``c[0] x^n + c[1] x^(n-1) + ... + c[n]`` by Horner's rule, in place on one array."""
    out = np.full_like(x, coeffs[0])
    for c in coeffs[1:]:
        out *= x
        out += c
    return out


# Cody's loops, written as polynomials (the same operations in the same order).
_ERF_A_POLY, _ERF_B_POLY = (_ERF_A[4], *_ERF_A[:4]), (1.0, *_ERF_B)
_ERF_C_POLY, _ERF_D_POLY = (_ERF_C[8], *_ERF_C[:8]), (1.0, *_ERF_D)
_ERF_P_POLY, _ERF_Q_POLY = (_ERF_P[5], *_ERF_P[:5]), (1.0, *_ERF_Q)


def _erf_small(x):
    """erf(x) for |x| <= 0.46875 (Cody's first interval)."""
    x2 = _square(x)
    return x * _polyval(_ERF_A_POLY, x2) / _polyval(_ERF_B_POLY, x2)


def _erfc_large(y):
    """erfc(y) for y >= 0.46875 (Cody's second and third intervals), flushed to 0 far out.

    Both intervals are evaluated on every element, each on ``y`` clipped into its own range,
    and the right one is kept: cheaper than gathering the elements of each interval.
    """
    y = np.clip(y, _ERF_SMALL, _ERFC_BEYOND)

    ym = np.minimum(y, 4.0)   # 0.46875 < y <= 4
    ratio_middle = _polyval(_ERF_C_POLY, ym) / _polyval(_ERF_D_POLY, ym)

    yf = np.maximum(y, 4.0)   # y > 4
    inv2 = 1.0 / (yf * yf)
    ratio_far = inv2 * _polyval(_ERF_P_POLY, inv2) / _polyval(_ERF_Q_POLY, inv2)
    ratio_far = (_INV_SQRT_PI - ratio_far) / yf

    ratio = _select(y <= 4.0, ratio_middle, ratio_far, y.dtype)   # erfc(y) * exp(y^2)
    # exp(-y^2) = exp(-r^2) * exp(-(y - r)(y + r)) with r = y rounded down to a multiple of
    # 1/16: r^2 is exact, so the large exponent carries no rounding error (Cody's device).
    r = np.trunc(y * 16.0) / 16.0
    return _exp(-(r * r)) * _exp(-((y - r) * (y + r))) * ratio


def _erf_kernel(x):
    y = np.abs(x)
    near_zero = _erf_small(np.clip(x, -_ERF_SMALL, _ERF_SMALL))
    far_from_zero = np.copysign(1.0 - _erfc_large(y), x)
    return _select(y <= _ERF_SMALL, near_zero, far_from_zero, x.dtype)


def _erfc_kernel(x):
    y = np.abs(x)
    near_zero = 1.0 - _erf_small(np.clip(x, -_ERF_SMALL, _ERF_SMALL))
    tail = _erfc_large(y)
    far_from_zero = _select(x > 0, tail, 2.0 - tail, x.dtype)   # erfc(-y) = 2 - erfc(y)
    return _select(y <= _ERF_SMALL, near_zero, far_from_zero, x.dtype)


_BLOCK = 32768   # elements: the many temporaries then stay in cache and their memory is reused


def _blockwise(kernel, x, what):
    """``kernel`` applied to ``x`` in blocks of the flattened array; same shape and dtype as x.

    The work is done in at least float32 (Cody's sums would overflow float16).
    """
    x = _as_float_array(x, what)
    flat = x.astype(np.promote_types(x.dtype, np.float32), copy=False).reshape(-1)
    out = np.empty_like(flat)
    for start in range(0, flat.size, _BLOCK):
        out[start:start + _BLOCK] = kernel(flat[start:start + _BLOCK])
    return out.reshape(x.shape).astype(x.dtype, copy=False)


def erf(x):
    r"""The error function :math:`\operatorname{erf}(x) = \frac{2}{\sqrt\pi}\int_0^x e^{-t^2}dt`.

    Vectorized Cody rational approximation, accurate to about 1e-16 relative in float64 (and to
    float32 precision in float32). Same shape and dtype as ``x``.
    """
    return _blockwise(_erf_kernel, x, "erf")


def erfc(x):
    r"""The complementary error function :math:`\operatorname{erfc}(x) = 1 - \operatorname{erf}(x)`.

    Computed directly (not as ``1 - erf``), so it keeps its relative accuracy in the right tail,
    down to about ``sqrt(tiny)`` (1e-154 in float64), below which it returns 0.
    """
    return _blockwise(_erfc_kernel, x, "erfc")


# --------------------------------------------------------------------------------------------
# Stable kernels shared by several activations (and by the losses)
# --------------------------------------------------------------------------------------------

def sigmoid(z):
    r"""Logistic sigmoid :math:`1 / (1 + e^{-z})` in the two-branch form.

    With :math:`e = \exp(-|z|) \le 1`: :math:`1/(1+e)` for :math:`z \ge 0` and
    :math:`e/(1+e)` for :math:`z < 0`. ``exp`` never sees a positive number, so no input
    overflows, and both tails keep their relative accuracy.

    Fast path: when every :math:`|z|` is below :math:`-\tfrac12 \log(\text{tiny})` (354 in
    float64, 43 in float32), :math:`e^{-z}` can neither overflow nor fall below
    :math:`\sqrt{\text{tiny}}`, and the plain :math:`1 / (1 + e^{-z})` is as accurate (to
    relative rounding, both tails) in four in-place operations instead of a dozen; it matters
    for small layers, where each NumPy call costs more than its arithmetic.
    """
    if _all_small(z, _SIGMOID_PLAIN_BOUND.get(z.dtype.char) or -_exp_floor(z.dtype)):
        t = np.negative(z)
        np.exp(t, out=t)                     # e^{-z}, finite and normal here
        t += 1.0
        return np.reciprocal(t, out=t)       # 1 / (1 + e^{-z})
    e = _exp(-np.abs(z))
    return _select(z >= 0, 1.0, e, z.dtype) / (1.0 + e)


_SIGMOID_PLAIN_BOUND = {"f": -_exp_floor(np.float32), "d": -_exp_floor(np.float64)}


def _all_small(z, bound):
    r"""Whether every ``|z| < bound`` (False if ``z`` holds NaN or inf).

    A small array uses one dot product (:math:`\sum z^2 < b^2` implies every :math:`|z| < b`;
    ``np.vdot`` reports no floating-point error when the sum overflows to inf, which then just
    fails the test); a larger one, whose sum of squares says little, its largest magnitude.
    """
    if z.size <= 256:
        return bool(np.vdot(z, z) < bound * bound)
    return bool(np.abs(z).max() < bound)


def softplus(z):
    r"""Softplus :math:`\log(1 + e^z)`, as :math:`\max(z, 0) + \log(1 + e^{-|z|})`.

    The same value as ``np.logaddexp(0, z)``, without its underflow warning for large ``|z|``.
    """
    return np.maximum(z, 0) + np.log1p(_exp(-np.abs(z)))


def log_sigmoid(z):
    r"""Log-sigmoid :math:`\log \sigma(z) = -\operatorname{softplus}(-z)`."""
    return np.minimum(z, 0) - np.log1p(_exp(-np.abs(z)))


def softmax(z, axis=-1):
    r"""Softmax over ``axis``: :math:`e^{z_i - m} / \sum_j e^{z_j - m}` with :math:`m = \max_j z_j`.

    Subtracting the row maximum leaves the result unchanged and keeps every exponent at or
    below 0, so nothing overflows; the largest term is 1, so the sum is at least 1.
    """
    e = _exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(z, axis=-1):
    r"""Log-softmax over ``axis``: :math:`(z_i - m) - \log \sum_j e^{z_j - m}`."""
    shifted = z - np.max(z, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(_exp(shifted), axis=axis, keepdims=True))


# --------------------------------------------------------------------------------------------
# Base classes
# --------------------------------------------------------------------------------------------

def _ready(z):
    """Whether ``z`` can go to the kernels as it is: a non-empty float32/float64 ndarray, not 0-d.

    This is what a layer passes in the training loop; checking it costs less than converting.
    """
    return type(z) is np.ndarray and z.dtype.char in "fd" and z.ndim > 0 and z.size > 0


class Activation:
    """Base class: an activation function and its vector-Jacobian product.

    Subclasses set ``name`` (the registry key, lower-case snake case), optionally ``aliases``
    and ``hyperparameters`` (the keyword arguments ``get_config`` records), and implement the
    kernels ``_forward(z)`` and ``_backward(z, a, grad_a)``. The public methods convert the
    input to a float array, check shapes and run the kernels in ``z``'s dtype.
    """

    name = None
    aliases = ()
    elementwise = True
    hyperparameters = ()

    def forward(self, z):
        """The activation ``a = f(z)``: same shape and dtype as ``z``."""
        if _ready(z):      # a float32/float64 array with elements, as in a network: no conversion
            return self._forward(z)
        z, dtype = self._prepare(z)
        if z.ndim == 0:   # kernels use boolean masks and in-place writes: give them an array
            a = self._forward(z.reshape(1)).reshape(())
        else:
            a = self._forward(z)
        return a if z.dtype == dtype else a.astype(dtype)

    def backward(self, z, a, grad_a):
        """The vector-Jacobian product ``grad_z = dL/dz`` given ``grad_a = dL/da``.

        ``a`` must be ``forward(z)``; it is reused, never recomputed. ``a`` and ``grad_a`` are
        taken in ``z``'s dtype.
        """
        if (_ready(z) and type(a) is np.ndarray and type(grad_a) is np.ndarray
                and a.dtype == z.dtype == grad_a.dtype and a.shape == z.shape == grad_a.shape):
            return self._backward(z, a, grad_a)          # nothing to convert or check
        z, dtype = self._prepare(z)
        a = np.asarray(a, dtype=z.dtype)
        grad_a = np.asarray(grad_a, dtype=z.dtype)
        if a.shape != z.shape or grad_a.shape != z.shape:
            raise ShapeError(
                f"activation '{self.name}' backward needs z, a and grad_a of one shape, got "
                f"z {z.shape}, a {a.shape}, grad_a {grad_a.shape}")
        if z.ndim == 0:
            grad_z = self._backward(z.reshape(1), a.reshape(1), grad_a.reshape(1)).reshape(())
        else:
            grad_z = self._backward(z, a, grad_a)
        return grad_z if z.dtype == dtype else grad_z.astype(dtype)

    def _prepare(self, z):
        """``z`` as a float array in its working dtype, and the dtype the result must have.

        float32 and float64 work in their own dtype (the kernels never widen it, and nothing
        casts their result back, so a test on the output dtype sees any slip); float16, whose
        range is too short for the stable forms, is computed in float32 and cast back.
        """
        z = _as_float_array(z, f"activation '{self.name}'")
        if not self.elementwise and (z.ndim == 0 or z.shape[-1] == 0):
            raise ShapeError(f"activation '{self.name}' works on rows along the last axis and "
                             f"needs an array with a non-empty last axis, got shape {z.shape}")
        dtype = z.dtype
        return z.astype(np.promote_types(dtype, np.float32), copy=False), dtype

    def _forward(self, z):
        raise NotImplementedError

    def _backward(self, z, a, grad_a):
        raise NotImplementedError

    def get_config(self):
        """``{"name": ..., **hyperparameters}``: JSON-safe; ``get(config)`` rebuilds it."""
        return {"name": self.name, **{p: getattr(self, p) for p in self.hyperparameters}}

    def __repr__(self):
        params = ", ".join(f"{p}={getattr(self, p)!r}" for p in self.hyperparameters)
        return f"{type(self).__name__}({params})"

    def _identity_key(self):
        return (type(self), tuple(sorted(self.get_config().items())))

    def __eq__(self, other):
        if not isinstance(other, Activation):
            return NotImplemented
        return self._identity_key() == other._identity_key()

    def __hash__(self):
        return hash(self._identity_key())


class ElementwiseActivation(Activation):
    """An activation applied to each element on its own: ``backward = grad_a * f'(z)``.

    Subclasses implement ``_forward(z)`` and ``_derivative(z, a)`` (``f'(z)``, given the output
    ``a`` that the forward already produced).
    """

    def derivative(self, z, a=None):
        """``f'(z)`` elementwise; ``a = forward(z)`` is computed if not given."""
        z = _as_float_array(z, f"activation '{self.name}'")
        a = self.forward(z) if a is None else np.asarray(a, dtype=z.dtype)
        return self.backward(z, a, np.ones_like(z))

    def _backward(self, z, a, grad_a):
        return grad_a * self._derivative(z, a)   # dZ = dA * f'(Z)

    def _derivative(self, z, a):
        raise NotImplementedError


# --------------------------------------------------------------------------------------------
# Linear and step
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# Sigmoid family
# --------------------------------------------------------------------------------------------

class Sigmoid(ElementwiseActivation):
    r"""Logistic sigmoid.

    .. math::

        f(z) = \frac{1}{1 + e^{-z}}, \qquad f'(z) = f(z)\,\bigl(1 - f(z)\bigr)

    Two-branch form (see :func:`sigmoid`): finite and warning-free for every finite input.
    """

    name = "sigmoid"
    aliases = ("logistic",)

    def _forward(self, z):
        return sigmoid(z)

    def _derivative(self, z, a):
        d = 1.0 - a
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


# --------------------------------------------------------------------------------------------
# Tanh family
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# Rectifiers
# --------------------------------------------------------------------------------------------

class ReLU(ElementwiseActivation):
    r"""Rectified linear unit.

    .. math::

        f(z) = \max(z, 0), \qquad f'(z) = \begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}

    Subgradient 0 at :math:`z = 0` (as PyTorch, TensorFlow and tinygrad).
    """

    name = "relu"

    def _forward(self, z):
        return np.maximum(z, 0.0)

    def _derivative(self, z, a):
        return z > 0      # a 0/1 mask: multiplying by it keeps grad_a's dtype, one pass fewer


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

    Subgradient :math:`\alpha` at :math:`z = 0` (as PyTorch). Default ``alpha = 0.01``.
    """

    name = "leaky_relu"
    aliases = ("leakyrelu",)
    hyperparameters = ("alpha",)

    def __init__(self, alpha=0.01):
        self.alpha = _number("LeakyReLU", "alpha", alpha)

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
    :math:`\alpha` at 0. Default ``alpha = 1.0``.
    """

    name = "elu"
    hyperparameters = ("alpha",)

    def __init__(self, alpha=1.0):
        self.alpha = _number("ELU", "alpha", alpha)

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

    ``alpha`` must be positive; default 1.0. The derivative is continuous at 0.
    """

    name = "celu"
    hyperparameters = ("alpha",)

    def __init__(self, alpha=1.0):
        self.alpha = _number("CELU", "alpha", alpha, positive=True)

    def _forward(self, z):
        return np.maximum(z, 0.0) + self.alpha * np.expm1(np.minimum(z, 0.0) / self.alpha)

    def _derivative(self, z, a):
        return _select(z > 0, 1.0, a / self.alpha + 1.0, z.dtype)   # e^(z/alpha)


# --------------------------------------------------------------------------------------------
# Smooth gated units
# --------------------------------------------------------------------------------------------

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
        if not isinstance(approximate, str) or approximate.lower() not in ("none", "tanh"):
            raise ConfigError(f"GELU approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate.lower()

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

        f(z) = \frac{z}{2}\Bigl(1 + \tanh\bigl(\sqrt{2/\pi}(z + 0.044715 z^3)\bigr)\Bigr),
        \qquad f'(z) \text{ as in } :class:`GELU`
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


# --------------------------------------------------------------------------------------------
# Softplus and relatives
# --------------------------------------------------------------------------------------------

class Softplus(ElementwiseActivation):
    r"""Softplus, a smooth ReLU, with sharpness ``beta`` (default 1).

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
        self.beta = _number("Softplus", "beta", beta, positive=True)

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
    ``hypot(z, sqrt(b))``, which cannot overflow. ``b`` must be positive.
    """

    name = "squareplus"
    hyperparameters = ("b",)

    def __init__(self, b=4.0):
        self.b = _number("Squareplus", "b", b, positive=True)

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


# --------------------------------------------------------------------------------------------
# Shrinkage and bumps
# --------------------------------------------------------------------------------------------

class Softshrink(ElementwiseActivation):
    r"""Soft thresholding, with threshold ``lambd`` (default 0.5, must be >= 0).

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
        self.lambd = _number("Softshrink", "lambd", lambd, minimum=0.0)

    def _forward(self, z):
        return (z - np.sign(z) * self.lambd) * self._outside(z)

    def _derivative(self, z, a):
        return self._outside(z)

    def _outside(self, z):
        """1 where ``|z| > lambd``, else 0 (so 0 at the kinks)."""
        return (np.abs(z) > self.lambd).astype(z.dtype)


class Hardshrink(ElementwiseActivation):
    r"""Hard thresholding, with threshold ``lambd`` (default 0.5, must be >= 0).

    .. math::

        f(z) = \begin{cases} z & |z| > \lambda \\ 0 & \text{otherwise} \end{cases}, \qquad
        f'(z) = \begin{cases} 1 & |z| > \lambda \\ 0 & \text{otherwise} \end{cases}

    Subgradient 0 at :math:`z = \pm\lambda` (as PyTorch).
    """

    name = "hardshrink"
    aliases = ("hard_shrink",)
    hyperparameters = ("lambd",)

    def __init__(self, lambd=0.5):
        self.lambd = _number("Hardshrink", "lambd", lambd, minimum=0.0)

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


# --------------------------------------------------------------------------------------------
# Row-wise: softmax family (over the last axis)
# --------------------------------------------------------------------------------------------

class Softmax(Activation):
    r"""Softmax over the last axis: each row becomes a probability distribution.

    .. math::

        a_i = \frac{e^{z_i}}{\sum_j e^{z_j}}, \qquad
        \frac{\partial a_i}{\partial z_k} = a_i(\delta_{ik} - a_k)

    so the vector-Jacobian product is :math:`g_z = a \odot (g_a - \langle g_a, a \rangle)`,
    computed per row without forming the Jacobian. The row maximum is subtracted first
    (see :func:`softmax`).
    """

    name = "softmax"
    elementwise = False

    def _forward(self, z):
        return softmax(z)

    def _backward(self, z, a, grad_a):
        return a * (grad_a - np.sum(grad_a * a, axis=-1, keepdims=True))


class LogSoftmax(Activation):
    r"""Log-softmax over the last axis.

    .. math::

        a_i = z_i - \log\sum_j e^{z_j}, \qquad
        \frac{\partial a_i}{\partial z_k} = \delta_{ik} - \operatorname{softmax}(z)_k

    so :math:`g_z = g_a - \operatorname{softmax}(z) \sum_i g_{a,i}`, with
    :math:`\operatorname{softmax}(z) = e^{a}` read off the output.
    """

    name = "log_softmax"
    aliases = ("logsoftmax",)
    elementwise = False

    def _forward(self, z):
        return log_softmax(z)

    def _backward(self, z, a, grad_a):
        return grad_a - _exp(a) * np.sum(grad_a, axis=-1, keepdims=True)


class Softmin(Activation):
    r"""Softmin over the last axis: the softmax of :math:`-z`.

    .. math::

        a_i = \frac{e^{-z_i}}{\sum_j e^{-z_j}}, \qquad
        \frac{\partial a_i}{\partial z_k} = -a_i(\delta_{ik} - a_k)

    so :math:`g_z = -a \odot (g_a - \langle g_a, a \rangle)`.
    """

    name = "softmin"
    elementwise = False

    def _forward(self, z):
        return softmax(-z)

    def _backward(self, z, a, grad_a):
        return -a * (grad_a - np.sum(grad_a * a, axis=-1, keepdims=True))


# --------------------------------------------------------------------------------------------
# User-defined activations
# --------------------------------------------------------------------------------------------

class UserActivation(ElementwiseActivation):
    """An elementwise activation built by :func:`register` from two functions.

    ``forward(z) -> a`` and ``derivative(z, a) -> f'(z)``, both elementwise on arrays. Their
    results are cast back to ``z``'s dtype, so a function that widens float32 to float64 does
    not widen the network.
    """

    def __init__(self, name, forward, derivative):
        self.name = name
        self._forward_fn = forward
        self._derivative_fn = derivative

    def _call(self, fn, what, z, *args):
        out = np.asarray(fn(z, *args))
        if out.shape != z.shape:
            raise ShapeError(f"the {what} of activation '{self.name}' returned shape "
                             f"{out.shape} for an input of shape {z.shape}; it must be "
                             "elementwise")
        return out.astype(z.dtype, copy=False)

    def _forward(self, z):
        return self._call(self._forward_fn, "forward", z)

    def _derivative(self, z, a):
        return self._call(self._derivative_fn, "derivative", z, a)

    def __repr__(self):
        return f"UserActivation(name={self.name!r})"

    def _identity_key(self):
        return (type(self), self.name, self._forward_fn, self._derivative_fn)


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------

_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


def _builtin_classes():
    """Every class in this module that declares its own ``name``, found from the classes."""
    found, stack = [], [Activation]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.__module__ == __name__ and sub.__dict__.get("name"):
                found.append(sub)
    return found


def _build_registry():
    registry, aliases = {}, {}
    for cls in _builtin_classes():
        for key in (cls.name, *cls.aliases):
            if key in registry or key in aliases:
                raise RuntimeError(f"activation name '{key}' is declared twice")
        registry[cls.name] = cls
        aliases.update({alias: cls.name for alias in cls.aliases})
    return registry, aliases


# name -> a class (built-ins) or a UserActivation instance (register); alias -> name
_REGISTRY, _ALIASES = _build_registry()


def names():
    """The registered activation names, sorted (aliases not included)."""
    return sorted(_REGISTRY)


def _normalize(name):
    return name.strip().lower().replace("-", "_").replace(" ", "_")


def _known():
    alias_text = ", ".join(f"{a} -> {n}" for a, n in sorted(_ALIASES.items()))
    return f"known names: {', '.join(names())} (aliases: {alias_text})"


def _lookup(name, came_in):
    key = _normalize(name)
    key = key if key in _REGISTRY else _ALIASES.get(key, key)
    if key not in _REGISTRY:
        raise ConfigError(f"unknown activation {came_in!r}; {_known()}")
    return key, _REGISTRY[key]


def _from_config(config):
    params = dict(config)
    name = params.pop("name", None)
    if not isinstance(name, str):
        raise ConfigError(f"an activation config needs a string 'name', got {config!r}; "
                          f"{_known()}")
    key, entry = _lookup(name, name)
    allowed = entry.hyperparameters
    unexpected = sorted(set(params) - set(allowed))
    if unexpected:
        takes = ", ".join(allowed) if allowed else "no hyperparameters"
        raise ConfigError(f"activation '{key}' takes {takes}; got unexpected "
                          f"{', '.join(map(repr, unexpected))} in {config!r}")
    return entry(**params) if isinstance(entry, type) else entry


def get(identifier):
    """The activation an identifier names.

    - ``None``: the identity;
    - a string: a registered name or alias, case-insensitive (``"ReLU"``, ``"swish"``,
      ``"linear"``); built-ins get their default hyperparameters;
    - an :class:`Activation`: itself;
    - a dict ``{"name": ..., **hyperparameters}``, as ``get_config()`` returns: a new instance.

    Anything else, or an unknown name, raises :class:`~nnscratch.errors.ConfigError` listing
    the known names.
    """
    if identifier is None:
        return Identity()
    if isinstance(identifier, Activation):
        return identifier
    if isinstance(identifier, str):
        _, entry = _lookup(identifier, identifier)
        return entry() if isinstance(entry, type) else entry
    if isinstance(identifier, dict):
        return _from_config(identifier)
    raise ConfigError(
        f"an activation must be given as a name, an Activation, a config dict or None, got "
        f"{identifier!r} ({type(identifier).__name__}); {_known()}. To use your own "
        "function, register it first: activations.register(name, forward, derivative)")


def register(name, forward, derivative, overwrite=False):
    """Register a user-defined elementwise activation and return it.

    ``forward(z) -> a`` and ``derivative(z, a) -> f'(z)`` act elementwise on arrays; the
    backward pass is ``grad_a * derivative(z, a)``. Check the pair with
    ``nnscratch.gradcheck.check_activation(name, z)``.

    The name (lower-case snake case) must be new, unless ``overwrite=True``. The activation's
    ``get_config()`` is ``{"name": name}`` only: a saved model that uses it can be loaded only
    after the same name is registered again.
    """
    if not isinstance(name, str) or not _NAME_PATTERN.match(_normalize(name)):
        raise ConfigError(f"an activation name must be a lower-case identifier such as "
                          f"'my_act', got {name!r}")
    if not callable(forward) or not callable(derivative):
        raise ConfigError(f"register('{name}', forward, derivative) needs two functions, got "
                          f"{type(forward).__name__} and {type(derivative).__name__}")
    key = _normalize(name)
    if (key in _REGISTRY or key in _ALIASES) and not overwrite:
        taken = key if key in _REGISTRY else f"{key} (an alias of {_ALIASES[key]})"
        raise ConfigError(f"activation '{taken}' is already registered; pass overwrite=True "
                          "to replace it")
    _ALIASES.pop(key, None)
    activation = UserActivation(key, forward, derivative)
    _REGISTRY[key] = activation
    return activation
