"""W1, the article's network: 3-4-1, sigmoid on both layers, sum of squared errors, plain
gradient descent (learning rate 1.0) on the whole set of four samples, 2500 steps, float64.

Every contender starts from the same Glorot-uniform weights and zero biases, records the loss of
every step (nnscratch's History does; the others keep a list), and returns its trained weights
as ``{"W1": (3, 4), "b1": (4,), "W2": (4, 1), "b2": (1,)}`` (``x @ W + b`` layout).
"""

import numpy as np

NAME = "W1"
TITLE = "W1: the article's network (3-4-1 sigmoid, SSE, GD lr 1.0, 4 samples, 2500 steps, float64)"
STEPS = 2500
LEARNING_RATE = 1.0


def setup(quick, seed):
    """The four samples and the shared initial weights."""
    rng = np.random.default_rng(seed)
    x = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float64)
    y = np.array([[0], [1], [1], [0]], dtype=np.float64)
    weights = {}
    for index, (fan_in, fan_out) in enumerate([(3, 4), (4, 1)], start=1):
        limit = np.sqrt(6.0 / (fan_in + fan_out))                   # Glorot uniform
        weights[f"W{index}"] = rng.uniform(-limit, limit, (fan_in, fan_out))
        weights[f"b{index}"] = np.zeros(fan_out)
    return {"x": x, "y": y, "init": weights, "steps": STEPS}


def warmup_limit(ctx):
    return 200


def _sigmoid(z):
    """The stable logistic function exp(-log(1 + exp(-z))): no overflow for any finite z."""
    return np.exp(-np.logaddexp(0.0, -z))


def final_loss(ctx, w):
    """The sum of squared errors of weights ``w`` on the four samples."""
    a1 = _sigmoid(ctx["x"] @ w["W1"] + w["b1"])
    a2 = _sigmoid(a1 @ w["W2"] + w["b2"])
    return float(np.sum((a2 - ctx["y"]) ** 2))


def train_numpy(ctx, limit=None):
    """The floor: the same computation as a plain NumPy loop, the article's way."""
    x, y = ctx["x"], ctx["y"]
    W1, b1, W2, b2 = (ctx["init"][k].copy() for k in ("W1", "b1", "W2", "b2"))
    lr = LEARNING_RATE
    losses = []
    for _ in range(limit or ctx["steps"]):
        a1 = _sigmoid(x @ W1 + b1)                     # feedforward
        a2 = _sigmoid(a1 @ W2 + b2)
        error = a2 - y
        losses.append(float(np.sum(error * error)))    # SSE
        d2 = 2.0 * error * a2 * (1.0 - a2)             # dL/dz2
        d1 = (d2 @ W2.T) * a1 * (1.0 - a1)             # dL/dz1
        W2 -= lr * (a1.T @ d2)                         # gradient descent
        b2 -= lr * d2.sum(axis=0)
        W1 -= lr * (x.T @ d1)
        b1 -= lr * d1.sum(axis=0)
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def train_nnscratch(ctx, limit=None):
    import nnscratch as ns
    net = ns.Network([ns.Dense(4, activation="sigmoid"), ns.Dense(1, activation="sigmoid")],
                     loss="sse", optimizer=ns.optimizers.SGD(learning_rate=LEARNING_RATE),
                     seed=0, dtype="float64", input_shape=(3,))
    net.set_weights({"dense_0.W": ctx["init"]["W1"], "dense_0.b": ctx["init"]["b1"],
                     "dense_1.W": ctx["init"]["W2"], "dense_1.b": ctx["init"]["b2"]})
    net.fit(ctx["x"], ctx["y"], epochs=limit or ctx["steps"], batch_size=None, verbose=0)
    w = net.get_weights()
    return {"W1": w["dense_0.W"], "b1": w["dense_0.b"], "W2": w["dense_1.W"], "b2": w["dense_1.b"]}


def train_pytorch(ctx, limit=None):
    import torch
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Sigmoid(),
                                torch.nn.Linear(4, 1), torch.nn.Sigmoid()).double()
    with torch.no_grad():                      # torch keeps W as (out, in): copy the transpose
        model[0].weight.copy_(torch.from_numpy(ctx["init"]["W1"].T))
        model[0].bias.copy_(torch.from_numpy(ctx["init"]["b1"]))
        model[2].weight.copy_(torch.from_numpy(ctx["init"]["W2"].T))
        model[2].bias.copy_(torch.from_numpy(ctx["init"]["b2"]))
    x, y = torch.from_numpy(ctx["x"]), torch.from_numpy(ctx["y"])
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    losses = []
    for _ in range(limit or ctx["steps"]):
        optimizer.zero_grad()
        loss = ((model(x) - y) ** 2).sum()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return {"W1": model[0].weight.detach().numpy().T.copy(), "b1": model[0].bias.detach().numpy().copy(),
            "W2": model[2].weight.detach().numpy().T.copy(), "b2": model[2].bias.detach().numpy().copy()}


def train_sklearn(ctx, limit=None):
    """scikit-learn's MLPClassifier: same layers, steps and update rule; its loss is fixed.

    Its classifier always trains the binary cross-entropy (log-loss) of a sigmoid output, not
    the sum of squared errors, so its final SSE differs; the work per step is the same.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    steps = limit or ctx["steps"]
    model = given_init_mlp("classifier", [ctx["init"]["W1"], ctx["init"]["W2"]],
                           [ctx["init"]["b1"], ctx["init"]["b2"]],
                           hidden_layer_sizes=(4,), activation="logistic", solver="sgd",
                           learning_rate_init=LEARNING_RATE, momentum=0.0,
                           nesterovs_momentum=False, batch_size=4, max_iter=steps, shuffle=False,
                           alpha=0.0, tol=0.0, n_iter_no_change=steps + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(ctx["x"], ctx["y"].ravel().astype(int))
    return {"W1": model.coefs_[0], "b1": model.intercepts_[0],
            "W2": model.coefs_[1], "b2": model.intercepts_[1]}


def given_init_mlp(kind, coefs, intercepts, **params):
    """An sklearn MLPClassifier/MLPRegressor that starts from the given weights.

    scikit-learn draws its own initial weights in ``_init_coef(fan_in, fan_out, dtype)``, once
    per layer in order; this subclass returns copies of ours instead.
    """
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    base = MLPClassifier if kind == "classifier" else MLPRegressor

    class GivenInit(base):
        def _init_coef(self, fan_in, fan_out, dtype):
            index = len(self.coefs_)
            coef, intercept = coefs[index], intercepts[index]
            assert coef.shape == (fan_in, fan_out)
            return coef.astype(dtype, copy=True), intercept.astype(dtype, copy=True)

    GivenInit.__name__ = base.__name__
    return GivenInit(**params)


CONTENDERS = {
    "nnscratch": train_nnscratch,
    "numpy": train_numpy,
    "pytorch": train_pytorch,
    "sklearn": train_sklearn,
}
