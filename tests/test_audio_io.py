from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.helpers import tone_mix, write_audio
from vocalsplit.audio.formats import choose_subtype
from vocalsplit.audio.reader import probe, read_blocks
from vocalsplit.audio.resample import StreamResampler
from vocalsplit.audio.writer import StemWriter
from vocalsplit.errors import InputAudioError, OutputError, UsageError


def test_probe_and_blocks_return_all_samples(tmp_path: Path) -> None:
    x = tone_mix(1.3, 22050, channels=3)
    path = write_audio(tmp_path / "a.flac", x, 22050, "PCM_24")
    info = probe(path)
    assert (info.sample_rate, info.channels, info.frames, info.subtype) == (22050, 3, x.shape[1], "PCM_24")
    blocks = list(read_blocks(info, 10000))
    assert all(b.shape[0] == 3 for b in blocks)
    assert np.allclose(np.concatenate(blocks, axis=1), x, atol=1e-6)


def test_probe_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(InputAudioError, match="no such file"):
        probe(tmp_path / "nope.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(InputAudioError, match="empty file"):
        probe(tmp_path / "empty.wav")
    (tmp_path / "text.mp3").write_text("this is not audio\n" * 20)
    with pytest.raises(InputAudioError, match="cannot decode"):
        probe(tmp_path / "text.mp3")


def test_stream_resampler_matches_whole_and_keeps_length() -> None:
    import soxr

    x = np.random.default_rng(0).standard_normal((2, 44100)).astype(np.float32)
    r = StreamResampler(44100, 16000, 2)
    y = np.concatenate([r.push(x[:, i : i + 7001]) for i in range(0, 44100, 7001)] + [r.flush()], axis=1)
    whole = soxr.resample(x.T, 44100, 16000, quality="HQ").T
    assert y.shape == whole.shape == (2, 16000)
    assert np.max(np.abs(y - whole)) < 1e-6
    same = StreamResampler(16000, 16000, 2)
    assert same.push(x) is x


def test_writer_publishes_only_on_commit(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "v.wav"
    with StemWriter(target, 8000, 1, "wav", "PCM_16") as w:
        w.write(np.full((1, 100), 2.0, np.float32))  # clipped, not wrapped
        assert not target.exists()
        w.commit()
    data, rate = sf.read(str(target))
    assert rate == 8000 and data.shape == (100,) and np.all(data > 0.99)
    assert not list(tmp_path.rglob("*.partial*"))

    failed = tmp_path / "f.wav"
    with pytest.raises(RuntimeError), StemWriter(failed, 8000, 1, "wav", "PCM_16") as w:
        w.write(np.zeros((1, 10), np.float32))
        raise RuntimeError("interrupted")
    assert not failed.exists() and not list(tmp_path.glob(".f.partial*"))


def test_writer_reports_unwritable_target(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot write"):
        StemWriter(blocker / "v.wav", 8000, 1, "wav", "PCM_16")


@pytest.mark.parametrize(
    "fmt,inp,depth,want",
    [
        ("wav", "PCM_24", "auto", "PCM_24"),
        ("wav", "FLOAT", "auto", "FLOAT"),
        ("flac", "FLOAT", "auto", "PCM_24"),
        ("wav", "MPEG_LAYER_III", "auto", "PCM_16"),
        ("wav", None, "32", "PCM_32"),
        ("flac", "PCM_16", "24", "PCM_24"),
        ("mp3", "PCM_24", "auto", "MPEG_LAYER_III"),
    ],
)
def test_subtype_choice(fmt: str, inp: str | None, depth: str, want: str) -> None:
    assert choose_subtype(fmt, inp, depth) == want


def test_impossible_bit_depth_is_usage_error() -> None:
    with pytest.raises(UsageError, match="not possible in flac"):
        choose_subtype("flac", "PCM_16", "float")


def test_wav_stems_that_can_pass_4_gib_are_written_as_rf64(tmp_path: Path) -> None:
    import soundfile as sf

    from vocalsplit.audio.formats import container_for
    from vocalsplit.audio.writer import StemWriter

    # 48 min of 96 kHz stereo float64 (the case that broke): 4.42 GB of data
    assert container_for("wav", "DOUBLE", 48 * 60 * 96000, 2) == "RF64"
    assert container_for("wav", "PCM_16", 180 * 60 * 44100, 2) == "WAV"  # 3 h of CD audio: 1.9 GB
    assert container_for("flac", "PCM_24", 10**10, 2) == "FLAC"
    block = tone_mix(0.5, 8000)
    with StemWriter(tmp_path / "big.wav", 8000, 2, "wav", "FLOAT", frames=10**9) as w:
        w.write(block)
        w.commit()
    info = sf.info(str(tmp_path / "big.wav"))
    assert info.format == "RF64" and info.frames == block.shape[1]
    back, _ = sf.read(str(tmp_path / "big.wav"), dtype="float32")
    assert np.array_equal(back.T, block)


@pytest.mark.parametrize("rate,channels,duration", [(44100, 2, 0.0), (44100, 0, 3.0), (0, 2, 3.0)])
def test_a_decoder_that_finds_nothing_means_not_an_audio_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rate: int, channels: int, duration: float
) -> None:
    """With ffmpeg installed, audioread "opens" random bytes as 0 s, or 0 channels: that is not audio."""
    import audioread

    class Found:  # what audioread's ffmpeg backend reported for fuzzed files
        samplerate, channels, duration = rate, 0, 0.0

        def __enter__(self):  # type: ignore[no-untyped-def]
            return self

        def __exit__(self, *exc: object) -> None:
            return None

    Found.channels, Found.duration = channels, duration
    monkeypatch.setattr(audioread, "audio_open", lambda path: Found())
    junk = tmp_path / "junk.flac"
    junk.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(InputAudioError, match="not an audio file"):
        probe(junk)


def test_files_opened_on_several_threads_leave_descriptor_2_as_it_was(tmp_path: Path) -> None:
    """Opening a file silences descriptor 2 for a moment (native decoders' notes); threads doing so
    at once once left it pointing at the null device for good, and every later error line was lost."""
    import os
    import threading

    songs = [write_audio(tmp_path / f"s{i}.wav", tone_mix(0.2, 16000, seed=i), 16000) for i in range(4)]
    before = os.fstat(2)
    start = threading.Barrier(len(songs))

    def open_many(song: Path) -> None:
        start.wait()
        for _ in range(100):
            next(read_blocks(probe(song), 1024))

    threads = [threading.Thread(target=open_many, args=(s,)) for s in songs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = os.fstat(2)
    assert (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino)
