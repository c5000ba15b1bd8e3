"""Separate a stream into a stream (stdin to stdout), block by block, as the input arrives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from vocalsplit.audio.pipe import PcmReader, PcmStreamWriter, StreamFormat, read_wav_header
from vocalsplit.defaults import BLOCK_FRAMES
from vocalsplit.separation.latency import Latency
from vocalsplit.separation.separator import Separator


@dataclass(frozen=True)
class PipeSettings:
    raw_input: StreamFormat | None = None
    """The format of headerless input (``--raw-format``); ``None``: a WAV stream."""
    raw_output: bool = False
    """Write headerless PCM instead of a WAV stream."""
    floating: bool = False
    """32-bit float samples out; else 16-bit integers."""
    latency: float | None = None
    """Seconds the stems may lag the input (``--latency``): the chunk is sized to fit, or a UsageError."""


@dataclass(frozen=True)
class PipeResult:
    sample_rate: int
    channels: int
    frames: int
    stems: list[str]
    clipped: int
    """Samples a 16-bit output had to clamp."""
    trailing_bytes: int
    """Bytes of an incomplete last frame the input ended with (dropped)."""


def separate_pipe(
    separator: Separator,
    source: BinaryIO,
    sink: BinaryIO,
    stems: list[str] | None = None,
    settings: PipeSettings = PipeSettings(),
    on_start: Callable[[StreamFormat, Latency], None] | None = None,
    block_frames: int = BLOCK_FRAMES,
) -> PipeResult:
    """Read ``source``; write the stems to ``sink`` as they are produced, as one stream.

    One stem keeps the input's channels; several are interleaved stem by stem (vocals' channels,
    then the accompaniment's...). ``on_start`` hears the input's format and the stated latency
    before any audio is separated."""
    fmt = settings.raw_input or read_wav_header(source)
    chosen = separator.stems(stems)
    if settings.latency is not None:
        latency = separator.fit_latency(settings.latency, fmt.sample_rate)
    else:
        latency = separator.latency(fmt.sample_rate)
    if on_start is not None:
        on_start(fmt, latency)
    stream = separator.open_stream(fmt.sample_rate, fmt.channels, chosen)
    channels_out = fmt.channels * len(chosen)
    writer = PcmStreamWriter(sink, fmt.sample_rate, channels_out, settings.floating, not settings.raw_output)
    reader = PcmReader(source, fmt, block_frames)
    frames = 0
    for block in reader.blocks():
        frames += block.shape[1]
        writer.write(_stack(stream.push(block), chosen))
    writer.write(_stack(stream.finish(), chosen))
    return PipeResult(fmt.sample_rate, fmt.channels, frames, chosen, writer.clipped, reader.trailing_bytes)


def _stack(parts: dict[str, np.ndarray], stems: list[str]) -> np.ndarray:
    return np.concatenate([parts[s] for s in stems], axis=0)
