"""``nnscratch evaluate``: a trained model's loss and metrics on a labelled table.

The table needs the model's feature columns and the target column (by default the one the
model was trained on; ``--target`` names another). Rows whose target cell is empty cannot be
scored: they are left out, and their count said. Classifiers report the loss, the accuracy,
macro-averaged precision, recall and F1, and the confusion matrix (rows: true labels, columns:
predicted labels); regression models the loss (on the standardised target, as trained), MAE
and RMSE in the target's units, and R2.
"""

import numpy as np

from ... import metrics
from ..features import drop_missing_target
from ..options import add_model_command
from ..tables import read_table
from . import common

EPILOG = f"""\
examples:
  nnscratch evaluate wine.nns wine_test.csv
  nnscratch evaluate houses.nns houses_2024.csv --target sale_price

{common.DATA_FORMATS}"""


def add_parser(commands):
    """Register ``nnscratch evaluate``."""
    return add_model_command(
        commands, "evaluate", "loss and metrics of a trained model on a labelled CSV/NPZ table",
        __doc__, EPILOG, run, data_help="the labelled table (.csv or .npz)",
        option=("--target", "COLUMN",
                "the column holding the true values (default: the model's target)"))


def evaluate_table(network, record, table, target=None):
    """``(scores, confusion matrix or None)`` of the model on a table holding the target, a
    cell in every row (:func:`~nnscratch.cli.features.drop_missing_target` leaves out the rest)."""
    target = common.target_for(table, record, target)
    x = common.model_inputs(table, record, network, ignore={target})
    y_true, y_network = common.model_targets(table, record, target, dtype=network.dtype)
    output = network.predict(x)
    result = common.scores(network, record, x, y_true, y_network, output)
    matrix = None
    if record["task"] == "classify":
        for name in ("precision", "recall", "f1"):
            result[f"{name}_macro"] = getattr(metrics, name)(output, y_true, average="macro")
        matrix = metrics.confusion_matrix(output, y_true, num_classes=len(record["classes"]))
    return result, matrix


def format_matrix(matrix, classes):
    """The confusion matrix as text, labelled with the classes."""
    labels = [str(c) for c in classes]
    corner = "true \\ predicted"
    first = max(len(corner), *(len(s) for s in labels))
    width = max(*(len(s) for s in labels), len(str(int(np.max(matrix)))))
    lines = [corner.ljust(first) + "  " + "  ".join(s.rjust(width) for s in labels)]
    for label, row in zip(labels, matrix):
        lines.append(label.ljust(first) + "  " + "  ".join(str(int(v)).rjust(width) for v in row))
    return "\n".join(lines)


def run(args):
    """Evaluate from parsed arguments; prints the scores; returns 0."""
    network, record = common.load_model(args.model)
    table = read_table(args.data)
    target = common.target_for(table, record, args.target)
    table, dropped = drop_missing_target(table, target)
    result, matrix = evaluate_table(network, record, table, target)
    print(f"{table.source}: {len(table)} rows, task {record['task']}"
          + (f" ({dropped} row(s) with an empty target cell left out)" if dropped else ""))
    for key, value in result.items():
        print(f"{key:<16} {value:.4f}" if key != "loss" else f"{key:<16} {value:.6g}")
    if record["task"] == "regress":
        print("(loss on the standardised target; mae and rmse in the target's units)")
    if matrix is not None and len(record["classes"]) <= 20:
        print("confusion matrix:")
        print(format_matrix(matrix, record["classes"]))
    return 0
