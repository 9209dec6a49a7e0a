"""The Adam family: Adam, AdamW, Adamax, NAdam and RAdam, as torch.optim has them.

All keep a moving average of the gradient (the first moment) and scale the step by a second
moment; :class:`AdamFamily` holds what they share: the betas, epsilon, weight decay (torch's L2
term in the gradient, or AdamW's decoupled shrinking of the parameter) and the weight-decay-and-
moments step with which Adam, NAdam and RAdam begin.
"""

import math

import numpy as np

from .. import checks
from .base import Optimizer, fraction, keep, non_negative, positive


class AdamFamily(Optimizer):
    """Base of the Adam family: betas, epsilon, weight decay, and the step their rules begin with.

    The shared start (:meth:`_decay_and_moments`), at step :math:`t` with learning rate
    :math:`\\gamma`:

    .. math::

        \\theta \\leftarrow (1 - \\gamma\\lambda)\\theta \\text{ (decoupled) or }
        g \\leftarrow g + \\lambda\\theta; \\quad
        m_t = \\beta_1 m + (1 - \\beta_1) g; \\quad v_t = \\beta_2 v + (1 - \\beta_2) g^2

    Parameters
    ----------
    beta_1, beta_2 : float in [0, 1)
        Decay rates of the first and second moment averages.
    epsilon : float > 0
        Added to the root of the second moment, so that no step divides by zero.
    weight_decay : float >= 0
        :math:`\\lambda`: an L2 term in the gradient, or with ``decoupled_weight_decay`` a
        shrinking of the parameter.
    decoupled_weight_decay : bool
        AdamW's decay (for the subclasses that take it).
    """

    hyperparameters = (*Optimizer.hyperparameters, "beta_1", "beta_2", "epsilon", "weight_decay")

    def __init__(self, learning_rate, beta_1, beta_2, epsilon, weight_decay,
                 decoupled_weight_decay=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        keep(self, fraction, beta_1=beta_1, beta_2=beta_2)
        keep(self, positive, epsilon=epsilon)
        keep(self, non_negative, weight_decay=weight_decay)
        keep(self, checks.boolean, decoupled_weight_decay=decoupled_weight_decay)

    def _decayed_gradient(self, param, grad, lr):
        """Apply the weight decay; returns the gradient to use from here on.

        Decoupled: :math:`\\theta \\leftarrow (1 - \\gamma\\lambda)\\theta` in place, and ``grad``
        itself comes back. Otherwise :math:`g + \\lambda\\theta` (in a scratch array).
        """
        if self.decoupled_weight_decay:
            self._decoupled_decay(param, lr, self.weight_decay)  # theta <- (1 - gamma lambda) theta
            return grad
        return self._l2_gradient(param, grad, self.weight_decay)  # g <- g + lambda theta

    def _decay_and_moments(self, param, grad, m, v, lr, work):
        """The start Adam, NAdam and RAdam share: weight decay, then both moment averages.

        Returns the gradient used (``grad``, or a scratch array holding ``g + lambda theta``).
        """
        g = self._decayed_gradient(param, grad, lr)
        self._ema(m, g, self.beta_1, work)                       # m_t = b1 m + (1-b1) g
        self._ema_square(v, g, self.beta_2, work)                # v_t = b2 v + (1-b2) g^2
        return g


class Adam(AdamFamily):
    """Adam: bias-corrected running moments of the gradient (Kingma & Ba, 2015).

    As torch.optim.Adam documents it, with learning rate :math:`\\gamma`, betas
    :math:`\\beta_1, \\beta_2`, weight decay :math:`\\lambda` (an L2 term added to the
    gradient, or with ``decoupled_weight_decay=True`` AdamW's shrinking of the parameter) and
    :math:`\\epsilon`:

    .. math::

        m_0 &= 0, \\quad v_0 = 0, \\quad \\hat v^{max}_0 = 0\\\\
        g_t &\\leftarrow \\nabla_\\theta f_t(\\theta_{t-1})\\\\
        \\theta_t &\\leftarrow \\theta_{t-1} - \\gamma \\lambda \\theta_{t-1}
              \\text{ if decoupled, else } g_t \\leftarrow g_t + \\lambda \\theta_{t-1}\\\\
        m_t &= \\beta_1 m_{t-1} + (1 - \\beta_1) g_t\\\\
        v_t &= \\beta_2 v_{t-1} + (1 - \\beta_2) g_t^2\\\\
        \\hat m_t &= m_t / (1 - \\beta_1^t)\\\\
        v^{max}_t &= \\max(v^{max}_{t-1}, v_t), \\quad
              \\hat v_t = v^{max}_t / (1 - \\beta_2^t) \\quad \\text{if amsgrad}\\\\
        \\hat v_t &= v_t / (1 - \\beta_2^t) \\quad \\text{otherwise}\\\\
        \\theta_t &\\leftarrow \\theta_t - \\gamma \\hat m_t / (\\sqrt{\\hat v_t} + \\epsilon)

    Computed as torch does: :math:`\\theta_t = \\theta_{t-1} - \\frac{\\gamma}{1 - \\beta_1^t}
    \\, m_t / (\\sqrt{v_t} / \\sqrt{1 - \\beta_2^t} + \\epsilon)`.
    """

    name = "adam"
    elementwise_update = True
    hyperparameters = (*AdamFamily.hyperparameters, "amsgrad", "decoupled_weight_decay")

    def __init__(self, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 weight_decay=0.0, amsgrad=False, decoupled_weight_decay=False, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, weight_decay,
                         decoupled_weight_decay, **kwargs)
        keep(self, checks.boolean, amsgrad=amsgrad)

    def init_state(self, param):
        state = {"exp_avg": np.zeros_like(param), "exp_avg_sq": np.zeros_like(param)}
        if self.amsgrad:
            state["max_exp_avg_sq"] = np.zeros_like(param)
        return state

    def update(self, param, grad, state, lr):
        dt, t = param.dtype.type, self.iterations
        work, m, v = self._work(param), state["exp_avg"], state["exp_avg_sq"]
        self._decay_and_moments(param, grad, m, v, lr, work)      # weight decay; m_t, v_t
        if self.amsgrad:
            v_max = state["max_exp_avg_sq"]
            np.maximum(v_max, v, out=v_max)                      # v_max_t = max(v_max, v_t)
            v = v_max
        bias_correction1 = 1.0 - self.beta_1 ** t
        bias_correction2 = 1.0 - self.beta_2 ** t
        # gamma m^_t / (sqrt(v^_t) + eps) with m^ = m / bc1 and v^ = v / bc2 is the same number
        # as (gamma sqrt(bc2) / bc1) m_t / (sqrt(v_t) + eps sqrt(bc2)), one pass cheaper
        root_bc2 = math.sqrt(bias_correction2)
        np.sqrt(v, out=work)
        work += dt(self.epsilon * root_bc2)                      # sqrt(v_t) + eps sqrt(bc2)
        np.divide(m, work, out=work)
        work *= dt(lr * root_bc2 / bias_correction1)             # gamma m^_t / (sqrt(v^_t) + eps)
        param -= work


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    As torch.optim.AdamW documents it: Adam's algorithm (see :class:`Adam`, ``amsgrad``
    included) without the L2 term in the gradient, the parameter instead shrinking directly
    before the Adam step:

    .. math::

        g_t &\\leftarrow \\nabla_\\theta f_t(\\theta_{t-1})\\\\
        \\theta_t &\\leftarrow \\theta_{t-1} - \\gamma \\lambda \\theta_{t-1}\\\\
        m_t, v_t, \\hat m_t, \\hat v_t &\\text{ as in Adam}\\\\
        \\theta_t &\\leftarrow \\theta_t - \\gamma \\hat m_t / (\\sqrt{\\hat v_t} + \\epsilon)

    Default ``weight_decay=1e-2``. The same as ``Adam(decoupled_weight_decay=True)``.
    """

    name = "adamw"
    hyperparameters = (*AdamFamily.hyperparameters, "amsgrad")  # always decoupled

    def __init__(self, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 weight_decay=1e-2, amsgrad=False, **kwargs):
        super().__init__(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         weight_decay=weight_decay, amsgrad=amsgrad,
                         decoupled_weight_decay=True, **kwargs)


class Adamax(AdamFamily):
    """Adamax: Adam with the infinity norm in place of the second moment (Kingma & Ba, 2015).

    As torch.optim.Adamax documents it:

    .. math::

        m_0 &= 0, \\quad u_0 = 0\\\\
        g_t &\\leftarrow \\nabla_\\theta f_t(\\theta_{t-1})
              \\;(+\\, \\lambda \\theta_{t-1} \\text{ if } \\lambda \\ne 0)\\\\
        m_t &= \\beta_1 m_{t-1} + (1 - \\beta_1) g_t\\\\
        u_t &= \\max(\\beta_2 u_{t-1}, |g_t| + \\epsilon)\\\\
        \\theta_t &= \\theta_{t-1} - \\frac{\\gamma \\, m_t}{(1 - \\beta_1^t) \\, u_t}
    """

    name = "adamax"
    elementwise_update = True
    hyperparameters = AdamFamily.hyperparameters                # L2 weight decay only

    def __init__(self, learning_rate=2e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 weight_decay=0.0, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, weight_decay, False, **kwargs)

    def init_state(self, param):
        return {"exp_avg": np.zeros_like(param), "exp_inf": np.zeros_like(param)}

    def update(self, param, grad, state, lr):
        dt, t = param.dtype.type, self.iterations
        work, m, u = self._work(param), state["exp_avg"], state["exp_inf"]
        g = self._decayed_gradient(param, grad, lr)              # g <- g + lambda theta
        self._ema(m, g, self.beta_1, work)                       # m_t = b1 m + (1-b1) g
        u *= dt(self.beta_2)
        np.abs(g, out=work)
        work += dt(self.epsilon)
        np.maximum(u, work, out=u)                               # u_t = max(b2 u, |g| + eps)
        np.divide(m, u, out=work)
        work *= dt(lr / (1.0 - self.beta_1 ** t))                # gamma m_t / ((1 - b1^t) u_t)
        param -= work


class NAdam(AdamFamily):
    """NAdam: Adam with Nesterov momentum and a momentum schedule (Dozat, 2016).

    As torch.optim.NAdam documents it, with momentum decay :math:`\\psi`:

    .. math::

        m_0 &= 0, \\quad v_0 = 0\\\\
        g_t &\\leftarrow \\nabla_\\theta f_t(\\theta_{t-1})\\\\
        \\theta_t &\\leftarrow \\theta_{t-1} - \\gamma \\lambda \\theta_{t-1}
              \\text{ if decoupled, else } g_t \\leftarrow g_t + \\lambda \\theta_{t-1}\\\\
        \\mu_t &= \\beta_1 \\left(1 - \\tfrac12 \\, 0.96^{t \\psi}\\right), \\quad
        \\mu_{t+1} = \\beta_1 \\left(1 - \\tfrac12 \\, 0.96^{(t+1) \\psi}\\right)\\\\
        m_t &= \\beta_1 m_{t-1} + (1 - \\beta_1) g_t\\\\
        v_t &= \\beta_2 v_{t-1} + (1 - \\beta_2) g_t^2\\\\
        \\hat m_t &= \\frac{\\mu_{t+1} m_t}{1 - \\prod_{i=1}^{t+1} \\mu_i}
              + \\frac{(1 - \\mu_t) g_t}{1 - \\prod_{i=1}^{t} \\mu_i}\\\\
        \\hat v_t &= v_t / (1 - \\beta_2^t)\\\\
        \\theta_t &\\leftarrow \\theta_t - \\gamma \\hat m_t / (\\sqrt{\\hat v_t} + \\epsilon)

    The running product :math:`\\prod_{i \\le t} \\mu_i` is kept per parameter in the state as
    ``mu_product`` (a float64 scalar array), as torch keeps it.
    """

    name = "nadam"
    hyperparameters = (*AdamFamily.hyperparameters, "momentum_decay", "decoupled_weight_decay")

    def __init__(self, learning_rate=2e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 weight_decay=0.0, momentum_decay=4e-3, decoupled_weight_decay=False, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, weight_decay,
                         decoupled_weight_decay, **kwargs)
        keep(self, non_negative, momentum_decay=momentum_decay)

    def init_state(self, param):
        return {"exp_avg": np.zeros_like(param), "exp_avg_sq": np.zeros_like(param),
                "mu_product": np.ones((), dtype=np.float64)}

    def update(self, param, grad, state, lr):
        dt, t = param.dtype.type, self.iterations
        work, step = self._work(param), self._work(param, slot=2)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        mu = self.beta_1 * (1.0 - 0.5 * 0.96 ** (t * self.momentum_decay))
        mu_next = self.beta_1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * self.momentum_decay))
        state["mu_product"] *= mu                                # prod_{i<=t} mu_i
        mu_product = float(state["mu_product"])
        mu_product_next = mu_product * mu_next                   # prod_{i<=t+1} mu_i
        g = self._decay_and_moments(param, grad, m, v, lr, work)  # weight decay; m_t, v_t
        np.sqrt(v, out=work)
        work /= dt(math.sqrt(1.0 - self.beta_2 ** t))
        work += dt(self.epsilon)                                 # sqrt(v^_t) + eps
        np.divide(g, work, out=step)
        step *= dt(lr * (1.0 - mu) / (1.0 - mu_product))
        param -= step                                            # gradient part of m^_t
        np.divide(m, work, out=step)
        step *= dt(lr * mu_next / (1.0 - mu_product_next))
        param -= step                                            # momentum part of m^_t


class RAdam(AdamFamily):
    """RAdam: Adam with the variance of its adaptive rate rectified (Liu et al., 2020).

    As torch.optim.RAdam documents it:

    .. math::

        m_0 &= 0, \\quad v_0 = 0, \\quad \\rho_\\infty = \\frac{2}{1 - \\beta_2} - 1\\\\
        g_t &\\leftarrow \\nabla_\\theta f_t(\\theta_{t-1})\\\\
        \\theta_t &\\leftarrow \\theta_{t-1} - \\gamma \\lambda \\theta_{t-1}
              \\text{ if decoupled, else } g_t \\leftarrow g_t + \\lambda \\theta_{t-1}\\\\
        m_t &= \\beta_1 m_{t-1} + (1 - \\beta_1) g_t\\\\
        v_t &= \\beta_2 v_{t-1} + (1 - \\beta_2) g_t^2\\\\
        \\hat m_t &= m_t / (1 - \\beta_1^t)\\\\
        \\rho_t &= \\rho_\\infty - \\frac{2 t \\beta_2^t}{1 - \\beta_2^t}\\\\
        \\text{if } \\rho_t > 5: \\quad
        l_t &= \\frac{\\sqrt{1 - \\beta_2^t}}{\\sqrt{v_t} + \\epsilon}, \\quad
        r_t = \\sqrt{\\frac{(\\rho_t - 4)(\\rho_t - 2) \\rho_\\infty}
                          {(\\rho_\\infty - 4)(\\rho_\\infty - 2) \\rho_t}}, \\quad
        \\theta_t \\leftarrow \\theta_t - \\gamma \\hat m_t r_t l_t\\\\
        \\text{else}: \\quad \\theta_t &\\leftarrow \\theta_t - \\gamma \\hat m_t

    While the variance estimate is too short to trust (:math:`\\rho_t \\le 5`, the first few
    steps: 5 with the default :math:`\\beta_2`), the step is plain momentum SGD.
    """

    name = "radam"
    hyperparameters = (*AdamFamily.hyperparameters, "decoupled_weight_decay")

    def __init__(self, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 weight_decay=0.0, decoupled_weight_decay=False, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, weight_decay,
                         decoupled_weight_decay, **kwargs)

    def init_state(self, param):
        return {"exp_avg": np.zeros_like(param), "exp_avg_sq": np.zeros_like(param)}

    def rectification(self, t):
        """:math:`r_t`, or None while :math:`\\rho_t \\le 5` (no adaptive step yet)."""
        rho_inf = 2.0 / (1.0 - self.beta_2) - 1.0
        beta_2_t = self.beta_2 ** t
        rho_t = rho_inf - 2.0 * t * beta_2_t / (1.0 - beta_2_t)
        if rho_t <= 5.0:
            return None
        return math.sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                         / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))

    def update(self, param, grad, state, lr):
        dt, t = param.dtype.type, self.iterations
        work, m, v = self._work(param), state["exp_avg"], state["exp_avg_sq"]
        self._decay_and_moments(param, grad, m, v, lr, work)      # weight decay; m_t, v_t
        bias_correction1 = 1.0 - self.beta_1 ** t
        r_t = self.rectification(t)
        if r_t is None:
            np.multiply(m, dt(lr / bias_correction1), out=work)  # gamma m^_t
        else:
            np.sqrt(v, out=work)
            work += dt(self.epsilon)                             # sqrt(v_t) + eps
            np.divide(m, work, out=work)
            bias_correction2 = 1.0 - self.beta_2 ** t
            work *= dt(lr * r_t * math.sqrt(bias_correction2) / bias_correction1)  # gamma m^ r l
        param -= work
