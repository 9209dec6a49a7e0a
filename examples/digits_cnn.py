"""Handwritten digits with a small convolutional network, trained by Adam.

Data: scikit-learn's digits (1,797 images of 8x8 pixels, 16 grey levels, classes 0-9), read as
1-channel images (N, 1, 8, 8), channels first.

1. 25% of the images are held out for the final test, stratified by class and seeded; a
   further stratified share of the rest is kept for validation (early stopping and the
   validation curve);
2. the pixels are scaled from 0..16 to [0, 1];
3. the network: Conv2D 16 3x3 "same" ReLU -> MaxPool 2 -> Conv2D 32 3x3 "same" ReLU ->
   MaxPool 2 -> Flatten -> Dropout -> Dense 10 softmax (8x8 -> 4x4 -> 2x2 x 32 = 128 features),
   cross-entropy fused with the softmax, Adam;
4. EarlyStopping watches the validation loss and puts back the weights of its best epoch;
5. the held-out test set gives the accuracy and the misclassified images.

Run ``python examples/digits_cnn.py --out examples/output``; it prints the test accuracy and
how long each stage took, and writes ``digits_cnn_loss.png`` (loss and accuracy, training
beside validation), ``digits_cnn_mistakes.png`` (the misclassified test images, true and
predicted label) and ``digits_cnn_features.png`` (the first layer's 16 kernels and what each
one sees in a test digit).
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import nnscratch as ns
from nnscratch.plots import plot_history, pyplot

DEFAULT_OUT = Path(__file__).resolve().parent / "output"


def load_split(test_share=0.25, val_share=0.15, seed=0, subset=None):
    """``(x_train, y_train), (x_val, y_val), (x_test, y_test)``: images (N, 1, 8, 8) in [0, 1].

    Both splits are stratified by class and seeded; ``val_share`` is a share of what remains
    after the test images are held out. ``subset`` keeps only that many images (a stratified
    sample, for quick runs) before splitting.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None, :, :]   # 0..16 -> [0, 1], 1 channel
    y = digits.target.astype(np.int64)
    if subset is not None and subset < len(x):
        x, _, y, _ = train_test_split(x, y, train_size=subset, stratify=y, random_state=seed)
    x_rest, x_test, y_rest, y_test = train_test_split(x, y, test_size=test_share, stratify=y,
                                                      random_state=seed)
    x_train, x_val, y_train, y_val = train_test_split(x_rest, y_rest, test_size=val_share,
                                                      stratify=y_rest, random_state=seed)
    return (x_train, y_train), (x_val, y_val), (x_test, y_test)


def build_network(filters=(16, 32), dropout=0.25, learning_rate=2e-3, seed=0):
    """Conv 3x3 "same" + ReLU + max-pool 2 per entry of ``filters``, then dropout and softmax."""
    layers = []
    for count in filters:
        layers += [ns.Conv2D(count, 3, padding="same", activation="relu",
                             kernel_initializer="he_uniform"),
                   ns.MaxPool2D(2)]
    layers.append(ns.Flatten())
    if dropout:
        layers.append(ns.Dropout(dropout))
    layers.append(ns.Dense(10, activation="softmax"))
    return ns.Network(layers, loss="sparse_categorical_crossentropy",
                      optimizer=ns.optimizers.Adam(learning_rate=learning_rate),
                      metrics=["accuracy"], seed=seed, input_shape=(1, 8, 8))


def plot_mistakes(images, true, predicted, path, limit=24):
    """The misclassified test images (up to ``limit``), each titled true -> predicted."""
    plt = pyplot()
    wrong = np.flatnonzero(true != predicted)[:limit]
    cols = 8
    rows = max(1, -(-len(wrong) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.2, rows * 1.45 + 0.6), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), wrong):
        ax.imshow(images[i, 0], cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(f"true {true[i]}, got {predicted[i]}", fontsize=8, color="tab:red")
    total = int(np.sum(true != predicted))
    title = f"CNN: misclassified test digits, {total} of {len(true)}"
    if total == 0:
        title += " (none)"
    elif total > limit:
        title += f", first {limit} shown"
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_features(net, image, label, path):
    """The first convolution's kernels (top rows) and its ReLU feature maps of one image."""
    plt = pyplot()
    conv = net.layers[0]
    kernels = conv.params["W"][:, 0]                          # (16, 3, 3)
    maps = conv.forward(image[None], training=False)[0]       # (16, 8, 8), after ReLU
    count = len(kernels)
    cols = 8
    rows = 2 * (-(-count // cols))
    fig, axes = plt.subplots(rows + 1, cols, figsize=(cols * 1.1, (rows + 1) * 1.2 + 0.4),
                             squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    axes[0, 0].imshow(image[0], cmap="gray_r", vmin=0, vmax=1)
    axes[0, 0].set_title(f"input: {label}", fontsize=8)
    limit = float(np.abs(kernels).max())
    for k in range(count):
        r, c = 1 + 2 * (k // cols), k % cols
        axes[r, c].imshow(kernels[k], cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes[r, c].set_title(f"kernel {k}", fontsize=7)
        axes[r + 1, c].imshow(maps[k], cmap="viridis")
        axes[r + 1, c].set_title(f"map {k}", fontsize=7)
    fig.suptitle("First convolution: 3x3 kernels (red +, blue -) and their ReLU feature maps",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(epochs=60, batch_size=32, filters=(16, 32), dropout=0.25, learning_rate=2e-3,
        patience=12, seed=0, subset=None, out=DEFAULT_OUT, verbose=True):
    """Train, test and draw; returns a dict of the results, the network and the figure paths."""
    start = time.perf_counter()
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = load_split(seed=seed, subset=subset)
    data_seconds = time.perf_counter() - start
    net = build_network(filters, dropout, learning_rate, seed)
    stopper = ns.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                         restore_best_weights=True)
    start = time.perf_counter()
    history = net.fit(x_train, y_train, epochs=epochs, batch_size=batch_size,
                      validation_data=(x_val, y_val), callbacks=[stopper], verbose=0)
    train_seconds = time.perf_counter() - start
    start = time.perf_counter()
    probabilities = net.predict(x_test)
    predict_seconds = time.perf_counter() - start
    predicted = probabilities.argmax(axis=1)
    accuracy = ns.metrics.accuracy(probabilities, y_test)

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    loss_png, mistakes_png, features_png = (out / "digits_cnn_loss.png",
                                            out / "digits_cnn_mistakes.png",
                                            out / "digits_cnn_features.png")
    best = stopper.best_epoch
    plot_history(history, loss_png, title=f"Digits CNN: training and validation (best epoch "
                                          f"{best + 1}, weights restored; test accuracy "
                                          f"{accuracy:.2%})")
    plot_mistakes(x_test, y_test, predicted, mistakes_png)
    plot_features(net, x_test[0], y_test[0], features_png)
    epochs_run = len(history.epoch)
    results = {"accuracy": accuracy, "train_seconds": train_seconds,
               "seconds_per_epoch": train_seconds / epochs_run, "predict_seconds": predict_seconds,
               "data_seconds": data_seconds, "epochs_run": epochs_run, "best_epoch": best,
               "stopped_epoch": stopper.stopped_epoch, "history": history, "network": net,
               "n_train": len(x_train), "n_val": len(x_val), "n_test": len(x_test),
               "mistakes": int(np.sum(predicted != y_test)),
               "figures": [loss_png, mistakes_png, features_png]}
    if verbose:
        net.summary()
        print(f"digits: {len(x_train)} training, {len(x_val)} validation, {len(x_test)} test images")
        stop = ("ran all epochs" if stopper.stopped_epoch is None
                else f"stopped early after epoch {stopper.stopped_epoch + 1}")
        print(f"{epochs_run} epochs ({stop}); best validation loss {stopper.best:.4f} at epoch "
              f"{best + 1}, weights restored")
        print(f"test accuracy {accuracy:.4f} ({results['mistakes']} of {len(y_test)} misclassified)")
        print(f"time: loading data {data_seconds:.2f} s, training {train_seconds:.2f} s "
              f"({1000 * results['seconds_per_epoch']:.0f} ms per epoch), predicting the test set "
              f"{1000 * predict_seconds:.1f} ms")
        print(f"figures written to {loss_png}, {mistakes_png} and {features_png}")
    return results


def main(argv=None):
    """Command line: ``python examples/digits_cnn.py [--epochs N] [--seed S] [--out DIR] ...``."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=60, help="most passes over the training set")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--filters", type=int, nargs="+", default=[16, 32],
                        help="channels of each conv + max-pool stage")
    parser.add_argument("--dropout", type=float, default=0.25, help="dropout rate before the output")
    parser.add_argument("--lr", type=float, default=2e-3, help="Adam learning rate")
    parser.add_argument("--patience", type=int, default=12,
                        help="epochs without a better validation loss before stopping")
    parser.add_argument("--subset", type=int, default=None,
                        help="use only this many images (stratified), for a quick run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="folder for the PNG figures")
    args = parser.parse_args(argv)
    return run(epochs=args.epochs, batch_size=args.batch_size, filters=tuple(args.filters),
               dropout=args.dropout, learning_rate=args.lr, patience=args.patience, seed=args.seed,
               subset=args.subset, out=args.out)


if __name__ == "__main__":
    main(sys.argv[1:])
