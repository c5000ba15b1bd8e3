"""Incremental writers that only publish a file once it is complete."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import soundfile as sf

from vocalsplit.audio.formats import MP3_DEFAULT_KBPS, container_for, is_integer_subtype, mp3_compression_level
from vocalsplit.errors import OutputError


class StemWriter:
    """Append ``(channels, n)`` blocks to a temporary file; :meth:`commit` renames it.

    Used as a context manager, an exception before :meth:`commit` deletes the
    temporary file, so an interrupted run never leaves a half-written output under
    the final name.
    """

    def __init__(
        self,
        path: Path,
        sample_rate: int,
        channels: int,
        fmt: str,
        subtype: str,
        frames: int = 0,
        mp3_kbps: int = MP3_DEFAULT_KBPS,
    ) -> None:
        """``frames``: the expected length; a WAV whose data could pass 4 GiB is written as RF64.
        ``mp3_kbps``: an MP3's constant bitrate."""
        self.path = path
        self._tmp = partial_path(path)
        self._clip = is_integer_subtype(subtype)
        # 16-bit samples are rounded here (half to even, full scale 32767, as pipes write them):
        # libsndfile's own float conversion is slower and rounds some samples one step apart
        self._pcm16 = subtype == "PCM_16"
        self.clipped = 0
        """Samples beyond full scale that an integer format had to clamp."""
        self.peak = 0.0
        # folders this writer creates are removed again if it is aborted
        self._new_dirs = [d for d in [path.parent, *path.parent.parents] if not d.exists()]
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = sf.SoundFile(
                str(self._tmp),
                "w",
                samplerate=sample_rate,
                channels=channels,
                format=container_for(fmt, subtype, frames, channels),
                subtype=subtype,
                **_mp3_settings(fmt, mp3_kbps, sample_rate),
            )
        except (OSError, sf.LibsndfileError, ValueError, TypeError, RuntimeError) as err:
            self._undo()
            raise OutputError(f"cannot write {path}: {_why(path.parent, err)}") from err
        except BaseException:  # an interruption (Ctrl-C, SIGTERM) while the file was being created
            self._undo()
            raise

    def _undo(self) -> None:
        """Remove what the constructor made: the partial file and the folders it created."""
        remove_file(self._tmp)
        for d in self._new_dirs:  # deepest first; stops at the first non-empty one
            try:
                d.rmdir()
            except OSError:
                break

    def write(self, block: np.ndarray) -> None:
        """Append ``(channels, n)`` float32 samples."""
        if block.shape[1] == 0:
            return
        data = block
        if self._clip:
            over = np.abs(block) > 1.0
            if over.any():
                self.clipped += int(np.count_nonzero(over))
                self.peak = max(self.peak, float(np.max(np.abs(block))))
                data = np.clip(block, -1.0, 1.0)
        frames = _pcm16_frames(data) if self._pcm16 else np.ascontiguousarray(data.T)
        try:
            self._file.write(frames)
        except (OSError, sf.LibsndfileError, RuntimeError) as err:
            raise OutputError(f"cannot write {self.path}: {_why(self.path.parent, err)}") from err

    def commit(self, replace: bool = False) -> None:
        """Publish the finished file under its name. Without ``replace`` an existing file is never
        replaced, not even one that another run wrote meanwhile: that is an OutputError ("exists")."""
        try:
            self._file.close()
            if replace:
                os.replace(self._tmp, self.path)
            else:
                _publish_new(self._tmp, self.path)
        except FileExistsError as err:
            self.abort()
            raise OutputError(f"{self.path} exists (written meanwhile by another run?); not replaced") from err
        except OSError as err:
            self.abort()
            raise OutputError(f"cannot finish {self.path}: {err}") from err

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        self._undo()

    def __enter__(self) -> StemWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None or not self._file.closed:
            self.abort()


def _pcm16_frames(data: np.ndarray) -> np.ndarray:
    """``(channels, n)`` float samples in [-1, 1] as interleaved ``(n, channels)`` 16-bit integers,
    rounded to the nearest step: transposed while scaling, so libsndfile gets them without a copy."""
    scaled = np.empty(data.shape[::-1], np.float32)
    np.multiply(data.T, 32767.0, out=scaled)
    return np.rint(scaled, out=scaled).astype(np.int16)


def _mp3_settings(fmt: str, kbps: int, sample_rate: int) -> dict[str, Any]:
    if fmt != "mp3":
        return {}
    return {"bitrate_mode": "CONSTANT", "compression_level": mp3_compression_level(kbps, sample_rate)}


LOW_SPACE_BYTES = 16 * 2**20


def _why(folder: Path, err: BaseException) -> str:
    """What a failed write means for the user: libsndfile says only "System error."."""
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        free = None
    if free is not None and free < LOW_SPACE_BYTES:
        return f"no space left on device ({free / 2**20:.0f} MB free)"
    if folder.exists() and not os.access(folder, os.W_OK):
        return "permission denied"
    text = str(err).strip().rstrip(".")
    if "System error" in text:
        return "the system refused the write (disk full, file too large for the file system, or no permission)"
    return text


def _publish_new(tmp: Path, path: Path) -> None:
    """Rename ``tmp`` to ``path`` unless ``path`` exists, atomically: a hard link fails on an existing
    name (``os.replace`` would silently replace it). File systems without hard links get an
    exclusive create of the name, then the rename over it."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def partial_path(path: Path) -> Path:
    """Where :class:`StemWriter` writes ``path`` until it is committed: ``.<stem>.partial-<pid>.<ext>``."""
    return path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")


PARTIAL = re.compile(r"^\..+\.partial-(?P<pid>\d+)(\.[A-Za-z0-9]+)?$")
"""Names :class:`StemWriter` gives its temporary files: ``.<stem>.partial-<pid>.<ext>``."""


def remove_stale_partials(folder: Path) -> list[Path]:
    """Delete the temporary files in ``folder`` left by writers whose process is gone (SIGKILL, power loss).

    Returns what was removed. Files of live processes (a concurrent run) are kept."""
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for path in entries:
        match = PARTIAL.match(path.name)
        if match and path.is_file() and not _alive(int(match["pid"])):
            remove_file(path)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # another user's process, or no way to tell: keep its file
    return True


def remove_file(path: Path) -> None:
    """Delete ``path`` if it is there (nothing to do, or nothing possible, is not an error)."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass
