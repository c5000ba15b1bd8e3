"""The convolutional mask networks.

``ChandnaCnn`` — Chandna, Miron, Janer, Gómez (LVA/ICA 2017): a vertical
convolution across all frequency bins of each frame (timbre), a horizontal
convolution over time, a fully connected ReLU bottleneck, and a mirrored decoder
(fully connected layer, transposed convolutions) with one output per source, turned
into soft masks ``m_n = |ŷ_n| / Σ_k |ŷ_k|``. It works on windows of ``window``
frames; for streaming, windows sit on a fixed grid at 50 % overlap and their masks
are blended with periodic-Hann weights that sum to one, so chunked output equals
whole-file output.

``BinaryMaskCnn`` — a small 2-D CNN (LeakyReLU, max pooling, dropout, dense layers)
that predicts, for the centre frame of a context window of log(1 + magnitude)
frames, which bins belong to the voice (sigmoid, trained with binary cross-entropy
against the ideal binary mask).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from vocalsplit.errors import UsageError
from vocalsplit.training.base import SeparationNet


@dataclass(frozen=True)
class CnnConfig:
    bins: int = 513
    window: int = 30
    """Frames per window (the paper's T); must be even (windows overlap by half)."""
    vertical_filters: int = 50
    horizontal_filters: int = 50
    horizontal_kernel: int = 15
    bottleneck: int = 128
    sources: tuple[str, ...] = ("vocals", "accompaniment")
    mask_floor: float = 1e-2

    def __post_init__(self) -> None:
        if self.window < 2 or self.window % 2:
            raise UsageError(f"--window {self.window}: must be even and >= 2 (windows overlap by half)")
        if not 1 <= self.horizontal_kernel <= self.window:
            raise UsageError(f"--horizontal-kernel {self.horizontal_kernel}: must be between 1 and the window")
        if len(self.sources) < 2:
            raise UsageError("a CNN separates at least two sources")

    @property
    def hop(self) -> int:
        return self.window // 2

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "sources": list(self.sources)}


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
        n = torch.arange(c.window, dtype=torch.float32)
        self.blend: torch.Tensor
        self.register_buffer("blend", 0.5 - 0.5 * torch.cos(2 * math.pi * n / c.window))

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
        c = self.config
        p = c.hop
        b, length, f = magnitude.shape
        blocks = magnitude.reshape(b, length // p, p, f)  # windows = consecutive block pairs
        windows = torch.cat([blocks[:, :-1], blocks[:, 1:]], dim=2)  # (B, K, T, F)
        k = windows.shape[1]
        masks = self.window_masks(windows.reshape(b * k, c.window, f))
        masks = masks.reshape(b, k, len(c.sources), c.window, f) * self.blend[:, None]
        # each output block = second half of window j + first half of window j + 1
        out = masks[:, :-1, :, p:] + masks[:, 1:, :, :p]  # (B, K-1, S, P, F)
        return out.permute(0, 2, 1, 3, 4).reshape(b, len(c.sources), (k - 1) * p, f), state


@dataclass(frozen=True)
class BmcnnConfig:
    bins: int = 513
    context: int = 9
    """Frames in the input window (odd); the output is the centre frame's mask."""
    channels: tuple[int, int] = (16, 32)
    dense: int = 256
    dropout: float = 0.25
    sources: tuple[str, ...] = field(default=("vocals", "accompaniment"))

    def __post_init__(self) -> None:
        if self.context < 3 or self.context % 2 == 0:
            raise UsageError(f"--context {self.context}: must be odd and >= 3")

    @property
    def half(self) -> int:
        return (self.context - 1) // 2

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "sources": list(self.sources), "channels": list(self.channels)}


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
