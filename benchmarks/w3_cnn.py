"""W3, a small convolutional network: 12,800 float32 images 1x28x28, 10 classes; conv 3x3
1->16, ReLU, max-pool 2, conv 3x3 16->32, ReLU, max-pool 2 (the odd 11th row and column are
dropped, as PyTorch's floor mode does), dense 800->10, softmax cross-entropy, SGD with momentum
0.9 and learning rate 0.01, batch 64, one shuffled epoch.

The images are synthetic but learnable: each class has a prototype of a few random blobs, and an
image is its class's prototype shifted by up to two pixels plus noise. Every contender starts
from the same Glorot-uniform kernels and zero biases and returns its trained weights as
``{"K1": (16, 1, 3, 3), "c1": (16,), "K2": (32, 16, 3, 3), "c2": (32,), "W": (800, 10),
"b": (10,)}`` (channels first; the flatten order is (channel, row, column), as PyTorch's).
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .harness import cross_entropy_sum, torch_epoch

NAME = "W3"
TITLE = ("W3: small CNN (conv 3x3 1->16, ReLU, max-pool 2, conv 3x3 16->32, ReLU, max-pool 2, "
         "dense 800->10, softmax cross-entropy, SGD momentum 0.9 lr 0.01, batch 64, one epoch "
         "of 12,800 float32 images 1x28x28)")
SAMPLES = 12_800
BATCH = 64
LEARNING_RATE = 0.01
MOMENTUM = 0.9
KEYS = ("K1", "c1", "K2", "c2", "W", "b")


def sample_count(quick):
    return SAMPLES // 8 if quick else SAMPLES


def unavailable():
    import nnscratch as ns
    missing = [name for name in ("Conv2D", "MaxPool2D", "Flatten") if not hasattr(ns.layers, name)]
    if missing:
        return f"nnscratch.layers has no {', '.join(missing)} yet"
    return None


def _glorot(rng, shape, fan_in, fan_out):
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, shape).astype(np.float32)


def setup(quick, seed):
    """The images, their labels and the shared initial weights."""
    rng = np.random.default_rng(seed)
    n = sample_count(quick)
    yy, xx = np.mgrid[0:28, 0:28]
    prototypes = np.zeros((10, 28, 28), dtype=np.float32)
    for c in range(10):
        for _ in range(3):
            cy, cx = rng.uniform(6, 22, 2)
            prototypes[c] += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 8.0).astype(np.float32)
    labels = rng.integers(0, 10, n)
    shifts = rng.integers(-2, 3, (n, 2))
    x = np.empty((n, 1, 28, 28), dtype=np.float32)
    for (dy, dx) in {tuple(s) for s in shifts}:
        chosen = np.flatnonzero((shifts[:, 0] == dy) & (shifts[:, 1] == dx))
        x[chosen, 0] = np.roll(prototypes[labels[chosen]], (dy, dx), axis=(1, 2))
    x += rng.standard_normal(x.shape, dtype=np.float32) * np.float32(0.5)
    init = {"K1": _glorot(rng, (16, 1, 3, 3), 9, 144), "c1": np.zeros(16, np.float32),
            "K2": _glorot(rng, (32, 16, 3, 3), 144, 288), "c2": np.zeros(32, np.float32),
            "W": _glorot(rng, (800, 10), 800, 10), "b": np.zeros(10, np.float32)}
    return {"x": x, "labels": labels.astype(np.int64), "init": init, "seed": seed}


def warmup_limit(ctx):
    return 10 * BATCH


# -- the floor's kernels (also used for the shared final loss) -----------------------------------

def conv_forward(x, kernel, bias):
    """Valid 3x3 convolution (cross-correlation) of (N, C, H, W) with (O, C, 3, 3): (N, O, H-2, W-2)."""
    windows = sliding_window_view(x, kernel.shape[2:], axis=(2, 3))          # (N, C, Ho, Wo, 3, 3)
    out = np.tensordot(windows, kernel, axes=([1, 4, 5], [1, 2, 3]))        # (N, Ho, Wo, O)
    out += bias
    return out.transpose(0, 3, 1, 2)


def conv_backward(x, kernel, grad, need_input_grad):
    """Kernel, bias and (optionally) input gradients of :func:`conv_forward`."""
    windows = sliding_window_view(x, kernel.shape[2:], axis=(2, 3))
    grad_kernel = np.tensordot(grad, windows, axes=([0, 2, 3], [0, 2, 3]))  # (O, C, 3, 3)
    grad_bias = grad.sum(axis=(0, 2, 3))
    grad_x = None
    if need_input_grad:                      # a full convolution with the flipped kernel
        kh, kw = kernel.shape[2:]
        padded = np.pad(grad, ((0, 0), (0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1)))
        windows = sliding_window_view(padded, (kh, kw), axis=(2, 3))        # (N, O, H, W, 3, 3)
        grad_x = np.tensordot(windows, kernel[:, :, ::-1, ::-1], axes=([1, 4, 5], [0, 2, 3]))
        grad_x = grad_x.transpose(0, 3, 1, 2)
    return grad_kernel, grad_bias, grad_x


def pool_forward(x):
    """2x2 max-pool, stride 2, dropping an odd last row/column: returns (out, mask)."""
    n, c, h, w = x.shape
    blocks = x[:, :, :h // 2 * 2, :w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2)
    out = blocks.max(axis=(3, 5))
    mask = blocks == out[:, :, :, None, :, None]
    return out, mask


def pool_backward(grad, mask, in_shape):
    """Route each output gradient to the maxima of its window (ties share it; see the notes)."""
    n, c, h, w = in_shape
    grad_x = np.zeros(in_shape, dtype=grad.dtype)
    grad_x[:, :, :h // 2 * 2, :w // 2 * 2] = (mask * grad[:, :, :, None, :, None]).reshape(
        n, c, h // 2 * 2, w // 2 * 2)
    return grad_x


def _forward(w, x):
    z1 = conv_forward(x, w["K1"], w["c1"])
    a1 = np.maximum(z1, 0)
    p1, m1 = pool_forward(a1)
    z2 = conv_forward(p1, w["K2"], w["c2"])
    a2 = np.maximum(z2, 0)
    p2, m2 = pool_forward(a2)
    flat = p2.reshape(len(x), -1)
    logits = flat @ w["W"] + w["b"]
    return logits, (z1, a1, p1, m1, z2, a2, p2, m2, flat)


def final_loss(ctx, w, chunk=256):
    """Mean softmax cross-entropy of weights ``w`` over the whole training set."""
    x, labels = ctx["x"], ctx["labels"]
    total = 0.0
    for start in range(0, len(x), chunk):
        z = _forward(w, x[start:start + chunk])[0].astype(np.float64)
        total += cross_entropy_sum(z, labels[start:start + chunk])
    return total / len(x)


# -- contenders ---------------------------------------------------------------------------------

def train_numpy(ctx, limit=None):
    """The floor: sliding-window convolutions as tensor products, reshape pooling, SGD momentum."""
    x, labels = ctx["x"], ctx["labels"]
    n = limit or len(x)
    w = {k: v.copy() for k, v in ctx["init"].items()}
    velocity = {}
    order = np.random.default_rng(ctx["seed"] + 1).permutation(n)
    losses = []
    for start in range(0, n, BATCH):
        index = order[start:start + BATCH]
        xb, yb = x[index], labels[index]
        rows = np.arange(len(index))
        logits, (z1, a1, p1, m1, z2, a2, p2, m2, flat) = _forward(w, xb)
        logits -= logits.max(axis=1, keepdims=True)            # softmax cross-entropy
        e = np.exp(logits)
        s = e.sum(axis=1, keepdims=True)
        losses.append(float(np.mean(np.log(s[:, 0]) - logits[rows, yb])))
        dz = e / s
        dz[rows, yb] -= 1.0
        dz /= len(index)
        g = {"W": flat.T @ dz, "b": dz.sum(axis=0)}             # backward
        d_p2 = (dz @ w["W"].T).reshape(p2.shape)
        d_z2 = pool_backward(d_p2, m2, a2.shape) * (z2 > 0)
        g["K2"], g["c2"], d_p1 = conv_backward(p1, w["K2"], d_z2, need_input_grad=True)
        d_z1 = pool_backward(d_p1, m1, a1.shape) * (z1 > 0)
        g["K1"], g["c1"], _ = conv_backward(xb, w["K1"], d_z1, need_input_grad=False)
        for k in KEYS:                                          # SGD with momentum, as torch
            if k in velocity:
                velocity[k] *= MOMENTUM
                velocity[k] += g[k]
            else:
                velocity[k] = g[k].copy()
            w[k] -= LEARNING_RATE * velocity[k]
    return w


def train_nnscratch(ctx, limit=None):
    import nnscratch as ns
    x, labels = ctx["x"], ctx["labels"]
    if limit:
        x, labels = x[:limit], labels[:limit]
    net = ns.Network([ns.layers.Conv2D(16, 3, activation="relu"), ns.layers.MaxPool2D(2),
                      ns.layers.Conv2D(32, 3, activation="relu"), ns.layers.MaxPool2D(2),
                      ns.layers.Flatten(), ns.Dense(10, activation="softmax")],
                     loss="sparse_categorical_crossentropy",
                     optimizer=ns.optimizers.SGD(learning_rate=LEARNING_RATE, momentum=MOMENTUM),
                     seed=ctx["seed"], dtype="float32", input_shape=(1, 28, 28))
    names = {"K1": "conv2d_0.W", "c1": "conv2d_0.b", "K2": "conv2d_2.W", "c2": "conv2d_2.b",
             "W": "dense_5.W", "b": "dense_5.b"}
    net.set_weights({names[k]: v for k, v in ctx["init"].items()})
    net.fit(x, labels, epochs=1, batch_size=BATCH, shuffle=True, seed=ctx["seed"] + 1, verbose=0)
    trained = net.get_weights()
    return {k: trained[name] for k, name in names.items()}


def train_pytorch(ctx, limit=None):
    import torch
    nn = torch.nn
    x, labels = torch.from_numpy(ctx["x"]), torch.from_numpy(ctx["labels"])
    n = limit or len(x)
    conv1, conv2, dense = nn.Conv2d(1, 16, 3), nn.Conv2d(16, 32, 3), nn.Linear(800, 10)
    model = nn.Sequential(conv1, nn.ReLU(), nn.MaxPool2d(2), conv2, nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), dense)
    init = {k: torch.from_numpy(v) for k, v in ctx["init"].items()}
    with torch.no_grad():
        conv1.weight.copy_(init["K1"])
        conv1.bias.copy_(init["c1"])
        conv2.weight.copy_(init["K2"])
        conv2.bias.copy_(init["c2"])
        dense.weight.copy_(init["W"].T)       # torch keeps W as (out, in)
        dense.bias.copy_(init["b"])
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    torch_epoch(model, optimizer, x, labels, n, BATCH, ctx["seed"] + 1)
    out = {"K1": conv1.weight, "c1": conv1.bias, "K2": conv2.weight, "c2": conv2.bias,
           "W": dense.weight.T, "b": dense.bias}
    return {k: v.detach().numpy().copy() for k, v in out.items()}


CONTENDERS = {
    "nnscratch": train_nnscratch,
    "numpy": train_numpy,
    "pytorch": train_pytorch,
}
NOTES = ["scikit-learn has no convolutional network, so W3 has no sklearn contender.",
         "The NumPy floor's max-pool backward sends a window's gradient to every tied maximum; "
         "ties occur only among zeros after ReLU, where the ReLU derivative discards them."]
