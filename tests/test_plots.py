import sys

import numpy as np
import pytest

import nnscratch as ns
from nnscratch import plots
from nnscratch.errors import DataError, MissingDependencyError, ShapeError

pytest.importorskip("matplotlib")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    import matplotlib.pyplot as plt
    plt.close("all")


def trained_history(rng, epochs=4):
    x = rng.standard_normal((40, 3))
    labels = (x[:, 0] + x[:, 1] > 0).astype(int)
    net = ns.Network([ns.Dense(4, activation="tanh"), ns.Dense(2, activation="softmax")],
                     loss="sparse_categorical_crossentropy", metrics=["accuracy"], seed=0,
                     optimizer=ns.optimizers.SGD(learning_rate=0.5))
    return net.fit(x, labels, epochs=epochs, batch_size=10, validation_split=0.25, verbose=0)


def test_history_plot_draws_training_beside_validation(rng, tmp_path):
    history = trained_history(rng)
    path = tmp_path / "history.png"
    fig = history.plot(path)
    assert path.stat().st_size > 1000 and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_ylabel() == "loss" and acc_ax.get_ylabel() == "accuracy"
    labels = [line.get_label() for line in loss_ax.get_lines()]
    assert labels == ["training loss", "validation loss"]
    np.testing.assert_allclose(loss_ax.get_lines()[0].get_ydata(), history.history["loss"])
    np.testing.assert_allclose(loss_ax.get_lines()[1].get_ydata(), history.history["val_loss"])
    np.testing.assert_array_equal(acc_ax.get_lines()[0].get_xdata(), [1, 2, 3, 4])


def test_history_plot_leaves_out_the_learning_rate(rng):
    history = {"loss": [1.0, 0.5], "lr": [0.1, 0.05]}
    fig = plots.plot_history(history)
    assert len(fig.axes) == 1


def test_empty_history_gets_a_clear_error():
    with pytest.raises(DataError, match="at least one recorded quantity"):
        ns.History().plot()


def test_confusion_matrix_figure(rng, tmp_path):
    matrix = ns.metrics.confusion_matrix(rng.uniform(size=(60, 3)), rng.integers(0, 3, 60))
    path = tmp_path / "cm.png"
    fig = plots.plot_confusion_matrix(matrix, class_names=["a", "b", "c"], path=path, normalize=True)
    assert path.stat().st_size > 1000
    ax = fig.axes[0]
    image = ax.get_images()[0].get_array()
    np.testing.assert_allclose(np.asarray(image).sum(axis=1), 1.0)           # rows normalized
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 9 and texts[0] == f"{matrix[0, 0] / matrix[0].sum():.2f}"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    counts = plots.plot_confusion_matrix(matrix)
    assert counts.axes[0].texts[4].get_text() == str(matrix[1, 1])


@pytest.mark.parametrize("matrix, names, error, message", [
    (np.ones((2, 3)), None, ShapeError, r"square \(classes, classes\) matrix, got shape \(2, 3\)"),
    (-np.ones((2, 2)), None, DataError, "non-negative counts"),
    (np.ones((2, 2)), ["a"], ShapeError, "1 class names for 2 classes"),
])
def test_confusion_matrix_figure_rejects_bad_input(matrix, names, error, message):
    with pytest.raises(error, match=message):
        plots.plot_confusion_matrix(matrix, class_names=names)


def test_without_matplotlib_the_error_says_how_to_install_it(rng, monkeypatch):
    history = trained_history(rng, epochs=1)
    monkeypatch.setitem(sys.modules, "matplotlib", None)        # as if it were not installed
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'nnscratch\[plot\]'"):
        history.plot("never-written.png")
    with pytest.raises(MissingDependencyError, match="matplotlib"):
        plots.plot_confusion_matrix(np.eye(2, dtype=int))
