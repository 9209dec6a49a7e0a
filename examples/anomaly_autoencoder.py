"""Anomaly detection with an autoencoder: learn what "normal" is, flag what it cannot rebuild.

Data: scikit-learn's breast-cancer set (569 samples, 30 features). Benign cases (target 1) are
the normal class, malignant cases (target 0) the anomalies. The autoencoder sees only benign
cases while it trains:

1. a seeded share of the benign cases is held out; the rest is the training set;
2. every feature is standardised with the mean and standard deviation of the training set only;
3. a 30-16-8-16-30 network (tanh hidden layers, linear output, Adam) learns to reproduce its
   input (mean squared error);
4. the anomaly score of a sample is its reconstruction error,

   .. math::  s(x) = \\frac{1}{d} \\sum_{j=1}^{d} (x_j - \\hat x_j)^2 ;

5. on the held-out benign cases and all malignant ones, the ROC-AUC measures how well the score
   ranks anomalies above normal cases, and a threshold at the 95th percentile of the training
   scores turns it into a yes/no decision (precision and recall of "malignant").

Run ``python examples/anomaly_autoencoder.py --out examples/output``; it prints the AUC and
writes ``anomaly_scores.png`` (score histograms with the threshold) and ``anomaly_loss.png``.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from blas_threads import add_argument as add_blas_threads_flag
from blas_threads import blas_threads

import nnscratch as ns
from nnscratch.plots import plot_history, pyplot

DEFAULT_OUT = Path(__file__).resolve().parent / "output"


def roc_auc(y_true, scores):
    """Area under the ROC curve, from ranks (the Mann-Whitney U statistic).

    With :math:`n_1` positives and :math:`n_0` negatives and :math:`R_1` the sum of the
    positives' ranks among all scores (tied scores share their mean rank):

    .. math::

        \\mathrm{AUC} = \\frac{R_1 - n_1 (n_1 + 1) / 2}{n_1 n_0}
        = P(s_{\\text{pos}} > s_{\\text{neg}}) + \\tfrac12 P(s_{\\text{pos}} = s_{\\text{neg}})

    ``y_true`` holds 1 for positives (here: anomalies) and 0 for negatives.
    """
    y_true = np.asarray(y_true)
    scores = np.asarray(scores, dtype=np.float64)
    if y_true.shape != scores.shape or y_true.ndim != 1:
        raise ns.errors.ShapeError(f"roc_auc expects y_true and scores as two vectors of one "
                                   f"length, got shapes {y_true.shape} and {scores.shape}")
    if not np.all(np.isin(y_true, (0, 1))):
        raise ns.errors.DataError("roc_auc expects y_true of 0 (normal) and 1 (anomaly) only")
    if not np.all(np.isfinite(scores)):
        raise ns.errors.DataError("roc_auc expects finite scores")
    positive = y_true == 1
    n1, n0 = int(positive.sum()), int((~positive).sum())
    if n1 == 0 or n0 == 0:
        raise ns.errors.DataError(f"roc_auc needs both classes, got {n1} positives and "
                                  f"{n0} negatives")
    ranks = _mid_ranks(scores)
    return float((ranks[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _mid_ranks(values):
    """Ranks 1..n of ``values``; tied values all get the mean of the ranks they span."""
    order = np.argsort(values, kind="mergesort")
    _, group, counts = np.unique(values[order], return_inverse=True, return_counts=True)
    first = np.cumsum(counts) - counts                # 0-based position of each group's start
    mean_rank = first + (counts + 1) / 2.0            # mean of ranks first+1 .. first+count
    ranks = np.empty(len(values))
    ranks[order] = mean_rank[group]
    return ranks


def precision_recall(y_true, flagged):
    """Precision and recall of the positive class (1) for boolean predictions ``flagged``."""
    y_true = np.asarray(y_true) == 1
    flagged = np.asarray(flagged, dtype=bool)
    true_pos = int(np.sum(flagged & y_true))
    precision = true_pos / max(int(flagged.sum()), 1)
    recall = true_pos / max(int(y_true.sum()), 1)
    return precision, recall


def load_split(test_share=0.3, seed=0):
    """Standardised ``(x_train, x_test, y_test)``: benign cases to train on; held-out benign
    cases and all malignant ones to test on.

    ``y_test`` is 1 for malignant (the anomalies) and 0 for benign.
    """
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    x, benign = data.data, data.target == 1
    normal, anomalies = x[benign], x[~benign]
    order = np.random.default_rng(seed).permutation(len(normal))
    n_test = round(test_share * len(normal))
    train, held_out = normal[order[n_test:]], normal[order[:n_test]]
    mean, std = train.mean(axis=0), train.std(axis=0)      # training statistics only
    std[std == 0] = 1.0
    test = np.concatenate([held_out, anomalies])
    y_test = np.concatenate([np.zeros(len(held_out)), np.ones(len(anomalies))]).astype(np.int64)
    scale = lambda a: ((a - mean) / std).astype(np.float32)  # noqa: E731
    return scale(train), scale(test), y_test


def build_autoencoder(n_features, hidden=16, code=8, learning_rate=1e-3, seed=0):
    """A ``n_features - hidden - code - hidden - n_features`` autoencoder trained on MSE."""
    layers = [ns.Dense(hidden, activation="tanh"), ns.Dense(code, activation="tanh"),
              ns.Dense(hidden, activation="tanh"), ns.Dense(n_features)]
    return ns.Network(layers, loss="mse", optimizer=ns.optimizers.Adam(learning_rate=learning_rate),
                      seed=seed, input_shape=(n_features,))


def reconstruction_error(network, x):
    """The anomaly score: mean squared error between each sample and its reconstruction."""
    return np.mean((network.predict(x) - x) ** 2, axis=1)


def plot_scores(train_scores, test_scores, y_test, threshold, auc, path):
    """Histograms of the held-out scores of both groups on log bins, with the threshold line."""
    plt = pyplot()
    everything = np.concatenate([train_scores, test_scores])
    bins = np.geomspace(everything.min() * 0.9, everything.max() * 1.1, 40)
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    ax.hist(test_scores[y_test == 0], bins=bins, alpha=0.65, color="tab:blue",
            label=f"held-out benign (n={int(np.sum(y_test == 0))})")
    ax.hist(test_scores[y_test == 1], bins=bins, alpha=0.65, color="tab:red",
            label=f"malignant (n={int(np.sum(y_test == 1))})")
    ax.axvline(threshold, color="black", linestyle="--",
               label=f"threshold: 95th percentile of training scores ({threshold:.3g})")
    ax.set_xscale("log")
    ax.set_ylim(top=ax.get_ylim()[1] * 1.3)           # room for the legend above the bars
    ax.set_xlabel("anomaly score = reconstruction error (MSE per sample, standardised units)")
    ax.set_ylabel("samples")
    ax.set_title(f"Autoencoder trained on benign cases only: ROC-AUC {auc:.3f} on held-out data")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(epochs=100, batch_size=32, hidden=16, code=8, learning_rate=1e-3, test_share=0.3, seed=0,
        out=DEFAULT_OUT, verbose=True):
    """Train, score and draw; returns a dict of the results and the figure paths."""
    x_train, x_test, y_test = load_split(test_share, seed)
    net = build_autoencoder(x_train.shape[1], hidden, code, learning_rate, seed)
    held_out_normal = x_test[y_test == 0]
    history = net.fit(x_train, x_train, epochs=epochs, batch_size=batch_size, verbose=0,
                      validation_data=(held_out_normal, held_out_normal))
    train_scores = reconstruction_error(net, x_train)
    test_scores = reconstruction_error(net, x_test)
    auc = roc_auc(y_test, test_scores)
    threshold = float(np.percentile(train_scores, 95))
    precision, recall = precision_recall(y_test, test_scores > threshold)

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    scores_png, loss_png = out / "anomaly_scores.png", out / "anomaly_loss.png"
    plot_scores(train_scores, test_scores, y_test, threshold, auc, scores_png)
    plot_history(history, loss_png, title="Autoencoder loss (validation: held-out benign cases)",
                 log_scale=True)
    results = {"auc": auc, "threshold": threshold, "precision": precision, "recall": recall,
               "n_train": len(x_train), "n_test_normal": int(np.sum(y_test == 0)),
               "n_test_anomalies": int(np.sum(y_test == 1)),
               "final_loss": history.history["loss"][-1], "test_scores": test_scores,
               "y_test": y_test, "figures": [scores_png, loss_png]}
    if verbose:
        print(f"trained on {results['n_train']} benign cases; held out "
              f"{results['n_test_normal']} benign + {results['n_test_anomalies']} malignant")
        print(f"final training loss {results['final_loss']:.4f}")
        print(f"ROC-AUC (held-out data): {auc:.4f}")
        print(f"threshold (95th percentile of training scores) {threshold:.4f}: "
              f"precision {precision:.3f}, recall {recall:.3f}")
        print(f"figures written to {scores_png} and {loss_png}")
    return results


def main(argv=None):
    """Command line: ``python examples/anomaly_autoencoder.py [--epochs N] [--out DIR] ...``."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=100, help="passes over the training set")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=16, help="width of the outer hidden layers")
    parser.add_argument("--code", type=int, default=8, help="width of the bottleneck")
    parser.add_argument("--lr", type=float, default=1e-3, help="learning rate")
    parser.add_argument("--test-share", type=float, default=0.3,
                        help="share of the benign cases held out for testing")
    parser.add_argument("--seed", type=int, default=0)
    add_blas_threads_flag(parser)
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="folder for the PNG figures")
    args = parser.parse_args(argv)
    for flag in ("epochs", "batch_size", "hidden", "code"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} must be a positive integer, "
                         f"got {getattr(args, flag)}")
    if not 0 < args.test_share < 1:
        parser.error(f"--test-share must be a fraction in (0, 1), got {args.test_share}")
    if not args.lr > 0:
        parser.error(f"--lr must be > 0, got {args.lr}")
    with blas_threads(args.blas_threads):
        return run(epochs=args.epochs, batch_size=args.batch_size, hidden=args.hidden,
                   code=args.code, learning_rate=args.lr, test_share=args.test_share,
                   seed=args.seed, out=args.out)


if __name__ == "__main__":
    main(sys.argv[1:])
