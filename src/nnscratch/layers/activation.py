r"""Activation: a layer that applies a registered activation function, Keras's ``Activation``."""

import math

import numpy as np

from .activated import ActivatedLayer


class Activation(ActivatedLayer):
    r"""Apply an activation to its input: ``y = f(x)``, for any shape (N, ...).

    .. math::

        y = f(x), \qquad \frac{\partial L}{\partial x} = f'(x) \odot \frac{\partial L}{\partial y}
        \quad\text{(a vector-Jacobian product for softmax, over the last axis)}

    It is an :class:`~nnscratch.layers.ActivatedLayer` whose affine part is the identity
    (``z = x``), so the activation's forward and derivative are the ones every layer uses, and a
    softmax (or sigmoid) ``Activation`` that ends a network fuses with a cross-entropy loss as a
    Dense's activation does.

    Parameters
    ----------
    activation : str, dict or Activation
        Any name of :func:`nnscratch.activations.names`, a config dict, or an activation object.
    """

    supports_masking = True   # elementwise (softmax: over the features of one step)

    def __init__(self, activation, name=None, trainable=True):
        super().__init__(activation=activation, name=name, trainable=trainable)

    def forward_values(self, input_shape):
        """The output ``a`` (``z`` is the input itself, held by whoever produced it)."""
        return math.prod(input_shape)

    def linear_forward(self, x, training=False):
        return x if isinstance(x, np.ndarray) else np.asarray(x)      # z = x

    def backward_from_z(self, grad_z):
        return grad_z                                                 # dx = dz
