"""Learning-rate schedules: the learning rate as a function of the optimizer's step.

A schedule is a callable object, ``schedule(step) -> learning rate``, where ``step`` is
``optimizer.iterations``: 0 for the first update, 1 for the second, ... (so a schedule counts
batches, not epochs). Pass one as an optimizer's ``learning_rate``::

    opt = ns.optimizers.SGD(learning_rate=ns.schedules.StepDecay(0.1, step_size=100, gamma=0.5))

``get_config()`` gives a JSON-safe dict, ``schedules.get(config)`` rebuilds the schedule from it,
and ``optimizers.get`` does so for a ``learning_rate`` stored as a dict.

========================  ===========================================================
nnscratch                 torch.optim.lr_scheduler (stepped once per batch)
========================  ===========================================================
``Constant``              ``ConstantLR`` with ``factor=1``
``StepDecay``             ``StepLR(step_size, gamma)``
``MultiStepDecay``        ``MultiStepLR(milestones, gamma)``
``ExponentialDecay``      ``ExponentialLR(gamma)`` = ``decay_steps=1, decay_rate=gamma``
``CosineDecay``           linear warm-up then ``CosineAnnealingLR(T_max, eta_min)``
``OneCycle``              ``OneCycleLR(max_lr, total_steps, ...)``
========================  ===========================================================

The epoch-based callbacks (``LearningRateScheduler``, ``ReduceLROnPlateau`` in
:mod:`nnscratch.callbacks`) set ``optimizer.learning_rate`` to a number instead.
"""

import bisect
import math

import numpy as np

from .errors import ConfigError
from .registry import named_subclasses, resolve, unknown_name


def _number(value, what, low=0.0, low_open=True, high=math.inf, high_open=True):
    ok = (not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))
          and (low < value if low_open else low <= value)
          and (value < high if high_open else value <= high))
    if not ok:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        raise ConfigError(f"{what} must be a number in {left}{low}, {high}{right}, got {value!r}")
    return float(value)


def _count(value, what, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{what} must be an integer >= {minimum}, got {value!r}")
    return int(value)


class Schedule:
    """Base class: ``schedule(step)`` checks the step and returns ``float(self.rate(step))``."""

    name = None

    def __call__(self, step):
        if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 0:
            raise ConfigError(f"{type(self).__name__} expects a step that is an integer >= 0, "
                              f"got {step!r}")
        return float(self.rate(int(step)))

    def rate(self, step):
        """The learning rate at ``step`` (an int >= 0)."""
        raise NotImplementedError

    def get_config(self):
        """A JSON-safe dict (with ``"name"``) from which ``schedules.get`` rebuilds this schedule."""
        return {"name": self.name, **self._arguments()}

    def _arguments(self):
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._arguments().items())
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """The same rate at every step: :math:`\\eta_t = \\eta`."""

    name = "constant"

    def __init__(self, learning_rate):
        self.learning_rate = _number(learning_rate, "Constant learning_rate")

    def rate(self, step):
        return self.learning_rate

    def _arguments(self):
        return {"learning_rate": self.learning_rate}


class StepDecay(Schedule):
    """Multiply the rate by ``gamma`` every ``step_size`` steps (torch's StepLR, counting steps).

    .. math::

        \\eta_t = \\eta_0 \\, \\gamma^{\\lfloor t / s \\rfloor}
    """

    name = "step_decay"

    def __init__(self, initial_learning_rate, step_size, gamma=0.1):
        self.initial_learning_rate = _number(initial_learning_rate,
                                             "StepDecay initial_learning_rate")
        self.step_size = _count(step_size, "StepDecay step_size")
        self.gamma = _number(gamma, "StepDecay gamma")

    def rate(self, step):
        return self.initial_learning_rate * self.gamma ** (step // self.step_size)

    def _arguments(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "step_size": self.step_size, "gamma": self.gamma}


class MultiStepDecay(Schedule):
    """Multiply the rate by ``gamma`` at each milestone step (torch's MultiStepLR, counting steps).

    .. math::

        \\eta_t = \\eta_0 \\, \\gamma^{\\#\\{i \\,:\\, m_i \\le t\\}}

    so the new rate applies from the milestone step itself. Milestones must increase strictly.
    """

    name = "multi_step_decay"

    def __init__(self, initial_learning_rate, milestones, gamma=0.1):
        self.initial_learning_rate = _number(initial_learning_rate,
                                             "MultiStepDecay initial_learning_rate")
        if not isinstance(milestones, (list, tuple, np.ndarray)) or len(milestones) == 0:
            raise ConfigError("MultiStepDecay milestones must be a non-empty list of step numbers, "
                              f"got {milestones!r}")
        self.milestones = [_count(m, "MultiStepDecay milestone", minimum=0) for m in milestones]
        if any(b <= a for a, b in zip(self.milestones, self.milestones[1:])):
            raise ConfigError("MultiStepDecay milestones must increase strictly, got "
                              f"{self.milestones}")
        self.gamma = _number(gamma, "MultiStepDecay gamma")

    def rate(self, step):
        passed = bisect.bisect_right(self.milestones, step)             # milestones m_i <= step
        return self.initial_learning_rate * self.gamma ** passed

    def _arguments(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "milestones": list(self.milestones), "gamma": self.gamma}


class ExponentialDecay(Schedule):
    """Exponential decay in Keras's form: the rate falls by ``decay_rate`` every ``decay_steps``.

    .. math::

        \\eta_t = \\eta_0 \\, r^{t / s} \\qquad (r^{\\lfloor t / s \\rfloor} \\text{ if staircase})

    torch's ``ExponentialLR(gamma)`` (a factor ``gamma`` per step) is ``decay_steps=1,
    decay_rate=gamma``; ``decay_steps`` defaults to 1 for that reason.
    """

    name = "exponential_decay"

    def __init__(self, initial_learning_rate, decay_rate, decay_steps=1, staircase=False):
        self.initial_learning_rate = _number(initial_learning_rate,
                                             "ExponentialDecay initial_learning_rate")
        self.decay_rate = _number(decay_rate, "ExponentialDecay decay_rate")
        self.decay_steps = _count(decay_steps, "ExponentialDecay decay_steps")
        self.staircase = bool(staircase)

    def rate(self, step):
        exponent = step // self.decay_steps if self.staircase else step / self.decay_steps
        return self.initial_learning_rate * self.decay_rate ** exponent

    def _arguments(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_rate": self.decay_rate,
                "decay_steps": self.decay_steps, "staircase": self.staircase}


class CosineDecay(Schedule):
    """A linear warm-up to ``initial_learning_rate``, then a half cosine to ``min_learning_rate``.

    With peak rate :math:`\\eta_0`, floor :math:`\\eta_{min}`, :math:`W` warm-up steps and
    :math:`T` total steps (warm-up included):

    .. math::

        \\eta_t = \\begin{cases}
            \\eta_0 \\, (t + 1) / W & t < W \\\\
            \\eta_{min} + \\tfrac12 (\\eta_0 - \\eta_{min})
                \\left(1 + \\cos\\!\\left(\\pi \\, \\frac{t - W}{T - W}\\right)\\right) & W \\le t \\le T \\\\
            \\eta_{min} & t > T
        \\end{cases}

    The warm-up never takes a zero step (step 0 uses :math:`\\eta_0 / W`) and ends at
    :math:`\\eta_0` at step :math:`W - 1`; the cosine part is torch's
    ``CosineAnnealingLR(T_max=T - W, eta_min)``, and training for :math:`T` steps ends just
    above :math:`\\eta_{min}`.
    """

    name = "cosine_decay"

    def __init__(self, initial_learning_rate, total_steps, warmup_steps=0, min_learning_rate=0.0):
        self.initial_learning_rate = _number(initial_learning_rate,
                                             "CosineDecay initial_learning_rate")
        self.total_steps = _count(total_steps, "CosineDecay total_steps")
        self.warmup_steps = _count(warmup_steps, "CosineDecay warmup_steps", minimum=0)
        if self.warmup_steps >= self.total_steps:
            raise ConfigError(f"CosineDecay warmup_steps must be less than total_steps, got "
                              f"warmup_steps={warmup_steps}, total_steps={total_steps}")
        self.min_learning_rate = _number(min_learning_rate, "CosineDecay min_learning_rate",
                                         low_open=False, high=self.initial_learning_rate,
                                         high_open=False)

    def rate(self, step):
        peak, floor, warmup = self.initial_learning_rate, self.min_learning_rate, self.warmup_steps
        if step < warmup:
            return peak * (step + 1) / warmup                            # linear warm-up
        progress = min(1.0, (step - warmup) / (self.total_steps - warmup))
        return floor + 0.5 * (peak - floor) * (1.0 + math.cos(math.pi * progress))

    def _arguments(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "total_steps": self.total_steps, "warmup_steps": self.warmup_steps,
                "min_learning_rate": self.min_learning_rate}


def _anneal(start, end, pct, strategy):
    """From ``start`` (pct 0) to ``end`` (pct 1): half cosine or straight line."""
    if strategy == "cos":
        return end + 0.5 * (start - end) * (1.0 + math.cos(math.pi * pct))
    return start + (end - start) * pct


class OneCycle(Schedule):
    """The 1cycle policy (Smith & Topin, 2018), as torch's ``OneCycleLR`` computes it.

    Starting at :math:`\\eta_{max} / d` (``div_factor`` :math:`d`), the rate rises to
    :math:`\\eta_{max}` over the first ``pct_start`` of ``total_steps`` :math:`T`, then anneals
    to :math:`\\eta_{max} / (d f)` (``final_div_factor`` :math:`f`) at step :math:`T - 1`.
    With phase ends :math:`e_1 = p T - 1` and :math:`e_2 = T - 1` and anneal function
    :math:`A(a, b, x) = b + \\tfrac12 (a - b)(1 + \\cos \\pi x)` (or :math:`a + (b - a) x` for
    ``anneal_strategy="linear"``):

    .. math::

        \\eta_t = \\begin{cases}
            A(\\eta_{max}/d, \\; \\eta_{max}, \\; t / e_1) & t \\le e_1 \\\\
            A(\\eta_{max}, \\; \\eta_{max}/(d f), \\; (t - e_1) / (e_2 - e_1)) & t > e_1
        \\end{cases}

    ``three_phase=True`` is torch's three-phase variant: up to :math:`\\eta_{max}` by
    :math:`e_1`, back down to :math:`\\eta_{max}/d` by :math:`2 p T - 2`, then down to the
    final rate by :math:`T - 1`. Steps after :math:`T - 1` keep the final rate (torch raises an
    error there instead). torch also cycles the momentum in the opposite direction; this schedule
    sets only the learning rate. ``max_learning_rate`` is torch's ``max_lr``.
    """

    name = "one_cycle"

    def __init__(self, max_learning_rate, total_steps, pct_start=0.3, anneal_strategy="cos",
                 div_factor=25.0, final_div_factor=1e4, three_phase=False):
        self.max_learning_rate = _number(max_learning_rate, "OneCycle max_learning_rate")
        self.total_steps = _count(total_steps, "OneCycle total_steps", minimum=2)
        self.pct_start = _number(pct_start, "OneCycle pct_start", high=1.0)
        if anneal_strategy not in ("cos", "linear"):
            raise ConfigError(f"OneCycle anneal_strategy must be 'cos' or 'linear', got "
                              f"{anneal_strategy!r}")
        self.anneal_strategy = anneal_strategy
        self.div_factor = _number(div_factor, "OneCycle div_factor")
        self.final_div_factor = _number(final_div_factor, "OneCycle final_div_factor")
        self.three_phase = bool(three_phase)
        initial = self.max_learning_rate / self.div_factor
        final = initial / self.final_div_factor
        up_end = self.pct_start * self.total_steps - 1
        if self.three_phase:
            down_end = 2 * self.pct_start * self.total_steps - 2
            self.phases = [(up_end, initial, self.max_learning_rate),
                           (down_end, self.max_learning_rate, initial),
                           (self.total_steps - 1, initial, final)]
        else:
            self.phases = [(up_end, initial, self.max_learning_rate),
                           (self.total_steps - 1, self.max_learning_rate, final)]
        starts = [0.0] + [end for end, _, _ in self.phases[:-1]]
        if any(end <= start for start, (end, _, _) in zip(starts, self.phases)):
            raise ConfigError(
                f"OneCycle phases are empty with total_steps={self.total_steps} and "
                f"pct_start={self.pct_start}: every phase needs at least one step "
                "(raise total_steps or move pct_start away from 0 and 1)")

    def rate(self, step):
        step = min(step, self.total_steps - 1)
        start_step = 0.0
        for i, (end_step, start_lr, end_lr) in enumerate(self.phases):
            if step <= end_step or i == len(self.phases) - 1:
                pct = (step - start_step) / (end_step - start_step)
                return _anneal(start_lr, end_lr, pct, self.anneal_strategy)
            start_step = end_step
        raise AssertionError("unreachable")  # pragma: no cover

    def _arguments(self):
        return {"max_learning_rate": self.max_learning_rate, "total_steps": self.total_steps,
                "pct_start": self.pct_start, "anneal_strategy": self.anneal_strategy,
                "div_factor": self.div_factor, "final_div_factor": self.final_div_factor,
                "three_phase": self.three_phase}


def _table():
    """``{name: Schedule subclass}``, found anew each time so that later subclasses count."""
    return named_subclasses(Schedule)


def names():
    """The registered schedule names, sorted."""
    return sorted(_table())


def get(identifier):
    """A schedule from a config dict (``get_config()``'s output), a number (a Constant) or a
    Schedule instance."""
    if isinstance(identifier, Schedule):
        return identifier
    if not isinstance(identifier, bool) and isinstance(identifier, (int, float, np.floating)):
        return Constant(identifier)
    if not isinstance(identifier, dict):
        raise ConfigError("a learning-rate schedule must be a Schedule, a number or a config dict "
                          f"{{'name': ..., ...}} with a name among {', '.join(names())}; got "
                          f"{type(identifier).__name__} ({identifier!r})")
    config = dict(identifier)
    name = config.pop("name", None)
    table = _table()
    key = resolve(name, table)
    if key is None:
        raise unknown_name("schedule", name, names())
    cls = table[key]
    try:
        return cls(**config)
    except TypeError as exc:
        raise ConfigError(f"bad arguments for schedule {cls.__name__}: {exc}") from None
