"""examples/gan.py and its applications: the adversarial steps, the mode count and short runs."""

import sys
from pathlib import Path

import numpy as np
import pytest

import nnscratch as ns

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import gan
import gan_digits
import gan_ring

LR = 0.1


def tiny_pair(pack=1, seed=0):
    """float64 G (3 -> 4 -> 2, tanh) and D (2*pack -> 5 -> 1, sigmoid) with plain SGD."""
    generator = ns.Network([ns.Dense(4, activation="tanh"), ns.Dense(2)], loss="mse",
                           optimizer=ns.optimizers.SGD(learning_rate=LR), seed=seed,
                           dtype="float64", input_shape=(3,))
    discriminator = ns.Network([ns.Dense(5, activation="tanh"), ns.Dense(1, activation="sigmoid")],
                               loss="binary_crossentropy",
                               optimizer=ns.optimizers.SGD(learning_rate=LR), seed=seed + 1,
                               dtype="float64", input_shape=(2 * pack,))
    return generator, discriminator


def generator_loss(generator, discriminator, z, pack):
    """L_G = mean over D's inputs of -log D(packed G(z)), computed without the fused path."""
    fake = generator.forward(z)
    p = discriminator.forward(fake.reshape(len(fake) // pack, -1))[:, 0]
    return float(np.mean(-np.log(p)))


@pytest.mark.parametrize("pack", [1, 2])
def test_generator_step_moves_g_along_the_gradient_of_the_non_saturating_loss(pack):
    generator, discriminator = tiny_pair(pack)
    z = np.random.default_rng(3).standard_normal((6, 3))
    before_g = generator.get_weights()
    before_d = discriminator.get_weights()
    fake = generator.forward(z, training=True)
    loss = gan.generator_step(generator, discriminator, fake, pack=pack)
    after_g = generator.get_weights()
    generator.set_weights(before_g)
    assert loss == pytest.approx(generator_loss(generator, discriminator, z, pack), rel=1e-10)
    # D did not move
    for key, value in discriminator.get_weights().items():
        np.testing.assert_array_equal(value, before_d[key])
    # SGD: theta_after = theta - lr * dL_G/dtheta; compare with central differences of L_G
    eps = 1e-6
    for key, value in before_g.items():
        layer, name = key.split(".")
        param = next(l for l in generator.layers if l.name == layer).params[name]
        numeric = np.zeros_like(param)
        for index in np.ndindex(param.shape):
            old = param[index]
            param[index] = old + eps
            up = generator_loss(generator, discriminator, z, pack)
            param[index] = old - eps
            down = generator_loss(generator, discriminator, z, pack)
            param[index] = old
            numeric[index] = (up - down) / (2 * eps)
        analytic = (value - after_g[key]) / LR
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8, err_msg=key)


def test_discriminator_step_descends_the_cross_entropy_of_real_and_fake():
    generator, discriminator = tiny_pair()
    rng = np.random.default_rng(0)
    real, fake = rng.normal(2, 0.1, (8, 2)), rng.normal(-2, 0.1, (8, 2))
    p_real, p_fake = discriminator.forward(real)[:, 0], discriminator.forward(fake)[:, 0]
    expected = -0.5 * (np.mean(0.9 * np.log(p_real) + 0.1 * np.log1p(-p_real))
                       + np.mean(np.log1p(-p_fake)))
    before_g = generator.get_weights()
    losses = [gan.discriminator_step(discriminator, real, fake, real_label=0.9)
              for _ in range(20)]
    assert losses[0] == pytest.approx(expected, rel=1e-10)
    assert losses[-1] < losses[0]
    assert discriminator.forward(real).mean() > discriminator.forward(fake).mean()
    for key, value in generator.get_weights().items():          # G untouched
        np.testing.assert_array_equal(value, before_g[key])


def test_train_gan_records_both_losses_and_calls_back_each_iteration():
    generator, discriminator = tiny_pair(pack=2)
    seen = []
    history = gan.train_gan(generator, discriminator,
                            lambda rng, n: rng.normal(1.0, 0.1, (n, 2)), iterations=5,
                            batch_size=8, pack=2, on_iteration=seen.append)
    assert seen == [1, 2, 3, 4, 5]
    assert len(history["d_loss"]) == len(history["g_loss"]) == 5
    assert np.all(np.isfinite(history["d_loss"] + history["g_loss"]))


def test_a_non_finite_loss_is_a_training_error():
    generator, discriminator = tiny_pair()
    discriminator.layers[0].params["W"][:] = np.nan
    fake = generator.forward(np.zeros((4, 3)), training=True)
    with pytest.raises(ns.errors.TrainingError, match="generator loss became nan"):
        gan.generator_step(generator, discriminator, fake)


def test_pack_samples_puts_rows_side_by_side_and_checks_the_batch():
    x = np.arange(12.0).reshape(6, 2)
    np.testing.assert_array_equal(gan.pack_samples(x, 2)[1], [4, 5, 6, 7])
    assert gan.pack_samples(x, 1) is x
    with pytest.raises(ns.errors.ShapeError, match="divisible by 4, got 6"):
        gan.pack_samples(x, 4)


def loop_mode_coverage(samples, centres, std, min_share):
    """Plain-loop reference for gan_ring.mode_coverage."""
    per_mode = [0] * len(centres)
    good = 0
    for x, y in samples:
        near_any = False
        for k, (cx, cy) in enumerate(centres):
            if ((x - cx) ** 2 + (y - cy) ** 2) ** 0.5 <= 3 * std:
                per_mode[k] += 1
                near_any = True
        good += near_any
    covered = sum(count >= min_share * len(samples) for count in per_mode)
    return covered, good / len(samples), per_mode


def test_mode_coverage_matches_a_loop_and_applies_the_one_percent_rule():
    rng = np.random.default_rng(5)
    centres = gan_ring.mode_centres()
    assert np.allclose(np.linalg.norm(centres, axis=1), 2.0) and len(centres) == 8
    # 25 of 2500 samples (1%) on mode 0, 24 on mode 1, the rest far from every mode
    samples = np.concatenate([centres[0] + 0.01 * rng.standard_normal((25, 2)),
                              centres[1] + 0.01 * rng.standard_normal((24, 2)),
                              rng.uniform(-0.5, 0.5, (2451, 2))])
    covered, quality, per_mode = gan_ring.mode_coverage(samples)
    assert covered == 1 and per_mode[:2].tolist() == [25, 24]
    assert quality == pytest.approx(49 / 2500)
    mixed = np.concatenate([gan_ring.sample_ring(rng, 300), rng.uniform(-3, 3, (200, 2))])
    ref = loop_mode_coverage(mixed, centres, gan_ring.STD, gan_ring.MIN_SHARE)
    got = gan_ring.mode_coverage(mixed)
    assert got[0] == ref[0] and got[1] == pytest.approx(ref[1]) and got[2].tolist() == ref[2]


def test_real_ring_samples_are_all_high_quality():
    samples = gan_ring.sample_ring(np.random.default_rng(0), 2500)
    covered, quality, _ = gan_ring.mode_coverage(samples)
    assert samples.dtype == np.float32 and covered == 8 and quality > 0.99


def test_short_ring_run_spreads_over_several_modes(tmp_path, capsys):
    results = gan_ring.main(["--iterations", "1500", "--snapshots", "4", "--seed", "0",
                             "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "modes covered:" in out and "high-quality share" in out
    final = results["snapshots"][-1][1]
    assert [i for i, _ in results["snapshots"]] == [0, 500, 1000, 1500]
    assert np.all(np.isfinite(final))
    assert results["modes"] >= 2 and results["quality"] > 0.05
    # the untrained generator (iteration 0) covers no mode at all
    assert gan_ring.mode_coverage(results["snapshots"][0][1])[0] == 0
    png = results["figure"]
    assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 20_000


def test_short_digits_run_draws_images_in_range(tmp_path, capsys):
    images, _labels = gan_digits.load_images()
    assert images.shape == (1797, 64) and images.min() == -1.0 and images.max() == 1.0
    results = gan_digits.main(["--iterations", "300", "--seed", "0", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "mean confidence" in out
    samples = results["samples"]
    assert samples.shape == (64, 64) and np.all(np.isfinite(samples))
    assert np.all(np.abs(samples) <= 1.0)
    assert results["class_counts"].sum() == gan_digits.N_JUDGE
    assert results["real_confidence"] > 0.9
    # after a few hundred steps the generated mean image is already near the real one
    untrained, _ = gan_digits.build(seed=0)
    far = np.abs(gan.generate(untrained, 500, np.random.default_rng(0)).mean(0) - images.mean(0))
    near = np.abs(gan.generate(results["generator"], 500, np.random.default_rng(0)).mean(0)
                  - images.mean(0))
    assert near.mean() < 0.5 * far.mean()
    png = results["figure"]
    assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 20_000


def test_tile_lays_images_out_in_a_grid():
    images = np.arange(4 * 64, dtype=float).reshape(4, 64)
    canvas = gan_digits.tile(images, rows=2, cols=2, gap=1)
    assert canvas.shape == (17, 17)
    np.testing.assert_array_equal(canvas[9:17, 0:8], images[2].reshape(8, 8))
    assert np.isnan(canvas[8]).all()


def test_command_line_dispatch_and_bad_flags(capsys):
    assert gan.main([]) == 2
    assert "usage: python examples/gan.py {ring,digits}" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        gan.main(["ring", "--pack", "3"])
    assert stop.value.code == 2
    assert "--batch-size must be a multiple of --pack 3" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        gan.main(["digits", "--iterations", "0"])
    assert "--iterations must be a positive integer, got 0" in capsys.readouterr().err


def test_conv_generator_doubles_the_side_twice_and_trains(tmp_path):
    g, _ = gan_digits.build(generator="conv", seed=0)
    assert [layer.compute_output_shape(shape) for layer, shape in
            zip(g.layers[2:4], [(64, 2, 2), (32, 4, 4)])] == [(32, 4, 4), (1, 8, 8)]
    results = gan_digits.main(["--generator", "conv", "--iterations", "60", "--out", str(tmp_path)])
    assert results["figure"].read_bytes()[:4] == b"\x89PNG"
    samples = results["samples"]
    assert samples.shape == (64, 64) and np.all(np.isfinite(samples))
    assert np.all(np.abs(samples) <= 1.0)
    assert np.all(np.isfinite(results["history"]["g_loss"]))
    with pytest.raises(ns.errors.ConfigError, match="generator must be 'mlp' or 'conv'"):
        gan_digits.build(generator="resnet")


def test_blas_threads_flag_limits_the_threads_and_rejects_negatives(capsys):
    import blas_threads
    threadpoolctl = pytest.importorskip("threadpoolctl")

    with blas_threads.blas_threads(1):
        assert all(pool["num_threads"] == 1 for pool in threadpoolctl.threadpool_info()
                   if pool["user_api"] == "blas")
    with pytest.raises(SystemExit):
        gan.main(["ring", "--blas-threads", "-1"])
    assert "--blas-threads: must be an integer >= 0, got -1" in capsys.readouterr().err
