"""Dropout: randomly zero inputs while training (inverted dropout), identity at inference."""

import numpy as np

from .. import checks
from .base import Layer


def dropout_mask(rng, shape, rate, dtype):
    """A mask of ``0`` (dropped, probability ``rate``) and ``1/(1-rate)`` (kept), in ``dtype``.

    .. math::

        m_i = \\frac{\\mathbb{1}[u_i \\ge r]}{1 - r}, \\qquad u_i \\sim U[0, 1)

    so that :math:`E[m_i] = 1` and the expected output equals the input.
    """
    keep = rng.random(shape, dtype=np.float32) >= rate
    return keep.astype(dtype) * dtype.type(1.0 / (1.0 - rate))


class Dropout(Layer):
    """Inverted dropout (Srivastava et al., 2014), as in Keras and PyTorch.

    While training each input is dropped with probability ``rate`` and the kept ones are
    scaled up, so nothing has to change at inference, where the layer is the identity:

    .. math::

        y = x \\odot m \\;\\;(\\text{training}), \\qquad y = x \\;\\;(\\text{inference}), \\qquad
        \\frac{\\partial L}{\\partial x} = \\frac{\\partial L}{\\partial y} \\odot m

    with :math:`m` from :func:`dropout_mask`. The mask is drawn from ``self.rng``, a
    ``numpy.random.Generator`` created in ``build`` from the generator the network passes
    (so ``Network(seed=...)`` fixes every mask), or from ``seed`` when the layer is built on
    its own.

    Parameters
    ----------
    rate : float in [0, 1)
        Probability of dropping each input.
    seed : int, optional
        Seeds the masks when the layer is built without a generator.
    """

    supports_masking = True   # elementwise

    def __init__(self, rate, seed=None, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self.rate = checks.number(rate, "Dropout rate", low=0, high=1, high_open=True)
        self.seed = checks.seed(seed, "Dropout seed")
        self.rng = None
        self._mask = None

    def build(self, input_shape, rng=None, dtype=np.float32):
        super().build(input_shape, rng, dtype)
        # A generator of our own, seeded from the network's: the network seed fixes the masks
        # and drawing them does not shift any other layer's random numbers.
        seed = self.seed if rng is None else int(rng.integers(2 ** 63))
        self.rng = np.random.default_rng(seed)

    def forward(self, x, training=False):
        if not training or self.rate == 0.0:
            self._mask = None
            return x
        if self.rng is None:                       # used without build: seed from ``seed``
            self.rng = np.random.default_rng(self.seed)
        self._mask = dropout_mask(self.rng, x.shape, self.rate, x.dtype)
        return x * self._mask                      # y = x * m

    def backward(self, grad_y):
        if self._mask is None:
            return grad_y                          # identity: dX = dY
        return grad_y * self._mask                 # dX = dY * m

    def get_config(self):
        config = super().get_config()
        config["rate"] = self.rate
        if self.seed is not None:
            config["seed"] = self.seed
        return config
