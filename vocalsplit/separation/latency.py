"""The algorithmic latency of a separation stream: how much later than the input its stems can leave.

A sample's separated value is final once every STFT frame that covers it has been
masked and overlap-added, and a frame's mask needs the model's right-context frames
and the rest of its chunk. That bounds the delay from the model's side; the sample-
rate converters hold back output of their own (soxr works on internal blocks), which
is measured here rather than assumed. Computing time comes on top of all of it
(``benchmarks/latency.py`` measures the whole).
"""

from __future__ import annotations

from dataclasses import dataclass

from vocalsplit.audio.resample import held_back
from vocalsplit.catalog.manifest import Manifest
from vocalsplit.errors import UsageError
from vocalsplit.separation.shifts import shift_offsets


@dataclass(frozen=True)
class Latency:
    """Worst-case delays in seconds, by cause."""

    window: float
    """One STFT frame: a sample is final only when the last frame covering it is complete."""
    lookahead: float
    """The model's right-context frames."""
    chunk: float
    """Frames waiting for the rest of their chunk (``--chunk-seconds``)."""
    shifts: float
    """The largest frame-grid offset of ``--shifts``."""
    resampling: float
    """Output the converters to and from the model's rate hold back (0 at the model's rate)."""

    @property
    def total(self) -> float:
        return self.window + self.lookahead + self.chunk + self.shifts + self.resampling

    def breakdown(self) -> str:
        """``STFT window 64 + look-ahead 32 ms``: the causes that add up to :attr:`total`."""
        parts = [("STFT window", self.window), ("look-ahead", self.lookahead), ("chunk", self.chunk)]
        parts += [("shifts", self.shifts), ("resampling", self.resampling)]
        return " + ".join(f"{name} {1000 * value:.0f}" for name, value in parts if value > 0) + " ms"

    def describe(self) -> str:
        return f"at most {1000 * self.total:.0f} ms ({self.breakdown()}) plus computing time"


def stream_latency(manifest: Manifest, chunk: int, shifts: int, file_rate: int) -> Latency:
    """The delay bound of a stream with these settings on input at ``file_rate``."""
    rate, stft = manifest.sample_rate, manifest.stft
    frames = -(-chunk // manifest.frame_multiple) * manifest.frame_multiple  # the planner rounds up
    offsets = shift_offsets(shifts, stft.hop, rate, file_rate)
    return Latency(
        window=stft.n_fft / rate,
        lookahead=manifest.context_right * stft.hop / rate,
        chunk=(frames - 1) * stft.hop / rate,
        shifts=max(offsets) / file_rate,
        resampling=held_back(file_rate, rate) + held_back(rate, file_rate),
    )


def fit_chunk(manifest: Manifest, target: float, shifts: int, file_rate: int) -> tuple[int, Latency]:
    """The largest chunk (frames) whose latency stays within ``target`` seconds, and that latency.

    Raises a UsageError naming the least latency these settings allow when even one frame is too long."""
    least = stream_latency(manifest, 1, shifts, file_rate)
    if least.total > target:
        hints = ["--shifts 1 lowers it"] if shifts > 1 else []
        if least.resampling:
            hints.append(f"input at {manifest.sample_rate} Hz needs no resampling")
        raise UsageError(
            f"--latency {1000 * target:g} ms: model {manifest.name!r} on {file_rate} Hz input needs at least "
            f"{1000 * least.total:.0f} ms ({least.breakdown()}{''.join('; ' + h for h in hints)})"
        )
    spare = target - least.total
    chunk = (
        1 + int(spare * manifest.sample_rate / manifest.stft.hop) // manifest.frame_multiple * manifest.frame_multiple
    )
    return chunk, stream_latency(manifest, chunk, shifts, file_rate)
