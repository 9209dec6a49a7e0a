"""nnscratch.audio: WAV in and out, resampling, framing, deltas, normalisation, augmentation."""

import wave

import numpy as np
import pytest

from nnscratch import audio
from nnscratch.errors import ConfigError, DataError


def write_pcm(path, samples, width, channels=1, rate=8000):
    """Integer samples (frames, channels) written by the standard library, as a reference."""
    samples = np.asarray(samples, dtype=np.int64).reshape(-1, channels)
    if width == 1:
        raw = (samples + 128).astype(np.uint8).tobytes()
    elif width == 3:
        little = (samples & 0xFFFFFF).astype("<u4").tobytes()
        raw = b"".join(little[i:i + 3] for i in range(0, len(little), 4))
    else:
        raw = samples.astype({2: "<i2", 4: "<i4"}[width]).tobytes()
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(channels)
        handle.setsampwidth(width)
        handle.setframerate(rate)
        handle.writeframes(raw)


@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_read_wav_scales_every_sample_width_to_minus_one_one(width, tmp_path):
    top = 1 << (8 * width - 1)
    samples = np.array([-top, -top // 2, -1, 0, 1, top // 2, top - 1])
    write_pcm(tmp_path / "x.wav", samples, width)
    signal, rate = audio.read_wav(tmp_path / "x.wav")
    assert rate == 8000
    np.testing.assert_allclose(signal, samples / top, rtol=0, atol=1e-12)


def test_stereo_is_averaged_and_write_read_round_trips(tmp_path):
    write_pcm(tmp_path / "stereo.wav", [[1000, 3000], [-2000, 0]], 2, channels=2)
    signal, _ = audio.read_wav(tmp_path / "stereo.wav")
    np.testing.assert_allclose(signal, [2000 / 32768, -1000 / 32768])
    x = np.sin(np.linspace(0, 20, 500)) * 0.5
    audio.write_wav(tmp_path / "mono.wav", x, 16000)
    back, rate = audio.read_wav(tmp_path / "mono.wav")
    assert rate == 16000 and np.abs(back - x).max() <= 0.5 / 32768 + 1e-12


def test_read_wav_refuses_what_is_not_pcm_wav(tmp_path):
    (tmp_path / "text.wav").write_text("not a wav file at all")
    with pytest.raises(DataError, match="PCM WAV"):
        audio.read_wav(tmp_path / "text.wav")
    with pytest.raises(DataError, match="mono"):
        audio.write_wav(tmp_path / "x.wav", np.zeros((10, 2)), 8000)


@pytest.mark.parametrize("rate_in,rate_out", [(22050, 16000), (8000, 16000), (16000, 8000)])
def test_resample_keeps_a_tone_and_matches_scipy(rate_in, rate_out, tmp_path):
    t = np.arange(rate_in // 2) / rate_in                 # 0.5 s: whole periods of 500 Hz
    x = np.sin(2 * np.pi * 500.0 * t)
    y = audio.resample(x, rate_in, rate_out)
    assert len(y) == rate_out // 2
    np.testing.assert_allclose(y, np.sin(2 * np.pi * 500.0 * np.arange(len(y)) / rate_out), atol=1e-9)
    scipy_signal = pytest.importorskip("scipy.signal")
    noise = np.random.default_rng(0).standard_normal(1001)
    z = audio.resample(noise, rate_in, rate_out)
    np.testing.assert_allclose(z, scipy_signal.resample(noise, len(z)), atol=1e-10)
    audio.write_wav(tmp_path / "t.wav", x * 0.5, rate_in)
    read, rate = audio.read_wav(tmp_path / "t.wav", sample_rate=rate_out)
    assert rate == rate_out and len(read) == len(y)


def test_frames_and_sizes():
    assert audio.frame_sizes(16000) == (400, 160, 512)
    assert audio.frame_sizes(8000) == (200, 80, 256)
    x = np.arange(1000.0)
    frames = audio.frame_signal(x, 400, 160)
    assert frames.shape == (1 + (1000 - 400) // 160, 400)
    np.testing.assert_array_equal(frames[2], x[320:720])
    assert audio.frame_signal(np.ones(10), 400, 160).shape == (1, 400)
    np.testing.assert_allclose(audio.window("hann", 4), [0.0, 0.5, 1.0, 0.5])
    with pytest.raises(ConfigError, match="window"):
        audio.window("blackman", 4)


def test_deltas_are_the_regression_formula_written_as_a_loop():
    c = np.random.default_rng(0).standard_normal((12, 3))
    width = 2
    expected = np.zeros_like(c)
    for t in range(len(c)):
        for n in range(1, width + 1):
            ahead, behind = c[min(t + n, len(c) - 1)], c[max(t - n, 0)]
            expected[t] += n * (ahead - behind)
    expected /= 2 * sum(n * n for n in range(1, width + 1))
    np.testing.assert_allclose(audio.deltas(c, width), expected, atol=1e-12)
    ramp = np.arange(20.0)[:, None] * 3.0                  # slope 3 per frame
    np.testing.assert_allclose(audio.deltas(ramp, 2)[2:-2], 3.0)


def test_bad_frame_sizes_deltas_and_mask_counts_get_the_library_errors():
    with pytest.raises(ConfigError, match="window_ms"):
        audio.frame_sizes(16000, window_ms=0)
    with pytest.raises(ConfigError, match="hop_ms"):
        audio.frame_sizes(16000, hop_ms="10")
    with pytest.raises(ConfigError, match="window in samples"):
        audio.frame_sizes(8000, window_ms=0.01)             # under one sample
    with pytest.raises(DataError, match=r"\(T, F\)"):
        audio.deltas(np.arange(10.0))
    with pytest.raises(ConfigError, match="freq_width"):
        audio.spec_augment(np.ones((5, 4)), np.random.default_rng(0), freq_width=-1)


def test_speech_features_shapes_and_per_utterance_normalisation():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(16000) * 0.1
    mfcc = audio.speech_features(x, 16000)
    assert mfcc.shape == (98, 39)
    np.testing.assert_allclose(mfcc.mean(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(mfcc.std(axis=0), 1.0, atol=1e-6)
    assert audio.speech_features(x[:8000], 8000, kind="logmel").shape == (98, 40)
    # a gain is an added constant after the log: normalisation takes it out
    np.testing.assert_allclose(audio.speech_features(x * 7.0, 16000, kind="logmel"),
                               audio.speech_features(x, 16000, kind="logmel"), atol=1e-6)


def test_trim_silence_keeps_the_loud_part_and_a_margin():
    rate = 16000
    tone = np.sin(2 * np.pi * 300 * np.arange(rate // 4) / rate)
    x = np.concatenate([np.zeros(rate), tone, np.zeros(rate)])
    trimmed = audio.trim_silence(x, rate, margin_ms=50)
    # the margins, and up to a frame and a hop each side for frames that touch the tone
    assert rate // 4 <= len(trimmed) <= rate // 4 + 2 * 800 + 2 * (400 + 160)
    assert np.abs(trimmed).max() == np.abs(tone).max()
    assert np.array_equal(audio.trim_silence(np.zeros(100), rate), np.zeros(100))


def test_gain_noise_at_snr_and_reverberation():
    rng = np.random.default_rng(0)
    x = np.sin(np.linspace(0, 300, 16000))
    np.testing.assert_allclose(audio.apply_gain(x, 20.0), 10.0 * x)
    noisy = audio.add_noise(x, 10.0, rng)
    snr = 10 * np.log10(np.mean(x ** 2) / np.mean((noisy - x) ** 2))
    assert snr == pytest.approx(10.0, abs=1e-9)
    h = audio.impulse_response(16000, 0.3, rng)
    assert len(h) == 4800 and np.sum(h ** 2) == pytest.approx(1.0)
    assert np.sum(h[1:] ** 2) == pytest.approx(np.sum(h[:1] ** 2))   # tail as strong as direct
    envelope = [np.sqrt(np.mean(h[i:i + 400] ** 2)) for i in (400, 2000)]
    # -60 dB in 0.3 s: 1600 samples = 0.1 s later, 20 dB (a factor 10) lower, within noise
    assert 5 < envelope[0] / envelope[1] < 20
    y = audio.reverberate(x, h)
    np.testing.assert_allclose(y, np.convolve(x, h)[:len(x)], atol=1e-9)


def test_spec_augment_masks_bands_and_leaves_the_input():
    rng = np.random.default_rng(0)
    features = np.ones((4, 50, 20))
    masked = audio.spec_augment(features, rng, time_masks=1, time_width=10, freq_masks=1,
                                freq_width=5)
    assert np.all(features == 1.0) and masked.shape == features.shape
    for sample in masked:
        zero_rows = np.flatnonzero(np.all(sample == 0.0, axis=1))
        zero_cols = np.flatnonzero(np.all(sample == 0.0, axis=0))
        assert len(zero_rows) <= 10 and len(zero_cols) <= 5
        if len(zero_rows):                                  # one band of consecutive frames
            assert zero_rows[-1] - zero_rows[0] == len(zero_rows) - 1
    assert np.any(masked == 0.0)
    single = audio.spec_augment(np.ones((50, 20)), rng)
    assert single.shape == (50, 20)
    with pytest.raises(DataError, match=r"\(T, F\)"):
        audio.spec_augment(np.ones(5), rng)
