"""Four-source training folders from per-instrument multitracks (``vocalsplit group-stems``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from vocalsplit.cli import app
from vocalsplit.training.multitrack import GROUPS, named_group, read_stem, song_stems, stem_name

RATE = 44100


@pytest.mark.parametrize(
    ("name", "group"),
    [
        ("VOX LEAD", "vocals"),
        ("BGVOX AAHH", "vocals"),
        ("KICK", "drums"),
        ("K & SN", "drums"),
        ("CRUSH BREAK", "drums"),
        ("HAT FILL", "drums"),
        ("BUILD PRC", "drums"),
        ("PAD + BASS", "bass"),
        ("SY BASS", "bass"),
        ("MELODY BREAK", None),  # a melodic part, not a drum break: its spectrum decides
        ("FILL PIANO", None),
        ("MINILOGUE SYNTH", None),
        ("SWEEPS", None),
    ],
)
def test_stem_names_settle_their_group_or_leave_it_to_the_spectrum(name: str, group: str | None) -> None:
    assert named_group(name) == group


def test_stem_names_drop_the_song_prefix_and_the_low_quality_suffix() -> None:
    assert stem_name(Path("3.Sodium_Stem_SY BASS.m4a")) == "SY BASS"
    assert stem_name(Path("2.Lithium_Stem_MINILOGUE_SYNTH_mobile.m4a")) == "MINILOGUE SYNTH"
    assert stem_name(Path("kick.wav")) == "KICK"


def _tone(freq: float, seconds: float, rate: int = RATE, level: float = 0.1) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    left = level * np.sin(2 * np.pi * freq * t)
    return np.stack([left, 0.5 * left], axis=1).astype(np.float32)


def _song(folder: Path, level: float = 0.1) -> dict[str, np.ndarray]:
    """A multitrack whose stems are tones: what each should become is known."""
    folder.mkdir(parents=True)
    stems = {
        "VOX LEAD": _tone(440, 2.0, level=level),
        "KICK": _tone(60, 2.0, level=level),
        "SUB SYNTH": _tone(50, 2.0, level=level),  # no bass in the name, all its power below 200 Hz
        "PLUCK": _tone(1000, 2.0, level=level),
    }
    for name, audio in stems.items():
        sf.write(str(folder / f"{folder.name}_Stem_{name}.wav"), audio, RATE, subtype="FLOAT")
    # a stem that exists only as its lower-quality copy, at another rate
    sf.write(str(folder / f"{folder.name}_Stem_PAD_mobile.wav"), _tone(700, 2.0, 24000, level), 24000, "FLOAT")
    return stems


def test_group_stems_writes_four_sources_that_sum_to_the_multitrack(tmp_path: Path) -> None:
    stems = _song(tmp_path / "src" / "1.Song")
    result = CliRunner().invoke(app, ["group-stems", str(tmp_path / "src" / "1.Song"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    written = {g: sf.read(str(tmp_path / "out" / "1.Song" / f"{g}.flac"), dtype="float32")[0] for g in GROUPS}
    n = stems["KICK"].shape[0]
    assert np.allclose(written["vocals"], stems["VOX LEAD"], atol=1e-5)
    assert np.allclose(written["drums"], stems["KICK"], atol=1e-5)
    assert np.allclose(written["bass"], stems["SUB SYNTH"], atol=1e-5)
    pad = read_stem(tmp_path / "src" / "1.Song" / "1.Song_Stem_PAD_mobile.wav", RATE)
    assert np.allclose(written["other"][:n], stems["PLUCK"] + pad.T[:n], atol=1e-5)
    report = json.loads((tmp_path / "out" / "groups.json").read_text())[0]
    assert report["groups"] == {
        "vocals": ["VOX LEAD"],
        "drums": ["KICK"],
        "bass": ["SUB SYNTH"],
        "other": ["PAD", "PLUCK"],
    }
    assert report["low_copies"] == ["PAD"]
    assert report["scale"] == 1.0
    assert "lower-quality copies of 1" in result.output


def test_a_multitrack_that_would_clip_is_scaled_as_a_whole_and_says_so(tmp_path: Path) -> None:
    stems = _song(tmp_path / "src" / "loud", level=0.4)  # five stems at 0.4 peak: the sum passes 1
    result = CliRunner().invoke(app, ["group-stems", str(tmp_path / "src" / "loud"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    scale = json.loads((tmp_path / "out" / "groups.json").read_text())[0]["scale"]
    assert 0.3 < scale < 1.0
    assert f"scaled by {scale}" in result.output
    vocals = sf.read(str(tmp_path / "out" / "loud" / "vocals.flac"), dtype="float32")[0]
    assert np.allclose(vocals, stems["VOX LEAD"] * scale, atol=1e-5)
    mixture = sum(sf.read(str(tmp_path / "out" / "loud" / f"{g}.flac"), dtype="float32")[0] for g in GROUPS)
    assert np.abs(mixture).max() < 1.0


def test_group_stems_refuses_to_overwrite_and_leaves_nothing_half_written(tmp_path: Path) -> None:
    _song(tmp_path / "src" / "a")
    bad = tmp_path / "src" / "b"
    bad.mkdir()
    (bad / "b_Stem_KICK.wav").write_bytes(b"not audio at all")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["group-stems", str(tmp_path / "src" / "a"), str(bad), "-o", str(out)])
    assert result.exit_code != 0
    assert "b_Stem_KICK.wav" in result.output
    assert sorted(p.name for p in out.iterdir()) == []  # song a was done, but not landed alone

    ok = CliRunner().invoke(app, ["group-stems", str(tmp_path / "src" / "a"), "-o", str(out)])
    assert ok.exit_code == 0, ok.output
    again = CliRunner().invoke(app, ["group-stems", str(tmp_path / "src" / "a"), "-o", str(out)])
    assert again.exit_code == 2
    assert "exists" in again.output
    missing = CliRunner().invoke(app, ["group-stems", str(tmp_path / "nowhere"), "-o", str(tmp_path / "o2")])
    assert missing.exit_code == 2
    assert "not a folder" in missing.output


def test_aac_stems_are_decoded_with_pyav(tmp_path: Path) -> None:
    av = pytest.importorskip("av")
    path = tmp_path / "song_Stem_VOX LEAD.m4a"
    tone = _tone(440, 1.0, 48000)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=48000, layout="stereo")
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(tone.T), format="fltp", layout="stereo")
        frame.sample_rate = 48000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    assert [s.name for s in song_stems(tmp_path)] == ["VOX LEAD"]
    audio = read_stem(path, RATE)
    assert audio.shape[0] == 2
    assert abs(audio.shape[1] - RATE) < 2048  # one second, give or take the codec's frame
    middle = audio[:, RATE // 4 : 3 * RATE // 4]
    expected = _tone(440, 1.0, RATE).T[:, RATE // 4 : 3 * RATE // 4]
    assert np.sqrt(np.mean(middle**2)) == pytest.approx(np.sqrt(np.mean(expected**2)), rel=0.1)
