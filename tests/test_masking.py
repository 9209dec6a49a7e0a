"""Masks for variable-length sequences: padding, mask-making layers, recurrent layers that keep
their state at masked steps (exact against each sequence run alone), pooling over time, losses
and metrics that ignore masked steps, masks through graphs and chains, lists of sequences in
fit/predict, and the ONNX export of masks and of a free sequence length."""

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.errors import ConfigError, DataError, DataTypeError, ExportError, ShapeError
from nnscratch.gradcheck import check_layer, check_network, numerical_gradient, relative_error
from nnscratch.layers.masking import all_real, check_mask, may_make_masks, takes_mask
from nnscratch.saving.onnx import to_onnx
from nnscratch.sequences import pad_ragged, pad_sequences


def end_padded(rng, lengths, steps, features, garbage=True):
    """``(x, mask)``: sequences of ``lengths`` real steps first; the padding holds random
    garbage (a mask makes it irrelevant) or zeros."""
    x = rng.standard_normal((len(lengths), steps, features))
    mask = np.arange(steps)[None, :] < np.asarray(lengths)[:, None]
    if not garbage:
        x[~mask] = 0.0
    return x, mask


def built(layer, features, steps=7, seed=1):
    layer.build((steps, features), rng=np.random.default_rng(seed), dtype=np.float64)
    return layer


def run(layer, x, grad_y, mask=None):
    """Output, input gradient and parameter gradients of one forward and backward."""
    y = layer.forward(x) if mask is None else layer.forward(x, mask=mask)
    grad_x = layer.backward(grad_y)
    return y, grad_x, {key: value.copy() for key, value in layer.grads.items()}


# --------------------------------------------------------------------------------------------
# pad_sequences
# --------------------------------------------------------------------------------------------

def test_pad_sequences_gives_keras_documented_results():
    sequence = [[1], [2, 3], [4, 5, 6]]
    np.testing.assert_array_equal(pad_sequences(sequence), [[0, 0, 1], [0, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(sequence, value=-1),
                                  [[-1, -1, 1], [-1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(sequence, padding="post"),
                                  [[1, 0, 0], [2, 3, 0], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(sequence, maxlen=2), [[0, 1], [2, 3], [5, 6]])
    assert pad_sequences(sequence).dtype == np.int32


def test_pad_sequences_cuts_either_end_and_pads_steps_of_any_shape():
    np.testing.assert_array_equal(pad_sequences([[1, 2, 3, 4], [5]], maxlen=3, truncating="post",
                                                padding="post"), [[1, 2, 3], [5, 0, 0]])
    steps = [np.ones((3, 2)), np.full((1, 2), 2.0), np.zeros((0, 2))]
    out = pad_sequences(steps, dtype="float32", padding="post", value=-1.0)
    assert out.shape == (3, 3, 2) and out.dtype == np.float32
    np.testing.assert_array_equal(out[1], [[2, 2], [-1, -1], [-1, -1]])
    np.testing.assert_array_equal(out[2], np.full((3, 2), -1.0))
    np.testing.assert_array_equal(pad_sequences([(1, 2)], maxlen=4, dtype="float64"), [[0, 0, 1, 2]])


def test_pad_sequences_refuses_what_it_cannot_pad():
    with pytest.raises(ConfigError, match="padding"):
        pad_sequences([[1]], padding="middle")
    with pytest.raises(ConfigError, match="truncating"):
        pad_sequences([[1]], truncating="both")
    with pytest.raises(ConfigError, match="maxlen"):
        pad_sequences([[1]], maxlen=0)
    with pytest.raises(DataTypeError, match="list of sequences"):
        pad_sequences([[1, 2], 3])
    with pytest.raises(ShapeError, match="steps of one shape"):
        pad_sequences([np.ones((2, 3)), np.ones((2, 4))])
    with pytest.raises(DataError, match="at least one sequence"):
        pad_sequences([])
    with pytest.raises(ConfigError, match="number type"):
        pad_sequences([[1]], dtype="U3")
    assert pad_sequences([], maxlen=3).shape == (0, 3)


def test_pad_ragged_pads_at_the_end_to_the_model_length_and_leaves_arrays_alone():
    out = pad_ragged([[3, 1], [2], []], 0, length=4)
    np.testing.assert_array_equal(out, [[3, 1, 0, 0], [2, 0, 0, 0], [0, 0, 0, 0]])
    assert out.dtype == np.float64
    array = np.ones((2, 3))
    assert pad_ragged(array, 0, 5) is array                 # arrays are the user's business
    assert pad_ragged([[1, 2], [3]], None) == [[1, 2], [3]]    # no layer makes masks
    with pytest.raises(ShapeError, match=r"x\[1\] has 5 steps, more than .* length 4"):
        pad_ragged([[1], [1, 2, 3, 4, 5]], 0, length=4)


# --------------------------------------------------------------------------------------------
# Making, passing and ending masks
# --------------------------------------------------------------------------------------------

def test_masking_layer_masks_steps_equal_to_the_mask_value(rng):
    x = rng.standard_normal((2, 4, 3))
    x[0, 1] = -1.0
    x[1, 3] = -1.0
    x[1, 2, 0] = -1.0                        # one feature only: the step stays real
    layer = ns.Masking(mask_value=-1.0)
    mask = layer.compute_mask(x, None)
    np.testing.assert_array_equal(mask, [[True, False, True, True], [True, True, True, False]])
    y = layer(x)
    np.testing.assert_array_equal(y[0, 1], 0.0)
    np.testing.assert_array_equal(y[0, 0], x[0, 0])
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), mask[..., None] * np.ones_like(x))
    assert ns.Masking.from_config(layer.get_config()).mask_value == -1.0
    with pytest.raises(ShapeError, match=r"Masking layer .* expects input \(N, T, features\)"):
        layer(np.ones((2, 3)))


def test_embedding_mask_zero_makes_the_mask_of_ids(rng):
    layer = ns.Embedding(5, 2, mask_zero=True)
    ids = np.array([[3, 1, 0, 0], [2, 0, 4, 0]])
    np.testing.assert_array_equal(layer.compute_mask(ids, None), ids != 0)
    assert ns.Embedding(5, 2).compute_mask(ids, None) is None
    assert layer.padding_value == 0 and ns.Embedding(5, 2).padding_value is None
    assert ns.Embedding.from_config(layer.get_config()).mask_zero is True


def test_which_layers_pass_consume_or_end_masks():
    for layer in (ns.Dense(2), ns.Dropout(0.1), ns.Activation("relu"), ns.LayerNormalization(),
                  ns.PositionalEmbedding(4, 2)):
        assert layer.supports_masking and not takes_mask(layer)
    for layer in (ns.LSTM(2), ns.GRU(2), ns.SimpleRNN(2), ns.Bidirectional(ns.GRU(2)),
                  ns.GlobalAvgPool1D(data_format="channels_last"), ns.GlobalMaxPool1D(),
                  ns.MultiHeadAttention(1, 2)):
        assert takes_mask(layer)
    mask = np.ones((2, 3), bool)
    assert ns.Flatten().compute_mask(None, mask) is None and ns.Conv1D(2, 1).compute_mask(None, mask) is None
    assert ns.LSTM(2).compute_mask(None, mask) is None
    assert ns.LSTM(2, return_sequences=True).compute_mask(None, mask) is mask
    assert not may_make_masks([ns.Dense(2), ns.Flatten()])
    assert may_make_masks([ns.Dense(2), ns.Masking()])


def test_mask_checks_and_the_and_of_masks():
    a, b = np.array([[1, 1, 0]]), np.array([[True, False, True]])
    np.testing.assert_array_equal(check_mask(a, (1, 3), "here"), [[True, True, False]])
    np.testing.assert_array_equal(all_real([check_mask(a, (1, 3), "x"), None, b]),
                                  [[True, False, False]])
    assert all_real([None, None]) is None
    with pytest.raises(ShapeError, match=r"here expects a mask shaped \(N, T\) = \(1, 4\), got \(1, 3\)"):
        check_mask(a, (1, 4), "here")
    with pytest.raises(DataTypeError, match="booleans"):
        check_mask(np.array([["a", "b"]]), (1, 2), "here")


def test_merges_combine_masks():
    m1, m2 = np.array([[True, True, False]]), np.array([[True, False, False]])
    x = np.zeros((1, 3, 2))
    np.testing.assert_array_equal(ns.Add().compute_mask([x, x], [m1, m2]), m1 & m2)
    np.testing.assert_array_equal(ns.Add().compute_mask([x, x], [m1, None]), m1)
    np.testing.assert_array_equal(ns.Concatenate().compute_mask([x, x], [m1, m2]), m1 & m2)
    joined = ns.Concatenate(axis=1).compute_mask([x, x], [m1, None])
    np.testing.assert_array_equal(joined, [[True, True, False, True, True, True]])
    assert ns.Add().compute_mask([x, x], None) is None


# --------------------------------------------------------------------------------------------
# Recurrent layers: a masked step keeps the state; exact against each sequence alone
# --------------------------------------------------------------------------------------------

LAYERS = {
    "GRU": lambda rs, back: ns.GRU(4, return_sequences=rs, go_backwards=back),
    "LSTM": lambda rs, back: ns.LSTM(4, return_sequences=rs, go_backwards=back),
    "SimpleRNN": lambda rs, back: ns.SimpleRNN(4, return_sequences=rs, go_backwards=back),
    "BidirectionalLSTM": lambda rs, back: ns.Bidirectional(ns.LSTM(3, return_sequences=rs,
                                                                   go_backwards=back)),
    "BidirectionalGRU_mul": lambda rs, back: ns.Bidirectional(
        ns.GRU(3, return_sequences=rs, go_backwards=back), merge_mode="mul"),
}


@pytest.mark.parametrize("kind", sorted(LAYERS))
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_masked_batch_equals_each_sequence_alone(kind, return_sequences, go_backwards, rng):
    """Outputs, input gradients and parameter gradients of a batch of end-padded sequences with
    their mask equal those of each sequence run on its own, unpadded (float64, 1e-10)."""
    lengths, steps = [7, 3, 5, 1, 6], 7
    x, mask = end_padded(rng, lengths, steps, 3)
    layer = built(LAYERS[kind](return_sequences, go_backwards), 3, steps)
    probe = layer.forward(x, mask=mask)
    grad_y = rng.standard_normal(probe.shape)
    # the outputs of real steps: in reversed time for a layer reading backwards (wrapped in a
    # Bidirectional too: its forward copy reads backwards then, and Keras returns that order)
    reversed_outputs = go_backwards
    out_mask = mask[:, ::-1] if reversed_outputs else mask
    if return_sequences:
        np.testing.assert_array_equal(layer.compute_mask(x, mask), out_mask)
        grad_y *= out_mask[..., None]        # the loss of a masked step is 0
    y, grad_x, grads = run(layer, x, grad_y, mask)
    summed = {key: np.zeros_like(value) for key, value in grads.items()}
    for n, length in enumerate(lengths):
        real = slice(steps - length, steps) if reversed_outputs else slice(0, length)
        alone_grad = grad_y[n:n + 1, real] if return_sequences else grad_y[n:n + 1]
        y_n, grad_x_n, grads_n = run(layer, x[n:n + 1, :length], alone_grad)
        np.testing.assert_allclose(y[n:n + 1, real] if return_sequences else y[n:n + 1], y_n,
                                   rtol=0, atol=1e-10)
        np.testing.assert_allclose(grad_x[n:n + 1, :length], grad_x_n, rtol=0, atol=1e-10)
        np.testing.assert_array_equal(grad_x[n, length:], 0.0)   # padding gets no gradient
        for key in summed:
            summed[key] += grads_n[key]
    for key in grads:
        np.testing.assert_allclose(grads[key], summed[key], rtol=0, atol=1e-10, err_msg=key)


def test_masked_steps_keep_the_state_and_repeat_the_output_unless_zeros_are_asked(rng):
    x, mask = end_padded(rng, [2, 4], 4, 3)
    layer = built(ns.GRU(3, return_sequences=True), 3, 4)
    y = layer.forward(x, mask=mask)
    np.testing.assert_array_equal(y[0, 2], y[0, 1])            # the previous output, twice
    np.testing.assert_array_equal(y[0, 3], y[0, 1])
    np.testing.assert_array_equal(layer.final_state[0], y[0, 1])
    layer.zero_output_for_mask = True
    y0 = layer.forward(x, mask=mask)
    np.testing.assert_array_equal(y0[0, 2:], 0.0)
    np.testing.assert_array_equal(y0[1], y[1])
    np.testing.assert_array_equal(layer.final_state[0], y[0, 1])
    # leading padding: the state stays the initial one (zeros) until the first real step
    x_pre, mask_pre = x[:, ::-1], mask[:, ::-1]
    layer.zero_output_for_mask = False
    np.testing.assert_array_equal(layer.forward(x_pre, mask=mask_pre)[0, :2], 0.0)


def test_bidirectional_outputs_zeros_at_masked_steps(rng):
    x, mask = end_padded(rng, [2, 4], 4, 3)
    layer = built(ns.Bidirectional(ns.LSTM(3, return_sequences=True)), 3, 4)
    y = layer.forward(x, mask=mask)
    np.testing.assert_array_equal(y[0, 2:], 0.0)
    assert np.all(y[0, :2] != 0.0)
    assert layer.forward_layer.zero_output_for_mask and layer.backward_layer.zero_output_for_mask
    assert "zero_output_for_mask" in layer.get_config()["layer"]["config"]


def test_an_all_true_mask_changes_nothing_and_a_sequence_may_be_empty(rng):
    x = rng.standard_normal((3, 5, 2))
    layer = built(ns.LSTM(3, return_sequences=True), 2, 5)
    np.testing.assert_array_equal(layer.forward(x, mask=np.ones((3, 5), bool)), layer.forward(x))
    empty = np.zeros((3, 5), bool)
    np.testing.assert_array_equal(layer.forward(x, mask=empty), 0.0)
    np.testing.assert_array_equal(layer.backward(np.ones((3, 5, 3))), 0.0)


def test_recurrent_layers_run_on_any_sequence_length(rng):
    for layer in (ns.LSTM(3), ns.GRU(3, return_sequences=True), ns.Bidirectional(ns.SimpleRNN(2))):
        built(layer, 2, steps=6)
        for steps in (1, 6, 11):
            y = layer.forward(rng.standard_normal((2, steps, 2)))
            assert y.shape[0] == 2 and (y.ndim == 2 or y.shape[1] == steps)


def test_a_bad_mask_is_a_clear_error(rng):
    layer = built(ns.GRU(2), 3, 4)
    with pytest.raises(ShapeError, match=r"GRU layer .* expects a mask shaped \(N, T\) = \(2, 4\)"):
        layer.forward(rng.standard_normal((2, 4, 3)), mask=np.ones((2, 5), bool))
    with pytest.raises(ConfigError, match="zero_output_for_mask"):
        ns.LSTM(2, zero_output_for_mask="yes")


@pytest.mark.parametrize("kind", sorted(LAYERS))
@pytest.mark.parametrize("return_sequences", [False, True])
def test_gradient_check_with_a_mask(kind, return_sequences, rng):
    x, mask = end_padded(rng, [4, 2, 3], 4, 2)
    mask[1, 3] = True                         # a gap: masks need not be end padding
    for go_backwards in (False, True):
        layer = LAYERS[kind](return_sequences, go_backwards)
        check_layer(layer, x, mask=mask)


# --------------------------------------------------------------------------------------------
# Pooling over time and attention
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", [ns.GlobalAvgPool1D, ns.GlobalMaxPool1D])
def test_channels_last_pooling_over_time_matches_numpy(cls, rng):
    x = rng.standard_normal((3, 5, 4))
    reduce = np.mean if cls is ns.GlobalAvgPool1D else np.max
    layer = cls(data_format="channels_last")
    np.testing.assert_allclose(layer(x), reduce(x, axis=1))
    assert cls(data_format="channels_last", keepdims=True)(x).shape == (3, 1, 4)
    assert layer.compute_output_shape((5, 4)) == (4,)
    np.testing.assert_allclose(cls()(x.transpose(0, 2, 1)), reduce(x, axis=1))  # channels first
    check_layer(cls(data_format="channels_last"), x)
    with pytest.raises(ShapeError, match=r"expects input \(N, L, C\) \(channels last\)"):
        layer(np.ones((2, 3)))


@pytest.mark.parametrize("cls", [ns.GlobalAvgPool1D, ns.GlobalMaxPool1D])
def test_masked_pooling_ignores_masked_steps(cls, rng):
    x, mask = end_padded(rng, [5, 2, 0], 5, 4)
    layer = cls(data_format="channels_last")
    y = layer(x, mask=mask)
    reduce = np.mean if cls is ns.GlobalAvgPool1D else np.max
    for n, length in enumerate([5, 2]):
        np.testing.assert_allclose(y[n], reduce(x[n, :length], axis=0))
    np.testing.assert_array_equal(y[2], 0.0)                    # no real step: 0, no NaN
    grad = layer.backward(np.ones_like(y))
    np.testing.assert_array_equal(grad[~mask], 0.0)
    check_layer(cls(data_format="channels_last"), x, mask=mask)
    with pytest.raises(ShapeError, match="data_format='channels_last'"):
        cls()(x, mask=mask)


def test_attention_takes_the_key_mask_as_a_key_padding_mask(rng):
    q, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4))
    key_mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 0]], bool)
    layer = ns.MultiHeadAttention(2, 3, seed=0)
    layer.build([(3, 4), (5, 4)], rng=np.random.default_rng(0), dtype=np.float64)
    y = layer.forward([q, v], mask=[None, key_mask])
    expected = layer.forward([q, v], attention_mask=key_mask[:, None, :])
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-12)
    both = layer.forward([q, v], attention_mask=np.tri(3, 5, dtype=bool), mask=[None, key_mask])
    np.testing.assert_allclose(both, layer.forward(
        [q, v], attention_mask=np.tri(3, 5, dtype=bool) & key_mask[:, None, :]), atol=1e-12)
    query_mask = np.ones((2, 3), bool)
    assert layer.compute_mask([q, v], [query_mask, key_mask]) is query_mask
    check_layer(layer, [q, v], mask=[None, key_mask])


# --------------------------------------------------------------------------------------------
# Losses and metrics
# --------------------------------------------------------------------------------------------

def test_weights_per_position_read_each_position_as_a_sample(rng):
    p = rng.standard_normal((3, 4, 2))
    y = rng.standard_normal((3, 4, 2))
    w = rng.uniform(0, 2, (3, 4))
    for name in ("mse", "mae", "huber", "sse", "rmse"):
        loss = ns.losses.get(name)
        flat = loss.value(p.reshape(12, 2), y.reshape(12, 2), w.reshape(12))
        assert loss.value(p, y, w) == pytest.approx(flat)
        grad = loss.gradient(p, y, w)
        assert grad.shape == p.shape
        np.testing.assert_allclose(grad.reshape(12, 2),
                                   loss.gradient(p.reshape(12, 2), y.reshape(12, 2), w.reshape(12)))
        value, both = loss.value_and_gradient(p, y, w)
        assert value == pytest.approx(flat) and np.allclose(both, grad)
        # all ones per position is no weight at all
        assert loss.value(p, y, np.ones((3, 4))) == pytest.approx(loss.value(p, y))


def test_sparse_crossentropy_per_position_weights_and_its_gradient(rng):
    logits = rng.standard_normal((3, 4, 5))
    labels = rng.integers(0, 5, (3, 4))
    w = rng.uniform(0, 2, (3, 4))
    for loss in (ns.losses.SparseCategoricalCrossentropy(from_logits=True),
                 ns.losses.SparseCategoricalCrossentropy()):
        p = logits if loss.from_logits else ns.activations.get("softmax").forward(logits)
        value, grad = loss.value_and_gradient(p, labels, w)
        numeric = numerical_gradient(lambda f=loss, q=p: f.value(q, labels, w), p)
        assert relative_error(grad, numeric) < 1e-7
        picked = np.take_along_axis(np.log(ns.activations.get("softmax").forward(logits)),
                                    labels[..., None], -1)[..., 0]
        assert value == pytest.approx(-(w * picked).sum() / 12, rel=1e-6)


def test_masked_weights_make_the_loss_the_mean_over_real_steps(rng):
    mask = np.array([[True, True, False], [True, False, False]])
    mse = ns.losses.get("mse")
    w = ns.losses.masked_weights(mse, mask)
    np.testing.assert_allclose(w, mask * 6 / 3)
    p, y = rng.standard_normal((2, 3, 1)), rng.standard_normal((2, 3, 1))
    assert mse.value(p, y, w) == pytest.approx(np.mean((p - y)[mask] ** 2))
    np.testing.assert_allclose(ns.losses.masked_weights(ns.losses.get("sse"), mask, [2.0, 1.0]),
                               mask * np.array([[2.0], [1.0]]))
    np.testing.assert_array_equal(ns.losses.masked_weights(mse, np.zeros((2, 3), bool)), 0.0)
    with pytest.raises(ShapeError, match=r"sample_weight shaped \(2,\) or \(2, 3\)"):
        ns.losses.masked_weights(mse, mask, np.ones(3))


def test_weights_per_position_need_outputs_with_a_time_axis(rng):
    with pytest.raises(ShapeError, match=r"sample_weight shaped \(N, T\) .* for y_pred shaped"):
        ns.losses.get("mse").value(np.ones((3, 4)), np.ones((3, 4)), np.ones((3, 4)))
    with pytest.raises(ShapeError, match="y_true shaped"):
        ns.losses.get("mse").value(np.ones((3, 4, 1)), np.ones((3, 5, 1)), np.ones((3, 4)))


def test_metrics_score_the_real_steps_only():
    probs = np.array([[[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]],
                      [[0.3, 0.7], [0.9, 0.1], [0.5, 0.5]]])
    labels = np.array([[0, 1, 1], [1, 1, 1]])
    mask = np.array([[True, True, False], [True, False, False]])
    assert ns.metrics.get("accuracy")(probs, labels) == pytest.approx(3 / 6)
    assert ns.metrics.get("accuracy")(probs, labels, mask=mask) == 1.0
    assert ns.metrics.get("f1")(probs, labels, mask=mask) == 1.0
    values = np.array([[1.0, 2.0, 3.0]])[..., None]
    assert ns.metrics.get("mae")(values, np.zeros((1, 3, 1)), mask=[[True, False, False]]) == 1.0
    with pytest.raises(ShapeError, match=r"mask \(N, T\) expects y_true"):
        ns.metrics.get("accuracy")(probs, labels[:, :2], mask=mask)


# --------------------------------------------------------------------------------------------
# Models: masks through graphs and chains, losses, gradient checks, lists of sequences
# --------------------------------------------------------------------------------------------

def tagger(chain, seed=0):
    """Per-step classes of token ids: Embedding(mask_zero) -> GRU -> Dense softmax."""
    layers = [ns.Embedding(9, 3, mask_zero=True), ns.GRU(4, return_sequences=True),
              ns.Dense(3, activation="softmax")]
    options = dict(loss="sparse_categorical_crossentropy", seed=seed, dtype="float64",
                   metrics=["accuracy"])
    if chain:
        return ns.Network(layers, input_shape=(6,), **options)
    x = ns.Input((6,))
    h = x
    for layer in layers:
        h = layer(h)
    return ns.Model(x, h, **options)


def padded_ids(rng, n=5, steps=6, low=1):
    lengths = rng.integers(low, steps + 1, n)
    ids = np.zeros((n, steps))
    for i, length in enumerate(lengths):
        ids[i, :length] = rng.integers(1, 9, length)
    return ids, ids != 0


@pytest.mark.parametrize("chain", [True, False])
def test_the_loss_of_a_masked_output_ignores_masked_steps(chain, rng):
    model = tagger(chain)
    ids, mask = padded_ids(rng)
    labels = rng.integers(0, 3, ids.shape)
    probs = model.predict(ids)
    manual = -np.log(np.take_along_axis(probs, labels[..., None], -1)[..., 0])[mask].mean()
    assert model.evaluate(ids, labels)["loss"] == pytest.approx(manual, rel=1e-12)
    other = labels.copy()
    other[~mask] = (other[~mask] + 1) % 3                    # labels of padding do not count
    loss = model.compute_gradients(ids, other)
    grads = {name: g.copy() for name, _, g in model.named_parameters()}
    assert loss == pytest.approx(model.compute_gradients(ids, labels))
    for name, _, g in model.named_parameters():
        np.testing.assert_array_equal(grads[name], g)
    np.testing.assert_array_equal(model.last_output_masks[0], mask)
    check_network(model, ids, labels)


def test_a_chain_and_a_graph_carry_the_same_masks(rng):
    chain, graph_model = tagger(True), tagger(False)
    for mine, theirs in zip(graph_model.layers, chain.layers):
        for key, value in mine.params.items():
            value[...] = theirs.params[key]
    ids, mask = padded_ids(rng)
    labels = rng.integers(0, 3, ids.shape)
    np.testing.assert_array_equal(chain.predict(ids), graph_model.predict(ids))
    assert chain.evaluate(ids, labels)["loss"] == graph_model.evaluate(ids, labels)["loss"]
    assert chain._chain is not None and graph_model._chain is not None   # the chain path
    values = chain.forward_all([ids])
    np.testing.assert_array_equal(values[("mask", chain.outputs[0].id)], mask)


def test_a_graph_with_masks_through_merges_attention_and_pooling(rng):
    x = ns.Input((6,))
    e = ns.Embedding(9, 4, mask_zero=True)(x)
    h = ns.Bidirectional(ns.GRU(2, return_sequences=True))(e)        # (N, T, 4), masked
    a = ns.MultiHeadAttention(2, 2)(h, h)                              # padded keys ignored
    s = ns.LayerNormalization()(ns.Add()([h, a]))
    pooled = ns.GlobalAvgPool1D(data_format="channels_last")(s)
    y = ns.Dense(1, activation="sigmoid")(pooled)
    model = ns.Model(x, y, loss="binary_crossentropy", seed=3, dtype="float64")
    ids, mask = padded_ids(rng, n=4)
    labels = rng.integers(0, 2, (4, 1)).astype(float)
    out = model.predict(ids)
    for n in range(4):                       # each sequence alone, cut to its length, agrees
        alone = model.forward(ids[n:n + 1, :int(mask[n].sum())])
        np.testing.assert_allclose(alone, out[n:n + 1], rtol=0, atol=1e-12)
    check_network(model, ids, labels)


def test_a_shared_layer_keeps_each_call_s_mask(rng):
    a, b = ns.Input((5,), name="a"), ns.Input((5,), name="b")
    embed, gru = ns.Embedding(9, 3, mask_zero=True), ns.GRU(3)
    y = ns.Dense(1)(ns.Concatenate()([gru(embed(a)), gru(embed(b))]))
    model = ns.Model([a, b], y, dtype="float64", seed=0)
    (ids_a, mask_a), (ids_b, mask_b) = padded_ids(rng, 4, 5), padded_ids(rng, 4, 5)
    out = model.predict([ids_a, ids_b])
    for n in range(4):
        alone = [gru.forward(embed.forward(ids[n:n + 1, :int(mask[n].sum())]))
                 for ids, mask in ((ids_a, mask_a), (ids_b, mask_b))]
        np.testing.assert_allclose(model.layers[-1].forward(np.concatenate(alone, -1)),
                                   out[n:n + 1], rtol=0, atol=1e-12)
    check_network(model, [ids_a, ids_b], rng.standard_normal((4, 1)))


def test_an_explicit_mask_in_a_call_wins_and_a_layer_may_end_the_mask(rng):
    x, m = ns.Input((5, 2)), ns.Input((5,))
    h = ns.Masking()(x)
    y = ns.LSTM(3)(h, mask=m)                 # the given mask, not the Masking layer's
    model = ns.Model([x, m], y, dtype="float64", seed=0)
    data, mask = end_padded(rng, [5, 2, 4], 5, 2, garbage=False)
    given = np.ones((3, 5))
    lstm = model.layers[-1]
    np.testing.assert_allclose(model.predict([data, given]), lstm.forward(data))
    np.testing.assert_allclose(model.predict([data, mask.astype(float)]),
                               lstm.forward(data, mask=mask))
    flat = ns.Network([ns.Embedding(5, 2, mask_zero=True), ns.Flatten(), ns.Dense(1)],
                      input_shape=(4,))
    values = flat.forward_all([np.array([[1.0, 2.0, 0.0, 0.0]])])
    assert not any(isinstance(key, tuple) for key in values)    # Flatten ended the mask


def test_masking_model_gradient_check_of_the_parameters(rng):
    net = ns.Network([ns.Masking(), ns.LSTM(3, return_sequences=True), ns.Dense(2)],
                     loss="mse", seed=0, dtype="float64")
    x, mask = end_padded(rng, [4, 1, 3], 4, 2, garbage=False)
    y = rng.standard_normal((3, 4, 2))
    errors = check_network(net, x, y, raise_on_failure=False)
    assert all(err < 1e-6 for name, err in errors.items() if name != "input")
    # the mask is a step function of x: moving a padded 0 makes a real step, so the input
    # gradient (which holds the mask fixed) is checked at the real steps only
    _, grad_x = net.compute_gradients(x, y, return_input_grad=True)
    numeric = numerical_gradient(lambda: net.loss_value(x, y), x)
    assert relative_error(grad_x[mask], numeric[mask]) < 1e-7
    np.testing.assert_array_equal(grad_x[~mask], 0.0)


def test_lists_of_sequences_are_padded_for_fit_predict_and_evaluate(rng):
    seqs = [list(rng.integers(1, 9, n)) for n in (3, 7, 1, 5, 2, 6)]
    labels = np.array([[1.0], [0.0], [1.0], [0.0], [1.0], [0.0]])
    net = ns.Network([ns.Embedding(9, 3, mask_zero=True), ns.GRU(4),
                      ns.Dense(1, activation="sigmoid")], loss="binary_crossentropy", seed=0,
                     dtype="float64")
    net.fit(seqs, labels, epochs=2, verbose=0)
    assert net.input_shape == (None,)                        # built from data: any length
    assert net.layers[1].input_shape == (7, 3)               # built on the longest sequence
    np.testing.assert_array_equal(net.predict(seqs), net.predict(pad_sequences(seqs, maxlen=7,
                                                                               padding="post")))
    assert np.isfinite(net.evaluate(seqs, labels)["loss"])
    longer = [[1] * 8, [2, 3]]
    np.testing.assert_array_equal(net.predict(longer),
                                  net.predict(pad_sequences(longer, padding="post")))
    fixed = ns.Network([ns.Embedding(9, 3, mask_zero=True), ns.GRU(4)], input_shape=(7,))
    with pytest.raises(ShapeError, match="more than the model's sequence length 7"):
        fixed.predict([[1] * 8])
    x = ns.Input((9, 2))
    model = ns.Model(x, ns.Dense(1)(ns.GRU(3)(ns.Masking(mask_value=-1.0)(x))), seed=0)
    vectors = [rng.standard_normal((n, 2)) for n in (2, 9, 4)]
    padded = pad_sequences(vectors, maxlen=9, padding="post", dtype="float32", value=-1.0)
    np.testing.assert_array_equal(model.predict(vectors), model.predict(padded))
    plain = ns.Network([ns.Dense(1)])
    with pytest.raises(DataError, match="rectangular"):
        plain.predict([[1.0, 2.0], [3.0]])                  # no layer makes masks: refused


def test_save_and_load_keep_the_masking_layers(tmp_path, rng):
    net = ns.Network([ns.Masking(mask_value=-1.0), ns.GRU(3, zero_output_for_mask=True,
                                                            return_sequences=True),
                      ns.GlobalMaxPool1D(data_format="channels_last")], seed=0,
                     input_shape=(5, 2))
    x, mask = end_padded(rng, [5, 2], 5, 2)
    x[~mask] = -1.0
    net.save(tmp_path / "m.nns")
    loaded = ns.load(tmp_path / "m.nns")
    np.testing.assert_array_equal(loaded.predict(x), net.predict(x))
    assert loaded.layers[1].zero_output_for_mask and loaded.layers[0].mask_value == -1.0


# --------------------------------------------------------------------------------------------
# ONNX export: masks as sequence lengths, a free sequence length
# --------------------------------------------------------------------------------------------

def _randomized(net, rng):
    for layer in net.layers:
        for value in layer.params.values():
            value += rng.normal(0.0, 0.3, value.shape).astype(value.dtype)
    return net


def _session(model_proto):
    ort = pytest.importorskip("onnxruntime")
    return ort.InferenceSession(model_proto.SerializeToString(), providers=["CPUExecutionProvider"])


ONNX_CASES = {
    "lstm": lambda: [ns.LSTM(4), ns.Dense(2)],
    "lstm_sequences": lambda: [ns.LSTM(4, return_sequences=True), ns.Dense(2)],
    "gru_backwards_sequences": lambda: [ns.GRU(3, return_sequences=True, go_backwards=True)],
    "gru_backwards": lambda: [ns.GRU(3, go_backwards=True)],
    "rnn_zero_outputs": lambda: [ns.SimpleRNN(3, return_sequences=True, zero_output_for_mask=True)],
    "rnn_unrolled": lambda: [ns.SimpleRNN(3, activation="gelu", return_sequences=True),
                             ns.GlobalMaxPool1D(data_format="channels_last")],
    "bidirectional_sequences_avg": lambda: [ns.Bidirectional(ns.LSTM(3, return_sequences=True)),
                                            ns.GlobalAvgPool1D(data_format="channels_last")],
    "bidirectional": lambda: [ns.Bidirectional(ns.GRU(3), merge_mode="sum")],
    "pool_keepdims": lambda: [ns.Dense(3), ns.GlobalMaxPool1D(data_format="channels_last",
                                                              keepdims=True)],
}


@pytest.mark.parametrize("case", sorted(ONNX_CASES))
@pytest.mark.parametrize("maker", ["embedding", "masking"])
def test_masked_models_match_onnx_runtime_on_end_padded_sequences(case, maker, rng):
    pytest.importorskip("onnx")
    first = ns.Embedding(9, 3, mask_zero=True) if maker == "embedding" else ns.Masking()
    net = _randomized(ns.Network([first, *ONNX_CASES[case]()], seed=0,
                                 input_shape=(6,) if maker == "embedding" else (6, 2)), rng)
    if maker == "embedding":
        x, _ = padded_ids(rng, n=7, low=0)                   # empty sequences too
    else:
        x, _ = end_padded(rng, [6, 0, 3, 1, 5], 6, 2, garbage=False)
    x = x.astype(np.float32)
    got = _session(to_onnx(net)).run(["output"], {"input": x})[0]
    np.testing.assert_allclose(got, net.predict(x), rtol=1e-5, atol=1e-5)


def test_the_sequence_length_stays_free_in_onnx(rng):
    pytest.importorskip("onnx")
    net = _randomized(ns.Network([ns.Embedding(9, 3, mask_zero=True),
                                  ns.LSTM(4, return_sequences=True), ns.Dense(2)], seed=0,
                                 input_shape=(6,)), rng)
    proto = to_onnx(net)

    def dims(value):
        return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]

    assert dims(proto.graph.input[0]) == ["N", "T"] and dims(proto.graph.output[0]) == ["N", "T", 2]
    session = _session(proto)
    for steps in (2, 6, 13):
        x, _ = padded_ids(rng, n=3, steps=steps)
        x = x.astype(np.float32)
        np.testing.assert_allclose(session.run(["output"], {"input": x})[0], net.forward(x),
                                   rtol=1e-5, atol=1e-5)
    fixed = ns.Network([ns.Embedding(9, 3), ns.Flatten(), ns.Dense(2)], input_shape=(6,))
    assert dims(to_onnx(fixed).graph.input[0]) == ["N", 6]
    unrolled = ns.Network([ns.SimpleRNN(2, activation="gelu")], input_shape=(4, 3))
    assert dims(to_onnx(unrolled).graph.input[0]) == ["N", 4, 3]


def test_onnx_graph_models_with_masks_and_free_lengths(rng):
    pytest.importorskip("onnx")
    x = ns.Input((6,), name="ids")
    e = ns.Embedding(9, 4, mask_zero=True)(x)
    h = ns.GRU(4, return_sequences=True)(e)
    a = ns.MultiHeadAttention(2, 2)(h, h)
    y = ns.Dense(2)(ns.GlobalAvgPool1D(data_format="channels_last")(ns.Add()([h, a])))
    model = ns.Model(x, y, seed=0)
    _randomized(model, rng)
    session = _session(to_onnx(model))
    ids, _ = padded_ids(rng, n=4)
    ids = ids.astype(np.float32)
    got = session.run([model.output_names[0]], {"ids": ids})[0]
    np.testing.assert_allclose(got, model.predict(ids), rtol=1e-5, atol=1e-5)
    longer, _ = padded_ids(rng, n=2, steps=9)
    longer = longer.astype(np.float32)
    np.testing.assert_allclose(session.run([model.output_names[0]], {"ids": longer})[0],
                               model.forward(longer), rtol=1e-5, atol=1e-5)


def test_masks_onnx_cannot_express_are_refused():
    pytest.importorskip("onnx")
    net = ns.Network([ns.Embedding(9, 3, mask_zero=True), ns.GlobalAvgPool1D()], input_shape=(3,))
    with pytest.raises(ExportError, match="pools masks only with data_format='channels_last'"):
        to_onnx(net)
    x = ns.Input((4,))
    e = ns.Embedding(9, 3, mask_zero=True)(x)
    joined = ns.Concatenate(axis=1)([e, e])
    model = ns.Model(x, ns.GRU(2)(joined))
    with pytest.raises(ExportError, match="joins masked sequences along time"):
        to_onnx(model)
