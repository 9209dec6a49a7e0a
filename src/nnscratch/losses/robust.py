"""Robust and quantile regression losses: Huber, log-cosh, smooth L1 and pinball."""

import numpy as np

from .. import checks
from .base import Loss
from .kernels import _LOG_2, _mean_per_sample, _per_sample_count


def _huber(error, delta):
    """Huber's :math:`h(x)`, elementwise: :math:`\\tfrac12 \\min(|x|, \\delta)^2 + \\delta
    \\max(|x| - \\delta, 0)`, the two branches in one expression."""
    a = np.abs(error)
    return 0.5 * np.square(np.minimum(a, delta)) + delta * np.maximum(a - delta, 0.0)


class Huber(Loss):
    """Huber loss: quadratic for errors up to ``delta``, linear beyond (Keras' definition).

    .. math::

        h(x) = \\begin{cases} \\tfrac12 x^2 & |x| \\le \\delta \\\\
                \\delta (|x| - \\tfrac12 \\delta) & |x| > \\delta \\end{cases}, \\qquad
        h'(x) = \\operatorname{clip}(x, -\\delta, \\delta), \\qquad
        l_i = \\frac{1}{m}\\sum_j h(p_{ij} - y_{ij})
    """

    name = "huber"
    aliases = ("huber_loss",)
    hyperparameters = ("delta",)

    def __init__(self, delta=1.0):
        self.delta = checks.number(delta, f"{self.name} delta", low=0.0, low_open=True)

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return _mean_per_sample(_huber(p - y, self.delta))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return np.clip(p - y, -self.delta, self.delta) / _per_sample_count(p)   # h'(x)


class LogCosh(Loss):
    """Logarithm of the hyperbolic cosine of the error, in a form that cannot overflow.

    .. math::

        \\log\\cosh x = |x| + \\log(1 + e^{-2|x|}) - \\log 2, \\qquad
        \\frac{d}{dx}\\log\\cosh x = \\tanh x, \\qquad
        l_i = \\frac{1}{m}\\sum_j \\log\\cosh(p_{ij} - y_{ij})
    """

    name = "log_cosh"
    aliases = ("logcosh",)

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        a = np.abs(p - y)
        return _mean_per_sample(a + np.log1p(np.exp(-2.0 * a)) - _LOG_2)

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        return np.tanh(p - y) / _per_sample_count(p)


class SmoothL1(Huber):
    """Smooth L1 loss (PyTorch's ``SmoothL1Loss``): Huber with :math:`\\delta = \\beta`, divided
    by ``beta``.

    .. math::

        s(x) = \\frac{h_\\beta(x)}{\\beta} = \\begin{cases} \\frac{x^2}{2\\beta} & |x| < \\beta \\\\
                |x| - \\tfrac12 \\beta & |x| \\ge \\beta \\end{cases}, \\qquad
        s'(x) = \\frac{h'_\\beta(x)}{\\beta} = \\operatorname{clip}(x / \\beta, -1, 1), \\qquad
        l_i = \\frac{1}{m}\\sum_j s(p_{ij} - y_{ij})

    ``beta`` is its only hyperparameter (``delta`` follows it).
    """

    name = "smooth_l1"
    aliases = ("smooth_l1_loss",)
    hyperparameters = ("beta",)

    def __init__(self, beta=1.0):
        self.beta = checks.number(beta, f"{self.name} beta", low=0.0, low_open=True)
        super().__init__(delta=self.beta)

    def per_sample(self, y_pred, y_true):
        return super().per_sample(y_pred, y_true) / self.beta                 # s = h / beta

    def per_sample_gradient(self, y_pred, y_true):
        return super().per_sample_gradient(y_pred, y_true) / self.beta        # s' = h' / beta


class Pinball(Loss):
    """Pinball (quantile) loss: its minimiser is the ``tau``-quantile of ``y`` (0.5: the median).

    With the error :math:`e = y - p`:

    .. math::

        l_i = \\frac{1}{m}\\sum_j \\max(\\tau e_{ij}, (\\tau - 1) e_{ij}), \\qquad
        \\frac{\\partial l_i}{\\partial p_{ij}} = \\frac{1}{m}\\begin{cases} -\\tau & e > 0 \\\\
            1 - \\tau & e < 0 \\\\ 0 & e = 0 \\end{cases}

    At ``e = 0`` the subgradient 0 is taken (it lies in :math:`[-\\tau, 1 - \\tau]`).
    """

    name = "pinball"
    aliases = ("quantile", "pinball_loss", "quantile_loss")
    hyperparameters = ("tau",)

    def __init__(self, tau=0.5):
        self.tau = checks.number(tau, f"{self.name} tau", low=0.0, high=1.0)

    def per_sample(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        e = y - p
        return _mean_per_sample(np.maximum(self.tau * e, (self.tau - 1.0) * e))

    def per_sample_gradient(self, y_pred, y_true):
        p, y = self._prepare(y_pred, y_true)
        e = y - p
        grad = np.where(e > 0, -self.tau, np.where(e < 0, 1.0 - self.tau, 0.0)).astype(p.dtype)
        return grad / _per_sample_count(p)
