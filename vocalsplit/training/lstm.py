"""The LSTM soft-mask network (Bhular's guide, DSD100-style 44.1 kHz stems), full band.

Per frame: log-magnitude features of every bin → a dense bottleneck (tanh) → LSTM
layers over time (bidirectional by default) → a dense layer over [bottleneck, LSTM]
(skip connection, as Open-Unmix) → a dense sigmoid per bin: the voice mask ``m``;
the accompaniment gets ``1 − m`` (the soft-mask layer), so the estimates sum to the mixture.

A bidirectional LSTM needs the future, so the network runs on windows of ``window``
frames at 50 % overlap whose masks are blended with weights that sum to one
(``blend_windows``): served exactly, chunk by chunk, with flat memory, at a latency of
one window.
"""

from __future__ import annotations

import torch
from torch import nn

from vocalsplit.choices import Loss
from vocalsplit.training.architecture import Arch, ArchSpec, register
from vocalsplit.training.base import SeparationNet, blend_windows, hann_blend
from vocalsplit.training.batches import TensorBatch
from vocalsplit.training.config import LossSettings
from vocalsplit.training.losses import discriminative_loss, phase_sensitive_targets
from vocalsplit.training.net_configs import TWO_SOURCES, LstmConfig


class LstmMaskNet(SeparationNet):
    """Streaming: ``(batch, n + window, bins)`` → masks ``(batch, 2, n, bins)``, n a multiple of window/2."""

    def __init__(self, config: LstmConfig) -> None:
        super().__init__(config.bins)
        c = self.config = config
        self.encode = nn.Sequential(nn.Linear(c.bins, c.bottleneck), nn.Tanh())
        per_direction = c.hidden // 2 if c.bidirectional else c.hidden
        self.lstm = nn.LSTM(
            c.bottleneck,
            per_direction,
            num_layers=c.layers,
            batch_first=True,
            bidirectional=c.bidirectional,
            dropout=c.dropout if c.layers > 1 else 0.0,
        )
        self.decode = nn.Sequential(nn.Linear(c.bottleneck + c.hidden, c.hidden), nn.ReLU(), nn.Dropout(c.dropout))
        self.head = nn.Linear(c.hidden, c.bins)
        self.blend: torch.Tensor
        self.register_buffer("blend", hann_blend(c.window))

    def window_masks(self, magnitude: torch.Tensor) -> torch.Tensor:
        """Masks for whole windows: ``(B, window, bins)`` → ``(B, 2, window, bins)``."""
        z = self.encode(self.features(magnitude))
        y, _ = self.lstm(z)
        voice = torch.sigmoid(self.head(self.decode(torch.cat([z, y], dim=-1))))
        return torch.stack([voice, 1.0 - voice], dim=1)

    def forward(self, magnitude: torch.Tensor, state: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        return blend_windows(magnitude, self.window_masks, self.config.hop, self.blend), state


def _build(config: LstmConfig, frames: int, sources: tuple[str, ...]) -> Arch:
    p = config.hop
    return Arch(SPEC, LstmMaskNet(config), TWO_SOURCES, p, p, config.window, frame_multiple=p, windowed=True)


def _loss(arch: Arch, batch: TensorBatch, settings: LossSettings, discriminative: bool) -> torch.Tensor:
    """Squared error of both estimates (``psa``: against phase-sensitive targets), Huang et al.'s γ term."""
    assert isinstance(arch.net, LstmMaskNet)
    masks = arch.net.window_masks(batch.mixture)
    targets = batch.targets
    if settings.kind == Loss.PSA:
        projected = phase_sensitive_targets(batch.sources_c).float()
        targets = torch.stack([projected[:, 0], projected[:, 1:].sum(dim=1)], dim=1)
    gamma = settings.gamma if discriminative else 0.0
    return discriminative_loss(masks, batch.mixture, targets[:, 0], targets[:, 1], settings.kind, gamma, batch.weights)


SPEC = register(
    ArchSpec(
        "lstm",
        LstmConfig,
        _build,
        _loss,
        "LSTM soft-mask network (Bhular's guide), bidirectional over blended windows, full band, trained by vocalsplit",
    )
)
