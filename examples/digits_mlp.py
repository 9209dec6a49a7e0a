"""Handwritten digits with a two-hidden-layer perceptron, trained by Adam.

Data: scikit-learn's digits (1,797 images of 8x8 pixels, 16 grey levels, classes 0-9).

1. 25% of the images are held out for the final test, stratified by class and seeded; a
   further stratified share of the rest is kept for validation (early stopping and the
   validation curve);
2. the pixels are scaled from 0..16 to [0, 1];
3. a 64-128-64-10 network (ReLU, dropout, softmax) learns with cross-entropy and Adam;
4. EarlyStopping watches the validation loss and puts back the weights of its best epoch;
5. the held-out test set gives the accuracy, the macro F1 score and a confusion matrix.

Run ``python examples/digits_mlp.py --out examples/output``; it prints the test accuracy and
the wall time, and writes ``digits_loss.png`` (loss and accuracy, training beside
validation), ``digits_confusion.png`` and ``digits_mistakes.png`` (the misclassified images).
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import nnscratch as ns
from nnscratch.plots import plot_confusion_matrix, plot_history, pyplot

DEFAULT_OUT = Path(__file__).resolve().parent / "output"


def load_split(test_share=0.25, val_share=0.15, seed=0):
    """``(x_train, y_train), (x_val, y_val), (x_test, y_test)``: pixels in [0, 1], labels 0-9.

    Both splits are stratified by class and seeded; ``val_share`` is a share of what remains
    after the test images are held out.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)        # grey levels 0..16 -> [0, 1]
    y = digits.target.astype(np.int64)
    x_rest, x_test, y_rest, y_test = train_test_split(x, y, test_size=test_share, stratify=y,
                                                      random_state=seed)
    x_train, x_val, y_train, y_val = train_test_split(x_rest, y_rest, test_size=val_share,
                                                      stratify=y_rest, random_state=seed)
    return (x_train, y_train), (x_val, y_val), (x_test, y_test)


def build_network(hidden=(128, 64), dropout=0.1, learning_rate=1e-3, seed=0):
    """``64 - hidden... - 10``: ReLU layers, each followed by dropout, and a softmax output."""
    layers = []
    for units in hidden:
        layers.append(ns.Dense(units, activation="relu", kernel_initializer="he_uniform"))
        if dropout:
            layers.append(ns.Dropout(dropout))
    layers.append(ns.Dense(10, activation="softmax"))
    return ns.Network(layers, loss="sparse_categorical_crossentropy",
                      optimizer=ns.optimizers.Adam(learning_rate=learning_rate),
                      metrics=["accuracy"], seed=seed, input_shape=(64,))


def plot_curves(history, best_epoch, path):
    """Loss and accuracy per epoch, training beside validation, with the restored epoch marked."""
    plt = pyplot()
    fig = plot_history(history, title="Digits MLP: training and validation")
    for ax in fig.axes:
        ax.axvline(best_epoch + 1, color="tab:green", linestyle=":",
                   label=f"best validation loss (epoch {best_epoch + 1}), restored")
        ax.legend(fontsize=8)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_mistakes(images, true, predicted, path, limit=24):
    """The misclassified test images (up to ``limit``), each titled true -> predicted."""
    plt = pyplot()
    wrong = np.flatnonzero(true != predicted)[:limit]
    cols = 8
    rows = max(1, -(-len(wrong) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.2, rows * 1.45 + 0.5), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), wrong):
        ax.imshow(images[i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(f"{true[i]} -> {predicted[i]}", fontsize=9, color="tab:red")
    total = int(np.sum(true != predicted))
    fig.suptitle(f"Misclassified test digits: {total} of {len(true)} (true -> predicted)"
                 + ("" if total <= limit else f", first {limit} shown"), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(epochs=100, batch_size=32, hidden=(128, 64), dropout=0.1, learning_rate=1e-3, patience=10,
        seed=0, out=DEFAULT_OUT, verbose=True):
    """Train, test and draw; returns a dict of the results, the network and the figure paths."""
    start = time.perf_counter()
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = load_split(seed=seed)
    net = build_network(hidden, dropout, learning_rate, seed)
    stopper = ns.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                         restore_best_weights=True)
    history = net.fit(x_train, y_train, epochs=epochs, batch_size=batch_size,
                      validation_data=(x_val, y_val), callbacks=[stopper], verbose=0)
    train_seconds = time.perf_counter() - start
    probabilities = net.predict(x_test)
    predicted = probabilities.argmax(axis=1)
    accuracy = ns.metrics.accuracy(probabilities, y_test)
    f1 = ns.metrics.f1(probabilities, y_test, average="macro")
    matrix = ns.metrics.confusion_matrix(probabilities, y_test)

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    loss_png, confusion_png, mistakes_png = (out / "digits_loss.png", out / "digits_confusion.png",
                                             out / "digits_mistakes.png")
    best = stopper.best_epoch
    plot_curves(history, best, loss_png)
    plot_confusion_matrix(matrix, path=confusion_png,
                          title=f"Digits test set: accuracy {accuracy:.2%} ({len(y_test)} images)")
    plot_mistakes(x_test, y_test, predicted, mistakes_png)
    results = {"accuracy": accuracy, "f1": f1, "confusion_matrix": matrix,
               "train_seconds": train_seconds, "epochs_run": len(history.epoch),
               "best_epoch": best, "stopped_epoch": stopper.stopped_epoch,
               "restored": stopper.restored, "history": history, "network": net,
               "n_train": len(x_train), "n_val": len(x_val), "n_test": len(x_test),
               "figures": [loss_png, confusion_png, mistakes_png]}
    if verbose:
        print(f"digits: {len(x_train)} training, {len(x_val)} validation, {len(x_test)} test images")
        stop = ("ran all epochs" if stopper.stopped_epoch is None
                else f"stopped early after epoch {stopper.stopped_epoch + 1}")
        print(f"{results['epochs_run']} epochs ({stop}); best validation loss "
              f"{stopper.best:.4f} at epoch {best + 1}, weights restored")
        print(f"test accuracy {accuracy:.4f}, macro F1 {f1:.4f}")
        print(f"wall time (data, training): {train_seconds:.2f} s")
        print(f"figures written to {loss_png}, {confusion_png} and {mistakes_png}")
    return results


def main(argv=None):
    """Command line: ``python examples/digits_mlp.py [--epochs N] [--seed S] [--out DIR] ...``."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=100, help="most passes over the training set")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--hidden", type=int, nargs="+", default=[128, 64],
                        help="widths of the hidden layers")
    parser.add_argument("--dropout", type=float, default=0.1, help="dropout rate after each hidden layer")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    parser.add_argument("--patience", type=int, default=10,
                        help="epochs without a better validation loss before stopping")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="folder for the PNG figures")
    args = parser.parse_args(argv)
    return run(epochs=args.epochs, batch_size=args.batch_size, hidden=tuple(args.hidden),
               dropout=args.dropout, learning_rate=args.lr, patience=args.patience, seed=args.seed,
               out=args.out)


if __name__ == "__main__":
    main(sys.argv[1:])
