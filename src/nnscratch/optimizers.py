"""Update rules (gradient descent and its descendants).

The base class :class:`Optimizer` owns the loop over parameters, gradient clipping, the step
counter and the learning rate (a number or a schedule of the step); a subclass writes only its
update rule, ``update(param, grad, state, lr)``, which changes ``param`` in place. State
(velocities, moments) lives in ``self.state``, keyed by the parameter's name in the network
(``"dense_0.W"``), and is created lazily with the parameter's shape on its first update.

Update rules and defaults follow the algorithms that torch.optim documents; each class's
docstring writes its whole algorithm out. ``self.iterations`` counts the calls to ``step`` (one
per batch); inside ``update`` it is the step number :math:`t = 1, 2, \\dots` of the formulas, and
Adam-style bias corrections use it.

Keyword names follow Keras where Keras has one, the same across all optimizers:

=================================  ============================  ==================================
nnscratch                          torch.optim                   used by
=================================  ============================  ==================================
``learning_rate``                  ``lr``                        all (a number or a schedule)
``beta_1``, ``beta_2``             ``betas=(beta_1, beta_2)``    Adam, AdamW, Adamax, NAdam, RAdam,
                                                                 Lion
``epsilon``                        ``eps``                       all but SGD and Lion
``rho``                            ``alpha``                     RMSprop
``rho``                            ``rho``                       Adadelta
``momentum``                       ``momentum``                  SGD, RMSprop
``weight_decay``                   ``weight_decay``              all
``dampening``, ``nesterov``        same                          SGD
``amsgrad``                        same                          Adam, AdamW
``centered``                       same                          RMSprop
``initial_accumulator_value``      same                          Adagrad
``lr_decay``                       same                          Adagrad
``momentum_decay``                 same                          NAdam
``decoupled_weight_decay``         same                          Adam, NAdam, RAdam
=================================  ============================  ==================================

``weight_decay`` is torch's: an L2 term :math:`\\lambda \\theta` added to the gradient, except in
AdamW and Lion (and with ``decoupled_weight_decay=True``), where the parameter shrinks directly,
:math:`\\theta \\leftarrow \\theta - \\gamma \\lambda \\theta` (Keras applies its ``weight_decay``
that way in every optimizer). The defaults are torch's; Keras's differ (e.g. its Adam
``epsilon=1e-7``, its SGD ``learning_rate=0.01``).

All updates happen in place (``param -= ...``) through scratch arrays that the optimizer reuses
from step to step, so a step allocates nothing the size of a parameter once the state exists,
and float32 parameters and state stay float32.
"""

import inspect
import math

import numpy as np

from .errors import ConfigError, ShapeError
from .registry import named_subclasses, resolve, unknown_name


def _is_number(value):
    return not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))


def _check_positive(value, what):
    if not _is_number(value) or not value > 0 or not math.isfinite(value):
        raise ConfigError(f"{what} must be a number > 0, got {value!r}")
    return float(value)


def _check_range(value, what, low=0.0, high=1.0, high_open=True):
    ok = _is_number(value) and low <= value and (value < high if high_open else value <= high)
    if not ok:
        bracket = ")" if high_open else "]"
        raise ConfigError(f"{what} must be a number in [{low}, {high}{bracket}, got {value!r}")
    return float(value)


def _check_nonnegative(value, what):
    if not _is_number(value) or not 0 <= value < np.inf:
        raise ConfigError(f"{what} must be a number >= 0, got {value!r}")
    return float(value)


class Optimizer:
    """Base class: the loop over parameters, clipping, the step count and the learning rate.

    Parameters
    ----------
    learning_rate : float or schedule
        A positive number, or a callable ``schedule(step) -> float`` (see ``nnscratch.schedules``)
        called with ``step = self.iterations`` (0 for the first step).
    clipnorm : float, optional
        Rescale all gradients together so their global L2 norm is at most ``clipnorm``:
        :math:`g \\leftarrow g \\cdot \\min(1, c / \\lVert g \\rVert_2)` (torch's
        ``clip_grad_norm_`` over all parameters).
    clipvalue : float, optional
        Clip every gradient entry to ``[-clipvalue, clipvalue]``; applied before ``clipnorm``.

    Clipping changes the gradient arrays in place, before the update rule sees them (and before
    any weight decay is added to them).
    """

    name = None

    def __init__(self, learning_rate=0.01, clipnorm=None, clipvalue=None):
        if callable(learning_rate):
            self.learning_rate = learning_rate
        else:
            self.learning_rate = _check_positive(learning_rate,
                                                 f"{type(self).__name__} learning_rate")
        self.clipnorm = None if clipnorm is None else _check_positive(clipnorm, "clipnorm")
        self.clipvalue = None if clipvalue is None else _check_positive(clipvalue, "clipvalue")
        self.iterations = 0
        self.state = {}
        self._scratch = {}
        self._views = {}          # (shape, dtype, slot) -> view of a scratch buffer, see _work

    def current_learning_rate(self):
        """The learning rate for the step about to be taken."""
        if callable(self.learning_rate):
            return float(self.learning_rate(self.iterations))
        return self.learning_rate

    def clip(self, grads):
        """Apply ``clipvalue`` then ``clipnorm`` to a list of gradient arrays, in place."""
        if self.clipvalue is not None:
            for g in grads:
                np.clip(g, -self.clipvalue, self.clipvalue, out=g)
        if self.clipnorm is not None:
            total = float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads)))
            if total > self.clipnorm:
                scale = self.clipnorm / total
                for g in grads:
                    g *= g.dtype.type(scale)

    def step(self, named_parameters, packed=None):
        """Update every ``(name, param, grad)`` in place with the rule of this optimizer.

        ``packed``: optionally ``(params, grads)``, two arrays that hold all of the parameters
        and gradients of ``named_parameters`` (the views are into them, as a Network packs
        them). A rule for which :meth:`elementwise_stateless` holds then updates all of them in
        one call, which is the same computation with fewer, larger operations.
        """
        if not isinstance(named_parameters, list):
            named_parameters = list(named_parameters)
        if packed is not None and self.elementwise_stateless():
            self._step_packed(named_parameters, *packed)
            return
        if self.clipnorm is not None or self.clipvalue is not None:
            self.clip([g for _, _, g in named_parameters])
        lr = self.current_learning_rate()
        self.iterations += 1
        for name, param, grad in named_parameters:
            if grad.shape != param.shape:
                raise ShapeError(f"{type(self).__name__}: the gradient of '{name}' is shaped "
                                 f"{grad.shape}, its parameter {param.shape}")
            state = self.state.get(name)
            if state is None:
                state = self.state[name] = self.init_state(param)
            self.update(param, grad, state, lr)

    def _step_packed(self, named_parameters, params, grads):
        """:meth:`step` on the two packed arrays at once (see ``packed`` there)."""
        if len(self.state) < len(named_parameters):       # the per-name (empty) states, once
            for name, param, _ in named_parameters:
                if name not in self.state:
                    self.state[name] = self.init_state(param)
        if self.clipnorm is not None or self.clipvalue is not None:
            self.clip([grads])                # one array: the same global norm and values
        lr = self.current_learning_rate()
        self.iterations += 1
        self.update(params, grads, {}, lr)

    def elementwise_stateless(self):
        """Whether the rule, with these hyperparameters, treats each element on its own and
        keeps no state: then all parameters can be updated as one array (see :meth:`step`)."""
        return False

    def init_state(self, param):
        """The per-parameter state (e.g. zero moments shaped like ``param``)."""
        return {}

    def update(self, param, grad, state, lr):
        """Change ``param`` in place given its gradient, its state and the learning rate."""
        raise NotImplementedError

    # -- helpers for update rules ----------------------------------------------------------
    def _work(self, like, slot=0):
        """A scratch array shaped and typed like ``like``, reused across parameters and steps.

        One flat buffer per (dtype, slot), as large as the largest parameter seen, is viewed
        with each parameter's shape, so the hot loop allocates nothing. Different slots never
        overlap; the contents are garbage until written. The view for each shape is made once
        and kept (a view made before the buffer grew keeps the old buffer alive: still scratch).
        """
        view = self._views.get((like.shape, like.dtype, slot))
        if view is None:          # first use of this shape: slice it from the flat buffer, once
            key = (like.dtype.str, slot)
            flat = self._scratch.get(key)
            if flat is None or flat.size < like.size:
                flat = self._scratch[key] = np.empty(like.size, dtype=like.dtype)
            view = self._views[(like.shape, like.dtype, slot)] = flat[:like.size].reshape(like.shape)
        return view

    def _l2_gradient(self, param, grad, weight_decay):
        """:math:`g + \\lambda \\theta` (torch's ``weight_decay``), leaving ``grad`` untouched."""
        if not weight_decay:
            return grad
        out = self._work(param, slot=1)
        np.multiply(param, param.dtype.type(weight_decay), out=out)
        out += grad
        return out

    @staticmethod
    def _decoupled_decay(param, lr, weight_decay):
        """AdamW's decay, in place: :math:`\\theta \\leftarrow (1 - \\gamma \\lambda) \\theta`."""
        if weight_decay:
            param *= param.dtype.type(1.0 - lr * weight_decay)

    def _decay_and_moments(self, param, grad, m, v, lr, work):
        r"""The start Adam, NAdam and RAdam share: weight decay, then both moment averages.

        .. math::

            \theta \leftarrow (1 - \gamma\lambda)\theta \text{ (decoupled) or }
            g \leftarrow g + \lambda\theta; \quad
            m_t = \beta_1 m + (1 - \beta_1) g; \quad v_t = \beta_2 v + (1 - \beta_2) g^2

        Returns the gradient used (``grad``, or a scratch array holding ``g + lambda theta``).
        """
        if self.decoupled_weight_decay:
            self._decoupled_decay(param, lr, self.weight_decay)  # theta <- (1 - gamma lambda) theta
            g = grad
        else:
            g = self._l2_gradient(param, grad, self.weight_decay)  # g <- g + lambda theta
        self._ema(m, g, self.beta_1, work)                       # m_t = b1 m + (1-b1) g
        self._ema_square(v, g, self.beta_2, work)                # v_t = b2 v + (1-b2) g^2
        return g

    @staticmethod
    def _ema(avg, value, decay, work):
        """:math:`a \\leftarrow \\beta a + (1 - \\beta) v` in place (``work`` is scratch)."""
        avg *= avg.dtype.type(decay)
        np.multiply(value, avg.dtype.type(1.0 - decay), out=work)
        avg += work

    @staticmethod
    def _ema_square(avg, value, decay, work):
        """:math:`a \\leftarrow \\beta a + (1 - \\beta) v^2` in place (``work`` is scratch)."""
        avg *= avg.dtype.type(decay)
        np.multiply(value, value, out=work)
        work *= avg.dtype.type(1.0 - decay)
        avg += work

    # -- configuration ---------------------------------------------------------------------
    def get_config(self):
        """Hyperparameters (JSON-safe) that recreate this optimizer with ``optimizers.get``."""
        lr = self.learning_rate
        config = {"name": self.name,
                  "learning_rate": lr.get_config() if hasattr(lr, "get_config") else lr}
        if self.clipnorm is not None:
            config["clipnorm"] = self.clipnorm
        if self.clipvalue is not None:
            config["clipvalue"] = self.clipvalue
        config.update(self._hyperparameters())
        return config

    def _hyperparameters(self):
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


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

    def __init__(self, learning_rate=1e-3, momentum=0.0, dampening=0.0, nesterov=False,
                 weight_decay=0.0, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum = _check_range(momentum, "SGD momentum")
        self.dampening = _check_range(dampening, "SGD dampening", high_open=False)
        self.weight_decay = _check_nonnegative(weight_decay, "SGD weight_decay")
        self.nesterov = bool(nesterov)
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ConfigError("SGD with nesterov=True needs momentum > 0 and dampening 0, "
                              f"got momentum={momentum}, dampening={dampening}")

    def elementwise_stateless(self):
        return not self.momentum                                 # plain (weight-decayed) descent

    def update(self, param, grad, state, lr):
        dt = param.dtype.type
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

    def _hyperparameters(self):
        return {"momentum": self.momentum, "dampening": self.dampening,
                "nesterov": self.nesterov, "weight_decay": self.weight_decay}


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

    def __init__(self, learning_rate=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, epsilon=1e-10, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.lr_decay = _check_nonnegative(lr_decay, "Adagrad lr_decay")
        self.weight_decay = _check_nonnegative(weight_decay, "Adagrad weight_decay")
        self.initial_accumulator_value = _check_nonnegative(
            initial_accumulator_value, "Adagrad initial_accumulator_value")
        self.epsilon = _check_positive(epsilon, "Adagrad epsilon")

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

    def _hyperparameters(self):
        return {"lr_decay": self.lr_decay, "weight_decay": self.weight_decay,
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


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

    def __init__(self, learning_rate=1.0, rho=0.9, epsilon=1e-6, weight_decay=0.0, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = _check_range(rho, "Adadelta rho")
        self.epsilon = _check_positive(epsilon, "Adadelta epsilon")
        self.weight_decay = _check_nonnegative(weight_decay, "Adadelta weight_decay")

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

    def _hyperparameters(self):
        return {"rho": self.rho, "epsilon": self.epsilon, "weight_decay": self.weight_decay}


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

    def __init__(self, learning_rate=1e-2, rho=0.99, epsilon=1e-8, weight_decay=0.0,
                 momentum=0.0, centered=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho = _check_range(rho, "RMSprop rho")
        self.epsilon = _check_positive(epsilon, "RMSprop epsilon")
        self.weight_decay = _check_nonnegative(weight_decay, "RMSprop weight_decay")
        self.momentum = _check_range(momentum, "RMSprop momentum")
        self.centered = bool(centered)

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

    def _hyperparameters(self):
        return {"rho": self.rho, "epsilon": self.epsilon, "weight_decay": self.weight_decay,
                "momentum": self.momentum, "centered": self.centered}


def _check_betas(owner, beta_1, beta_2):
    return _check_range(beta_1, f"{owner} beta_1"), _check_range(beta_2, f"{owner} beta_2")


class Adam(Optimizer):
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

    def __init__(self, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 weight_decay=0.0, amsgrad=False, decoupled_weight_decay=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        owner = type(self).__name__
        self.beta_1, self.beta_2 = _check_betas(owner, beta_1, beta_2)
        self.epsilon = _check_positive(epsilon, f"{owner} epsilon")
        self.weight_decay = _check_nonnegative(weight_decay, f"{owner} weight_decay")
        self.amsgrad = bool(amsgrad)
        self.decoupled_weight_decay = bool(decoupled_weight_decay)

    def init_state(self, param):
        state = {"exp_avg": np.zeros_like(param), "exp_avg_sq": np.zeros_like(param)}
        if self.amsgrad:
            state["max_exp_avg_sq"] = np.zeros_like(param)
        return state

    def update(self, param, grad, state, lr):
        dt, t = param.dtype.type, self.iterations
        work, m, v = self._work(param), state["exp_avg"], state["exp_avg_sq"]
        g = self._decay_and_moments(param, grad, m, v, lr, work)  # weight decay; m_t, v_t
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

    def _hyperparameters(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "weight_decay": self.weight_decay, "amsgrad": self.amsgrad,
                "decoupled_weight_decay": self.decoupled_weight_decay}


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

    def __init__(self, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 weight_decay=1e-2, amsgrad=False, **kwargs):
        super().__init__(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         weight_decay=weight_decay, amsgrad=amsgrad,
                         decoupled_weight_decay=True, **kwargs)

    def _hyperparameters(self):
        config = super()._hyperparameters()
        del config["decoupled_weight_decay"]                     # always True here
        return config


class Adamax(Optimizer):
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

    def __init__(self, learning_rate=2e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 weight_decay=0.0, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2 = _check_betas("Adamax", beta_1, beta_2)
        self.epsilon = _check_positive(epsilon, "Adamax epsilon")
        self.weight_decay = _check_nonnegative(weight_decay, "Adamax weight_decay")

    def init_state(self, param):
        return {"exp_avg": np.zeros_like(param), "exp_inf": np.zeros_like(param)}

    def update(self, param, grad, state, lr):
        dt, t = param.dtype.type, self.iterations
        work, m, u = self._work(param), state["exp_avg"], state["exp_inf"]
        g = self._l2_gradient(param, grad, self.weight_decay)    # g <- g + lambda theta
        self._ema(m, g, self.beta_1, work)                       # m_t = b1 m + (1-b1) g
        u *= dt(self.beta_2)
        np.abs(g, out=work)
        work += dt(self.epsilon)
        np.maximum(u, work, out=u)                               # u_t = max(b2 u, |g| + eps)
        np.divide(m, u, out=work)
        work *= dt(lr / (1.0 - self.beta_1 ** t))                # gamma m_t / ((1 - b1^t) u_t)
        param -= work

    def _hyperparameters(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "weight_decay": self.weight_decay}


class NAdam(Optimizer):
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

    def __init__(self, learning_rate=2e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 weight_decay=0.0, momentum_decay=4e-3, decoupled_weight_decay=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2 = _check_betas("NAdam", beta_1, beta_2)
        self.epsilon = _check_positive(epsilon, "NAdam epsilon")
        self.weight_decay = _check_nonnegative(weight_decay, "NAdam weight_decay")
        self.momentum_decay = _check_nonnegative(momentum_decay, "NAdam momentum_decay")
        self.decoupled_weight_decay = bool(decoupled_weight_decay)

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

    def _hyperparameters(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "weight_decay": self.weight_decay, "momentum_decay": self.momentum_decay,
                "decoupled_weight_decay": self.decoupled_weight_decay}


class RAdam(Optimizer):
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

    def __init__(self, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 weight_decay=0.0, decoupled_weight_decay=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2 = _check_betas("RAdam", beta_1, beta_2)
        self.epsilon = _check_positive(epsilon, "RAdam epsilon")
        self.weight_decay = _check_nonnegative(weight_decay, "RAdam weight_decay")
        self.decoupled_weight_decay = bool(decoupled_weight_decay)

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
        g = self._decay_and_moments(param, grad, m, v, lr, work)  # weight decay; m_t, v_t
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

    def _hyperparameters(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "weight_decay": self.weight_decay,
                "decoupled_weight_decay": self.decoupled_weight_decay}


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

    def __init__(self, learning_rate=1e-4, beta_1=0.9, beta_2=0.99, weight_decay=0.0, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2 = _check_betas("Lion", beta_1, beta_2)
        self.weight_decay = _check_nonnegative(weight_decay, "Lion weight_decay")

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

    def _hyperparameters(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "weight_decay": self.weight_decay}


def _table():
    """``{name: Optimizer subclass}``, found anew each time so that later subclasses count."""
    return named_subclasses(Optimizer)


def names():
    """The registered optimizer names, sorted."""
    return sorted(_table())


def get(identifier, **defaults):
    """An optimizer from a name (``"adam"``), a config dict, or an Optimizer instance.

    A dict is ``get_config()``'s output: ``{"name": "adam", "learning_rate": 1e-3, ...}``; a
    ``learning_rate`` that is itself a dict is read as a schedule (``nnscratch.schedules.get``).
    ``defaults`` fill in hyperparameters the identifier leaves out.
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        config = dict(identifier)
        name = config.pop("name", None)
    else:
        name, config = identifier, {}
    table = _table()
    key = resolve(name, table)
    if key is None:
        raise unknown_name("optimizer", name, names())
    cls = table[key]
    config = {**defaults, **config}
    lr = config.get("learning_rate")
    if isinstance(lr, dict):
        from . import schedules
        config["learning_rate"] = schedules.get(lr)
    accepted = set(inspect.signature(cls.__init__).parameters) - {"self", "kwargs"}
    accepted |= {"clipnorm", "clipvalue"}
    unknown = sorted(set(config) - accepted)
    if unknown:
        raise ConfigError(f"{cls.__name__} got unknown hyperparameter(s) {', '.join(unknown)}; "
                          f"it takes: {', '.join(sorted(accepted))}")
    return cls(**config)
