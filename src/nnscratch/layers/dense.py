"""Dense (fully connected) layer: ``a = f(x W + b)``."""

import numpy as np

from .. import checks
from ..errors import ShapeError
from .activated import ActivatedLayer
from .base import check_input_features


class Dense(ActivatedLayer):
    """Fully connected layer.

    Forward, for a batch ``X`` of shape (N, inputs):

    .. math::

        Z = X W + b, \\qquad A = f(Z)

    with ``W`` of shape (inputs, units) and ``b`` of shape (units,). Backward, given
    :math:`dA = \\partial L / \\partial A`:

    .. math::

        dZ = dA \\odot f'(Z), \\quad dW = X^T dZ, \\quad db = \\sum_n dZ_n, \\quad dX = dZ\\, W^T

    Inputs with more than two axes (N, ..., inputs) are treated as N*... rows, as Keras does.

    Parameters
    ----------
    units : int
        Number of outputs.
    activation : str, dict, Activation or None
        Applied to ``Z``; None means identity.
    use_bias : bool
        Whether to add ``b``.
    kernel_initializer, bias_initializer : str, dict or Initializer
        Defaults: Glorot uniform and zeros, as in Keras.
    kernel_regularizer, bias_regularizer : None, "l1", "l2", dict or Regularizer
        Weight penalties added to the loss.
    input_dim : int, optional
        The number of input features, so a network can be built before it sees data.
    """

    packable = True       # W, b and their gradients change in place only
    supports_masking = True   # one step of (N, T, F) at a time

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 input_dim=None, name=None, trainable=True):
        super().__init__(activation=activation, name=name, trainable=trainable)
        self.units = checks.positive_int(units, "Dense units")
        self.use_bias = checks.boolean(use_bias, "Dense use_bias")
        self.keep_param_specs(kernel=(kernel_initializer, kernel_regularizer),
                              bias=(bias_initializer, bias_regularizer))
        self.input_dim = checks.optional_positive_int(input_dim, "Dense input_dim")
        self._x = None

    def param_shapes(self, input_shape):
        """``W`` (inputs, units) and ``b`` (units,) for inputs shaped (N, ..., inputs)."""
        if len(input_shape) == 0:
            raise ShapeError(f"Dense layer {self.label} expects inputs (N, ..., features), got "
                             "a 1-D array (N,)")
        shapes = {"W": (int(input_shape[-1]), self.units)}
        if self.use_bias:
            shapes["b"] = (self.units,)
        return shapes

    def build(self, input_shape, rng=None, dtype=np.float32):
        super().build(input_shape, rng, dtype)
        shapes = self.param_shapes(self.input_shape)
        fan_in = shapes["W"][0]
        self.draw_param("W", "kernel", shapes["W"], rng, fan_in, self.units)
        if self.use_bias:
            self.draw_param("b", "bias", shapes["b"], rng, fan_in, self.units)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def linear_forward(self, x, training=False):
        W = self.params["W"]
        if x.ndim < 2 or x.shape[-1] != W.shape[0]:
            check_input_features(self, x, W.shape[0])       # raises, naming the layer
        self._x = x
        if x.ndim == 2:
            z = x @ W                               # Z = X W (+ b)
        else:                                       # (N, ..., inputs): one product of N*... rows,
            z = (x.reshape(-1, W.shape[0]) @ W).reshape(x.shape[:-1] + (W.shape[1],))
            #                                         not a stack of N small ones
        if self.use_bias:
            z += self.params["b"]
        return z

    def backward_from_z(self, grad_z):
        x = self._x
        if x.ndim == 2:
            x2, g2 = x, grad_z
        else:                                       # (N, ..., inputs): N*... rows
            x2, g2 = x.reshape(-1, x.shape[-1]), grad_z.reshape(-1, grad_z.shape[-1])
        np.matmul(x2.T, g2, out=self.grads["W"])    # dW = X^T dZ
        if self.use_bias:
            np.add.reduce(g2, axis=0, out=self.grads["b"])   # db = sum over samples of dZ
        if not self.input_grad_needed:              # the network's first layer: dX is unused
            return None
        grad_x = g2 @ self.params["W"].T                     # dX = dZ W^T
        return grad_x if x.ndim == 2 else grad_x.reshape(x.shape)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, use_bias=self.use_bias, **self.param_specs_config())
        if self.input_dim is not None:
            config["input_dim"] = self.input_dim
        return config

