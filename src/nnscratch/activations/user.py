"""User-defined elementwise activations, built by :func:`nnscratch.activations.register`."""

import numpy as np

from ..errors import ShapeError
from .base import ElementwiseActivation


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
