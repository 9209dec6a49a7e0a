"""The optimizers and schedules next to torch.optim itself, where PyTorch is installed.

PyTorch is not a test dependency (it comes with the ``bench`` extra); without it this module is
skipped, and test_optimizers.py / test_schedules.py still check every rule against its formula.
"""

import numpy as np
import pytest

import nnscratch as ns

torch = pytest.importorskip("torch")

O = ns.optimizers
_rng = np.random.default_rng(0)
W0, B0 = _rng.uniform(-1.5, 1.5, (3, 2)), _rng.uniform(0.5, 1.5, 2)
NOISE = [(_rng.standard_normal((3, 2)) * s, _rng.standard_normal(2) / s)
         for s in [3, 1, .2, 2, .1, 1, .05, 2, .5, 1, 3, .1]]


def gradients(w, b, step):
    return 1.5 * (w - 0.3) + NOISE[step][0], 0.7 * (b + 0.2) + NOISE[step][1]


def ours(opt, steps):
    w, b = W0.copy(), B0.copy()
    for step in range(steps):
        gw, gb = gradients(w, b, step)
        opt.step([("w", w, gw), ("b", b, gb)])
    return w, b


def theirs(make, steps):
    w, b = (torch.tensor(a.copy(), requires_grad=True) for a in (W0, B0))
    opt = make([w, b])
    for step in range(steps):
        gw, gb = gradients(w.detach().numpy(), b.detach().numpy(), step)
        w.grad, b.grad = torch.tensor(gw), torch.tensor(gb)
        opt.step()
    return w.detach().numpy(), b.detach().numpy()


T = torch.optim
CASES = [
    (O.SGD(0.1, momentum=0.9, dampening=0.3, weight_decay=0.1),
     lambda p: T.SGD(p, lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    (O.SGD(0.1, momentum=0.9, nesterov=True), lambda p: T.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
    (O.Adagrad(0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.5),
     lambda p: T.Adagrad(p, lr=0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.5)),
    (O.Adadelta(0.5, rho=0.5, epsilon=1e-3, weight_decay=0.1),
     lambda p: T.Adadelta(p, lr=0.5, rho=0.5, eps=1e-3, weight_decay=0.1)),
    (O.RMSprop(0.05, rho=0.9, centered=True, momentum=0.8, weight_decay=0.1),
     lambda p: T.RMSprop(p, lr=0.05, alpha=0.9, centered=True, momentum=0.8, weight_decay=0.1)),
    (O.Adam(0.1, amsgrad=True, weight_decay=0.1),
     lambda p: T.Adam(p, lr=0.1, amsgrad=True, weight_decay=0.1)),
    (O.AdamW(0.1, weight_decay=0.1, amsgrad=True),
     lambda p: T.AdamW(p, lr=0.1, weight_decay=0.1, amsgrad=True)),
    (O.Adamax(0.1, weight_decay=0.1), lambda p: T.Adamax(p, lr=0.1, weight_decay=0.1)),
    (O.NAdam(0.1, weight_decay=0.1, momentum_decay=0.1),
     lambda p: T.NAdam(p, lr=0.1, weight_decay=0.1, momentum_decay=0.1)),
    (O.NAdam(0.1, weight_decay=0.1, decoupled_weight_decay=True),
     lambda p: T.NAdam(p, lr=0.1, weight_decay=0.1, decoupled_weight_decay=True)),
    (O.RAdam(0.1, weight_decay=0.1), lambda p: T.RAdam(p, lr=0.1, weight_decay=0.1)),
    (O.RAdam(0.1, weight_decay=0.1, decoupled_weight_decay=True),
     lambda p: T.RAdam(p, lr=0.1, weight_decay=0.1, decoupled_weight_decay=True)),
]


@pytest.fixture
def float64_scalars():
    """torch keeps NAdam's mu_product in the default dtype; make it float64 like ours."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


@pytest.mark.parametrize("opt, make", CASES, ids=[type(o).__name__ for o, _ in CASES])
def test_same_trajectory_as_torch(opt, make, float64_scalars):
    for a, b in zip(ours(opt, 12), theirs(make, 12)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


S, L = ns.schedules, torch.optim.lr_scheduler
SCHEDULES = [
    (S.StepDecay(0.1, 3, 0.5), lambda o: L.StepLR(o, 3, 0.5), 20),
    (S.MultiStepDecay(0.1, [2, 5, 9], 0.3), lambda o: L.MultiStepLR(o, [2, 5, 9], 0.3), 20),
    (S.ExponentialDecay(0.1, 0.9), lambda o: L.ExponentialLR(o, 0.9), 20),
    (S.CosineDecay(0.1, 20, min_learning_rate=0.01), lambda o: L.CosineAnnealingLR(o, 20, 0.01), 21),
    (S.OneCycle(0.1, 100), lambda o: L.OneCycleLR(o, 0.1, total_steps=100, cycle_momentum=False), 100),
    (S.OneCycle(0.1, 50, three_phase=True, anneal_strategy="linear"),
     lambda o: L.OneCycleLR(o, 0.1, total_steps=50, three_phase=True, anneal_strategy="linear",
                            cycle_momentum=False), 50),
]


@pytest.mark.parametrize("schedule, make, n", SCHEDULES, ids=[s.name for s, _, _ in SCHEDULES])
def test_same_rates_as_torch_schedulers(schedule, make, n):
    p = torch.zeros(1, requires_grad=True)
    opt = T.SGD([p], lr=0.1)
    scheduler = make(opt)
    expected = []
    for _ in range(n):                     # the rate of each optimizer step, then scheduler.step()
        expected.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    np.testing.assert_allclose([schedule(k) for k in range(n)], expected, rtol=1e-13)
