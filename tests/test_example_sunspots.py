"""examples/sunspots_forecast.py: windows, split, scaling and baselines, and a short run."""

import sys
from pathlib import Path

import numpy as np
import pytest

import nnscratch as ns

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import sunspots_forecast as example


def test_windows_match_a_plain_loop():
    series = np.arange(10.0) ** 2
    x, y = example.make_windows(series, 3)
    assert x.shape == (7, 3) and y.shape == (7,)
    for i in range(7):
        np.testing.assert_array_equal(x[i], [series[i], series[i + 1], series[i + 2]])
        assert y[i] == series[i + 3]
    with pytest.raises(ns.errors.ShapeError, match="longer than window=10"):
        example.make_windows(series, 10)


def test_baselines_are_last_value_and_one_period_earlier():
    rng = np.random.default_rng(0)
    series, window, period = rng.normal(size=40), 12, 11
    _, targets = example.make_windows(series, window)
    naive = example.naive_forecast(series, window)
    seasonal = example.seasonal_forecast(series, window, period)
    assert len(naive) == len(seasonal) == len(targets)
    for i in range(len(targets)):
        t = i + window                                   # the target's index in the series
        assert targets[i] == series[t]
        assert naive[i] == series[t - 1]
        assert seasonal[i] == series[t - period]
    with pytest.raises(ns.errors.ConfigError, match="between 1 and the window"):
        example.seasonal_forecast(series, window, 13)


def test_split_is_chronological_and_scaled_with_training_years_only():
    data = example.prepare(window=20, test_share=0.22)
    cut, years = data["cut"], data["target_years"]
    n_targets = len(data["values"]) - 20
    assert cut == n_targets - round(0.22 * n_targets)
    assert years[cut - 1] < years[cut] and years[-1] == 2008
    assert data["x_train"].shape == (cut, 20, 1) and data["x_test"].shape == (n_targets - cut, 20, 1)
    # the last training target is the year before the first held-out target
    training_span = data["values"][:cut + 20]
    assert data["mean"] == pytest.approx(training_span.mean())
    assert data["std"] == pytest.approx(training_span.std())
    assert data["mean"] != pytest.approx(data["values"].mean())
    # inputs and targets are the scaled series, and every input window precedes its target
    scaled = (data["values"] - data["mean"]) / data["std"]
    np.testing.assert_allclose(data["x_test"][0, :, 0], scaled[cut:cut + 20], atol=1e-6)
    np.testing.assert_allclose(data["y_test"][0, 0], scaled[cut + 20], atol=1e-6)
    with pytest.raises(ns.errors.ConfigError, match="test_share must be in"):
        example.split_point(100, 1.0)


def test_periodogram_finds_the_period_of_a_sine_and_the_solar_cycle():
    t = np.arange(220)
    assert example.dominant_period(np.sin(2 * np.pi * t / 11.0)) == pytest.approx(11.0, rel=0.03)
    _, values = example.load_sunspots()
    assert 10 <= example.dominant_period(values[:245]) <= 12


def test_error_measures():
    assert example.rmse([1, 2, 3], [1, 2, 5]) == pytest.approx(np.sqrt(4 / 3))
    assert example.mae([1, 2, 3], [2, 2, 5]) == pytest.approx(1.0)


def test_linear_autoregression_recovers_an_exact_ar_process():
    rng = np.random.default_rng(1)
    s = list(rng.normal(size=3))
    for _ in range(60):
        s.append(0.5 * s[-1] - 0.3 * s[-2] + 0.1 * s[-3] + 2.0)
    x, y = example.make_windows(np.array(s), 3)
    np.testing.assert_allclose(example.linear_autoregression(x[:40], y[:40], x[40:]), y[40:],
                               atol=1e-8)


def test_short_run_beats_the_naive_baseline_and_writes_the_figure(tmp_path):
    results = example.main(["--epochs", "60", "--units", "16", "--out", str(tmp_path)])
    figure = tmp_path / "sunspots_forecast.png"
    assert results["figure"] == figure
    assert figure.stat().st_size > 20000 and figure.read_bytes()[:4] == b"\x89PNG"
    assert results["test_years"] == (1945, 2008) and results["n_test"] == 64
    assert np.isfinite(results["forecast"]).all()
    assert results["model_rmse"] < results["naive_rmse"]
    assert results["model_mae"] < results["naive_mae"]
    losses = results["history"]["loss"]
    assert losses[-1] < 0.5 * losses[0]
