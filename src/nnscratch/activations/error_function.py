"""The error function :func:`erf` and its complement :func:`erfc` (NumPy has none).

The reference is Cody's rational approximation below, written in NumPy. Where SciPy is
installed, ``scipy.special.erf``/``erfc`` (compiled, several times faster; the exact GELU spends
most of its time here) compute the same functions instead, to the same float rounding, with the
far tail flushed to 0 as the reference does; set :data:`USE_SCIPY` to False to always take the
NumPy path. The tests compare the two.
"""

import functools

import numpy as np

from .. import threads
from .base import _as_float_array
from .kernels import _exp, _exp_floor, _select, _square

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


#: Take scipy.special's erf/erfc when SciPy can be imported (see the module docstring).
USE_SCIPY = True


@functools.cache
def _scipy_special():
    """scipy.special, imported on first use (None without SciPy)."""
    try:
        from scipy import special
    except ImportError:
        return None
    return special


def _compiled(name):
    """``scipy.special.<name>`` as a kernel of one block; None without SciPy. For erfc the far
    tail is set to 0 where :func:`_erfc_large` sets it (about sqrt(tiny), so no caller meets a
    subnormal); erf keeps its tiny values near 0, as :func:`_erf_small` does."""
    special = _scipy_special() if USE_SCIPY else None
    if special is None:
        return None
    function = getattr(special, name)

    def kernel(x):
        with np.errstate(under="ignore"):
            out = function(x)
        if name == "erfc":            # where the reference's exp(-r^2) is flushed: 0 there too
            r = np.trunc(x * 16.0) / 16.0
            out[(x > 0) & (-(r * r) <= _exp_floor(x.dtype))] = 0.0
        return out

    return kernel


_BLOCK = 32768   # elements: the many temporaries then stay in cache and their memory is reused


def _blockwise(kernel, x, what):
    """``kernel`` applied to ``x`` in blocks of the flattened array; same shape and dtype as x.

    The work is done in at least float32 (Cody's sums would overflow float16).
    """
    x = _as_float_array(x, what)
    flat = x.astype(np.promote_types(x.dtype, np.float32), copy=False).reshape(-1)
    out = np.empty_like(flat)

    def blocks(first, last):                  # blocks [first, last): independent of the others
        for start in range(first * _BLOCK, min(last * _BLOCK, flat.size), _BLOCK):
            out[start:start + _BLOCK] = kernel(flat[start:start + _BLOCK])

    threads.split(-(-flat.size // _BLOCK), blocks, flat.size)   # side by side when large
    return out.reshape(x.shape).astype(x.dtype, copy=False)


def erf(x):
    r"""The error function :math:`\operatorname{erf}(x) = \frac{2}{\sqrt\pi}\int_0^x e^{-t^2}dt`.

    Vectorized Cody rational approximation, accurate to about 1e-16 relative in float64 (and to
    float32 precision in float32). Same shape and dtype as ``x``.
    """
    return _blockwise(_compiled("erf") or _erf_kernel, x, "erf")


def erfc(x):
    r"""The complementary error function :math:`\operatorname{erfc}(x) = 1 - \operatorname{erf}(x)`.

    Computed directly (not as ``1 - erf``), so it keeps its relative accuracy in the right tail,
    down to about ``sqrt(tiny)`` (1e-154 in float64), below which it returns 0.
    """
    return _blockwise(_compiled("erfc") or _erfc_kernel, x, "erfc")
