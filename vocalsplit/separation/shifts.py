"""Shift averaging: separate the input on several STFT frame grids and average the stems.

A network sees the song through frames one hop apart, so where a frame boundary
falls is arbitrary. Running the same model on copies of the input delayed by
evenly spaced fractions of a hop and averaging the aligned outputs is a
test-time ensemble over frame grids (Demucs's ``--shifts`` uses random shifts of
up to half a second; here the offsets are fixed, so results are reproducible).
Cost grows linearly with the number of shifts; memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from vocalsplit.errors import UsageError

MAX_SHIFTS = 16


class StemStream(Protocol):
    """What :class:`ShiftAveragedStream` wraps (a ``SeparationStream``)."""

    stems: list[str]

    def push(self, block: np.ndarray) -> dict[str, np.ndarray]: ...

    def finish(self) -> dict[str, np.ndarray]: ...


def check_shifts(shifts: int) -> int:
    """``shifts`` if it is a usable number of passes, else a UsageError."""
    if not 1 <= shifts <= MAX_SHIFTS:
        raise UsageError(f"--shifts {shifts}: must be between 1 and {MAX_SHIFTS}")
    return shifts


def shift_offsets(shifts: int, hop: int, model_rate: int, file_rate: int) -> list[int]:
    """Delays in samples at ``file_rate``: ``k / shifts`` of one model hop, ``k = 0 … shifts - 1``."""
    hop_at_file_rate = hop * file_rate / model_rate
    offsets = [round(k * hop_at_file_rate / shifts) for k in range(shifts)]
    if len(set(offsets)) != shifts:
        raise UsageError(f"--shifts {shifts}: too many for a hop of {hop_at_file_rate:.1f} samples at {file_rate} Hz")
    return offsets


class ShiftAveragedStream:
    """Push ``(channels, n)`` blocks; get the stems averaged over delayed copies, in step.

    Stream ``i`` first receives ``offsets[i]`` zeros, then the input; the first
    ``offsets[i]`` samples of its output are dropped, which aligns it with the
    input. Every stream's residual stem is the input minus its other stems, so
    the average keeps the stems summing to the input.
    """

    def __init__(self, make: Callable[[], StemStream], offsets: list[int], channels: int) -> None:
        if not offsets or offsets[0] != 0:
            raise ValueError("the first offset must be 0")
        self._streams = [make() for _ in offsets]
        self.stems = list(self._streams[0].stems)
        self._drop = list(offsets)
        self._fifo = [{s: np.zeros((channels, 0), np.float32) for s in self.stems} for _ in offsets]
        for i, offset in enumerate(offsets):
            if offset:
                self._add(i, self._streams[i].push(np.zeros((channels, offset), np.float32)))

    def push(self, block: np.ndarray) -> dict[str, np.ndarray]:
        for i, stream in enumerate(self._streams):
            self._add(i, stream.push(block))
        return self._take()

    def finish(self) -> dict[str, np.ndarray]:
        for i, stream in enumerate(self._streams):
            self._add(i, stream.finish())
        return self._take()

    def _add(self, i: int, parts: dict[str, np.ndarray]) -> None:
        n = next(iter(parts.values())).shape[1]
        drop = min(self._drop[i], n)
        self._drop[i] -= drop
        for s, y in parts.items():
            self._fifo[i][s] = np.concatenate([self._fifo[i][s], y[:, drop:]], axis=1)

    def _take(self) -> dict[str, np.ndarray]:
        n = min(f[self.stems[0]].shape[1] for f in self._fifo)
        out = {}
        for s in self.stems:
            total = np.zeros_like(self._fifo[0][s][:, :n])
            for f in self._fifo:
                total += f[s][:, :n]
                f[s] = f[s][:, n:]
            out[s] = total / len(self._fifo)
        return out
