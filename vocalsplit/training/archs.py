"""What differs between architectures during training: build, batch span, loss, manifest fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch.nn import functional as F

from vocalsplit.errors import UsageError
from vocalsplit.training.base import SeparationNet
from vocalsplit.training.batches import Batch
from vocalsplit.training.cnn import BinaryMaskCnn, BmcnnConfig, ChandnaCnn, CnnConfig
from vocalsplit.training.losses import discriminative_loss, phase_sensitive_targets, source_discriminative_loss
from vocalsplit.training.nets import Drnn, DrnnConfig

ARCHITECTURES = ("drnn", "cnn", "bmcnn")


@dataclass(frozen=True)
class LossSettings:
    kind: str = "mse"
    gamma: float = 0.05
    """DRNN discriminative weight."""
    alpha: float = 0.001
    beta: float = 0.01
    beta_vocals: float = 0.03
    """CNN discriminative weights (Chandna et al.)."""


@dataclass
class Arch:
    """A network with its training span and losses."""

    name: str
    net: SeparationNet
    left: int
    right: int
    train_span: int
    """Frames per training example (model input); centre frames are scored."""
    frame_multiple: int = 1
    mask_kind: str = "soft"
    windowed: bool = False
    """Trained on whole windows (no context frames) although streaming uses context."""

    @property
    def train_context(self) -> tuple[int, int]:
        return (0, 0) if self.windowed else (self.left, self.right)

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(getattr(self.net.config, "sources", ("vocals", "accompaniment")))

    def loss(self, batch: Batch, settings: LossSettings, discriminative: bool = True) -> torch.Tensor:
        mix = torch.from_numpy(batch.mixture)
        targets = torch.from_numpy(batch.targets)
        if isinstance(self.net, Drnn):
            masks, _ = self.net(mix, self.net.initial_state(mix.shape[0]))
            end = mix.shape[1] - self.right
            centre = mix[:, self.left : end]
            if settings.kind == "psa":
                projected = phase_sensitive_targets(torch.from_numpy(batch.sources_c[:, :, self.left : end])).float()
                targets = torch.stack([projected[:, 0], projected[:, 1:].sum(dim=1)], dim=1)
            return discriminative_loss(
                masks, centre, targets[:, 0], targets[:, 1], settings.kind, settings.gamma if discriminative else 0.0
            )
        if isinstance(self.net, ChandnaCnn):
            masks = self.net.window_masks(mix)
            weights = (settings.alpha, settings.beta, settings.beta_vocals) if discriminative else (0.0, 0.0, 0.0)
            return source_discriminative_loss(masks * mix[:, None], targets, self.sources, *weights)
        assert isinstance(self.net, BinaryMaskCnn)
        logits = self.net.logits(mix)[:, 0]
        ideal = (targets[:, 0] > targets[:, 1:].sum(dim=1)).float()
        return F.binary_cross_entropy_with_logits(logits, ideal)

    def example_input(self, batch: int = 1) -> torch.Tensor:
        frames = 2 * self.frame_multiple if self.frame_multiple > 1 else 8
        return torch.rand(batch, frames + self.left + self.right, self.net.config.bins)


def build_arch(name: str, bins: int, options: dict[str, Any], frames: int) -> Arch:
    """``options``: the architecture's config fields (others are ignored)."""
    if name == "drnn":
        net = Drnn(DrnnConfig(**_pick(DrnnConfig, options), bins=bins))
        h = net.config.half
        return Arch(name, net, h, h, frames + 2 * h)
    if name == "cnn":
        cnet = ChandnaCnn(CnnConfig(**_pick(CnnConfig, options), bins=bins))
        p = cnet.config.hop
        return Arch(name, cnet, p, p, cnet.config.window, frame_multiple=p, windowed=True)
    if name == "bmcnn":
        bnet = BinaryMaskCnn(BmcnnConfig(**_pick(BmcnnConfig, options), bins=bins))
        h = bnet.config.half
        return Arch(name, bnet, h, h, frames + 2 * h, mask_kind="probability")
    raise UsageError(f"unknown architecture {name!r}; allowed: {', '.join(ARCHITECTURES)}")


def _pick(cls: type, options: dict[str, Any]) -> dict[str, Any]:
    fields = {f for f in cls.__dataclass_fields__ if f != "bins"}  # type: ignore[attr-defined]
    return {k: v for k, v in options.items() if k in fields and v is not None}
