"""Streaming audio reader: blocks of float32 PCM at the file's own rate and channels.

libsndfile (through soundfile) reads WAV, FLAC, OGG/Opus, AIFF and MP3; formats it
lacks (m4a, aac, wma...) go through audioread, which needs ffmpeg or GStreamer.
"""

from __future__ import annotations

import contextlib
import os
import struct
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from vocalsplit.errors import InputAudioError


@dataclass(frozen=True)
class AudioInfo:
    """What is known about an input before decoding it."""

    path: Path
    sample_rate: int
    channels: int
    frames: int
    subtype: str | None
    """libsndfile subtype such as ``PCM_16`` or ``FLOAT``; None for audioread inputs."""
    backend: str
    announced_frames: int | None = None
    """The length the file's header announces, where it says one that the decoder does not report
    (a cut WAV: libsndfile reports what is there, the header what should be)."""
    data_offset: int = 0
    """``wav-stream`` backend: where the samples start (the header's sizes are 0: read to the end)."""
    start_frame: int = 0
    """First frame read (an excerpt); ``frames`` then counts from here."""
    bounded: bool = False
    """Stop after ``frames`` (an excerpt with a duration); otherwise read to the end of the stream."""

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate


def excerpt(info: AudioInfo, offset_s: float = 0.0, duration_s: float | None = None) -> AudioInfo:
    """``info`` narrowed to ``duration_s`` seconds from ``offset_s`` (``None``: to the end)."""
    if offset_s == 0.0 and duration_s is None:
        return info
    start = round(offset_s * info.sample_rate)
    if start >= info.frames:
        raise InputAudioError(f"{info.path}: --offset {clock(offset_s)} is past its end ({clock(info.duration)})")
    limit = info.frames - start if duration_s is None else round(duration_s * info.sample_rate)
    announced = None if info.announced_frames is None else min(limit, info.announced_frames - start)
    frames = min(limit, info.frames - start)
    return replace(info, frames=frames, announced_frames=announced, start_frame=start, bounded=duration_s is not None)


def clock(seconds: float) -> str:
    """``161.5`` → ``2:41.5``."""
    minutes, rest = divmod(seconds, 60.0)
    return f"{int(minutes)}:{rest:04.1f}"


def probe(path: Path) -> AudioInfo:
    """Open ``path`` far enough to know its rate, channels and length."""
    if not path.exists():
        raise InputAudioError(f"{path}: no such file")
    if path.is_dir():
        raise InputAudioError(f"{path}: is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise InputAudioError(f"{path}: empty file (0 bytes)")
    if not os.access(path, os.R_OK):
        raise InputAudioError(f"{path}: permission denied (cannot read the file)")
    try:
        with _quiet_native_stderr():
            info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError) as sf_err:
        return _probe_audioread(path, sf_err)
    if info.samplerate <= 0 or info.channels <= 0:
        raise InputAudioError(f"{path}: invalid header (rate {info.samplerate}, channels {info.channels})")
    if info.format == "WAV" and info.frames == 0:
        stream = _wav_stream_info(path, info)
        if stream is not None:
            return stream
    announced = _wav_announced_frames(path) if info.format == "WAV" else None
    return AudioInfo(
        path, int(info.samplerate), int(info.channels), int(info.frames), info.subtype, "soundfile", announced
    )


def _wav_data_chunk(path: Path) -> tuple[int, int, int] | None:
    """(offset, size, block align) of a RIFF WAV's ``data`` chunk, as its header states them; None if not a WAV.

    Hand-written (a few bytes of RIFF): libsndfile reports what it decoded, not what the header said."""
    try:
        with path.open("rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            block_align = 0
            while chunk := f.read(8):
                if len(chunk) < 8:
                    return None
                name, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if name == b"fmt ":
                    fmt = f.read(size)
                    block_align = struct.unpack("<H", fmt[12:14])[0] if len(fmt) >= 14 else 0
                    f.seek(size % 2, 1)
                elif name == b"data":
                    return (f.tell(), size, block_align) if block_align > 0 else None
                else:
                    f.seek(size + size % 2, 1)
    except (OSError, struct.error):
        return None
    return None


def _wav_announced_frames(path: Path) -> int | None:
    """Frames the header announces; None if unknown or a streaming size (0 or 0xFFFFFFFF)."""
    chunk = _wav_data_chunk(path)
    if chunk is None or chunk[1] in (0, 0xFFFFFFFF):
        return None
    return chunk[1] // chunk[2]


def _wav_stream_info(path: Path, info: Any) -> AudioInfo | None:
    """A WAV whose header sizes are 0 (a crashed recorder, a stream): read its data to the end of the file."""
    chunk = _wav_data_chunk(path)
    if chunk is None or chunk[1] != 0:
        return None
    offset, _, block_align = chunk
    frames = (path.stat().st_size - offset) // block_align
    if frames <= 0:
        return None
    return AudioInfo(path, int(info.samplerate), int(info.channels), frames, info.subtype, "wav-stream", None, offset)


def _probe_audioread(path: Path, sf_err: Exception) -> AudioInfo:
    try:
        import audioread

        with audioread.audio_open(str(path)) as f:
            rate, channels, duration = int(f.samplerate), int(f.channels), float(f.duration)
    except Exception as err:  # audioread raises many unrelated types for undecodable files
        raise InputAudioError(
            f"{path}: cannot decode: not an audio file, corrupt, or a format that needs ffmpeg "
            f"(libsndfile: {_short(sf_err)}; audioread: {_short(err)})"
        ) from err
    if rate <= 0 or channels <= 0 or not duration > 0:
        raise InputAudioError(
            f"{path}: not an audio file (or a damaged one): the decoder found rate {rate}, "
            f"{channels} channels, {duration:g} s"
        )
    return AudioInfo(path, rate, channels, int(round(duration * rate)), None, "audioread")


def read_blocks(info: AudioInfo, block_frames: int, warn: Callable[[str], None] | None = None) -> Iterator[np.ndarray]:
    """Yield blocks ``(channels, n)`` float32; raise InputAudioError if nothing can be decoded.

    A decode error after the start (a flipped bit, a cut file) is not fatal: the damaged
    stretch is replaced by silence and decoding resumes after it, or the stream ends there;
    ``warn`` is told the time and the length replaced."""
    if info.backend == "soundfile":
        yield from _soundfile_blocks(info, block_frames, warn or (lambda message: None))
    elif info.backend == "wav-stream":
        yield from _wav_stream_blocks(info, block_frames)
    else:
        yield from _audioread_blocks(info, block_frames)


SKIP_FRAMES = 4608
"""Samples skipped past a decode error before decoding is tried again (a FLAC/MP3 frame or more)."""
MAX_REPAIRS = 100
MAX_STUCK = 2
"""Failures in a row, with nothing decoded between them, after which the rest counts as missing."""


def _soundfile_blocks(info: AudioInfo, block_frames: int, warn: Callable[[str], None]) -> Iterator[np.ndarray]:
    position, last = info.start_frame, info.start_frame + info.frames  # ``last``: as far as the header says
    end = last if info.bounded else sys.maxsize
    repairs, stuck, size = 0, 0, block_frames
    while position < end:
        try:
            with _quiet_native_stderr():  # libmpg123 prints notes ("Xing stream size") when a file is opened
                opened = sf.SoundFile(str(info.path))
            with opened as f:
                if position:
                    f.seek(position)
                while position < end:
                    want = min(size, end - position)
                    if position == info.start_frame:  # libmpg123 also prints its notes when it starts decoding
                        with _quiet_native_stderr():
                            block = f.read(want, dtype="float32", always_2d=True)
                    else:
                        block = f.read(want, dtype="float32", always_2d=True)
                    if block.shape[0] == 0:
                        return
                    position, stuck = position + block.shape[0], 0
                    yield np.ascontiguousarray(block.T)
                return
        except (sf.LibsndfileError, RuntimeError) as err:
            if size > SKIP_FRAMES:  # first recover what decodes before the damage, in small steps
                size = SKIP_FRAMES
                continue
            if position == info.start_frame:
                raise InputAudioError(f"{info.path}: decoding failed ({_short(err)})") from err
            at = position / info.sample_rate
            skip = min(SKIP_FRAMES, max(0, last - position))
            repairs, stuck = repairs + 1, stuck + 1
            if skip == 0 or stuck > MAX_STUCK or repairs > MAX_REPAIRS:  # nothing decodable follows: a cut file
                warn(f"{info.path}: decoding failed at {at:.2f} s ({_short(err)}); the stems end there")
                return
            seconds = skip / info.sample_rate
            warn(f"{info.path}: decoding failed at {at:.2f} s ({_short(err)}); {seconds:.3f} s replaced by silence")
            yield np.zeros((info.channels, skip), np.float32)
            position += skip


class _From:
    """A binary file seen from ``offset`` on: libsndfile reads a RAW stream from what it takes as byte 0."""

    def __init__(self, raw: Any, offset: int) -> None:
        self._raw, self._offset = raw, offset
        raw.seek(offset)

    def seek(self, position: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            position += self._offset
        return int(self._raw.seek(position, whence)) - self._offset

    def tell(self) -> int:
        return int(self._raw.tell()) - self._offset

    def read(self, size: int = -1) -> bytes:
        return bytes(self._raw.read(size))

    def readinto(self, buffer: Any) -> int:
        return int(self._raw.readinto(buffer))


def _wav_stream_blocks(info: AudioInfo, block_frames: int) -> Iterator[np.ndarray]:
    """The samples of a WAV with zero header sizes, read raw from the data offset to the end of the file."""
    try:
        with info.path.open("rb") as raw:
            with sf.SoundFile(
                _From(raw, info.data_offset), "r", samplerate=info.sample_rate, channels=info.channels, format="RAW",
                subtype=info.subtype, endian="LITTLE",
            ) as f:  # fmt: skip
                f.seek(info.start_frame)
                left = info.frames if info.bounded else sys.maxsize
                while left > 0 and (block := f.read(min(block_frames, left), dtype="float32", always_2d=True)).shape[0]:
                    left -= block.shape[0]
                    yield np.ascontiguousarray(block.T)
    except (sf.LibsndfileError, RuntimeError, OSError) as err:
        raise InputAudioError(f"{info.path}: decoding failed ({_short(err)})") from err


def _audioread_blocks(info: AudioInfo, block_frames: int) -> Iterator[np.ndarray]:
    import audioread

    pending = np.zeros((info.channels, 0), dtype=np.float32)
    skip, left = info.start_frame, info.frames if info.bounded else sys.maxsize
    try:
        with audioread.audio_open(str(info.path)) as f:
            for buf in f:
                pcm = np.frombuffer(buf, dtype="<i2").astype(np.float32) / 32768.0
                pcm = pcm.reshape(-1, info.channels).T
                dropped = min(skip, pcm.shape[1])  # no seeking in a decoder pipe: decode and drop
                skip -= dropped
                pending = np.concatenate([pending, pcm[:, dropped:]], axis=1)[:, :left]
                while pending.shape[1] >= block_frames:
                    left -= block_frames
                    yield pending[:, :block_frames]
                    pending = pending[:, block_frames:]
                if left <= pending.shape[1]:
                    break
    except Exception as err:
        raise InputAudioError(f"{info.path}: decoding failed ({_short(err)})") from err
    if pending.shape[1]:
        yield pending


def _short(err: Exception) -> str:
    text = str(err).strip().splitlines()
    line = text[0] if text else ""
    if "Error opening" in line and ":" in line:  # libsndfile's "Error opening 'x': reason"
        line = line.rsplit(": ", 1)[-1]
    return line.rstrip(".") or type(err).__name__


_quiet_lock = threading.Lock()
_quiet_users = 0
_quiet_saved: int | None = None  # file descriptor 2 as it was before the first silencer


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Silence notes that libsndfile's mp3 decoder writes straight to file descriptor 2.

    Descriptor 2 belongs to the whole process and files may be opened on several threads at
    once: the first thread in points it at the null device, the last one out restores it (two
    threads each saving and restoring on their own can leave it pointing at the null device
    for good). The CLI writes its own lines to a copy of descriptor 2 (``cli.main``), so
    none of them is lost while a file is being opened."""
    global _quiet_users, _quiet_saved
    with _quiet_lock:
        if _quiet_users == 0:
            try:
                _quiet_saved = os.dup(2)
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, 2)
                os.close(null)
            except OSError:
                pass  # a closed descriptor 2: nothing to silence or to restore
        _quiet_users += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_users -= 1
            if _quiet_users == 0 and _quiet_saved is not None:
                os.dup2(_quiet_saved, 2)
                os.close(_quiet_saved)
                _quiet_saved = None
