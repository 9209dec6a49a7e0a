import numpy as np
import pytest
from sklearn import metrics as skm

import nnscratch as ns
from nnscratch import metrics
from nnscratch.errors import ConfigError, DataError, DataTypeError, ShapeError


def softmax_outputs(rng, n=40, classes=4):
    scores = rng.standard_normal((n, classes))
    return np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)


def loop_confusion(pred, true, k):
    m = np.zeros((k, k), dtype=np.int64)
    for p, t in zip(pred, true):
        m[t, p] += 1
    return m


def test_accuracy_from_one_hot_sparse_and_single_output(rng):
    p = softmax_outputs(rng)
    labels = rng.integers(0, 4, 40)
    expected = np.mean(p.argmax(axis=1) == labels)
    assert metrics.accuracy(p, labels) == expected
    assert metrics.accuracy(p, ns.data.one_hot(labels, 4)) == expected
    assert metrics.accuracy(p, labels[:, None]) == expected
    prob = rng.uniform(0, 1, (30, 1))
    y = rng.integers(0, 2, 30)
    assert metrics.accuracy(prob, y) == np.mean((prob[:, 0] > 0.5) == y)
    assert metrics.accuracy(labels, labels) == 1.0               # integer labels as predictions


def test_binary_accuracy_threshold_and_multi_label(rng):
    p = rng.uniform(0, 1, (25, 3))
    y = rng.integers(0, 2, (25, 3))
    assert metrics.binary_accuracy(p, y) == np.mean((p > 0.5) == y)
    assert metrics.binary_accuracy(p, y, threshold=0.8) == np.mean((p > 0.8) == y)
    assert metrics.binary_accuracy(p, y, threshold=0.8) != metrics.binary_accuracy(p, y)
    assert metrics.get({"name": "binary_accuracy", "threshold": 0.8})(p, y) == np.mean((p > 0.8) == y)


@pytest.mark.parametrize("k", [1, 2, 4])
def test_top_k_accuracy_matches_a_loop_and_scikit_learn(k, rng):
    p = softmax_outputs(rng, n=50, classes=5)
    labels = rng.integers(0, 5, 50)
    hits = 0
    for row, label in zip(p, labels):
        best = sorted(range(5), key=lambda j: -row[j])[:k]
        hits += label in best
    assert metrics.top_k_accuracy(p, labels, k=k) == hits / 50
    assert metrics.top_k_accuracy(p, ns.data.one_hot(labels, 5), k=k) == hits / 50   # one-hot too
    assert metrics.top_k_accuracy(p, labels, k=k) == pytest.approx(
        skm.top_k_accuracy_score(labels, p, k=k, labels=range(5)))
    if k == 1:
        assert metrics.top_k_accuracy(p, labels, k=1) == metrics.accuracy(p, labels)
    assert metrics.top_k_accuracy(p, labels, k=5) == 1.0 == metrics.top_k_accuracy(p, labels, k=9)


def test_sparse_top_k_alias_and_config():
    metric = metrics.get({"name": "sparse_top_k_categorical_accuracy", "k": 2})
    assert isinstance(metric, metrics.TopKAccuracy) and metric.k == 2
    assert metric.get_config() == {"name": "top_k_accuracy", "k": 2}


def test_confusion_matrix_matches_a_loop_and_scikit_learn(rng):
    p = softmax_outputs(rng, n=60, classes=4)
    labels = rng.integers(0, 4, 60)
    m = metrics.confusion_matrix(p, labels)
    np.testing.assert_array_equal(m, loop_confusion(p.argmax(axis=1), labels, 4))
    np.testing.assert_array_equal(m, skm.confusion_matrix(labels, p.argmax(axis=1), labels=range(4)))
    assert m.dtype == np.int64 and m.sum() == 60
    np.testing.assert_array_equal(metrics.confusion_matrix(p, ns.data.one_hot(labels, 4)), m)
    # a class nobody predicts still gets its row and column
    assert metrics.confusion_matrix(np.array([0, 0, 1]), np.array([0, 1, 1]), num_classes=3).shape == (3, 3)


def test_confusion_matrix_binary_from_one_output(rng):
    prob = rng.uniform(0, 1, (40, 1))
    y = rng.integers(0, 2, 40)
    np.testing.assert_array_equal(metrics.confusion_matrix(prob, y),
                                  skm.confusion_matrix(y, (prob[:, 0] > 0.5).astype(int), labels=[0, 1]))


@pytest.mark.parametrize("average", ["macro", "micro"])
@pytest.mark.parametrize("name, sk", [("precision", skm.precision_score), ("recall", skm.recall_score),
                                      ("f1", skm.f1_score)])
def test_precision_recall_f1_match_scikit_learn(name, sk, average, rng):
    p = softmax_outputs(rng, n=80, classes=4)
    labels = rng.integers(0, 4, 80)
    got = getattr(metrics, name)(p, labels, average=average)
    expected = sk(labels, p.argmax(axis=1), average=average, zero_division=0)
    assert got == pytest.approx(expected, abs=1e-12)
    assert metrics.get({"name": name, "average": average})(p, ns.data.one_hot(labels, 4)) == pytest.approx(got)


@pytest.mark.parametrize("name, sk", [("precision", skm.precision_score), ("recall", skm.recall_score),
                                      ("f1", skm.f1_score)])
def test_single_output_is_binary_whatever_the_average(name, sk, rng):
    prob = rng.uniform(0, 1, (50, 1))
    y = rng.integers(0, 2, 50)
    expected = sk(y, (prob[:, 0] > 0.5).astype(int), zero_division=0)
    for average in ("macro", "micro"):
        assert getattr(metrics, name)(prob, y, average=average) == pytest.approx(expected, abs=1e-12)


def test_precision_of_a_never_predicted_class_is_zero_without_warnings(no_warnings):
    p = np.array([[0.9, 0.1, 0.0], [0.8, 0.2, 0.0], [0.1, 0.9, 0.0]])
    y = np.array([0, 2, 1])
    # class 2 is never predicted: precision 0, recall 0 for it
    assert metrics.precision(p, y) == pytest.approx((0.5 + 1.0 + 0.0) / 3)
    assert metrics.recall(p, y) == pytest.approx((1.0 + 1.0 + 0.0) / 3)
    # micro f1 of single-label data is the accuracy
    assert metrics.f1(p, y, average="micro") == pytest.approx(2 / 3)


def test_absent_classes_are_left_out_of_the_macro_mean():
    p = np.eye(4)[[0, 1, 1]]
    y = np.array([0, 1, 1])
    assert metrics.precision(p, y) == 1.0 and metrics.f1(p, y) == 1.0


def test_regression_metrics_match_scikit_learn(rng):
    y = rng.standard_normal((30, 2))
    p = y + 0.3 * rng.standard_normal((30, 2))
    assert metrics.mae(p, y) == pytest.approx(skm.mean_absolute_error(y, p))
    assert metrics.mse(p, y) == pytest.approx(skm.mean_squared_error(y, p))
    assert metrics.rmse(p, y) == pytest.approx(np.sqrt(skm.mean_squared_error(y, p)))
    assert metrics.r2(p, y) == pytest.approx(skm.r2_score(y, p))
    assert metrics.r2(p[:, :1], y[:, 0]) == pytest.approx(skm.r2_score(y[:, 0], p[:, 0]))
    assert metrics.r2(y, y) == 1.0


def test_r2_of_a_constant_target(no_warnings):
    y = np.full(5, 2.0)
    assert metrics.r2(y, y) == 1.0
    assert metrics.r2(y + 1, y) == 0.0


def test_regression_metrics_keep_float32_inputs_warning_free(rng, no_warnings):
    y = rng.standard_normal((10, 1)).astype(np.float32)
    for name in ("mae", "mse", "rmse", "r2"):
        assert isinstance(getattr(metrics, name)(y * 0.5, y), float)


def test_registry_names_aliases_and_direction():
    assert {"accuracy", "binary_accuracy", "top_k_accuracy", "precision", "recall", "f1",
            "mae", "mse", "rmse", "r2"} <= set(metrics.names())
    assert isinstance(metrics.get("acc"), metrics.Accuracy)
    assert isinstance(metrics.get("root_mean_squared_error"), metrics.RootMeanSquaredError)
    assert metrics.get("F1").get_config() == {"name": "f1", "average": "macro", "threshold": 0.5}
    assert metrics.greater_is_better("val_accuracy") and metrics.greater_is_better("r2")
    assert not metrics.greater_is_better("val_loss") and not metrics.greater_is_better("mse")


def test_network_reports_the_new_metrics(rng):
    x = rng.standard_normal((30, 3))
    labels = (x[:, 0] > 0).astype(int)
    net = ns.Network([ns.Dense(2, activation="softmax")], loss="sparse_categorical_crossentropy",
                     metrics=["accuracy", "f1", {"name": "top_k_accuracy", "k": 1}], seed=0)
    history = net.fit(x, labels, epochs=2, verbose=0, validation_data=(x, labels))
    for key in ("accuracy", "f1", "top_k_accuracy", "val_f1"):
        assert len(history.history[key]) == 2
    result = net.evaluate(x, labels)
    assert result["top_k_accuracy"] == result["accuracy"]


@pytest.mark.parametrize("call, error, message", [
    (lambda: metrics.accuracy(np.ones((3, 2)), np.ones(4)), ShapeError, "same number of samples, got 3 and 4"),
    (lambda: metrics.accuracy(np.ones((0, 2)), np.ones(0)), DataError, "at least one sample"),
    (lambda: metrics.accuracy(np.array(["a", "b"]), np.ones(2)), DataTypeError, "numeric y_pred"),
    (lambda: metrics.accuracy(np.ones((2, 3)), np.ones((2, 4))), ShapeError, "one-hot y_true with 3 columns"),
    (lambda: metrics.mse(np.ones((3, 2)), np.ones((3, 3))), ShapeError, r"shaped like y_pred \(3, 2\)"),
    (lambda: metrics.top_k_accuracy(np.ones((3, 1)), np.ones(3)), ShapeError, "2 or more classes"),
    (lambda: metrics.top_k_accuracy(np.ones((3, 2)), np.array([0, 1, 2])), DataError, r"labels in \[0, 2\)"),
    (lambda: metrics.top_k_accuracy(np.ones((3, 2)), np.ones(3), k=0), ConfigError, "positive integer, got 0"),
    (lambda: metrics.f1(np.ones((3, 2)), np.ones(3), average="weighted"), ConfigError, "average must be one of"),
    (lambda: metrics.confusion_matrix(np.ones((3, 2)), np.array([0, 1, 5])), DataError, r"labels in \[0, 2\)"),
    (lambda: metrics.confusion_matrix(np.ones((3, 2)), np.ones(3), num_classes=0), ConfigError, "num_classes"),
    (lambda: metrics.binary_accuracy(np.ones(3), np.ones(3), threshold="x"), ConfigError, "threshold"),
    (lambda: metrics.get("auc"), ConfigError, "unknown metric 'auc'; known metric names: accuracy"),
    (lambda: metrics.get({"name": "f1", "k": 3}), ConfigError,
     "metric 'f1' takes average, threshold; got unexpected 'k'"),
])
def test_bad_input_gets_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()
