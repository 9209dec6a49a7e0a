"""Figures: loss and metric curves, confusion matrices.

matplotlib is an optional extra (``pip install 'nnscratch[plot]'``); without it every function
here raises :class:`~nnscratch.errors.MissingDependencyError` saying so.
"""

from .errors import require


def pyplot():
    """matplotlib.pyplot with a file-only backend, or a MissingDependencyError saying how to install it."""
    matplotlib = require("matplotlib", "plot", "drawing figures")
    if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "cairo"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _history_dict(history):
    return history.history if hasattr(history, "history") else dict(history)


def plot_history(history, path=None, title=None, log_scale=None, xlabel="epoch"):
    """Draw each quantity in a History (loss first, then metrics), training beside validation.

    One panel per quantity; ``val_<name>`` is drawn dashed in the same panel as ``<name>``.
    ``log_scale`` (default: on for the loss when it spans more than two decades) sets a log
    y-axis on the loss panel. Saves a PNG to ``path`` when given; returns the figure.
    """
    logs = _history_dict(history)
    keys = [k for k in logs if not k.startswith("val_") and k != "lr"]
    if not keys:
        from .errors import DataError
        raise DataError("plot_history needs a History with at least one recorded quantity (train "
                        "with fit first), got none")
    plt = pyplot()
    keys.sort(key=lambda k: (k != "loss", k))
    fig, axes = plt.subplots(1, len(keys), figsize=(5.2 * len(keys), 3.8), squeeze=False)
    for ax, key in zip(axes[0], keys):
        train = logs[key]
        epochs = range(1, len(train) + 1)
        ax.plot(epochs, train, label=f"training {key}", color="tab:blue")
        if f"val_{key}" in logs:
            ax.plot(epochs, logs[f"val_{key}"], label=f"validation {key}", color="tab:orange",
                    linestyle="--")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(key)
        positive = [v for v in train if v > 0]
        wide = bool(positive) and max(positive) / min(positive) > 100
        if key == "loss" and (log_scale if log_scale is not None else wide) and len(positive) == len(train):
            ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return fig


def plot_confusion_matrix(matrix, class_names=None, path=None, normalize=False, title=None,
                          cmap="Blues"):
    """Draw a confusion matrix (rows: true class, columns: predicted) as a heat map.

    ``matrix`` is what :func:`nnscratch.metrics.confusion_matrix` returns. With
    ``normalize=True`` each row is divided by its total, so the diagonal shows each class's
    recall; the cells are annotated with counts (or fractions) when there are at most 20
    classes. Saves a PNG to ``path`` when given; returns the figure.
    """
    import numpy as np

    from .errors import DataError, ShapeError

    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] == 0:
        raise ShapeError(f"plot_confusion_matrix expects a square (classes, classes) matrix, got "
                         f"shape {matrix.shape}")
    if matrix.dtype.kind not in "biuf" or (matrix < 0).any():
        raise DataError("plot_confusion_matrix expects non-negative counts")
    k = matrix.shape[0]
    names = [str(i) for i in range(k)] if class_names is None else [str(c) for c in class_names]
    if len(names) != k:
        raise ShapeError(f"plot_confusion_matrix got {len(names)} class names for {k} classes")
    shown = matrix.astype(np.float64)
    if normalize:
        totals = shown.sum(axis=1, keepdims=True)
        shown = np.divide(shown, totals, out=np.zeros_like(shown), where=totals > 0)
    plt = pyplot()
    size = min(3.0 + 0.45 * k, 12.0)
    fig, ax = plt.subplots(figsize=(size + 1.0, size))
    image = ax.imshow(shown, cmap=cmap, vmin=0)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04,
                 label="share of the true class" if normalize else "samples")
    ax.set_xticks(range(k), names, rotation=45 if max(map(len, names)) > 3 else 0)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if k <= 20:
        high = shown.max() if shown.size else 0
        for i in range(k):
            for j in range(k):
                text = f"{shown[i, j]:.2f}" if normalize else str(int(matrix[i, j]))
                ax.text(j, i, text, ha="center", va="center", fontsize=8,
                        color="white" if high and shown[i, j] > 0.6 * high else "black")
    ax.set_title(title or ("confusion matrix (rows normalized)" if normalize else "confusion matrix"))
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return fig
