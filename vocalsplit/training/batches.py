"""Training batches with the papers' augmentations, formed in the STFT domain.

Because the STFT is linear, the mixture of a voice excerpt and a music excerpt is
the sum of their complex STFTs: remixing (voice of one clip with music of
another), circular shifts of the voice against the music and random gains cost
nothing, and voice + accompaniment = mixture holds exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vocalsplit.training.datasets import SpectralSet


@dataclass(frozen=True)
class Augment:
    remix: float = 0.5
    """Probability that an example pairs the voice with music from elsewhere."""
    shift_frames: int = 64
    """Largest circular shift of the voice against its own music, in frames."""
    gain_db: float = 3.0
    """Each source gets a uniform random gain in ±gain_db."""


@dataclass
class Batch:
    mixture: np.ndarray  # (B, frames + left + right, bins) magnitudes, model input
    voice: np.ndarray  # (B, frames, bins) magnitudes, target
    accompaniment: np.ndarray  # (B, frames, bins)
    voice_c: np.ndarray  # complex, same frames as mixture
    accompaniment_c: np.ndarray


def sample_batch(
    data: SpectralSet, rng: np.random.Generator, batch: int, frames: int, left: int, right: int,
    augment: Augment,
) -> Batch:
    span = frames + left + right
    n = data.frames
    idx = np.arange(span)
    v_start = rng.integers(0, n, size=batch)
    shift = rng.integers(-augment.shift_frames, augment.shift_frames + 1, size=batch)
    a_start = np.where(rng.random(batch) < augment.remix, rng.integers(0, n, size=batch), v_start + shift)
    v = data.voice[(v_start[:, None] + idx) % n]
    a = data.accompaniment[(a_start[:, None] + idx) % n]
    gains = 10.0 ** (rng.uniform(-augment.gain_db, augment.gain_db, size=(2, batch, 1, 1)) / 20.0)
    v = (v * gains[0]).astype(np.complex64)
    a = (a * gains[1]).astype(np.complex64)
    return _make(v, a, left, right)


def sequential_batches(data: SpectralSet, batch: int, frames: int, left: int, right: int) -> list[Batch]:
    """The whole set, unaugmented, cut into consecutive sequences (for validation)."""
    span = frames + left + right
    starts = np.arange(0, max(1, data.frames - span + 1), frames)
    out = []
    for i in range(0, len(starts), batch):
        s = starts[i : i + batch]
        idx = s[:, None] + np.arange(span)
        idx = np.minimum(idx, data.frames - 1)
        out.append(_make(data.voice[idx], data.accompaniment[idx], left, right))
    return out


def _make(v: np.ndarray, a: np.ndarray, left: int, right: int) -> Batch:
    end = v.shape[1] - right
    return Batch(
        mixture=np.abs(v + a).astype(np.float32),
        voice=np.abs(v[:, left:end]).astype(np.float32),
        accompaniment=np.abs(a[:, left:end]).astype(np.float32),
        voice_c=v, accompaniment_c=a,
    )
