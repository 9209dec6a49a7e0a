"""A generative adversarial network (GAN) from two nnscratch Networks, and its training loop.

A generator :math:`G` maps noise :math:`z \\sim \\mathcal N(0, I)` to samples; a discriminator
:math:`D` (sigmoid output) gives the probability that its input is real. They take turns:

- **discriminator step**: on a batch of real samples :math:`x` (label 1, or :math:`1 - s` with
  one-sided label smoothing :math:`s`) and fakes :math:`G(z)` (label 0), one step down the binary
  cross-entropy

  .. math::  L_D = -\\tfrac{1}{2}\\big(\\overline{\\log D(x)}
             + \\overline{\\log(1 - D(G(z)))}\\big);

- **generator step**, with the non-saturating loss of Goodfellow et al. (2014): the generator is
  scored by D's cross-entropy on its fakes *labelled real*,

  .. math::  L_G = -\\overline{\\log D(G(z))},

  and the gradient flows back through D into G by the chain rule:
  :math:`\\partial L_G / \\partial \\theta_G = (\\partial L_G / \\partial G(z))\\,
  \\partial G(z) / \\partial \\theta_G`. In code: ``D.compute_gradients(fake, ones,
  return_input_grad=True)`` gives :math:`\\partial L_G / \\partial G(z)` (it also fills D's
  gradients, which are discarded: D does not move in this step), ``G.backward`` carries it
  through G, and G's optimizer takes the step.

With ``pack=m`` (PacGAN, Lin et al. 2018) D judges ``m`` samples at a time, laid side by side:
a batch (N, d) enters D as (N/m, m d), one label per group, and the gradient D returns for its
input is laid back out as (N, d) before it enters G. A generator that repeats itself is then
easy to catch, which counters mode collapse.

With a sigmoid output and ``loss="binary_crossentropy"`` the network fuses the two into the
stable from-logits form, so neither step ever takes the log of a clipped probability.

The applications live beside this file: ``gan_ring.py`` (a ring of eight Gaussians, counting
the modes the generator covers) and ``gan_digits.py`` (8x8 handwritten digits). Run either
directly, or as ``python examples/gan.py ring|digits [flags]``.
"""

import math
import sys

import numpy as np

import nnscratch as ns


def adam(learning_rate, beta_1=0.5, decay_steps=None):
    """Adam with ``beta_1 = 0.5``, the usual GAN setting (Radford et al. 2015).

    With ``decay_steps`` the learning rate follows a half cosine down to 0 over that many steps
    (``ns.schedules.CosineDecay``), which lets the two players settle instead of circling.
    """
    if decay_steps:
        learning_rate = ns.schedules.CosineDecay(learning_rate, decay_steps)
    return ns.optimizers.Adam(learning_rate=learning_rate, beta_1=beta_1)


def mlp(widths, outputs, output_activation, hidden_activation, input_dim, loss, optimizer, seed):
    """A fully connected Network ``input_dim -> widths... -> outputs``, built for its input."""
    layers = [ns.Dense(w, activation=hidden_activation) for w in widths]
    layers.append(ns.Dense(outputs, activation=output_activation))
    return ns.Network(layers, loss=loss, optimizer=optimizer, seed=seed, input_shape=(input_dim,))


def noise(rng, n, noise_dim, dtype=np.float32):
    """``n`` standard normal noise vectors for the generator."""
    return rng.standard_normal((n, noise_dim)).astype(dtype)


def generate(generator, n, rng):
    """``n`` samples from the generator (inference mode)."""
    return generator.predict(noise(rng, n, generator.input_shape[0], generator.dtype))


def pack_samples(x, pack):
    """Rows ``pack`` at a time side by side: (N, d) -> (N / pack, pack * d) (PacGAN's input)."""
    if pack == 1:
        return x
    if len(x) % pack:
        raise ns.errors.ShapeError(f"packing {pack} samples per discriminator input needs a batch "
                                   f"size divisible by {pack}, got {len(x)}")
    return x.reshape(len(x) // pack, -1)


def discriminator_step(discriminator, real, fake, real_label=1.0, pack=1):
    """One update of D on real (label ``real_label``) and fake (label 0) samples; returns L_D."""
    real, fake = pack_samples(real, pack), pack_samples(fake, pack)
    x = np.concatenate([real, fake])
    y = np.concatenate([np.full((len(real), 1), real_label), np.zeros((len(fake), 1))])
    loss = discriminator.compute_gradients(x, y.astype(x.dtype), training=True)
    _check_finite(loss, "discriminator")
    discriminator.optimizer.step(discriminator.named_parameters())
    return loss


def generator_step(generator, discriminator, fake, pack=1):
    """One update of G with the non-saturating loss; returns L_G.

    ``fake`` must be the output of the generator's latest ``forward(z, training=True)``, whose
    cached values ``generator.backward`` uses.
    """
    packed = pack_samples(fake, pack)
    labels_real = np.ones((len(packed), 1), dtype=fake.dtype)
    loss, grad_packed = discriminator.compute_gradients(packed, labels_real, training=True,
                                                        return_input_grad=True)  # dL_G/dG(z)
    _check_finite(loss, "generator")
    grad_fake = grad_packed.reshape(fake.shape)                             # unpack the rows
    generator.backward(grad_fake)                                           # dL_G/dtheta_G
    generator.optimizer.step(generator.named_parameters())                  # D's grads unused
    return loss


def train_gan(generator, discriminator, sample_real, iterations, batch_size, seed=0,
              real_label=1.0, pack=1, on_iteration=None):
    """Alternate one discriminator step and one generator step ``iterations`` times.

    ``sample_real(rng, n)`` returns ``n`` real samples. Each iteration draws one noise batch:
    its fakes train D first, then (D updated, G unchanged so its forward cache still holds)
    the same fakes give G its step, as in the PyTorch DCGAN example. ``on_iteration(i)`` is
    called after iteration ``i`` (1-based). Returns ``{"d_loss": [...], "g_loss": [...]}``.
    """
    rng = np.random.default_rng(seed)
    noise_dim = generator.input_shape[0]
    history = {"d_loss": [], "g_loss": []}
    for i in range(1, iterations + 1):
        real = sample_real(rng, batch_size).astype(generator.dtype, copy=False)
        fake = generator.forward(noise(rng, batch_size, noise_dim, generator.dtype), training=True)
        history["d_loss"].append(discriminator_step(discriminator, real, fake, real_label, pack))
        history["g_loss"].append(generator_step(generator, discriminator, fake, pack))
        if on_iteration is not None:
            on_iteration(i)
    return history


def check_args(parser, args):
    """Stop ``parser`` with a clear message on flags the training loop cannot use."""
    for flag in ("iterations", "batch_size", "pack", "noise_dim", "width"):
        value = getattr(args, flag, None)
        if value is not None and value < 1:
            parser.error(f"--{flag.replace('_', '-')} must be a positive integer, got {value}")
    for flag in ("g_lr", "d_lr"):
        if not getattr(args, flag) > 0:
            parser.error(f"--{flag.replace('_', '-')} must be > 0, got {getattr(args, flag)}")
    if args.batch_size % args.pack:
        parser.error(f"--batch-size must be a multiple of --pack {args.pack}, got "
                     f"{args.batch_size}")


def _check_finite(loss, which):
    if not math.isfinite(loss):
        raise ns.errors.TrainingError(f"the {which} loss became {loss}; lower the learning rates")


def main(argv=None):
    """``python examples/gan.py ring|digits [flags]``: run one of the two applications."""
    argv = list(sys.argv[1:] if argv is None else argv)
    choices = {"ring": "gan_ring", "digits": "gan_digits"}
    if not argv or argv[0] not in choices:
        print("usage: python examples/gan.py {ring,digits} [flags]   (--help after the name "
              "lists the flags)", file=sys.stderr)
        return 2
    import importlib

    return importlib.import_module(choices[argv[0]]).main(argv[1:])


if __name__ == "__main__":
    result = main()
    sys.exit(result if isinstance(result, int) else 0)
