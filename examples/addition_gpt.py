"""Two-digit addition learned from scratch by a small GPT-style transformer.

The task of minGPT's adder (Karpathy, ``projects/adder``): for a + b with a, b in [0, 100), the
sequence is the two digits of a, the two digits of b and the three digits of the sum written
backwards (units first, the order in which a person adds), seven tokens over the vocabulary
0-9. 47 + 85 = 132 is ``4 7 8 5 2 3 1``.

1. All 10,000 problems (the 100 x 100 grid); 500 of them, drawn with a fixed seed, are held
   out and scored once at the end; the model trains on the other 9,500.
2. The model reads the first six tokens and predicts each next one (a causal mask: position t
   sees the tokens 0..t only): token and learned position embeddings (width 128), two blocks
   of (LayerNorm, causal multi-head attention with 4 heads of 32, residual, LayerNorm, MLP
   128-512-128 with GELU, residual), a final LayerNorm and a softmax over the 10 digits. This
   is the model of the benchmark page's W4 (``benchmarks/w4_transformer.py``).
3. The loss counts the answer only: sparse cross-entropy with one weight per position,
   ``sample_weight`` shaped (N, 6), 0 at the prompt positions 0-2 and 2 (= 6 / 3) at the
   positions 3, 4 and 5 that predict the three digits of the sum. The library averages
   :math:`w_{n,t} l_{n,t}` over all N x 6 positions, so with these weights its loss is the mean
   cross-entropy per answer digit.
4. AdamW (weight decay 0.01), a learning rate of 1e-3 after a linear warm-up over 5% of the
   steps, then a half cosine to 0; batches of 64, 10 epochs.
5. Greedy decoding: from the four prompt digits the model picks its most likely digit, appends
   it and reads again, three times; a problem counts as solved when all three digits are right.

The settings were checked on 500 of the 9,500 training problems held out for validation
(``--validate``): 500 of 500 for each of the seeds 0-4 (with 5 epochs instead of 10, one seed in
three stayed on the plateau of the first epochs, seen in its training accuracy too). The test
accuracy per epoch in the figure is drawn for reading only (nothing stops or is chosen on it).
The default run solves 500 of 500 held-out problems and 9,500 of 9,500 training ones, after
about 40 s of training on one thread of a 2-core machine.

Run ``python examples/addition_gpt.py --out examples/output``; it prints the exact-match
accuracy on the held-out and the training problems and the training time, and writes
``addition_gpt_loss.png`` (the loss per step, the held-out loss and accuracy per epoch) and
``addition_gpt_attention.png`` (the attention weights of every head for one held-out problem).
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from blas_threads import add_argument as add_blas_threads_flag
from blas_threads import blas_threads

import nnscratch as ns
from nnscratch.plots import pyplot

DEFAULT_OUT = Path(__file__).resolve().parent / "output"
DIGITS = 2                          # digits of each operand
PROMPT = 2 * DIGITS                 # a and b
ANSWER = DIGITS + 1                 # the sum, units first
LENGTH = PROMPT + ANSWER - 1        # the model reads all but the last token: 6
VOCAB = 10
ANSWER_POSITIONS = np.arange(PROMPT - 1, LENGTH)     # the positions predicting the answer: 3, 4, 5


# -- data ------------------------------------------------------------------------------------

def all_problems():
    """Every problem a + b, a, b in [0, 100), as sequences (10000, 7) of digits:
    ``a1 a0 b1 b0 c0 c1 c2`` where ``c0`` is the units digit of the sum c = a + b."""
    a, b = np.divmod(np.arange(10 ** (2 * DIGITS)), 10 ** DIGITS)
    c = a + b
    return np.stack([a // 10, a % 10, b // 10, b % 10, c % 10, c // 10 % 10, c // 100],
                    axis=1).astype(np.int64)


def split(held_out=500, seed=0):
    """``(train, test)`` sequences: ``held_out`` problems drawn at random with ``seed``, the rest."""
    problems = all_problems()
    order = np.random.default_rng(seed).permutation(len(problems))
    return problems[order[held_out:]], problems[order[:held_out]]


def inputs_and_targets(sequences):
    """The model's inputs (N, 6), its targets (N, 6) and the weight of each position (N, 6).

    Input position t holds token t and its target is token t + 1. The weights are 0 at the
    prompt positions 0-2 (the loss ignores what the model predicts there) and 6 / 3 at the
    answer positions 3, 4 and 5, so that the loss is the mean over the answer digits.
    """
    x = sequences[:, :LENGTH].astype(np.float32)
    y = sequences[:, 1:]
    weights = np.zeros((len(sequences), LENGTH), dtype=np.float32)
    weights[:, ANSWER_POSITIONS] = LENGTH / len(ANSWER_POSITIONS)
    return x, y, weights


def as_text(sequence):
    """``"47+85=132"`` from the digits ``4 7 8 5 2 3 1``."""
    a = 10 * sequence[0] + sequence[1]
    b = 10 * sequence[2] + sequence[3]
    c = sequence[4] + 10 * sequence[5] + 100 * sequence[6]
    return f"{a}+{b}={c}"


# -- the model -------------------------------------------------------------------------------

def build_model(width=128, heads=4, depth=2, mlp=512, learning_rate=1e-3, weight_decay=0.01,
                total_steps=1, warmup=0.05, seed=0):
    """The GPT-style model: embeddings, ``depth`` pre-LayerNorm blocks, LayerNorm, softmax.

    ``learning_rate`` is reached after a linear warm-up over ``warmup`` of ``total_steps`` and
    falls on a half cosine to 0 (``None`` for ``total_steps`` keeps it constant).
    """
    tokens = ns.Input((LENGTH,), name="tokens")
    x = ns.Embedding(VOCAB, width, name="token_embedding")(tokens)
    x = ns.PositionalEmbedding(LENGTH, width, name="position_embedding")(x)
    for block in range(depth):
        h = ns.LayerNormalization(name=f"block{block}_norm1")(x)
        attention = ns.MultiHeadAttention(heads, width // heads, name=f"block{block}_attention")
        x = ns.Add(name=f"block{block}_add1")([x, attention(h, h, use_causal_mask=True)])
        h = ns.LayerNormalization(name=f"block{block}_norm2")(x)
        h = ns.Dense(mlp, activation="gelu", name=f"block{block}_mlp_up")(h)
        h = ns.Dense(width, name=f"block{block}_mlp_down")(h)
        x = ns.Add(name=f"block{block}_add2")([x, h])
    x = ns.LayerNormalization(name="final_norm")(x)
    digits = ns.Dense(VOCAB, activation="softmax", name="head")(x)
    rate = learning_rate
    if total_steps is not None:
        rate = ns.schedules.CosineDecay(learning_rate, total_steps,
                                        warmup_steps=max(1, int(warmup * total_steps)))
    optimizer = ns.optimizers.AdamW(learning_rate=rate, weight_decay=weight_decay)
    return ns.Model(tokens, digits, loss="sparse_categorical_crossentropy", optimizer=optimizer,
                    seed=seed)


def attention_layers(model):
    """The model's MultiHeadAttention layers, first block first."""
    return [layer for layer in model.layers if isinstance(layer, ns.MultiHeadAttention)]


def generate(model, prompts):
    """Greedy decoding of the three answer digits for prompts (N, 4): returns (N, 3).

    The model reads six positions; the ones not yet written hold 0, which the causal mask keeps
    from every position before them. Each round reads the distribution at the last written
    position and writes its most likely digit after it.
    """
    x = np.zeros((len(prompts), LENGTH), dtype=np.float32)
    x[:, :PROMPT] = prompts
    answer = np.empty((len(prompts), ANSWER), dtype=np.int64)
    for k, t in enumerate(ANSWER_POSITIONS):
        answer[:, k] = model.predict(x)[:, t].argmax(axis=-1)
        if t + 1 < LENGTH:
            x[:, t + 1] = answer[:, k]
    return answer


def exact_match(model, sequences):
    """The share of problems whose three answer digits greedy decoding gets all right."""
    answer = generate(model, sequences[:, :PROMPT])
    return float(np.mean(np.all(answer == sequences[:, PROMPT:], axis=1)))


def digit_accuracy(model, sequences):
    """The share of right answer digits (units, tens, hundreds) when the model reads the true
    digits before each one (teacher forcing), one share per digit."""
    x, _, _ = inputs_and_targets(sequences)
    predicted = model.predict(x)[:, ANSWER_POSITIONS].argmax(axis=-1)
    return np.mean(predicted == sequences[:, PROMPT:], axis=0)


class Monitor(ns.callbacks.Callback):
    """Keeps each step's loss and, after each epoch, the held-out exact-match accuracy (its own
    time is kept apart, so the training time excludes it)."""

    def __init__(self, held_out):
        super().__init__()
        self.held_out = held_out
        self.step_losses, self.accuracy, self.seconds = [], [], 0.0

    def on_batch_end(self, batch, logs=None):
        self.step_losses.append(logs["loss"])

    def on_epoch_end(self, epoch, logs=None):
        start = time.perf_counter()
        self.accuracy.append(exact_match(self.network, self.held_out))
        self.seconds += time.perf_counter() - start


# -- figures ---------------------------------------------------------------------------------


def plot_loss(monitor, history, steps_per_epoch, path, where="held-out"):
    """Training loss per step (and its running mean), held-out loss and accuracy per epoch."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    steps = np.arange(1, len(monitor.step_losses) + 1)
    losses = np.array(monitor.step_losses)
    left.plot(steps, losses, color="tab:blue", alpha=0.3, linewidth=0.8, label="training, per step")
    window = min(50, len(losses))
    smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
    left.plot(steps[window - 1:], smooth, color="tab:blue", label=f"training, mean of {window} steps")
    epochs = np.arange(1, len(history.epoch) + 1)
    left.plot(epochs * steps_per_epoch, history.history["val_loss"], "o--",
              color="tab:orange", label=f"{where}, end of epoch")
    left.set_yscale("log")
    left.set_xlabel("step (batch of 64)")
    left.set_ylabel("cross-entropy per answer digit")
    left.grid(True, alpha=0.3)
    left.legend()
    right.plot(epochs, 100 * np.array(monitor.accuracy), "o-", color="tab:green")
    right.set_ylim(-2, 102)
    right.set_xlabel("epoch")
    right.set_ylabel(f"{where} problems solved (%)")
    right.set_xticks(epochs)
    right.set_title("greedy decoding, all three digits right", fontsize=10)
    right.grid(True, alpha=0.3)
    fig.suptitle("A GPT learning 2-digit addition: loss on the answer digits only")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_attention(model, sequence, path, where="held-out"):
    """The attention weights of every head (rows: blocks) for one problem, after the model has
    written its own answer: query positions down, key positions across."""
    plt = pyplot()
    answer = generate(model, sequence[None, :PROMPT])[0]
    tokens = np.concatenate([sequence[:PROMPT], answer])[:LENGTH]
    model.predict(tokens[None].astype(np.float32))
    layers = attention_layers(model)
    heads = layers[0].num_heads
    names = ["a1", "a0", "b1", "b0", "c0", "c1"]
    labels = [f"{n}={d}" for n, d in zip(names, tokens)]
    fig, axes = plt.subplots(len(layers), heads, figsize=(2.5 * heads + 1.2, 2.6 * len(layers) + 0.9),
                             squeeze=False, layout="constrained")
    for row, layer in enumerate(layers):
        weights = layer.last_attention_scores[0]                   # (H, T, T)
        for h in range(heads):
            ax = axes[row, h]
            image = ax.imshow(weights[h], cmap="Blues", vmin=0, vmax=1)
            ax.set_xticks(range(LENGTH), labels, fontsize=7, rotation=90)
            ax.set_yticks(range(LENGTH), labels, fontsize=7)
            ax.set_title(f"block {row}, head {h}", fontsize=9)
            if h == 0:
                ax.set_ylabel("query position", fontsize=8)
            if row == len(layers) - 1:
                ax.set_xlabel("key position", fontsize=8)
    fig.colorbar(image, ax=axes, shrink=0.6, label="attention weight")
    predicted = np.concatenate([sequence[:PROMPT], answer])
    fig.suptitle(f"Attention weights for the {where} problem {as_text(sequence)}, which the model "
                 f"answered {as_text(predicted)}\n(tokens a1 a0 b1 b0 c0 c1: the digits of a and b, "
                 "then the sum units first; row t predicts token t + 1)", fontsize=10)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# -- the run ---------------------------------------------------------------------------------

def run(epochs=10, batch_size=64, width=128, heads=4, depth=2, mlp=512, learning_rate=1e-3,
        weight_decay=0.01, held_out=500, validate=False, subset=None, seed=0, out=DEFAULT_OUT,
        verbose=True):
    """Train, decode and draw; returns a dict of the results, the model and the figure paths.

    ``validate`` scores on 500 problems taken from the training ones instead of the held-out
    ones (for choosing settings); ``subset`` trains on only that many problems (quick runs).
    """
    train, test = split(held_out, seed=0)          # one fixed split, whatever the model's seed
    if validate:
        train, test = train[held_out:], train[:held_out]
    if subset is not None:
        train = train[:subset]
    x_train, y_train, w_train = inputs_and_targets(train)
    x_test, y_test, w_test = inputs_and_targets(test)
    steps_per_epoch = -(-len(train) // batch_size)
    model = build_model(width, heads, depth, mlp, learning_rate, weight_decay,
                        total_steps=epochs * steps_per_epoch, seed=seed)
    monitor = Monitor(test)
    start = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size,
                        sample_weight=w_train, validation_data=(x_test, y_test, w_test),
                        callbacks=[monitor], verbose=0)
    train_seconds = time.perf_counter() - start - monitor.seconds
    answers = generate(model, test[:, :PROMPT])
    right = np.all(answers == test[:, PROMPT:], axis=1)
    test_accuracy = float(np.mean(right))
    train_accuracy = exact_match(model, train)
    per_digit = digit_accuracy(model, test)
    wrong = [f"{as_text(test[i])} (answered {as_text(np.concatenate([test[i, :PROMPT], answers[i]]))})"
             for i in np.flatnonzero(~right)]

    where = "validation" if validate else "held-out"
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    loss_png, attention_png = out / "addition_gpt_loss.png", out / "addition_gpt_attention.png"
    plot_loss(monitor, history, steps_per_epoch, loss_png, where)
    # the figure's problem: the first whose sum has three digits
    shown = next((i for i in range(len(test)) if test[i, 6] == 1), 0)
    plot_attention(model, test[shown], attention_png, where)
    parameters = sum(p.size for _, p, _ in model.named_parameters())
    results = {"accuracy": test_accuracy, "train_accuracy": train_accuracy,
               "train_seconds": train_seconds, "seconds_per_epoch": train_seconds / epochs,
               "loss": history.history["loss"][-1], "val_loss": history.history["val_loss"][-1],
               "history": history, "monitor": monitor, "model": model, "parameters": parameters,
               "digit_accuracy": per_digit, "n_train": len(train), "n_test": len(test), "wrong": wrong,
               "figures": [loss_png, attention_png]}
    if verbose:
        if validate:
            where = "validation (from the training problems)"
        print(f"addition: {len(train)} training problems, {len(test)} {where}; a GPT of "
              f"{depth} blocks, width {width}, {heads} heads, {parameters:,} parameters")
        print(f"training: {epochs} epochs of {steps_per_epoch} steps in {train_seconds:.1f} s "
              f"({train_seconds / epochs:.1f} s per epoch; {monitor.seconds:.1f} s more for the "
              "accuracy after each epoch)")
        print(f"cross-entropy per answer digit: training {results['loss']:.4f}, "
              f"{where} {results['val_loss']:.4f}")
        print(f"exact match, greedy decoding: {where} {test_accuracy:.2%} "
              f"({int(right.sum())} of {len(test)}), training {train_accuracy:.2%}")
        print(f"each answer digit after the true ones before it: units {per_digit[0]:.2%}, tens "
              f"{per_digit[1]:.2%}, hundreds {per_digit[2]:.2%}")
        if wrong:
            print("wrong: " + ", ".join(wrong[:10]) + (" ..." if len(wrong) > 10 else ""))
        print(f"figures written to {loss_png} and {attention_png}")
    return results


def main(argv=None):
    """Command line: ``python examples/addition_gpt.py [--epochs N] [--seed S] [--out DIR] ...``."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--width", type=int, default=128, help="embedding width")
    parser.add_argument("--heads", type=int, default=4, help="attention heads (width / heads each)")
    parser.add_argument("--depth", type=int, default=2, help="transformer blocks")
    parser.add_argument("--mlp", type=int, default=512, help="hidden units of each block's MLP")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak AdamW learning rate")
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--validate", action="store_true",
                        help="score on 500 of the training problems instead of the held-out ones")
    parser.add_argument("--subset", type=int, default=None,
                        help="train on only this many problems, for a quick run")
    parser.add_argument("--seed", type=int, default=0, help="seeds the weights and the shuffling")
    add_blas_threads_flag(parser)
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="folder for the PNG figures")
    args = parser.parse_args(argv)
    if args.width % args.heads:
        parser.error(f"--width must be a multiple of --heads, got {args.width} and {args.heads}")
    with blas_threads(args.blas_threads):
        return run(epochs=args.epochs, batch_size=args.batch_size, width=args.width,
                   heads=args.heads, depth=args.depth, mlp=args.mlp, learning_rate=args.lr,
                   weight_decay=args.weight_decay, validate=args.validate, subset=args.subset,
                   seed=args.seed, out=args.out)


if __name__ == "__main__":
    main(sys.argv[1:])
