"""nnscratch.audio's features against librosa on a chirp, white noise and a chord of tones.

Tolerances: relative 1e-6 (the math is the same up to float rounding) wherever both libraries
compute the same thing. The differences between the two, and how each test lines them up:

- librosa's STFT windows the 400-sample frame in the middle of an ``n_fft = 512`` frame (56
  zeros each side) and frames start at sample 0 with ``center=False``; ours puts the 400
  samples first and pads the end. So our frame t equals librosa's on the signal shifted by 56
  samples: ours reads ``x[56:]``. With ``center=True`` (librosa's default) frames would also be
  shifted by n_fft / 2 and the edges reflected: we always pass ``center=False``.
- librosa's ``power_to_db`` is ``10 log10(max(S, amin))`` (and clips 80 dB under the top unless
  ``top_db=None``); ours is ``ln(max(S, floor))``: the factor 10 / ln 10 apart.
- librosa's lifter counts coefficients from 1, ``1 + L/2 sin(pi (n+1) / L)``; ours (HTK's) from
  0, so c_0 is left alone; the test divides the two weightings out.
- librosa's pre-emphasis starts its filter from an extrapolated state; ours from y_0 = x_0.
- librosa's ``delta`` is a Savitzky-Golay filter of order 1 that fits the edges by
  interpolation; in the interior it is the regression formula with N = (width - 1) / 2, so the
  frames within N of either end are left out of the comparison. Its order-2 delta is a
  second-order Savitzky-Golay derivative, not delta-of-delta, so only order 1 is compared.
"""

import numpy as np
import pytest

from nnscratch import audio

librosa = pytest.importorskip("librosa")

RATE, N_FFT, FRAME, HOP = 16000, 512, 400, 160
SHIFT = (N_FFT - FRAME) // 2                 # where librosa's padded window begins


def signals():
    """``{name: signal}``: 0.5 s each at 16 kHz."""
    rng = np.random.default_rng(0)
    t = np.arange(RATE // 2) / RATE
    chirp = np.sin(2 * np.pi * (100 * t + 0.5 * (7000 - 100) / 0.5 * t ** 2))   # 100 Hz -> 7 kHz
    tones = sum(a * np.sin(2 * np.pi * f * t) for a, f in ((0.5, 440.0), (0.3, 1250.0), (0.1, 3000.0)))
    return {"chirp": chirp, "noise": 0.1 * rng.standard_normal(len(t)), "tones": tones}


def librosa_power(x):
    """librosa's power spectrogram (frames, bins) with a 400-sample Hann window, no centering."""
    spectrum = librosa.stft(x, n_fft=N_FFT, hop_length=HOP, win_length=FRAME, window="hann",
                            center=False)
    return (np.abs(spectrum) ** 2).T


def ours_power(x):
    return audio.power_spectrum(audio.frame_signal(x[SHIFT:], FRAME, HOP), N_FFT, "hann")


@pytest.mark.parametrize("name", ["chirp", "noise", "tones"])
def test_power_spectrum_matches_librosa_stft(name):
    x = signals()[name]
    theirs, ours = librosa_power(x), ours_power(x)
    frames = min(len(theirs), len(ours))
    assert frames >= len(theirs) and frames > 40
    np.testing.assert_allclose(ours[:frames], theirs, rtol=1e-6, atol=1e-9 * theirs.max())


@pytest.mark.parametrize("scale,htk", [("slaney", False), ("htk", True)])
@pytest.mark.parametrize("norm", ["slaney", None])
@pytest.mark.parametrize("rate,n_fft", [(16000, 512), (8000, 256)])
def test_mel_filterbank_matches_librosa(scale, htk, norm, rate, n_fft):
    ours = audio.mel_filterbank(rate, n_fft, 40, fmin=20.0, scale=scale, norm=norm)
    theirs = librosa.filters.mel(sr=rate, n_fft=n_fft, n_mels=40, fmin=20.0, htk=htk, norm=norm)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-10)
    freqs = np.array([0.0, 440.0, 999.0, 1000.0, 4000.0, 8000.0])
    np.testing.assert_allclose(audio.hz_to_mel(freqs, scale), librosa.hz_to_mel(freqs, htk=htk),
                               rtol=1e-9)
    np.testing.assert_allclose(audio.mel_to_hz(audio.hz_to_mel(freqs, scale), scale), freqs,
                               rtol=1e-9, atol=1e-9)


def librosa_log_mel_db(x):
    mel = librosa.feature.melspectrogram(S=librosa_power(x).T, sr=RATE, n_mels=40)
    return librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=None).T


@pytest.mark.parametrize("name", ["chirp", "noise", "tones"])
def test_log_mel_is_librosa_db_over_10_log10_e(name):
    x = signals()[name]
    ours = audio.log_mel(x[SHIFT:], RATE, n_mels=40, preemphasis=0.0)
    theirs = librosa_log_mel_db(x)
    frames = len(theirs)
    # 10 log10(E) = (10 / ln 10) ln(E)
    np.testing.assert_allclose(ours[:frames] * 10.0 / np.log(10.0), theirs, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["chirp", "noise", "tones"])
@pytest.mark.parametrize("lifter_length", [0, 22])
def test_mfcc_matches_librosa_up_to_the_db_factor_and_the_lifter_index(name, lifter_length):
    x = signals()[name]
    theirs = librosa.feature.mfcc(S=librosa_log_mel_db(x).T, n_mfcc=13, dct_type=2, norm="ortho",
                                  lifter=lifter_length).T
    ours = audio.mfcc(audio.log_mel(x[SHIFT:], RATE, preemphasis=0.0), 13, lifter_length)
    ours = ours[:len(theirs)] * 10.0 / np.log(10.0)
    if lifter_length:                       # ours: 1 + L/2 sin(pi n / L); librosa's: n + 1
        n = np.arange(1, 14)
        ours = ours / audio.lifter(13, lifter_length) * (1 + lifter_length / 2 * np.sin(np.pi * n / lifter_length))
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-5)


def test_dct_matrix_is_scipys_orthonormal_dct_ii():
    from scipy.fft import dct
    energies = np.random.default_rng(1).standard_normal((7, 40))
    np.testing.assert_allclose(energies @ audio.dct_matrix(40, 40).T,
                               dct(energies, type=2, norm="ortho", axis=1), atol=1e-12)
    d = audio.dct_matrix(40, 40)
    np.testing.assert_allclose(d @ d.T, np.eye(40), atol=1e-12)


@pytest.mark.parametrize("width", [1, 2, 4])
def test_deltas_match_librosa_in_the_interior(width):
    c = audio.mfcc(audio.log_mel(signals()["chirp"], RATE), 13)
    theirs = librosa.feature.delta(c.T, width=2 * width + 1, order=1, axis=-1).T
    ours = audio.deltas(c, width)
    np.testing.assert_allclose(ours[width:-width], theirs[width:-width], rtol=1e-6, atol=1e-8)


def test_pre_emphasis_matches_librosa():
    """librosa's filter starts from a state extrapolated from x_0 and x_1 by default; ours takes
    y_0 = x_0 (a state of 0): equal from the second sample on, and everywhere with zi=0."""
    x = signals()["tones"] + 0.1
    ours = audio.pre_emphasis(x, 0.97)
    np.testing.assert_allclose(ours, librosa.effects.preemphasis(x, coef=0.97, zi=[0.0]), atol=1e-12)
    np.testing.assert_allclose(ours[1:], librosa.effects.preemphasis(x, coef=0.97)[1:], atol=1e-12)
