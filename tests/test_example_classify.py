"""examples/classify_wine.py end to end, and the command line on tables it was not written for."""

import csv
import sys
from pathlib import Path

import numpy as np
import pytest

from nnscratch import cli, metrics

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import classify_wine as example


def read_rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_confusion_counts_match_a_loop_and_the_library():
    rng = np.random.default_rng(0)
    classes = ["a", "b", "c"]
    truth = [classes[i] for i in rng.integers(0, 3, 50)]
    predicted = [classes[i] for i in rng.integers(0, 3, 50)]
    matrix = example.confusion_counts(truth, predicted, classes)
    loop = [[sum(1 for t, p in zip(truth, predicted) if t == ti and p == pj) for pj in classes]
            for ti in classes]
    assert matrix.tolist() == loop
    codes = {c: k for k, c in enumerate(classes)}
    np.testing.assert_array_equal(
        matrix, metrics.confusion_matrix(np.array([codes[p] for p in predicted]),
                                         np.array([codes[t] for t in truth]), num_classes=3))


def test_wine_through_the_command_line(tmp_path, capsys):
    results = example.main(["--epochs", "25", "--seed", "1", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    for command in ("$ nnscratch train", "$ nnscratch evaluate", "$ nnscratch predict"):
        assert command in out
    assert "task: classify (inferred: the target 'cultivar' holds text" in out
    holdout = read_rows(results["paths"]["holdout"])
    train = read_rows(results["paths"]["train"])
    assert len(holdout) + len(train) == 178 and len(holdout) == 45
    assert list(holdout[0])[:2] == ["alcohol", "malic_acid"]
    predictions = read_rows(results["paths"]["predictions"])
    assert len(predictions) == len(holdout)
    assert list(predictions[0]) == ["cultivar", "prob_class_0", "prob_class_1", "prob_class_2"]
    matrix = results["matrix"]
    assert matrix.sum() == 45
    assert matrix.sum(axis=1).tolist() == [sum(r["cultivar"] == c for r in holdout)
                                          for c in results["classes"]]
    assert results["accuracy"] == pytest.approx(np.mean(
        [p["cultivar"] == h["cultivar"] for p, h in zip(predictions, holdout)]))
    assert results["accuracy"] > 0.85
    evaluated = float(out.split("$ nnscratch evaluate")[1].split("accuracy")[1].split()[0])
    assert evaluated == pytest.approx(results["accuracy"], abs=1e-4)
    for figure in results["figures"]:
        assert figure.read_bytes()[:4] == b"\x89PNG" and figure.stat().st_size > 10_000


def write_bunch(path, bunch, target, labels=None):
    """A scikit-learn table as CSV with its own column names."""
    values = bunch.target if labels is None else np.asarray(labels)[bunch.target]
    rows = [[repr(float(v)) for v in row] + [str(t)] for row, t in zip(bunch.data, values)]
    example.write_csv(path, list(bunch.feature_names) + [target], rows)
    return path


def test_iris_csv_with_its_own_column_names(tmp_path, capsys):
    from sklearn.datasets import load_iris
    bunch = load_iris()
    data = write_bunch(tmp_path / "iris.csv", bunch, "species", bunch.target_names)
    model, predictions = tmp_path / "iris.nns", tmp_path / "iris_pred.csv"
    assert cli.main(["train", str(data), "--target", "species", "--epochs", "40", "--lr", "0.01",
                     "--out", str(model), "--verbose", "0"]) == 0
    assert "'setosa'=0, 'versicolor'=1, 'virginica'=2" in capsys.readouterr().out
    assert cli.main(["evaluate", str(model), str(data)]) == 0
    assert float(capsys.readouterr().out.split("accuracy")[1].split()[0]) > 0.9
    assert cli.main(["predict", str(model), str(data), "--out", str(predictions)]) == 0
    rows = read_rows(predictions)
    assert len(rows) == 150
    assert list(rows[0]) == ["species", "prob_setosa", "prob_versicolor", "prob_virginica"]
    assert {row["species"] for row in rows} <= {"setosa", "versicolor", "virginica"}


def test_diabetes_csv_is_inferred_as_regression(tmp_path, capsys):
    from sklearn.datasets import load_diabetes
    bunch = load_diabetes(scaled=False)
    data = write_bunch(tmp_path / "diabetes.csv", bunch, "progression")
    model = tmp_path / "diabetes.nns"
    assert cli.main(["train", str(data), "--target", "progression", "--epochs", "30", "--hidden",
                     "16", "--out", str(model), "--verbose", "0"]) == 0
    out = capsys.readouterr().out
    assert "task: regress (inferred: the target 'progression' holds 214 distinct whole" in out
    validation_r2 = float(out.split("validation")[1].split("r2")[1].split()[0])
    assert validation_r2 > 0.2
    assert cli.main(["predict", str(model), str(data)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "progression" and len(lines) == 443
    predicted = np.array([float(v) for v in lines[1:]])
    assert 100 < predicted.mean() < 200                   # in the target's units (mean 152)
