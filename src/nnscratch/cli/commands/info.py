"""``nnscratch info``: what a model file holds and how it was trained.

Prints the architecture (the layer table with output shapes and parameter counts), the
parameter totals, and, for a model written by ``nnscratch train``, its training record: task,
target, every preprocessing step (columns ignored and why, how each column is encoded and its
missing cells filled, each network input with its training mean and standard deviation),
classes, data, network options, epochs and early stopping, optimizer, final metrics and date.
"""

import os

from ..encoding import describe_column
from ..missing import MISSING_TOKENS
from ..options import add_command
from . import common

EPILOG = """\
example:
  nnscratch info wine.nns"""


def add_parser(commands):
    """Register ``nnscratch info``."""
    parser = add_command(commands, "info",
                         "show a model file's architecture and how it was trained",
                         __doc__, EPILOG, run)
    parser.add_argument("model", metavar="MODEL", help="a model file (.nns)")
    return parser


def describe(network, record, path):
    """The lines ``info`` prints."""
    lines = [f"model file: {path} ({os.path.getsize(path)} bytes)", ""]
    lines.append(network.summary(print_fn=None))
    trainable = sum(p.size for _, p, _ in network.named_parameters())
    lines.append(f"parameters: {network.count_params()} ({trainable} trainable), "
                 f"input shape {network.input_shape}, output shape {network.output_shape}, "
                 f"epochs trained {network.epochs_trained}")
    lines.append("checksum: verified" if getattr(network, "checksum", None)
                 else "checksum: none (written by another tool)")
    if record is None:
        lines.append("no training record: this file was not written by 'nnscratch train'")
        return lines
    lines.append("")
    training = record.get("training", {})
    lines.append(f"task: {record['task']} of {record['target']!r} "
                 f"({training.get('task_source', 'source unknown')})")
    lines.extend(preprocessing_lines(record))
    if record["task"] == "classify":
        lines.append(f"classes ({len(record['classes'])}): "
                     + ", ".join(f"{i}={c!r}" for i, c in enumerate(record["classes"])))
    else:
        lines.append(f"target scaling: mean {record['target_mean']:.6g}, "
                     f"std {record['target_std']:.6g}")
    if training:
        lines.append(f"trained on: {training.get('data')} ({training.get('rows')} rows: "
                     f"{training.get('training_rows')} training, "
                     f"{training.get('validation_rows')} validation, seed {training.get('seed')})")
        if training.get("dropped_rows"):
            lines.append(f"rows dropped for an empty target cell: {training['dropped_rows']}")
        lines.append(f"training: {training.get('epochs')} epochs, batch size "
                     f"{training.get('batch_size') or 'all rows'}, optimizer "
                     f"{training.get('optimizer')} "
                     f"(learning rate {training.get('learning_rate')}), "
                     f"loss {training.get('loss')}, hidden {training.get('hidden')} "
                     f"{training.get('activation')}")
        if training.get("stopping"):
            lines.append(training["stopping"])
        lines.append(f"date: {training.get('date')}")
    for name, result in (record.get("metrics") or {}).items():
        lines.append(f"final {name}: {common.format_scores(result)}")
    return lines


def preprocessing_lines(record):
    """The preprocessing steps of a training record, in the order ``predict`` applies them."""
    lines = [f"preprocessing of {len(record['features'])} feature column(s), in order:"]
    for entry in record["ignored"]:
        lines.append(f"  {entry['name']}: {entry.get('reason', '')} -> ignored")
    lines.append("  columns (empty cells: " + ", ".join(
        repr(t) for t in sorted(MISSING_TOKENS)) + "):")
    for spec in record["columns"]:
        lines.append(f"    {describe_column(spec)}")
    lines.append(f"  {len(record['inputs'])} network inputs; number inputs standardised with the "
                 "training rows' mean and standard deviation, 0/1 inputs as they are:")
    for name, mean, std in zip(record["inputs"], record["feature_mean"], record["feature_std"]):
        lines.append(f"    {name:<30} mean {mean:<12.6g} std {std:.6g}")
    return lines


def run(args):
    """Describe a model file from parsed arguments; returns 0."""
    network, record = common.load_model(args.model, require_record=False)
    print("\n".join(describe(network, record, args.model)))
    return 0
