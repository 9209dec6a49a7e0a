"""Text class labels in Model.fit (learnt, mapped, saved, predicted back) and
class_weight="balanced" (nnscratch.training.targets)."""

import json

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.data import ArrayDataset
from nnscratch.errors import ConfigError, DataError, ModelFileError, ShapeError
from nnscratch.saving.container import encode, parse
from nnscratch.training import targets


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 3))
    y = np.array(["low", "mid", "high"])[np.digitize(X[:, 0], [-0.4, 0.4])]
    return X, y


def network(units, activation, loss, **options):
    return ns.Network([ns.Dense(8, activation="tanh"), ns.Dense(units, activation=activation)],
                      loss=loss, optimizer={"name": "adam", "learning_rate": 0.05}, seed=0,
                      dtype="float64", **options)


@pytest.mark.parametrize("loss", ["sparse_categorical_crossentropy", "categorical_crossentropy"])
def test_text_labels_are_learnt_sorted_and_predicted_back(data, loss):
    X, y = data
    net = network(3, "softmax", loss, metrics=["accuracy"])
    history = net.fit(X, y, epochs=150, verbose=0, validation_data=(X[:10], y[:10]))
    assert net.class_labels == ["high", "low", "mid"]
    assert history.history["accuracy"][-1] > 0.9
    assert np.mean(net.predict_labels(X) == y) > 0.9
    assert net.evaluate(X, list(y))["accuracy"] > 0.9            # a list of str works too
    index = np.argmax(net.predict(X), axis=1)
    np.testing.assert_array_equal(net.predict_labels(X), np.array(net.class_labels)[index])


def test_two_text_classes_on_one_sigmoid_unit(data):
    X, _ = data
    y = np.where(X[:, 1] > 0, "yes", "no").astype(object)
    net = network(1, "sigmoid", "binary_crossentropy")
    net.fit(X, y, epochs=100, verbose=0)
    assert net.class_labels == ["no", "yes"]
    p = net.predict(X)[:, 0]
    np.testing.assert_array_equal(net.predict_labels(X), np.where(p > 0.5, "yes", "no"))
    np.testing.assert_array_equal(net.predict_labels(X, threshold=0.0), ["yes"] * len(X))
    assert np.mean(net.predict_labels(X) == y) > 0.9


def test_the_labels_are_kept_in_the_model_file(data, tmp_path):
    X, y = data
    net = network(3, "softmax", "sparse_categorical_crossentropy")
    net.fit(X, y, epochs=5, verbose=0)
    net.save(tmp_path / "labels.nns")
    loaded = ns.load(tmp_path / "labels.nns")
    assert loaded.class_labels == ["high", "low", "mid"]
    np.testing.assert_array_equal(loaded.predict_labels(X), net.predict_labels(X))
    loaded.fit(X[:5], y[:5], epochs=1, verbose=0)                # a batch lacking a class
    assert loaded.class_labels == ["high", "low", "mid"]
    plain = network(3, "softmax", "sparse_categorical_crossentropy")
    plain.fit(X, np.digitize(X[:, 0], [-0.4, 0.4]), epochs=1, verbose=0)
    plain.save(tmp_path / "plain.nns")
    assert ns.load(tmp_path / "plain.nns").class_labels is None
    assert ns.load(tmp_path / "plain.nns").predict_labels(X).dtype == np.int64


@pytest.mark.parametrize("labels, words", [(["a", "a", "b"], "distinct"), ("abc", "a list"),
                                           ([1, 2], "strings"), (["a"], "distinct strings"),
                                           ([], "two at least")])
def test_a_forged_file_with_bad_labels_is_refused(data, tmp_path, labels, words):
    X, y = data
    net = network(3, "softmax", "sparse_categorical_crossentropy")
    net.fit(X, y, epochs=1, verbose=0)
    net.save(tmp_path / "m.nns")
    tensors, header = parse((tmp_path / "m.nns").read_bytes())
    arch = json.loads(header["architecture"])
    arch["class_labels"] = labels
    header["architecture"] = json.dumps(arch)
    forged = b"".join(bytes(part) for part in encode(list(tensors.items()), header))
    with pytest.raises(ModelFileError, match="class_labels must be a list of distinct strings"):
        ns.saving.load_bytes(forged, ns.Network, model_class=ns.Model)


def test_unknown_labels_and_shapes_that_do_not_fit_are_refused(data):
    X, y = data
    net = network(3, "softmax", "sparse_categorical_crossentropy")
    net.fit(X, y, epochs=1, verbose=0)
    with pytest.raises(DataError, match="'top', which is not one of the model's 3 classes"):
        net.fit(X[:2], ["low", "top"], epochs=1, verbose=0)
    with pytest.raises(DataError, match="one class only"):
        network(3, "softmax", "sparse_categorical_crossentropy").fit(X, ["a"] * 90, verbose=0)
    with pytest.raises(ShapeError, match="3 classes, but the output has 4 units"):
        network(4, "softmax", "categorical_crossentropy").fit(X, y, verbose=0)
    with pytest.raises(ShapeError, match="one output unit scores two classes"):
        network(1, "sigmoid", "binary_crossentropy").fit(X, y, verbose=0)


def test_a_dataset_of_text_labels_needs_the_classes_first(data):
    X, y = data
    net = network(3, "softmax", "sparse_categorical_crossentropy")
    with pytest.raises(DataError, match="knows no classes yet"):
        net.fit(ArrayDataset(X, y), batch_size=30, epochs=1, verbose=0)
    net.class_labels = ["high", "low", "mid"]
    net.fit(ArrayDataset(X, y), batch_size=30, epochs=2, verbose=0)
    with pytest.raises(ConfigError, match="'balanced' counts the classes of arrays"):
        net.fit(ArrayDataset(X, y), batch_size=30, epochs=1, verbose=0, class_weight="balanced")


def test_balanced_class_weights_are_scikit_learns():
    labels = np.array([0, 0, 0, 1, 2, 2])
    assert targets.balanced(labels) == {0: 6 / 9, 1: 6 / 3, 2: 6 / 6}
    sklearn_utils = pytest.importorskip("sklearn.utils")
    expected = sklearn_utils.compute_class_weight("balanced", classes=np.array([0, 1, 2]),
                                                  y=labels)
    np.testing.assert_allclose(list(targets.balanced(labels).values()), expected, rtol=1e-15)
    w = targets.sample_weights(np.eye(3)[labels], [1, 1, 1, 1, 1, 2.0], "balanced", np.float64)
    np.testing.assert_allclose(w, [6 / 9] * 3 + [2.0, 1.0, 2.0])
    with pytest.raises(ConfigError, match="'balanced'"):
        targets.sample_weights(labels, None, "even", np.float64)


def test_class_weight_by_text_label_and_balanced_in_fit(data):
    X, y = data
    net = network(3, "softmax", "sparse_categorical_crossentropy")
    net.class_labels = ["high", "low", "mid"]
    net.fit(X, y, epochs=1, verbose=0, class_weight={"mid": 3.0})
    prepared = net.prepare_target(y)
    by_label = net.sample_weights([prepared], None, {"mid": 3.0, "high": 0.5})
    np.testing.assert_array_equal(by_label, np.select([y == "mid", y == "high"], [3.0, 0.5], 1.0))
    balanced = net.sample_weights([prepared], None, "balanced")
    counts = {label: np.sum(y == label) for label in set(y)}
    np.testing.assert_allclose(balanced, [len(y) / (3 * counts[label]) for label in y])
    with pytest.raises(ConfigError, match="keys must be class labels"):
        net.fit(X, y, epochs=1, verbose=0, class_weight={"top": 2.0})
