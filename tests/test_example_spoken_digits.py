"""examples/spoken_digits.py: the data helpers, a short run, recognising a fresh file, the cache.

Needs the speech engines (``apt-get install espeak-ng flite festival festvox-kallpc16k``);
each test skips when an engine it uses is missing. The full run, which must reach a mean of
0.9 over the held-out voices with none under 0.75, is behind ``pytest -m long``.
"""

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import speech_data as data
import spoken_digits as example

from nnscratch import audio


def needs(*voices):
    missing = data.missing_engines(voices)
    if missing:
        pytest.skip(f"speech engines not installed: {missing}")


def test_place_centres_pads_and_crops():
    word = np.ones(1000)
    placed = data.place(word)
    assert len(placed) == data.WINDOW_SAMPLES
    offset = (data.WINDOW_SAMPLES - 1000) // 2
    assert placed[offset:offset + 1000].sum() == 1000 and placed.sum() == 1000
    shifted = data.place(word, np.random.default_rng(0))
    assert len(shifted) == data.WINDOW_SAMPLES and shifted.sum() == 1000
    long = np.arange(data.WINDOW_SAMPLES + 100.0)
    np.testing.assert_array_equal(data.place(long), long[50:50 + data.WINDOW_SAMPLES])
    assert audio.frame_signal(placed, 400, 160).shape[0] == data.FRAMES


def test_augment_keeps_the_window_and_the_features_shape():
    rng = np.random.default_rng(0)
    word = 0.3 * np.sin(np.arange(8000) * 0.2)
    for _ in range(5):
        x = data.augment(word, rng)
        assert x.shape == (data.WINDOW_SAMPLES,) and np.abs(x).max() <= 0.99 + 1e-12
    assert data.features(x).shape == (data.FRAMES, 39) and data.features(x).dtype == np.float32


def test_per_voice_accuracy():
    predicted, truth = np.array([1, 2, 3, 4]), np.array([1, 0, 3, 4])
    voices = np.array(["b", "a", "a", "b"])
    assert example.per_voice_accuracy(predicted, truth, voices) == {"b": 1.0, "a": 0.5}


@pytest.mark.parametrize("voice", ["espeak-ng:en-us+f2", "flite:slt", "flite:kal",
                                   "festival:kal_diphone"])
def test_each_engine_speaks_a_word_at_16_khz(voice, tmp_path):
    needs(voice)
    slow, fast = data.speak(voice, "seven", speed=0.8), data.speak(voice, "seven", speed=1.25)
    assert 0.2 * data.RATE < len(fast) < len(slow) < 1.2 * data.RATE
    assert 0.01 < np.abs(slow).max() <= 1.0


def test_short_run_then_recognise_a_freshly_synthesized_file(tmp_path, capsys):
    needs("espeak-ng:en-us", "flite:slt")
    train = ("espeak-ng:en-us+m1", "espeak-ng:en-gb+f2", "espeak-ng:en-029+m3")
    heldout = ("espeak-ng:en-us-nyc+m8", "flite:slt")
    results = example.run(takes=1, copies=1, epochs=2, batch_size=16, width=0.25,
                          train_voices=train, heldout_voices=heldout, heldout_speeds=(1.0,),
                          cache=tmp_path / "cache", out=tmp_path, verbose=True)
    out = capsys.readouterr().out
    assert "held-out accuracy per voice" in out and "flite:slt" in out
    assert set(results["voices"]) == set(heldout)
    assert results["n_train"] == 30 and results["n_test"] == 20
    assert results["matrix"].sum() == 20 and results["matrix"].shape == (10, 10)
    assert results["mean"] == pytest.approx(np.mean(list(results["voices"].values())))
    assert np.all(np.isfinite(results["losses"])) and results["cached"] is False
    for figure in results["figures"]:
        assert figure.read_bytes()[:4] == b"\x89PNG" and figure.stat().st_size > 20_000
    # a file never seen: the word, and probabilities over the ten words that sum to 1
    wav = tmp_path / "fresh.wav"
    data.synthesize("espeak-ng:en-gb-scotland+f3", "four", wav, speed=1.1, pitch=60)
    word, probabilities = example.main(["--recognise", str(wav), "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert word in data.WORDS and out.splitlines()[0] == f"{wav}: {word}"
    assert set(probabilities) == set(data.WORDS)
    assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert probabilities[word] == max(probabilities.values())
    # the same settings again come from the cache
    again = data.build(train, heldout, 1, 1, (1.0,), cache=tmp_path / "cache", verbose=False)
    assert again["cached"] is True and again["cache"].parent == tmp_path / "cache" / "spoken_digits"


@pytest.mark.long
def test_full_run_recognises_held_out_voices(tmp_path):
    """The example's own run: mean >= 0.9 over the held-out voices, none under 0.75 (minutes)."""
    needs(*data.TRAIN_VOICES, *data.HELDOUT_VOICES)
    results = example.main(["--out", str(tmp_path)])
    assert results["mean"] >= 0.9 and results["worst"] >= 0.75, results["voices"]
    wav = tmp_path / "fresh.wav"
    data.synthesize("espeak-ng:en-us-nyc+f1", "three", wav, speed=0.9)
    assert example.recognise(wav, tmp_path / example.MODEL_NAME, verbose=False)[0] == "three"


def test_engines_named_as_installed():
    assert data.missing_engines(["espeak-ng:en"]) == ([] if shutil.which("espeak-ng")
                                                      else ["espeak-ng"])


def test_recognise_without_a_model_says_how_to_make_one(tmp_path):
    audio.write_wav(tmp_path / "w.wav", np.zeros(1600), 16000)
    with pytest.raises(SystemExit, match="train one first"):
        example.main(["--recognise", str(tmp_path / "w.wav"), "--out", str(tmp_path)])
