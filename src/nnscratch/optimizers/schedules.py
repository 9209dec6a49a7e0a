"""Learning-rate schedules: the learning rate as a function of the optimizer's step.

A schedule is a callable object, ``schedule(step) -> learning rate``, where ``step`` is
``optimizer.iterations``: 0 for the first update, 1 for the second, ... (so a schedule counts
batches, not epochs). Pass one as an optimizer's ``learning_rate``::

    opt = ns.optimizers.SGD(learning_rate=ns.schedules.StepDecay(0.1, step_size=100, gamma=0.5))

``get_config()`` gives a JSON-safe dict, ``schedules.get(config)`` rebuilds the schedule from it,
and ``optimizers.get`` does so for a ``learning_rate`` stored as a dict. ``REGISTRY`` is the name
table of the schedules (every :class:`Schedule` subclass that sets a ``name``).

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

from .. import checks
from ..errors import ConfigError
from ..registry import Configurable, Registry
from .base import keep, positive


class Schedule(Configurable):
    """Base class: ``schedule(step)`` checks the step and returns ``float(self.rate(step))``.

    A subclass sets ``name`` (its key in :data:`REGISTRY`) and ``hyperparameters`` (its
    constructor arguments, checked and kept as attributes of the same names, most by
    ``optimizers.base.keep``), from which
    :class:`~nnscratch.registry.Configurable` writes ``get_config`` and ``repr``.
    """

    name = None

    def __call__(self, step):
        step = checks.integer(step, f"{type(self).__name__} step", low=0)
        return float(self.rate(step))

    def rate(self, step):
        """The learning rate at ``step`` (an int >= 0)."""
        raise NotImplementedError


class Constant(Schedule):
    """The same rate at every step: :math:`\\eta_t = \\eta`."""

    name = "constant"
    hyperparameters = ("learning_rate",)

    def __init__(self, learning_rate):
        keep(self, positive, learning_rate=learning_rate)

    def rate(self, step):
        return self.learning_rate


class StepDecay(Schedule):
    """Multiply the rate by ``gamma`` every ``step_size`` steps (torch's StepLR, counting steps).

    .. math::

        \\eta_t = \\eta_0 \\, \\gamma^{\\lfloor t / s \\rfloor}
    """

    name = "step_decay"
    hyperparameters = ("initial_learning_rate", "step_size", "gamma")

    def __init__(self, initial_learning_rate, step_size, gamma=0.1):
        keep(self, positive, initial_learning_rate=initial_learning_rate)
        keep(self, checks.positive_int, step_size=step_size)
        keep(self, positive, gamma=gamma)

    def rate(self, step):
        return self.initial_learning_rate * self.gamma ** (step // self.step_size)


class MultiStepDecay(Schedule):
    """Multiply the rate by ``gamma`` at each milestone step (torch's MultiStepLR, counting steps).

    .. math::

        \\eta_t = \\eta_0 \\, \\gamma^{\\#\\{i \\,:\\, m_i \\le t\\}}

    so the new rate applies from the milestone step itself. Milestones must increase strictly.
    """

    name = "multi_step_decay"
    hyperparameters = ("initial_learning_rate", "milestones", "gamma")

    def __init__(self, initial_learning_rate, milestones, gamma=0.1):
        keep(self, positive, initial_learning_rate=initial_learning_rate)
        owner = type(self).__name__
        if not isinstance(milestones, (list, tuple, np.ndarray)) or len(milestones) == 0:
            raise ConfigError(f"{owner} milestones must be a non-empty list of step numbers, "
                              f"got {milestones!r}")
        self.milestones = [checks.integer(m, f"{owner} milestone", low=0) for m in milestones]
        if any(b <= a for a, b in zip(self.milestones, self.milestones[1:])):
            raise ConfigError(f"{owner} milestones must increase strictly, got {self.milestones}")
        keep(self, positive, gamma=gamma)

    def rate(self, step):
        passed = bisect.bisect_right(self.milestones, step)             # milestones m_i <= step
        return self.initial_learning_rate * self.gamma ** passed


class ExponentialDecay(Schedule):
    """Exponential decay in Keras's form: the rate falls by ``decay_rate`` every ``decay_steps``.

    .. math::

        \\eta_t = \\eta_0 \\, r^{t / s} \\qquad (r^{\\lfloor t / s \\rfloor} \\text{ if staircase})

    torch's ``ExponentialLR(gamma)`` (a factor ``gamma`` per step) is ``decay_steps=1,
    decay_rate=gamma``; ``decay_steps`` defaults to 1 for that reason.
    """

    name = "exponential_decay"
    hyperparameters = ("initial_learning_rate", "decay_rate", "decay_steps", "staircase")

    def __init__(self, initial_learning_rate, decay_rate, decay_steps=1, staircase=False):
        keep(self, positive, initial_learning_rate=initial_learning_rate, decay_rate=decay_rate)
        keep(self, checks.positive_int, decay_steps=decay_steps)
        keep(self, checks.boolean, staircase=staircase)

    def rate(self, step):
        exponent = step // self.decay_steps if self.staircase else step / self.decay_steps
        return self.initial_learning_rate * self.decay_rate ** exponent


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
    hyperparameters = ("initial_learning_rate", "total_steps", "warmup_steps", "min_learning_rate")

    def __init__(self, initial_learning_rate, total_steps, warmup_steps=0, min_learning_rate=0.0):
        keep(self, positive, initial_learning_rate=initial_learning_rate)
        keep(self, checks.positive_int, total_steps=total_steps)
        owner = type(self).__name__
        self.warmup_steps = checks.integer(warmup_steps, f"{owner} warmup_steps", low=0)
        if self.warmup_steps >= self.total_steps:
            raise ConfigError(f"{owner} warmup_steps must be less than total_steps, got "
                              f"warmup_steps={warmup_steps}, total_steps={total_steps}")
        self.min_learning_rate = checks.number(min_learning_rate, f"{owner} min_learning_rate",
                                               low=0, high=self.initial_learning_rate)

    def rate(self, step):
        peak, floor, warmup = self.initial_learning_rate, self.min_learning_rate, self.warmup_steps
        if step < warmup:
            return peak * (step + 1) / warmup                            # linear warm-up
        progress = min(1.0, (step - warmup) / (self.total_steps - warmup))
        return floor + 0.5 * (peak - floor) * (1.0 + math.cos(math.pi * progress))


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
    hyperparameters = ("max_learning_rate", "total_steps", "pct_start", "anneal_strategy",
                       "div_factor", "final_div_factor", "three_phase")

    def __init__(self, max_learning_rate, total_steps, pct_start=0.3, anneal_strategy="cos",
                 div_factor=25.0, final_div_factor=1e4, three_phase=False):
        keep(self, positive, max_learning_rate=max_learning_rate)
        owner = type(self).__name__
        self.total_steps = checks.integer(total_steps, f"{owner} total_steps", low=2)
        self.pct_start = checks.number(pct_start, f"{owner} pct_start", low=0, high=1,
                                       low_open=True, high_open=True)
        self.anneal_strategy = checks.choice(anneal_strategy, f"{owner} anneal_strategy",
                                             ("cos", "linear"))
        keep(self, positive, div_factor=div_factor, final_div_factor=final_div_factor)
        keep(self, checks.boolean, three_phase=three_phase)
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
                f"{owner} phases are empty with total_steps={self.total_steps} and "
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


REGISTRY = Registry("schedule", Schedule)


def names():
    """The registered schedule names, sorted."""
    return REGISTRY.names()


def get(identifier):
    """A schedule from a config dict (``get_config()``'s output), a number (a Constant) or a
    Schedule instance; anything else is a ConfigError listing the known names."""
    if isinstance(identifier, Schedule):
        return identifier
    if checks.is_number(identifier):
        return Constant(identifier)
    if isinstance(identifier, dict):
        return REGISTRY.from_config(identifier)
    raise ConfigError("a learning-rate schedule must be a Schedule, a number or a config dict "
                      f"{{'name': ..., ...}}, got {identifier!r} ({type(identifier).__name__}); "
                      f"{REGISTRY.known()}")
