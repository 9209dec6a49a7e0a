"""The :class:`Activation` contract and :class:`ElementwiseActivation`, with input checking."""

import numpy as np

from ..errors import DataTypeError, ShapeError
from ..registry import Configurable


def _as_float_array(z, what):
    """``z`` as a floating-point array: float arrays keep their dtype, integers become float64."""
    z = np.asarray(z)
    if z.dtype.kind == "f":
        return z
    if z.dtype.kind in "biu":
        return z.astype(np.float64)
    raise DataTypeError(f"{what} expects a real-valued numeric array, got dtype {z.dtype}")


# Bounds of the hyperparameters that scale an activation's input or output (see the classes).
# An input of size 1e4 (the range the package promises finite results for) scaled by 1e3 stays
# far inside float32's range (3.4e38), and so does one divided by 1e-3; a hyperparameter beyond
# them has no use and would make a network predict inf or NaN.
SCALE_LIMIT = 1e3
DIVISOR_FLOOR = 1e-3


def _ready(z):
    """Whether ``z`` can go to the kernels as it is: a non-empty float32/float64 ndarray, not 0-d.

    This is what a layer passes in the training loop; checking it costs less than converting.
    """
    return type(z) is np.ndarray and z.dtype.char in "fd" and z.ndim > 0 and z.size > 0


class Activation(Configurable):
    """Base class: an activation function and its vector-Jacobian product.

    Subclasses set ``name`` (the registry key, lower-case snake case), optionally ``aliases``
    and ``hyperparameters`` (the keyword arguments ``get_config`` records, checked with
    :mod:`nnscratch.checks`), and implement the kernels ``_forward(z)`` and
    ``_backward(z, a, grad_a)``. The public methods convert the input to a float array, check
    shapes and run the kernels in ``z``'s dtype.

    A hyperparameter that scales the input or the output lies in
    ``[-SCALE_LIMIT, SCALE_LIMIT]`` (1e3), one that divides them is at least ``DIVISOR_FLOOR``
    (1e-3), so no setting that the constructor accepts makes the output overflow.
    """

    aliases = ()
    elementwise = True

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
