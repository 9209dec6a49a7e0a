"""Row-wise activations over the last axis: softmax, log-softmax and softmin."""

import numpy as np

from .base import Activation
from .kernels import _exp, log_softmax, softmax


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
