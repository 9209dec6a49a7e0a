"""benchmarks/w5_gru.py: the NumPy floor and PyTorch's twin compute what nnscratch computes."""

import numpy as np
import pytest


@pytest.fixture
def w5(import_benchmark):
    return import_benchmark("w5_gru")


def test_the_shared_numpy_forward_is_the_models(w5):
    import nnscratch as ns
    ctx = w5.setup(quick=True, seed=0)
    net = w5._network(ns, 0)
    h, _ = w5.gru_forward(ctx["init"], ctx["x"][:50])
    logits = h @ ctx["init"]["W"] + ctx["init"]["b"]
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(p / p.sum(axis=1, keepdims=True), net.predict(ctx["x"][:50]),
                               atol=1e-5)
    assert w5.final_loss(ctx, ctx["init"]) == pytest.approx(np.log(10), rel=0.2)


def test_the_numpy_floor_takes_the_same_steps(w5):
    ctx = w5.setup(quick=True, seed=0)
    ours = w5.train_nnscratch(ctx, limit=3 * w5.BATCH)
    floor = w5.train_numpy(ctx, limit=3 * w5.BATCH)
    for key in ours:
        step = np.linalg.norm(ours[key] - ctx["init"][key])
        assert step > 0, key
        assert np.linalg.norm(ours[key] - floor[key]) < 1e-3 * step, key


def test_pytorch_twin_has_the_same_forward(w5):
    torch = pytest.importorskip("torch")
    ctx = w5.setup(quick=True, seed=0)
    twin = w5.torch_model(ctx["init"])
    with torch.no_grad():
        theirs = twin(torch.from_numpy(ctx["x"][:50])).numpy()
    h, _ = w5.gru_forward(ctx["init"], ctx["x"][:50])
    np.testing.assert_allclose(theirs, h @ ctx["init"]["W"] + ctx["init"]["b"], atol=1e-5)


def test_lstm_twins_share_one_forward(import_benchmark):
    # W5-LSTM: PyTorch's model, the NumPy reference and nnscratch from the same weights
    torch = pytest.importorskip("torch")
    w5l = import_benchmark("w5_lstm")
    ctx = w5l.setup(quick=True, seed=0)
    x = ctx["x"][:50]
    reference = w5l.lstm_last_state(ctx["init"], x) @ ctx["init"]["W"] + ctx["init"]["b"]
    with torch.no_grad():
        theirs = w5l.w5_gru.torch_model(ctx["init"], "LSTM")(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(theirs, reference, atol=1e-5)
    import nnscratch as ns
    net = w5l._network(ns, 0)
    net.set_weights({**{f"lstm_0.{k}": ctx["init"][k] for k in w5l.KEYS},
                     "dense_1.W": ctx["init"]["W"], "dense_1.b": ctx["init"]["b"]})
    logits = net.layers[1].linear_forward(net.layers[0].forward(x))
    np.testing.assert_allclose(logits, reference, atol=1e-5)
