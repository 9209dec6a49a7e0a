"""Embedding: lookup, scatter-add gradient (against a plain loop), id checks."""

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.errors import ConfigError, DataError, DataTypeError
from nnscratch.gradcheck import check_layer
from nnscratch.layers.base import LAYER_CLASSES


def _embedding(rng, vocab=7, dim=3, dtype=np.float64):
    layer = ns.Embedding(vocab, dim)
    layer.build((4,), rng=rng, dtype=dtype)
    return layer


def test_forward_looks_up_rows(rng):
    layer = _embedding(rng)
    ids = rng.integers(0, 7, (5, 4))
    y = layer.forward(ids)
    assert y.shape == (5, 4, 3) and layer.params["W"].shape == (7, 3)
    for n in range(5):
        for t in range(4):
            np.testing.assert_array_equal(y[n, t], layer.params["W"][ids[n, t]])


def test_float_ids_holding_whole_numbers_are_accepted(rng):
    layer = _embedding(rng)
    ids = rng.integers(0, 7, (3, 4))
    np.testing.assert_array_equal(layer.forward(ids.astype(np.float32)), layer.forward(ids))


def test_backward_matches_a_plain_loop_with_repeated_ids(rng):
    layer = _embedding(rng)
    ids = np.array([[1, 1, 3, 1], [0, 3, 3, 6]])
    y = layer.forward(ids.astype(np.float64))
    g = rng.standard_normal(y.shape)
    dx = layer.backward(g)
    dW = np.zeros((7, 3))
    for n in range(2):
        for t in range(4):
            for j in range(3):
                dW[ids[n, t], j] += g[n, t, j]
    np.testing.assert_allclose(layer.grads["W"], dW, rtol=0, atol=1e-14)
    assert dx.shape == ids.shape and not dx.any()          # token ids have no gradient
    # a second backward overwrites, never accumulates
    layer.backward(g)
    np.testing.assert_allclose(layer.grads["W"], dW, rtol=0, atol=1e-14)


def test_gradient_check_of_the_table_and_any_id_shape(rng):
    errors = check_layer(ns.Embedding(5, 2), rng.integers(0, 5, (3, 4)))
    assert errors == {"input": 0.0, "W": errors["W"]} and errors["W"] < 1e-8
    layer = ns.Embedding(5, 2)
    check_layer(layer, rng.integers(0, 5, (2, 3, 2)))
    assert layer.compute_output_shape((3, 2)) == (3, 2, 2)


def test_network_reads_token_ids_and_trains_the_table(rng):
    net = ns.Network([ns.Embedding(10, 4), ns.GRU(3), ns.Dense(1)], loss="mse",
                     optimizer=ns.optimizers.SGD(learning_rate=0.1), seed=0)
    assert not net.built                           # a vocabulary size is not an input width
    ids = rng.integers(0, 10, (6, 5))
    net.predict(ids)
    assert net.input_shape == (5,)
    before = net.layers[0].params["W"].copy()
    net.fit(ids, rng.standard_normal((6, 1)), epochs=2, verbose=0)
    changed = ~np.isclose(before, net.layers[0].params["W"]).all(axis=1)
    np.testing.assert_array_equal(np.flatnonzero(changed), np.unique(ids))   # only used rows move
    assert net.predict(ids).shape == (6, 1)


def test_float32_stays_float32(rng):
    layer = _embedding(rng, dtype=np.float32)
    y = layer.forward(np.array([[1.0, 2.0, 3.0, 4.0]], np.float32))
    dx = layer.backward(np.ones_like(y))
    assert y.dtype == layer.grads["W"].dtype == dx.dtype == np.float32


def test_bad_ids_are_clear_errors(rng):
    layer = ns.Embedding(7, 3, name="tokens")
    layer.build((3,), rng=rng)
    with pytest.raises(DataError, match=r"Embedding layer tokens expects token ids in \[0, 7\), "
                                        r"got 7 at index \(1, 2\)"):
        layer.forward(np.array([[0, 1, 2], [3, 4, 7]]))
    with pytest.raises(DataError, match=r"ids in \[0, 7\), got -1 at index \(0, 0\)"):
        layer.forward(np.array([[-1.0, 1.0, 2.0]]))
    with pytest.raises(DataError, match=r"expects integer token ids, got 2.5 at index \(0, 1\)"):
        layer.forward(np.array([[1.0, 2.5, 2.0]]))
    with pytest.raises(DataTypeError, match="expects integer token ids, got dtype <U1"):
        layer.forward(np.array([["a", "b", "c"]]))
    net = ns.Network([ns.Embedding(4, 2), ns.LSTM(2)])
    with pytest.raises(DataError, match=r"ids in \[0, 4\), got 9"):
        net.predict([[1, 2, 9]])


def test_bad_configuration(rng):
    with pytest.raises(ConfigError, match="Embedding input_dim must be a positive integer"):
        ns.Embedding(0, 3)
    with pytest.raises(ConfigError, match="Embedding output_dim must be a positive integer"):
        ns.Embedding(3, 2.5)


def test_config_round_trip(rng):
    layer = ns.Embedding(9, 4, embeddings_initializer="glorot_uniform",
                         embeddings_regularizer={"l2": 0.1})
    config = layer.get_config()
    assert config["input_dim"] == 9 and config["output_dim"] == 4
    clone = LAYER_CLASSES["Embedding"].from_config(config)
    assert clone.get_config() == config
    clone.build((2,), rng=rng, dtype=np.float64)
    assert clone.penalty() == pytest.approx(0.1 * np.sum(clone.params["W"] ** 2))


def test_default_initializer_is_kerass_uniform(rng):
    layer = ns.Embedding(200, 50)
    layer.build((3,), rng=rng)
    W = layer.params["W"]
    assert np.abs(W).max() <= 0.05 and np.abs(W).max() > 0.045
