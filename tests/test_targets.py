"""Target and sample-weight preparation (nnscratch.training.targets): shapes, labels, class weights."""

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.errors import ConfigError, DataError, ShapeError
from nnscratch.training import targets


def test_class_weight_multiplies_the_sample_weight_per_label():
    y = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])      # one-hot labels 0, 2, 1
    w = targets.sample_weights(y, [1.0, 2.0, 3.0], {2: 5.0, 0: 0.5}, np.float64)
    np.testing.assert_array_equal(w, [0.5, 10.0, 3.0])
    column = targets.sample_weights(np.array([[0.0], [1.0]]), None, {"1": 4.0}, np.float32)
    assert column.dtype == np.float32
    np.testing.assert_array_equal(column, [1.0, 4.0])


def test_an_empty_class_weight_leaves_every_weight_at_one():
    np.testing.assert_array_equal(
        targets.sample_weights(np.array([0, 1, 1]), None, {}, np.float64), [1.0, 1.0, 1.0])


@pytest.mark.parametrize("class_weight, words", [
    ({"a": 1.0}, "keys must be class labels"),
    ({-1: 1.0}, "keys must be class labels"),
    ({0.5: 1.0}, "keys must be class labels"),
    ({0: "heavy"}, "must be a finite number >= 0"),
    ({0: -1.0}, "must be a finite number >= 0"),
    ({0: float("nan")}, "must be a finite number >= 0"),
    ([1.0, 2.0], "must be a dict"),
])
def test_bad_class_weight_is_a_config_error(class_weight, words):
    with pytest.raises(ConfigError, match=words):
        targets.sample_weights(np.array([0, 1]), None, class_weight, np.float64)


def test_negative_sample_weight_is_a_data_error():
    with pytest.raises(DataError, match="sample_weight must be >= 0"):
        targets.sample_weights(np.array([0, 1]), [1.0, -1.0], None, np.float64)


def test_prepare_target_reads_a_vector_as_one_column_and_rejects_other_shapes():
    net = ns.Network([ns.layers.Dense(1)], loss="mse", seed=0)
    net.build((3,))
    assert net.prepare_target(np.arange(4.0)).shape == (4, 1)
    with pytest.raises(ShapeError, match=r"must be shaped \(N,\) \+ \(1,\)"):
        net.prepare_target(np.zeros((4, 2)))


def test_sparse_labels_must_be_whole_numbers():
    loss = ns.losses.get("sparse_categorical_crossentropy")
    np.testing.assert_array_equal(targets.prepare_target([[1.0], [2.0]], loss, (3,), np.float32),
                                  [1, 2])
    with pytest.raises(DataError, match="integer class labels"):
        targets.prepare_target([0.5, 1.0], loss, (3,), np.float32)
    with pytest.raises(ShapeError, match=r"of shape \(N,\)"):
        targets.prepare_target(np.zeros((2, 3)), loss, (3,), np.float32)
