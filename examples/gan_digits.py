"""A GAN that draws handwritten digits: scikit-learn's 8x8 digits, two fully connected networks.

The 1,797 images of ``sklearn.datasets.load_digits`` (grey levels 0..16) are flattened to 64
values and scaled to :math:`[-1, 1]` by :math:`x / 8 - 1`; the generator ends in ``tanh`` so its
outputs live in the same range. Both networks are multilayer perceptrons with leaky-ReLU hidden
layers (slope 0.2, as in DCGAN); the training loop is the one in ``gan.py`` (non-saturating
generator loss, Adam with :math:`\\beta_1 = 0.5`, learning rates decaying to 0 on a half cosine).
The discriminator judges two images at a time (``--pack 2``, as in PacGAN), which keeps the
generator drawing every kind of digit: without it, the generated digits lean towards the
blurry shapes that pass for 3, 8 and 9. ``--generator conv`` draws with transposed
convolutions instead (DCGAN's shape, 8x8 images built up from 2x2 feature maps).

To judge the result with a number as well as by eye, a small softmax classifier (trained on the
real digits with this library) reads 1,000 generated digits: the script prints how many it
assigns to each class and its mean confidence, beside its confidence on real digits.

Run ``python examples/gan_digits.py --out examples/output``; it writes ``gan_digits.png``: an
8x8 grid of generated digits beside real ones.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from blas_threads import add_argument as add_blas_threads_flag
from blas_threads import blas_threads
from gan import adam, check_args, generate, mlp, train_gan

import nnscratch as ns
from nnscratch.plots import pyplot

DEFAULT_OUT = Path(__file__).resolve().parent / "output"
LEAKY = {"name": "leaky_relu", "alpha": 0.2}
N_JUDGE = 1000


def load_images():
    """The digits as float32 rows of 64 pixels in [-1, 1], and their labels 0..9."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    return (digits.data / 8.0 - 1.0).astype(np.float32), digits.target


def train_classifier(images, labels, seed=0):
    """A 64-128-10 softmax classifier of the real digits, to judge the generated ones."""
    net = ns.Network([ns.Dense(128, activation="relu"), ns.Dense(10, activation="softmax")],
                     loss="sparse_categorical_crossentropy",
                     optimizer=ns.optimizers.Adam(learning_rate=1e-3), seed=seed)
    net.fit(images, labels, epochs=30, batch_size=64, verbose=0)
    return net


def judge(classifier, images):
    """``(class counts, mean confidence)``: what the classifier reads in ``images``, how surely.

    A generator that draws clear digits of every kind gets counts near one tenth each and a
    confidence (the mean of the top softmax probability) close to that of real digits.
    """
    probabilities = classifier.predict(images)
    counts = np.bincount(probabilities.argmax(axis=1), minlength=10)
    return counts, float(probabilities.max(axis=1).mean())


def build(noise_dim=32, width=256, g_lr=5e-4, d_lr=5e-4, pack=2, decay_steps=None, seed=0,
          generator="mlp"):
    """Generator: noise -> 64 pixels (tanh). Discriminator: ``pack`` images -> P(real).

    ``generator="conv"`` swaps the MLP generator for :func:`conv_generator`.
    """
    if generator not in ("mlp", "conv"):
        raise ns.errors.ConfigError(f"generator must be 'mlp' or 'conv', got {generator!r}")
    if generator == "conv":
        generator = conv_generator(noise_dim, adam(g_lr, decay_steps=decay_steps), seed)
    else:
        generator = mlp([width, width], 64, "tanh", LEAKY, noise_dim, "mse",
                        adam(g_lr, decay_steps=decay_steps), seed)
    discriminator = mlp([width, width], 1, "sigmoid", LEAKY, 64 * pack, "binary_crossentropy",
                        adam(d_lr, decay_steps=decay_steps), seed + 1)
    return generator, discriminator


def conv_generator(noise_dim, optimizer, seed, channels=32):
    """A DCGAN-style generator: noise -> (2c, 2, 2) -> (c, 4, 4) -> (1, 8, 8) -> 64 pixels.

    Each ``Conv2DTranspose(kernel 4, stride 2, padding 1)`` doubles the image side:
    :math:`(H - 1) \\cdot 2 - 2 + 4 = 2H`.
    """
    layers = [ns.Dense(2 * channels * 2 * 2, activation=LEAKY), ns.Reshape((2 * channels, 2, 2)),
              ns.Conv2DTranspose(channels, 4, stride=2, padding=1, activation=LEAKY),
              ns.Conv2DTranspose(1, 4, stride=2, padding=1, activation="tanh"), ns.Flatten()]
    return ns.Network(layers, loss="mse", optimizer=optimizer, seed=seed,
                      input_shape=(noise_dim,))


def plot_grid(fake, real, path, iterations, kind="mlp"):
    """Generated digits (left) beside real ones (right), each an 8x8 grid of 8x8 images."""
    plt = pyplot()
    cmap = plt.get_cmap("gray_r").with_extremes(bad="#d5dde6")
    fig, axes = plt.subplots(1, 2, figsize=(10, 5.3))
    panels = ((axes[0], fake, f"generated ({kind} generator, {iterations} iterations)"),
              (axes[1], real, "real (scikit-learn digits)"))
    for ax, images, title in panels:
        ax.imshow(tile(images), cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
        ax.set_title(title)
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def tile(images, rows=8, cols=8, gap=1):
    """Images of 64 pixels laid out as a ``rows x cols`` mosaic, separated by ``gap`` pixels."""
    side = 8 + gap
    canvas = np.full((rows * side - gap, cols * side - gap), np.nan)   # NaN: drawn as the gap
    for k, image in enumerate(images[:rows * cols]):
        r, c = divmod(k, cols)
        canvas[r * side:r * side + 8, c * side:c * side + 8] = image.reshape(8, 8)
    return canvas


def run(iterations=10000, batch_size=64, noise_dim=32, width=256, g_lr=5e-4, d_lr=5e-4,
        pack=2, decay=True, kind="mlp", seed=0, out=DEFAULT_OUT, verbose=True):
    """Train the GAN and draw the grid; returns the samples, the losses and the figure path."""
    start = time.perf_counter()
    images, labels = load_images()
    generator, discriminator = build(noise_dim, width, g_lr, d_lr, pack,
                                     iterations if decay else None, seed, kind)

    def sample_real(rng, n):
        return images[rng.integers(0, len(images), n)]

    history = train_gan(generator, discriminator, sample_real, iterations, batch_size, seed=seed,
                        pack=pack)
    rng = np.random.default_rng([seed, 7])
    fake = generate(generator, 64, rng)
    real = images[rng.choice(len(images), 64, replace=False)]
    seconds = time.perf_counter() - start
    classifier = train_classifier(images, labels, seed)
    counts, confidence = judge(classifier, generate(generator, N_JUDGE, rng))
    _, real_confidence = judge(classifier, images)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figure = out / "gan_digits.png"
    plot_grid(fake, real, figure, iterations, kind)
    if verbose:
        print(f"{iterations} iterations in {seconds:.1f} s; final D loss "
              f"{history['d_loss'][-1]:.3f}, G loss {history['g_loss'][-1]:.3f}")
        print(f"a classifier trained on the real digits reads {N_JUDGE} generated ones as "
              f"(0..9): {counts.tolist()}")
        print(f"its mean confidence: {confidence:.3f} on generated digits, "
              f"{real_confidence:.3f} on the real ones it was trained on")
        print(f"figure written to {figure}")
    return {"samples": fake, "history": history, "seconds": seconds, "figure": figure,
            "generator": generator, "discriminator": discriminator,
            "class_counts": counts, "confidence": confidence,
            "real_confidence": real_confidence}


def main(argv=None):
    """Command line: ``python examples/gan_digits.py [--iterations N] [--seed S] [--out DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=10000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--noise-dim", type=int, default=32)
    parser.add_argument("--width", type=int, default=256, help="hidden width of both networks")
    parser.add_argument("--g-lr", type=float, default=5e-4, help="generator learning rate")
    parser.add_argument("--d-lr", type=float, default=5e-4, help="discriminator learning rate")
    parser.add_argument("--pack", type=int, default=2,
                        help="images per discriminator input (1: a plain GAN)")
    parser.add_argument("--no-decay", action="store_true",
                        help="keep the learning rates constant instead of decaying them to 0")
    parser.add_argument("--generator", choices=("mlp", "conv"), default="mlp",
                        help="mlp: two dense layers; conv: dense then two Conv2DTranspose layers")
    parser.add_argument("--seed", type=int, default=0)
    add_blas_threads_flag(parser)
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="folder for the PNG figure")
    args = parser.parse_args(argv)
    check_args(parser, args)
    with blas_threads(args.blas_threads):
        return run(iterations=args.iterations, batch_size=args.batch_size, noise_dim=args.noise_dim,
                   width=args.width, g_lr=args.g_lr, d_lr=args.d_lr, pack=args.pack,
                   decay=not args.no_decay, kind=args.generator,
                   seed=args.seed, out=args.out)


if __name__ == "__main__":
    main(sys.argv[1:])
