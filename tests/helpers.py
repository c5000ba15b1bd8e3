"""Helpers the tests import: synthetic songs, audio files, digests, the shared data folder."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import soundfile as sf

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def tone_mix(seconds: float, rate: int, channels: int = 2, seed: int = 0) -> np.ndarray:
    """A 'song': a voice-like vibrato tone plus noise and a low chirp, ``(channels, n)``."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    voice = 0.3 * np.sin(2 * np.pi * (440 * t + 3 * np.sin(2 * np.pi * 5 * t)))
    chirp = 0.2 * np.sin(2 * np.pi * (80 * t + 40 * t**2))
    out = np.stack(
        [
            voice * (0.5 + 0.5 * c / max(channels, 1)) + chirp + 0.05 * rng.standard_normal(t.size)
            for c in range(channels)
        ]
    )
    return out.astype(np.float32)


def write_audio(path: Path, audio: np.ndarray, rate: int, subtype: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), audio.T, rate, subtype=subtype)
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_stems(root: Path) -> Path:
    """Three tracks: stereo 44.1 kHz, mono 22.05 kHz, and one with drums + bass instead of accompaniment."""
    v = tone_mix(1.0, 44100)
    write_audio(root / "t1" / "vocals.wav", 0.5 * v, 44100)
    write_audio(root / "t1" / "accompaniment.flac", 0.5 * tone_mix(1.0, 44100, seed=3), 44100)
    write_audio(root / "t2" / "vocals.wav", tone_mix(1.5, 22050, 1), 22050)
    write_audio(root / "t2" / "accompaniment.wav", tone_mix(1.5, 22050, 1, seed=4), 22050)
    write_audio(root / "t3" / "vocals.flac", tone_mix(1.2, 32000), 32000)
    write_audio(root / "t3" / "drums.wav", 0.3 * tone_mix(1.2, 32000, seed=5), 32000)
    write_audio(root / "t3" / "bass.wav", 0.3 * tone_mix(1.2, 32000, seed=6), 32000)
    return root
