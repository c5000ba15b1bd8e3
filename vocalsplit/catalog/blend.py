"""A blend: several installed models run side by side on one song, their stems averaged with weights.

Averaging the stems of models that err differently is the oldest ensemble in source
separation (Demucs ships "bags" of models; UVR's ensemble mode averages its models'
outputs). A blend is a JSON manifest of its own, ``models/<name>.json``, that names its
members instead of an ONNX file::

    {"schema_version": 1, "kind": "blend", "name": "duo", "description": "...",
     "members": [{"model": "drnn-all", "weight": 0.5, "shifts": 2},
                 {"model": "lstm-mix", "weight": 0.5, "shifts": 1}]}

Each member runs at its own rate and STFT with its own passes; the stems are averaged at
the song's rate. Members must separate the same sources, and the weights sum to one, so
the blended stems still sum to the song.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vocalsplit.catalog.manifest import BLEND_KIND, SCHEMA_VERSION, Manifest, RawFields
from vocalsplit.defaults import MAX_SHIFTS
from vocalsplit.errors import ModelError

WEIGHT_SUM_TOLERANCE = 1e-6


@dataclass(frozen=True)
class BlendMember:
    manifest: Manifest
    weight: float
    shifts: int
    """Passes this member runs when the user names none (``--shifts`` overrides every member's)."""


@dataclass(frozen=True)
class Blend(RawFields):
    name: str
    path: Path
    members: tuple[BlendMember, ...]
    default: bool = False
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    architecture = BLEND_KIND

    @property
    def sources(self) -> tuple[str, ...]:
        return self.members[0].manifest.sources

    @property
    def residual_source(self) -> str:
        return self.members[0].manifest.residual_source

    @property
    def sample_rate(self) -> int:
        """The highest rate among the members: the band the blend can separate."""
        return max(m.manifest.sample_rate for m in self.members)

    @property
    def channels(self) -> int:
        return max(m.manifest.channels for m in self.members)

    @property
    def shifts(self) -> tuple[int, ...]:
        """Each member's own passes."""
        return tuple(m.shifts for m in self.members)

    @property
    def sha256(self) -> str:
        """A digest of the members' weights and files: changes when any member's weights change."""
        text = ";".join(f"{m.manifest.name}:{m.weight!r}:{m.shifts}:{m.manifest.sha256}" for m in self.members)
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def size_bytes(self) -> int:
        return sum(m.manifest.onnx_path.stat().st_size for m in self.members if m.manifest.onnx_path.exists())

    def verify(self) -> None:
        """Raise ModelError unless every member's ONNX file is present and intact."""
        for member in self.members:
            member.manifest.verify()


def is_blend(raw: Mapping[str, Any]) -> bool:
    return raw.get("kind") == BLEND_KIND


def parse_blend(path: Path, raw: dict[str, Any], installed: Mapping[str, Manifest]) -> Blend:
    """A blend from its JSON; its members are looked up among ``installed`` single models."""
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise ModelError(f"model manifest {path}: missing field 'name'")
    if raw.get("schema_version") != SCHEMA_VERSION:
        raise ModelError(f"blend {name!r} ({path}): schema_version must be {SCHEMA_VERSION}")
    members_raw = raw.get("members")
    if not isinstance(members_raw, list) or len(members_raw) < 2:
        raise ModelError(f"blend {name!r} ({path}): 'members' must list at least two models")
    members = tuple(_member(name, path, m, installed) for m in members_raw)
    total = sum(m.weight for m in members)
    if abs(total - 1.0) > WEIGHT_SUM_TOLERANCE:
        raise ModelError(f"blend {name!r} ({path}): the members' weights sum to {total:g}, not 1")
    first = members[0].manifest
    for m in members[1:]:
        if (m.manifest.sources, m.manifest.residual_source) != (first.sources, first.residual_source):
            raise ModelError(
                f"blend {name!r} ({path}): {m.manifest.name!r} separates {', '.join(m.manifest.sources)}, "
                f"{first.name!r} {', '.join(first.sources)}: members must separate the same sources"
            )
    return Blend(name=name, path=path, members=members, default=raw.get("default") is True, raw=raw)


def _member(blend: str, path: Path, raw: Any, installed: Mapping[str, Manifest]) -> BlendMember:
    where = f"blend {blend!r} ({path})"
    if not isinstance(raw, dict) or not isinstance(raw.get("model"), str):
        raise ModelError(f"{where}: each member needs a 'model' name")
    model = raw["model"]
    if model not in installed:
        known = ", ".join(sorted(installed)) or "none"
        raise ModelError(f"{where}: member {model!r} is not an installed model (installed: {known})")
    weight = raw.get("weight")
    if not isinstance(weight, (int, float)) or isinstance(weight, bool) or not 0 < weight <= 1:
        raise ModelError(f"{where}: member {model!r} needs a weight between 0 and 1")
    manifest = installed[model]
    shifts = raw.get("shifts", manifest.shifts)
    if not isinstance(shifts, int) or isinstance(shifts, bool) or not 1 <= shifts <= MAX_SHIFTS:
        raise ModelError(f"{where}: member {model!r}: shifts must be an integer from 1 to {MAX_SHIFTS}")
    return BlendMember(manifest, float(weight), shifts)
