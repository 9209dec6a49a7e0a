"""examples/digits_cnn.py: its data split and a short run of the whole pipeline."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import digits_cnn as example


def test_split_is_stratified_channels_first_and_seeded():
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = example.load_split(seed=3)
    assert x_train.shape[1:] == x_val.shape[1:] == x_test.shape[1:] == (1, 8, 8)
    assert x_train.dtype == np.float32 and x_train.min() >= 0 and x_train.max() <= 1
    assert len(x_train) + len(x_val) + len(x_test) == 1797
    assert abs(len(x_test) - 0.25 * 1797) < 1
    # stratified: every class keeps its share of the held-out set (within one image)
    all_labels = np.concatenate([y_train, y_val, y_test])
    for c in range(10):
        assert abs(np.sum(y_test == c) - 0.25 * np.sum(all_labels == c)) <= 1
    again = example.load_split(seed=3)
    np.testing.assert_array_equal(again[2][0], x_test)


def test_short_run_learns_and_writes_its_figures(tmp_path, capsys):
    results = example.main(["--epochs", "5", "--subset", "600", "--seed", "1", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "test accuracy" in out and "training" in out and "ms per epoch" in out
    assert results["n_train"] + results["n_val"] + results["n_test"] == 600
    assert results["accuracy"] > 0.6                        # chance is 0.1
    assert results["history"].history["loss"][-1] < results["history"].history["loss"][0]
    for path in results["figures"]:
        assert path.read_bytes()[:4] == b"\x89PNG" and path.stat().st_size > 10_000
