"""The architecture registry: what training and export need to know about each network.

An architecture is its net file plus one :func:`register` call in it, giving an
:class:`ArchSpec`: the config dataclass, how to build the network with its
training span, its loss, the sentence its manifests carry, and optionally how
to adapt an older checkpoint. Trainer and exporter only ever talk to
:class:`Arch` and :class:`ArchSpec`; nothing dispatches on network classes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import torch

from vocalsplit.errors import UsageError
from vocalsplit.training.base import SeparationNet
from vocalsplit.training.batches import TensorBatch
from vocalsplit.training.config import LossSettings
from vocalsplit.training.net_configs import TWO_SOURCES

BUILTIN_MODULES = (
    "vocalsplit.training.drnn",
    "vocalsplit.training.cnn",
    "vocalsplit.training.bmcnn",
    "vocalsplit.training.lstm",
)
"""Net files whose import registers the built-in architectures."""

LossFn = Callable[["Arch", TensorBatch, LossSettings, bool], torch.Tensor]
"""(arch, batch, settings, discriminative) → scalar loss; ``discriminative=False`` for validation."""


@dataclass(frozen=True)
class ArchSpec:
    name: str
    config: type[Any]
    """Frozen dataclass of the network's options; has a ``bins`` field and ``to_dict()``."""
    build: Callable[[Any, int, tuple[str, ...]], Arch]
    """(config, training frames, sources) → the network with its spans."""
    loss: LossFn
    description: str
    """One sentence for the manifest."""
    multi_source: bool = False
    """Separates more than two sources (needs stems datasets)."""
    adapt_checkpoint: Callable[[SeparationNet, dict[str, torch.Tensor]], dict[str, torch.Tensor]] | None = None
    """Makes an older checkpoint's weights fit (``--init-from``); ``None`` loads them as they are."""
    widen_band: Callable[[SeparationNet, dict[str, torch.Tensor]], dict[str, torch.Tensor]] | None = None
    """Fits the weights of a model with fewer, aligned bins (``--init-from`` a 16 kHz model); ``None``: cannot."""


@dataclass
class Arch:
    """A built network with its training span and how it streams."""

    spec: ArchSpec
    net: SeparationNet
    sources: tuple[str, ...]
    left: int
    right: int
    train_span: int
    """Frames per training example (model input); centre frames are scored."""
    frame_multiple: int = 1
    mask_kind: str = "soft"
    windowed: bool = False
    """Trained on whole windows (no context frames) although streaming uses context."""

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def train_context(self) -> tuple[int, int]:
        return (0, 0) if self.windowed else (self.left, self.right)

    def loss(self, batch: TensorBatch, settings: LossSettings, discriminative: bool = True) -> torch.Tensor:
        return self.spec.loss(self, batch, settings, discriminative)

    def example_input(self, batch: int = 1) -> torch.Tensor:
        frames = 2 * self.frame_multiple if self.frame_multiple > 1 else 8
        return torch.rand(batch, frames + self.left + self.right, self.net.config.bins)


_REGISTRY: dict[str, ArchSpec] = {}


def register(spec: ArchSpec) -> ArchSpec:
    """Make ``spec`` trainable by name; registering a name twice is an error."""
    if spec.name in _REGISTRY and _REGISTRY[spec.name] is not spec:
        raise ValueError(f"architecture {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec
    return spec


def architectures() -> dict[str, ArchSpec]:
    """Every registered architecture by name, the built-in ones included."""
    for module in BUILTIN_MODULES:
        importlib.import_module(module)
    return dict(_REGISTRY)


def get_spec(name: str) -> ArchSpec:
    known = architectures()
    if name not in known:
        raise UsageError(f"unknown architecture {name!r}; allowed: {', '.join(known)}")
    return known[name]


def build_arch(
    name: str, bins: int, options: dict[str, Any], frames: int, sources: tuple[str, ...] = TWO_SOURCES
) -> Arch:
    """``options``: the architecture's config fields; others, and ``None`` values, are ignored."""
    spec = get_spec(name)
    names = {f.name for f in fields(spec.config) if f.name != "bins"}
    given = {**options, "sources": tuple(sources)}
    config = spec.config(**{k: v for k, v in given.items() if k in names and v is not None}, bins=bins)
    return spec.build(config, frames, sources)
