"""Streaming sample-rate conversion with soxr (output aligned with the input)."""

from __future__ import annotations

import numpy as np
import soxr


class StreamResampler:
    """Resample ``(channels, n)`` blocks; the identity when both rates are equal."""

    def __init__(self, in_rate: int, out_rate: int, channels: int) -> None:
        self.in_rate, self.out_rate, self.channels = in_rate, out_rate, channels
        self._stream = (
            None
            if in_rate == out_rate
            else soxr.ResampleStream(in_rate, out_rate, channels, dtype="float32", quality="HQ")
        )

    def push(self, x: np.ndarray, last: bool = False) -> np.ndarray:
        """Feed ``(channels, n)`` float32; returns the converted samples available so far."""
        if self._stream is None:
            return x
        y = self._stream.resample_chunk(np.ascontiguousarray(x.T, dtype=np.float32), last=last)
        return np.ascontiguousarray(y.T)

    def flush(self) -> np.ndarray:
        """Drain the converter's delay line at the end of the stream."""
        return self.push(np.zeros((self.channels, 0), dtype=np.float32), last=True)
