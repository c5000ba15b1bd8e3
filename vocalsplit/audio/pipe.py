"""WAV and raw PCM through pipes: read a stream from stdin, write one to stdout, neither seekable.

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

from vocalsplit.errors import InputAudioError, UsageError

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


RAW_TYPES = {"s16le": (16, False), "s24le": (24, False), "s32le": (32, False), "f32le": (32, True)}
"""``--raw-format`` sample types, named as ffmpeg, sox and aplay name them."""


def parse_raw_format(text: str) -> StreamFormat:
    """``RATE:CHANNELS:TYPE`` (e.g. ``44100:2:s16le``) → the format of headerless PCM."""
    parts = text.strip().lower().split(":")
    usage = f"--raw-format {text!r}: give RATE:CHANNELS:TYPE, e.g. 44100:2:s16le (types: {', '.join(RAW_TYPES)})"
    if len(parts) != 3 or parts[2] not in RAW_TYPES or not parts[0].isdigit() or not parts[1].isdigit():
        raise UsageError(usage)
    rate, channels = int(parts[0]), int(parts[1])
    if not 1000 <= rate <= 384000 or not 1 <= channels <= 64:
        raise UsageError(f"{usage}; the rate must be 1000-384000 Hz and channels 1-64")
    bits, floating = RAW_TYPES[parts[2]]
    return StreamFormat(rate, channels, bits, floating)


class PcmReader:
    """Blocks ``(channels, n)`` float32 from a stream, each as soon as its bytes arrive.

    A live source (a microphone, a paced ffmpeg) delivers a little at a time: a block
    is whatever whole frames have arrived, up to ``block_frames``, so nothing waits
    for a full block. Bytes of a last, incomplete frame are counted in ``trailing_bytes``."""

    def __init__(self, stream: BinaryIO, fmt: StreamFormat, block_frames: int) -> None:
        self._stream, self.format, self._limit = stream, fmt, block_frames * fmt.block_align
        self.trailing_bytes = 0

    def blocks(self) -> Iterator[np.ndarray]:
        align = self.format.block_align
        pending = b""
        while data := _read_some(self._stream, self._limit - len(pending)):
            pending += data
            usable = len(pending) - len(pending) % align
            if usable:
                yield _decode(pending[:usable], self.format).reshape(-1, self.format.channels).T.copy()
                pending = pending[usable:]
        self.trailing_bytes = len(pending)


def _read_some(stream: BinaryIO, n: int) -> bytes:
    """Up to ``n`` bytes: what is there now (``read1``), waiting only while nothing is."""
    read1 = getattr(stream, "read1", None)
    return bytes(read1(n)) if read1 is not None else stream.read(n)


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


class PcmStreamWriter:
    """Write interleaved samples as they come: after a WAV header of unknown length (sizes
    0xFFFFFFFF), or headerless (``header=False``, raw PCM: s16le, or f32le when ``floating``)."""

    def __init__(self, stream: BinaryIO, sample_rate: int, channels: int, floating: bool, header: bool = True) -> None:
        self._stream, self._floating = stream, floating
        bits = 32 if floating else 16
        align = channels * bits // 8
        fmt = struct.pack(
            "<HHIIHH", _FLOAT if floating else _PCM, channels, sample_rate, sample_rate * align, align, bits
        )
        riff = b"RIFF" + struct.pack("<I", UNKNOWN_SIZE) + b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
        if header:
            stream.write(riff + b"data" + struct.pack("<I", UNKNOWN_SIZE))
        self.clipped = 0

    def write(self, block: np.ndarray) -> None:
        """Append ``(channels, n)`` float32 samples and flush them (16-bit output clamps, and counts what
        it clamps)."""
        if block.shape[1] == 0:
            return
        frames = np.ascontiguousarray(block.T)
        if self._floating:
            self._stream.write(frames.astype("<f4").tobytes())
        else:
            self.clipped += int(np.count_nonzero(np.abs(frames) > 1.0))
            self._stream.write(np.clip(np.round(frames * 32767.0), -32768, 32767).astype("<i2").tobytes())
        self._stream.flush()
