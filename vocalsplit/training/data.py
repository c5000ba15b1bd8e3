"""A run's training and validation clips, held out by the run's split rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vocalsplit.choices import Dataset
from vocalsplit.errors import DatasetError
from vocalsplit.training.config import MIR1K_LICENCE, DataSpec, TrainConfig
from vocalsplit.training.datasets import (
    Clip,
    find_data_dir,
    load_mir1k_clip,
    load_solo_clip,
    load_stems_track,
    mir1k_split,
    solo_files,
    stems_tracks,
    validation_split,
)


def load_clips(config: TrainConfig) -> tuple[list[Clip], list[Clip], dict[str, Any]]:
    """Training and validation clips, and their description for the manifest.

    Validation is held out of each dataset's training clips only (never its test clips)."""
    train: list[Clip] = []
    val: list[Clip] = []
    described: list[dict[str, Any]] = []
    for i, spec in enumerate(config.data):
        loader = {Dataset.MIR1K: _mir1k, Dataset.STEMS: _stems}.get(spec.kind, _solo)
        tr, va, info = loader(spec, config, config.seed + i)
        train += tr * spec.repeat
        val += va
        described.append({**info, "repeat": spec.repeat} if spec.repeat > 1 else info)
    if not val:
        raise DatasetError("no validation clip could be held out of the training data")
    return train, val, {"data": described, "validation_split": str(config.split)}


def _mir1k(spec: DataSpec, config: TrainConfig, seed: int) -> tuple[list[Clip], list[Clip], dict[str, Any]]:
    root = find_data_dir(spec.path, spec.kind)
    split = mir1k_split(root)
    pool = split["train"] if spec.mir1k_clips == "train" else split["train"] + split["test"]
    if not pool:
        raise DatasetError(f"{root}: no MIR-1K training clips (singers abjones, amy)")
    tr, va = validation_split(pool, config.val_fraction, seed, config.split)
    info = {
        "dataset": "mir1k",
        "licence": spec.licence or MIR1K_LICENCE,
        "clips": str(spec.mir1k_clips),
        "train_clips": len(tr),
        "validation_clips": [p.stem for p in va],
    }
    rate = config.sample_rate
    return [load_mir1k_clip(p, rate) for p in tr], [load_mir1k_clip(p, rate) for p in va], info


def _stems(spec: DataSpec, config: TrainConfig, seed: int) -> tuple[list[Clip], list[Clip], dict[str, Any]]:
    root = find_data_dir(spec.path, spec.kind)
    tracks = stems_tracks(root)
    if config.validation_tracks:
        tr, va = _named_split(tracks, config.validation_tracks, root)
    elif len(tracks) >= 2:
        tr, va = validation_split(tracks, config.val_fraction, seed, config.split)
    else:
        tr, va = tracks, []

    def load(track: Path) -> Clip:
        return load_stems_track(track, config.sample_rate, config.max_track_seconds, config.sources)

    info = {
        "dataset": "stems",
        "folder": root.name,
        "licence": spec.licence or _licence_file(root),
        "train_tracks": [t.name for t in tr],
        "validation_tracks": [t.name for t in va],
    }
    return [load(t) for t in tr], [load(t) for t in va], info


def _named_split(tracks: list[Path], names: tuple[str, ...], root: Path) -> tuple[list[Path], list[Path]]:
    """Tracks named in ``names`` validate, the others train; a name absent from every dataset is an error."""
    va = [t for t in tracks if t.name in names]
    known = {t.name for t in tracks}
    missing = [n for n in names if n not in known]
    if missing and not va:
        raise DatasetError(
            f"--validation-track {missing[0]}: no such track in {root} (tracks: {', '.join(sorted(known))})"
        )
    return [t for t in tracks if t.name not in names], va


def _solo(spec: DataSpec, config: TrainConfig, seed: int) -> tuple[list[Clip], list[Clip], dict[str, Any]]:
    """A folder of voices only or music only: every file trains (validation comes from paired data)."""
    root = find_data_dir(spec.path, spec.kind)
    source = "vocals" if spec.kind == Dataset.VOCALS else "accompaniment"
    files = solo_files(root)
    clips = [load_solo_clip(p, config.sample_rate, source, config.max_track_seconds) for p in files]
    info = {
        "dataset": str(spec.kind),
        "folder": root.name,
        "licence": spec.licence or _licence_file(root),
        "files": len(files),
        "minutes": round(sum(c.sources[source].shape[1] for c in clips) / config.sample_rate / 60, 1),
    }
    return clips, [], info


LICENCE_FILES = ("LICENSE", "LICENCE", "LICENSE.txt", "LICENCE.txt", "LICENSE.md", "COPYING")


def _licence_file(root: Path) -> str:
    """The first line of a licence file in the data folder, or "not stated"."""
    for name in LICENCE_FILES:
        path = root / name
        if path.is_file():
            lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
            return lines[0] if lines else "not stated"
    return "not stated"
