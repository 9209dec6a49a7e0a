"""W2, a multilayer perceptron of MNIST size: 60,000 float32 samples of 784 features, 10
classes; 784-256-128-10, ReLU, softmax cross-entropy, Adam (lr 1e-3), batch 128, one shuffled
epoch.

The data are synthetic but learnable: standard-normal features, labels from a fixed random
linear teacher plus noise. Every contender starts from the same Glorot-uniform weights and zero
biases, records every batch's loss, and returns its trained weights as
``{"W1": (784, 256), "b1": (256,), "W2", "b2", "W3", "b3"}`` (``x @ W + b`` layout).
"""

import itertools

import numpy as np

from .harness import cross_entropy_sum, torch_epoch

NAME = "W2"
TITLE = ("W2: MLP of MNIST size (784-256-128-10 ReLU, softmax cross-entropy, Adam lr 1e-3, "
         "batch 128, one epoch of 60,000 float32 samples)")
SIZES = (784, 256, 128, 10)
SAMPLES = 60_000
BATCH = 128
LEARNING_RATE = 1e-3
BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-8
NOTES = [
    "GFLOP/s counts the nominal 6 x 234,752 FLOP per sample of the benchmark page (2 for the "
    "forward product, 4 for the two backward ones), which includes the input gradient of the "
    "first layer that no contender computes.",
]


def sample_count(quick):
    return SAMPLES // 8 if quick else SAMPLES


def unavailable():
    import nnscratch as ns
    if not hasattr(ns.optimizers, "Adam"):
        return "nnscratch.optimizers has no Adam yet"
    return None


def setup(quick, seed):
    """The samples, their labels and the shared initial weights."""
    rng = np.random.default_rng(seed)
    n = sample_count(quick)
    x = rng.standard_normal((n, SIZES[0]), dtype=np.float32)
    teacher = rng.standard_normal((SIZES[0], SIZES[-1]), dtype=np.float32) / np.float32(28.0)
    scores = x @ teacher + rng.standard_normal((n, SIZES[-1]), dtype=np.float32) * np.float32(0.5)
    labels = np.argmax(scores, axis=1).astype(np.int64)
    weights = {}
    for index, (fan_in, fan_out) in enumerate(itertools.pairwise(SIZES), start=1):
        limit = np.sqrt(6.0 / (fan_in + fan_out))                   # Glorot uniform
        weights[f"W{index}"] = rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32)
        weights[f"b{index}"] = np.zeros(fan_out, dtype=np.float32)
    return {"x": x, "labels": labels, "init": weights, "seed": seed}


def warmup_limit(ctx):
    return 20 * BATCH


def final_loss(ctx, w, chunk=4096):
    """Mean softmax cross-entropy of weights ``w`` over the whole training set."""
    x, labels = ctx["x"], ctx["labels"]
    total = 0.0
    for start in range(0, len(x), chunk):
        h = np.maximum(x[start:start + chunk] @ w["W1"] + w["b1"], 0)
        h = np.maximum(h @ w["W2"] + w["b2"], 0)
        z = (h @ w["W3"] + w["b3"]).astype(np.float64)
        total += cross_entropy_sum(z, labels[start:start + chunk])
    return total / len(x)


def _copy_init(ctx):
    return {k: v.copy() for k, v in ctx["init"].items()}


def train_numpy(ctx, limit=None):
    """The floor: forward, backward and Adam as one plain NumPy loop, in place where it is free."""
    x, labels = ctx["x"], ctx["labels"]
    n = limit or len(x)
    w = _copy_init(ctx)
    keys = ("W1", "b1", "W2", "b2", "W3", "b3")
    m = {k: np.zeros_like(w[k]) for k in keys}
    v = {k: np.zeros_like(w[k]) for k in keys}
    work = {k: np.empty_like(w[k]) for k in keys}
    order = np.random.default_rng(ctx["seed"] + 1).permutation(n)
    losses = []
    for step, start in enumerate(range(0, n, BATCH), start=1):
        index = order[start:start + BATCH]
        xb, yb = x[index], labels[index]
        rows = np.arange(len(index))
        h1 = xb @ w["W1"]                                    # forward
        h1 += w["b1"]
        np.maximum(h1, 0, out=h1)
        h2 = h1 @ w["W2"]
        h2 += w["b2"]
        np.maximum(h2, 0, out=h2)
        z = h2 @ w["W3"]
        z += w["b3"]
        z -= z.max(axis=1, keepdims=True)                    # softmax cross-entropy
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        losses.append(float(np.mean(np.log(s[:, 0]) - z[rows, yb])))
        dz = e
        dz /= s
        dz[rows, yb] -= 1.0
        dz /= len(index)                                     # dL/dz = (p - y) / N
        g = {"W3": h2.T @ dz, "b3": dz.sum(axis=0)}          # backward
        d2 = dz @ w["W3"].T
        d2 *= h2 > 0
        g["W2"], g["b2"] = h1.T @ d2, d2.sum(axis=0)
        d1 = d2 @ w["W2"].T
        d1 *= h1 > 0
        g["W1"], g["b1"] = xb.T @ d1, d1.sum(axis=0)
        step_size = LEARNING_RATE / (1.0 - BETA_1**step)     # Adam, as torch.optim.Adam
        root_bias2 = np.sqrt(1.0 - BETA_2**step)
        for k in keys:
            m[k] *= BETA_1
            m[k] += (1.0 - BETA_1) * g[k]
            v[k] *= BETA_2
            v[k] += (1.0 - BETA_2) * (g[k] * g[k])
            denom = np.sqrt(v[k], out=work[k])
            denom /= root_bias2
            denom += EPSILON
            np.divide(m[k], denom, out=denom)
            denom *= step_size
            w[k] -= denom
    return w


def train_nnscratch(ctx, limit=None):
    import nnscratch as ns
    x, labels = ctx["x"], ctx["labels"]
    if limit:
        x, labels = x[:limit], labels[:limit]
    net = ns.Network([ns.Dense(256, activation="relu"), ns.Dense(128, activation="relu"),
                      ns.Dense(10, activation="softmax")],
                     loss="sparse_categorical_crossentropy",
                     optimizer=ns.optimizers.Adam(learning_rate=LEARNING_RATE, beta_1=BETA_1,
                                                  beta_2=BETA_2, epsilon=EPSILON),
                     seed=ctx["seed"], dtype="float32", input_shape=(SIZES[0],))
    net.set_weights({f"dense_{i}.{p}": ctx["init"][f"{p}{i + 1}"] for i in range(3) for p in "Wb"})
    net.fit(x, labels, epochs=1, batch_size=BATCH, shuffle=True, seed=ctx["seed"] + 1, verbose=0)
    w = net.get_weights()
    return {f"{p}{i + 1}": w[f"dense_{i}.{p}"] for i in range(3) for p in "Wb"}


def train_pytorch(ctx, limit=None):
    import torch
    x, labels = torch.from_numpy(ctx["x"]), torch.from_numpy(ctx["labels"])
    n = limit or len(x)
    layers = [torch.nn.Linear(a, b) for a, b in itertools.pairwise(SIZES)]
    model = torch.nn.Sequential(layers[0], torch.nn.ReLU(), layers[1], torch.nn.ReLU(), layers[2])
    with torch.no_grad():                      # torch keeps W as (out, in): copy the transpose
        for i, layer in enumerate(layers, start=1):
            layer.weight.copy_(torch.from_numpy(ctx["init"][f"W{i}"].T))
            layer.bias.copy_(torch.from_numpy(ctx["init"][f"b{i}"]))
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, betas=(BETA_1, BETA_2),
                                 eps=EPSILON)
    torch_epoch(model, optimizer, x, labels, n, BATCH, ctx["seed"] + 1)
    return {f"{p}{i}": (layer.weight.detach().numpy().T if p == "W" else layer.bias.detach().numpy()).copy()
            for i, layer in enumerate(layers, start=1) for p in "Wb"}


def train_sklearn(ctx, limit=None):
    """scikit-learn's MLPClassifier with the same layers, Adam, batch and one epoch."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from .w1_xor import given_init_mlp
    x, labels = ctx["x"], ctx["labels"]
    if limit:
        x, labels = x[:limit], labels[:limit]
    init = ctx["init"]
    model = given_init_mlp("classifier", [init["W1"], init["W2"], init["W3"]],
                           [init["b1"], init["b2"], init["b3"]],
                           hidden_layer_sizes=SIZES[1:-1], activation="relu", solver="adam",
                           learning_rate_init=LEARNING_RATE, beta_1=BETA_1, beta_2=BETA_2,
                           epsilon=EPSILON, batch_size=BATCH, max_iter=1, shuffle=True,
                           random_state=ctx["seed"] + 1, alpha=0.0, tol=0.0, n_iter_no_change=2,
                           early_stopping=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, labels)
    return {f"{p}{i + 1}": (model.coefs_[i] if p == "W" else model.intercepts_[i])
            for i in range(3) for p in "Wb"}


CONTENDERS = {
    "nnscratch": train_nnscratch,
    "numpy": train_numpy,
    "pytorch": train_pytorch,
    "sklearn": train_sklearn,
}
