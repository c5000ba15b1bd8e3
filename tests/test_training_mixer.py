"""On-the-fly mixing: voices over music at the asked ratios, silence, band masks, reproducibility."""

from pathlib import Path

import numpy as np
import pytest

from tests.helpers import make_stems, tone_mix, write_audio

pytest.importorskip("torch")

from vocalsplit.audio.stft import StftParams  # noqa: E402
from vocalsplit.errors import DatasetError, UsageError  # noqa: E402
from vocalsplit.training.config import DataSpec, Mixing, TrainConfig  # noqa: E402
from vocalsplit.training.datasets import Clip, load_solo_clip  # noqa: E402
from vocalsplit.training.mixer import build_pools, mix_batch, mix_example  # noqa: E402

RATE = 22050
PARAMS = StftParams(256, 64)


def _pools(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A paired stereo song, a 16-kHz solo voice (band 8 kHz) and a music-only file."""
    song = Clip("song", {"vocals": tone_mix(2.0, RATE), "accompaniment": tone_mix(2.0, RATE, seed=3)}, RATE)
    voice = load_solo_clip(write_audio(tmp_path / "v.wav", tone_mix(2.0, 16000, 1, 5), 16000), RATE, "vocals")
    music = load_solo_clip(write_audio(tmp_path / "m.flac", tone_mix(2.0, 44100, 2, 7), 44100), RATE, "accompaniment")
    assert (voice.voice_band_hz, music.voice_band_hz) == (8000.0, None)
    return build_pools([song, voice, music], 4096)


def test_pools_hold_every_channel_by_role(tmp_path: Path) -> None:
    pools = _pools(tmp_path)
    assert (len(pools.voices), len(pools.music), len(pools.pairs)) == (3, 4, 2)
    with pytest.raises(DatasetError, match="mixing needs voices and music"):
        build_pools([Clip("v", {"vocals": tone_mix(1.0, RATE)}, RATE)], 4096)


def test_tracks_are_drawn_in_proportion_to_their_length() -> None:
    """One long song beside many short clips: each second is as likely as any other, so the
    song's excerpts are drawn as often as its share of the audio, not as one file of many."""
    long_song = Clip("song", {"vocals": np.full((1, 90 * 1000), 1.0, np.float32), "accompaniment":
                              np.full((1, 90 * 1000), 1.0, np.float32)}, 1000)  # fmt: skip
    clips = [Clip(f"c{i}", {"vocals": np.full((1, 1000), 2.0, np.float32), "accompaniment":
                            np.full((1, 1000), 2.0, np.float32)}, 1000) for i in range(90)]  # fmt: skip
    pools = build_pools([long_song, *clips], 500)
    rng = np.random.default_rng(0)
    for pairs in (1.0, 0.0):
        mixing = Mixing(ratio_db=(0.0, 0.0), pairs=pairs, silence=0.0, gain_db=0.0)
        from_song = [mix_example(pools, rng, 500, mixing)[1][0] == 1.0 for _ in range(2000)]
        assert np.mean(from_song) == pytest.approx(0.5, abs=0.05)  # 90 s of 180 s; one file of 91 would be 1 %


def test_remixed_voice_sits_at_the_asked_ratio_and_silence_is_silent(tmp_path: Path) -> None:
    pools = _pools(tmp_path)
    rng = np.random.default_rng(0)
    fixed = Mixing(ratio_db=(-6.0, -6.0), pairs=0.0, silence=0.0, gain_db=0.0)
    for _ in range(5):
        voice, music, _ = mix_example(pools, rng, 8192, fixed)
        ratio = 20 * np.log10(np.sqrt(np.mean(voice**2)) / np.sqrt(np.mean(music**2)))
        assert ratio == pytest.approx(-6.0, abs=1e-3)
    voice, music, band = mix_example(pools, rng, 8192, Mixing(pairs=0.0, silence=1.0))
    assert not voice.any() and music.any() and band is None


def test_batches_sum_to_the_mixture_mask_the_16_khz_voice_band_and_repeat_with_the_seed(tmp_path: Path) -> None:
    pools = _pools(tmp_path)
    mixing = Mixing(pairs=0.3, silence=0.2)
    a = mix_batch(pools, np.random.default_rng(1), 16, 8, 2, 2, PARAMS, RATE, mixing)
    b = mix_batch(pools, np.random.default_rng(1), 16, 8, 2, 2, PARAMS, RATE, mixing)
    assert a.mixture.shape == (16, 12, 129) and a.targets.shape == (16, 2, 8, 129)
    assert np.array_equal(a.mixture, b.mixture) and np.array_equal(a.weights, b.weights)
    assert np.allclose(np.abs(a.sources_c.sum(axis=1)), a.mixture, atol=1e-5)
    assert a.weights is not None and a.weights.shape == (16, 1, 129)
    freqs = np.arange(129) * RATE / 256
    masked = [w for w in a.weights[:, 0] if not w.all()]
    assert masked, "the 16-kHz voice was never drawn: the band mask is untested"
    for w in masked:
        assert np.array_equal(w, (freqs <= 8000).astype(np.float32))


def test_solo_datasets_need_mixing(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--dataset vocals holds one source only: add --mix"):
        TrainConfig(data=[DataSpec("vocals", tmp_path)], out=tmp_path / "m", run_dir=tmp_path / "r")


def test_train_cli_mixes_stems_voices_and_music(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    stems = make_stems(tmp_path / "stems")
    write_audio(tmp_path / "voices" / "a" / "solo.wav", tone_mix(1.5, 16000, 1, 11), 16000)
    write_audio(tmp_path / "music" / "game.ogg", tone_mix(1.5, 44100, 2, 12), 44100)
    (tmp_path / "music" / "LICENSE").write_text("CC BY-SA 3.0\n")
    code, _, stderr = cli(
        "train", "--dataset", "stems", "--data-dir", stems, "--dataset", "vocals", "--data-dir", tmp_path / "voices",
        "--dataset", "music", "--data-dir", tmp_path / "music", "--data-licence", "CC0", "--data-licence", "research",
        "--data-licence", "CC BY-SA 3.0", "--mix", "--mix-ratio-db=-12,0", "--arch", "lstm", "--window", "8",
        "--hidden", "8", "--bottleneck", "8", "--sample-rate", "22050", "--n-fft", "256", "--hop", "64",
        "--batch", "4", "--steps", "3", "--val-every", "3", "--out", tmp_path / "models" / "mixed",
        "--run-dir", tmp_path / "run", "--device", "cpu",
    )  # fmt: skip
    assert code == 0, stderr
    import json

    raw = json.loads((tmp_path / "models" / "mixed.json").read_text())
    data = raw["training"]["data"]
    assert [d["dataset"] for d in data] == ["stems", "vocals", "music"]
    assert [d["licence"] for d in data] == ["CC0", "research", "CC BY-SA 3.0"]
    assert data[1]["files"] == 1 and data[2]["minutes"] == pytest.approx(0.0, abs=0.05)
    code, _, stderr = cli("train", "--dataset", "stems", "--data-dir", stems, "--mix", "--mix-ratio-db", "3")
    assert code == 2 and "--mix-ratio-db '3': expected LOW,HIGH" in stderr
