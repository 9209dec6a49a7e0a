"""W5, a recurrent classifier: GRU(64) then dense 64->10, softmax cross-entropy, Adam (lr 3e-3),
batch 100, one shuffled epoch over 4,000 float32 sequences of 40 steps x 1 feature; then
``predict`` on the same 4,000 sequences (in batches of 100). Both are timed together.

The data are synthetic but learnable: a sine wave whose frequency says the class, at a random
phase, plus noise. Every contender starts from nnscratch's initial weights (Glorot-uniform
``W_ih``, orthogonal ``W_hh``, zero biases, in PyTorch's GRU layout, which nnscratch shares) and
returns its trained weights as ``{"W_ih", "W_hh", "b_ih", "b_hh", "W", "b"}`` (the dense layer's
``W`` shaped (64, 10), ``x @ W + b``).
"""

import numpy as np

from .harness import cross_entropy_sum, torch_epoch

NAME = "W5"
TITLE = ("W5: recurrent classifier (GRU(64) then dense 64->10, softmax cross-entropy, Adam lr "
         "3e-3, batch 100, one epoch of 4,000 float32 sequences of 40 steps x 1 feature, then "
         "predict on the same 4,000)")
SAMPLES, STEPS, UNITS, CLASSES = 4_000, 40, 64, 10
BATCH = 100
LEARNING_RATE = 3e-3
BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-8
NOTES = ["The NumPy floor is a plain GRU loop (forward, backpropagation through time, Adam) with "
         "the same equations; scikit-learn has no recurrent network."]


def sample_count(quick):
    return SAMPLES // 8 if quick else SAMPLES


def setup(quick, seed):
    """The sequences, their labels and nnscratch's initial weights."""
    import nnscratch as ns
    rng = np.random.default_rng(seed)
    n = sample_count(quick)
    labels = rng.integers(0, CLASSES, n)
    t = np.arange(STEPS)
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    waves = np.sin(2 * np.pi * (1.0 + 0.5 * labels[:, None]) * t / STEPS + phase)
    x = (waves + 0.3 * rng.standard_normal((n, STEPS))).astype(np.float32)[..., None]
    net = _network(ns, seed)
    w = net.get_weights()
    init = {k: w[f"gru_0.{k}"] for k in ("W_ih", "W_hh", "b_ih", "b_hh")}
    init.update(W=w["dense_1.W"], b=w["dense_1.b"])
    return {"x": x, "labels": labels.astype(np.int64), "init": init, "seed": seed}


def _network(ns, seed):
    return ns.Network([ns.layers.GRU(UNITS), ns.Dense(CLASSES, activation="softmax")],
                      loss="sparse_categorical_crossentropy",
                      optimizer=ns.optimizers.Adam(learning_rate=LEARNING_RATE, beta_1=BETA_1,
                                                   beta_2=BETA_2, epsilon=EPSILON),
                      seed=seed, dtype="float32", input_shape=(STEPS, 1))


def warmup_limit(ctx):
    return 5 * BATCH


def _sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def gru_forward(w, x):
    """The GRU's last state and, for the backward, every step's gates and states.

    r, z = sigma(p + q) (first 2H), n = tanh(p^n + r q^n), h = (1 - z) n + z h_prev, with
    p = x W_ih^T + b_ih and q = h_prev W_hh^T + b_hh (PyTorch's equations).
    """
    n, steps, _ = x.shape
    H = w["W_hh"].shape[1]
    p_all = x.transpose(1, 0, 2) @ w["W_ih"].T + w["b_ih"]          # (T, N, 3H)
    h = np.zeros((n, H), x.dtype)
    hs, gates, qns = [h], [], []
    for t in range(steps):
        q = h @ w["W_hh"].T + w["b_hh"]
        p = p_all[t]
        rz = _sigmoid(p[:, :2 * H] + q[:, :2 * H])
        r, z = rz[:, :H], rz[:, H:]
        ng = np.tanh(p[:, 2 * H:] + r * q[:, 2 * H:])
        h = ng + z * (h - ng)
        hs.append(h)
        gates.append((r, z, ng))
        qns.append(q[:, 2 * H:])
    return h, (hs, gates, qns)


def final_loss(ctx, w, chunk=1000):
    """Mean softmax cross-entropy of weights ``w`` over the whole training set."""
    x, labels = ctx["x"], ctx["labels"]
    total = 0.0
    for start in range(0, len(x), chunk):
        h, _ = gru_forward(w, x[start:start + chunk])
        z = (h @ w["W"] + w["b"]).astype(np.float64)
        total += cross_entropy_sum(z, labels[start:start + chunk])
    return total / len(x)


def _copy_init(ctx):
    return {k: v.copy() for k, v in ctx["init"].items()}


def _predict_numpy(w, x):
    return np.concatenate([gru_forward(w, x[s:s + BATCH])[0] @ w["W"] + w["b"]
                           for s in range(0, len(x), BATCH)])


def train_numpy(ctx, limit=None):
    """The floor: the same GRU, backpropagation through time and Adam as a plain NumPy loop."""
    x, labels = ctx["x"], ctx["labels"]
    n = limit or len(x)
    w = _copy_init(ctx)
    m = {k: np.zeros_like(v) for k, v in w.items()}
    v = {k: np.zeros_like(a) for k, a in w.items()}
    order = np.random.default_rng(ctx["seed"] + 1).permutation(n)
    H = UNITS
    for step, start in enumerate(range(0, n, BATCH), start=1):
        index = order[start:start + BATCH]
        xb, yb = x[index], labels[index]
        rows = len(index)
        h, (hs, gates, qns) = gru_forward(w, xb)
        logits = h @ w["W"] + w["b"]
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(rows), yb] -= 1.0
        dz = p / np.float32(rows)                                    # dL/dlogits = (p - y) / N
        g = {"W": h.T @ dz, "b": dz.sum(axis=0)}
        dh = dz @ w["W"].T
        dps, dqs = [], []
        for t in reversed(range(STEPS)):
            r, z, ng = gates[t]
            da_n = dh * (1.0 - z) * (1.0 - ng * ng)
            da_r = da_n * qns[t] * r * (1.0 - r)
            da_z = dh * (hs[t] - ng) * z * (1.0 - z)
            dp = np.concatenate([da_r, da_z, da_n], axis=1)
            dq = np.concatenate([da_r, da_z, r * da_n], axis=1)
            dps.append(dp)
            dqs.append(dq)
            dh = dh * z + dq @ w["W_hh"]
        dp_all = np.stack(dps[::-1]).reshape(-1, 3 * H)              # (T N, 3H), time-major
        dq_all = np.stack(dqs[::-1]).reshape(-1, 3 * H)
        g["W_hh"] = dq_all.T @ np.stack(hs[:-1]).reshape(-1, H)
        g["W_ih"] = dp_all.T @ xb.transpose(1, 0, 2).reshape(-1, 1)
        g["b_hh"], g["b_ih"] = dq_all.sum(axis=0), dp_all.sum(axis=0)
        bc1, bc2 = 1.0 - BETA_1 ** step, 1.0 - BETA_2 ** step
        for k in w:                                                  # Adam
            m[k] = BETA_1 * m[k] + (1.0 - BETA_1) * g[k]
            v[k] = BETA_2 * v[k] + (1.0 - BETA_2) * g[k] * g[k]
            w[k] -= (LEARNING_RATE / bc1) * m[k] / (np.sqrt(v[k] / bc2) + EPSILON)
    _predict_numpy(w, x[:n])
    return w


def train_nnscratch(ctx, limit=None):
    import nnscratch as ns
    x, labels = ctx["x"], ctx["labels"]
    if limit:
        x, labels = x[:limit], labels[:limit]
    net = _network(ns, ctx["seed"])
    weights = {f"gru_0.{k}": ctx["init"][k] for k in ("W_ih", "W_hh", "b_ih", "b_hh")}
    weights.update({"dense_1.W": ctx["init"]["W"], "dense_1.b": ctx["init"]["b"]})
    net.set_weights(weights)
    net.fit(x, labels, epochs=1, batch_size=BATCH, shuffle=True, seed=ctx["seed"] + 1, verbose=0)
    net.predict(x, batch_size=BATCH)
    w = net.get_weights()
    out = {k: w[f"gru_0.{k}"] for k in ("W_ih", "W_hh", "b_ih", "b_hh")}
    out.update(W=w["dense_1.W"], b=w["dense_1.b"])
    return out


#: nnscratch's recurrent weights and PyTorch's names for them
TORCH_NAMES = {"W_ih": "weight_ih_l0", "W_hh": "weight_hh_l0", "b_ih": "bias_ih_l0",
               "b_hh": "bias_hh_l0"}


def torch_model(init, cell="GRU"):
    """The same model in PyTorch, from the given weights: ``torch.nn.<cell>`` (GRU or LSTM)
    as ``model.rnn``, then the dense layer ``model.head``."""
    import torch

    class Classifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = getattr(torch.nn, cell)(1, UNITS, batch_first=True)
            self.head = torch.nn.Linear(UNITS, CLASSES)

        def forward(self, x):
            _, state = self.rnn(x)                   # h_T, or (h_T, c_T) for an LSTM
            return self.head((state[0] if isinstance(state, tuple) else state)[0])

    model = Classifier()
    with torch.no_grad():
        for key, name in TORCH_NAMES.items():
            getattr(model.rnn, name).copy_(torch.from_numpy(init[key]))
        model.head.weight.copy_(torch.from_numpy(init["W"].T))
        model.head.bias.copy_(torch.from_numpy(init["b"]))
    return model


def torch_run(model, ctx, limit=None):
    """One PyTorch epoch of :func:`torch_model`'s ``model`` on W5's data with W5's Adam, then
    predict in batches; returns the trained weights under nnscratch's names."""
    import torch
    x, labels = torch.from_numpy(ctx["x"]), torch.from_numpy(ctx["labels"])
    n = limit or len(x)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, betas=(BETA_1, BETA_2),
                                 eps=EPSILON)
    torch_epoch(model, optimizer, x, labels, n, BATCH, ctx["seed"] + 1)
    with torch.no_grad():                                            # predict, in batches
        torch.cat([model(x[s:s + BATCH]) for s in range(0, n, BATCH)])
    out = {key: getattr(model.rnn, name).detach().numpy().copy()
           for key, name in TORCH_NAMES.items()}
    out.update(W=model.head.weight.detach().numpy().T.copy(),
               b=model.head.bias.detach().numpy().copy())
    return out


def train_pytorch(ctx, limit=None):
    return torch_run(torch_model(ctx["init"]), ctx, limit)


CONTENDERS = {
    "nnscratch": train_nnscratch,
    "numpy": train_numpy,
    "pytorch": train_pytorch,
}
