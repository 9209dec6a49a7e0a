"""``nnscratch train``: fit a network to a table and save it with its preprocessing.

Steps, in order (nothing is written unless all of them succeed):

1. read the table (CSV or NPZ; the delimiter ``,`` ``;`` or tab found from the header) and
   drop the rows whose target cell is empty (said, with their count);
2. decide the task: ``--task``, or inferred from the target column (text, or few distinct whole
   numbers: classify; other numbers: regress) and say why;
3. classes: the distinct target labels, sorted, become indices 0 .. C-1;
4. hold out a seeded, class-stratified share of the rows for validation;
5. prepare every other column (:mod:`nnscratch.cli.features`, said on one ``columns:`` line):
   ``--ignore`` and row-id columns left out, number columns with empty cells filled by the
   training median, text columns one-hot (at most ``--max-onehot`` inputs each), a missing
   indicator where the training rows had empty cells; standardise the number inputs with the
   training rows' mean and standard deviation (and, for regression, the target too);
6. train a stack of Dense layers: ``--hidden`` widths with ``--activation``, then a softmax
   output per class (classify) or one linear output (regress), for at most ``--epochs`` epochs:
   early stopping on the validation loss ends training after ``--patience`` epochs without
   improvement and restores the weights of the best epoch (``--patience 0``: all epochs, last
   weights);
7. print the final loss and metrics on the training and validation rows;
8. save the model with the training record (features, scaling, classes, how it was trained),
   then draw the loss curves if ``--plot`` asks for them.
"""

import datetime

from ... import checks, distributed, optimizers
from ...errors import ConfigError
from ..cells import numbers, quote_list, short
from ..features import (
    MAX_ONEHOT,
    check_names,
    drop_missing_target,
    fit_features,
    fit_scaling,
    input_columns,
    parse_names,
)
from ..options import add_command, add_verbose, parse_widths
from ..outputs import check_figure, check_output, write_figure
from ..preprocessing import (
    encode_labels,
    fit_classes,
    fit_standardization,
    labels_of,
    split_indices,
    standardize,
    task_of,
)
from ..tables import read_table
from . import common

DEFAULT_LOSS = {"classify": "sparse_categorical_crossentropy", "regress": "mse"}

EPILOG = f"""\
examples:
  nnscratch train wine.csv --target cultivar --hidden 32,16 --epochs 200 --plot curves.png
  nnscratch train houses.csv --target price --task regress --optimizer sgd --lr 0.01
  nnscratch train data.npz --out data.nns        (arrays x and y: the target is y)
  nnscratch train titanic.csv --target survived --ignore name,ticket --patience 30

{common.DATA_FORMATS}

The model file keeps every preprocessing step (columns ignored and why, fill values of empty
cells, categories, the inputs' means and standard deviations), the class labels and how the
model was trained; 'nnscratch predict', 'evaluate' and 'info' read them back."""


def add_parser(commands):
    """Register ``nnscratch train``."""
    parser = add_command(commands, "train", "train a network on a CSV/NPZ table and save it",
                         __doc__, EPILOG, run)
    parser.add_argument("data", metavar="DATA", help="the training table (.csv or .npz)")
    parser.add_argument("--target", metavar="COLUMN",
                        help="the column to predict (required for CSV; default y for an NPZ "
                             "archive with arrays x and y)")
    parser.add_argument("--task", choices=("classify", "regress"),
                        help="classify (labels of any kind) or regress (numbers); inferred from "
                             "the target column when left out")
    parser.add_argument("--hidden", default="64,32", metavar="WIDTHS",
                        help="hidden layer widths, comma separated; '' for none "
                             "(default: %(default)s)")
    parser.add_argument("--activation", default="relu",
                        help="activation of the hidden layers, any of "
                             "nnscratch.activations.names() (default: %(default)s)")
    parser.add_argument("--loss",
                        help="cost function (default: sparse_categorical_crossentropy on a softmax "
                             "output to classify, mse to regress)")
    parser.add_argument("--optimizer", default="adam",
                        help=f"one of: {', '.join(optimizers.names())} (default: %(default)s)")
    parser.add_argument("--lr", type=float, metavar="RATE",
                        help="learning rate (default: the optimizer's own, e.g. 0.001 for adam)")
    parser.add_argument("--epochs", type=int, default=1000,
                        help="the most passes over the training rows; early stopping usually "
                             "ends sooner (default: %(default)s)")
    parser.add_argument("--patience", type=int, default=20, metavar="N",
                        help="stop after N epochs without a lower validation loss and keep the "
                             "best epoch's weights; 0 trains every epoch and keeps the last "
                             "(default: %(default)s)")
    parser.add_argument("--ignore", metavar="COL[,COL]", default="",
                        help="columns to leave out (ids, free text, leaks of the target)")
    parser.add_argument("--keep", metavar="COL[,COL]", default="",
                        help="columns to use even though they look like row ids")
    parser.add_argument("--max-onehot", type=int, default=MAX_ONEHOT, metavar="K",
                        help="inputs per text column: one-hot of its categories up to K; above, "
                             "the K-1 most frequent plus one '(other)' (default: %(default)s)")
    # 128 rather than Keras' 32: on the public tables of benchmarks/tables.py it scores the
    # same on average over seeds (a little steadier), in a quarter of the steps
    parser.add_argument("--batch-size", type=int, default=128, metavar="N",
                        help="rows per gradient step; 0 for all rows at once "
                             "(default: %(default)s)")
    parser.add_argument("--validation-split", type=float, default=0.2, metavar="FRACTION",
                        help="share of the rows held out to validate, drawn at random (per class "
                             "when classifying); 0 for none (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seeds the split, the initial weights and the shuffling "
                             "(default: %(default)s)")
    parser.add_argument("--out", default="model.nns", metavar="MODEL",
                        help="where to save the model (default: %(default)s)")
    parser.add_argument("--plot", metavar="FIGURE.png",
                        help="also draw the training and validation loss curves to this PNG")
    add_verbose(parser)
    return parser


def _target_name(table, given):
    if given is not None:
        table.require(given, "target column")
        return given
    if table.lines is None and "y" in table.columns and table.origins.get("y") == ("y", None):
        return "y"
    raise ConfigError(f"--target is required: name the column of {table.source} to predict "
                      f"(its columns are: {quote_list(table.names)})")


def check_options(args):
    """Check the options before any data is read; returns ``(hidden widths, optimizer)``.

    The model file may not be the data file; the figure may be neither, nor any model file.
    """
    hidden = parse_widths(args.hidden, "64,32")
    checks.positive_int(args.epochs, "--epochs")
    checks.integer(args.patience, "--patience", low=0)
    checks.integer(args.max_onehot, "--max-onehot", low=2)
    checks.integer(args.batch_size, "--batch-size", low=0)
    checks.seed(args.seed, "--seed")
    optimizer_args = {} if args.lr is None else {"learning_rate": args.lr}
    optimizer = optimizers.get(args.optimizer, **optimizer_args)
    data = (args.data, "data file")
    check_output(args.out, "model", inputs=[data])
    if args.plot:                                        # matplotlib missing: fail before training
        check_figure(args.plot, "loss curves", inputs=[data, (args.out, "model file")])
    return hidden, optimizer


def read_data(path, target, task=None):
    """Read the table once and decide about its target: a dict of what ``prepare`` needs.

    Keys: ``table`` (its rows with a target cell), ``source``, ``rows``, ``dropped`` (rows
    without a target cell), ``target`` (its name), ``y`` (class indices, or the target's values
    to regress), ``task``, ``how`` (why that task), ``classes`` (labels by index, or None).
    A target to regress must be numbers float32 holds.
    """
    table = read_table(path)
    target = _target_name(table, target)
    table, dropped = drop_missing_target(table, target)
    cells = table.columns[target]
    where = table.locate(target)                         # names a target cell in messages
    if task is None:
        task, reason = task_of(cells, target, where)
        how = f"inferred: {reason}"
    else:
        how = "from --task"
    classes = None
    if task == "classify":
        labels = labels_of(cells, where)
        classes = fit_classes(labels)
        y = encode_labels(labels, classes)
    else:
        y = numbers(cells, where, float32=True)
    return dict(table=table, source=table.source, rows=len(table), dropped=dropped,
                target=target, y=y, task=task, how=how, classes=classes)


def prepare(args):
    """Check the options, read the data, split its rows and encode the features; returns
    everything ``run`` needs. Writes nothing."""
    hidden, optimizer = check_options(args)
    data = read_data(args.data, args.target, args.task)
    table = data["table"]
    ignore = check_names(table, parse_names(args.ignore), "--ignore", data["target"])
    keep = check_names(table, parse_names(args.keep), "--keep", data["target"])
    train_rows, val_rows = split_indices(data["rows"], args.validation_split, args.seed,
                                         data["y"] if data["task"] == "classify" else None)
    x_raw, plan = fit_features(table, data["target"], train_rows, ignore, keep, args.max_onehot)
    return dict(data, x_raw=x_raw, plan=plan, features=[c["name"] for c in plan["columns"]],
                where=table.where, train_rows=train_rows, val_rows=val_rows, hidden=hidden,
                optimizer=optimizer)


def early_stopping(patience, validation_rows):
    """The EarlyStopping callback on the validation loss, best weights restored; None with
    ``--patience 0`` or without validation rows (nothing to watch)."""
    if patience == 0 or validation_rows == 0:
        return None
    from ...callbacks import EarlyStopping
    return EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)


def stopping_line(stopping, epochs, trained):
    """What early stopping did, for ``train``'s output and the training record."""
    if stopping is None:
        return f"trained all {trained} epochs (no early stopping: --patience 0 or no validation)"
    if stopping.best_epoch is None:
        return f"trained {trained} epochs; no validation loss to compare"
    best = stopping.best_epoch + 1
    if stopping.stopped_epoch is None:
        return (f"ran all {epochs} epochs; best validation loss at epoch {best}, whose weights "
                "are kept")
    return (f"early stopping: validation loss best at epoch {best}, no better in the "
            f"{stopping.patience} epochs after; stopped at epoch {trained} (of at most {epochs}) "
            f"with the weights of epoch {best}")


def build_network(task, n_features, n_outputs, hidden, activation, loss, optimizer, seed):
    """Dense layers ``hidden`` with ``activation``, then the task's output layer."""
    from ... import Dense, Network
    layers = [Dense(units, activation=activation) for units in hidden]
    layers.append(Dense(n_outputs, activation="softmax" if task == "classify" else None))
    return Network(layers, loss=loss, optimizer=optimizer,
                   metrics=["accuracy"] if task == "classify" else ["r2"], seed=seed,
                   input_shape=(n_features,))


def run(args):
    """Train from parsed arguments; prints the scores, saves the model; returns 0.

    Under ``mpiexec -n N`` it trains data-parallel (:mod:`nnscratch.distributed`): every rank
    reads the table, fit shards the rows (``--batch-size`` rows per rank and step), and rank
    0 alone prints and writes the model and the figure.
    """
    parallel = distributed.start_command()
    p = prepare(args)
    task, classes = p["task"], p["classes"]
    train_rows, val_rows = p["train_rows"], p["val_rows"]
    print(f"data: {p['source']}, {p['rows']} rows, {len(p['features'])} features, "
          f"target {p['target']!r}")
    if p["dropped"]:
        print(f"target: {p['dropped']} row(s) with an empty target cell dropped")
    print(f"task: {task} ({p['how']})")
    if classes is not None:
        mapping = ", ".join(f"{short(c)}={i}" for i, c in enumerate(classes[:20]))
        print(f"classes: {len(classes)}: {mapping}" + (", ..." if len(classes) > 20 else ""))

    print("columns: " + "; ".join(p["plan"]["summary"]))
    cell = p["where"]                                    # cell(row, column name), for messages
    plan, columns = p["plan"], input_columns(p["plan"]["columns"])
    mean, std = fit_scaling(p["x_raw"][train_rows], plan["binary"])
    x = standardize(p["x_raw"], mean, std,               # validation rows may lie far out
                    where=lambda row, column: cell(row, columns[column]))
    record = {"version": common.RECORD_VERSION, "task": task, "target": p["target"],
              "features": p["features"], "columns": plan["columns"],
              "ignored": plan["ignored"], "inputs": plan["inputs"],
              "feature_mean": mean.tolist(), "feature_std": std.tolist(), "classes": classes,
              "target_mean": None, "target_std": None}
    if task == "classify":
        y_true = y_network = p["y"]
    else:
        t_mean, t_std = fit_standardization(p["y"][train_rows, None])
        record["target_mean"], record["target_std"] = float(t_mean[0]), float(t_std[0])
        y_true = p["y"]
        y_network = standardize(p["y"][:, None], t_mean, t_std,
                                where=lambda row, _: cell(row, p["target"]))

    loss = args.loss or DEFAULT_LOSS[task]
    n_outputs = len(classes) if task == "classify" else 1
    net = build_network(task, x.shape[1], n_outputs, p["hidden"], args.activation, loss,
                        p["optimizer"], args.seed)
    if parallel:
        distributed.distribute(net)
        print(f"data parallel: {distributed.size()} ranks, each --batch-size rows per step")
    y_fit = common.network_targets(net, y_network, len(classes) if classes else None)
    widths = "-".join(str(w) for w in (x.shape[1], *p["hidden"], n_outputs))
    print(f"network: {widths}, {args.activation} hidden, "
          f"{'softmax' if task == 'classify' else 'linear'} output, loss {net.loss.name}, "
          f"optimizer {net.optimizer.name} "
          f"(learning rate {net.optimizer.current_learning_rate():g}), "
          f"{net.count_params()} parameters")
    print(f"rows: {len(train_rows)} training, {len(val_rows)} validation "
          f"({'stratified, ' if task == 'classify' and len(val_rows) else ''}seed {args.seed}); "
          f"number inputs standardised with the training rows' mean and standard deviation")
    stopping = early_stopping(args.patience, len(val_rows))

    validation = (x[val_rows], y_fit[val_rows]) if len(val_rows) else None
    history = net.fit(x[train_rows], y_fit[train_rows], epochs=args.epochs,
                      batch_size=args.batch_size or None, validation_data=validation,
                      verbose=args.verbose, seed=args.seed,
                      callbacks=[stopping] if stopping else None)
    stopped = stopping_line(stopping, args.epochs, net.epochs_trained)

    final = {"training": common.scores(net, record, x[train_rows], y_true[train_rows],
                                       y_network[train_rows])}
    if len(val_rows):
        final["validation"] = common.scores(net, record, x[val_rows], y_true[val_rows],
                                            y_network[val_rows])
    for name, result in final.items():
        print(f"{name:<10} {common.format_scores(result)}")
    if task == "regress":
        print("(loss on the standardised target; mae and rmse in the target's units)")
    print(stopped)

    record["training"] = {
        "data": p["source"], "rows": p["rows"], "training_rows": len(train_rows),
        "validation_rows": len(val_rows), "task_source": p["how"], "hidden": list(p["hidden"]),
        "activation": args.activation, "loss": net.loss.name, "optimizer": net.optimizer.name,
        "learning_rate": net.optimizer.current_learning_rate(), "epochs": net.epochs_trained,
        "max_epochs": args.epochs, "patience": args.patience, "stopping": stopped,
        "dropped_rows": p["dropped"],
        "batch_size": args.batch_size or None, "validation_split": args.validation_split,
        "seed": args.seed,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    record["metrics"] = final
    if parallel and not distributed.is_root():
        return 0
    net.save(args.out, metadata={common.RECORD_KEY: record})
    print(f"model written to {args.out}")
    if args.plot:
        from ...plots import plot_history
        figure = plot_history(history, title=f"{p['source']}: {task} {p['target']!r}")
        write_figure(figure, args.plot, "loss curves")
        print(f"loss curves written to {args.plot}")
    return 0

