"""What every trainable separator shares: input normalisation inside the net, state API."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class SeparationNet(nn.Module):
    """Log compression and per-bin standardisation stored inside the network.

    Subclasses implement ``forward(magnitude, state) -> (masks, new_state)`` with
    ``magnitude`` ``(batch, frames, bins)`` and masks ``(batch, sources_or_1, frames_out, bins)``.
    """

    feat_mean: torch.Tensor
    feat_std: torch.Tensor
    config: Any
    state_names: list[str] = []
    state_layers: int = 1

    def __init__(self, bins: int) -> None:
        super().__init__()
        self.register_buffer("feat_mean", torch.zeros(bins))
        self.register_buffer("feat_std", torch.ones(bins))

    def set_normalisation(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        self.feat_mean.copy_(mean)
        self.feat_std.copy_(std.clamp_min(1e-3))

    def features(self, magnitude: torch.Tensor) -> torch.Tensor:
        return (torch.log1p(magnitude) - self.feat_mean) / self.feat_std

    def initial_state(self, batch: int) -> list[torch.Tensor]:
        return []

    def state_shape(self) -> list[int]:
        """Shape of each recurrent state after the batch axis (the manifest records it); ``[]`` if none."""
        return []


def parameter_count(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
