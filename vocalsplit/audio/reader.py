"""Streaming audio reader: blocks of float32 PCM at the file's own rate and channels.

libsndfile (through soundfile) reads WAV, FLAC, OGG/Opus, AIFF and MP3; formats it
lacks (m4a, aac, wma...) go through audioread, which needs ffmpeg or GStreamer.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate


def probe(path: Path) -> AudioInfo:
    """Open ``path`` far enough to know its rate, channels and length."""
    if not path.exists():
        raise InputAudioError(f"{path}: no such file")
    if path.is_dir():
        raise InputAudioError(f"{path}: is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise InputAudioError(f"{path}: empty file (0 bytes)")
    try:
        with _quiet_native_stderr():
            info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError) as sf_err:
        return _probe_audioread(path, sf_err)
    if info.samplerate <= 0 or info.channels <= 0:
        raise InputAudioError(f"{path}: invalid header (rate {info.samplerate}, channels {info.channels})")
    return AudioInfo(path, int(info.samplerate), int(info.channels), int(info.frames), info.subtype, "soundfile")


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
    return AudioInfo(path, rate, channels, int(round(duration * rate)), None, "audioread")


def read_blocks(info: AudioInfo, block_frames: int) -> Iterator[np.ndarray]:
    """Yield blocks ``(channels, n)`` float32; raise InputAudioError on decode failure."""
    if info.backend == "soundfile":
        yield from _soundfile_blocks(info, block_frames)
    else:
        yield from _audioread_blocks(info, block_frames)


def _soundfile_blocks(info: AudioInfo, block_frames: int) -> Iterator[np.ndarray]:
    try:
        with sf.SoundFile(str(info.path)) as f:
            while True:
                block = f.read(block_frames, dtype="float32", always_2d=True)
                if block.shape[0] == 0:
                    break
                yield np.ascontiguousarray(block.T)
    except (sf.LibsndfileError, RuntimeError) as err:
        raise InputAudioError(f"{info.path}: decoding failed ({_short(err)})") from err


def _audioread_blocks(info: AudioInfo, block_frames: int) -> Iterator[np.ndarray]:
    import audioread

    pending = np.zeros((info.channels, 0), dtype=np.float32)
    try:
        with audioread.audio_open(str(info.path)) as f:
            for buf in f:
                pcm = np.frombuffer(buf, dtype="<i2").astype(np.float32) / 32768.0
                pcm = pcm.reshape(-1, info.channels).T
                pending = np.concatenate([pending, pcm], axis=1)
                while pending.shape[1] >= block_frames:
                    yield pending[:, :block_frames]
                    pending = pending[:, block_frames:]
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


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Silence notes that libsndfile's mp3 decoder writes straight to file descriptor 2."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
