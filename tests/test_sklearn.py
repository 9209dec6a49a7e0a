"""The scikit-learn estimators (nnscratch.sklearn): scikit-learn's own estimator checks, and
the tools a scikit-learn user reaches for (Pipeline, cross_val_score, GridSearchCV, clone,
pickle), with labels of any type, warm_start and partial_fit."""

import pickle
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn", minversion="1.6")

from sklearn.base import clone
from sklearn.datasets import load_iris, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import nnscratch as ns
from nnscratch.sklearn import NNClassifier, NNRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# Small networks and a larger step, so that the ~130 checks run in a few seconds; the defaults
# pass the same checks (test_estimator_checks_with_the_defaults, under -m long).
FAST = dict(hidden_layer_sizes=(16,), max_iter=100, learning_rate=0.01)


def expected_failures(estimator):
    """The checks an estimator is known to fail, each with its reason."""
    if estimator.get_params().get("early_stopping"):
        return {"check_sample_weight_equivalence_on_dense_data":
                "early stopping holds out a random validation_fraction of the rows: a sample "
                "given twice and a sample of weight 2 fall into different splits, so the "
                "networks see different training data"}
    return {}


@parametrize_with_checks([NNClassifier(**FAST), NNRegressor(**FAST),
                          NNClassifier(**FAST, early_stopping=True, dtype="float32")],
                         expected_failed_checks=expected_failures)
def test_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.long
@parametrize_with_checks([NNClassifier(), NNRegressor()], expected_failed_checks=expected_failures)
def test_estimator_checks_with_the_defaults(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return X, np.array(["setosa", "versicolor", "virginica"])[y]


def test_pipeline_with_text_labels(iris):
    X, y = iris
    model = make_pipeline(StandardScaler(), NNClassifier(hidden_layer_sizes=(16,), random_state=0,
                                                         learning_rate=0.01))
    assert model.fit(X, y) is model
    assert model.score(X, y) > 0.9
    assert set(model.predict(X)) <= {"setosa", "versicolor", "virginica"}
    classifier = model[-1]
    assert list(classifier.classes_) == ["setosa", "versicolor", "virginica"]
    proba = model.predict_proba(X[:5])
    assert proba.shape == (5, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert classifier.n_features_in_ == 4
    assert isinstance(classifier.network_, ns.Network)
    assert classifier.n_iter_ == len(classifier.loss_curve_) > 0


def small_pipeline():
    return make_pipeline(StandardScaler(), NNClassifier(hidden_layer_sizes=(8,), max_iter=100,
                                                        learning_rate=0.02, random_state=0))


def test_cross_val_score(iris):
    X, y = iris
    scores = cross_val_score(small_pipeline(), X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.8
    with pytest.raises(ValueError, match="Unknown label type"):
        NNClassifier().fit(X, X[:, 0])                         # real numbers are no classes


@pytest.mark.parametrize("n_jobs", [1, pytest.param(2, marks=pytest.mark.long)])
def test_grid_search(iris, n_jobs):
    """n_jobs=2 runs the fits in two worker processes (the estimators travel pickled); it
    takes ~5 s of process start-up, so it is in the long suite."""
    X, y = iris
    search = GridSearchCV(small_pipeline(), {"nnclassifier__hidden_layer_sizes": [(4,), (8, 8)]},
                          cv=2, n_jobs=n_jobs)
    search.fit(X, y)
    assert search.best_score_ > 0.8
    assert search.best_estimator_.predict(X[:3]).dtype.kind == "U"


def test_clone_copies_the_parameters_and_nothing_learnt(iris):
    X, y = iris
    model = NNClassifier(hidden_layer_sizes=(5, 3), optimizer={"name": "sgd", "momentum": 0.9},
                         class_weight="balanced", random_state=3).fit(X, y)
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    assert not hasattr(copy, "network_") and not hasattr(copy, "classes_")


def test_pickle_round_trip_predicts_the_same_and_trains_on(iris):
    X, y = iris
    model = NNClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(X, y)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
    again.partial_fit(X, y)
    assert again.n_iter_ == model.n_iter_ + 1
    regressor = NNRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, X[:, 0])
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(regressor)).predict(X),
                                  regressor.predict(X))


@pytest.mark.parametrize("labels", [
    np.array(["no", "yes"]), np.array([False, True]), np.array([-1, 7]),
    np.array(["b", "a", "c"]), np.array([10, 2, 30, 4]), np.array([3.0, 1.0, 2.0]),
])
def test_labels_of_any_type_come_back(labels):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    cuts = np.quantile(X[:, 0], np.linspace(0, 1, len(labels) + 1)[1:-1])
    y = labels[np.digitize(X[:, 0], cuts)]                     # classes by bands of feature 0
    model = NNClassifier(hidden_layer_sizes=(8,), learning_rate=0.03, random_state=0).fit(X, y)
    np.testing.assert_array_equal(model.classes_, np.sort(labels))
    predicted = model.predict(X)
    assert predicted.dtype == y.dtype
    assert np.mean(predicted == y) > 0.8


def test_the_same_random_state_gives_the_same_model_and_warm_start_trains_on(iris):
    X, y = iris
    first = NNClassifier(hidden_layer_sizes=(8,), max_iter=10, random_state=1).fit(X, y)
    second = NNClassifier(hidden_layer_sizes=(8,), max_iter=10, random_state=1).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    warm = NNClassifier(hidden_layer_sizes=(8,), max_iter=10, random_state=1, warm_start=True)
    warm.fit(X, y)
    curve = list(warm.loss_curve_)
    warm.fit(X, y)                        # on from the weights of the first fit
    assert warm.n_iter_ == 20 and warm.loss_curve_[:10] == curve
    assert warm.loss_curve_[10] < curve[0]
    cold = NNClassifier(hidden_layer_sizes=(8,), max_iter=10, random_state=1)
    cold.fit(X, y)
    cold.fit(X, y)                        # afresh: the same as the first fit
    assert cold.loss_curve_ == curve
    with pytest.raises(ValueError, match="not among the classes"):
        warm.fit(X, np.where(y == "setosa", "rose", y))


def test_partial_fit_needs_the_classes_first_and_keeps_them():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = np.where(X[:, 0] > 0.5, "high", np.where(X[:, 0] < -0.5, "low", "mid"))
    model = NNClassifier(hidden_layer_sizes=(8,), learning_rate=0.05, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        model.partial_fit(X, y)
    first = y != "high"                                        # a batch without one class
    model.partial_fit(X[first], y[first], classes=["low", "mid", "high"])
    assert list(model.classes_) == ["high", "low", "mid"] and model.n_iter_ == 1
    for _ in range(60):
        model.partial_fit(X, y)
    assert model.n_iter_ == 61 and model.score(X, y) > 0.8
    with pytest.raises(ValueError, match="not the same as on the first call"):
        model.partial_fit(X, y, classes=["low", "high"])
    with pytest.raises(ValueError, match="not among the classes"):
        model.partial_fit(X[:2], np.array(["top", "low"]))
    regressor = NNRegressor(hidden_layer_sizes=(4,), random_state=0)
    regressor.partial_fit(X, X[:, 0]).partial_fit(X, X[:, 0])
    assert regressor.n_iter_ == 2 and regressor.predict(X).shape == (60,)


def test_feature_names_from_a_data_frame():
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(40, 3)), columns=["age", "income", "height"])
    y = (frame["age"] > 0).map({True: "old", False: "young"})
    model = NNClassifier(hidden_layer_sizes=(4,), max_iter=20, random_state=0).fit(frame, y)
    assert list(model.feature_names_in_) == ["age", "income", "height"]
    with pytest.warns(UserWarning, match="feature names"):
        model.predict(frame.to_numpy())
    with pytest.raises(ValueError, match="feature names"):
        model.predict(frame[["income", "age", "height"]])


def test_multilabel_binary_and_regression_shapes():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4))
    labels = (X[:, :3] > 0).astype(int)                        # three independent labels
    model = NNClassifier(hidden_layer_sizes=(16,), learning_rate=0.02, random_state=0)
    model.fit(X, labels)
    assert model.predict(X).shape == (50, 3) and model.predict_proba(X).shape == (50, 3)
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])
    assert model.score(X, labels) > 0.6                        # every label of a row right
    binary = NNClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, labels[:, 0])
    assert binary.network_.output_shape == (1,) and binary.predict_proba(X).shape == (50, 2)
    X2, Y2 = make_regression(n_samples=60, n_features=4, n_targets=2, random_state=0)
    regressor = NNRegressor(hidden_layer_sizes=(16,), learning_rate=0.05, max_iter=300,
                            random_state=0).fit(X2, Y2 / 100)
    assert regressor.predict(X2).shape == (60, 2) and regressor.n_outputs_ == 2
    assert regressor.score(X2, Y2 / 100) > 0.9
    one = NNRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X2, Y2[:, :1])
    assert one.predict(X2).shape == (60, 1)


def test_early_stopping_keeps_the_best_validation_epoch():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 10))
    y = np.where(X[:, 0] + rng.normal(scale=1.5, size=120) > 0, "a", "b")   # noisy: overfits
    model = NNClassifier(hidden_layer_sizes=(64,), learning_rate=0.01, early_stopping=True,
                         n_iter_no_change=5, max_iter=300, random_state=0).fit(X, y)
    assert model.n_iter_ < 300
    assert len(model.validation_loss_curve_) == model.n_iter_
    assert model.best_loss_ == min(model.validation_loss_curve_)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)     # it stopped: no warning
        model.fit(X, y)


def test_class_weight_balanced_and_by_label_shift_the_predictions():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = np.where(X[:, 0] + 0.8 * rng.normal(size=200) > 1.0, "rare", "common")
    settings = dict(hidden_layer_sizes=(8,), learning_rate=0.02, random_state=0)
    plain = NNClassifier(**settings).fit(X, y)
    balanced = NNClassifier(**settings, class_weight="balanced").fit(X, y)
    by_label = NNClassifier(**settings, class_weight={"rare": 5.0}).fit(X, y)
    rare = [np.mean(m.predict(X) == "rare") for m in (plain, balanced, by_label)]
    assert rare[1] > rare[0] and rare[2] > rare[0]
    with pytest.raises(ValueError, match="not among the classes"):
        NNClassifier(**settings, class_weight={"unknown": 2.0}).fit(X, y)


def test_optimizer_by_name_config_or_object_and_bad_parameters_fail_in_fit(iris):
    X, y = iris
    for optimizer in ("sgd", {"name": "rmsprop"}, ns.optimizers.Adam(learning_rate=0.01)):
        model = NNClassifier(hidden_layer_sizes=(4,), max_iter=3, optimizer=optimizer,
                             learning_rate=0.05, random_state=0).fit(X, y)
        assert model.n_iter_ == 3
    assert model.network_.optimizer.learning_rate == 0.01      # the object's own
    assert NNClassifier(hidden_layer_sizes=(4,), max_iter=1, optimizer="sgd", learning_rate=0.2
                        ).fit(X, y).network_.optimizer.learning_rate == 0.2
    for bad in (dict(hidden_layer_sizes=(0,)), dict(max_iter=0), dict(learning_rate=-1),
                dict(batch_size="big"), dict(activation="nope"), dict(optimizer="nope"),
                dict(validation_fraction=1.0), dict(class_weight="even")):
        model = NNClassifier(**bad)                           # __init__ stores it, unchecked
        with pytest.raises(ValueError):
            model.fit(X, y)
