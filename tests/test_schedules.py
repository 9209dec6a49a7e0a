"""Learning-rate schedules: values against their formulas, saving, and use in training."""

import json
import math

import numpy as np
import pytest

import nnscratch as ns
from nnscratch import schedules
from nnscratch.errors import ConfigError


def values(schedule, n):
    return np.array([schedule(step) for step in range(n)])


def test_constant():
    assert values(schedules.Constant(0.3), 5).tolist() == [0.3] * 5


def test_step_decay_counts_steps():
    s = schedules.StepDecay(0.1, step_size=3, gamma=0.5)
    expected = [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025]
    np.testing.assert_allclose(values(s, 8), expected, rtol=1e-15)


def test_multi_step_decay_changes_at_each_milestone():
    s = schedules.MultiStepDecay(1.0, milestones=[2, 5, 6], gamma=0.1)
    expected = [1.0, 1.0, 0.1, 0.1, 0.1, 0.01, 1e-3, 1e-3, 1e-3]
    np.testing.assert_allclose(values(s, 9), expected, rtol=1e-14)


@pytest.mark.parametrize("staircase", [False, True])
def test_exponential_decay_in_keras_form(staircase):
    s = schedules.ExponentialDecay(0.2, decay_rate=0.5, decay_steps=4, staircase=staircase)
    for step in [0, 1, 3, 4, 7, 10, 40]:
        exponent = step // 4 if staircase else step / 4
        assert s(step) == pytest.approx(0.2 * 0.5 ** exponent, rel=1e-14)


def test_exponential_decay_per_step_is_torch_exponential_lr():
    s = schedules.ExponentialDecay(0.1, decay_rate=0.9)
    lr, expected = 0.1, []
    for _ in range(12):                     # ExponentialLR: lr <- gamma * lr after every step
        expected.append(lr)
        lr *= 0.9
    np.testing.assert_allclose(values(s, 12), expected, rtol=1e-13)


def test_cosine_decay_with_warmup():
    peak, floor, warmup, total = 0.4, 0.01, 4, 24
    s = schedules.CosineDecay(peak, total_steps=total, warmup_steps=warmup, min_learning_rate=floor)
    for step in range(warmup):
        assert s(step) == pytest.approx(peak * (step + 1) / warmup, rel=1e-15)
    assert s(warmup - 1) == pytest.approx(peak) and s(warmup) == pytest.approx(peak)
    assert s((warmup + total) // 2) == pytest.approx((peak + floor) / 2, rel=1e-14)
    assert s(total) == pytest.approx(floor, rel=1e-14) and s(total + 50) == floor
    for step in range(warmup, total + 1):
        progress = (step - warmup) / (total - warmup)
        assert s(step) == pytest.approx(floor + (peak - floor) * (1 + math.cos(math.pi * progress)) / 2,
                                        rel=1e-14)
    decay = values(s, total + 1)[warmup:]
    assert np.all(np.diff(decay) < 0)


def test_cosine_decay_without_warmup_starts_at_the_peak():
    s = schedules.CosineDecay(0.1, total_steps=10)
    assert s(0) == 0.1 and s(10) == pytest.approx(0.0, abs=1e-18) and s(5) == pytest.approx(0.05)


def one_cycle_reference(step, max_lr, total, pct_start=0.3, anneal="cos", div_factor=25.0,
                        final_div_factor=1e4, three_phase=False):
    """torch.optim.lr_scheduler.OneCycleLR.get_lr, written out for one step."""
    initial = max_lr / div_factor
    final = initial / final_div_factor
    if three_phase:
        ends = [pct_start * total - 1, 2 * pct_start * total - 2, total - 1]
        rates = [(initial, max_lr), (max_lr, initial), (initial, final)]
    else:
        ends = [pct_start * total - 1, total - 1]
        rates = [(initial, max_lr), (max_lr, final)]
    start = 0
    for i, end in enumerate(ends):
        if step <= end or i == len(ends) - 1:
            pct = (step - start) / (end - start)
            a, b = rates[i]
            if anneal == "cos":
                return b + (a - b) / 2.0 * (math.cos(math.pi * pct) + 1)
            return (b - a) * pct + a
        start = end


@pytest.mark.parametrize("kwargs", [
    {},
    {"pct_start": 0.25, "anneal_strategy": "linear", "div_factor": 10.0, "final_div_factor": 100.0},
    {"three_phase": True},
    {"three_phase": True, "anneal_strategy": "linear", "pct_start": 0.4},
])
def test_one_cycle_matches_torch_formula(kwargs):
    total = 37
    s = schedules.OneCycle(0.5, total_steps=total, **kwargs)
    ref_kwargs = {("anneal" if k == "anneal_strategy" else k): v for k, v in kwargs.items()}
    expected = [one_cycle_reference(step, 0.5, total, **ref_kwargs) for step in range(total)]
    np.testing.assert_allclose(values(s, total), expected, rtol=1e-14)


def test_one_cycle_landmarks():
    s = schedules.OneCycle(1.0, total_steps=100)
    assert s(0) == pytest.approx(1.0 / 25)
    assert s(29) == pytest.approx(1.0)                     # end of the warm-up: pct_start*T - 1
    assert s(99) == pytest.approx(1.0 / 25 / 1e4)
    assert s(150) == s(99)                                  # after the cycle: the final rate
    rates = values(s, 100)
    assert np.argmax(rates) == 29 and np.all(np.diff(rates[:30]) > 0) and np.all(np.diff(rates[29:]) < 0)


ALL_SCHEDULES = [
    schedules.Constant(0.01),
    schedules.StepDecay(0.1, step_size=7, gamma=0.3),
    schedules.MultiStepDecay(0.1, milestones=[3, 10], gamma=0.5),
    schedules.ExponentialDecay(0.1, decay_rate=0.96, decay_steps=10, staircase=True),
    schedules.CosineDecay(0.1, total_steps=50, warmup_steps=5, min_learning_rate=1e-4),
    schedules.OneCycle(0.1, total_steps=60, pct_start=0.2, anneal_strategy="linear",
                       div_factor=5.0, final_div_factor=50.0, three_phase=True),
]


def test_names_lists_every_schedule():
    assert schedules.names() == sorted(s.name for s in ALL_SCHEDULES)


@pytest.mark.parametrize("schedule", ALL_SCHEDULES, ids=lambda s: s.name)
def test_get_config_round_trip(schedule):
    config = json.loads(json.dumps(schedule.get_config()))
    rebuilt = schedules.get(config)
    assert type(rebuilt) is type(schedule) and rebuilt.get_config() == schedule.get_config()
    np.testing.assert_array_equal(values(rebuilt, 80), values(schedule, 80))
    assert all(isinstance(schedule(step), float) and schedule(step) > 0 for step in range(80))


def test_get_accepts_a_schedule_or_a_number():
    s = schedules.StepDecay(0.1, 2)
    assert schedules.get(s) is s
    assert schedules.get(0.25)(100) == 0.25


@pytest.mark.parametrize("identifier", [{"name": "warmup"}, {"step_size": 3}, "step_decay", None])
def test_unknown_schedule_is_a_config_error(identifier):
    with pytest.raises(ConfigError) as err:
        schedules.get(identifier)
    assert all(name in str(err.value) for name in schedules.names())


def test_missing_schedule_argument_is_a_config_error():
    with pytest.raises(ConfigError, match="StepDecay"):
        schedules.get({"name": "step_decay", "initial_learning_rate": 0.1})


@pytest.mark.parametrize("make, what", [
    (lambda: schedules.Constant(0.0), "learning_rate"),
    (lambda: schedules.StepDecay(0.1, step_size=0), "step_size"),
    (lambda: schedules.StepDecay(0.1, step_size=2.5), "step_size"),
    (lambda: schedules.StepDecay(-0.1, step_size=2), "initial_learning_rate"),
    (lambda: schedules.MultiStepDecay(0.1, milestones=[5, 3]), "milestones"),
    (lambda: schedules.MultiStepDecay(0.1, milestones=[]), "milestones"),
    (lambda: schedules.ExponentialDecay(0.1, decay_rate=0.0), "decay_rate"),
    (lambda: schedules.CosineDecay(0.1, total_steps=10, warmup_steps=10), "warmup_steps"),
    (lambda: schedules.CosineDecay(0.1, total_steps=10, min_learning_rate=0.2), "min_learning_rate"),
    (lambda: schedules.OneCycle(0.1, total_steps=100, pct_start=1.0), "pct_start"),
    (lambda: schedules.OneCycle(0.1, total_steps=100, anneal_strategy="exp"), "anneal_strategy"),
    (lambda: schedules.OneCycle(0.1, total_steps=3), "total_steps"),
])
def test_bad_arguments_are_config_errors(make, what):
    with pytest.raises(ConfigError, match=what):
        make()


@pytest.mark.parametrize("step", [-1, 2.0, "3", True])
def test_bad_step_is_a_config_error(step):
    with pytest.raises(ConfigError, match="step"):
        schedules.Constant(0.1)(step)


# -- schedules inside optimizers and training --------------------------------------------------
def test_optimizer_reads_the_schedule_at_its_step_count():
    s = schedules.StepDecay(0.1, step_size=2, gamma=0.5)
    opt = ns.optimizers.SGD(learning_rate=s)
    p, g = np.zeros(3), np.ones(3)
    rates = []
    for _ in range(6):
        rates.append(opt.current_learning_rate())
        before = p.copy()
        opt.step([("p", p, g)])
        np.testing.assert_allclose(before - p, rates[-1] * g, rtol=1e-15)   # SGD used that rate
    assert rates == [s(k) for k in range(6)]


def test_a_number_set_by_a_callback_replaces_the_schedule():
    opt = ns.optimizers.Adam(learning_rate=schedules.Constant(0.1))
    opt.learning_rate = 0.5
    assert opt.current_learning_rate() == 0.5


def test_optimizers_get_turns_a_dict_learning_rate_into_a_schedule():
    opt = ns.optimizers.get({"name": "adam", "learning_rate": {"name": "one_cycle",
                                                              "max_learning_rate": 0.1,
                                                              "total_steps": 20}})
    assert isinstance(opt.learning_rate, schedules.OneCycle)
    assert opt.current_learning_rate() == pytest.approx(0.1 / 25)


@pytest.mark.parametrize("schedule", [schedules.StepDecay(0.2, step_size=3, gamma=0.5),
                                      schedules.OneCycle(0.3, total_steps=12)],
                         ids=["step_decay", "one_cycle"])
def test_network_training_uses_the_scheduled_rate_at_every_step(schedule):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((20, 3)), rng.standard_normal((20, 1))

    def network(optimizer):
        return ns.Network([ns.Dense(4, activation="tanh"), ns.Dense(1)], loss="mse",
                          optimizer=optimizer, seed=5, dtype="float64")

    scheduled = network(ns.optimizers.SGD(learning_rate=schedule, momentum=0.5))
    scheduled.fit(x, y, epochs=3, batch_size=5, shuffle=False, verbose=0)   # 4 batches per epoch
    k = 12
    assert scheduled.optimizer.iterations == k
    assert scheduled.optimizer.current_learning_rate() == schedule(k)

    # the same steps by hand, setting each step's rate as a number
    manual = network(ns.optimizers.SGD(learning_rate=1.0, momentum=0.5))
    manual.build((3,))
    xb, yb = manual.prepare_input(x), manual.prepare_target(y)
    for step in range(k):
        manual.optimizer.learning_rate = schedule(step)
        piece = slice(5 * (step % 4), 5 * (step % 4) + 5)
        manual.train_step(xb[piece], yb[piece])
    for key, value in manual.get_weights().items():
        np.testing.assert_allclose(scheduled.get_weights()[key], value, rtol=1e-13)
