"""Arguments that used to be misread silently are refused, or read as meant.

- binary cross-entropy (and its focal form) takes targets in [0, 1], the hinges in [-1, 1]
  (categorical hinge: one-hot rows in [0, 1]); a target outside is a DataError naming it and
  where it is, before any training;
- a ``class_weight`` key that is not a class of the output is a ConfigError naming the key and
  the valid range;
- ``metrics="accuracy"`` (one name, or one Metric) is a list of one metric.
"""

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.errors import ConfigError, DataError
from nnscratch.training import targets


def binary_net(loss="binary_crossentropy", activation="sigmoid"):
    return ns.Network([ns.Dense(4, activation="relu"), ns.Dense(1, activation=activation)],
                      loss=loss, seed=0, dtype="float64")


X = np.random.default_rng(0).standard_normal((6, 3))


def test_binary_crossentropy_refuses_labels_outside_0_1_in_fit():
    net = binary_net()
    with pytest.raises(DataError, match=r"binary_crossentropy expects targets in \[0, 1\].* got 2\.0 "
                                        r"in y at index \(3, 0\)"):
        net.fit(X, [0, 1, 0, 2, 1, 0], epochs=1, verbose=0)
    assert net.epochs_trained == 0
    with pytest.raises(DataError, match=r"got -1\.0 in y_val"):
        net.fit(X, [0, 1, 0, 1, 1, 0], epochs=1, verbose=0,
                validation_data=(X[:2], [-1, 0]))
    with pytest.raises(DataError, match=r"got 2\.0 in y"):
        net.evaluate(X, [0, 1, 0, 2, 1, 0])
    net.fit(X, [0, 1, 0, 1, 1, 0.5], epochs=1, verbose=0)          # soft labels are fine


@pytest.mark.parametrize("name", ["binary_crossentropy", "binary_focal_crossentropy"])
@pytest.mark.parametrize("from_logits", [False, True])
def test_binary_losses_called_directly_refuse_targets_outside_0_1(name, from_logits):
    loss = ns.losses.get({"name": name, "from_logits": from_logits})
    p = np.full((2, 2), 0.5)
    with pytest.raises(DataError, match=rf"{name} expects targets in \[0, 1\].* got 1\.5 in y_true "
                                        r"at index \(1, 0\)"):
        loss.value(p, [[0.0, 1.0], [1.5, 0.0]])
    with pytest.raises(DataError, match=r"got -0\.5"):
        loss.gradient(p, [[-0.5, 1.0], [1.0, 0.0]])
    assert np.isfinite(loss.value(p, [[0.0, 1.0], [0.25, 0.0]]))


@pytest.mark.parametrize("name", ["hinge", "squared_hinge"])
def test_hinge_losses_take_labels_in_minus_1_1(name):
    loss = ns.losses.get(name)
    p = np.array([[0.3], [-0.2], [0.9]])
    loss.value(p, [[1.0], [-1.0], [1.0]])
    loss.value(p, [[1.0], [0.0], [1.0]])
    with pytest.raises(DataError, match=rf"{name} expects targets in \[-1, 1\].* got 2\.0 in y_true "
                                        r"at index \(1, 0\)"):
        loss.value(p, [[1.0], [2.0], [0.0]])
    net = binary_net(loss=name, activation="tanh")
    with pytest.raises(DataError, match=r"got 3\.0 in y"):
        net.fit(X, [1, -1, 3, 1, -1, 1], epochs=1, verbose=0)


def test_categorical_hinge_takes_one_hot_rows():
    loss = ns.losses.get("categorical_hinge")
    with pytest.raises(DataError, match=r"categorical_hinge expects targets in \[0, 1\].* got 2\.0"):
        loss.value([[0.5, 2.0, 1.0]], [[2.0, 0.0, 0.0]])


# -- class_weight keys ----------------------------------------------------------------------------

def test_a_class_weight_key_that_is_not_a_sparse_class_is_refused():
    net = ns.Network([ns.Dense(3, activation="softmax")], loss="sparse_categorical_crossentropy",
                     seed=0)
    y = np.array([0, 1, 2, 0, 1, 2])
    with pytest.raises(ConfigError, match=r"class_weight key 99 is not a class .* \[0, 3\)"):
        net.fit(X, y, epochs=1, verbose=0, class_weight={99: 2.0})
    with pytest.raises(ConfigError, match=r"class_weight key 3 "):
        net.fit(X, y, epochs=1, verbose=0, class_weight={0: 1.0, 3: 2.0})
    net.fit(X, y, epochs=1, verbose=0, class_weight={2: 2.0})


def test_a_class_weight_key_beyond_the_one_hot_columns_is_refused():
    net = ns.Network([ns.Dense(3, activation="softmax")], loss="categorical_crossentropy", seed=0)
    y = np.eye(3)[[0, 1, 2, 0, 1, 2]]
    with pytest.raises(ConfigError, match=r"class_weight key 5 is not a class .* \[0, 3\)"):
        net.fit(X, y, epochs=1, verbose=0, class_weight={5: 2.0})


def test_a_class_weight_key_of_a_single_column_is_0_or_1():
    with pytest.raises(ConfigError, match=r"class_weight key 2 is not a class .* \[0, 2\)"):
        targets.sample_weights(np.array([[0.0], [1.0]]), None, {2: 3.0}, np.float64)
    np.testing.assert_array_equal(
        targets.sample_weights(np.array([[0.0], [1.0]]), None, {1: 3.0}, np.float64), [1.0, 3.0])


# -- metrics given as one name or one object -------------------------------------------------------

@pytest.mark.parametrize("metrics", ["accuracy", ns.metrics.get("accuracy"), {"name": "accuracy"},
                                     ["accuracy"], ("accuracy",)])
def test_one_metric_is_a_list_of_one(metrics):
    net = ns.Network([ns.Dense(3, activation="softmax")], loss="sparse_categorical_crossentropy",
                     metrics=metrics, seed=0)
    assert [m.name for m in net.metrics] == ["accuracy"]
    logs = net.evaluate(X, [0, 1, 2, 0, 1, 2])
    assert set(logs) == {"loss", "accuracy"}
