"""ROC AUC and average precision (nnscratch.metrics.ranking) against scikit-learn's, on random
scores with many ties, with and without sample weights; and as metrics of a model."""

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.errors import ConfigError, DataError, DataTypeError, ShapeError
from nnscratch.metrics import average_precision, roc_auc

skm = pytest.importorskip("sklearn.metrics")
label_binarize = pytest.importorskip("sklearn.preprocessing").label_binarize

EXACT = dict(rtol=1e-12, atol=1e-12)


def random_case(rng, n, classes=2, decimals=1):
    """Labels of every class, scores rounded to ``decimals`` (so many tie), weights."""
    y = rng.permutation(np.arange(n) % classes)
    scores = np.round(rng.random((n, classes)), decimals)
    return y, scores, rng.random(n) * 3


@pytest.mark.parametrize("seed", range(20))
def test_binary_scores_equal_scikit_learn_ties_and_weights_included(seed):
    rng = np.random.default_rng(seed)
    y, scores, w = random_case(rng, int(rng.integers(2, 60)), decimals=int(rng.integers(1, 3)))
    s = scores[:, 0]
    np.testing.assert_allclose(roc_auc(s, y), skm.roc_auc_score(y, s), **EXACT)
    np.testing.assert_allclose(roc_auc(s, y, sample_weight=w),
                               skm.roc_auc_score(y, s, sample_weight=w), **EXACT)
    np.testing.assert_allclose(average_precision(s, y), skm.average_precision_score(y, s), **EXACT)
    np.testing.assert_allclose(average_precision(s.reshape(-1, 1), y.reshape(-1, 1).astype(float),
                                                 sample_weight=w),
                               skm.average_precision_score(y, s, sample_weight=w), **EXACT)


def test_every_score_tied_is_half_and_a_perfect_order_is_one():
    y = np.array([0, 1, 0, 1])
    assert roc_auc(np.full(4, 0.3), y) == 0.5 == skm.roc_auc_score(y, np.full(4, 0.3))
    assert average_precision(np.full(4, 0.3), y) == 0.5
    assert roc_auc(np.array([0.1, 0.9, 0.2, 0.8]), y) == 1.0
    assert average_precision(np.array([0.1, 0.9, 0.2, 0.8]), y) == 1.0


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("average", ["macro", "micro"])
def test_several_classes_one_against_the_rest(seed, average):
    rng = np.random.default_rng(seed)
    classes = int(rng.integers(3, 6))
    y, scores, w = random_case(rng, int(rng.integers(classes * 2, 80)), classes)
    proba = scores / scores.sum(axis=1, keepdims=True).clip(1e-12)
    proba = np.where(scores.sum(axis=1, keepdims=True) == 0, 1.0 / classes, proba)
    onehot = label_binarize(y, classes=np.arange(classes))
    for weights in (None, w):
        np.testing.assert_allclose(roc_auc(proba, y, average, weights),
                                   skm.roc_auc_score(onehot, proba, average=average,
                                                     sample_weight=weights), **EXACT)
        np.testing.assert_allclose(average_precision(proba, onehot, average, weights),
                                   skm.average_precision_score(onehot, proba, average=average,
                                                               sample_weight=weights), **EXACT)
    if average == "macro":                     # scikit-learn's multiclass form reads labels
        np.testing.assert_allclose(roc_auc(proba, y),
                                   skm.roc_auc_score(y, proba, multi_class="ovr"), **EXACT)


def test_multilabel_columns_are_averaged():
    rng = np.random.default_rng(3)
    targets = (rng.random((40, 3)) > 0.5).astype(float)
    scores = np.round(rng.random((40, 3)), 1)
    np.testing.assert_allclose(roc_auc(scores, targets), skm.roc_auc_score(targets, scores), **EXACT)
    np.testing.assert_allclose(average_precision(scores, targets, "micro"),
                               skm.average_precision_score(targets, scores, average="micro"),
                               **EXACT)


def test_undefined_cases_as_scikit_learn_and_bad_input():
    assert np.isnan(roc_auc(np.array([0.2, 0.4]), np.array([1, 1])))
    assert average_precision(np.array([0.2, 0.4]), np.array([0, 0])) == 0.0
    with pytest.raises(ShapeError, match="roc_auc"):
        roc_auc(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(DataError, match=r"labels in \[0, 2\)"):
        roc_auc(np.zeros((3, 2)), np.array([0, 1, 2]))
    with pytest.raises(ShapeError, match="sample_weight"):
        roc_auc(np.zeros(3), np.array([0, 1, 1]), sample_weight=[1.0])
    with pytest.raises(DataTypeError, match="sample_weight must hold numbers"):
        roc_auc(np.zeros(3), np.array([0, 1, 1]), sample_weight=["a", "b", "c"])
    with pytest.raises(DataError, match="sample_weight must be finite"):
        average_precision(np.zeros(3), np.array([0, 1, 1]), sample_weight=[1.0, np.nan, 1.0])
    with pytest.raises(ConfigError, match="average"):
        ns.metrics.get({"name": "roc_auc", "average": "weighted"})


def test_as_metrics_of_a_model_they_match_scikit_learn_on_its_outputs():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] + rng.normal(size=120) > 0).astype(int)
    net = ns.Network([ns.Dense(8, activation="tanh"), ns.Dense(1, activation="sigmoid")],
                     loss="binary_crossentropy", optimizer="adam", seed=0, dtype="float64",
                     metrics=["roc_auc", "average_precision_score"])
    history = net.fit(X[:80], y[:80], epochs=3, verbose=0, validation_data=(X[80:], y[80:]))
    assert {"roc_auc", "average_precision", "val_roc_auc", "val_average_precision"} <= set(
        history.history)
    p = net.predict(X[80:])[:, 0]
    np.testing.assert_allclose(history.history["val_roc_auc"][-1], skm.roc_auc_score(y[80:], p),
                               **EXACT)
    scores = net.evaluate(X, y)
    np.testing.assert_allclose(scores["average_precision"],
                               skm.average_precision_score(y, net.predict(X)[:, 0]), **EXACT)
    assert ns.metrics.greater_is_better("val_roc_auc")
    assert ns.metrics.get("roc_auc_score").name == "roc_auc"


def test_sparse_labels_of_a_softmax_output_and_a_saved_config(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(90, 3))
    y = np.digitize(X[:, 0], [-0.4, 0.4])
    net = ns.Network([ns.Dense(3, activation="softmax")], loss="sparse_categorical_crossentropy",
                     optimizer="adam", seed=0, dtype="float64",
                     metrics=[{"name": "roc_auc", "average": "micro"}])
    net.fit(X, y, epochs=2, verbose=0)
    expected = skm.roc_auc_score(label_binarize(y, classes=[0, 1, 2]), net.predict(X),
                                 average="micro")
    np.testing.assert_allclose(net.evaluate(X, y)["roc_auc"], expected, **EXACT)
    net.save(tmp_path / "m.nns")
    assert ns.load(tmp_path / "m.nns").metrics[0].average == "micro"
