"""A GAN on a ring of eight Gaussians: does the generator find every mode?

The data is the mixture used to show mode collapse in the unrolled-GAN paper (Metz et al. 2016):
eight two-dimensional Gaussians of standard deviation :math:`\\sigma = 0.02` whose centres sit
evenly on a circle of radius 2,

.. math::  x \\sim \\tfrac18 \\sum_{k=0}^{7} \\mathcal N\\big(2(\\cos\\tfrac{2\\pi k}{8},
           \\sin\\tfrac{2\\pi k}{8}),\\ \\sigma^2 I\\big).

A GAN that collapses puts all its samples on one or a few modes. After training, this script
draws 2,500 samples and reports (the rule of the unrolled-GAN and VEEGAN papers):

- **modes covered**: a mode counts as covered when at least 1% of the samples (25) lie within
  :math:`3\\sigma` of its centre;
- **high-quality share**: the share of samples within :math:`3\\sigma` of some centre.

Two choices make the default run reliable (8/8 modes and 92-94% high-quality samples for each
of the seeds 0 to 11):

- *packing* (PacGAN, Lin et al. 2018): the discriminator judges two samples at a time, side by
  side, so a generator that puts its samples on too few modes is easy to spot. ``--pack 1`` is
  the plain GAN, which left one to three modes empty for half of the seeds 0 to 9;
- the learning rates of both players fall to 0 on a half cosine over the run (``--no-decay``
  keeps them constant), so the game settles instead of circling: with constant rates the share
  of good samples swings between about 30% and 90% from one snapshot to the next.

Run ``python examples/gan_ring.py --out examples/output``; it writes ``gan_ring.png``, the
generator's samples at several iterations over the real modes.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from blas_threads import add_argument as add_blas_threads_flag
from blas_threads import blas_threads
from gan import adam, check_args, generate, mlp, train_gan

from nnscratch.plots import pyplot

DEFAULT_OUT = Path(__file__).resolve().parent / "output"
N_MODES, RADIUS, STD = 8, 2.0, 0.02
N_EVAL = 2500
MIN_SHARE = 0.01


def mode_centres(n_modes=N_MODES, radius=RADIUS):
    """The centres of the mixture, evenly spaced on a circle, shape (n_modes, 2)."""
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def sample_ring(rng, n, std=STD):
    """``n`` samples of the ring mixture (float32)."""
    centres = mode_centres()
    picks = rng.integers(0, len(centres), n)
    return (centres[picks] + std * rng.standard_normal((n, 2))).astype(np.float32)


def mode_coverage(samples, centres=None, std=STD, min_share=MIN_SHARE):
    """``(modes covered, high-quality share, samples near each mode)``.

    A sample is near mode ``k`` when it lies within ``3 * std`` of its centre; a mode is covered
    when at least ``min_share`` of all samples are near it.
    """
    centres = mode_centres() if centres is None else centres
    distance = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=2)   # (n, modes)
    near = distance <= 3 * std
    per_mode = near.sum(axis=0)
    covered = int(np.sum(per_mode >= min_share * len(samples)))
    quality = float(np.mean(near.any(axis=1)))
    return covered, quality, per_mode


def build(noise_dim=16, width=128, g_lr=1e-3, d_lr=1e-3, pack=2, decay_steps=None, seed=0):
    """The generator (noise -> 2-D point) and the discriminator (``pack`` points -> P(real)).

    Both are two hidden ReLU layers of ``width`` units. The generator's loss comes from the
    discriminator (its own ``loss`` is never used).
    """
    generator = mlp([width, width], 2, None, "relu", noise_dim, "mse",
                    adam(g_lr, decay_steps=decay_steps), seed)
    discriminator = mlp([width, width], 1, "sigmoid", "relu", 2 * pack, "binary_crossentropy",
                        adam(d_lr, decay_steps=decay_steps), seed + 1)
    return generator, discriminator


def plot_snapshots(snapshots, path, covered, quality):
    """A grid of scatter plots of the generator's samples at several iterations, modes marked."""
    plt = pyplot()
    cols = min(4, len(snapshots))
    rows = int(np.ceil(len(snapshots) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.1 * cols, 3.2 * rows), squeeze=False)
    centres = mode_centres()
    for ax, (iteration, points) in zip(axes.ravel(), snapshots):
        ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.35, color="tab:blue", linewidths=0)
        ax.scatter(centres[:, 0], centres[:, 1], s=60, facecolors="none", edgecolors="tab:red",
                   linewidths=1.2)
        ax.set_xlim(-3, 3)
        ax.set_ylim(-3, 3)
        ax.set_aspect("equal")
        ax.set_xticks([-2, 0, 2])
        ax.set_yticks([-2, 0, 2])
        ax.set_title(f"iteration {iteration}", fontsize=10)
    for ax in axes.ravel()[len(snapshots):]:
        ax.axis("off")
    fig.suptitle(f"GAN samples (blue) and the 8 real modes (red circles); final: {covered}/8 "
                 f"modes, {100 * quality:.1f}% within 3$\\sigma$", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(iterations=10000, batch_size=256, noise_dim=16, width=128, g_lr=1e-3, d_lr=1e-3,
        pack=2, decay=True, label_smoothing=0.0, snapshots=8, seed=0, out=DEFAULT_OUT,
        verbose=True):
    """Train the GAN, measure the mode coverage and draw the snapshots; returns the results."""
    start = time.perf_counter()
    generator, discriminator = build(noise_dim, width, g_lr, d_lr, pack,
                                     iterations if decay else None, seed)
    eval_rng = np.random.default_rng([seed, 7])
    marks = set(np.unique(np.linspace(0, iterations, snapshots).round().astype(int)).tolist())
    shots = [(0, generate(generator, N_EVAL, eval_rng))] if 0 in marks else []

    def on_iteration(i):
        if i in marks:
            shots.append((i, generate(generator, N_EVAL, eval_rng)))

    history = train_gan(generator, discriminator, sample_ring, iterations, batch_size, seed=seed,
                        real_label=1.0 - label_smoothing, pack=pack, on_iteration=on_iteration)
    final = shots[-1][1]
    covered, quality, per_mode = mode_coverage(final)
    seconds = time.perf_counter() - start
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figure = out / "gan_ring.png"
    plot_snapshots(shots, figure, covered, quality)
    results = {"modes": covered, "quality": quality, "per_mode": per_mode, "snapshots": shots,
               "history": history, "seconds": seconds, "figure": figure,
               "generator": generator, "discriminator": discriminator}
    if verbose:
        print(f"{iterations} iterations in {seconds:.1f} s; final D loss "
              f"{history['d_loss'][-1]:.3f}, G loss {history['g_loss'][-1]:.3f}")
        print(f"modes covered: {covered}/8 (at least {MIN_SHARE:.0%} of {N_EVAL} samples within "
              f"3 std of the centre); samples per mode: {per_mode.tolist()}")
        print(f"high-quality share (within 3 std of some mode): {100 * quality:.1f}%")
        print(f"figure written to {figure}")
    return results


def main(argv=None):
    """Command line: ``python examples/gan_ring.py [--iterations N] [--seed S] [--out DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=10000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--noise-dim", type=int, default=16)
    parser.add_argument("--width", type=int, default=128, help="hidden width of both networks")
    parser.add_argument("--g-lr", type=float, default=1e-3, help="generator learning rate")
    parser.add_argument("--d-lr", type=float, default=1e-3, help="discriminator learning rate")
    parser.add_argument("--pack", type=int, default=2,
                        help="samples per discriminator input (1: a plain GAN)")
    parser.add_argument("--no-decay", action="store_true",
                        help="keep the learning rates constant instead of decaying them to 0")
    parser.add_argument("--label-smoothing", type=float, default=0.0,
                        help="one-sided: real samples are labelled 1 - this")
    parser.add_argument("--snapshots", type=int, default=8, help="panels in the figure")
    parser.add_argument("--seed", type=int, default=0)
    add_blas_threads_flag(parser)
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="folder for the PNG figure")
    args = parser.parse_args(argv)
    check_args(parser, args)
    if not 0.0 <= args.label_smoothing < 1.0:
        parser.error(f"--label-smoothing must be in [0, 1), got {args.label_smoothing}")
    with blas_threads(args.blas_threads):
        return run(iterations=args.iterations, batch_size=args.batch_size, noise_dim=args.noise_dim,
                   width=args.width, g_lr=args.g_lr, d_lr=args.d_lr, pack=args.pack,
                   decay=not args.no_decay, label_smoothing=args.label_smoothing,
                   snapshots=args.snapshots, seed=args.seed, out=args.out)


if __name__ == "__main__":
    main(sys.argv[1:])
