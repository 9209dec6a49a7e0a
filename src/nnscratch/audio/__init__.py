"""Audio for speech recognition, on NumPy alone: WAV files, features, augmentation.

- :mod:`~nnscratch.audio.wav`: :func:`read_wav` (8/16/24/32-bit PCM, channels averaged),
  :func:`write_wav` (16-bit mono), :func:`resample` (by the FFT);
- :mod:`~nnscratch.audio.features`: pre-emphasis, frames, window, power spectrum, mel filter
  bank (Slaney or HTK mel scale), log-mel energies, MFCCs (orthonormal DCT-II, liftered),
  deltas, per-utterance normalisation, and :func:`speech_features`, the whole chain;
- :mod:`~nnscratch.audio.augment`: gain, noise at a given SNR, synthetic reverberation,
  SpecAugment's time and frequency masks.

``examples/spoken_digits.py`` uses all three to recognise spoken digits from voices it never
heard in training.
"""

from .augment import add_noise, apply_gain, impulse_response, reverberate, spec_augment
from .features import (
    dct_matrix,
    deltas,
    frame_signal,
    frame_sizes,
    hz_to_mel,
    lifter,
    log_mel,
    mel_filterbank,
    mel_to_hz,
    mfcc,
    normalize_utterance,
    power_spectrum,
    pre_emphasis,
    speech_features,
    trim_silence,
    window,
)
from .wav import read_wav, resample, write_wav

__all__ = ["read_wav", "write_wav", "resample", "pre_emphasis", "frame_signal", "frame_sizes",
           "window", "power_spectrum", "hz_to_mel", "mel_to_hz", "mel_filterbank", "log_mel",
           "dct_matrix", "lifter", "mfcc", "deltas", "normalize_utterance", "speech_features",
           "trim_silence", "apply_gain", "add_noise", "impulse_response", "reverberate",
           "spec_augment"]
