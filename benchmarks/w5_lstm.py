"""W5 with an LSTM: W5's data, model and schedule (``benchmarks/w5_gru.py``) with LSTM(64) in
place of the GRU: dense 64->10, softmax cross-entropy, Adam (lr 3e-3), batch 100, one shuffled
epoch over 4,000 float32 sequences of 40 steps x 1 feature, then ``predict`` on the same 4,000
(in batches of 100). Both are timed together.

Not one of BENCHMARKS.md's workloads: it keeps an eye on the other gated cell, whose fused
kernel in PyTorch sets a harder pace than its GRU does. Both contenders start from nnscratch's
initial weights (PyTorch's LSTM layout, which nnscratch shares; ``unit_forget_bias`` off so that
the biases start at zero in both) and return their trained weights as ``{"W_ih", "W_hh",
"b_ih", "b_hh", "W", "b"}``.
"""

import numpy as np

from . import w5_gru
from .harness import cross_entropy_sum

NAME = "W5-LSTM"
TITLE = ("W5-LSTM: W5 with LSTM(64) in place of the GRU (dense 64->10, softmax cross-entropy, "
         "Adam lr 3e-3, batch 100, one epoch of 4,000 float32 sequences of 40 steps x 1 "
         "feature, then predict on the same 4,000)")
UNITS, CLASSES, BATCH = w5_gru.UNITS, w5_gru.CLASSES, w5_gru.BATCH
KEYS = ("W_ih", "W_hh", "b_ih", "b_hh")
NOTES = ["No hand-written NumPy floor; scikit-learn has no recurrent network.",
         "Each contender shuffles with its own generator, so the final losses differ; given one "
         "order (no shuffling) both reach the same weights to 1.3e-6 and the same loss to 1e-6."]
sample_count = w5_gru.sample_count


def _network(ns, seed):
    return ns.Network([ns.layers.LSTM(UNITS, unit_forget_bias=False),
                       ns.Dense(CLASSES, activation="softmax")],
                      loss="sparse_categorical_crossentropy",
                      optimizer=ns.optimizers.Adam(learning_rate=w5_gru.LEARNING_RATE,
                                                   beta_1=w5_gru.BETA_1, beta_2=w5_gru.BETA_2,
                                                   epsilon=w5_gru.EPSILON),
                      seed=seed, dtype="float32", input_shape=(w5_gru.STEPS, 1))


def setup(quick, seed):
    """W5's sequences and labels, and this model's initial weights."""
    import nnscratch as ns
    ctx = w5_gru.setup(quick, seed)
    w = _network(ns, seed).get_weights()
    ctx["init"] = {k: w[f"lstm_0.{k}"] for k in KEYS}
    ctx["init"].update(W=w["dense_1.W"], b=w["dense_1.b"])
    return ctx


def warmup_limit(ctx):
    return 5 * BATCH


def lstm_last_state(w, x):
    """h_T of the LSTM with weights ``w`` over ``x`` (N, T, 1), PyTorch's equations."""
    H = UNITS
    h = np.zeros((len(x), H), np.float32)
    c = np.zeros_like(h)
    for t in range(x.shape[1]):
        a = x[:, t] @ w["W_ih"].T + w["b_ih"] + h @ w["W_hh"].T + w["b_hh"]
        i, f = 1 / (1 + np.exp(-a[:, :H])), 1 / (1 + np.exp(-a[:, H:2 * H]))
        g, o = np.tanh(a[:, 2 * H:3 * H]), 1 / (1 + np.exp(-a[:, 3 * H:]))
        c = f * c + i * g
        h = o * np.tanh(c)
    return h


def final_loss(ctx, w, chunk=1000):
    """Mean softmax cross-entropy of weights ``w`` over the whole training set."""
    x, labels = ctx["x"], ctx["labels"]
    total = 0.0
    for start in range(0, len(x), chunk):
        z = (lstm_last_state(w, x[start:start + chunk]) @ w["W"] + w["b"]).astype(np.float64)
        total += cross_entropy_sum(z, labels[start:start + chunk])
    return total / len(x)


def train_nnscratch(ctx, limit=None):
    import nnscratch as ns
    x, labels = ctx["x"], ctx["labels"]
    if limit:
        x, labels = x[:limit], labels[:limit]
    net = _network(ns, ctx["seed"])
    weights = {f"lstm_0.{k}": ctx["init"][k] for k in KEYS}
    weights.update({"dense_1.W": ctx["init"]["W"], "dense_1.b": ctx["init"]["b"]})
    net.set_weights(weights)
    net.fit(x, labels, epochs=1, batch_size=BATCH, shuffle=True, seed=ctx["seed"] + 1, verbose=0)
    net.predict(x, batch_size=BATCH)
    w = net.get_weights()
    out = {k: w[f"lstm_0.{k}"] for k in KEYS}
    out.update(W=w["dense_1.W"], b=w["dense_1.b"])
    return out


def train_pytorch(ctx, limit=None):
    return w5_gru.torch_run(w5_gru.torch_model(ctx["init"], "LSTM"), ctx, limit)


CONTENDERS = {
    "nnscratch": train_nnscratch,
    "pytorch": train_pytorch,
}
