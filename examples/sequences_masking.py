"""Sequences of different lengths with masks: where does a random walk of 6 to 92 steps end?

Data: synthetic, made by this script with a seeded generator (nothing is downloaded). Each
sequence is a random walk of L steps, L drawn uniformly from 6 to 92, with increments drawn
from N(0, 1); its label is 1 when the walk ends above its start, i.e. when the sum of its
increments is positive. So the label depends on every step, the first ones as much as the
last. 2,000 walks train the models, 1,000 others are held out.

A batch holds sequences of one length, so the walks are padded at the end to 92 steps with
zeros: a walk of 6 steps is followed by 86 steps of padding. Two runs of one model, a GRU of
16 units and a Dense sigmoid read-out (binary cross-entropy, Adam with learning rate 0.01,
batches of 64, 20 epochs, the same seed and so the same initial weights):

- **masked**: ``ns.Masking()`` first. ``fit`` and ``predict`` get the list of walks itself
  and pad it at the end with the Masking layer's value 0 (an increment is exactly 0 with
  probability 0, so only padding is masked); the GRU keeps its state at the masked steps, and
  its last state is the one after each walk's last real step (``nnscratch.layers.masking``).
- **unmasked**: the same model without ``Masking`` on the same walks padded by
  ``pad_sequences(..., padding="post")`` (from ``nnscratch.sequences``): the GRU reads the
  padding as steps of size 0 and has to learn by itself to carry the sum through up to 86 of
  them.

With the defaults (seed 0) the masked model reaches 0.97 held-out accuracy (0.89 after its
first epoch), the unmasked one 0.75 after 20 epochs, its accuracy swinging between 0.47 and
0.78 from epoch to epoch: it does learn to carry the sum through the padding now and then,
the masked model never has to.

The script prints the held-out accuracy of both (overall, per band of lengths, per epoch) and
writes ``sequences_masking.png``: three walks as the models see them, the held-out accuracy
per epoch and per band of lengths. Run ``python examples/sequences_masking.py --out
examples/output``.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import nnscratch as ns
from nnscratch.plots import pyplot
from nnscratch.sequences import pad_sequences

DEFAULT_OUT = Path(__file__).resolve().parent / "output"
MIN_STEPS, MAX_STEPS = 6, 92
BANDS = ((6, 20), (21, 40), (41, 60), (61, 80), (81, 92))


def random_walks(n, rng, min_steps=MIN_STEPS, max_steps=MAX_STEPS):
    """``(walks, labels)``: ``n`` lists of N(0, 1) increments of 6-92 steps, and 1.0 where the
    increments sum to more than 0 (the walk ends above its start), shaped (n, 1)."""
    lengths = rng.integers(min_steps, max_steps + 1, n)
    walks = [rng.standard_normal(length).astype(np.float32)[:, None] for length in lengths]
    labels = np.array([[float(walk.sum() > 0)] for walk in walks], dtype=np.float32)
    return walks, labels


def build_model(masked, units=16, learning_rate=1e-2, seed=0, steps=MAX_STEPS):
    """GRU(units) -> Dense(1, sigmoid), with ``Masking`` first when ``masked``."""
    layers = ([ns.Masking(mask_value=0.0)] if masked else []) + [
        ns.GRU(units), ns.Dense(1, activation="sigmoid")]
    return ns.Network(layers, loss="binary_crossentropy", metrics=["accuracy"], seed=seed,
                      optimizer=ns.optimizers.Adam(learning_rate=learning_rate),
                      input_shape=(steps, 1))


def accuracy(probabilities, labels):
    """Share of walks whose side (above or below the start) is predicted right."""
    return float(np.mean((np.asarray(probabilities) > 0.5) == (np.asarray(labels) > 0.5)))


def band_accuracy(probabilities, labels, lengths, bands=BANDS):
    """``{(low, high): accuracy}`` over the walks of each band of lengths."""
    lengths = np.asarray(lengths)
    return {band: accuracy(probabilities[(lengths >= band[0]) & (lengths <= band[1])],
                           labels[(lengths >= band[0]) & (lengths <= band[1])])
            for band in bands}


def run(n_train=2000, n_test=1000, epochs=20, batch_size=64, units=16, learning_rate=1e-2,
        seed=0, out=DEFAULT_OUT, verbose=True):
    """Train both models, score them on the held-out walks, draw the figure; returns a dict."""
    rng = np.random.default_rng(seed)
    train_walks, y_train = random_walks(n_train, rng)
    test_walks, y_test = random_walks(n_test, rng)
    test_lengths = np.array([len(w) for w in test_walks])
    padded = {name: pad_sequences(walks, maxlen=MAX_STEPS, dtype="float32", padding="post")
              for name, walks in (("train", train_walks), ("test", test_walks))}
    results = {"n_train": n_train, "n_test": n_test, "epochs": epochs}
    initial = []
    for masked in (True, False):
        name = "masked" if masked else "unmasked"
        net = build_model(masked, units, learning_rate, seed)
        initial.append([value.copy() for value in net.get_weights().values()])
        # the list of walks for the masked model (padded inside fit), the array for the other
        x_train = train_walks if masked else padded["train"]
        x_test = test_walks if masked else padded["test"]
        start = time.perf_counter()
        history = net.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, verbose=0,
                          validation_data=(x_test, y_test))
        seconds = time.perf_counter() - start
        probabilities = net.predict(x_test)
        results[name] = {"accuracy": accuracy(probabilities, y_test),
                         "bands": band_accuracy(probabilities, y_test, test_lengths),
                         "val_accuracy": history.history["val_accuracy"],
                         "loss": history.history["loss"], "seconds": seconds}
    # Masking has no weights, so the two models start from the same ones
    results["same_initial_weights"] = all(np.array_equal(a, b) for a, b in zip(*initial))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figure = out / "sequences_masking.png"
    plot_results(results, padded["test"], test_lengths, y_test, figure)
    results["figure"] = figure
    if verbose:
        report(results)
    return results


def report(results):
    """Print the figures of merit."""
    print(f"random walks of {MIN_STEPS}-{MAX_STEPS} N(0, 1) steps, padded at the end to "
          f"{MAX_STEPS}: {results['n_train']} training, {results['n_test']} held out; label: "
          "the walk ends above its start")
    print("same model and initial weights, with and without Masking: "
          f"{results['same_initial_weights']}")
    print(f"{'':<10} {'held-out accuracy':>18} {'training time':>14}")
    for name in ("masked", "unmasked"):
        r = results[name]
        print(f"{name:<10} {r['accuracy']:>18.3f} {r['seconds']:>13.1f}s")
    print("held-out accuracy per band of lengths:")
    print("  " + " ".join(f"{f'{low}-{high}':>8}" for low, high in BANDS))
    for name in ("masked", "unmasked"):
        print("  " + " ".join(f"{results[name]['bands'][band]:>8.3f}" for band in BANDS)
              + f"   {name}")
    print("held-out accuracy per epoch (watched only, never used to choose anything):")
    for name in ("masked", "unmasked"):
        curve = results[name]["val_accuracy"]
        print(f"  {name:<9} " + " ".join(f"{a:.2f}" for a in curve)
              + f"   best {max(curve):.3f}")
    print(f"figure written to {results['figure']}")


def plot_results(results, x_test, lengths, labels, path):
    """Three walks as padded, held-out accuracy per epoch, and per band of lengths."""
    plt = pyplot()
    fig, (ax_walks, ax_epochs, ax_bands) = plt.subplots(1, 3, figsize=(15, 4.3))
    colors = {"masked": "tab:blue", "unmasked": "tab:orange"}
    for n in (int(np.argmin(lengths)), int(np.argsort(lengths)[len(lengths) // 2]),
              int(np.argmax(lengths))):
        position = np.cumsum(x_test[n, :, 0])
        steps = np.arange(1, len(position) + 1)
        line, = ax_walks.plot(steps[:lengths[n]], position[:lengths[n]], linewidth=1.3,
                              label=f"{lengths[n]} steps, ends {'above' if labels[n, 0] else 'below'}")
        ax_walks.plot(steps[lengths[n] - 1:], position[lengths[n] - 1:], color=line.get_color(),
                      linestyle=":", linewidth=1.0)
    ax_walks.axhline(0.0, color="black", linewidth=0.6)
    ax_walks.set_title("Held-out walks; dotted: padding (masked steps)", fontsize=10)
    ax_walks.set_xlabel("step")
    ax_walks.set_ylabel("position (sum of the increments)")
    ax_walks.legend(fontsize=8)

    for name in ("masked", "unmasked"):
        curve = results[name]["val_accuracy"]
        ax_epochs.plot(np.arange(1, len(curve) + 1), curve, marker="o", markersize=3,
                       color=colors[name],
                       label=f"{name}: {results[name]['accuracy']:.3f} at the end")
    ax_epochs.axhline(0.5, color="gray", linestyle=":", linewidth=1.0, label="chance")
    ax_epochs.set_ylim(0.25, 1.0)
    ax_epochs.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax_epochs.set_title("Held-out accuracy per epoch, GRU(16)", fontsize=10)
    ax_epochs.set_xlabel("epoch")
    ax_epochs.set_ylabel("accuracy")
    ax_epochs.legend(fontsize=8, loc="lower right")

    width = 0.38
    positions = np.arange(len(BANDS))
    for offset, name in ((-width / 2, "masked"), (width / 2, "unmasked")):
        values = [results[name]["bands"][band] for band in BANDS]
        ax_bands.bar(positions + offset, values, width, color=colors[name], label=name)
    ax_bands.axhline(0.5, color="gray", linestyle=":", linewidth=1.0)
    ax_bands.set_xticks(positions, [f"{low}-{high}" for low, high in BANDS])
    ax_bands.set_ylim(0.0, 1.15)
    ax_bands.set_title("Held-out accuracy by walk length (padding = 92 - length)", fontsize=10)
    ax_bands.set_xlabel("steps in the walk")
    ax_bands.set_ylabel("accuracy")
    ax_bands.legend(fontsize=8, loc="upper center", ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    """Command line: ``python examples/sequences_masking.py [--epochs N] [--out DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=int, default=2000, help="training walks")
    parser.add_argument("--test", type=int, default=1000, help="held-out walks")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--units", type=int, default=16, help="size of the GRU's state")
    parser.add_argument("--lr", type=float, default=1e-2, help="learning rate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="folder for the PNG figure")
    args = parser.parse_args(argv)
    return run(n_train=args.train, n_test=args.test, epochs=args.epochs,
               batch_size=args.batch_size, units=args.units, learning_rate=args.lr,
               seed=args.seed, out=args.out)


if __name__ == "__main__":
    main(sys.argv[1:])
