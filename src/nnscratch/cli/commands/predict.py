"""``nnscratch predict``: a trained model's predictions for every row of a table, as CSV.

The table needs the model's feature columns (in any order; the target column may be there too
and is ignored). The features are standardised with the training rows' statistics kept in the
model file. The output has one row per input row, in the input's order:

- classifier: the predicted label, as written in the training data, in a column named after
  the target, then one column ``prob_<label>`` per class with the softmax probability;
- regression: the predicted value, in the target's own units, in a column named after the
  target.

Without ``--out`` the CSV goes to standard output. Nothing is written (neither to the file nor
to standard output) unless every row could be read and predicted. ``--out`` may not name the
model file, the data file or any other model file.
"""

import csv
import io
import sys

from ..options import add_model_command
from ..outputs import check_output, write_text
from ..tables import read_table
from . import common

EPILOG = f"""\
examples:
  nnscratch predict wine.nns new_wines.csv --out predictions.csv
  nnscratch predict wine.nns new_wines.csv | head

{common.DATA_FORMATS}"""


def add_parser(commands):
    """Register ``nnscratch predict``."""
    return add_model_command(
        commands, "predict", "predict every row of a CSV/NPZ table with a trained model",
        __doc__, EPILOG, run, data_help="the table to predict (.csv or .npz)",
        option=("--out", "PREDICTIONS.csv",
                "write the predictions to this CSV file (default: standard output)"))


def prediction_rows(record, values, probabilities):
    """The header and rows of the predictions CSV, as lists of strings."""
    target = record["target"]
    if record["task"] == "regress":
        return [target], [[format(float(v), ".7g")] for v in values]
    header = [target] + [f"prob_{label}" for label in record["classes"]]
    rows = [[str(label)] + [format(float(p), ".6g") for p in probs]
            for label, probs in zip(values, probabilities)]
    return header, rows


def to_csv(header, rows):
    """CSV text (``\\n`` line ends) of a header and rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def run(args):
    """Predict from parsed arguments; returns 0."""
    if args.out:
        check_output(args.out, "predictions", protect_models=True,
                     inputs=[(args.model, "model file"), (args.data, "data file")])
    network, record = common.load_model(args.model)
    table = read_table(args.data)
    x = common.model_inputs(table, record, network, ignore={record["target"]})
    values, probabilities = common.predictions(network, record, x)
    text = to_csv(*prediction_rows(record, values, probabilities))
    if args.out:
        write_text(args.out, text, "predictions file")
        print(f"{len(values)} predictions of {record['target']!r} written to {args.out}")
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    return 0
