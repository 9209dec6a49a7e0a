"""Classifying a table through the command line: train, evaluate and predict on CSV files.

Data: a table that scikit-learn ships, written to CSV files with its own column names and its
class names as labels:

- ``wine`` (default): 178 wines from three cultivars (``class_0``, ``class_1``, ``class_2``),
  13 chemical measurements each (alcohol, malic acid, ..., proline);
- ``breast_cancer``: 569 tumours, ``malignant`` or ``benign``, 30 measurements each.

The script plays the user of ``nnscratch`` at a shell:

1. a seeded, class-stratified quarter of the rows is held out and both parts are written as
   CSV files (``<name>_train.csv``, ``<name>_holdout.csv``);
2. ``nnscratch train <name>_train.csv --target <label column> ...`` trains a network (features
   standardised with the training rows' statistics, softmax cross-entropy) and saves it with
   its loss curves;
3. ``nnscratch evaluate`` scores the saved model on the held-out CSV;
4. ``nnscratch predict --out <name>_predictions.csv`` writes a label and one probability per
   class for every held-out row;
5. the confusion matrix is counted from that predictions file against the held-out labels and
   drawn (``<name>_confusion.png``): rows are the true classes, columns the predictions.

Run ``python examples/classify_wine.py --out examples/output`` (or ``--dataset
breast_cancer``); every command it runs is printed, so each step can be repeated by hand.
"""

import argparse
import csv
import shlex
import sys
from pathlib import Path

import numpy as np

from nnscratch import cli
from nnscratch.cli.preprocessing import split_indices
from nnscratch.plots import pyplot

DEFAULT_OUT = Path(__file__).resolve().parent / "output"
DATASETS = {"wine": "cultivar", "breast_cancer": "diagnosis"}


def load_table(dataset):
    """``(feature names, features (N, F), labels (N,) as text, label column name)``."""
    from sklearn import datasets
    if dataset not in DATASETS:
        raise SystemExit(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
    bunch = getattr(datasets, f"load_{dataset}")()
    labels = np.asarray(bunch.target_names)[bunch.target]
    return list(bunch.feature_names), bunch.data, labels, DATASETS[dataset]


def write_csv(path, header, rows):
    """Write a header and rows with Python's csv module."""
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def write_split(dataset, folder, holdout_share=0.25, seed=0):
    """Write the training and held-out CSV files; returns their paths and the label column."""
    names, x, labels, target = load_table(dataset)
    _classes, codes = np.unique(labels, return_inverse=True)
    train_rows, holdout_rows = split_indices(len(x), holdout_share, seed, codes)
    paths = {}
    for part, rows in (("train", train_rows), ("holdout", holdout_rows)):
        paths[part] = folder / f"{dataset}_{part}.csv"
        write_csv(paths[part], names + [target],
                  [[repr(float(v)) for v in x[i]] + [labels[i]] for i in rows])
    return paths, target


def run_command(argv):
    """Run ``nnscratch <argv>`` in this process, echoing it as a shell command first."""
    print(f"\n$ nnscratch {shlex.join(str(a) for a in argv)}", flush=True)
    code = cli.main([str(a) for a in argv])
    if code != 0:
        raise SystemExit(f"nnscratch {argv[0]} failed with exit status {code}")


def read_column(path, name):
    """One column of a CSV file, as text."""
    with open(path, newline="") as handle:
        return [row[name] for row in csv.DictReader(handle)]


def confusion_counts(true_labels, predicted_labels, classes):
    """``M[i, j]`` = rows of true class ``classes[i]`` predicted as ``classes[j]``."""
    index = {label: k for k, label in enumerate(classes)}
    matrix = np.zeros((len(classes), len(classes)), dtype=np.int64)
    np.add.at(matrix, ([index[t] for t in true_labels], [index[p] for p in predicted_labels]), 1)
    return matrix


def plot_confusion(matrix, classes, path, title):
    """Counts in each cell, shaded by the share of the true class's rows."""
    plt = pyplot()
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    size = 1.3 + 1.1 * len(classes)
    fig, ax = plt.subplots(figsize=(size + 1.2, size))
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=13,
                    color="white" if shares[i, j] > 0.6 else "black")
    ax.set_xticks(range(len(classes)), classes)
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the true class")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def parse_args(argv):
    """The example's options (``--help`` lists them)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="wine",
                        help="the scikit-learn table to classify (default: wine)")
    parser.add_argument("--epochs", type=int, default=60, help="training epochs (default: 60)")
    parser.add_argument("--hidden", default="32,16", help="hidden widths (default: 32,16)")
    parser.add_argument("--lr", type=float, default=0.003,
                        help="Adam learning rate (default: 0.003)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the split and the network")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="folder for the CSV files, the model and the figures")
    return parser.parse_args(argv)


def main(argv=None):
    """Run the whole pipeline; returns a dict of results (accuracy, matrix, paths)."""
    args = parse_args(argv)
    folder = args.out
    folder.mkdir(parents=True, exist_ok=True)
    paths, target = write_split(args.dataset, folder, seed=args.seed)
    model = folder / f"{args.dataset}.nns"
    predictions = folder / f"{args.dataset}_predictions.csv"
    curves = folder / f"{args.dataset}_loss.png"
    figure = folder / f"{args.dataset}_confusion.png"

    run_command(["train", paths["train"], "--target", target, "--hidden", args.hidden,
                 "--epochs", args.epochs, "--lr", args.lr, "--seed", args.seed,
                 "--out", model, "--plot", curves, "--verbose", 0])
    run_command(["evaluate", model, paths["holdout"]])
    run_command(["predict", model, paths["holdout"], "--out", predictions])

    truth = read_column(paths["holdout"], target)
    predicted = read_column(predictions, target)
    classes = sorted(set(truth) | set(predicted))
    matrix = confusion_counts(truth, predicted, classes)
    accuracy = float(np.trace(matrix) / matrix.sum())
    plot_confusion(matrix, classes, figure,
                   f"{args.dataset}: {len(truth)} held-out rows, accuracy {accuracy:.3f}")
    print(f"\nheld-out accuracy from {predictions.name}: {accuracy:.4f} "
          f"({int(np.trace(matrix))} of {len(truth)} rows)")
    print(f"confusion matrix (rows: true {', '.join(classes)}; columns: predicted):\n{matrix}")
    print(f"figures: {curves}, {figure}")
    return {"accuracy": accuracy, "matrix": matrix, "classes": classes, "truth": truth,
            "predicted": predicted, "paths": {**paths, "model": model,
                                              "predictions": predictions},
            "figures": [curves, figure]}


if __name__ == "__main__":
    main(sys.argv[1:])
