"""examples/addition_gpt.py: the data, the answer-only loss, causality, decoding, a short run."""

import sys
from pathlib import Path

import numpy as np
import pytest

import nnscratch as ns

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import addition_gpt as example


def test_every_problem_is_written_as_minGPT_writes_it():
    problems = example.all_problems()
    assert problems.shape == (10_000, 7) and problems.min() >= 0 and problems.max() <= 9
    a = 10 * problems[:, 0] + problems[:, 1]
    b = 10 * problems[:, 2] + problems[:, 3]
    c = problems[:, 4] + 10 * problems[:, 5] + 100 * problems[:, 6]     # the sum, units first
    np.testing.assert_array_equal(a + b, c)
    assert len({(x, y) for x, y in zip(a, b)}) == 10_000                # the whole 100 x 100 grid
    assert list(problems[47 * 100 + 85]) == [4, 7, 8, 5, 2, 3, 1]       # 47 + 85 = 132
    assert example.as_text(problems[47 * 100 + 85]) == "47+85=132"
    train, test = example.split()
    assert len(train) == 9_500 and len(test) == 500
    assert not {tuple(r) for r in train} & {tuple(r) for r in test}
    np.testing.assert_array_equal(example.split()[1], test)             # seeded


def test_only_the_answer_positions_carry_a_loss():
    sequences = example.all_problems()[:50]
    x, y, weights = example.inputs_and_targets(sequences)
    np.testing.assert_array_equal(x, sequences[:, :6])
    np.testing.assert_array_equal(y, sequences[:, 1:])                  # the next token
    assert not weights[:, :3].any() and np.all(weights[:, 3:] == 2)
    # the loss's gradient at the prompt positions is exactly zero, whatever the logits, and
    # the loss is the mean cross-entropy over the answer digits
    logits = np.random.default_rng(0).normal(size=y.shape + (10,))
    loss = ns.losses.get("sparse_categorical_crossentropy").with_logits()
    value, grad = loss.value_and_gradient(logits, y, weights)
    assert not grad[:, :3].any() and np.abs(grad[:, 3:]).min() > 0
    z = logits - logits.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_p, y[..., None], axis=-1)[..., 0]
    assert value == pytest.approx(-picked[:, 3:].mean(), rel=1e-12)


def test_the_model_is_causal():
    """Changing later tokens leaves every earlier position's prediction as it was."""
    model = example.build_model(width=16, heads=2, depth=2, mlp=32, total_steps=None, seed=1)
    rng = np.random.default_rng(1)
    x = rng.integers(0, 10, (8, 6)).astype(np.float32)
    before = model.predict(x)
    changed = x.copy()
    changed[:, 4:] = (changed[:, 4:] + 1 + rng.integers(0, 8, (8, 2))) % 10
    after = model.predict(changed)
    np.testing.assert_array_equal(after[:, :4], before[:, :4])
    assert not np.allclose(after[:, 4:], before[:, 4:])


class Oracle:
    """A stand-in model that knows addition: the next digit of the sum at each answer position,
    read from the tokens the decoder has written; it keeps the inputs it saw."""

    def __init__(self):
        self.seen = []

    def predict(self, x):
        self.seen.append(x.copy())
        digits = x.astype(int)
        c = (10 * digits[:, 0] + digits[:, 1]) + (10 * digits[:, 2] + digits[:, 3])
        out = np.zeros(x.shape + (10,))
        rows = np.arange(len(x))
        out[rows, 3, c % 10] = 1
        out[rows, 4, c // 10 % 10] = 1
        out[rows, 5, c // 100] = 1
        return out


def test_greedy_decoding_writes_each_digit_back_before_the_next():
    _, test = example.split()
    oracle = Oracle()
    answer = example.generate(oracle, test[:, :4])
    np.testing.assert_array_equal(answer, test[:, 4:])
    assert example.exact_match(Oracle(), test) == 1.0
    first, second, third = oracle.seen
    assert not first[:, 4:].any()                                       # nothing written yet
    np.testing.assert_array_equal(second[:, 4], answer[:, 0])
    np.testing.assert_array_equal(third[:, 4:], answer[:, :2])


def test_short_run_learns_the_carry_and_writes_its_figures(tmp_path, capsys):
    """Three epochs of a tiny model: it has learnt the hundreds digit (the carry of the tens,
    chance 50.5%; 100% for the seeds 0-4) long before it can add the units."""
    results = example.main(["--epochs", "3", "--subset", "3000", "--width", "32", "--heads", "2",
                            "--mlp", "128", "--lr", "3e-3", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "exact match" in out and "s per epoch" in out and "held-out" in out
    losses = results["monitor"].step_losses
    assert np.mean(losses[-10:]) < 0.75 * np.mean(losses[:10])
    assert results["digit_accuracy"][2] > 0.8
    assert results["n_train"] == 3000 and results["n_test"] == 500
    for path in results["figures"]:
        assert path.read_bytes()[:4] == b"\x89PNG" and path.stat().st_size > 10_000
