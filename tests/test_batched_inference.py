"""predict, evaluate and fit's validation pass go through the data in batches: the same
results as one batch of everything (bit for bit where the layers allow), memory for one batch.

Which layers are bit-identical whatever the batch size: those that compute each sample on its
own without a matrix product (pooling, global pooling, up-sampling, reshaping, dropout at
inference, activations, batch and layer normalisation, embeddings, positional embeddings,
masking, merges). Those built on a matrix product (Dense, the convolutions through im2col, the
recurrent layers, attention) go through BLAS, whose kernels for a product (M x K) @ (K x N)
depend on M, the rows of the batch: a batch of one row takes the matrix-vector kernel, and
small-matrix kernels and blocking change the order of the sums over K, so a sample's result
may change in its last bits with the batch size. On OpenBLAS 0.3 (Haswell kernel) the example
networks below agree to the bit in batches of 7 and 32 but not in batches of 1 (up to 6e-7 in
float32, 1.3e-15 in float64), and a Dense 784-300 differs at every batch size (up to 8e-7 in
float32); the bound for them is 1e-6 of the outputs' scale.
"""

import numpy as np
import pytest
from test_data_sources import peak_in_subprocess
from test_io import EXAMPLES, OUR_LAYER_CLASSES, Graph, build_example

import nnscratch as ns
from nnscratch.data import ArrayDataset
from nnscratch.errors import ConfigError

L = ns.layers

# Layers that need no matrix product, each alone (or after what makes its input): batched
# predictions equal whole-batch ones bit for bit.
WITHOUT_BLAS = {
    "Flatten": lambda: ([L.Flatten()], (2, 3)),
    "Reshape": lambda: ([L.Reshape((3, 2))], (6,)),
    "Dropout": lambda: ([L.Dropout(0.5)], (3,)),
    "Activation": lambda: ([L.Activation("gelu")], (4,)),
    "MaxPool1D": lambda: ([L.MaxPool1D(2)], (2, 7)),
    "MaxPool2D": lambda: ([L.MaxPool2D(2, stride=1)], (1, 4, 4)),
    "AvgPool1D": lambda: ([L.AvgPool1D(2, padding=1, count_include_pad=False)], (2, 5)),
    "AvgPool2D": lambda: ([L.AvgPool2D(2)], (1, 4, 4)),
    "GlobalAvgPool1D": lambda: ([L.GlobalAvgPool1D()], (3, 4)),
    "GlobalAvgPool2D": lambda: ([L.GlobalAvgPool2D(keepdims=True)], (2, 3, 3)),
    "GlobalMaxPool1D": lambda: ([L.GlobalMaxPool1D()], (3, 4)),
    "GlobalMaxPool2D": lambda: ([L.GlobalMaxPool2D()], (2, 3, 3)),
    "UpSampling1D": lambda: ([L.UpSampling1D(2)], (2, 3)),
    "UpSampling2D": lambda: ([L.UpSampling2D(2)], (1, 2, 2)),
    "BatchNormalization": lambda: ([L.BatchNormalization()], (2, 3)),
    "LayerNormalization": lambda: ([L.LayerNormalization()], (5,)),
    "Embedding": lambda: ([L.Embedding(7, 3)], (5,)),
    "PositionalEmbedding": lambda: ([L.Embedding(7, 3), L.PositionalEmbedding(6, 3)], (5,)),
}


def assert_close_to_the_bit_or_1e6(whole, batched):
    """Equal bits, or within 1e-6 of the outputs' scale."""
    for a, b in zip(whole if isinstance(whole, list) else [whole],
                    batched if isinstance(batched, list) else [batched]):
        assert a.dtype == b.dtype and a.shape == b.shape
        if a.tobytes() != b.tobytes():
            scale = max(1.0, float(np.max(np.abs(a))))
            assert np.max(np.abs(a - b)) <= 1e-6 * scale


def example_x(kind, rng, n):
    net, make_x = build_example(kind, loss="mse", seed=3, dtype="float32")
    return net, make_x(rng, n)


@pytest.mark.parametrize("kind", [k for k in OUR_LAYER_CLASSES if EXAMPLES.get(k) is not None])
def test_batched_predict_matches_one_batch_for_every_example_network(kind):
    net, x = example_x(kind, np.random.default_rng(0), 45)
    whole = net.predict(x, batch_size=45)
    for size in (1, 7, 32):
        assert_close_to_the_bit_or_1e6(whole, net.predict(x, batch_size=size))


@pytest.mark.parametrize("kind", sorted(WITHOUT_BLAS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_layers_without_a_matrix_product_predict_the_same_bits_in_batches(kind, dtype):
    layers, shape = WITHOUT_BLAS[kind]()
    net = ns.Network(layers, input_shape=shape, seed=0, dtype=dtype)
    rng = np.random.default_rng(1)
    x = (rng.integers(0, 7, (45,) + shape).astype(dtype) if kind.endswith("Embedding")
         else rng.standard_normal((45,) + shape))
    whole = net.predict(x, batch_size=45)
    for size in (1, 7, 32):
        assert net.predict(x, batch_size=size).tobytes() == whole.tobytes()


def test_merges_predict_the_same_bits_in_batches():
    a, b = ns.Input((4,)), ns.Input((4,))
    outputs = [L.Add()([a, b]), L.Subtract()([a, b]), L.Multiply()([a, b]), L.Average()([a, b]),
               L.Maximum()([a, b]), L.Minimum()([a, b]), L.Concatenate()([a, b])]
    model = ns.Model([a, b], outputs, seed=0)
    rng = np.random.default_rng(2)
    x = [rng.standard_normal((45, 4)), rng.standard_normal((45, 4))]
    whole = model.predict(x, batch_size=45)
    assert all(p.tobytes() == w.tobytes() for p, w in zip(model.predict(x, batch_size=7), whole))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_wide_dense_network_agrees_to_1e6(dtype):
    net = ns.Network([L.Dense(300, activation="relu"), L.Dense(10, activation="softmax")],
                     seed=0, dtype=dtype, input_shape=(784,))
    x = np.random.default_rng(0).standard_normal((500, 784))
    whole = net.predict(x, batch_size=500)
    for size in (1, 32, 333):
        assert_close_to_the_bit_or_1e6(whole, net.predict(x, batch_size=size))


# -- evaluate --------------------------------------------------------------------------------

def regressor():
    return ns.Network([L.Dense(6, activation="tanh"), L.Dense(2)], loss="mse", metrics=["mae", "r2"],
                      seed=0, dtype="float64", input_shape=(3,))


def test_evaluate_in_batches_equals_one_batch_with_weights_and_metrics():
    rng = np.random.default_rng(0)
    x, y, w = rng.standard_normal((50, 3)), rng.standard_normal((50, 2)), rng.random(50)
    net = regressor()
    for weights in (None, w):
        whole = net.evaluate(x, y, sample_weight=weights, batch_size=50)
        for size in (1, 7, 32):
            part = net.evaluate(x, y, sample_weight=weights, batch_size=size)
            assert part.keys() == whole.keys()
            assert all(part[k] == pytest.approx(whole[k], rel=1e-12) for k in whole)
    assert net.evaluate(x, y)["loss"] == pytest.approx(net.loss_value(x, y), rel=1e-12)


def test_evaluate_of_several_outputs_and_a_sum_loss():
    inputs = ns.Input((3,))
    h = L.Dense(5, activation="relu")(inputs)
    model = ns.Model(inputs, {"a": L.Dense(2)(h), "b": L.Dense(3, activation="softmax")(h)},
                     loss={"a": ns.losses.get({"name": "huber"}), "b": "categorical_crossentropy"},
                     loss_weights={"a": 0.5, "b": 2.0}, metrics={"b": ["accuracy"]}, seed=0,
                     dtype="float64")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((40, 3))
    y = {"a": rng.standard_normal((40, 2)), "b": ns.data.one_hot(rng.integers(0, 3, 40), 3)}
    whole = model.evaluate(x, y, batch_size=40)
    part = model.evaluate(x, y, batch_size=6)
    assert all(part[k] == pytest.approx(whole[k], rel=1e-12) for k in whole)
    summed = ns.Network([L.Dense(2)], loss=ns.losses.get({"name": "sse"}), seed=0,
                        dtype="float64", input_shape=(3,))
    ys = rng.standard_normal((40, 2))
    assert summed.evaluate(x, ys, batch_size=6)["loss"] == pytest.approx(
        summed.evaluate(x, ys, batch_size=40)["loss"], rel=1e-12)


def test_evaluate_of_masked_sequences_is_the_mean_over_real_steps():
    rng = np.random.default_rng(0)
    ids = np.zeros((30, 6))
    for i, length in enumerate(rng.integers(1, 7, 30)):
        ids[i, :length] = rng.integers(1, 9, length)
    labels = rng.integers(0, 3, (30, 6))
    net = ns.Network([L.Embedding(9, 4, mask_zero=True), L.LSTM(5, return_sequences=True),
                      L.Dense(3, activation="softmax")], loss="sparse_categorical_crossentropy",
                     metrics=["accuracy"], seed=0, dtype="float64")
    whole = net.evaluate(ids, labels, batch_size=30)
    part = net.evaluate(ids, labels, batch_size=4)
    assert part["loss"] == pytest.approx(whole["loss"], rel=1e-12)
    real = ids != 0
    accuracy = np.mean(net.predict(ids).argmax(-1)[real] == labels[real])
    assert part["accuracy"] == whole["accuracy"] == pytest.approx(accuracy)


def test_fit_validates_in_batches_of_validation_batch_size():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, 3)), rng.standard_normal((40, 2))
    xv, yv = rng.standard_normal((23, 3)), rng.standard_normal((23, 2))
    net = regressor()
    history = net.fit(x, y, epochs=1, batch_size=8, validation_data=(xv, yv),
                      validation_batch_size=5, verbose=0)
    assert history.history["val_loss"] == [net.evaluate(xv, yv, batch_size=5)["loss"]]


# -- predict and evaluate from data sources --------------------------------------------------

def test_predict_and_evaluate_read_datasets_and_iterators():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((50, 3)), rng.standard_normal((50, 2))
    net = regressor()
    expected = net.predict(x)
    assert net.predict(ArrayDataset(x)).tobytes() == expected.tobytes()
    assert (net.predict(ArrayDataset(x, y), batch_size=7).tobytes()
            == net.predict(x, batch_size=7).tobytes())
    pieces = [x[i:i + 8] for i in range(0, 50, 8)]
    assert net.predict(iter(pieces)).tobytes() == expected.tobytes()
    assert net.predict((p, None) for p in pieces).tobytes() == expected.tobytes()
    assert net.predict(iter(pieces), steps=2).shape == (16, 2)
    logs = net.evaluate(x, y, batch_size=8)
    batches = [(x[i:i + 8], y[i:i + 8]) for i in range(0, 50, 8)]
    for source, options in ((ArrayDataset(x, y), {"batch_size": 8}), (batches, {}),
                            (iter(batches), {}), (iter(batches * 3), {"steps": 7})):
        assert net.evaluate(source, **options) == pytest.approx(logs, rel=1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda net, x, y: net.predict(x, batch_size=0), "batch_size must be a positive integer"),
    (lambda net, x, y: net.predict(x, steps=2), "steps counts batches"),
    (lambda net, x, y: net.evaluate(x), "evaluate needs the targets y"),
    (lambda net, x, y: net.evaluate([(x, y)], sample_weight=y[:, 0]), "sample_weight goes with arrays"),
    (lambda net, x, y: net.evaluate(ArrayDataset(x, y), steps=1), "a Dataset as x is read in full"),
])
def test_bad_inference_arguments_get_config_errors(call, match):
    x, y = np.zeros((4, 3)), np.zeros((4, 2))
    with pytest.raises(ConfigError, match=match):
        call(regressor(), x, y)


def test_a_list_of_arrays_is_the_inputs_of_a_model_with_several():
    a, b = ns.Input((2,)), ns.Input((3,))
    model = ns.Model([a, b], L.Dense(1)(L.Concatenate()([a, b])), seed=0)
    x = [np.ones((5, 2)), np.ones((5, 3))]
    assert model.predict(x).shape == (5, 1)


def test_evaluate_from_a_graph_of_one_example_matches_arrays():
    net, x = example_x("Concatenate", np.random.default_rng(3), 20)
    assert isinstance(EXAMPLES["Concatenate"](), Graph)
    y = np.random.default_rng(4).standard_normal((20,) + net.output_shape)
    assert net.evaluate(ArrayDataset(x, y), batch_size=6)["loss"] == pytest.approx(
        net.evaluate(x, y, batch_size=20)["loss"], rel=1e-6)


# -- memory ----------------------------------------------------------------------------------

def test_predict_memory_stays_about_one_batch():
    """10,000 float32 images with the small CNN of benchmarks/memory.py (31 MB): predict and
    evaluate grow the resident set by little more than the outputs, where one batch of
    everything needs about 700 MB (the full run: 100,000 images under the data + 150 MB)."""
    for call in ("net.predict(x)", "net.evaluate(x, y)"):
        before, peak = peak_in_subprocess(f"""
            import numpy as np, nnscratch as ns
            net = ns.Network([ns.Conv2D(8, 3, activation="relu"), ns.MaxPool2D(2),
                              ns.Conv2D(16, 3, activation="relu"), ns.MaxPool2D(2), ns.Flatten(),
                              ns.Dense(10, activation="softmax")], seed=0,
                             loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                             input_shape=(1, 28, 28))
            rng = np.random.default_rng(0)
            x = np.empty((10_000, 1, 28, 28), np.float32)
            rng.standard_normal(dtype=np.float32, out=x)
            y = rng.integers(0, 10, 10_000)
            before = mark()
            {call}
        """)
        assert peak - before < 15 * 2**20, (call, before, peak)
