"""What the table commands share: the training record kept in a model file, preparing a table's
columns for a trained model, and scoring. (Where they write: :mod:`nnscratch.cli.outputs`.)

``nnscratch train`` stores its preprocessing in the model file's user metadata (see
``Network.save``) under the key :data:`RECORD_KEY`::

    {"version": 2, "task": "classify" | "regress", "target": "<column>",
     "features": ["<column>", ...],                      # the columns used, in file order
     "columns": [{...}, ...],                            # how each is encoded (cli.encoding)
     "ignored": [{"name": ..., "reason": ...}, ...],     # columns left out, and why
     "inputs": ["<input>", ...],                         # the network's inputs: age, sex=female
     "feature_mean": [...], "feature_std": [...],        # per input, of the training rows
     "classes": ["<label>", ...] | null,                  # class index -> label, as in the file
     "target_mean": float | null, "target_std": float | null,   # regression targets' scaling
     "training": {...},                                   # how it was trained (for `info`)
     "metrics": {"training": {...}, "validation": {...}}} # its final scores

``predict`` and ``evaluate`` read it back to apply the same encoding, standardisation and
label mapping. A version-1 record (every feature a number column, one input each, no missing
cell allowed) still loads: :func:`upgrade_record` reads it as the version-2 record it means.
"""

import os

import numpy as np

from ...checks import is_number
from ...errors import ModelFileError
from ..encoding import check_spec
from ..features import encode_table, input_columns
from ..preprocessing import decode_labels, encode_labels, standardize, target_labels, unstandardize
from ..tables import numeric_column, select_features

RECORD_KEY = "nnscratch_train"
RECORD_VERSION = 2

DATA_FORMATS = """\
data files:
  CSV   a header line naming the columns, then one line per sample, separated by commas,
        semicolons or tabs (found from the header; UTF-8). Features may be numbers or text
        (categories); empty cells and NA, N/A, #N/A, <NA>, NULL, null, ? are missing. Blank
        lines are skipped. Errors name the line of the file (the header is line 1).
  NPZ   numpy.savez archive with arrays x (samples, features) and y (samples,), plus an
        optional feature_names array (else the features are x0, x1, ...; the target is y);
        or one 1-D array per column, named by its key."""


# ---------------------------------------------------------------------------------------------
# The model file and its training record
# ---------------------------------------------------------------------------------------------

def load_model(path, require_record=True):
    """``(network, record)`` from a model file; ``record`` is None for a file without one."""
    from ... import load
    network = load(path)
    record = (getattr(network, "metadata", None) or {}).get(RECORD_KEY)
    if record is None:
        if require_record:
            raise ModelFileError(f"model file {os.fspath(path)!r} holds no training record (the "
                                 "features, their scaling, the classes): it was not written by "
                                 "'nnscratch train'")
        return network, None
    record = upgrade_record(record)
    check_record(record, network, os.fspath(path))
    return network, record


def upgrade_record(record):
    """A version-1 record read as version 2: every feature a number column with no fill (a
    missing cell stays an error, as when it was trained), one input each, nothing ignored."""
    if not isinstance(record, dict) or record.get("version") != 1:
        return record
    features = record.get("features")
    if not isinstance(features, list) or not all(isinstance(f, str) for f in features):
        return record                              # check_record names what is wrong
    columns = [{"name": name, "kind": "number", "fill": None, "indicator": False, "empty": 0}
               for name in features]
    return dict(record, version=RECORD_VERSION, columns=columns, ignored=[],
                inputs=list(features))


def _fail(path, message):
    raise ModelFileError(f"model file {path!r}: its training record is inconsistent: {message}")


def _is_number_list(values, length):
    return (isinstance(values, list) and len(values) == length
            and all(is_number(v) and np.isfinite(v) for v in values))


def check_record(record, network, path):
    """Check a training record against the network it came with (ModelFileError if not)."""
    if not isinstance(record, dict):
        _fail(path, f"expected an object, got {type(record).__name__}")
    if record.get("version") != RECORD_VERSION:
        _fail(path, f"version {record.get('version')!r}, expected 1 or {RECORD_VERSION}")
    task = record.get("task")
    if task not in ("classify", "regress"):
        _fail(path, f"task {task!r}, expected 'classify' or 'regress'")
    if not isinstance(record.get("target"), str):
        _fail(path, "the target column name is missing")
    features = record.get("features")
    if not isinstance(features, list) or not features \
            or not all(isinstance(f, str) for f in features):
        _fail(path, "the feature names are missing")
    columns, inputs = record.get("columns"), record.get("inputs")
    if not isinstance(columns, list) or [c.get("name") if isinstance(c, dict) else None
                                          for c in columns] != features:
        _fail(path, "the column specs must name the features, in order")
    problem = next((p for p in map(check_spec, columns) if p is not None), None)
    if problem is not None:
        _fail(path, problem)
    if not isinstance(inputs, list) or len(inputs) != len(input_columns(columns)):
        _fail(path, "the input names do not match the column specs")
    if not isinstance(record.get("ignored"), list) or not all(
            isinstance(i, dict) and isinstance(i.get("name"), str) for i in record["ignored"]):
        _fail(path, "the ignored columns must be a list of {name, reason}")
    if network.input_shape != (len(inputs),):
        _fail(path, f"{len(inputs)} inputs for a network taking inputs shaped "
                    f"{network.input_shape}")
    for key in ("feature_mean", "feature_std"):
        if not _is_number_list(record.get(key), len(inputs)):
            _fail(path, f"{key} must be {len(inputs)} finite numbers")
    if task == "classify":
        classes = record.get("classes")
        if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes) \
                or len(set(classes)) != len(classes):
            _fail(path, "the class labels must be a list of distinct strings")
        if network.output_shape != (len(classes),):
            _fail(path, f"{len(classes)} classes for a network with outputs shaped "
                        f"{network.output_shape}")
    else:
        if not _is_number_list([record.get("target_mean"), record.get("target_std")], 2):
            _fail(path, "target_mean and target_std must be finite numbers")
        if network.output_shape != (1,):
            _fail(path, f"a regression model needs one output, got {network.output_shape}")


# ---------------------------------------------------------------------------------------------
# A table's columns for a trained model
# ---------------------------------------------------------------------------------------------

def target_for(table, record, given):
    """The target column to read: ``given`` or the one the model was trained on."""
    target = given or record["target"]
    table.require(target, "target column")
    return target


def model_inputs(table, record, network, ignore=()):
    """The standardised (N, inputs) input of ``network`` from the feature columns of ``table``.

    The columns the model ignored in training may be there too. Each column is encoded by its
    spec (missing cells filled, categories one-hot, unknown categories all zeros or
    ``(other)``). A value the network's dtype cannot hold, or whose z-score it cannot hold, is
    a DataError naming its cell.
    """
    ignored = {entry["name"] for entry in record["ignored"]}
    select_features(table, record["features"], ignore=set(ignore) | ignored)
    x = encode_table(table, record["columns"])
    names = input_columns(record["columns"])
    return standardize(x, record["feature_mean"], record["feature_std"], dtype=network.dtype,
                       where=lambda row, column: table.where(row, names[column]))


def model_targets(table, record, target, dtype=np.float64):
    """``(y_true, y_network)``: the target in its own units / labels, and as the network trains on.

    Classification: class indices for both (the network's loss may want them one-hot; see
    :func:`network_targets`). Regression: the values, and their z-scores as ``dtype`` (a
    z-score ``dtype`` cannot hold is a DataError naming its cell).
    """
    if record["task"] == "classify":
        labels = target_labels(table, target)
        indices = encode_labels(labels, record["classes"], table, target)
        return indices, indices
    values = numeric_column(table, target)
    scaled = standardize(values[:, None], [record["target_mean"]], [record["target_std"]],
                         dtype=dtype, where=lambda row, _: table.where(row, target))
    return values, scaled


def network_targets(network, y, num_classes=None):
    """Class indices one-hot encoded when the network's loss wants one-hot targets."""
    from ...data import one_hot
    if num_classes is None or getattr(network.loss, "sparse_labels", False):
        return y
    return one_hot(y, num_classes, dtype=network.dtype)


def predictions(network, record, x):
    """``(values_or_labels, probabilities or None)`` for the standardised inputs ``x``."""
    output = network.predict(x)
    if record["task"] == "classify":
        return decode_labels(np.argmax(output, axis=1), record["classes"]), output
    values = unstandardize(output[:, 0], record["target_mean"], record["target_std"])
    return values, None


# ---------------------------------------------------------------------------------------------
# Scores
# ---------------------------------------------------------------------------------------------

def scores(network, record, x, y_true, y_network, output=None):
    """The loss and the task's metrics on one data set, in inference mode.

    Classification: loss, accuracy. Regression: loss (on the standardised target, which is
    what the network learns), MAE and RMSE in the target's own units, and R2. ``output`` is
    ``network.predict(x)`` when the caller has it already.
    """
    from ... import metrics
    num_classes = len(record["classes"]) if record["task"] == "classify" else None
    result = {"loss": network.evaluate(x, network_targets(network, y_network, num_classes))["loss"]}
    if output is None:
        output = network.predict(x)
    if record["task"] == "classify":
        result["accuracy"] = metrics.accuracy(output, y_true)
    else:
        values = unstandardize(output[:, 0], record["target_mean"], record["target_std"])
        result["mae"] = metrics.mae(values, y_true)
        result["rmse"] = metrics.rmse(values, y_true)
        result["r2"] = metrics.r2(values, y_true)
    return result


def format_scores(result):
    """``loss 0.1234  accuracy 0.9667`` (4 significant digits)."""
    return "  ".join(f"{key} {value:.4g}" if key != "accuracy" else f"{key} {value:.4f}"
                     for key, value in result.items())

