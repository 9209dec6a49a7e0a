"""examples/anomaly_autoencoder.py: its ROC-AUC function and a short run of the whole pipeline."""

import sys
from pathlib import Path

import numpy as np
import pytest

import nnscratch as ns

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import anomaly_autoencoder as example


def pairwise_auc(y_true, scores):
    """Plain-loop reference: the share of (anomaly, normal) pairs ranked right, ties count 1/2."""
    pos = [s for s, y in zip(scores, y_true) if y == 1]
    neg = [s for s, y in zip(scores, y_true) if y == 0]
    total = 0.0
    for p in pos:
        for n in neg:
            total += 1.0 if p > n else 0.5 if p == n else 0.0
    return total / (len(pos) * len(neg))


@pytest.mark.parametrize("seed", range(5))
def test_roc_auc_matches_the_pairwise_count_and_sklearn_with_ties(seed):
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    n = 60
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    scores = np.round(rng.normal(size=n) + 0.8 * y, 1)      # rounding creates many ties
    auc = example.roc_auc(y, scores)
    assert auc == pytest.approx(pairwise_auc(y, scores), abs=1e-12)
    assert auc == pytest.approx(roc_auc_score(y, scores), abs=1e-12)


def test_roc_auc_extremes_and_symmetry():
    y = np.array([0, 0, 1, 1, 0, 1])
    s = np.array([0.1, 0.2, 0.9, 0.8, 0.3, 0.7])
    assert example.roc_auc(y, s) == 1.0
    assert example.roc_auc(y, -s) == 0.0
    assert example.roc_auc(y, np.zeros(6)) == 0.5
    assert example.roc_auc(1 - y, s) == pytest.approx(1 - example.roc_auc(y, s))


@pytest.mark.parametrize("y, s, match", [
    ([0, 1, 1], [0.1, 0.2], "shapes"),
    ([1, 1], [0.1, 0.2], "both classes"),
    ([0, 2], [0.1, 0.2], "0 \\(normal\\) and 1"),
    ([0, 1], [0.1, np.nan], "finite"),
])
def test_roc_auc_rejects_bad_input_with_our_errors(y, s, match):
    with pytest.raises(ns.errors.DataError, match=match):
        example.roc_auc(np.array(y), np.array(s))


def test_precision_recall_counts():
    precision, recall = example.precision_recall([1, 1, 1, 0, 0], [True, True, False, True, False])
    assert precision == pytest.approx(2 / 3) and recall == pytest.approx(2 / 3)


def test_split_trains_on_benign_only_with_training_statistics():
    from sklearn.datasets import load_breast_cancer

    x_train, x_test, y_test = example.load_split(test_share=0.3, seed=1)
    data = load_breast_cancer()
    n_benign = int(np.sum(data.target == 1))
    assert len(x_train) + np.sum(y_test == 0) == n_benign
    assert np.sum(y_test == 1) == np.sum(data.target == 0)
    assert x_train.dtype == np.float32
    np.testing.assert_allclose(x_train.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(x_train.std(axis=0), 1, atol=1e-4)
    # the held-out benign rows are not standardised with their own statistics
    assert np.abs(x_test[y_test == 0].mean(axis=0)).max() > 1e-3
    again = example.load_split(test_share=0.3, seed=1)
    np.testing.assert_array_equal(again[0], x_train)


def test_short_run_separates_malignant_from_benign(tmp_path, capsys):
    results = example.main(["--epochs", "40", "--seed", "0", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "ROC-AUC (held-out data):" in out and "precision" in out
    assert np.all(np.isfinite(results["test_scores"]))
    assert results["auc"] > 0.85
    assert 0 < results["precision"] <= 1 and 0 < results["recall"] <= 1
    for path in results["figures"]:
        assert path.read_bytes()[:4] == b"\x89PNG" and path.stat().st_size > 10_000


@pytest.mark.parametrize("flags, message", [
    (["--test-share", "1.5"], "--test-share must be a fraction in (0, 1), got 1.5"),
    (["--epochs", "0"], "--epochs must be a positive integer, got 0"),
])
def test_bad_flags_stop_with_a_clear_message(flags, message, capsys):
    with pytest.raises(SystemExit) as stop:
        example.main(flags)
    assert stop.value.code == 2 and message in capsys.readouterr().err
