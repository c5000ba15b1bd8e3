"""End to end through the CLI on the real clips in ../shared/data/testclips (skipped when absent)."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.helpers import SHARED, digest

CLIPS = SHARED / "testclips"
pytestmark = pytest.mark.skipif(not CLIPS.is_dir(), reason="../shared/data/testclips absent")


def test_real_44k_stereo_clip(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mix = CLIPS / "eif-lithium-12s" / "mixture.flac"
    before = digest(mix)
    code, stdout, stderr = cli(mix, "-o", tmp_path / "out", "--format", "flac", "--report", tmp_path / "r.json")
    assert code == 0, stderr
    info_in = sf.info(str(mix))
    for stem in ("vocals", "accompaniment"):
        info = sf.info(str(tmp_path / "out" / "mixture" / f"{stem}.flac"))
        assert (info.samplerate, info.channels, info.frames, info.subtype) == (
            info_in.samplerate,
            info_in.channels,
            info_in.frames,
            info_in.subtype,
        )
    x, _ = sf.read(str(mix))
    v, _ = sf.read(str(tmp_path / "out/mixture/vocals.flac"))
    a, _ = sf.read(str(tmp_path / "out/mixture/accompaniment.flac"))
    assert np.max(np.abs(v + a - x)) < 3 / 32768  # 16-bit rounding of each stem
    assert digest(mix) == before


def test_mir1k_clips_folder(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, stdout, stderr = cli(CLIPS / "mir1k", "-o", tmp_path / "out", "--stems", "vocals", "-q")
    assert code == 0, stderr
    outputs = sorted(p.parent.name for p in (tmp_path / "out").rglob("vocals.wav"))
    assert len(outputs) == 8 and "Ani_1_01" in outputs
    info = sf.info(str(tmp_path / "out/Ani_1_01/vocals.wav"))
    assert (info.samplerate, info.channels) == (16000, 2)
