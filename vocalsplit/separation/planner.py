"""Chunk planner: feeds the model fixed-size chunks of frames with context and state."""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

import numpy as np


class MaskModel(Protocol):
    def initial_state(self, batch: int) -> dict[str, np.ndarray]: ...

    def run(self, magnitude: np.ndarray, state: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[str, np.ndarray]]: ...


class ChunkPlanner:
    """Turns a stream of magnitude frames into a stream of model outputs.

    Each model call sees ``left + chunk + right`` frames and returns outputs for the
    ``chunk`` centre frames; the stream starts with ``left`` and ends with ``right``
    zero frames. With ``multiple`` > 1 every call covers a multiple of that many frames
    (the last one zero-padded and trimmed). Recurrent state passes from one call to the next, so the outputs
    equal those of one call on the whole signal, whatever the chunk size.

    With ``background`` the calls run one after another on a thread of their own, and
    :meth:`push` returns a chunk's output one chunk later (the same outputs, in the same
    order): the caller's work on one chunk (reading, resampling, inverse STFT, writing)
    overlaps the network's on the next. At most two calls are queued or running.
    """

    def __init__(
        self,
        model: MaskModel,
        batch: int,
        bins: int,
        left: int,
        right: int,
        chunk: int,
        multiple: int = 1,
        background: bool = False,
    ) -> None:
        if chunk < 1 or multiple < 1:
            raise ValueError("chunk and multiple must be at least one frame")
        # models that work on a fixed grid of windows need every call to start on the grid
        chunk = -(-chunk // multiple) * multiple
        self._model, self._left, self._right, self._chunk = model, left, right, chunk
        self._multiple = multiple
        self._state = model.initial_state(batch)
        self._buf = np.zeros((batch, left, bins), dtype=np.float32)
        self._pending: list[np.ndarray] = []  # frames pushed since the last join
        self._pending_frames = 0
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="vocalsplit-model") if background else None
        self._running: deque[Future[np.ndarray]] = deque()

    def push(self, magnitude: np.ndarray) -> list[np.ndarray]:
        """Add frames ``(batch, k, bins)``; return zero or more outputs ``(batch, S, n, bins)``."""
        self._pending.append(magnitude.astype(np.float32, copy=False))
        self._pending_frames += magnitude.shape[1]
        span = self._left + self._chunk + self._right
        if self._buf.shape[1] + self._pending_frames < span:
            return []  # joined once a call's worth has come: no copy of the buffer per push
        self._join()
        outs = []
        while self._buf.shape[1] >= span:
            outs += self._submit(self._buf[:, :span], keep=1)
            self._buf = self._buf[:, self._chunk :]
        return outs

    def flush(self) -> list[np.ndarray]:
        """Pad the right context with zeros and return outputs for every frame left."""
        self._join()
        b, _, f = self._buf.shape
        self._buf = np.concatenate([self._buf, np.zeros((b, self._right, f), np.float32)], axis=1)
        outs = []
        while self._buf.shape[1] > self._left + self._right:
            n = min(self._chunk, self._buf.shape[1] - self._left - self._right)
            padded = -(-n // self._multiple) * self._multiple
            frames = self._buf[:, : self._left + n + self._right]
            if padded > n:  # beyond the end everything is zeros, in any chunking
                frames = np.concatenate([frames, np.zeros((b, padded - n, f), np.float32)], axis=1)
            outs += self._submit(frames, keep=1, trim=n)
            self._buf = self._buf[:, n:]
        outs += self._collect(keep=0)
        if self._worker is not None:
            self._worker.shutdown()
        return outs

    def _join(self) -> None:
        self._buf = np.concatenate([self._buf, *self._pending], axis=1)
        self._pending, self._pending_frames = [], 0

    def _submit(self, frames: np.ndarray, keep: int, trim: int | None = None) -> list[np.ndarray]:
        """Run the model on ``frames`` (now, or queued on the worker); the outputs finished meanwhile,
        oldest first, leaving at most ``keep`` calls running."""
        if self._worker is None:
            return [self._call(frames, trim)]
        self._running.append(self._worker.submit(self._call, frames, trim))
        return self._collect(keep)

    def _collect(self, keep: int) -> list[np.ndarray]:
        outs = []
        while len(self._running) > keep:
            outs.append(self._running.popleft().result())  # a call's error is raised here, in order
        return outs

    def _call(self, frames: np.ndarray, trim: int | None = None) -> np.ndarray:
        """One model call; its state feeds the next call (calls never overlap: one worker at most)."""
        out, self._state = self._model.run(frames, self._state)
        return out if trim is None else out[:, :, :trim]
