"""benchmarks/make_heldout_mixes.py: the held-out evaluation set is rebuilt the same way every time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from tests.helpers import tone_mix, write_audio

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "make_heldout_mixes.py"


def _make(voices: Path, music: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    args = ["--voices", voices, "--music", music, "--out", out, "--seconds", "12", "--start", "1", *extra]
    return subprocess.run([sys.executable, SCRIPT, *map(str, args)], capture_output=True, text=True)


def _sources(tmp_path: Path) -> tuple[Path, Path]:
    for i in range(3):  # mono voices at another rate, resampled to 44.1 kHz
        write_audio(tmp_path / "voices" / f"v{i}.flac", tone_mix(3.0, 22050, 1, seed=i), 22050)
    write_audio(tmp_path / "music" / "a.ogg", tone_mix(20.0, 44100, 2, seed=7), 44100)
    write_audio(tmp_path / "music" / "short.wav", tone_mix(5.0, 44100, 2, seed=8), 44100)
    return tmp_path / "voices", tmp_path / "music"


def test_tracks_are_seeded_sung_with_gaps_and_at_the_drawn_ratio(tmp_path: Path) -> None:
    voices, music = _sources(tmp_path)
    done = _make(voices, music, tmp_path / "one", "--var-db", "-6", "-6")
    assert done.returncode == 0, done.stderr
    assert "skipped short" in done.stdout and not (tmp_path / "one" / "short").exists()
    vocals, rate = sf.read(str(tmp_path / "one" / "a" / "vocals.flac"), always_2d=True)
    acc, _ = sf.read(str(tmp_path / "one" / "a" / "accompaniment.flac"), always_2d=True)
    assert rate == 44100 and vocals.shape == acc.shape == (12 * 44100, 2)
    sung = np.any(np.abs(vocals) > 0, axis=1)
    assert not sung[: 5 * 44100 - 1].any()  # the voice starts 5 s in ...
    assert not sung[8 * 44100 + 100 : 12 * 44100 - 100].any()  # ... and 4 s of silence follow each 3-s voice
    var = 10 * np.log10(np.mean(vocals[sung] ** 2) / np.mean(acc**2))
    assert abs(var - -6.0) < 0.05
    again = _make(voices, music, tmp_path / "two", "--var-db", "-6", "-6")
    assert again.returncode == 0
    for name in ("vocals.flac", "accompaniment.flac"):
        same = sf.read(str(tmp_path / "two" / "a" / name))[0]
        assert np.array_equal(same, sf.read(str(tmp_path / "one" / "a" / name))[0])


def test_an_existing_set_is_never_overwritten(tmp_path: Path) -> None:
    voices, music = _sources(tmp_path)
    out = tmp_path / "set"
    (out / "a").mkdir(parents=True)
    (out / "a" / "vocals.flac").write_bytes(b"keep")
    done = _make(voices, music, out)
    assert done.returncode != 0 and "is not empty" in done.stderr
    assert (out / "a" / "vocals.flac").read_bytes() == b"keep"
