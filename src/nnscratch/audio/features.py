r"""Speech features: pre-emphasis, frames, power spectrum, mel filter bank, log-mel, MFCC, deltas.

The chain, with the defaults (good at 8 kHz and 16 kHz: 25 ms windows, 10 ms hop, 40 mels):

1. pre-emphasis :math:`y_t = x_t - a\,x_{t-1}` (``a = 0.97``) lifts the high frequencies that
   voiced speech loses at about 6 dB an octave;
2. frames of 25 ms every 10 ms, each multiplied by a periodic Hann window;
3. the power spectrum :math:`P_k = |\mathrm{DFT}(w\,x)_k|^2` of each frame, zero-padded to
   ``n_fft`` (the next power of two: 512 at 16 kHz, 256 at 8 kHz), without dividing by
   ``n_fft`` (as librosa; python_speech_features divides);
4. 40 triangular mel filters :math:`E_m = \sum_k W_{m,k} P_k`; the mel scale is Slaney's
   (linear below 1 kHz, logarithmic above) with Slaney's area normalisation by default, as
   librosa's defaults, or HTK's :math:`m = 2595 \log_{10}(1 + f/700)` with ``scale="htk"``;
5. log-mel energies :math:`L_m = \ln \max(E_m, \epsilon)` (natural log; librosa's
   ``power_to_db`` is :math:`10 \log_{10}`, the same up to the factor :math:`10/\ln 10`);
6. MFCCs: the orthonormal DCT-II of the log-mel energies, the first 13 kept, liftered;
7. deltas by the regression formula, and per-utterance normalisation to zero mean and unit
   variance over time (cepstral mean and variance normalisation, CMVN).

Features are laid out (frames, coefficients): one row per 10 ms.
"""

import numpy as np

from .. import checks
from ..errors import DataError

__all__ = ["pre_emphasis", "frame_signal", "window", "power_spectrum", "hz_to_mel", "mel_to_hz",
           "mel_filterbank", "log_mel", "dct_matrix", "lifter", "mfcc", "deltas",
           "normalize_utterance", "speech_features", "trim_silence", "frame_sizes"]

SCALES = ("slaney", "htk")
WINDOWS = ("hann", "hamming", "rectangular")


def frame_sizes(sample_rate, window_ms=25.0, hop_ms=10.0):
    """``(frame_length, hop_length, n_fft)`` in samples: 400, 160, 512 at 16 kHz."""
    rate = checks.positive_int(sample_rate, "sample_rate")
    window_ms = checks.number(window_ms, "window_ms", 0.0, low_open=True)
    hop_ms = checks.number(hop_ms, "hop_ms", 0.0, low_open=True)
    frame_length = checks.positive_int(round(rate * window_ms / 1000.0), "window in samples")
    hop_length = checks.positive_int(round(rate * hop_ms / 1000.0), "hop in samples")
    n_fft = 1 << int(np.ceil(np.log2(frame_length)))       # the next power of two
    return frame_length, hop_length, n_fft


def pre_emphasis(signal, coefficient=0.97):
    """:math:`y_0 = x_0`, :math:`y_t = x_t - a\\,x_{t-1}`: a first-order high-pass filter."""
    a = checks.number(coefficient, "pre_emphasis coefficient", 0.0, 1.0)
    x = np.asarray(signal, dtype=np.float64)
    return np.concatenate([x[:1], x[1:] - a * x[:-1]])


def frame_signal(signal, frame_length, hop_length):
    """Frames (T, frame_length): frame ``t`` is ``x[t*hop : t*hop + frame_length]``.

    ``T = 1 + (len(x) - frame_length) // hop_length``; the frames start at sample 0 (librosa's
    ``center=False``), and a signal shorter than one frame is padded with zeros to one frame.
    """
    frame_length = checks.positive_int(frame_length, "frame_length")
    hop_length = checks.positive_int(hop_length, "hop_length")
    x = np.asarray(signal, dtype=np.float64)
    if x.ndim != 1:
        raise DataError(f"expected a mono signal of shape (samples,), got shape {x.shape}")
    if len(x) < frame_length:
        x = np.pad(x, (0, frame_length - len(x)))
    count = 1 + (len(x) - frame_length) // hop_length
    starts = hop_length * np.arange(count)[:, None]
    return x[starts + np.arange(frame_length)[None, :]]


def window(name, length):
    r"""A periodic window of ``length`` samples (periodic: made for the DFT, as librosa's).

    Hann :math:`w_n = 0.5 - 0.5\cos(2\pi n/N)`; Hamming :math:`w_n = 0.54 - 0.46\cos(2\pi n/N)`;
    rectangular :math:`w_n = 1`.
    """
    name = checks.choice(name, "window", WINDOWS)
    n = np.arange(checks.positive_int(length, "window length"))
    if name == "rectangular":
        return np.ones(len(n))
    a = 0.5 if name == "hann" else 0.54
    return a - (1.0 - a) * np.cos(2.0 * np.pi * n / len(n))


def power_spectrum(frames, n_fft, window_name="hann"):
    """:math:`P_{t,k} = |\\sum_n w_n x_{t,n} e^{-2\\pi i k n / N}|^2`, k = 0..N/2: (T, N/2 + 1).

    Each frame is windowed, then zero-padded at its end to ``n_fft`` samples (``N``).
    """
    frames = np.asarray(frames, dtype=np.float64)
    if frames.shape[-1] > n_fft:
        raise DataError(f"n_fft must be at least the frame length {frames.shape[-1]}, got {n_fft}")
    return np.abs(np.fft.rfft(frames * window(window_name, frames.shape[-1]), n=n_fft)) ** 2


def hz_to_mel(hz, scale="slaney"):
    r"""Mels of frequencies in Hz.

    HTK: :math:`m = 2595 \log_{10}(1 + f/700)`. Slaney: :math:`m = 3f/200` below 1 kHz, and
    :math:`m = 15 + 27 \ln(f/1000)/\ln 6.4` above (the Auditory Toolbox's, librosa's default).
    """
    scale = checks.choice(scale, "mel scale", SCALES)
    f = np.asarray(hz, dtype=np.float64)
    if scale == "htk":
        return 2595.0 * np.log10(1.0 + f / 700.0)
    log_step = np.log(6.4) / 27.0
    return np.where(f < 1000.0, 3.0 * f / 200.0,
                    15.0 + np.log(np.maximum(f, 1e-300) / 1000.0) / log_step)


def mel_to_hz(mel, scale="slaney"):
    r"""Frequencies in Hz of mels, the inverse of :func:`hz_to_mel`.

    HTK: :math:`f = 700 (10^{m/2595} - 1)`. Slaney: :math:`f = 200m/3` below 15 mels, and
    :math:`f = 1000 \exp((m - 15) \ln 6.4 / 27)` above.
    """
    scale = checks.choice(scale, "mel scale", SCALES)
    m = np.asarray(mel, dtype=np.float64)
    if scale == "htk":
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    log_step = np.log(6.4) / 27.0
    return np.where(m < 15.0, 200.0 * m / 3.0, 1000.0 * np.exp(log_step * (m - 15.0)))


def mel_filterbank(sample_rate, n_fft, n_mels=40, fmin=0.0, fmax=None, scale="slaney",
                   norm="slaney"):
    r"""Triangular filters (n_mels, n_fft/2 + 1) evenly spaced on the mel scale.

    ``n_mels + 2`` points :math:`f_0 < \dots < f_{M+1}` evenly spaced in mels from ``fmin`` to
    ``fmax`` (default the Nyquist frequency) make filter ``m`` rise from :math:`f_m` to a peak
    of 1 at :math:`f_{m+1}` and fall to 0 at :math:`f_{m+2}`; at FFT bin frequency
    :math:`\phi_k = k\,r/N`:

    .. math::

        W_{m,k} = \max\Bigl(0, \min\Bigl(\frac{\phi_k - f_m}{f_{m+1} - f_m},
                                         \frac{f_{m+2} - \phi_k}{f_{m+2} - f_{m+1}}\Bigr)\Bigr)

    ``norm="slaney"`` scales each filter to unit area, :math:`2 / (f_{m+2} - f_m)`, so a wide
    high filter does not outweigh a narrow low one; ``norm=None`` keeps peaks of 1 (HTK).
    """
    rate = checks.positive_int(sample_rate, "sample_rate")
    n_fft = checks.positive_int(n_fft, "n_fft")
    n_mels = checks.positive_int(n_mels, "n_mels")
    fmax = rate / 2.0 if fmax is None else checks.number(fmax, "fmax", 0.0, rate / 2.0)
    fmin = checks.number(fmin, "fmin", 0.0, fmax, high_open=True)
    checks.choice("none" if norm is None else norm, "mel norm", ("slaney", "none"))
    mels = np.linspace(hz_to_mel(fmin, scale), hz_to_mel(fmax, scale), n_mels + 2)
    edges = mel_to_hz(mels, scale)                                  # f_0 .. f_{M+1}
    bins = np.arange(n_fft // 2 + 1) * rate / n_fft                 # phi_k
    widths = np.diff(edges)                                         # f_{m+1} - f_m
    distance = edges[:, None] - bins[None, :]                       # f_m - phi_k
    rising = -distance[:-2] / widths[:-1, None]                     # (phi_k - f_m) / ...
    falling = distance[2:] / widths[1:, None]                       # (f_{m+2} - phi_k) / ...
    weights = np.maximum(0.0, np.minimum(rising, falling))
    if norm == "slaney":
        weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights


def log_mel(signal, sample_rate, n_mels=40, window_ms=25.0, hop_ms=10.0, preemphasis=0.97,
            scale="slaney", norm="slaney", fmin=0.0, fmax=None, floor=1e-10, window_name="hann",
            dynamic_range_db=None):
    r"""Log-mel energies (T, n_mels): :math:`L_{t,m} = \ln\max(\sum_k W_{m,k} P_{t,k}, \epsilon)`.

    ``preemphasis=0`` skips the pre-emphasis; ``floor`` is :math:`\epsilon`, which keeps the
    log of a silent frame finite (librosa's ``amin`` of ``power_to_db``). With
    ``dynamic_range_db`` = R the floor rises to R decibels under the utterance's loudest
    energy, :math:`\epsilon' = \max(\epsilon, 10^{-R/10} \max_{t,m} E_{t,m})` (librosa's
    ``top_db``): digital silence and faint noise then look alike, and a gain stays a constant.
    """
    frame_length, hop_length, n_fft = frame_sizes(sample_rate, window_ms, hop_ms)
    x = pre_emphasis(signal, preemphasis) if preemphasis else np.asarray(signal, np.float64)
    power = power_spectrum(frame_signal(x, frame_length, hop_length), n_fft, window_name)
    energies = power @ mel_filterbank(sample_rate, n_fft, n_mels, fmin, fmax, scale, norm).T
    if dynamic_range_db is not None:
        floor = max(floor, energies.max() * 10.0 ** (-dynamic_range_db / 10.0))
    return np.log(np.maximum(energies, floor))


def dct_matrix(n_out, n_in):
    r"""The orthonormal DCT-II as a matrix (n_out, n_in): ``c = D @ L``.

    .. math::

        D_{k,m} = s_k \cos\Bigl(\frac{\pi k (2m + 1)}{2M}\Bigr), \quad
        s_0 = \sqrt{1/M}, \ s_k = \sqrt{2/M}

    (``scipy.fft.dct(..., type=2, norm="ortho")``; :math:`D D^\top = I` when n_out = M).
    """
    k = np.arange(n_out)[:, None]
    m = np.arange(n_in)[None, :]
    scale = np.where(k == 0, np.sqrt(1.0 / n_in), np.sqrt(2.0 / n_in))
    return scale * np.cos(np.pi * k * (2 * m + 1) / (2.0 * n_in))


def lifter(n_coefficients, length=22):
    r"""Lifter weights :math:`1 + \frac{L}{2}\sin(\pi n / L)`, n = 0..N-1 (HTK's; ``L=0``: ones).

    They raise the higher cepstra, which are small, toward the size of the lower ones; ``c_0``
    keeps weight 1. librosa counts ``n`` from 1 instead (its ``c_0`` is scaled too).
    """
    n = np.arange(n_coefficients)
    if not length:
        return np.ones(n_coefficients)
    return 1.0 + (length / 2.0) * np.sin(np.pi * n / length)


def mfcc(log_mel_energies, n_mfcc=13, lifter_length=22):
    """MFCCs (T, n_mfcc): the liftered orthonormal DCT-II of each frame's log-mel energies.

    :math:`c_{t,n} = \\mathrm{lift}_n \\sum_m D_{n,m} L_{t,m}` (:func:`dct_matrix`, :func:`lifter`).
    """
    energies = np.asarray(log_mel_energies, dtype=np.float64)
    n_mfcc = checks.integer(n_mfcc, "n_mfcc", 1, energies.shape[-1])
    return (energies @ dct_matrix(n_mfcc, energies.shape[-1]).T) * lifter(n_mfcc, lifter_length)


def deltas(features, width=2):
    r"""Time derivatives (T, F) by the regression formula over ``width`` frames each side:

    .. math::

        d_t = \frac{\sum_{n=1}^{N} n\,(c_{t+n} - c_{t-n})}{2 \sum_{n=1}^{N} n^2}

    with the first and last frames repeated beyond the ends (HTK, python_speech_features).
    Deltas of deltas (accelerations) are ``deltas(deltas(c))``.
    """
    c = np.asarray(features, dtype=np.float64)
    if c.ndim != 2:
        raise DataError(f"deltas expects features of shape (T, F), got shape {c.shape}")
    n_width = checks.positive_int(width, "delta width")
    padded = np.pad(c, ((n_width, n_width), (0, 0)), mode="edge")
    steps = len(c)
    total = sum(n * (padded[n_width + n:n_width + n + steps] - padded[n_width - n:n_width - n + steps])
                for n in range(1, n_width + 1))
    return total / (2.0 * sum(n * n for n in range(1, n_width + 1)))


def normalize_utterance(features, epsilon=1e-8):
    r"""Per-utterance mean and variance normalisation over time (CMVN), per coefficient:

    :math:`\hat c_{t,f} = (c_{t,f} - \mu_f) / (\sigma_f + \epsilon)`, :math:`\mu_f, \sigma_f`
    the mean and standard deviation over the utterance's frames. It takes out a fixed channel
    (a microphone, a voice's spectral tilt, a gain), which the log turns into an added constant.
    """
    c = np.asarray(features, dtype=np.float64)
    return (c - c.mean(axis=0)) / (c.std(axis=0) + epsilon)


def speech_features(signal, sample_rate, kind="mfcc", n_mels=40, n_mfcc=13, delta_width=2,
                    normalize=True, dynamic_range_db=60.0):
    """The features a recogniser reads, (T, F): ``"mfcc"`` gives MFCCs with their deltas and
    accelerations (3 * 13 = 39 columns), ``"logmel"`` the log-mel energies (40 columns), of
    log-mel energies floored ``dynamic_range_db`` under their peak (:func:`log_mel`);
    normalised per utterance (:func:`normalize_utterance`) unless ``normalize=False``."""
    kind = checks.choice(kind, "feature kind", ("mfcc", "logmel"))
    energies = log_mel(signal, sample_rate, n_mels=n_mels, dynamic_range_db=dynamic_range_db)
    if kind == "mfcc":
        c = mfcc(energies, n_mfcc)
        d = deltas(c, delta_width)
        energies = np.concatenate([c, d, deltas(d, delta_width)], axis=1)
    return normalize_utterance(energies) if normalize else energies


def trim_silence(signal, sample_rate, threshold_db=35.0, margin_ms=50.0):
    r"""The signal from its first to its last loud frame, with ``margin_ms`` kept each side.

    A 25 ms frame (10 ms hop) is loud when its energy :math:`\sum_n x_n^2` is within
    ``threshold_db`` decibels of the loudest frame's: :math:`10 \log_{10}(e_t / \max_t e_t) >
    -\mathrm{threshold}`. An all-silent signal comes back unchanged.
    """
    x = np.asarray(signal, dtype=np.float64)
    frame_length, hop_length, _ = frame_sizes(sample_rate)
    energy = (frame_signal(x, frame_length, hop_length) ** 2).sum(axis=1)
    if energy.max() <= 0.0:
        return x
    loud = np.flatnonzero(energy >= energy.max() * 10.0 ** (-threshold_db / 10.0))
    margin = round(sample_rate * margin_ms / 1000.0)
    start = max(0, loud[0] * hop_length - margin)
    stop = min(len(x), loud[-1] * hop_length + frame_length + margin)
    return x[start:stop]
