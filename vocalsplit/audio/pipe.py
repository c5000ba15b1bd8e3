"""WAV through pipes: read a stream from stdin, write one to stdout, neither seekable.

libsndfile (soundfile) needs to seek in what it reads and to rewrite the header of
what it writes, so a pipe gets this small RIFF reader and writer instead: the header
is parsed once, samples are decoded with numpy block by block, and the output
header says "unknown length" (sizes 0xFFFFFFFF), as ffmpeg and arecord write it.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from vocalsplit.errors import InputAudioError

UNKNOWN_SIZE = 0xFFFFFFFF
_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE


@dataclass(frozen=True)
class StreamFormat:
    sample_rate: int
    channels: int
    bits: int
    floating: bool

    @property
    def block_align(self) -> int:
        return self.channels * self.bits // 8


def _read_exactly(stream: BinaryIO, n: int) -> bytes:
    data = b""
    while len(data) < n:
        part = stream.read(n - len(data))
        if not part:
            break
        data += part
    return data


def read_wav_header(stream: BinaryIO) -> StreamFormat:
    """Parse a RIFF/WAVE header up to the ``data`` chunk; the stream is left at the first sample."""
    head = _read_exactly(stream, 12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise InputAudioError("standard input: not a WAV stream (give WAV, e.g. ffmpeg -f wav -)")
    fmt: StreamFormat | None = None
    while True:
        chunk = _read_exactly(stream, 8)
        if len(chunk) < 8:
            raise InputAudioError("standard input: the WAV stream ends before its audio starts")
        name, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if name == b"data":
            if fmt is None:
                raise InputAudioError("standard input: WAV data before its format chunk")
            return fmt
        body = _read_exactly(stream, size + size % 2)
        if name == b"fmt ":
            fmt = _parse_fmt(body)


def _parse_fmt(body: bytes) -> StreamFormat:
    tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
    if tag == _EXTENSIBLE and len(body) >= 26:
        tag = struct.unpack("<H", body[24:26])[0]
    floating = tag == _FLOAT
    if not (tag == _PCM and bits in (16, 24, 32)) and not (floating and bits == 32):
        raise InputAudioError(
            f"standard input: WAV format {tag} with {bits} bits is not read from a pipe; give 16/24/32-bit PCM "
            "or 32-bit float"
        )
    if channels <= 0 or rate <= 0:
        raise InputAudioError(f"standard input: invalid WAV header (rate {rate}, channels {channels})")
    return StreamFormat(rate, channels, bits, floating)


def read_wav_blocks(stream: BinaryIO, fmt: StreamFormat, block_frames: int) -> Iterator[np.ndarray]:
    """Blocks ``(channels, n)`` float32 until the stream ends (a last partial frame is dropped)."""
    while True:
        data = _read_exactly(stream, block_frames * fmt.block_align)
        usable = len(data) - len(data) % fmt.block_align
        if usable <= 0:
            return
        yield _decode(data[:usable], fmt).reshape(-1, fmt.channels).T.copy()
        if usable < block_frames * fmt.block_align:
            return


def _decode(data: bytes, fmt: StreamFormat) -> np.ndarray:
    if fmt.floating:
        return np.frombuffer(data, "<f4").astype(np.float32)
    if fmt.bits == 16:
        return np.frombuffer(data, "<i2").astype(np.float32) / 32768.0
    if fmt.bits == 32:
        return (np.frombuffer(data, "<i4") / 2147483648.0).astype(np.float32)
    raw = np.frombuffer(data, np.uint8).reshape(-1, 3).astype(np.int32)
    value = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
    return (np.where(value >= 1 << 23, value - (1 << 24), value) / 8388608.0).astype(np.float32)


class WavStreamWriter:
    """Write a WAV of unknown length: the header first (sizes 0xFFFFFFFF), then interleaved samples."""

    def __init__(self, stream: BinaryIO, sample_rate: int, channels: int, floating: bool) -> None:
        self._stream, self._floating = stream, floating
        bits = 32 if floating else 16
        align = channels * bits // 8
        fmt = struct.pack(
            "<HHIIHH", _FLOAT if floating else _PCM, channels, sample_rate, sample_rate * align, align, bits
        )
        header = b"RIFF" + struct.pack("<I", UNKNOWN_SIZE) + b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
        stream.write(header + b"data" + struct.pack("<I", UNKNOWN_SIZE))
        self.clipped = 0

    def write(self, block: np.ndarray) -> None:
        """Append ``(channels, n)`` float32 samples (16-bit output clamps, and counts what it clamps)."""
        if block.shape[1] == 0:
            return
        frames = np.ascontiguousarray(block.T)
        if self._floating:
            self._stream.write(frames.astype("<f4").tobytes())
            return
        self.clipped += int(np.count_nonzero(np.abs(frames) > 1.0))
        pcm = np.clip(np.round(frames * 32767.0), -32768, 32767).astype("<i2")
        self._stream.write(pcm.tobytes())
        self._stream.flush()
