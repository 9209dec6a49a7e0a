"""benchmarks/w4_transformer.py: its PyTorch twin is the example's model, step for step."""

import numpy as np
import pytest


@pytest.fixture
def w4(import_benchmark):
    return import_benchmark("w4_transformer")


def test_the_shared_numpy_forward_is_the_models(w4):
    ctx = w4.setup(quick=True, seed=0)
    model = w4._example().build_model(total_steps=None, seed=0)
    model.set_weights(ctx["init"])
    logits = w4.forward(ctx["init"], ctx["x"][:40])
    p = np.exp(logits - logits.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(p / p.sum(axis=-1, keepdims=True), model.predict(ctx["x"][:40]),
                               atol=1e-5)
    assert w4.final_loss(ctx, ctx["init"]) == pytest.approx(np.log(10), rel=0.5)


def test_pytorch_and_nnscratch_take_the_same_steps(w4):
    pytest.importorskip("torch")
    ctx = w4.setup(quick=True, seed=0)
    twin = w4.torch_model(ctx["init"])
    np.testing.assert_allclose(w4.copy_weights(twin, None, to_torch=False)["block1_attention.W_q"],
                               ctx["init"]["block1_attention.W_q"])
    ours = w4.train_nnscratch(ctx, limit=3 * w4.BATCH, shuffle=False)
    theirs = w4.train_pytorch(ctx, limit=3 * w4.BATCH, shuffle=False)
    assert ours.keys() == theirs.keys() == ctx["init"].keys()
    for key in ours:
        if key.endswith("b_k"):
            # the key bias has no effect (softmax ignores a shift shared by a row's scores): its
            # gradient is 0 up to rounding, and Adam turns that rounding noise into full steps
            continue
        step = np.linalg.norm(ours[key] - ctx["init"][key])
        assert step > 0, key                                    # every weight took the steps
        # the same steps up to float32 rounding (which Adam's g / sqrt(v) magnifies for the
        # odd entry whose gradients are nearly 0)
        assert np.linalg.norm(ours[key] - theirs[key]) < 1e-3 * step, key
