"""Adaptive per-coordinate step sizes: Adagrad, Adadelta and RMSprop, as torch.optim has them.

Each divides the gradient by a running measure of its own size, coordinate by coordinate:
Adagrad by the root of the summed squares, RMSprop by the root of a moving average of the
squares, Adadelta by the same average with the step's units restored by a second average.
"""

import numpy as np

from .. import checks
from .base import Optimizer, fraction, keep, non_negative, positive


class Adagrad(Optimizer):
    """Adagrad: per-coordinate steps shrinking with the summed squared gradients (Duchi et al.).

    As torch.optim.Adagrad documents it, with learning rate :math:`\\gamma`, learning-rate decay
    :math:`\\eta`, weight decay :math:`\\lambda`, initial accumulator value :math:`\\tau` and
    :math:`\\epsilon`:

    .. math::

        s_0 &= \\tau\\\\
        g_t &\\leftarrow \\nabla_\\theta f_t(\\theta_{t-1})\\\\
        \\tilde\\gamma &= \\gamma / (1 + (t - 1) \\eta)\\\\
        g_t &\\leftarrow g_t + \\lambda \\theta_{t-1} \\quad \\text{if } \\lambda \\ne 0\\\\
        s_t &= s_{t-1} + g_t^2\\\\
        \\theta_t &= \\theta_{t-1} - \\tilde\\gamma \\, \\frac{g_t}{\\sqrt{s_t} + \\epsilon}
    """

    name = "adagrad"
    elementwise_update = True
    hyperparameters = (*Optimizer.hyperparameters, "lr_decay", "weight_decay",
                       "initial_accumulator_value", "epsilon")

    def __init__(self, learning_rate=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, epsilon=1e-10, **kwargs):
        super().__init__(learning_rate, **kwargs)
        keep(self, non_negative, lr_decay=lr_decay, weight_decay=weight_decay,
             initial_accumulator_value=initial_accumulator_value)
        keep(self, positive, epsilon=epsilon)

    def init_state(self, param):
        return {"sum": np.full_like(param, self.initial_accumulator_value)}

    def update(self, param, grad, state, lr):
        dt = param.dtype.type
        work, s = self._work(param), state["sum"]
        clr = lr / (1.0 + (self.iterations - 1) * self.lr_decay)  # gamma~ = gamma/(1 + (t-1) eta)
        g = self._l2_gradient(param, grad, self.weight_decay)    # g <- g + lambda theta
        np.multiply(g, g, out=work)
        s += work                                                # s_t = s_{t-1} + g^2
        np.sqrt(s, out=work)
        work += dt(self.epsilon)                                 # sqrt(s_t) + eps
        np.divide(g, work, out=work)                             # g / (sqrt(s_t) + eps)
        work *= dt(clr)
        param -= work                                            # theta <- theta - gamma~ (...)


class Adadelta(Optimizer):
    """Adadelta: steps scaled by the ratio of the running RMS of updates and gradients (Zeiler).

    As torch.optim.Adadelta documents it, with learning rate :math:`\\gamma` (1.0 recovers the
    paper), decay rate :math:`\\rho` (torch's ``rho``), weight decay :math:`\\lambda` and
    :math:`\\epsilon`:

    .. math::

        v_0 &= 0, \\quad u_0 = 0\\\\
        g_t &\\leftarrow \\nabla_\\theta f_t(\\theta_{t-1})
              \\;(+\\, \\lambda \\theta_{t-1} \\text{ if } \\lambda \\ne 0)\\\\
        v_t &= \\rho v_{t-1} + (1 - \\rho) g_t^2\\\\
        \\Delta x_t &= \\frac{\\sqrt{u_{t-1} + \\epsilon}}{\\sqrt{v_t + \\epsilon}} \\, g_t\\\\
        u_t &= \\rho u_{t-1} + (1 - \\rho) \\Delta x_t^2\\\\
        \\theta_t &= \\theta_{t-1} - \\gamma \\Delta x_t
    """

    name = "adadelta"
    hyperparameters = (*Optimizer.hyperparameters, "rho", "epsilon", "weight_decay")

    def __init__(self, learning_rate=1.0, rho=0.9, epsilon=1e-6, weight_decay=0.0, **kwargs):
        super().__init__(learning_rate, **kwargs)
        keep(self, fraction, rho=rho)
        keep(self, positive, epsilon=epsilon)
        keep(self, non_negative, weight_decay=weight_decay)

    def init_state(self, param):
        return {"square_avg": np.zeros_like(param), "acc_delta": np.zeros_like(param)}

    def update(self, param, grad, state, lr):
        dt = param.dtype.type
        work, delta = self._work(param), self._work(param, slot=2)
        v, u = state["square_avg"], state["acc_delta"]
        g = self._l2_gradient(param, grad, self.weight_decay)    # g <- g + lambda theta
        self._ema_square(v, g, self.rho, work)                   # v_t = rho v + (1-rho) g^2
        np.add(v, dt(self.epsilon), out=work)
        np.sqrt(work, out=work)                                  # sqrt(v_t + eps)
        np.add(u, dt(self.epsilon), out=delta)
        np.sqrt(delta, out=delta)                                # sqrt(u_{t-1} + eps)
        delta /= work
        delta *= g                                               # dx_t = ratio * g
        self._ema_square(u, delta, self.rho, work)               # u_t = rho u + (1-rho) dx^2
        delta *= dt(lr)
        param -= delta                                           # theta <- theta - gamma dx_t


class RMSprop(Optimizer):
    """RMSprop: steps divided by a running RMS of the gradient (Hinton's lecture 6e; Graves, 2013).

    As torch.optim.RMSprop documents it, with learning rate :math:`\\gamma`, smoothing constant
    :math:`\\rho` (torch's ``alpha``), momentum :math:`\\mu`, weight decay :math:`\\lambda` and
    :math:`\\epsilon`:

    .. math::

        v_0 &= 0, \\quad b_0 = 0, \\quad \\bar g_0 = 0\\\\
        g_t &\\leftarrow \\nabla_\\theta f_t(\\theta_{t-1})
              \\;(+\\, \\lambda \\theta_{t-1} \\text{ if } \\lambda \\ne 0)\\\\
        v_t &= \\rho v_{t-1} + (1 - \\rho) g_t^2, \\qquad \\tilde v_t = v_t\\\\
        \\bar g_t &= \\rho \\bar g_{t-1} + (1 - \\rho) g_t, \\quad
              \\tilde v_t = v_t - \\bar g_t^2 \\quad \\text{if centered}\\\\
        b_t &= \\mu b_{t-1} + g_t / (\\sqrt{\\tilde v_t} + \\epsilon), \\quad
              \\theta_t = \\theta_{t-1} - \\gamma b_t \\quad \\text{if } \\mu > 0\\\\
        \\theta_t &= \\theta_{t-1} - \\gamma g_t / (\\sqrt{\\tilde v_t} + \\epsilon)
              \\quad \\text{otherwise}

    The centered variance :math:`v_t - \\bar g_t^2` is never negative in exact arithmetic; it is
    clamped at 0 before the square root so that rounding cannot produce a NaN.
    """

    name = "rmsprop"
    hyperparameters = (*Optimizer.hyperparameters, "rho", "epsilon", "weight_decay", "momentum",
                       "centered")

    def __init__(self, learning_rate=1e-2, rho=0.99, epsilon=1e-8, weight_decay=0.0,
                 momentum=0.0, centered=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        keep(self, fraction, rho=rho)
        keep(self, positive, epsilon=epsilon)
        keep(self, non_negative, weight_decay=weight_decay)
        keep(self, fraction, momentum=momentum)
        keep(self, checks.boolean, centered=centered)

    def init_state(self, param):
        state = {"square_avg": np.zeros_like(param)}
        if self.momentum:
            state["momentum_buffer"] = np.zeros_like(param)
        if self.centered:
            state["grad_avg"] = np.zeros_like(param)
        return state

    def update(self, param, grad, state, lr):
        dt = param.dtype.type
        work, v = self._work(param), state["square_avg"]
        g = self._l2_gradient(param, grad, self.weight_decay)    # g <- g + lambda theta
        self._ema_square(v, g, self.rho, work)                   # v_t = rho v + (1-rho) g^2
        if self.centered:
            g_avg = state["grad_avg"]
            self._ema(g_avg, g, self.rho, work)                  # gbar_t = rho gbar + (1-rho) g
            np.multiply(g_avg, g_avg, out=work)
            np.subtract(v, work, out=work)                       # v~_t = v_t - gbar_t^2
            np.maximum(work, 0, out=work)
            np.sqrt(work, out=work)
        else:
            np.sqrt(v, out=work)                                 # sqrt(v~_t), v~_t = v_t
        work += dt(self.epsilon)
        np.divide(g, work, out=work)                             # g / (sqrt(v~_t) + eps)
        if self.momentum:
            buf = state["momentum_buffer"]
            buf *= dt(self.momentum)
            buf += work                                          # b_t = mu b + g / (...)
            np.multiply(buf, dt(lr), out=work)
        else:
            work *= dt(lr)
        param -= work                                            # theta <- theta - gamma (...)
