r"""WAV files in and out with the standard library's :mod:`wave`, and resampling.

:func:`read_wav` reads integer PCM of 8, 16, 24 or 32 bits, mono or with several channels, as
floats in [-1, 1):

.. math::

    x = \frac{q}{2^{b-1}}

for a signed sample ``q`` of ``b`` bits; 8-bit WAV stores unsigned bytes, ``q = u - 128``.
Several channels are averaged into one, :math:`x_t = \frac{1}{C}\sum_c x_{t,c}`.
:func:`write_wav` writes 16-bit mono PCM, :math:`q = \mathrm{round}(2^{15} x)` clipped to
[-32768, 32767]. :func:`resample` changes the sampling rate in the frequency domain.
"""

import wave

import numpy as np

from .. import checks
from ..errors import DataError

__all__ = ["read_wav", "write_wav", "resample"]

SAMPLE_WIDTHS = (1, 2, 3, 4)       # bytes per sample: 8, 16, 24, 32-bit integer PCM


def _pcm_to_float(raw, width):
    """Integer PCM bytes of ``width`` bytes a sample as float64 in [-1, 1)."""
    if width == 1:                                     # unsigned: 128 is the zero line
        return (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    if width == 3:                                     # no 24-bit dtype: widen to 32 bits
        bytes3 = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        # little-endian b0 + 2^8 b1 + 2^16 b2, then the sign bit of b2 extends to 32 bits
        value = bytes3[:, 0] | (bytes3[:, 1] << 8) | (bytes3[:, 2] << 16)
        value = np.where(value >= 1 << 23, value - (1 << 24), value)
        return value.astype(np.float64) / float(1 << 23)
    dtype = {2: "<i2", 4: "<i4"}[width]
    return np.frombuffer(raw, dtype=dtype).astype(np.float64) / float(1 << (8 * width - 1))


def read_wav(path, sample_rate=None):
    """``(signal, rate)``: a PCM WAV file as a float64 mono signal in [-1, 1) and its rate.

    Parameters
    ----------
    path : str or Path
        An uncompressed integer PCM WAV file (8, 16, 24 or 32 bits; any number of channels,
        which are averaged).
    sample_rate : int, optional
        Resample to this rate (:func:`resample`); ``rate`` is then this rate.
    """
    try:
        with wave.open(str(path), "rb") as handle:
            channels, width = handle.getnchannels(), handle.getsampwidth()
            rate, raw = handle.getframerate(), handle.readframes(handle.getnframes())
    except (wave.Error, EOFError) as error:
        raise DataError(f"expected a PCM WAV file, could not read {path}: {error}") from None
    if width not in SAMPLE_WIDTHS:
        raise DataError(f"expected 8, 16, 24 or 32-bit PCM in {path}, got {8 * width}-bit samples")
    samples = _pcm_to_float(raw[:len(raw) - len(raw) % (width * channels)], width)
    signal = samples.reshape(-1, channels).mean(axis=1)
    if sample_rate is not None and sample_rate != rate:
        signal, rate = resample(signal, rate, sample_rate), int(sample_rate)
    return signal, rate


def write_wav(path, signal, sample_rate):
    """Write a mono ``signal`` (floats, nominally in [-1, 1]) as 16-bit PCM at ``sample_rate``."""
    rate = checks.positive_int(sample_rate, "write_wav sample_rate")
    signal = np.asarray(signal, dtype=np.float64)
    if signal.ndim != 1:
        raise DataError(f"write_wav expects a mono signal of shape (samples,), got {signal.shape}")
    # q = round(2^15 x), clipped to the 16-bit range
    quantized = np.clip(np.round(signal * 32768.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(quantized.tobytes())


def resample(signal, rate_in, rate_out):
    r"""``signal`` sampled at ``rate_in`` resampled to ``rate_out`` by the FFT.

    The signal's spectrum :math:`X_k = \sum_t x_t e^{-2\pi i k t / N}` (``N`` samples) is cut
    (downsampling: everything above the new Nyquist frequency goes, which is the anti-aliasing
    filter) or padded with zeros (upsampling) to ``M = round(N r_out / r_in)`` bins, and the
    inverse transform of that length, scaled by ``M / N`` to keep the amplitude, is the new
    signal: :math:`y_m = \frac{M}{N}\,\mathrm{IDFT}_M(X)_m`. It treats the signal as periodic
    (as ``scipy.signal.resample`` does), so its two ends should be quiet, as an utterance's are.
    At an even length the Nyquist bin stands for two bins, :math:`\pm N/2`: upsampling splits
    it into halves, downsampling folds the two cut bins at :math:`\pm M/2` into one,
    :math:`2\,\mathrm{Re}\,X_{M/2}` (the choices of ``scipy.signal.resample``, which the tests
    match).
    """
    rate_in = checks.positive_int(rate_in, "resample rate_in")
    rate_out = checks.positive_int(rate_out, "resample rate_out")
    signal = np.asarray(signal, dtype=np.float64)
    if rate_in == rate_out or len(signal) == 0:
        return signal.copy()
    n = len(signal)
    m = max(1, round(n * rate_out / rate_in))
    spectrum = np.fft.rfft(signal)
    bins = m // 2 + 1
    new = np.zeros(bins, dtype=complex)
    keep = min(bins, len(spectrum))
    new[:keep] = spectrum[:keep]
    if m < n and m % 2 == 0:
        new[-1] = 2.0 * new[-1].real      # X_{M/2} + X_{-M/2} = 2 Re X_{M/2}
    if m > n and n % 2 == 0:
        new[n // 2] *= 0.5                # the old Nyquist bin splits into +/- halves
    return np.fft.irfft(new, m) * (m / n)
