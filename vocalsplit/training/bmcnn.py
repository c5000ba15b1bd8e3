"""A binary-mask CNN: which bins of the centre frame of a context window belong to the voice.

A small 2-D CNN (LeakyReLU, max pooling, dropout, dense layers) over a window of
log(1 + magnitude) frames predicts, for the centre frame, the voice probability of
each bin (sigmoid), trained with binary cross-entropy against the ideal binary mask.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from vocalsplit.training.architecture import Arch, ArchSpec, register
from vocalsplit.training.base import SeparationNet
from vocalsplit.training.batches import TensorBatch
from vocalsplit.training.config import LossSettings
from vocalsplit.training.net_configs import TWO_SOURCES, BmcnnConfig


class BinaryMaskCnn(SeparationNet):
    """``(batch, n + context - 1, bins)`` → voice probabilities ``(batch, 1, n, bins)``."""

    def __init__(self, config: BmcnnConfig) -> None:
        super().__init__(config.bins)
        c = self.config = config
        c1, c2 = c.channels
        pool_t1 = 3 if c.context >= 9 else 1
        self.convs = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1),
            nn.LeakyReLU(0.1),
            nn.MaxPool2d((pool_t1, 3)),
            nn.Conv2d(c1, c2, 3, padding=1),
            nn.LeakyReLU(0.1),
            nn.MaxPool2d((pool_t1, 3)),
            nn.Dropout(c.dropout),
        )
        with torch.no_grad():
            flat = self.convs(torch.zeros(1, 1, c.context, c.bins)).numel()
        self.dense = nn.Sequential(
            nn.Flatten(),
            nn.Linear(flat, c.dense),
            nn.LeakyReLU(0.1),
            nn.Dropout(c.dropout),
            nn.Linear(c.dense, c.bins),
        )

    def logits(self, magnitude: torch.Tensor) -> torch.Tensor:
        c = self.config
        x = self.features(magnitude)
        n = x.shape[1] - (c.context - 1)
        win = torch.stack([x[:, i : i + n] for i in range(c.context)], dim=2)  # (B, n, ctx, F)
        b = win.shape[0]
        z = self.dense(self.convs(win.reshape(b * n, 1, c.context, c.bins)))
        return z.reshape(b, 1, n, c.bins)

    def forward(self, magnitude: torch.Tensor, state: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        return torch.sigmoid(self.logits(magnitude)), state


def _build(config: BmcnnConfig, frames: int, sources: tuple[str, ...]) -> Arch:
    h = config.half
    return Arch(SPEC, BinaryMaskCnn(config), TWO_SOURCES, h, h, frames + 2 * h, mask_kind="probability")


def _loss(arch: Arch, batch: TensorBatch, settings: LossSettings, discriminative: bool) -> torch.Tensor:
    """Binary cross-entropy against the ideal binary mask (the voice louder than the rest)."""
    assert isinstance(arch.net, BinaryMaskCnn)
    logits = arch.net.logits(batch.mixture)[:, 0]
    targets = batch.targets
    ideal = (targets[:, 0] > targets[:, 1:].sum(dim=1)).float()
    return F.binary_cross_entropy_with_logits(logits, ideal)


SPEC = register(
    ArchSpec(
        "bmcnn",
        BmcnnConfig,
        _build,
        _loss,
        "Binary-mask CNN over a context window of log-magnitude frames, trained by vocalsplit",
    )
)
