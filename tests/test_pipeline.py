from pathlib import Path

import numpy as np
import pytest

from tests.helpers import tone_mix
from tests.model_factory import conv_model
from vocalsplit.catalog.manifest import load_manifest
from vocalsplit.choices import ChannelMasks, HighBand
from vocalsplit.errors import InputAudioError, UsageError
from vocalsplit.runtime.providers import parse_device
from vocalsplit.runtime.session import ModelSession
from vocalsplit.separation.masks import source_masks
from vocalsplit.separation.pipeline import SeparationStream, separate_array


@pytest.mark.parametrize("fixture", ["rnn_session", "conv_session"])
@pytest.mark.parametrize("rate", [16000, 44100])
def test_chunked_output_equals_whole_file_output(request: pytest.FixtureRequest, fixture: str, rate: int) -> None:
    session = request.getfixturevalue(fixture)
    x = tone_mix(3.1, rate)
    whole = separate_array(session, x, rate, chunk=10_000, block=10**7)
    chunked = separate_array(session, x, rate, chunk=37, block=4999)  # neither divides the length
    for stem in whole:
        assert np.max(np.abs(whole[stem] - chunked[stem])) < 1e-4
    assert np.std(whole["vocals"]) > 0.01  # the model really did something


@pytest.mark.parametrize("fixture", ["rnn_session", "conv_session"])
def test_background_network_gives_the_same_stems_a_chunk_later(request: pytest.FixtureRequest, fixture: str) -> None:
    session = request.getfixturevalue(fixture)
    x = tone_mix(3.1, 44100)

    def run(background: bool) -> tuple[dict[str, np.ndarray], list[int]]:
        stream = SeparationStream(
            session, 44100, 2, "soft", 16, ["vocals", "accompaniment"], shifts=2, background=background
        )
        got: dict[str, list[np.ndarray]] = {"vocals": [], "accompaniment": []}
        lengths = []
        for start in range(0, x.shape[1], 4410):
            for s, y in stream.push(x[:, start : start + 4410]).items():
                got[s].append(y)
            lengths.append(sum(y.shape[1] for y in got["vocals"]))
        for s, y in stream.finish().items():
            got[s].append(y)
        return {s: np.concatenate(p, axis=1) for s, p in got.items()}, lengths

    plain, plain_lengths = run(background=False)
    behind, behind_lengths = run(background=True)
    for stem in plain:
        assert plain[stem].shape == behind[stem].shape == x.shape
        np.testing.assert_array_equal(plain[stem], behind[stem])
    assert np.std(plain["vocals"]) > 0.01
    # held back: never ahead of the plain stream, and behind it somewhere before the end
    assert all(b <= p for b, p in zip(behind_lengths, plain_lengths, strict=True))
    assert any(b < p for b, p in zip(behind_lengths, plain_lengths, strict=True))


def test_background_network_raises_a_model_error_in_the_stream_that_called(rnn_session: ModelSession) -> None:
    from vocalsplit.errors import ModelError
    from vocalsplit.separation.planner import ChunkPlanner

    class Failing:
        calls = 0

        def initial_state(self, batch: int) -> dict[str, np.ndarray]:
            return {}

        def run(self, magnitude: np.ndarray, state: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
            Failing.calls += 1
            if Failing.calls == 2:
                raise ModelError("model 'x': inference failed (out of memory)")
            return magnitude[:, None], state

    planner = ChunkPlanner(Failing(), 1, 3, 0, 0, 4, background=True)
    assert planner.push(np.ones((1, 4, 3), np.float32)) == []  # the first call's output comes a chunk later
    with pytest.raises(ModelError, match="out of memory"):  # the second call fails on the worker
        planner.push(np.ones((1, 8, 3), np.float32))
    assert Failing.calls >= 2


@pytest.mark.parametrize("rate", [8000, 16000, 44100, 192000])
def test_soft_stems_sum_to_input_including_band_above_model_nyquist(rnn_session: ModelSession, rate: int) -> None:
    x = tone_mix(1.0, rate)
    if rate > 16000:  # energy the 16 kHz model cannot see
        t = np.arange(x.shape[1]) / rate
        x = x + 0.1 * np.sin(2 * np.pi * 12000 * t).astype(np.float32)
    stems = separate_array(rnn_session, x, rate, chunk=50)
    assert stems["vocals"].shape == x.shape
    assert np.max(np.abs(stems["vocals"] + stems["accompaniment"] - x)) < 1e-4
    stems = separate_array(rnn_session, x, rate, chunk=50, high_band=HighBand.ACCOMPANIMENT)
    assert np.max(np.abs(stems["vocals"] + stems["accompaniment"] - x)) < 1e-4
    if rate > 16000:  # the 12 kHz tone goes to the accompaniment, none of it to the vocals
        spec = np.abs(np.fft.rfft(stems["vocals"][0]))
        acc = np.abs(np.fft.rfft(stems["accompaniment"][0]))
        k = int(12000 * x.shape[1] / rate)
        assert spec[k] < 0.01 * acc[k]


def test_binary_masks_are_complementary() -> None:
    raw = np.random.default_rng(0).random((2, 2, 5, 7)).astype(np.float32)
    b = source_masks(raw, "soft", "binary")
    assert set(np.unique(b)) <= {0.0, 1.0}
    assert np.array_equal(b.sum(axis=1), np.ones((2, 5, 7), np.float32))
    p = source_masks(raw[:, :1], "probability", "binary")
    assert np.array_equal(p[:, 0], (raw[:, 0] > 0.5).astype(np.float32))
    assert np.array_equal(p.sum(axis=1), np.ones((2, 5, 7), np.float32))
    soft = source_masks(np.zeros((1, 3, 2, 2), np.float32), "soft", "soft")
    assert np.allclose(soft, 1 / 3)


def test_binary_mode_through_pipeline_still_sums_to_input(rnn_session: ModelSession) -> None:
    x = tone_mix(1.0, 16000)
    stems = separate_array(rnn_session, x, 16000, mask="binary", chunk=20)
    assert np.max(np.abs(stems["vocals"] + stems["accompaniment"] - x)) < 1e-4
    soft = separate_array(rnn_session, x, 16000, mask="soft", chunk=20)
    assert not np.allclose(soft["vocals"], stems["vocals"])


def test_mono_stays_mono_and_many_channels_are_each_separated(rnn_session: ModelSession) -> None:
    mono = tone_mix(1.0, 16000, channels=1)[0]
    out = separate_array(rnn_session, mono, 16000)
    assert out["vocals"].shape == mono.shape
    six = tone_mix(1.0, 16000, channels=6)
    six[5] = 0.0
    out6 = separate_array(rnn_session, six, 16000)
    assert out6["vocals"].shape == (6, 16000)
    assert np.allclose(out6["vocals"][5], 0.0) and np.std(out6["vocals"][0]) > 0.01
    # with a mask per channel, channel 0 alone gives the same result as inside the 6-channel batch
    apart = separate_array(rnn_session, six, 16000, channel_masks=ChannelMasks.SEPARATE)
    solo = separate_array(rnn_session, six[:1], 16000)
    assert np.max(np.abs(solo["vocals"][0] - apart["vocals"][0])) < 1e-4
    assert np.max(np.abs(solo["vocals"][0] - out6["vocals"][0])) > 1e-3  # shared masks: the others count


def test_shared_channel_masks_apply_one_mask_to_every_channel(rnn_session: ModelSession) -> None:
    x = tone_mix(1.0, 16000, channels=1)
    stereo = np.concatenate([x, 0.25 * x])  # the right channel is the left at a quarter of the level
    shared = separate_array(rnn_session, stereo, 16000, chunk=20)
    apart = separate_array(rnn_session, stereo, 16000, chunk=20, channel_masks=ChannelMasks.SEPARATE)
    for stems in (shared, apart):
        assert np.max(np.abs(stems["vocals"] + stems["accompaniment"] - stereo)) < 1e-4
    # one mask for both channels: the right channel's stems are the left's at a quarter of the level
    assert np.max(np.abs(shared["vocals"][1] - 0.25 * shared["vocals"][0])) < 1e-5
    # a mask per channel: the network sees a quieter channel and masks it differently
    assert np.max(np.abs(apart["vocals"][1] - 0.25 * apart["vocals"][0])) > 1e-3
    # a mono song is the same either way
    one = separate_array(rnn_session, x, 16000, chunk=20, channel_masks=ChannelMasks.SEPARATE)
    assert np.array_equal(separate_array(rnn_session, x, 16000, chunk=20)["vocals"], one["vocals"])


def test_only_requested_stems_are_returned(rnn_session: ModelSession) -> None:
    x = tone_mix(0.5, 16000)
    both = separate_array(rnn_session, x, 16000)
    acc = separate_array(rnn_session, x, 16000, stems=["accompaniment"])
    assert list(acc) == ["accompaniment"]
    assert np.allclose(acc["accompaniment"], both["accompaniment"], atol=1e-6)
    with pytest.raises(UsageError, match="allowed: vocals, accompaniment"):
        separate_array(rnn_session, x, 16000, stems=["drums"])


def test_non_finite_input_is_rejected_and_silence_gives_silent_stems(rnn_session: ModelSession) -> None:
    x = tone_mix(0.5, 16000)
    x[0, 1234] = np.nan
    with pytest.raises(InputAudioError, match="NaN or infinite"):
        separate_array(rnn_session, x, 16000)
    silent = separate_array(rnn_session, np.zeros((2, 16000), np.float32), 16000)
    assert all(y.shape == (2, 16000) and not y.any() for y in silent.values())
    stream = SeparationStream(rnn_session, 16000, 2, "soft", 10, ["vocals"])
    with pytest.raises(InputAudioError, match="empty"):
        stream.finish()


def test_four_source_model_writes_every_source(tmp_path: Path) -> None:
    path = conv_model(tmp_path, name="tiny-4", sources=("vocals", "drums", "bass", "other"))
    m = load_manifest(path)
    session = ModelSession(m, parse_device("cpu"))
    x = tone_mix(1.0, 22050)
    stems = separate_array(session, x, 22050, chunk=13)
    assert list(stems) == ["vocals", "drums", "bass", "other"]
    assert np.max(np.abs(sum(stems.values()) - x)) < 1e-4
    assert all(np.std(s) > 1e-3 for s in stems.values())


def test_memory_buffers_do_not_grow_with_length(rnn_session: ModelSession) -> None:
    stream = SeparationStream(rnn_session, 44100, 2, "soft", 64, ["vocals", "accompaniment"], shifts=2)
    block = tone_mix(0.5, 44100)
    sizes = []
    for _ in range(60):  # 30 s
        stream.push(block)
        core = stream._core._inner  # type: ignore[attr-defined]
        sizes.append(stream._x_fifo.size + core._spec.size * 1000)
    # buffers oscillate with the chunk cycle but must not trend upwards (30 s vs 15 s)
    assert max(sizes[40:]) <= 1.5 * max(sizes[10:30])


@pytest.mark.parametrize("interrupted_at", [1, 2])
def test_an_interruption_while_an_output_is_being_created_leaves_no_partial_file(
    rnn_separator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, interrupted_at: int
) -> None:  # type: ignore[no-untyped-def]
    """SIGTERM or Ctrl-C can land just after libsndfile created a stem's temporary file and before
    the run took charge of it; that file must still go (a signalled CLI run once left one behind)."""
    import soundfile as sf

    from tests.helpers import write_audio
    from vocalsplit.audio import writer

    class Stop(BaseException):
        """Stands for KeyboardInterrupt (which pytest itself would take as a request to stop)."""

    real = sf.SoundFile
    calls = []

    def created_then_interrupted(*args, **kwargs):  # type: ignore[no-untyped-def]
        handle = real(*args, **kwargs)
        if (args[1] if len(args) > 1 else kwargs.get("mode")) != "w":
            return handle  # the input, read
        calls.append(args[0])
        if len(calls) == interrupted_at:
            raise Stop
        return handle

    song = write_audio(tmp_path / "song.wav", tone_mix(1.0, 16000), 16000, "PCM_16")
    monkeypatch.setattr(writer.sf, "SoundFile", created_then_interrupted)
    with pytest.raises(Stop):
        rnn_separator.separate_file(song, tmp_path / "out")
    assert len(calls) == interrupted_at and all(Path(c).name.startswith(".") for c in calls)
    assert not [p for p in (tmp_path / "out").rglob("*") if p.is_file()] if (tmp_path / "out").exists() else True


def test_block_fifo_gives_back_what_came_in_order_and_copies_nothing_it_need_not() -> None:
    from vocalsplit.separation.fifo import BlockFifo

    fifo = BlockFifo(np.zeros((2, 0, 3), np.complex64))
    blocks = [np.full((2, k, 3), i, np.complex64) for i, k in enumerate((4, 0, 5, 2))]
    for b in blocks:
        fifo.append(b)
    assert fifo.size == 11
    first = fifo.take(3)
    assert first.base is blocks[0]  # inside one block: a view, no copy
    np.testing.assert_array_equal(first, blocks[0][:, :3])
    np.testing.assert_array_equal(fifo.take(7), np.concatenate([blocks[0][:, 3:], blocks[2], blocks[3][:, :1]], axis=1))
    assert fifo.size == 1 and fifo.take(0).shape == (2, 0, 3)
    with pytest.raises(ValueError, match="2 samples asked of a queue holding 1"):
        fifo.take(2)
