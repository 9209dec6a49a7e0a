"""examples/digits_resnet.py: the skip connections are identities, and a short comparison runs."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import digits_resnet as example


def test_a_block_whose_branch_outputs_zero_is_the_identity():
    """With the last batch norm of every residual branch set to output 0, each block is
    ReLU(x + 0) = x (x is already a ReLU output), so the network reduces to stem, pool, global
    pool and the softmax layer: what an identity skip must give, and a broken one would not."""
    model = example.build_resnet(filters=8, blocks=(2, 1), seed=3)
    for layer in model.layers:
        if layer.name.endswith("b_bn"):                  # the branch's last BN: y = 0 x_hat + 0
            layer.params["gamma"][...] = 0.0
            layer.params["beta"][...] = 0.0
    x = np.random.default_rng(0).random((5, 1, 8, 8)).astype(np.float32)
    h = x
    for name in ("stem_conv", "stem_bn", "stem_relu", "pool1", "global_pool", "dropout", "digits"):
        h = model.get_layer(name).forward(h, training=False)
    np.testing.assert_allclose(model.predict(x), h, rtol=1e-5, atol=1e-7)
    adds = [layer for layer in model.layers if type(layer).__name__ == "Add"]
    assert len(adds) == 3


def test_short_comparison_learns_and_writes_its_figures(tmp_path, capsys):
    results = example.main(["--epochs", "6", "--subset", "600", "--seeds", "1", "--filters", "16",
                            "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "test accuracy: ResNet" in out and "plain CNN" in out and "parameters" in out
    assert results["n_train"] + results["n_val"] + results["n_test"] == 600
    for name, run in results["runs"].items():
        assert run["accuracy"] > 0.6, name                 # chance is 0.1
        losses = run["history"].history["loss"]
        assert losses[-1] < losses[0], name
    for path in results["figures"]:
        assert path.read_bytes()[:4] == b"\x89PNG" and path.stat().st_size > 10_000
