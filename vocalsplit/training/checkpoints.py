"""Training checkpoints: written atomically, read back on any device."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.optim.swa_utils import AveragedModel

from vocalsplit.catalog.manifest import load_manifest
from vocalsplit.errors import ModelError, TrainingError
from vocalsplit.training.architecture import Arch
from vocalsplit.training.onnx_weights import state_from_onnx
from vocalsplit.training.widen_band import check_aligned


@dataclass
class Progress:
    """Where a run stands: what a checkpoint stores besides the weights."""

    step: int = 0
    best: float = float("inf")
    """The best checkpoint's figure by the run's ``--select`` rule, lower is better (the validation
    loss, or minus the mean validation SDR)."""
    select: str = "loss"
    elapsed: float = 0.0
    """Seconds of training so far, over every resumed part."""


def save(
    path: Path,
    arch: Arch,
    opt: torch.optim.Optimizer,
    at: Progress,
    rng: np.random.Generator,
    ema: AveragedModel | None,
) -> None:
    """``net``: the weights that are validated and exported (the average when ``ema``);
    ``train_net``: the optimiser's own weights, present only with ``ema``."""
    tmp = path.with_suffix(".tmp")
    extra = {} if ema is None else {"train_net": arch.net.state_dict(), "ema_updates": int(ema.n_averaged)}
    torch.save(
        {
            **extra,
            "net": (arch.net if ema is None else ema.module).state_dict(),
            "opt": opt.state_dict(),
            "step": at.step,
            "best": at.best,
            "select": at.select,
            "rng": rng.bit_generator.state,
            "elapsed": at.elapsed,
            "arch": arch.name,
        },
        tmp,
    )
    tmp.replace(path)


def load(path: Path) -> dict[str, Any]:
    """A checkpoint with its tensors on the CPU, whatever device wrote it."""
    return torch.load(path, map_location="cpu", weights_only=False)


def resume(
    path: Path, arch: Arch, opt: torch.optim.Optimizer, rng: np.random.Generator, ema: AveragedModel | None
) -> Progress:
    """Restore weights, optimiser, random state and progress from ``path`` (written on any device)."""
    if not path.exists():
        raise TrainingError(f"--resume: no checkpoint at {path}")
    ck = load(path)
    arch.net.load_state_dict(ck.get("train_net", ck["net"]))
    if ema is not None:
        ema.module.load_state_dict(ck["net"])
        ema.n_averaged.fill_(ck.get("ema_updates", 1))
    opt.load_state_dict(ck["opt"])
    rng.bit_generator.state = ck["rng"]
    return Progress(step=ck["step"], best=ck["best"], elapsed=ck.get("elapsed", 0.0), select=ck.get("select", "loss"))


def init_from(arch: Arch, path: Path, grid: tuple[int, int, int] | None = None) -> dict[str, Any] | None:
    """Weights of ``path`` into ``arch.net``, adapted by the architecture where it knows how; the
    training that made those weights, as far as ``path`` records it (:func:`checkpoint_training`,
    :func:`model_training`).

    ``path`` is a training checkpoint, or an exported ``.onnx`` model of a dense/recurrent
    network (a shipped model has no checkpoint): see :mod:`vocalsplit.training.onnx_weights`.
    ``grid`` is this run's (sample rate, n_fft, hop): an ONNX model whose manifest names a
    narrower grid whose bins and frames line up with it has its band widened
    (:mod:`vocalsplit.training.widen_band`)."""
    if not path.exists():
        raise TrainingError(f"--init-from {path}: no such checkpoint")
    if path.suffix.lower() == ".onnx":
        arch.net.load_state_dict(state_from_onnx(arch.net, path, _onnx_adapter(arch, path, grid)))
        return model_training(path.with_suffix(".json"))
    try:
        ck = load(path)
        state = ck["net"]
    except Exception as exc:  # pickle, zip and key errors all mean "not a checkpoint of ours"
        raise TrainingError(f"--init-from {path}: not a vocalsplit training checkpoint ({exc})") from exc
    if arch.spec.adapt_checkpoint is not None:
        state = arch.spec.adapt_checkpoint(arch.net, state)
    try:
        arch.net.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise TrainingError(
            f"--init-from {path}: its weights do not fit this network (give the same architecture options): "
            + (first[1].strip() if len(first) > 1 else first[0])
        ) from exc
    return checkpoint_training(ck)


def checkpoint_training(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """Steps and minutes of the run up to ``checkpoint``, for the manifest of a fine-tune from it."""
    return {"steps": int(checkpoint["step"]), "minutes": round(float(checkpoint.get("elapsed", 0.0)) / 60, 1)}


def model_training(manifest: Path) -> dict[str, Any] | None:
    """An exported model's training record (steps, minutes, device), with its own starting point's
    minutes added when it names them; ``None`` when nothing usable is recorded."""
    if not manifest.exists():
        return None
    try:
        training = json.loads(manifest.read_text()).get("training", {})
        steps, minutes = int(training["steps"]), float(training["minutes"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    earlier = training.get("init_from_training") or {}
    record = {"steps": steps, "minutes": minutes, "device": training.get("device")}
    if isinstance(earlier, dict) and "minutes" in earlier:
        record["minutes_before_it"] = earlier.get("minutes_before_it", 0.0) + earlier["minutes"]
    return record


def _onnx_adapter(
    arch: Arch, path: Path, grid: tuple[int, int, int] | None
) -> Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]] | None:
    """The band widened where needed (:func:`_band_adapter`), then the architecture's own adaptation."""
    band, own = _band_adapter(arch, path, grid), arch.spec.adapt_checkpoint
    if own is None:
        return band
    return lambda state: own(arch.net, band(state) if band else state)


def _band_adapter(
    arch: Arch, path: Path, grid: tuple[int, int, int] | None
) -> Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]] | None:
    """How the weights of the ONNX model at ``path`` are widened to this run's band; ``None`` if they
    need not be (same grid, or no manifest beside the file to say)."""
    manifest = path.with_suffix(".json")
    if grid is None or not manifest.is_file():
        return None
    try:
        model = load_manifest(manifest)
    except ModelError as exc:
        raise TrainingError(f"--init-from {path}: {exc}") from exc
    old = (model.sample_rate, model.stft.n_fft, model.stft.hop)
    if old == grid:
        return None
    check_aligned(old, grid, str(path))
    widen = arch.spec.widen_band
    if widen is None:
        raise TrainingError(f"--init-from {path}: a {arch.name} network cannot start from a model of another band")
    return lambda state: widen(arch.net, state)
