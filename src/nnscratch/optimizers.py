"""Update rules (gradient descent and its descendants).

The base class :class:`Optimizer` owns the loop over parameters, gradient clipping, the step
counter and the learning rate (a number or a schedule of the step); a subclass writes only its
update rule, ``update(param, grad, state, lr)``, which changes ``param`` in place. State
(velocities, moments) lives in ``self.state``, keyed by the parameter's name in the network
(``"dense_0.W"``), and is created lazily with the parameter's shape on its first update.

Update rules and defaults follow the formulas that torch.optim documents.
"""

import numpy as np

from .errors import ConfigError


def _check_positive(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not value > 0:
        raise ConfigError(f"{what} must be a number > 0, got {value!r}")
    return float(value)


def _check_range(value, what, low=0.0, high=1.0, high_open=True):
    ok = isinstance(value, (int, float, np.floating)) and low <= value and (
        value < high if high_open else value <= high)
    if not ok:
        bracket = ")" if high_open else "]"
        raise ConfigError(f"{what} must be in [{low}, {high}{bracket}, got {value!r}")
    return float(value)


class Optimizer:
    """Base class: the loop over parameters, clipping, the step count and the learning rate.

    Parameters
    ----------
    learning_rate : float or schedule
        A positive number, or a callable ``schedule(step) -> float`` (see ``nnscratch.schedules``).
    clipnorm : float, optional
        Rescale all gradients together so their global L2 norm is at most ``clipnorm``:
        :math:`g \\leftarrow g \\cdot \\min(1, c / \\lVert g \\rVert_2)`.
    clipvalue : float, optional
        Clip every gradient entry to ``[-clipvalue, clipvalue]``.
    """

    name = None

    def __init__(self, learning_rate=0.01, clipnorm=None, clipvalue=None):
        if callable(learning_rate):
            self.learning_rate = learning_rate
        else:
            self.learning_rate = _check_positive(learning_rate, f"{type(self).__name__} learning_rate")
        self.clipnorm = None if clipnorm is None else _check_positive(clipnorm, "clipnorm")
        self.clipvalue = None if clipvalue is None else _check_positive(clipvalue, "clipvalue")
        self.iterations = 0
        self.state = {}

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

    def step(self, named_parameters):
        """Update every ``(name, param, grad)`` in place with the rule of this optimizer."""
        named_parameters = list(named_parameters)
        if self.clipnorm is not None or self.clipvalue is not None:
            self.clip([g for _, _, g in named_parameters])
        lr = self.current_learning_rate()
        self.iterations += 1
        for name, param, grad in named_parameters:
            state = self.state.get(name)
            if state is None:
                state = self.state[name] = self.init_state(param)
            self.update(param, grad, state, lr)

    def init_state(self, param):
        """The per-parameter state (e.g. zero moments shaped like ``param``)."""
        return {}

    def update(self, param, grad, state, lr):
        """Change ``param`` in place given its gradient, its state and the learning rate."""
        raise NotImplementedError

    def get_config(self):
        """Hyperparameters (JSON-safe) that recreate this optimizer."""
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

    As torch.optim.SGD documents it, at step t with gradient :math:`g_t`:

    .. math::

        g_t &\\leftarrow g_t + \\lambda \\theta_{t-1} \\quad (\\text{weight decay } \\lambda)\\\\
        b_t &= \\mu b_{t-1} + (1 - \\tau) g_t \\quad (b_1 = g_1)\\\\
        g_t &\\leftarrow g_t + \\mu b_t \\text{ if nesterov, else } b_t\\\\
        \\theta_t &= \\theta_{t-1} - \\gamma g_t

    With ``momentum=0`` this is the article's plain gradient descent
    :math:`\\theta \\leftarrow \\theta - \\gamma \\nabla L`.
    """

    name = "sgd"

    def __init__(self, learning_rate=0.01, momentum=0.0, dampening=0.0, nesterov=False,
                 weight_decay=0.0, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.momentum = _check_range(momentum, "SGD momentum")
        self.dampening = _check_range(dampening, "SGD dampening", high_open=False)
        self.weight_decay = _check_range(weight_decay, "SGD weight_decay", high=np.inf)
        self.nesterov = bool(nesterov)
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ConfigError("SGD with nesterov=True needs momentum > 0 and dampening 0, "
                              f"got momentum={momentum}, dampening={dampening}")

    def init_state(self, param):
        return {"momentum_buffer": None} if self.momentum else {}

    def update(self, param, grad, state, lr):
        dtype = param.dtype.type
        if self.weight_decay:
            grad = grad + dtype(self.weight_decay) * param
        if self.momentum:
            buf = state["momentum_buffer"]
            if buf is None:
                buf = state["momentum_buffer"] = np.array(grad, copy=True)
            else:
                buf *= dtype(self.momentum)
                buf += dtype(1.0 - self.dampening) * grad
            grad = grad + dtype(self.momentum) * buf if self.nesterov else buf
        param -= dtype(lr) * grad

    def _hyperparameters(self):
        return {"momentum": self.momentum, "dampening": self.dampening,
                "nesterov": self.nesterov, "weight_decay": self.weight_decay}


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def names():
    """The registered optimizer names, sorted."""
    return sorted(cls.name for cls in _all_subclasses(Optimizer) if cls.name)


def get(identifier, **defaults):
    """An optimizer from a name (``"adam"``), a config dict, or an Optimizer instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        config = dict(identifier)
        name = config.pop("name", None)
    else:
        name, config = identifier, {}
    table = {cls.name: cls for cls in _all_subclasses(Optimizer) if cls.name}
    if not isinstance(name, str) or name.lower() not in table:
        raise ConfigError(f"unknown optimizer {name!r}; expected one of: {', '.join(names())}")
    lr = config.get("learning_rate")
    if isinstance(lr, dict):
        from . import schedules
        config["learning_rate"] = schedules.get(lr)
    return table[name.lower()](**{**defaults, **config})
