from pathlib import Path

import numpy as np
import pytest

from tests.helpers import SHARED, make_stems, tone_mix, write_audio

pytest.importorskip("torch")

from vocalsplit.audio.stft import StftParams, stft  # noqa: E402
from vocalsplit.errors import DatasetError, UsageError  # noqa: E402
from vocalsplit.training.batches import TrainingBatch, sample_batch
from vocalsplit.training.config import Augment  # noqa: E402
from vocalsplit.training.datasets import (  # noqa: E402
    SpectralSet,
    load_mir1k_clip,
    load_stems_track,
    mir1k_singer,
    mir1k_split,
    spectral_set,
    stems_tracks,
    validation_split,
)

MIR1K_CLIPS = SHARED / "testclips" / "mir1k"


@pytest.mark.skipif(not MIR1K_CLIPS.is_dir(), reason="../shared/data/testclips absent")
def test_mir1k_split_on_real_clips() -> None:
    split = mir1k_split(MIR1K_CLIPS)
    train_singers = {mir1k_singer(p) for p in split["train"]}
    test_singers = {mir1k_singer(p) for p in split["test"]}
    assert train_singers == {"abjones", "amy"}
    assert test_singers == {"ani", "bobon", "heycat", "yifen"}
    assert len(split["train"]) + len(split["test"]) == 8
    clip = load_mir1k_clip(split["test"][0], 16000)
    assert clip.voice.shape[0] == 1 and clip.rate == 16000
    # MIR-1K's channels are at equal energy (0 dB mixture)
    ratio = 10 * np.log10(np.sum(clip.voice**2) / np.sum(clip.accompaniment**2))
    assert abs(ratio) < 3.0


def test_mir1k_split_sizes_on_synthetic_layout(tmp_path: Path) -> None:
    wav = tmp_path / "MIR-1K" / "Wavfile"
    names = (
        [f"abjones_1_{i:02d}" for i in range(3)]
        + [f"amy_2_{i:02d}" for i in range(4)]
        + [f"Ani_1_{i:02d}" for i in range(5)]
        + ["bobon_3_01"]
    )
    for n in names:
        write_audio(wav / f"{n}.wav", tone_mix(0.2, 16000), 16000, "PCM_16")
    split = mir1k_split(tmp_path / "MIR-1K")
    assert (len(split["train"]), len(split["test"])) == (7, 6)
    train, val = validation_split(split["train"], 0.3, seed=0)
    assert len(val) == 2 and not set(train) & set(val) and set(train) | set(val) == set(split["train"])
    assert not set(val) & set(split["test"])


def test_name_split_holds_out_the_same_clips_in_any_pool_and_with_any_seed() -> None:
    small = [Path(f"abjones_{i}_{j:02d}.wav") for i in range(1, 6) for j in range(1, 13)]  # 60 clips
    big = small + [Path(f"Ani_{i}_{j:02d}.wav") for i in range(1, 6) for j in range(1, 13)]
    train_s, val_s = validation_split(small, 0.1, seed=0, how="name")
    train_b, val_b = validation_split(big, 0.1, seed=7, how="name")
    assert set(val_b) & set(small) == set(val_s)  # no clip validated in the bigger run was trained on before
    assert not set(train_s) & set(val_b)
    assert set(train_b) | set(val_b) == set(big) and not set(train_b) & set(val_b)
    assert 0.03 < len(val_b) / len(big) < 0.2
    assert validation_split(small, 0.1, seed=1, how="name") == (train_s, val_s)
    # seeded draws differ by seed: the trap the name split avoids
    assert validation_split(small, 0.1, seed=0)[1] != validation_split(small, 0.1, seed=1)[1]


def test_name_split_of_tiny_pools_keeps_one_clip_on_each_side() -> None:
    pair = [Path("a.wav"), Path("b.wav")]
    for fraction in (0.0, 1.0):
        train, val = validation_split(pair, fraction, seed=0, how="name")
        assert len(train) == len(val) == 1
    with pytest.raises(UsageError, match="--split 'random'; allowed: name, seeded"):
        validation_split(pair, 0.1, seed=0, how="random")


def test_bad_data_dirs(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no MIR-1K clips found"):
        mir1k_split(tmp_path)
    with pytest.raises(DatasetError, match="no track folder with a vocals"):
        stems_tracks(tmp_path)
    write_audio(tmp_path / "t" / "vocals.wav", tone_mix(0.2, 16000), 16000)
    with pytest.raises(DatasetError, match="no accompaniment"):
        load_stems_track(tmp_path / "t", 16000)


def test_stems_layout_with_odd_rates_mono_and_summed_stems(tmp_path: Path) -> None:
    root = make_stems(tmp_path / "stems")
    tracks = stems_tracks(root)
    assert [t.name for t in tracks] == ["t1", "t2", "t3"]
    clips = [load_stems_track(t, 16000) for t in tracks]
    assert [c.voice.shape[0] for c in clips] == [2, 1, 2]
    assert clips[1].voice.shape[1] == pytest.approx(1.5 * 16000, abs=2)
    assert np.std(clips[2].accompaniment) > 0.1  # drums + bass summed


def test_stems_tracks_found_through_symlinked_folders(tmp_path: Path) -> None:
    root = make_stems(tmp_path / "stems")
    linked = tmp_path / "heldout"
    linked.mkdir()
    (linked / "t2").symlink_to(root / "t2", target_is_directory=True)
    assert [t.name for t in stems_tracks(linked)] == ["t2"]


def test_augmented_batches_keep_voice_plus_music_equal_to_mixture(tmp_path: Path) -> None:
    params = StftParams(1024, 512)
    clips = [load_stems_track(t, 16000) for t in stems_tracks(make_stems(tmp_path / "s"))]
    data = spectral_set(clips, params)
    assert data.frames == sum(stft(c.voice, params).shape[2] * c.voice.shape[0] for c in clips)
    assert data.names == ("vocals", "accompaniment")
    b = sample_batch(data, np.random.default_rng(0), 8, 16, 1, 1, Augment(remix=0.5, shift_frames=8, gain_db=6))
    assert b.mixture.shape == (8, 18, 513) and b.targets.shape == (8, 2, 16, 513)
    assert np.allclose(np.abs(b.sources_c.sum(axis=1)), b.mixture, atol=1e-5)
    assert np.allclose(np.abs(b.sources_c[:, 0, 1:-1]), b.voice, atol=1e-6)


def _own_music_share(data: SpectralSet, batch: TrainingBatch) -> float:
    """Fraction of examples whose music is the music recorded with their voice (same frames)."""
    span = batch.sources_c.shape[2]
    idx = np.arange(span)
    own = 0
    for example in batch.sources_c:
        # where the voice was taken from: the start whose voice frames match exactly (no gain)
        errors = [np.abs(data.sources[0][(v + idx) % data.frames] - example[0]).max() for v in range(data.frames)]
        v = int(np.argmin(errors))
        assert errors[v] < 1e-6
        own += bool(np.allclose(data.sources[1][(v + idx) % data.frames], example[1], atol=1e-6))
    return own / len(batch.sources_c)


def test_remixing_pairs_voices_with_music_from_elsewhere(tmp_path: Path) -> None:
    clips = [load_stems_track(t, 16000) for t in stems_tracks(make_stems(tmp_path / "s"))]
    data = spectral_set(clips, StftParams(1024, 512))
    plain = Augment(remix=0.0, shift_frames=0, gain_db=0.0)
    remixed = Augment(remix=1.0, shift_frames=0, gain_db=0.0)
    assert _own_music_share(data, sample_batch(data, np.random.default_rng(0), 8, 16, 1, 1, plain)) == 1.0
    batch = sample_batch(data, np.random.default_rng(0), 8, 16, 1, 1, remixed)
    assert _own_music_share(data, batch) == 0.0
    assert np.allclose(np.abs(batch.sources_c.sum(axis=1)), batch.mixture, atol=1e-5)


def test_four_source_tracks(tmp_path: Path) -> None:
    for t in ("a", "b"):
        for i, name in enumerate(("vocals", "drums", "bass", "other")):
            write_audio(tmp_path / t / f"{name}.wav", tone_mix(0.5, 16000, seed=i), 16000)
    clip = load_stems_track(tmp_path / "a", 16000, sources=("vocals", "drums", "bass", "other"))
    assert list(clip.sources) == ["vocals", "drums", "bass", "other"]
    assert np.allclose(clip.mixture, sum(clip.sources.values()))
    with pytest.raises(DatasetError, match="no piano"):
        load_stems_track(tmp_path / "a", 16000, sources=("vocals", "piano"))


def test_repitched_voice_moves_pitch_and_keeps_the_music() -> None:
    from vocalsplit.errors import UsageError
    from vocalsplit.training.datasets import Clip
    from vocalsplit.training.repitch import repitch_voice

    rate = 16000
    t = np.arange(2 * rate) / rate
    voice = (0.5 * np.sin(2 * np.pi * 440 * t))[None].astype(np.float32)
    music = np.random.default_rng(0).standard_normal((1, t.size)).astype(np.float32) * 0.1
    clip = Clip("c", {"vocals": voice, "accompaniment": music}, rate)

    up = repitch_voice(clip, 12.0)
    assert up.name == "c@+12st" and up.voice.shape == up.accompaniment.shape == (1, rate)
    np.testing.assert_array_equal(up.accompaniment, music[:, :rate])
    spectrum = np.abs(np.fft.rfft(up.voice[0, 2000:-2000]))
    peak_hz = np.argmax(spectrum) * rate / (up.voice.shape[1] - 4000)
    assert abs(peak_hz - 880) < 5
    assert abs(np.std(up.voice) - np.std(voice)) < 0.02  # same loudness

    down = repitch_voice(clip, -2.0)  # longer voice: cut to the music's length
    assert down.voice.shape == (1, 2 * rate)
    spectrum = np.abs(np.fft.rfft(down.voice[0, 2000:-2000]))
    assert abs(np.argmax(spectrum) * rate / (2 * rate - 4000) - 440 * 2 ** (-2 / 12)) < 5

    for bad in (0.0, 13.0):
        with pytest.raises(UsageError, match="--repitch"):
            repitch_voice(clip, bad)


def test_data_repeat_weights_a_dataset_in_the_training_pool_never_its_validation(tmp_path: Path) -> None:
    from vocalsplit.training.config import DataSpec, TrainConfig
    from vocalsplit.training.data import load_clips

    data = make_stems(tmp_path / "stems")

    def clips(repeat: int) -> tuple[list, list, dict]:  # type: ignore[type-arg]
        spec = DataSpec("stems", data, repeat=repeat)
        return load_clips(TrainConfig([spec], tmp_path / "m", tmp_path / "r", validation_tracks=("t2",)))

    once, val_once, info_once = clips(1)
    thrice, val_thrice, info_thrice = clips(3)
    assert len(once) == 2 and len(thrice) == 6 and len(val_once) == len(val_thrice) == 1
    assert [c.voice.shape for c in thrice] == [c.voice.shape for c in once] * 3
    assert "repeat" not in info_once["data"][0] and info_thrice["data"][0]["repeat"] == 3
    with pytest.raises(UsageError, match="--data-repeat 0"):
        clips(0)
