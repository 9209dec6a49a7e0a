"""Lion, the sign of an interpolated momentum (Chen et al., 2023), with decoupled weight decay."""

import numpy as np

from .base import Optimizer, fraction, keep, non_negative


class Lion(Optimizer):
    """Lion: the sign of an interpolated momentum (Chen et al., 2023, "Symbolic Discovery of
    Optimization Algorithms", Algorithm 2).

    torch.optim has no Lion; this follows the paper (as the reference implementation and Keras
    do), with decoupled weight decay :math:`\\lambda`:

    .. math::

        m_0 &= 0\\\\
        g_t &\\leftarrow \\nabla_\\theta f_t(\\theta_{t-1})\\\\
        c_t &= \\beta_1 m_{t-1} + (1 - \\beta_1) g_t\\\\
        \\theta_t &= \\theta_{t-1} - \\gamma \\left(\\operatorname{sign}(c_t)
                     + \\lambda \\theta_{t-1}\\right)\\\\
        m_t &= \\beta_2 m_{t-1} + (1 - \\beta_2) g_t

    :math:`\\operatorname{sign}(0) = 0`, as in NumPy and torch. Every coordinate moves by
    exactly :math:`\\gamma`, so Lion wants a learning rate 3-10x smaller than AdamW's.
    """

    name = "lion"
    hyperparameters = (*Optimizer.hyperparameters, "beta_1", "beta_2", "weight_decay")

    def __init__(self, learning_rate=1e-4, beta_1=0.9, beta_2=0.99, weight_decay=0.0, **kwargs):
        super().__init__(learning_rate, **kwargs)
        keep(self, fraction, beta_1=beta_1, beta_2=beta_2)
        keep(self, non_negative, weight_decay=weight_decay)

    def init_state(self, param):
        return {"exp_avg": np.zeros_like(param)}

    def update(self, param, grad, state, lr):
        dt = param.dtype.type
        work, c, m = self._work(param), self._work(param, slot=2), state["exp_avg"]
        np.multiply(m, dt(self.beta_1), out=c)
        np.multiply(grad, dt(1.0 - self.beta_1), out=work)
        c += work                                                # c_t = b1 m + (1-b1) g
        self._decoupled_decay(param, lr, self.weight_decay)      # theta <- (1 - gamma lambda) theta
        np.sign(c, out=c)
        c *= dt(lr)
        param -= c                                               # theta <- theta - gamma sign(c_t)
        self._ema(m, grad, self.beta_2, work)                    # m_t = b2 m + (1-b2) g
