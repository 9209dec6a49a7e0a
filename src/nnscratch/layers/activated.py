"""ActivatedLayer: an affine map followed by an activation, the base of Dense and the
convolutions (and of Activation, whose affine map is the identity)."""

import math

import numpy as np

from .. import activations
from .base import Layer


class ActivatedLayer(Layer):
    """A layer whose output is ``a = f(z)`` of an affine map ``z = linear(x)``.

    Subclasses implement ``linear_forward(x, training) -> z`` and ``backward_from_z(grad_z)``
    (the affine part's backward). This class adds the activation and its chain-rule step:

    .. math::

        \\frac{\\partial L}{\\partial z} = f'(z) \\odot \\frac{\\partial L}{\\partial a}
        \\quad\\text{(a vector-Jacobian product for softmax)}

    A network whose loss fuses with the last activation (softmax + cross-entropy) reads ``z``
    from ``last_z`` and calls ``backward_from_z`` directly.
    """

    abstract = True

    def __init__(self, activation=None, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self.activation = activations.get(activation)
        self._is_identity = self.activation.name == "identity"
        self.last_z = None
        self._last_a = None

    def forward(self, x, training=False):
        """``a = f(linear_forward(x))``; keeps ``z`` (``last_z``) and ``a`` for the backward."""
        z = self.linear_forward(x, training)
        self.last_z = z
        if self._is_identity:
            self._last_a = z
            return z
        if z.dtype.char in "fd" and z.size:       # as the public forward would: no conversion
            self._last_a = self.activation._forward(z)
        else:
            self._last_a = self.activation.forward(z)
        return self._last_a

    def backward(self, grad_a):
        """``dL/dx`` from ``dL/da``: the activation's chain-rule step, then the affine part's."""
        if self._is_identity:
            return self.backward_from_z(grad_a)
        z = self.last_z
        if type(grad_a) is np.ndarray and grad_a.dtype == z.dtype and grad_a.shape == z.shape:
            # z and a are this layer's own arrays: straight to the kernel, nothing to convert
            grad_z = self.activation._backward(z, self._last_a, grad_a)      # dZ = dA * f'(Z)
        else:
            grad_z = self.activation.backward(z, self._last_a, grad_a)
        return self.backward_from_z(grad_z)

    def forward_values(self, input_shape):
        """``z`` and ``a`` (one array with the identity), each shaped like the output."""
        size = math.prod(self.compute_output_shape(input_shape))
        return size if self._is_identity else 2 * size

    def linear_forward(self, x, training=False):
        """The affine part ``z = linear(x)``, before the activation."""
        raise NotImplementedError

    def backward_from_z(self, grad_z):
        """``dL/dx`` from ``dL/dz``; fills the parameter gradients."""
        raise NotImplementedError

    def get_config(self):
        """The layer's config with the activation's (``{"name": ..., ...}``) added."""
        config = super().get_config()
        config["activation"] = self.activation.get_config()
        return config
