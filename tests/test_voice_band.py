"""A solo voice's real band is measured from its spectrum; a real song's vocal stem is kept whole."""

from pathlib import Path

import numpy as np
import pytest

from tests.helpers import write_audio
from vocalsplit.training.datasets import load_solo_clip, load_stems_track
from vocalsplit.training.voice_band import measured_edge_hz, voice_band_hz

RATE = 44100


def _voice_like(seconds: float, cutoff_hz: float | None, seed: int = 0) -> np.ndarray:
    """Noise falling 12 dB per octave above 500 Hz (a smooth, voice-like tilt), cut at ``cutoff_hz``."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    spec = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / RATE)
    spec *= 1 / (1 + (freqs / 500) ** 2)
    if cutoff_hz is not None:
        spec[freqs > cutoff_hz] = 0
    audio = np.fft.irfft(spec, n)
    return (0.3 * audio / np.abs(audio).max())[None, :].astype(np.float32)


@pytest.mark.parametrize("cutoff", [6000.0, 12000.0, 16000.0])
def test_a_low_passed_solo_voice_gets_its_edge_as_its_band(tmp_path: Path, cutoff: float) -> None:
    path = write_audio(tmp_path / "phone.flac", _voice_like(4.0, cutoff), RATE)
    band = load_solo_clip(path, RATE, "vocals").voice_band_hz
    assert band is not None and abs(band - cutoff) <= 250


def test_a_smoothly_decaying_voice_keeps_its_whole_band(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "studio.flac", _voice_like(4.0, None), RATE)
    assert measured_edge_hz(_voice_like(4.0, None), RATE) is None
    assert load_solo_clip(path, RATE, "vocals").voice_band_hz is None


def test_the_file_rates_own_edge_is_not_taken_for_a_narrower_band() -> None:
    """A 16-kHz file read at 44.1 kHz ends at 8 kHz by resampling: its band is exactly 8 kHz."""
    resampled_like = _voice_like(4.0, 7900.0)
    assert voice_band_hz(resampled_like, RATE, 8000.0) == 8000.0
    assert voice_band_hz(_voice_like(4.0, 21500.0), RATE, None) is None


def test_music_and_song_stems_are_not_narrowed(tmp_path: Path) -> None:
    """Music is never a voice; a song's low-passed vocal stem is its production, kept whole."""
    low = _voice_like(4.0, 9000.0)
    music = write_audio(tmp_path / "music.flac", low, RATE)
    assert load_solo_clip(music, RATE, "accompaniment").voice_band_hz is None
    write_audio(tmp_path / "song" / "vocals.flac", low, RATE)
    write_audio(tmp_path / "song" / "accompaniment.flac", _voice_like(4.0, None, seed=1), RATE)
    assert load_stems_track(tmp_path / "song", RATE).voice_band_hz is None


def test_too_short_or_silent_audio_has_no_edge() -> None:
    assert measured_edge_hz(np.zeros((1, 100), np.float32), RATE) is None
    assert measured_edge_hz(np.zeros((2, RATE), np.float32), RATE) is None
