"""examples/sequences_masking.py: the walks and their labels, the scores, and a short run."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import sequences_masking as example


def test_walks_have_6_to_92_steps_and_the_label_is_the_side_they_end_on():
    walks, labels = example.random_walks(400, np.random.default_rng(0))
    lengths = [len(w) for w in walks]
    assert min(lengths) >= 6 and max(lengths) <= 92 and len(set(lengths)) > 50
    assert all(w.shape == (len(w), 1) and np.all(w != 0.0) for w in walks)   # 0 is padding only
    np.testing.assert_array_equal(labels[:, 0], [float(w.sum() > 0) for w in walks])
    assert 0.4 < labels.mean() < 0.6


def test_accuracy_per_band_of_lengths():
    probabilities = np.array([[0.9], [0.2], [0.7], [0.4]])
    labels = np.array([[1.0], [1.0], [0.0], [0.0]])
    assert example.accuracy(probabilities, labels) == 0.5
    bands = example.band_accuracy(probabilities, labels, [6, 10, 50, 90],
                                  bands=((6, 20), (21, 92)))
    assert bands == {(6, 20): 0.5, (21, 92): 0.5}


def test_short_run_masked_beats_unmasked_and_writes_the_figure(tmp_path):
    results = example.main(["--train", "500", "--test", "300", "--epochs", "5",
                            "--out", str(tmp_path)])
    figure = tmp_path / "sequences_masking.png"
    assert results["figure"] == figure
    assert figure.stat().st_size > 20000 and figure.read_bytes()[:4] == b"\x89PNG"
    assert results["same_initial_weights"]
    masked, unmasked = results["masked"]["accuracy"], results["unmasked"]["accuracy"]
    assert masked > 0.75 and masked > unmasked + 0.15
    assert len(results["masked"]["val_accuracy"]) == 5
    assert set(results["masked"]["bands"]) == set(example.BANDS)
    assert results["unmasked"]["accuracy"] == pytest.approx(results["unmasked"]["val_accuracy"][-1])
