"""Figures: loss and metric curves (matplotlib is an optional extra: ``pip install nnscratch[plot]``)."""

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
    plt = pyplot()
    logs = _history_dict(history)
    keys = [k for k in logs if not k.startswith("val_") and k != "lr"]
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
