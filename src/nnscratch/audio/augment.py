r"""Augmentation: gain, noise at a given SNR, synthetic reverberation, SpecAugment masks.

Each function takes a NumPy generator ``rng`` where it draws anything, so a seed repeats it.
Speed and pitch are changed by the speech engines themselves (their rate and pitch options),
which keeps the formants a voice would have, where resampling a waveform would shift them.
"""

import numpy as np

from .. import checks
from ..errors import DataError

__all__ = ["apply_gain", "add_noise", "impulse_response", "reverberate", "spec_augment"]


def apply_gain(signal, gain_db):
    r""":math:`y = 10^{g/20}\,x`: the signal ``gain_db`` decibels louder (or quieter)."""
    gain = checks.number(gain_db, "gain_db")
    return np.asarray(signal, dtype=np.float64) * 10.0 ** (gain / 20.0)


def add_noise(signal, snr_db, rng, noise=None):
    r"""The signal plus noise scaled to a signal-to-noise ratio of ``snr_db`` decibels.

    .. math::

        y = x + \alpha n, \qquad
        \alpha = \sqrt{\frac{P_x}{P_n\,10^{\mathrm{SNR}/10}}}, \qquad P_x = \frac{1}{T}\sum_t x_t^2

    ``noise`` (default: white Gaussian noise drawn from ``rng``) is tiled or cut to the
    signal's length. :math:`P_x` is the mean power of the whole signal, silences included.
    """
    snr = checks.number(snr_db, "snr_db")
    x = np.asarray(signal, dtype=np.float64)
    if noise is None:
        n = rng.standard_normal(len(x))
    else:
        n = np.resize(np.asarray(noise, dtype=np.float64), len(x))
    signal_power, noise_power = np.mean(x ** 2), np.mean(n ** 2)
    if signal_power == 0.0 or noise_power == 0.0:
        return x.copy()
    return x + np.sqrt(signal_power / (noise_power * 10.0 ** (snr / 10.0))) * n


def impulse_response(sample_rate, rt60, rng, length_s=None, direct=1.0):
    r"""A synthetic room impulse response: a direct path and an exponentially decaying tail.

    .. math::

        h_0 = \mathrm{direct}, \qquad h_t = g_t\,10^{-3 t / (r\,\mathrm{RT}_{60})}\ (t \geq 1),
        \qquad g_t \sim \mathcal{N}(0, \sigma^2)

    The envelope falls by 60 dB in ``rt60`` seconds (:math:`10^{-3} = -60` dB in amplitude);
    the tail's power is scaled to equal the direct path's, :math:`\sum_{t\ge1} h_t^2 = h_0^2`,
    and the whole response to unit energy. ``length_s`` defaults to ``rt60``.
    """
    rate = checks.positive_int(sample_rate, "sample_rate")
    rt60 = checks.number(rt60, "rt60", 0.0, low_open=True)
    length = max(2, round(rate * (rt60 if length_s is None else length_s)))
    t = np.arange(1, length)
    tail = rng.standard_normal(length - 1) * 10.0 ** (-3.0 * t / (rate * rt60))
    tail *= direct / np.sqrt(np.sum(tail ** 2))
    response = np.concatenate([[direct], tail])
    return response / np.sqrt(np.sum(response ** 2))


def reverberate(signal, response):
    r""":math:`y_t = \sum_\tau h_\tau x_{t-\tau}`, the signal through the impulse response ``h``,
    computed as a product of FFTs and cut to the signal's length (the tail beyond it dropped)."""
    x = np.asarray(signal, dtype=np.float64)
    h = np.asarray(response, dtype=np.float64)
    size = len(x) + len(h) - 1
    n_fft = 1 << int(np.ceil(np.log2(max(size, 1))))
    return np.fft.irfft(np.fft.rfft(x, n_fft) * np.fft.rfft(h, n_fft), n_fft)[:len(x)]


def spec_augment(features, rng, time_masks=2, time_width=10, freq_masks=2, freq_width=8,
                 value=0.0):
    """SpecAugment's masks (Park et al., 2019) on features (T, F) or a batch (N, T, F).

    For each utterance, ``time_masks`` bands of ``w ~ U{0..time_width}`` consecutive frames
    and ``freq_masks`` bands of ``w ~ U{0..freq_width}`` consecutive coefficients, each at a
    uniform position, are set to ``value`` (0 is the mean of normalised features). Returns a
    masked copy; the input is left as it is. (Time warping, the paper's third part, is left out.)
    """
    x = np.asarray(features)
    x = np.array(x, dtype=x.dtype if x.dtype.kind == "f" else np.float64)     # a copy
    if x.ndim not in (2, 3):
        raise DataError(f"spec_augment expects features (T, F) or (N, T, F), got shape {x.shape}")
    batch = x if x.ndim == 3 else x[None]
    steps, bins = batch.shape[1:]
    bands = ((checks.integer(time_masks, "spec_augment time_masks", 0),
              checks.integer(time_width, "spec_augment time_width", 0), steps, 0),
             (checks.integer(freq_masks, "spec_augment freq_masks", 0),
              checks.integer(freq_width, "spec_augment freq_width", 0), bins, 1))
    for sample in batch:
        for count, width, size, axis in bands:
            for _ in range(count):
                w = int(rng.integers(0, min(width, size) + 1))
                start = int(rng.integers(0, size - w + 1))
                if axis == 0:
                    sample[start:start + w] = value
                else:
                    sample[:, start:start + w] = value
    return x
