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

from vocalsplit.defaults import MAX_SHIFTS
from vocalsplit.errors import UsageError
from vocalsplit.separation.fifo import BlockFifo


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

    Every delayed copy runs in one inner stream, as extra channels: copy ``i`` is the
    input delayed by ``offsets[i]`` samples (zeros first), so one model call serves every
    pass (a batch of ``channels × passes`` rows). At the end each copy's last
    ``offsets[i]`` samples are pushed, padded with zeros to the same length (frames
    after the end, as the STFT pads anyway); their extra output is dropped. Copy
    ``i``'s output is advanced by ``offsets[i]``, aligning it with the input, and the
    copies are averaged.
    """

    def __init__(self, make: Callable[[int], StemStream], offsets: list[int], channels: int) -> None:
        if not offsets or offsets[0] != 0:
            raise ValueError("the first offset must be 0")
        self._inner = make(channels * len(offsets))
        self.stems = list(self._inner.stems)
        self._offsets, self._channels = list(offsets), channels
        self._delay = [np.zeros((channels, o), np.float32) for o in offsets]
        self._drop = list(offsets)
        self._fifo = [{s: BlockFifo(np.zeros((channels, 0), np.float32)) for s in self.stems} for _ in offsets]
        self._pushed = self._given = 0

    def push(self, block: np.ndarray) -> dict[str, np.ndarray]:
        n = block.shape[1]
        self._pushed += n
        rows = []
        for i, line in enumerate(self._delay):
            line = np.concatenate([line, block], axis=1)
            rows.append(line[:, :n])
            self._delay[i] = line[:, n:]
        self._add(self._inner.push(np.concatenate(rows, axis=0)))
        return self._take()

    def finish(self) -> dict[str, np.ndarray]:
        longest = max(self._offsets)
        if longest:  # each copy's last samples, padded with zeros to the same length
            tails = np.zeros((len(self._delay) * self._channels, longest), np.float32)
            for i, line in enumerate(self._delay):
                tails[i * self._channels : (i + 1) * self._channels, : line.shape[1]] = line
            self._add(self._inner.push(tails))
        self._add(self._inner.finish())
        return self._take()

    def _add(self, parts: dict[str, np.ndarray]) -> None:
        c = self._channels
        n = next(iter(parts.values())).shape[1]
        for i in range(len(self._offsets)):
            drop = min(self._drop[i], n)
            self._drop[i] -= drop
            for s, y in parts.items():
                self._fifo[i][s].append(y[i * c : (i + 1) * c, drop:])

    def _take(self) -> dict[str, np.ndarray]:
        n = min(f[self.stems[0]].size for f in self._fifo)
        n = min(n, self._pushed - self._given)  # the padded copies' extra output past the end
        self._given += n
        out = {}
        for s in self.stems:
            first, *rest = (f[s].take(n) for f in self._fifo)
            total = first.copy()  # the sum of the passes, in order (the queues' blocks stay as they are)
            for y in rest:
                total += y
            out[s] = total / len(self._fifo)
        return out
