"""Separate a WAV stream into a WAV stream (stdin to stdout), block by block."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from vocalsplit.audio.pipe import WavStreamWriter, read_wav_blocks, read_wav_header
from vocalsplit.defaults import BLOCK_FRAMES
from vocalsplit.separation.separator import Separator


@dataclass(frozen=True)
class PipeResult:
    sample_rate: int
    channels: int
    frames: int
    stems: list[str]
    clipped: int
    """Samples a 16-bit output had to clamp."""


def separate_pipe(
    separator: Separator,
    source: BinaryIO,
    sink: BinaryIO,
    stems: list[str] | None = None,
    floating: bool = False,
    block_frames: int = BLOCK_FRAMES,
) -> PipeResult:
    """Read a WAV stream from ``source``; write the stems to ``sink`` as one WAV stream of unknown length.

    One stem keeps the input's channels; several are interleaved stem by stem (vocals' channels,
    then the accompaniment's...). Output leaves as soon as the model has produced it."""
    fmt = read_wav_header(source)
    chosen = separator.stems(stems)
    stream = separator.open_stream(fmt.sample_rate, fmt.channels, chosen)
    writer = WavStreamWriter(sink, fmt.sample_rate, fmt.channels * len(chosen), floating)
    frames = 0
    for block in read_wav_blocks(source, fmt, block_frames):
        frames += block.shape[1]
        writer.write(_stack(stream.push(block), chosen))
    writer.write(_stack(stream.finish(), chosen))
    return PipeResult(fmt.sample_rate, fmt.channels, frames, chosen, writer.clipped)


def _stack(parts: dict[str, np.ndarray], stems: list[str]) -> np.ndarray:
    return np.concatenate([parts[s] for s in stems], axis=0)
