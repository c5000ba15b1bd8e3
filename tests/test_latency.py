"""The stated latency is a true and tight bound on how far a stream's stems lag its input."""

from pathlib import Path

import pytest

from tests.helpers import tone_mix
from vocalsplit.errors import UsageError
from vocalsplit.separation.separator import Separator


def _most_held_back(separator: Separator, rate: int, block: int) -> int:
    """Push a song ``block`` samples at a time; the largest number of input samples not yet answered."""
    x = tone_mix(3.0, rate)
    stream = separator.open_stream(rate, 2)
    pushed = answered = held = 0
    for at in range(0, x.shape[1], block):
        part = x[:, at : at + block]
        pushed += part.shape[1]
        answered += next(iter(stream.push(part).values())).shape[1]
        held = max(held, pushed - answered)
    return held


@pytest.mark.parametrize(
    ("model", "rate", "shifts", "latency_ms"),
    [
        ("tiny-conv", 16000, 1, 40),
        ("tiny-conv", 16000, 2, 60),
        ("tiny-rnn", 16000, 2, 200),
        ("tiny-rnn", 44100, 1, 150),
    ],
)
def test_stems_never_lag_more_than_stated(
    models_dir: Path, model: str, rate: int, shifts: int, latency_ms: int
) -> None:
    separator = Separator(models_dir / f"{model}.json", device="cpu", shifts=shifts)
    stated = separator.fit_latency(latency_ms / 1000, rate)
    assert stated.total <= latency_ms / 1000
    held = _most_held_back(separator, rate, block=32)
    assert held <= stated.total * rate + 1  # a bound...
    slack = separator.manifest.stft.hop * rate / separator.manifest.sample_rate + stated.resampling * rate
    assert held >= stated.total * rate - slack - 32  # ...and not a loose one


def test_the_chunk_follows_the_latency_and_too_little_is_refused(models_dir: Path) -> None:
    separator = Separator(models_dir / "tiny-conv.json", device="cpu", shifts=1)
    assert separator.latency(16000).chunk > 1.9  # the default chunk on the CPU: 2 s
    low = separator.fit_latency(0.05, 16000)
    assert separator.chunk_frames == 1 + int((0.05 - low.window - low.lookahead) * 16000 / 128)
    assert low.chunk == (separator.chunk_frames - 1) * 128 / 16000
    with pytest.raises(UsageError, match="needs at least 40 ms"):
        separator.fit_latency(0.039, 16000)


def test_the_default_chunk_depends_on_the_provider_and_a_given_one_wins(models_dir: Path) -> None:
    from vocalsplit import defaults

    on_cpu = Separator(models_dir / "tiny-rnn.json", device="cpu")
    hop_seconds = on_cpu.manifest.stft.hop / on_cpu.manifest.sample_rate
    assert on_cpu.chunk_seconds == defaults.CHUNK_SECONDS
    assert on_cpu.chunk_frames == round(defaults.CHUNK_SECONDS / hop_seconds)
    given = Separator(models_dir / "tiny-rnn.json", device="cpu", chunk_seconds=3.0)
    assert given.chunk_frames == round(3.0 / hop_seconds) != on_cpu.chunk_frames
    with pytest.raises(UsageError, match="must be positive"):
        Separator(models_dir / "tiny-rnn.json", device="cpu", chunk_seconds=0)
