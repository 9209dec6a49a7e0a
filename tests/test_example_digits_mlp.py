"""examples/digits_mlp.py: the data split, a short run, and what training guarantees on digits."""

import sys
from pathlib import Path

import numpy as np
import pytest

import nnscratch as ns

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import digits_mlp as example


def test_split_is_stratified_seeded_and_scaled():
    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = example.load_split(seed=3)
    assert len(x_tr) + len(x_va) + len(x_te) == 1797
    assert abs(len(x_te) - 0.25 * 1797) < 1
    assert x_tr.dtype == np.float32 and x_tr.min() == 0.0 and x_tr.max() == 1.0
    everything = np.bincount(np.concatenate([y_tr, y_va, y_te])) / 1797
    for labels in (y_tr, y_te):                      # every class in proportion (stratified)
        np.testing.assert_allclose(np.bincount(labels, minlength=10) / len(labels), everything, atol=0.01)
    again = example.load_split(seed=3)
    np.testing.assert_array_equal(again[2][0], x_te)
    assert not np.array_equal(example.load_split(seed=4)[2][1], y_te)


def test_short_run_learns_and_writes_its_figures(tmp_path, capsys):
    results = example.main(["--epochs", "12", "--patience", "3", "--seed", "0", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "test accuracy" in out and "wall time" in out
    assert results["accuracy"] > 0.93
    assert results["confusion_matrix"].sum() == results["n_test"]
    for path in results["figures"]:
        assert path.read_bytes()[:4] == b"\x89PNG" and path.stat().st_size > 10_000


def test_early_stopping_stops_and_restores_the_best_weights(tmp_path):
    results = example.run(epochs=200, patience=2, learning_rate=3e-3, out=tmp_path, verbose=False)
    history, net = results["history"].history, results["network"]
    assert results["stopped_epoch"] is not None and results["epochs_run"] < 200
    best = int(np.argmin(history["val_loss"]))
    assert results["best_epoch"] == best and results["epochs_run"] == best + 3
    assert results["restored"]
    _, (x_val, y_val), _ = example.load_split(seed=0)
    assert net.evaluate(x_val, y_val)["loss"] == pytest.approx(history["val_loss"][best], rel=1e-5)


def test_same_seed_gives_identical_weights():
    (x, y), _, _ = example.load_split(seed=0)
    weights = []
    for seed in (7, 7):
        net = example.build_network(seed=seed)           # dropout and shuffling both seeded
        net.fit(x[:300], y[:300], epochs=2, batch_size=32, verbose=0)
        weights.append(net.get_weights())
    for key in weights[0]:
        assert weights[0][key].tobytes() == weights[1][key].tobytes(), key


def test_a_diverging_run_stops_with_a_training_error_not_a_nan_model():
    (x, y), _, _ = example.load_split(seed=0)
    net = example.build_network(dropout=0.0, seed=0)
    net.optimizer = ns.optimizers.SGD(learning_rate=1e6)   # far too large
    with pytest.raises(ns.errors.TrainingError, match=r"training diverged at epoch \d+, batch \d+"):
        net.fit(x, y, epochs=5, batch_size=64, verbose=0)
    assert all(np.isfinite(w).all() for w in net.get_weights().values())
    assert np.isfinite(net.predict(x[:5])).all()
