"""The table commands: nnscratch train / predict / evaluate / info, end to end and on bad data."""

import contextlib
import csv
import io

import numpy as np
import pytest

import nnscratch as ns
from nnscratch import cli
from nnscratch.cli import preprocessing, tables
from nnscratch.cli.commands import common

FEATURES = ["width (cm)", "height", "z"]
COLORS = ["red", "green", "blue"]


def blobs_csv(path, n_per_class=30, seed=0, labels=COLORS, target="color", shift=0.0):
    """Three well separated blobs with string labels; rows shuffled."""
    rng = np.random.default_rng(seed)
    rows = []
    for k, label in enumerate(labels):
        centre = np.array([3.0 * k, -2.0 * k, 10.0]) + shift
        for point in rng.normal(centre, [0.5, 0.5, 5.0], size=(n_per_class, 3)):
            rows.append([f"{v:.4f}" for v in point] + [label])
    rows = [rows[i] for i in rng.permutation(len(rows))]
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(FEATURES + [target])
        writer.writerows(rows)
    return path


def regression_csv(path, n=80, seed=0):
    """y = 100 + 30 x1 - 20 x2 + noise, on a scale far from 0 and 1."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)) * [2.0, 50.0] + [0.0, 500.0]
    y = 100 + 30 * x[:, 0] - 0.4 * (x[:, 1] - 500) + rng.normal(0, 1.0, n)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["a", "b", "price"])
        writer.writerows([[f"{a:.5f}", f"{b:.5f}", f"{t:.3f}"] for (a, b), t in zip(x, y)])
    return path, y


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def train(capsys, data, model, *extra):
    code = cli.main(["train", str(data), "--out", str(model), "--epochs", "30", "--verbose", "0",
                     "--hidden", "16", *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A classifier trained once for the module: (data, model, train's output)."""
    folder = tmp_path_factory.mktemp("trained")
    data = blobs_csv(folder / "train.csv")
    model = folder / "colors.nns"
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = cli.main(["train", str(data), "--out", str(model), "--epochs", "30", "--verbose",
                         "0", "--hidden", "16", "--batch-size", "32", "--target", "color", "--lr", "0.01"])
    assert code == 0
    return data, model, out.getvalue()


# ---------------------------------------------------------------------------------------------
# End to end
# ---------------------------------------------------------------------------------------------

def test_classifier_train_evaluate_predict_info(trained, tmp_path, capsys):
    _, model, out = trained
    assert "task: classify (inferred: the target 'color' holds text (e.g." in out
    assert "classes: 3: 'blue'=0, 'green'=1, 'red'=2" in out
    assert "rows: 72 training, 18 validation (stratified, seed 0)" in out
    assert "validation loss" in out and f"model written to {model}" in out
    train_accuracy = float(out.split("training   loss")[1].split("accuracy")[1].split()[0])
    assert train_accuracy > 0.95

    test = blobs_csv(tmp_path / "test.csv", n_per_class=10, seed=1)
    assert cli.main(["evaluate", str(model), str(test)]) == 0
    out = capsys.readouterr().out
    assert "test.csv: 30 rows, task classify" in out
    assert float(out.split("accuracy")[1].split()[0]) > 0.9
    assert "true \\ predicted" in out

    predictions = tmp_path / "pred.csv"
    assert cli.main(["predict", str(model), str(test), "--out", str(predictions)]) == 0
    assert f"30 predictions of 'color' written to {predictions}" in capsys.readouterr().out
    header, rows = read_csv(predictions)
    assert header == ["color", "prob_blue", "prob_green", "prob_red"]
    _, test_rows = read_csv(test)
    assert len(rows) == len(test_rows) == 30
    probabilities = np.array([[float(p) for p in row[1:]] for row in rows])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-4)
    predicted = [row[0] for row in rows]
    assert predicted == [["blue", "green", "red"][i] for i in probabilities.argmax(axis=1)]
    truth = [row[-1] for row in test_rows]
    assert np.mean([p == t for p, t in zip(predicted, truth)]) > 0.9

    assert cli.main(["info", str(model)]) == 0
    out = capsys.readouterr().out
    n_params = (3 + 1) * 16 + (16 + 1) * 3
    for text in ["dense_0", "Dense (softmax)", f"parameters: {n_params} ({n_params} trainable)",
                 "task: classify of 'color'", "width (cm)", "classes (3): 0='blue'",
                 "trained on: train.csv (90 rows: 72 training, 18 validation, seed 0)",
                 "training: 30 epochs, batch size 32, optimizer adam", "date: 20",
                 "final validation: loss"]:
        assert text in out, text


def test_the_model_file_keeps_the_training_statistics(trained):
    data, model, _ = trained
    network = ns.load(model)
    record = network.metadata[common.RECORD_KEY]
    assert record["features"] == FEATURES and record["classes"] == ["blue", "green", "red"]
    table = tables.read_csv(data)
    x = tables.feature_matrix(table, FEATURES)
    rows = 90
    train_rows, _ = preprocessing.split_indices(rows, 0.2, 0, preprocessing.encode_labels(
        preprocessing.target_labels(table, "color"), record["classes"]))
    np.testing.assert_allclose(record["feature_mean"], x[train_rows].mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(record["feature_std"], x[train_rows].std(axis=0), rtol=1e-12)
    assert network.dtype == np.float32
    assert all(p.dtype == np.float32 for _, p, _ in network.named_parameters())


def test_predict_to_stdout_ignores_the_target_and_accepts_any_column_order(trained, tmp_path,
                                                                         capsys):
    _, model, _ = trained
    shuffled = tmp_path / "new.csv"
    shuffled.write_text("z,height,width (cm)\n10,0,0\n10,-4,6\n")
    assert cli.main(["predict", str(model), str(shuffled)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("color,prob_blue")
    assert [line.split(",")[0] for line in lines[1:]] == ["red", "blue"]


def test_numeric_labels_keep_their_spelling_and_task_can_be_forced(tmp_path, capsys):
    data = blobs_csv(tmp_path / "d.csv", labels=["10", "9", "07"], target="grade")
    model = tmp_path / "m.nns"
    out = train(capsys, data, model, "--target", "grade")
    assert "holds 3 distinct whole numbers in 90 rows" in out
    assert "'07'=0, '9'=1, '10'=2" in out
    assert cli.main(["predict", str(model), str(data)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "grade,prob_07,prob_9,prob_10"
    assert {line.split(",")[0] for line in lines[1:]} <= {"07", "9", "10"}
    out = train(capsys, data, tmp_path / "r.nns", "--target", "grade", "--task", "regress")
    assert "task: regress (from --task)" in out


def test_regression_end_to_end_in_the_targets_units(tmp_path, capsys):
    data, y = regression_csv(tmp_path / "prices.csv")
    model = tmp_path / "prices.nns"
    out = train(capsys, data, model, "--target", "price", "--epochs", "150", "--hidden", "8",
                "--lr", "0.01", "--validation-split", "0.25")
    assert "task: regress (inferred: the target 'price' holds numbers that are not whole" in out
    assert "linear output, loss mse" in out and "mae" in out and "r2" in out
    assert cli.main(["evaluate", str(model), str(data)]) == 0
    out = capsys.readouterr().out
    r2 = float(out.split("r2")[1].split()[0])
    mae = float(out.split("mae")[1].split()[0])
    assert r2 > 0.9 and mae < 0.3 * np.std(y)
    assert cli.main(["predict", str(model), str(data)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "price" and len(lines) == 81
    predicted = np.array([float(v) for v in lines[1:]])
    assert np.mean(np.abs(predicted - y)) == pytest.approx(mae, rel=1e-3)
    assert cli.main(["info", str(model)]) == 0
    assert "target scaling: mean" in capsys.readouterr().out


def test_npz_with_x_and_y_needs_no_target(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4))
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    np.savez(tmp_path / "d.npz", x=x, y=y)
    model = tmp_path / "d.nns"
    out = train(capsys, tmp_path / "d.npz", model, "--epochs", "60")
    assert "target 'y'" in out and "task: classify" in out
    np.savez(tmp_path / "new.npz", x=x[:5])
    assert cli.main(["predict", str(model), str(tmp_path / "new.npz")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "y,prob_0,prob_1" and len(lines) == 6
    np.savez(tmp_path / "narrow.npz", x=x[:5, :3])
    assert cli.main(["predict", str(model), str(tmp_path / "narrow.npz")]) == 2
    assert ("narrow.npz has 3 feature column(s), the model expects 4: it lacks 'x3'"
            in capsys.readouterr().err)


def test_plot_writes_a_png(tmp_path, capsys):
    data = blobs_csv(tmp_path / "d.csv")
    figure = tmp_path / "curves.png"
    out = train(capsys, data, tmp_path / "m.nns", "--target", "color", "--plot", str(figure))
    assert f"loss curves written to {figure}" in out
    assert figure.read_bytes()[:4] == b"\x89PNG" and figure.stat().st_size > 10_000


def test_epoch_lines_when_not_on_a_terminal(tmp_path, capsys):
    data = blobs_csv(tmp_path / "d.csv")
    assert cli.main(["train", str(data), "--target", "color", "--epochs", "4", "--out",
                     str(tmp_path / "m.nns"), "--verbose", "2"]) == 0
    out = capsys.readouterr().out
    assert "epoch 1/4 - loss:" in out and "epoch 4/4 - loss:" in out and "val_accuracy" in out


def test_other_losses_and_optimizers(tmp_path, capsys):
    data = blobs_csv(tmp_path / "d.csv")
    out = train(capsys, data, tmp_path / "m.nns", "--target", "color", "--loss",
                "categorical_crossentropy", "--optimizer", "sgd", "--lr", "0.1",
                "--batch-size", "0", "--hidden", "", "--validation-split", "0")
    assert "network: 3-3, relu hidden" in out and "optimizer sgd (learning rate 0.1)" in out
    assert "rows: 90 training, 0 validation" in out and "validation loss" not in out
    assert cli.main(["evaluate", str(tmp_path / "m.nns"), str(data)]) == 0
    assert "accuracy" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------
# Bad data: one line on stderr, exit status 2, nothing written
# ---------------------------------------------------------------------------------------------

HEADER = ",".join(f'"{name}"' for name in FEATURES) + ",color\n"
GOOD = "1,2,3,red\n4,5,6,blue\n"

BAD_FOR_BOTH = {
    "ragged": (HEADER + GOOD + "\n7,8,green\n", "bad.csv, line 5: 3 cell(s), but the header "
                                                "(line 1) names 4 columns"),
    "non-numeric": (HEADER + GOOD + "7,eight,9,red\n",
                    "bad.csv, line 4, column 'height': expected a number, got 'eight'"),
    "empty file": ("", "bad.csv is empty: expected a header line naming the columns"),
    "header only": (HEADER, "bad.csv has a header (line 1) but no data lines"),
    "nan": (HEADER + GOOD + "7,8,NaN,red\n",
            "bad.csv, line 4, column 'z': expected a finite number, got 'NaN'"),
    "inf": (HEADER + "inf,2,3,red\n" + GOOD,
            "bad.csv, line 2, column 'width (cm)': expected a finite number, got 'inf'"),
    "stray text": (HEADER + GOOD + "\n\n7,unknown,9,red\n7,8,9,blue\n",
                   "bad.csv, line 6, column 'height': expected a number, got 'unknown'"),
    "no header": ("1,2,3,4\n5,6,7,8\n", "bad.csv, line 1: expected a header naming the columns, "
                                        "got numbers"),
    "unclosed quote": (HEADER + GOOD + '7,8,"9,red\n', "bad.csv, line 4: not valid CSV"),
}
BAD_FOR_TRAIN = {
    "missing target": ('"width (cm)",height,z,colour\n' + GOOD,
                       "bad.csv has no target column 'color'; its columns are: 'width (cm)', "
                       "'height', 'z', 'colour'"),
    "target empty everywhere": (HEADER + "1,2,3,\n4,5,6,NA\n",
                                "bad.csv: the target column 'color' is empty in every row"),
    "one class": (HEADER + "1,2,3,red\n4,5,6,red\n7,8,9,red\n",
                  "classification needs at least two classes, the target holds only 'red'"),
}
BAD_FOR_PREDICT = {
    "missing feature": ('"width (cm)",z\n1,2\n', "bad.csv has 2 feature column(s), the model "
                                                 "expects 3: it lacks 'height'"),
    "renamed feature": ('"width (cm)",height,depth\n1,2,3\n', "the model expects 3: it lacks 'z' "
                                                              "(its columns are: 'width (cm)', "
                                                              "'height', 'depth')"),
    "extra feature": ('"width (cm)",height,z,w,color\n1,2,3,4,red\n',
                      "bad.csv has 4 feature column(s), the model expects 3: the model was not "
                      "trained on 'w'"),
}


def assert_one_line_error(capsys, command, expected):
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert "\n" not in err, err
    assert err.startswith(f"nnscratch {command}: error: "), err
    assert expected in err, err
    return captured


@pytest.mark.parametrize("case", [*BAD_FOR_BOTH, *BAD_FOR_TRAIN])
def test_train_on_bad_data_writes_nothing(tmp_path, capsys, case):
    text, expected = {**BAD_FOR_BOTH, **BAD_FOR_TRAIN}[case]
    (tmp_path / "bad.csv").write_text(text)
    model, figure = tmp_path / "m.nns", tmp_path / "curves.png"
    code = cli.main(["train", str(tmp_path / "bad.csv"), "--target", "color", "--out", str(model),
                     "--plot", str(figure), "--epochs", "2", "--validation-split", "0"])
    assert code == 2
    assert_one_line_error(capsys, "train", expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


@pytest.mark.parametrize("to_file", [True, False])
@pytest.mark.parametrize("case", [*BAD_FOR_BOTH, *BAD_FOR_PREDICT])
def test_predict_on_bad_data_writes_nothing(trained, tmp_path, capsys, case, to_file):
    _, model, _ = trained
    text, expected = {**BAD_FOR_BOTH, **BAD_FOR_PREDICT}[case]
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "bad.csv").write_text(text)
    args = ["predict", str(model), str(folder / "bad.csv")]
    if to_file:
        args += ["--out", str(folder / "pred.csv")]
    assert cli.main(args) == 2
    captured = assert_one_line_error(capsys, "predict", expected)
    assert captured.out == ""
    assert sorted(p.name for p in folder.iterdir()) == ["bad.csv"]


def test_evaluate_errors(trained, tmp_path, capsys):
    _, model, _ = trained
    (tmp_path / "e.csv").write_text(HEADER + GOOD + "7,8,9,purple\n")
    assert cli.main(["evaluate", str(model), str(tmp_path / "e.csv")]) == 2
    assert_one_line_error(capsys, "evaluate", "e.csv, line 4, column 'color': label 'purple' is "
                                              "not one of the 3 classes the model knows")
    (tmp_path / "n.csv").write_text('"width (cm)",height,z\n1,2,3\n')
    assert cli.main(["evaluate", str(model), str(tmp_path / "n.csv")]) == 2
    assert_one_line_error(capsys, "evaluate", "n.csv has no target column 'color'")


def test_bad_options_and_files_are_one_line_errors(trained, tmp_path, capsys):
    data, model, _ = trained
    cases = [
        (["train", str(data), "--target", "color", "--optimizer", "nope"],
         "unknown optimizer 'nope'; known optimizer names: "),
        (["train", str(data), "--target", "color", "--hidden", "8,x"],
         "--hidden expects comma-separated positive integers like 64,32, got '8,x'"),
        (["train", str(data), "--target", "color", "--activation", "nope", "--out",
          str(tmp_path / "x.nns")], "unknown activation"),
        (["train", str(data), "--target", "color", "--out", str(tmp_path / "no" / "m.nns")],
         "cannot write the model to"),
        (["train", str(data)], "--target is required: name the column of train.csv to predict"),
        (["train", str(data), "--target", "color", "--validation-split", "1"],
         "the validation split must be a fraction in [0, 1), got 1.0"),
        (["train", str(tmp_path / "missing.csv"), "--target", "y"],
         "cannot read data file"),
        (["predict", str(tmp_path / "missing.nns"), str(data)], "no model file at"),
        (["predict", str(model), str(data), "--out", str(tmp_path / "no" / "p.csv")],
         "cannot write the predictions to"),
    ]
    before = sorted(p.name for p in tmp_path.iterdir())
    for args, expected in cases:
        assert cli.main(args) == 2, args
        assert_one_line_error(capsys, args[0], expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_model_without_a_training_record(tmp_path, capsys):
    net = ns.Network([ns.Dense(2)], input_shape=(3,))
    net.save(tmp_path / "plain.nns")
    assert cli.main(["info", str(tmp_path / "plain.nns")]) == 0
    assert "no training record" in capsys.readouterr().out
    assert cli.main(["predict", str(tmp_path / "plain.nns"), str(tmp_path / "x.csv")]) == 2
    assert_one_line_error(capsys, "predict", "holds no training record")


def test_an_inconsistent_training_record_is_a_model_file_error(trained, tmp_path, capsys):
    _, model, _ = trained
    network = ns.load(model)
    record = dict(network.metadata[common.RECORD_KEY])
    record["classes"] = ["a", "b"]
    ns.saving.save(network, tmp_path / "broken.nns", metadata={common.RECORD_KEY: record})
    assert cli.main(["info", str(tmp_path / "broken.nns")]) == 2
    assert_one_line_error(capsys, "info", "its training record is inconsistent: 2 classes for a "
                                          "network with outputs shaped (3,)")


# ---------------------------------------------------------------------------------------------
# Help
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("command, words", [
    ("train", ["--target", "--task", "--hidden", "--activation", "--loss", "--optimizer", "--lr",
               "--epochs", "--batch-size", "--validation-split", "--seed", "--out", "--plot",
               "adam", "examples:", "nnscratch train wine.csv", "data files:", "NPZ"]),
    ("predict", ["MODEL", "DATA", "--out", "prob_<label>", "examples:",
                 "nnscratch predict wine.nns"]),
    ("evaluate", ["MODEL", "DATA", "--target", "confusion matrix", "examples:",
                  "nnscratch evaluate wine.nns"]),
    ("info", ["MODEL", "example:", "nnscratch info wine.nns"]),
])
def test_help_is_complete_with_an_example(capsys, command, words):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for word in words:
        assert word in out, word


def test_top_level_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for command in ("train", "predict", "evaluate", "info", "demo"):
        assert command in out
