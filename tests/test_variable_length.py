"""Variable-length sequences at the model level: per-step sample weights through fit, evaluate,
validation data and data sources (a GPT's loss on its answer only), and a free time axis
(``ns.Input((None, F))``, a Network built from sequences) that predicts on any length, saves,
loads and exports."""

import json

import numpy as np
import pytest

import nnscratch as ns
from nnscratch import checks
from nnscratch.data import ArrayDataset
from nnscratch.errors import ConfigError, DataError, ExportError, ModelFileError, ShapeError
from nnscratch.saving import atomic, container
from nnscratch.saving.common import is_shape
from nnscratch.symbolic import FREE_PROBES, example_shape, fits

VOCAB, STEPS = 11, 7


# --------------------------------------------------------------------------------------------
# Per-step sample weights (N, T)
# --------------------------------------------------------------------------------------------

def gpt(seed=0, steps=STEPS, free=False):
    """A small GPT: token and position embeddings, causal self-attention, next-token softmax."""
    ids = ns.Input((None if free else steps,), name="ids")
    h = ns.PositionalEmbedding(steps, 8)(ns.Embedding(VOCAB, 8)(ids))
    h = ns.LayerNormalization()(ns.Add()([h, ns.MultiHeadAttention(2, 4)(h, h,
                                                                         use_causal_mask=True)]))
    out = ns.Dense(VOCAB, activation="softmax")(h)
    return ns.Model(ids, out, loss="sparse_categorical_crossentropy",
                    optimizer=ns.optimizers.SGD(learning_rate=0.5), seed=seed, dtype="float64")


def prompts_and_answers(rng, n=5, steps=STEPS):
    """``(x, y, answer)``: token ids, the next token at each position, and where the answer
    is (True), after prompts of different lengths."""
    x = rng.integers(1, VOCAB, (n, steps))
    y = np.concatenate([x[:, 1:], rng.integers(1, VOCAB, (n, 1))], axis=1)
    prompt = rng.integers(1, steps - 1, n)
    answer = np.arange(steps)[None, :] >= prompt[:, None]
    return x, y, answer


def answer_only_gradients(model, x, y, answer):
    """The parameter gradients of the mean cross-entropy over the answer positions only,
    computed by hand: dL/dp = -1 / (A p_y) at an answer position, 0 elsewhere."""
    p = model.forward(x.astype(np.float64))
    grad = np.zeros_like(p)
    n, t = np.nonzero(answer)
    grad[n, t, y[n, t]] = -1.0 / (answer.sum() * p[n, t, y[n, t]])
    model.backward(grad)
    return {name: g.copy() for name, _, g in model.named_parameters()}


def test_zero_weights_on_the_prompt_give_the_gradients_of_the_loss_on_the_answer(rng):
    model = gpt()
    x, y, answer = prompts_and_answers(rng)
    # mean over N T positions with weights N T / A on the answers = the mean over the answers
    w = answer * (answer.size / answer.sum())
    xs, ys = model.prepare_inputs(x), model.prepare_targets(y)
    model.compute_gradients(xs, ys, model.sample_weights(ys, w, None))
    weighted = {name: g.copy() for name, _, g in model.named_parameters()}
    expected = answer_only_gradients(model, x, y, answer)
    for name, grad in expected.items():
        np.testing.assert_allclose(weighted[name], grad, rtol=1e-7, atol=1e-12, err_msg=name)
    # and through fit: one step of plain gradient descent with those gradients
    before = model.get_weights()
    model.fit(x, y, sample_weight=w, epochs=1, verbose=0, shuffle=False)
    after = model.get_weights()
    for name, grad in expected.items():
        np.testing.assert_allclose(after[name], before[name] - 0.5 * grad, rtol=1e-7,
                                   atol=1e-12, err_msg=name)


def test_per_step_weights_in_evaluate_validation_data_and_data_sources(rng):
    x, y, answer = prompts_and_answers(rng, n=8)
    w = answer * 2.0
    model = gpt()
    loss = ns.losses.get("sparse_categorical_crossentropy")
    expected = loss.value(model.predict(x), y, w)
    assert model.evaluate(x, y, sample_weight=w)["loss"] == pytest.approx(expected, rel=1e-10)
    assert model.evaluate([(x, y, w)])["loss"] == pytest.approx(expected, rel=1e-10)
    assert model.evaluate(ArrayDataset(x, y, w), batch_size=8)["loss"] == pytest.approx(
        expected, rel=1e-10)
    # validation data with per-step weights: the last val_loss is evaluate after training
    history = model.fit(x, y, sample_weight=w, validation_data=(x, y, w), epochs=2,
                        batch_size=4, shuffle=False, verbose=0)
    assert history.history["val_loss"][-1] == pytest.approx(
        model.evaluate(x, y, sample_weight=w)["loss"], rel=1e-10)
    # arrays, an iterable of (x, y, w) batches and a Dataset train alike
    trained = []
    for data in ("arrays", "iterable", "dataset"):
        other = gpt()
        if data == "arrays":
            other.fit(x, y, sample_weight=w, batch_size=4, shuffle=False, epochs=2, verbose=0)
        elif data == "iterable":
            other.fit([(x[:4], y[:4], w[:4]), (x[4:], y[4:], w[4:])], epochs=2, verbose=0)
        else:
            other.fit(ArrayDataset(x, y, w), batch_size=4, shuffle=False, epochs=2, verbose=0)
        trained.append(other.get_weights())
    for weights in trained[1:]:
        for name, value in trained[0].items():
            np.testing.assert_array_equal(weights[name], value, err_msg=name)


def test_per_step_weights_combine_with_masks_and_class_weights(rng):
    ids = np.array([[3, 4, 5, 0], [6, 7, 0, 0]])
    labels = np.array([[1, 2, 0, 0], [2, 1, 0, 0]])
    net = ns.Network([ns.Embedding(9, 3, mask_zero=True), ns.GRU(4, return_sequences=True),
                      ns.Dense(3, activation="softmax")],
                     loss="sparse_categorical_crossentropy", seed=0, dtype="float64")
    w = np.array([[1.0, 0.0, 5.0, 5.0], [2.0, 1.0, 7.0, 7.0]])    # padded steps: any weight
    probs = net.predict(ids)
    mask = ids != 0
    scores = -np.log(np.take_along_axis(probs, labels[..., None], -1)[..., 0])
    expected = (w * mask * scores).sum() / mask.sum()              # the mean over real steps
    assert net.evaluate(ids, labels, sample_weight=w)["loss"] == pytest.approx(expected)
    # class_weight per position: the weight of each position's label
    ys = net.prepare_targets(labels)
    np.testing.assert_array_equal(net.sample_weights(ys, None, {1: 3.0, 2: 0.5}),
                                  [[3.0, 0.5, 1.0, 1.0], [0.5, 3.0, 1.0, 1.0]])
    np.testing.assert_array_equal(net.sample_weights(ys, [1.0, 2.0], {1: 3.0}),
                                  [[3.0, 1.0, 1.0, 1.0], [2.0, 6.0, 2.0, 2.0]])
    np.testing.assert_array_equal(net.sample_weights(ys, w, {1: 3.0}), w * [[3, 1, 1, 1],
                                                                           [1, 3, 1, 1]])


def test_sample_weights_are_checked_naming_the_shapes(rng):
    x, y, _ = prompts_and_answers(rng, n=4)
    model = gpt()
    with pytest.raises(ShapeError, match=r"\(N,\) = \(4,\), one weight per sample, or \(N, T\) = "
                                         r"\(4, 7\), one weight per step.*got shape \(4, 6\)"):
        model.fit(x, y, sample_weight=np.ones((4, 6)), verbose=0)
    with pytest.raises(ShapeError, match=r"got shape \(3,\)"):
        model.evaluate(x, y, sample_weight=np.ones(3))
    negative = np.ones((4, STEPS))
    negative[2, 5] = -1.0
    with pytest.raises(DataError, match=r"sample_weight must be >= 0, got a negative weight -1 "
                                        r"at index \(2, 5\)"):
        model.fit(x, y, sample_weight=negative, verbose=0)
    with pytest.raises(DataError, match="sample_weight"):
        model.evaluate(x, y, sample_weight=np.full((4, STEPS), np.nan))
    with pytest.raises(DataError, match="sample_weight"):
        model.fit(x, y, validation_data=(x, y, np.full((4, STEPS), np.inf)), verbose=0)
    with pytest.raises(DataError, match="sample_weight must be >= 0"):
        model.fit([(x, y, negative)], verbose=0)
    # an output without a time axis takes one weight per sample only
    net = ns.Network([ns.Dense(2)], seed=0)
    with pytest.raises(ShapeError, match=r"\(N,\) = \(4,\), one weight per sample; got shape "
                                         r"\(4, 2\)"):
        net.fit(np.ones((4, 3)), np.ones((4, 2)), sample_weight=np.ones((4, 2)), verbose=0)
    net.fit(np.ones((4, 3)), np.ones((4, 2)), sample_weight=np.ones((4, 1)), verbose=0)


# --------------------------------------------------------------------------------------------
# A free time axis
# --------------------------------------------------------------------------------------------

def gru_model(steps, seed=0):
    x = ns.Input((steps, 1))
    return ns.Model(x, ns.Dense(1)(ns.GRU(6)(x)), loss="mse", optimizer="adam", seed=seed,
                    dtype="float64")


def test_a_model_with_a_free_length_predicts_on_any_length_as_one_built_for_it(rng):
    model = gru_model(None)
    assert model.input_shape == (None, 1) and "(N, None, 1)" in repr(model.inputs[0])
    x = rng.standard_normal((32, 12, 1))
    model.fit(x, x.sum(axis=1), epochs=3, batch_size=8, verbose=0)
    for steps in (5, 12, 20):
        fixed = gru_model(steps, seed=1)
        fixed.set_weights(model.get_weights())
        data = rng.standard_normal((4, steps, 1))
        np.testing.assert_allclose(model.predict(data), fixed.predict(data), rtol=1e-12)
        np.testing.assert_allclose(model.evaluate(data, data.sum(axis=1))["loss"],
                                   fixed.evaluate(data, data.sum(axis=1))["loss"], rtol=1e-12)
    with pytest.raises(ShapeError, match=r"expects x shaped \(N, None, 1\), got \(4, 5, 2\)"):
        model.predict(np.ones((4, 5, 2)))
    # batches of different lengths in one fit (an iterable of batches)
    batches = [(x[:8, :length], x[:8, :length].sum(axis=1)) for length in (3, 9, 12)]
    model.fit(batches, epochs=2, verbose=0)


def test_a_network_built_on_length_8_predicts_on_length_15(rng):
    layers = lambda: [ns.Embedding(9, 4, mask_zero=True), ns.LSTM(5), ns.Dense(2)]   # noqa: E731
    net = ns.Network(layers(), seed=0, dtype="float64")
    ids = rng.integers(1, 9, (6, 8))
    net.fit(ids, rng.standard_normal((6, 2)), epochs=2, verbose=0)
    assert net.input_shape == (None,) and net.layers[0].input_shape == (8,)
    longer = rng.integers(0, 9, (3, 15))
    fixed = ns.Network(layers(), seed=1, dtype="float64", input_shape=(15,))
    fixed.set_weights(net.get_weights())
    np.testing.assert_allclose(net.predict(longer), fixed.predict(longer), rtol=1e-12)
    # sequences, (N, T, features), free their length too; a layer that needs it keeps it
    seq = ns.Network([ns.Masking(), ns.GRU(3, return_sequences=True), ns.Dense(1)])
    seq.predict(np.ones((2, 4, 3)))
    assert seq.input_shape == (None, 3) and seq.output_shape == (None, 1)
    assert seq.predict(np.ones((2, 9, 3))).shape == (2, 9, 1)
    flat = ns.Network([ns.Embedding(9, 2), ns.Flatten(), ns.Dense(1)])
    flat.predict(np.ones((2, 8)))
    assert flat.input_shape == (8,)
    with pytest.raises(ShapeError, match=r"expects samples shaped \(8,\)"):
        flat.predict(np.ones((2, 15)))
    dense = ns.Network([ns.Dense(3)])                  # features, not a sequence: kept
    dense.predict(np.ones((2, 4)))
    assert dense.input_shape == (4,)
    ids = ns.Network([ns.Embedding(9, 2), ns.GRU(2)])   # ids without mask_zero: categories?
    ids.predict(np.ones((2, 5)))
    assert ids.input_shape == (5,)
    assert ns.Network([ns.Dense(2)]).free_length_shape((5, 4)) == (None, 4)   # time-distributed


def test_layers_that_need_a_fixed_length_are_refused_naming_the_layer():
    free = ns.Input((None, 3))
    with pytest.raises(ShapeError, match=r"Flatten layer flat cannot take inputs shaped "
                                         r"\(N, None, 3\): it folds the free axis \(None\)"):
        ns.Flatten(name="flat")(free)
    with pytest.raises(ShapeError, match=r"Flatten layer f2 .*free axis"):
        ns.Network([ns.GRU(2, return_sequences=True), ns.Flatten(name="f2"), ns.Dense(1)],
                   input_shape=(None, 3))
    with pytest.raises(ShapeError, match=r"Conv1D layer c sizes its parameters by an axis that "
                                         r"is free \(None\)"):
        ns.Conv1D(4, 3, name="c")(free)               # channels first: the free axis is C
    with pytest.raises(ShapeError, match=r"Dense layer d sizes its parameters"):
        ns.Dense(2, name="d")(ns.Input((3, None)))
    # a convolution over a free length is fine until something needs a fixed size
    lengths = ns.Input((3, None))
    conv = ns.Conv1D(4, 3, stride=2, name="conv")(lengths)
    assert conv.shape == (4, None)
    pooled = ns.GlobalMaxPool1D()(conv)
    assert pooled.shape == (4,)
    with pytest.raises(ShapeError, match="Flatten layer"):
        ns.Flatten()(conv)
    model = ns.Model(lengths, ns.Dense(1)(pooled), seed=0)
    assert "(N, 4, None)" in model.summary(print_fn=None)
    assert model.predict(np.ones((2, 3, 9))).shape == model.predict(np.ones((2, 3, 40))).shape
    # a PositionalEmbedding takes any length up to its sequence_length
    ids = ns.Input((None,))
    out = ns.PositionalEmbedding(6, 4, name="pos")(ns.Embedding(9, 4)(ids))
    pos = ns.Model(ids, out, seed=0)
    assert pos.predict(np.ones((1, 6))).shape == (1, 6, 4)
    with pytest.raises(ShapeError, match="PositionalEmbedding layer pos has 6 positions, got "
                                         "sequences of 7 steps"):
        pos.predict(np.ones((1, 7)))
    with pytest.raises(ConfigError, match=r"Input shape must be a positive integer, got -1"):
        ns.Input((-1, 3))


def test_causal_attention_on_a_free_length_reads_each_prefix_alone(rng):
    model = gpt(free=True)
    x = rng.integers(1, VOCAB, (3, STEPS))
    whole = model.predict(x)
    for steps in (1, 4):
        np.testing.assert_allclose(model.predict(x[:, :steps]), whole[:, :steps], rtol=1e-10)


def test_free_shape_helpers():
    assert checks.sample_shape((None, 4), free=True) == (None, 4)
    with pytest.raises(ConfigError):
        checks.sample_shape((None, 4))
    assert fits((7, 4), (None, 4)) and not fits((7, 5), (None, 4)) and not fits((7,), (None, 4))
    assert example_shape((None, 4)) == (FREE_PROBES[0], 4) and example_shape((3,)) == (3,)
    assert example_shape((3, None), [ns.Conv1D(2, 5)]) == (3, 5)
    assert is_shape([None, 3], free=True) and not is_shape([None, 3])
    assert not is_shape([None, 0], free=True)


# --------------------------------------------------------------------------------------------
# Saving, loading and ONNX with a free length
# --------------------------------------------------------------------------------------------

def test_a_free_length_model_saves_and_loads(tmp_path, rng):
    model = gru_model(None)
    x = rng.standard_normal((8, 12, 1))
    model.fit(x, x.sum(axis=1), epochs=1, verbose=0)
    model.save(tmp_path / "free.nns")
    loaded = ns.load(tmp_path / "free.nns")
    assert loaded.input_shape == (None, 1)
    for steps in (5, 20):
        data = rng.standard_normal((3, steps, 1))
        np.testing.assert_array_equal(loaded.predict(data), model.predict(data))
    loaded.fit(x, x.sum(axis=1), epochs=1, verbose=0)        # and trains on
    net = ns.Network([ns.Embedding(9, 3, mask_zero=True), ns.GRU(4)], seed=0)
    net.predict(rng.integers(1, 9, (2, 8)))
    net.save(tmp_path / "net.nns")
    back = ns.load(tmp_path / "net.nns")
    ids = rng.integers(0, 9, (2, 15))
    assert back.input_shape == (None,)
    np.testing.assert_array_equal(back.predict(ids), net.predict(ids))


def _forged(path, change):
    """Rewrite the architecture of the model file at ``path`` with ``change(arch)``."""
    tensors, header = container.read(path)
    arch = json.loads(header["architecture"])
    change(arch)
    header = dict(header, architecture=json.dumps(arch))
    atomic.write_atomic(path, container.encode([(k, np.array(v)) for k, v in tensors.items()],
                                               header))


def test_a_file_takes_null_only_for_a_free_axis_the_layers_take(tmp_path):
    net = ns.Network([ns.Dense(2), ns.Flatten(), ns.Dense(1)], seed=0, input_shape=(4, 3))
    net.save(tmp_path / "flat.nns")
    _forged(tmp_path / "flat.nns", lambda arch: arch.update(input_shape=[None, 3]))
    with pytest.raises(ModelFileError, match="Flatten layer"):
        ns.load(tmp_path / "flat.nns")
    _forged(tmp_path / "flat.nns", lambda arch: arch.update(input_shape=[4, "3"]))
    with pytest.raises(ModelFileError, match=r"null for a free axis"):
        ns.load(tmp_path / "flat.nns")
    x = ns.Input((4, 3), name="x")
    model = ns.Model(x, ns.Dense(1)(ns.Flatten()(x)), seed=0)
    model.save(tmp_path / "graph.nns")
    _forged(tmp_path / "graph.nns",
            lambda arch: arch["graph"]["inputs"][0].update(shape=[None, 3]))
    with pytest.raises(ModelFileError, match="Flatten layer"):
        ns.load(tmp_path / "graph.nns")


def _session(proto):
    ort = pytest.importorskip("onnxruntime")
    return ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])


def test_onnx_export_of_a_free_length(rng):
    pytest.importorskip("onnx")
    from nnscratch.saving.onnx import to_onnx
    model = gru_model(None)
    proto = to_onnx(model)
    dims = [d.dim_param or d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["N", "T", 1]
    session = _session(proto)
    for steps in (5, 20):
        data = rng.standard_normal((2, steps, 1)).astype(np.float32)
        got = session.run(None, {model.input_names[0]: data})[0]
        np.testing.assert_allclose(got, model.predict(data), rtol=1e-5, atol=1e-5)
    # a free length the ONNX form cannot leave free is refused; a network built from data
    # exports for the length it was built on, as before
    with pytest.raises(ExportError, match=r"free axis \(None\)"):
        to_onnx(gpt(free=True))
    layers = [ns.Embedding(9, 4, mask_zero=True), ns.PositionalEmbedding(8, 4), ns.LSTM(3)]
    net = ns.Network(layers, seed=0)
    ids = rng.integers(1, 9, (2, 8))
    net.predict(ids)
    assert net.input_shape == (None,)
    proto = to_onnx(net)
    dims = [d.dim_param or d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["N", 8]
    np.testing.assert_allclose(_session(proto).run(None, {"input": ids.astype(np.float32)})[0],
                               net.predict(ids), rtol=1e-5, atol=1e-5)
