"""A new architecture is its net plus one registration: trained, exported and separated with no other change."""

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import make_stems, tone_mix

torch = pytest.importorskip("torch")

from vocalsplit.choices import Architecture  # noqa: E402
from vocalsplit.training.architecture import Arch, ArchSpec, architectures, register  # noqa: E402
from vocalsplit.training.base import SeparationNet  # noqa: E402
from vocalsplit.training.batches import TensorBatch  # noqa: E402
from vocalsplit.training.config import DataSpec, LossSettings, TrainConfig  # noqa: E402


@dataclass(frozen=True)
class ToyConfig:
    bins: int = 129
    sources: tuple[str, ...] = ("vocals", "accompaniment")

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "sources": list(self.sources)}


class ToyNet(SeparationNet):
    """One weight and bias per bin: the voice mask of each bin is sigmoid(w · feature + b)."""

    def __init__(self, config: ToyConfig) -> None:
        super().__init__(config.bins)
        self.config = config
        self.weight = torch.nn.Parameter(torch.zeros(config.bins))
        self.bias = torch.nn.Parameter(torch.zeros(config.bins))

    def forward(self, magnitude, state):  # type: ignore[no-untyped-def]
        voice = torch.sigmoid(self.features(magnitude) * self.weight + self.bias)
        return torch.stack([voice, 1 - voice], dim=1), state


def _build(config: ToyConfig, frames: int, sources: tuple[str, ...]) -> Arch:
    return Arch(TOY, ToyNet(config), config.sources, 0, 0, frames)


def _loss(arch: Arch, batch: TensorBatch, settings: LossSettings, discriminative: bool) -> torch.Tensor:
    masks, _ = arch.net(batch.mixture, [])
    return ((masks * batch.mixture[:, None] - batch.targets) ** 2).mean()


TOY = register(ArchSpec("toy-test", ToyConfig, _build, _loss, "A toy per-bin mask, for the registry test"))


def test_a_registered_toy_architecture_trains_exports_and_separates(tmp_path: Path) -> None:
    from vocalsplit.api import Separator
    from vocalsplit.catalog.manifest import load_manifest
    from vocalsplit.training.trainer import train

    config = TrainConfig(
        data=[DataSpec("stems", make_stems(tmp_path / "stems"))],
        out=tmp_path / "models" / "toy",
        run_dir=tmp_path / "run",
        arch="toy-test",
        batch=4,
        frames=8,
        steps=6,
        val_every=3,
        n_fft=256,
        hop=64,
        val_fraction=0.34,
        device="cpu",
    )
    result = train(config)
    manifest = load_manifest(result.manifest)
    assert (manifest.architecture, manifest.description) == ("toy-test", TOY.description)
    assert result.parameters == 2 * 129 and result.steps == 6
    x = tone_mix(0.8, 16000)
    stems = Separator(result.manifest, device="cpu").separate_array(x, 16000)
    assert stems["vocals"].shape == x.shape
    assert np.max(np.abs(stems["vocals"] + stems["accompaniment"] - x)) < 1e-4
    assert 0.05 < np.std(stems["vocals"]) / np.std(x) < 0.95  # a real mask: neither all nor nothing


def test_every_architecture_the_cli_offers_is_registered_and_names_are_unique() -> None:
    known = architectures()
    assert {a.value for a in Architecture} <= set(known)
    with pytest.raises(ValueError, match="already registered"):
        register(ArchSpec("drnn", ToyConfig, _build, _loss, "a second drnn"))
