"""Training batches with the papers' augmentations, formed in the STFT domain.

Because the STFT is linear, the mixture of a voice excerpt and a music excerpt is
the sum of their complex STFTs: remixing (voice of one clip with music of
another), circular shifts of the voice against the music and random gains cost
nothing, and the sources always sum exactly to the mixture.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vocalsplit.training.config import Augment
from vocalsplit.training.datasets import SpectralSet


@dataclass
class TrainingBatch:
    mixture: np.ndarray
    """``(B, frames + left + right, bins)`` magnitudes: the model input."""
    targets: np.ndarray
    """``(B, sources, frames, bins)`` source magnitudes for the centre frames."""
    sources_c: np.ndarray
    """``(B, sources, frames + left + right, bins)`` complex source STFTs."""
    weights: np.ndarray | None = None
    """``(B, 1, bins)`` loss weights: 0 for bins a source does not really hold (above a
    16 kHz voice's band); None: every bin counts."""

    def to(self, device: torch.device) -> TensorBatch:
        """The batch as tensors on ``device`` (what the losses take)."""
        return TensorBatch(
            torch.from_numpy(self.mixture).to(device),
            torch.from_numpy(self.targets).to(device),
            torch.from_numpy(self.sources_c).to(device),
            None if self.weights is None else torch.from_numpy(self.weights).to(device),
        )

    @property
    def voice(self) -> np.ndarray:
        return self.targets[:, 0]

    @property
    def accompaniment(self) -> np.ndarray:
        return self.targets[:, 1:].sum(axis=1) if self.targets.shape[1] > 2 else self.targets[:, 1]


@dataclass
class TensorBatch:
    """A :class:`TrainingBatch` as tensors on the training device (same shapes)."""

    mixture: torch.Tensor
    targets: torch.Tensor
    sources_c: torch.Tensor
    weights: torch.Tensor | None = None


def sample_batch(
    data: SpectralSet,
    rng: np.random.Generator,
    batch: int,
    frames: int,
    left: int,
    right: int,
    augment: Augment,
) -> TrainingBatch:
    span = frames + left + right
    n = data.frames
    s = data.sources.shape[0]
    idx = np.arange(span)
    v_start = rng.integers(0, n, size=batch)
    starts = [v_start]
    for _ in range(1, s):
        shift = rng.integers(-augment.shift_frames, augment.shift_frames + 1, size=batch)
        starts.append(np.where(rng.random(batch) < augment.remix, rng.integers(0, n, size=batch), v_start + shift))
    gains = 10.0 ** (rng.uniform(-augment.gain_db, augment.gain_db, size=(s, batch, 1, 1)) / 20.0)
    src = np.stack([data.sources[k][(starts[k][:, None] + idx) % n] * gains[k] for k in range(s)], axis=1)
    return _make(src.astype(np.complex64), left, right)


def sequential_batches(data: SpectralSet, batch: int, frames: int, left: int, right: int) -> list[TrainingBatch]:
    """The whole set, unaugmented, cut into consecutive sequences (for validation)."""
    span = frames + left + right
    starts = np.arange(0, max(1, data.frames - span + 1), frames)
    out = []
    for i in range(0, len(starts), batch):
        idx = np.minimum(starts[i : i + batch, None] + np.arange(span), data.frames - 1)
        out.append(_make(data.sources[:, idx].transpose(1, 0, 2, 3), left, right))
    return out


def _make(src: np.ndarray, left: int, right: int) -> TrainingBatch:
    end = src.shape[2] - right
    return TrainingBatch(
        mixture=np.abs(src.sum(axis=1)).astype(np.float32),
        targets=np.abs(src[:, :, left:end]).astype(np.float32),
        sources_c=src,
    )
