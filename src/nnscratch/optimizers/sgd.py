"""Stochastic gradient descent: the article's rule, with momentum, Nesterov momentum and weight
decay as torch.optim.SGD has them."""

import numpy as np

from .. import checks
from ..errors import ConfigError
from .base import Optimizer, fraction, keep, non_negative, unit_interval


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay.

    As torch.optim.SGD documents it, with learning rate :math:`\\gamma`, momentum :math:`\\mu`,
    dampening :math:`\\tau` and weight decay :math:`\\lambda`, at step :math:`t`:

    .. math::

        g_t &\\leftarrow \\nabla_\\theta f_t(\\theta_{t-1})\\\\
        g_t &\\leftarrow g_t + \\lambda \\theta_{t-1} \\quad \\text{if } \\lambda \\ne 0\\\\
        b_t &= \\mu b_{t-1} + (1 - \\tau) g_t \\quad (b_1 = g_1) \\quad \\text{if } \\mu \\ne 0\\\\
        g_t &\\leftarrow g_t + \\mu b_t \\text{ if nesterov, else } b_t
              \\quad \\text{if } \\mu \\ne 0\\\\
        \\theta_t &= \\theta_{t-1} - \\gamma g_t

    With ``momentum=0`` this is the article's plain gradient descent
    :math:`\\theta \\leftarrow \\theta - \\gamma \\nabla L`. The momentum buffer :math:`b` is
    created on a parameter's first update, as a copy of its gradient. The default
    ``learning_rate=1e-3`` is torch's (Keras uses 0.01).
    """

    name = "sgd"
    hyperparameters = (*Optimizer.hyperparameters, "momentum", "dampening", "nesterov",
                       "weight_decay")

    def __init__(self, learning_rate=1e-3, momentum=0.0, dampening=0.0, nesterov=False,
                 weight_decay=0.0, **kwargs):
        super().__init__(learning_rate, **kwargs)
        keep(self, fraction, momentum=momentum)
        keep(self, unit_interval, dampening=dampening)
        keep(self, non_negative, weight_decay=weight_decay)
        keep(self, checks.boolean, nesterov=nesterov)
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ConfigError(f"{type(self).__name__} with nesterov=True needs momentum > 0 and "
                              f"dampening 0, got momentum={momentum}, dampening={dampening}")

    def elementwise_stateless(self):
        return not self.momentum                                 # plain (weight-decayed) descent

    def update(self, param, grad, state, lr):
        dt = param.dtype.type
        if not (self.momentum or self.weight_decay):             # plain descent, the common case
            param -= np.multiply(grad, dt(lr), self._work(param))    # theta <- theta - gamma g
            return
        work = self._work(param)
        g = self._l2_gradient(param, grad, self.weight_decay)    # g <- g + lambda theta
        if self.momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()        # b_1 = g_1
            else:
                buf *= dt(self.momentum)                         # b <- mu b
                if self.dampening:
                    np.multiply(g, dt(1.0 - self.dampening), out=work)
                    buf += work                                  #      + (1 - tau) g
                else:
                    buf += g                                     #      + g
            if self.nesterov:
                np.multiply(buf, dt(self.momentum), out=work)
                work += g                                        # g <- g + mu b
                g = work
            else:
                g = buf                                          # g <- b
        np.multiply(g, dt(lr), out=work)
        param -= work                                            # theta <- theta - gamma g
