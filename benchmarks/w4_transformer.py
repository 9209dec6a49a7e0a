"""W4, a small transformer: one epoch of the addition example's GPT (examples/addition_gpt.py).

The model: token and learned position embeddings (width 128), two blocks of (LayerNorm, causal
multi-head attention with 4 heads of 32, residual, LayerNorm, MLP 128-512-128 with exact GELU,
residual), a final LayerNorm and a linear head over the 10 digits, softmax cross-entropy on
the three answer positions only (per-position weights: 0 at the prompt, 2 at the answer, so the
loss is the mean over the answer digits), AdamW (learning rate 1e-3,
weight decay 0.01 on every parameter, constant rate), float32. The data: the example's 9,500
training problems (sequences of 6 tokens), batch 64, one shuffled epoch (149 steps).

nnscratch runs the example's own ``build_model``; PyTorch eager the same model written with
``nn.Embedding``, ``nn.LayerNorm`` (eps 1e-3, as nnscratch's), ``nn.MultiheadAttention`` and
``nn.Linear``, from the same initial weights: nnscratch's, copied into PyTorch's layouts (see
nnscratch.layers.attention for the attention's). Both take the same loss: the mean
cross-entropy over the batch's answer digits. The weights come back in
nnscratch's layout, ``{"layer.key": array}``; the final loss is the mean cross-entropy per answer
digit over the training problems, computed by one NumPy forward pass (:func:`forward`).
"""

import math
import os
import sys

import numpy as np

NAME = "W4"
TITLE = ("W4: small transformer (the addition example's GPT: width 128, 2 blocks, 4 heads of 32, "
         "MLP 512 GELU, causal; cross-entropy on the 3 answer digits, AdamW lr 1e-3, batch 64, "
         "one epoch of 9,500 sequences of 6 tokens, float32)")
BATCH = 64
LEARNING_RATE = 1e-3
WEIGHT_DECAY = 0.01
EPSILON_LN = 1e-3
EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def _example():
    """The addition example module (its data and its model)."""
    if EXAMPLES not in sys.path:
        sys.path.insert(0, EXAMPLES)
    import addition_gpt
    return addition_gpt


def unavailable():
    import nnscratch as ns
    missing = [name for name in ("MultiHeadAttention", "PositionalEmbedding", "LayerNormalization")
               if not hasattr(ns.layers, name)]
    if missing or not hasattr(ns, "Model"):
        return f"nnscratch has no {', '.join(missing or ['Model'])} yet"
    return None


def sample_count(quick):
    return 9_500 // 8 if quick else 9_500


def setup(quick, seed):
    """The example's training problems, their inputs and targets, and nnscratch's initial weights."""
    example = _example()
    train, _ = example.split()
    train = train[:sample_count(quick)]
    x, labels, weights = example.inputs_and_targets(train)
    model = example.build_model(total_steps=None, seed=seed)
    return {"x": x, "labels": labels, "weights": weights, "init": model.get_weights(),
            "seed": seed, "positions": example.ANSWER_POSITIONS, "depth": 2, "heads": 4}


def warmup_limit(ctx):
    return 10 * BATCH


# -- the shared forward pass (the final loss) ---------------------------------------------------

def _layer_norm(x, w, name):
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + EPSILON_LN) * w[f"{name}.gamma"] + w[f"{name}.beta"]


def _gelu(z):
    from scipy.special import erf
    return 0.5 * z * (1.0 + erf(z / math.sqrt(2.0)))


def _attention(x, w, name, heads):
    n, t, e = x.shape
    d = e // heads

    def project(key):
        p = x @ w[f"{name}.W_{key}"].reshape(e, e) + w[f"{name}.b_{key}"].reshape(e)
        return p.reshape(n, t, heads, d).transpose(0, 2, 1, 3)

    q, k, v = project("q"), project("k"), project("v")
    scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d)
    scores = np.where(np.tri(t, dtype=bool), scores, -np.inf)
    scores -= scores.max(axis=-1, keepdims=True)
    a = np.exp(scores)
    a /= a.sum(axis=-1, keepdims=True)
    o = (a @ v).transpose(0, 2, 1, 3).reshape(n, t, e)
    return o @ w[f"{name}.W_o"].reshape(e, e) + w[f"{name}.b_o"]


def forward(w, tokens, depth=2, heads=4):
    """The logits (N, T, 10) of weights ``w`` (nnscratch's names) for tokens (N, T), in float64."""
    w = {k: v.astype(np.float64) for k, v in w.items()}
    ids = tokens.astype(np.int64)
    x = w["token_embedding.W"][ids] + w["position_embedding.W"][:ids.shape[1]]
    for b in range(depth):
        x = x + _attention(_layer_norm(x, w, f"block{b}_norm1"), w, f"block{b}_attention", heads)
        h = _layer_norm(x, w, f"block{b}_norm2") @ w[f"block{b}_mlp_up.W"] + w[f"block{b}_mlp_up.b"]
        x = x + _gelu(h) @ w[f"block{b}_mlp_down.W"] + w[f"block{b}_mlp_down.b"]
    return _layer_norm(x, w, "final_norm") @ w["head.W"] + w["head.b"]


def final_loss(ctx, w, chunk=1000):
    """Mean cross-entropy per answer digit of weights ``w`` over the training problems."""
    x, labels, positions = ctx["x"], ctx["labels"], ctx["positions"]
    total = 0.0
    for start in range(0, len(x), chunk):
        z = forward(w, x[start:start + chunk], ctx["depth"], ctx["heads"])[:, positions]
        z -= z.max(axis=-1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
        target = labels[start:start + chunk][:, positions]
        total -= np.take_along_axis(log_p, target[..., None], axis=-1).sum()
    return total / (len(x) * len(positions))


# -- contenders ---------------------------------------------------------------------------------

def train_nnscratch(ctx, limit=None, shuffle=True):
    example = _example()
    x, y, w = ctx["x"], ctx["labels"], ctx["weights"]
    if limit:
        x, y, w = x[:limit], y[:limit], w[:limit]
    model = example.build_model(learning_rate=LEARNING_RATE, weight_decay=WEIGHT_DECAY,
                                total_steps=None, seed=ctx["seed"])
    model.set_weights(ctx["init"])
    model.fit(x, y, epochs=1, batch_size=BATCH, shuffle=shuffle, seed=ctx["seed"] + 1,
              sample_weight=w, verbose=0)
    return model.get_weights()


def torch_model(init, depth=2, heads=4):
    """The same GPT in PyTorch eager, with the weights ``init`` (nnscratch's names and layouts)."""
    import torch
    nn = torch.nn
    vocab, width = init["token_embedding.W"].shape
    length = init["position_embedding.W"].shape[0]

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm1 = nn.LayerNorm(width, eps=EPSILON_LN)
            self.attention = nn.MultiheadAttention(width, heads, batch_first=True)
            self.norm2 = nn.LayerNorm(width, eps=EPSILON_LN)
            self.up, self.down = nn.Linear(width, 4 * width), nn.Linear(4 * width, width)
            self.gelu = nn.GELU()

        def forward(self, x, mask):
            h = self.norm1(x)
            x = x + self.attention(h, h, h, attn_mask=mask, need_weights=False)[0]
            return x + self.down(self.gelu(self.up(self.norm2(x))))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tokens = nn.Embedding(vocab, width)
            self.positions = nn.Parameter(torch.zeros(length, width))
            self.blocks = nn.ModuleList(Block() for _ in range(depth))
            self.norm = nn.LayerNorm(width, eps=EPSILON_LN)
            self.head = nn.Linear(width, vocab)
            # True where attention is not allowed (PyTorch's sense): the keys after the query
            self.register_buffer("mask", ~torch.tril(torch.ones(length, length, dtype=torch.bool)))

        def forward(self, ids):
            t = ids.shape[1]
            x = self.tokens(ids) + self.positions[:t]
            for block in self.blocks:
                x = block(x, self.mask[:t, :t])
            return self.head(self.norm(x))

    model = GPT()
    copy_weights(model, init, to_torch=True)
    return model


def _pairs(model):
    """``(torch parameter, nnscratch name, transposed)`` for every weight but the attention's
    projections: a Linear keeps W as (out, in), nnscratch's Dense as (in, out)."""
    pairs = [(model.tokens.weight, "token_embedding.W", False),
             (model.positions, "position_embedding.W", False),
             (model.norm.weight, "final_norm.gamma", False),
             (model.norm.bias, "final_norm.beta", False),
             (model.head.weight, "head.W", True), (model.head.bias, "head.b", False)]
    for b, block in enumerate(model.blocks):
        p = f"block{b}_"
        pairs += [(block.norm1.weight, p + "norm1.gamma", False),
                  (block.norm1.bias, p + "norm1.beta", False),
                  (block.norm2.weight, p + "norm2.gamma", False),
                  (block.norm2.bias, p + "norm2.beta", False),
                  (block.up.weight, p + "mlp_up.W", True), (block.up.bias, p + "mlp_up.b", False),
                  (block.down.weight, p + "mlp_down.W", True),
                  (block.down.bias, p + "mlp_down.b", False),
                  (block.attention.out_proj.bias, p + "attention.b_o", False)]
    return pairs


def copy_weights(model, weights, to_torch):
    """Copy ``weights`` (nnscratch's names and layouts) into ``model`` when ``to_torch``, else
    return the model's weights as a new dict in nnscratch's names and layouts.

    The attention (nnscratch.layers.attention): ``in_proj_weight`` stacks ``W_q``, ``W_k``,
    ``W_v`` each reshaped to (E, E) and transposed; ``out_proj.weight`` is ``W_o`` as (E, E),
    transposed.
    """
    import torch
    out = {}
    with torch.no_grad():
        for param, name, transposed in _pairs(model):
            if to_torch:
                value = weights[name].T if transposed else weights[name]
                param.copy_(torch.from_numpy(np.ascontiguousarray(value)))
            else:
                value = param.detach().numpy()
                out[name] = (value.T if transposed else value).copy()
        for b, block in enumerate(model.blocks):
            name, mha = f"block{b}_attention", block.attention
            e, h = mha.embed_dim, mha.num_heads
            if to_torch:
                mha.in_proj_weight.copy_(torch.from_numpy(np.concatenate(
                    [weights[f"{name}.W_{k}"].reshape(e, e).T for k in "qkv"])))
                mha.in_proj_bias.copy_(torch.from_numpy(np.concatenate(
                    [weights[f"{name}.b_{k}"].reshape(e) for k in "qkv"])))
                mha.out_proj.weight.copy_(torch.from_numpy(
                    np.ascontiguousarray(weights[f"{name}.W_o"].reshape(e, e).T)))
                continue
            w_in = mha.in_proj_weight.detach().numpy()
            b_in = mha.in_proj_bias.detach().numpy()
            for i, k in enumerate("qkv"):
                out[f"{name}.W_{k}"] = w_in[i * e:(i + 1) * e].T.reshape(e, h, e // h).copy()
                out[f"{name}.b_{k}"] = b_in[i * e:(i + 1) * e].reshape(h, e // h).copy()
            out[f"{name}.W_o"] = mha.out_proj.weight.detach().numpy().T.reshape(h, e // h, e).copy()
    return out


def train_pytorch(ctx, limit=None, shuffle=True):
    """One epoch in PyTorch eager: the same model, weights, loss, AdamW and batch size,
    shuffled by torch's own generator (``shuffle=False``: in order, for tests)."""
    import torch
    x = torch.from_numpy(ctx["x"].astype(np.int64))
    labels = torch.from_numpy(ctx["labels"])
    positions = torch.from_numpy(np.asarray(ctx["positions"]))
    n = limit or len(x)
    model = torch_model(ctx["init"], ctx["depth"], ctx["heads"])
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY,
                                  eps=1e-8)
    loss_fn = torch.nn.CrossEntropyLoss()
    order = (torch.randperm(n, generator=torch.Generator().manual_seed(ctx["seed"] + 1))
             if shuffle else torch.arange(n))
    for start in range(0, n, BATCH):
        index = order[start:start + BATCH]
        optimizer.zero_grad()
        logits = model(x[index])[:, positions]                        # (B, 3, 10)
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]),
                       labels[index][:, positions].reshape(-1))
        loss.backward()
        optimizer.step()
        loss.item()                                   # read back, as nnscratch's History does
    return copy_weights(model, None, to_torch=False)


CONTENDERS = {
    "nnscratch": train_nnscratch,
    "pytorch": train_pytorch,
}
NOTES = ["No hand-written NumPy floor for W4 yet, and no scikit-learn contender (it has no "
         "transformer).",
         "Both start from the same weights (nnscratch's initialisation, copied into PyTorch's "
         "layouts) and take the same 149 AdamW steps; each shuffles with its own generator, so "
         "the final losses agree closely, not exactly."]
