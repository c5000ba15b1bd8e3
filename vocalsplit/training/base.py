"""What every trainable separator shares: input normalisation inside the net, state API."""

from __future__ import annotations

import math
from collections.abc import Callable
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
        # log(1 + x), not log1p(x): the ONNX graph computes Add then Log (ONNX has no log1p), and on
        # near-silent frames float32 log1p differs from it by up to ~1e-7 absolute, which a narrow
        # per-bin std amplifies past the export's parity tolerance; trained as it is served
        return (torch.log(magnitude + 1.0) - self.feat_mean) / self.feat_std

    def initial_state(self, batch: int) -> list[torch.Tensor]:
        return []

    def state_shape(self) -> list[int]:
        """Shape of each recurrent state after the batch axis (the manifest records it); ``[]`` if none."""
        return []


def blend_windows(
    magnitude: torch.Tensor, window_masks: Callable[[torch.Tensor], torch.Tensor], half: int, blend: torch.Tensor
) -> torch.Tensor:
    """Masks of a stream cut into windows of ``2 * half`` frames at 50 % overlap, blended to sum to one.

    ``magnitude`` ``(B, n + 2·half, F)`` with ``n`` a multiple of ``half``; ``window_masks``
    maps ``(K, 2·half, F)`` windows to ``(K, S, 2·half, F)`` masks; ``blend`` ``(2·half,)``
    weights whose halves sum to one (periodic Hann). Returns ``(B, S, n, F)``: every output
    frame is the weighted mean of the two windows covering it, so chunked streaming equals
    whole-file output whatever the chunk length (a multiple of ``half``)."""
    b, length, f = magnitude.shape
    blocks = magnitude.reshape(b, length // half, half, f)  # windows = consecutive block pairs
    windows = torch.cat([blocks[:, :-1], blocks[:, 1:]], dim=2)  # (B, K, 2·half, F)
    k = windows.shape[1]
    masks = window_masks(windows.reshape(b * k, 2 * half, f))
    sources = masks.shape[1]
    masks = masks.reshape(b, k, sources, 2 * half, f) * blend[:, None]
    # each output block = second half of window j + first half of window j + 1
    out = masks[:, :-1, :, half:] + masks[:, 1:, :, :half]  # (B, K-1, S, half, F)
    return out.permute(0, 2, 1, 3, 4).reshape(b, sources, (k - 1) * half, f)


def hann_blend(window: int) -> torch.Tensor:
    """Periodic Hann weights of ``window`` frames: its two halves sum to one."""
    n = torch.arange(window, dtype=torch.float32)
    return 0.5 - 0.5 * torch.cos(2 * math.pi * n / window)


def parameter_count(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
