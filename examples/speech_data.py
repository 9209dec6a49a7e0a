"""Spoken digits made offline by text-to-speech engines, augmented, as features; cached.

Engines (Debian packages): ``espeak-ng`` (formant synthesis, dozens of accents and voice
variants), ``flite`` (CMU's small engine; voices kal, kal16, awb, rms, slt) and ``festival``
with ``festvox-kallpc16k`` (the voice kal_diphone): ``sudo apt-get install espeak-ng flite
festival festvox-kallpc16k``. Every utterance is read back with ``nnscratch.audio.read_wav``,
resampled to 16 kHz, cut to the word (:func:`nnscratch.audio.trim_silence`), and placed in a
window of ``FRAMES`` frames (1.2 s); training copies are augmented (gain, position in the
window, noise, reverberation). Features: 13 MFCCs with deltas and accelerations, normalised
per utterance (39 per 10 ms frame).

The whole set is cached as an ``.npz`` under ``~/.cache/nnscratch/spoken_digits`` (or
``$NNSCRATCH_CACHE``), named by a hash of every setting that made it, so changing one makes
a new file and nothing stale is read back.
"""

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from nnscratch import audio

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
RATE = 16000
FRAMES = 120                                         # 1.2 s of 10 ms frames
WINDOW_SAMPLES = 400 + (FRAMES - 1) * 160            # samples that make exactly FRAMES frames
ENGINES = {"espeak-ng": "espeak-ng", "flite": "flite", "festival": "text2wave"}

# voices "engine:name"; espeak-ng names are accent+variant
TRAIN_ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-029")
TRAIN_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "klatt",
                  "klatt2", "klatt3", "croak", "whisper")
TRAIN_VOICES = tuple(f"espeak-ng:{a}+{v}" for a in TRAIN_ACCENTS for v in TRAIN_VARIANTS) + (
    "flite:awb", "flite:rms")
# never heard in training: two espeak-ng accents with variants of their own, three flite voices
# (kal and kal16 are the diphone speaker festival's kal_diphone is made from) and festival
HELDOUT_VOICES = ("espeak-ng:en-us-nyc+m8", "espeak-ng:en-gb-x-gbcwmd+f5",
                  "espeak-ng:en-us-nyc+klatt4", "flite:slt", "flite:kal", "flite:kal16",
                  "festival:kal_diphone")
HELDOUT_SPEEDS = (0.8, 0.9, 1.0, 1.12, 1.25)
OTHER_ENGINE_TAKES = 8
# ranges (low, high) drawn uniformly for each training copy, and probabilities
AUGMENT = {"warp": (0.85, 1.18), "gain_db": (-12.0, 6.0), "reverb_p": 0.5, "rt60": (0.1, 0.6),
           "noise_p": 0.7, "snr_db": (5.0, 35.0), "narrowband_p": 0.3}
# no augmentation (only the random position in the window): the plain baseline
NO_AUGMENT = {"warp": (1.0, 1.0), "gain_db": (0.0, 0.0), "reverb_p": 0.0, "rt60": (0.1, 0.1),
              "noise_p": 0.0, "snr_db": (30.0, 30.0), "narrowband_p": 0.0}
VERSION = 4                                          # of the features: part of the cache key


def missing_engines(voices):
    """The engines the ``voices`` need that are not on the PATH (their commands' names)."""
    return sorted({ENGINES[v.split(":")[0]] for v in voices
                   if shutil.which(ENGINES[v.split(":")[0]]) is None})


def synthesize(voice, word, path, speed=1.0, pitch=None):
    """Write ``word`` spoken by ``voice`` ("engine:name") to the WAV file ``path``.

    ``speed`` > 1 speaks faster: espeak-ng's ``-s`` words per minute (175 * speed), flite's
    and festival's duration stretch (1 / speed). ``pitch`` (0-99, espeak-ng's ``-p``; flite's
    mean F0 of 60 + 1.5 pitch Hz) changes the voice's pitch where given.
    """
    engine, name = voice.split(":", 1)
    if engine == "espeak-ng":
        command = ["espeak-ng", "-v", name, "-s", str(round(175 * speed)), "-w", str(path)]
        command += ["-p", str(int(pitch))] if pitch is not None else []
        command.append(word)
    elif engine == "flite":
        command = ["flite", "-voice", name, "-t", word, "-o", str(path),
                   "--setf", f"duration_stretch={1.0 / speed:.3f}"]
        if pitch is not None:
            command += ["--setf", f"int_f0_target_mean={60 + 1.5 * pitch:.0f}"]
    elif engine == "festival":
        command = ["text2wave", "-eval", f"(voice_{name})", "-eval",
                   f"(Parameter.set 'Duration_Stretch {1.0 / speed:.3f})", "-o", str(path)]
    else:
        raise ValueError(f"unknown engine {engine!r}: expected one of {sorted(ENGINES)}")
    subprocess.run(command, check=True, capture_output=True, timeout=60,
                   input=word.encode() if engine == "festival" else None)


def speak(voice, word, speed=1.0, pitch=None):
    """``word`` spoken by ``voice`` as a 16 kHz float signal cut to the word."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "word.wav"
        synthesize(voice, word, path, speed, pitch)
        signal, _ = audio.read_wav(path, sample_rate=RATE)
    return audio.trim_silence(signal, RATE)


def place(signal, rng=None):
    """The word in a window of ``WINDOW_SAMPLES``: centred, or at a random offset with ``rng``;
    a word longer than the window keeps its middle."""
    if len(signal) >= WINDOW_SAMPLES:
        start = (len(signal) - WINDOW_SAMPLES) // 2
        return signal[start:start + WINDOW_SAMPLES]
    room = WINDOW_SAMPLES - len(signal)
    offset = room // 2 if rng is None else int(rng.integers(0, room + 1))
    return np.pad(signal, (offset, room - offset))


def augment(signal, rng, settings=AUGMENT):
    """A training copy of a word, each step drawn from ``settings``' ranges: a warp (the word
    resampled by a factor ``w``, then heard at 16 kHz: duration times ``w``, pitch and formants
    divided by ``w``, as a longer or shorter vocal tract would), a gain, a random position in
    the window, reverberation (probability ``reverb_p``), white noise (``noise_p``) and, with
    probability ``narrowband_p``, the band of an 8 kHz recording (resampled to 8 kHz and back:
    nothing above 4 kHz, as telephone speech and 8 kHz voices); the peak held below 1."""
    low, high = settings["warp"]
    x = audio.resample(signal, RATE, round(RATE * rng.uniform(low, high)))
    if rng.random() < settings["narrowband_p"]:
        x = audio.resample(audio.resample(x, RATE, RATE // 2), RATE // 2, RATE)
    x = place(audio.apply_gain(x, rng.uniform(*settings["gain_db"])), rng)
    if rng.random() < settings["reverb_p"]:
        x = audio.reverberate(x, audio.impulse_response(RATE, rng.uniform(*settings["rt60"]), rng))
    if rng.random() < settings["noise_p"]:
        x = audio.add_noise(x, rng.uniform(*settings["snr_db"]), rng)
    return x / max(1.0, np.abs(x).max() / 0.99)


def features(signal):
    """Normalised MFCCs, deltas and accelerations of a placed signal: (FRAMES, 39) float32."""
    return audio.speech_features(signal, RATE).astype(np.float32)


def training_takes(voice, takes, rng):
    """``(speed, pitch)`` for each take of a training voice, drawn at random: speed 0.75-1.35,
    pitch 25-75. A voice of another engine than espeak-ng gets ``OTHER_ENGINE_TAKES`` times as
    many takes, so its two voices are not drowned among the 96 of espeak-ng."""
    if not voice.startswith("espeak-ng:"):
        takes *= OTHER_ENGINE_TAKES
    return [(float(rng.uniform(0.75, 1.35)), float(rng.uniform(25, 75))) for _ in range(takes)]


def cached(folder, stem, settings, make):
    """``make()``'s dict of arrays, saved once as ``folder/stem-<hash of settings>.npz`` (written
    to a temporary name, then renamed: never half a file) and read back from then on; the
    dict gets ``cache`` (the path) and ``cached`` (whether it was read back)."""
    key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
    path = Path(folder) / f"{stem}-{key}.npz"
    if path.exists():
        with np.load(path) as stored:
            return {name: stored[name] for name in stored.files} | {"cache": path, "cached": True}
    data = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.parent / f".{stem}-{key}-{os.getpid()}.npz"
    np.savez_compressed(partial, **data)
    os.replace(partial, path)
    return data | {"cache": path, "cached": False}


def record(voices, words, takes, speeds, seed, verbose):
    """Every word by every voice, cut from its silence: ``takes`` random (speed, pitch) takes
    each (:func:`training_takes`) or, with ``speeds``, one take per speed at the voice's own
    pitch. The signals are stored end to end in ``signals``, split by ``lengths``."""
    missing = missing_engines(voices)
    if missing:
        raise RuntimeError(f"missing speech engines {missing}: sudo apt-get install espeak-ng "
                           "flite festival festvox-kallpc16k")
    rng = np.random.default_rng(seed)
    signals, labels, names = [], [], []
    for number, voice in enumerate(voices):
        if verbose and (speeds or number % 16 == 0):
            print(f"  synthesizing voice {number + 1}/{len(voices)}: {voice}")
        for label, word in enumerate(words):
            settings = ([(speed, None) for speed in speeds] if speeds
                        else training_takes(voice, takes, rng))
            for speed, pitch in settings:
                signals.append(speak(voice, word, speed, pitch).astype(np.float32))
                labels.append(label)
                names.append(voice)
    return {"signals": np.concatenate(signals), "lengths": np.array([len(x) for x in signals]),
            "labels": np.array(labels), "voices": np.array(names)}


def split(recordings):
    """The list of signals stored end to end in ``recordings``."""
    ends = np.cumsum(recordings["lengths"])
    return np.split(recordings["signals"].astype(np.float64), ends[:-1])


def build(train_voices=TRAIN_VOICES, heldout_voices=HELDOUT_VOICES, takes=2, copies=2,
          heldout_speeds=HELDOUT_SPEEDS, words=WORDS, seed=0, augment_settings=AUGMENT,
          cache=None, verbose=True):
    """The data set as a dict of arrays, made once and then read from the cache.

    ``x_train`` (N, FRAMES, 39) holds ``copies`` augmented copies (:func:`augment`) of ``takes``
    utterances of each word by each training voice (random speed and pitch); ``x_test`` one
    clean utterance per word, held-out voice and speed of ``heldout_speeds``. ``voice_*`` name
    the voice of each row, ``y_*`` the word's index in ``words``, and ``example_signal`` is a
    held-out utterance as heard, by ``example_voice`` saying ``example_word`` (for the figure).
    The recordings are cached apart from the features, so a change to the augmentation or the
    features synthesizes nothing again.
    """
    folder = Path(cache or os.environ.get("NNSCRATCH_CACHE")
                  or Path.home() / ".cache" / "nnscratch") / "spoken_digits"
    common = {"words": list(words), "seed": seed, "rate": RATE}
    train = cached(folder, "speech", common | {"voices": list(train_voices), "takes": takes},
                   lambda: record(train_voices, words, takes, (), seed, verbose))
    heldout = cached(folder, "speech", common | {"voices": list(heldout_voices),
                                                 "speeds": list(heldout_speeds)},
                     lambda: record(heldout_voices, words, 1, heldout_speeds, seed, verbose))

    def make():
        rng = np.random.default_rng(seed)
        x_train = [features(augment(signal, rng, augment_settings))
                   for signal in split(train) for _ in range(copies)]
        placed = [place(signal) for signal in split(heldout)]
        # the figure's utterance: the last held-out voice (festival's, by default), at the
        # middle speed, saying the word in the middle of the list
        shown = (np.flatnonzero(heldout["voices"] == heldout["voices"][-1])[0]
                 + (len(words) // 2) * len(heldout_speeds) + len(heldout_speeds) // 2)
        return {"x_train": np.stack(x_train), "y_train": np.repeat(train["labels"], copies),
                "voice_train": np.repeat(train["voices"], copies),
                "x_test": np.stack([features(x) for x in placed]), "y_test": heldout["labels"],
                "voice_test": heldout["voices"], "words": np.array(words),
                "example_signal": placed[shown].astype(np.float32),
                "example_voice": heldout["voices"][shown],
                "example_word": np.array(words[heldout["labels"][shown]])}

    settings = {"train": str(train["cache"].name), "heldout": str(heldout["cache"].name),
                "copies": copies, "augment": augment_settings, "seed": seed, "frames": FRAMES,
                "version": VERSION}
    return cached(folder, "digits", settings, make)
