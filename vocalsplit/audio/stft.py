"""The one STFT definition used by training, export and inference.

Frames are laid out so that streaming and whole-signal processing agree exactly:
the signal is preceded by ``n_fft - hop`` zeros and followed by enough zeros that
every real sample is covered by ``n_fft // hop`` frames. With a periodic Hann
window and weighted overlap-add (synthesis window = analysis window, divided by
the summed squared window) an unmodified STFT reconstructs its input to float
precision, and a signal of ``L`` samples has ``(L - 1) // hop + n_fft // hop``
frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vocalsplit.errors import ModelError


@dataclass(frozen=True)
class StftParams:
    """STFT settings shared by every model and the training features."""

    n_fft: int
    hop: int
    window: str = "hann"

    def __post_init__(self) -> None:
        if self.window != "hann":
            raise ModelError(f"unsupported STFT window {self.window!r}; allowed: 'hann'")
        if self.n_fft <= 0 or self.hop <= 0 or self.n_fft % self.hop != 0:
            raise ModelError(f"n_fft ({self.n_fft}) must be a positive multiple of hop ({self.hop})")
        if self.hop * 2 > self.n_fft:
            raise ModelError(f"hop ({self.hop}) must be at most half of n_fft ({self.n_fft})")

    @property
    def bins(self) -> int:
        return self.n_fft // 2 + 1

    @property
    def overlap(self) -> int:
        """Frames covering each sample (``n_fft // hop``)."""
        return self.n_fft // self.hop

    def frame_count(self, samples: int) -> int:
        """Frames produced for a signal of ``samples`` samples (0 for an empty one)."""
        if samples <= 0:
            return 0
        return (samples - 1) // self.hop + self.overlap

    def window_array(self) -> np.ndarray:
        """Periodic Hann window, shape ``(n_fft,)``, float64."""
        n = np.arange(self.n_fft)
        return 0.5 - 0.5 * np.cos(2.0 * np.pi * n / self.n_fft)


class StreamingStft:
    """Analysis STFT fed block by block; output equals :func:`stft` of the whole signal.

    Frames come out ``(channels, bins, k)``, or ``(channels, k, bins)`` with
    ``frames_first`` (the FFT's own layout, no copy: what the separation pipeline uses)."""

    def __init__(self, params: StftParams, channels: int, frames_first: bool = False) -> None:
        self.params = params
        self._frames_first = frames_first
        self._window = params.window_array().astype(np.float32)
        self._buf = np.zeros((channels, params.n_fft - params.hop), dtype=np.float32)
        self._samples_in = 0
        self._frames_out = 0

    def push(self, x: np.ndarray) -> np.ndarray:
        """Add samples ``(channels, n)``; return the new frames, complex64."""
        self._samples_in += x.shape[1]
        self._buf = np.concatenate([self._buf, x.astype(np.float32, copy=False)], axis=1)
        return self._emit()

    def flush(self) -> np.ndarray:
        """Pad the end with zeros and return the last frames."""
        p = self.params
        needed = p.frame_count(self._samples_in) - self._frames_out
        if needed <= 0:
            return self._layout(np.zeros((self._buf.shape[0], 0, p.bins), dtype=np.complex64))
        total = (needed - 1) * p.hop + p.n_fft
        pad = max(0, total - self._buf.shape[1])
        self._buf = np.concatenate([self._buf, np.zeros((self._buf.shape[0], pad), np.float32)], axis=1)
        return self._emit(limit=needed)

    def _emit(self, limit: int | None = None) -> np.ndarray:
        p = self.params
        available = 0 if self._buf.shape[1] < p.n_fft else (self._buf.shape[1] - p.n_fft) // p.hop + 1
        k = available if limit is None else min(available, limit)
        if k == 0:
            return self._layout(np.zeros((self._buf.shape[0], 0, p.bins), dtype=np.complex64))
        span = self._buf[:, : (k - 1) * p.hop + p.n_fft]
        frames = np.lib.stride_tricks.sliding_window_view(span, p.n_fft, axis=1)[:, :: p.hop]
        spec = np.fft.rfft(frames * self._window, axis=-1)  # (C, k, bins), complex64 from float32
        self._buf = self._buf[:, k * p.hop :]
        self._frames_out += k
        return self._layout(spec.astype(np.complex64, copy=False))

    def _layout(self, spec: np.ndarray) -> np.ndarray:
        return spec if self._frames_first else np.ascontiguousarray(spec.transpose(0, 2, 1))


class StreamingIstft:
    """Synthesis by weighted overlap-add, fed frame chunks; trims the analysis padding.

    Frames go in ``(channels, bins, k)``, or ``(channels, k, bins)`` with ``frames_first``."""

    def __init__(self, params: StftParams, channels: int, frames_first: bool = False) -> None:
        self.params = params
        self._frames_first = frames_first
        w = params.window_array()
        r, h = params.overlap, params.hop
        self._window = w.astype(np.float32)
        # every output sample is covered by all r frames, so the squared-window sum is
        # periodic in the hop: one normaliser of length hop serves the whole stream
        self._norm = (w.reshape(r, h) ** 2).sum(axis=0).astype(np.float32)
        self._pending = np.zeros((channels, r - 1, h), dtype=np.float32)
        self._to_discard = r - 1  # hop segments of leading analysis padding
        self._samples_out = 0

    def push(self, spec: np.ndarray) -> np.ndarray:
        """Add frames; return finished samples ``(channels, n)`` float32."""
        axis = 2 if self._frames_first else 1
        frames = np.fft.irfft(spec.astype(np.complex64, copy=False), n=self.params.n_fft, axis=axis)
        return self._overlap_add(frames if self._frames_first else frames.transpose(0, 2, 1))

    def push_frames(self, frames: np.ndarray) -> np.ndarray:
        """Add time-domain frames ``(channels, k, n_fft)`` (what :meth:`push` gets from the inverse FFT)."""
        return self._overlap_add(frames)

    def _overlap_add(self, frames: np.ndarray) -> np.ndarray:
        p = self.params
        r, h = p.overlap, p.hop
        c, k, _ = frames.shape
        if k == 0:
            return np.zeros((c, 0), dtype=np.float32)
        parts = (frames * self._window).reshape(c, k, r, h)
        acc = np.zeros((c, k + r - 1, h), dtype=np.float32)
        acc[:, : r - 1] += self._pending
        for i in range(r):
            acc[:, i : i + k] += parts[:, :, i]
        done, self._pending = acc[:, :k], acc[:, k:]
        drop = min(self._to_discard, k)
        self._to_discard -= drop
        out = (done[:, drop:] / self._norm).reshape(c, -1)
        self._samples_out += out.shape[1]
        return out

    def finish(self, total_samples: int) -> np.ndarray:
        """Return the remaining samples so the stream holds at least ``total_samples``.

        :meth:`push` may already have returned a few samples past the end (the zero
        padding); the caller trims the stream to ``total_samples``.
        """
        c = self._pending.shape[0]
        remaining = total_samples - self._samples_out
        if remaining <= 0:
            return np.zeros((c, 0), dtype=np.float32)
        tail = (self._pending[:, self._to_discard :] / self._norm).reshape(c, -1)
        out = np.zeros((c, remaining), dtype=np.float32)
        n = min(remaining, tail.shape[1])
        out[:, :n] = tail[:, :n]
        self._samples_out += remaining
        return out


def stft(x: np.ndarray, params: StftParams) -> np.ndarray:
    """Whole-signal STFT of ``(channels, samples)``; returns ``(channels, bins, frames)``."""
    s = StreamingStft(params, x.shape[0])
    return np.concatenate([s.push(x), s.flush()], axis=2)


def istft(spec: np.ndarray, params: StftParams, samples: int) -> np.ndarray:
    """Inverse of :func:`stft`: ``(channels, bins, frames)`` to ``(channels, samples)``."""
    s = StreamingIstft(params, spec.shape[0])
    return np.concatenate([s.push(spec), s.finish(samples)], axis=1)[:, :samples]
