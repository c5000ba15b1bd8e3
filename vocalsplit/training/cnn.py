"""Chandna, Miron, Janer, Gómez (LVA/ICA 2017): the convolutional multi-source soft-mask network.

A vertical convolution across all frequency bins of each frame (timbre), a
horizontal convolution over time, a fully connected ReLU bottleneck, and a
mirrored decoder (fully connected layer, transposed convolutions) with one output
per source, turned into soft masks ``m_n = |ŷ_n| / Σ_k |ŷ_k|``. It works on
windows of ``window`` frames; for streaming, windows sit on a fixed grid at 50 %
overlap and their masks are blended with periodic-Hann weights that sum to one, so
chunked output equals whole-file output.
"""

from __future__ import annotations

import torch
from torch import nn

from vocalsplit.training.architecture import Arch, ArchSpec, register
from vocalsplit.training.base import SeparationNet, blend_windows, hann_blend
from vocalsplit.training.batches import TensorBatch
from vocalsplit.training.config import LossSettings
from vocalsplit.training.losses import source_discriminative_loss
from vocalsplit.training.net_configs import CnnConfig


class ChandnaCnn(SeparationNet):
    """Streaming: ``(batch, n + window, bins)`` → masks ``(batch, sources, n, bins)``, n a multiple of window/2."""

    def __init__(self, config: CnnConfig) -> None:
        super().__init__(config.bins)
        c = self.config = config
        frames_h = c.window - c.horizontal_kernel + 1
        self._flat = c.horizontal_filters * frames_h
        self.vertical = nn.Conv2d(1, c.vertical_filters, (1, c.bins))
        self.horizontal = nn.Conv2d(c.vertical_filters, c.horizontal_filters, (c.horizontal_kernel, 1))
        self.encode = nn.Sequential(nn.Linear(self._flat, c.bottleneck), nn.ReLU())
        self.decode = nn.Sequential(nn.Linear(c.bottleneck, self._flat), nn.ReLU())
        self.horizontal_t = nn.ConvTranspose2d(c.horizontal_filters, c.vertical_filters, (c.horizontal_kernel, 1))
        self.vertical_t = nn.ConvTranspose2d(c.vertical_filters, len(c.sources), (1, c.bins))
        self.blend: torch.Tensor
        self.register_buffer("blend", hann_blend(c.window))

    def window_masks(self, magnitude: torch.Tensor) -> torch.Tensor:
        """Masks for whole windows: ``(B, window, bins)`` → ``(B, sources, window, bins)``."""
        c = self.config
        x = self.features(magnitude).unsqueeze(1)  # (B, 1, T, F)
        h = self.horizontal(self.vertical(x))  # (B, N2, T', 1)
        z = self.decode(self.encode(h.flatten(1))).reshape(h.shape)
        y = self.vertical_t(self.horizontal_t(z)).abs()  # (B, S, T, F)
        d = c.mask_floor
        return (y + d) / (y.sum(dim=1, keepdim=True) + len(c.sources) * d)

    def forward(self, magnitude: torch.Tensor, state: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        return blend_windows(magnitude, self.window_masks, self.config.hop, self.blend), state


def _build(config: CnnConfig, frames: int, sources: tuple[str, ...]) -> Arch:
    net = ChandnaCnn(config)
    p = config.hop
    return Arch(SPEC, net, config.sources, p, p, config.window, frame_multiple=p, windowed=True)


def _loss(arch: Arch, batch: TensorBatch, settings: LossSettings, discriminative: bool) -> torch.Tensor:
    assert isinstance(arch.net, ChandnaCnn)
    mix = batch.mixture
    masks = arch.net.window_masks(mix)
    weights = (settings.alpha, settings.beta, settings.beta_vocals) if discriminative else (0.0, 0.0, 0.0)
    return source_discriminative_loss(masks * mix[:, None], batch.targets, arch.sources, *weights)


SPEC = register(
    ArchSpec(
        "cnn",
        CnnConfig,
        _build,
        _loss,
        "Convolutional soft-mask network, vertical/horizontal convolutions (Chandna et al. 2017), trained by vocalsplit",
        multi_source=True,
    )
)
