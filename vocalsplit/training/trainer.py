"""Training loop: Adam, seeded, validation, best/last checkpoints, resume, JSON log, export."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from vocalsplit.audio.stft import StftParams, stft
from vocalsplit.errors import DatasetError, TrainingError, UsageError
from vocalsplit.training.archs import ARCHITECTURES, Arch, LossSettings, build_arch
from vocalsplit.training.base import SeparationNet
from vocalsplit.training.batches import Augment, sample_batch, sequential_batches
from vocalsplit.training.datasets import (
    SPLITS,
    TWO_SOURCES,
    Clip,
    find_data_dir,
    load_mir1k_clip,
    load_stems_track,
    mir1k_split,
    spectral_set,
    stems_tracks,
    validation_split,
)
from vocalsplit.training.export import WEIGHT_TYPES, export_model
from vocalsplit.training.losses import LOSSES
from vocalsplit.training.nets import Drnn, parameter_count, widen_context
from vocalsplit.training.repitch import check_semitones, repitch_voice

DATASETS = ("mir1k", "stems")


@dataclass(frozen=True)
class DataSpec:
    kind: str  # mir1k | stems
    path: Path | None
    mir1k_clips: str = "train"
    """``train``: the protocol's 175 training clips; ``all``: all 1000 clips."""


@dataclass
class TrainConfig:
    data: list[DataSpec]
    out: Path
    run_dir: Path
    arch: str = "drnn"
    arch_options: dict[str, Any] = field(default_factory=dict)
    """Architecture fields: DRNN (context, layers, hidden, recurrent_layer, cell), CNN
    (window, vertical_filters, ...), BMCNN (context, channels, dense, dropout)."""
    sources: tuple[str, ...] = TWO_SOURCES
    loss: LossSettings = field(default_factory=LossSettings)
    lr: float = 1e-3
    lr_final: float | None = None
    """Cosine-decay the learning rate from ``lr`` to this over this run's budget (steps or
    minutes, whichever ends first); ``None`` keeps it constant."""
    batch: int = 32
    frames: int = 64
    steps: int = 20000
    minutes: float | None = None
    val_every: int = 200
    val_fraction: float = 0.1
    split: str = "name"
    """How validation clips are chosen: ``name`` (stable across pools and seeds) or
    ``seeded`` (drawn with ``seed``; the shipped models' split)."""
    seed: int = 0
    sample_rate: int = 16000
    n_fft: int = 1024
    hop: int = 512
    augment: Augment = field(default_factory=Augment)
    resume: bool = False
    init_from: Path | None = None
    """Start from this checkpoint's weights (fine-tuning), same architecture."""
    ema: float | None = None
    """Keep an exponential moving average of the weights with this decay (e.g. 0.999);
    validation, the best checkpoint and the export then use the averaged weights."""
    default: bool = False
    max_track_seconds: float | None = None
    weights: str = "float32"
    """How the exported ONNX file stores its weights: ``float32``, or ``float16`` (half the
    file; the network is rounded to float16 before the export and parity is checked so)."""

    def __post_init__(self) -> None:
        if self.arch not in ARCHITECTURES:
            raise UsageError(f"unknown architecture {self.arch!r}; allowed: {', '.join(ARCHITECTURES)}")
        if self.loss.kind not in LOSSES:
            raise UsageError(f"--loss {self.loss.kind!r}; allowed: {', '.join(LOSSES)}")
        for d in self.data:
            if d.kind not in DATASETS:
                raise UsageError(f"--dataset {d.kind!r}; allowed: {', '.join(DATASETS)}")
            if d.kind == "mir1k" and d.mir1k_clips not in ("train", "all"):
                raise UsageError(f"--mir1k-clips {d.mir1k_clips!r}; allowed: train, all")
        if not self.data:
            raise UsageError("give at least one --dataset")
        if self.split not in SPLITS:
            raise UsageError(f"--split {self.split!r}; allowed: {', '.join(SPLITS)}")
        if self.lr <= 0:
            raise UsageError(f"--lr {self.lr}: must be positive")
        if self.lr_final is not None and not 0 < self.lr_final <= self.lr:
            raise UsageError(f"--lr-final {self.lr_final}: must be positive and at most --lr {self.lr}")
        check_semitones(self.augment.repitch)
        if self.weights not in WEIGHT_TYPES:
            raise UsageError(f"--weights {self.weights!r}; allowed: {', '.join(WEIGHT_TYPES)}")
        if self.ema is not None and not 0 < self.ema < 1:
            raise UsageError(f"--ema {self.ema}: the decay must be between 0 and 1 (e.g. 0.999)")
        if self.sources[0] != "vocals" or len(self.sources) < 2:
            raise UsageError(f"--sources {','.join(self.sources)}: must start with vocals and name at least two")
        if len(self.sources) > 2 and (self.arch != "cnn" or any(d.kind == "mir1k" for d in self.data)):
            raise UsageError("more than two sources need --arch cnn and stems datasets")


@dataclass
class TrainResult:
    manifest: Path
    steps: int
    best_val: float
    minutes: float
    parameters: int


ProgressFn = Callable[[int, int, float, float | None], None]
"""(step, total steps, train loss, latest validation loss)."""


def load_clips(config: TrainConfig) -> tuple[list[Clip], list[Clip], dict[str, Any]]:
    """Training and validation clips; validation is held out of the training clips only."""
    train: list[Clip] = []
    val: list[Clip] = []
    described: list[dict[str, Any]] = []
    for i, spec in enumerate(config.data):
        root = find_data_dir(spec.path, spec.kind)
        if spec.kind == "mir1k":
            split = mir1k_split(root)
            pool = split["train"] if spec.mir1k_clips == "train" else split["train"] + split["test"]
            if not pool:
                raise DatasetError(f"{root}: no MIR-1K training clips (singers abjones, amy)")
            tr, va = validation_split(pool, config.val_fraction, config.seed + i, config.split)
            train += [load_mir1k_clip(p, config.sample_rate) for p in tr]
            val += [load_mir1k_clip(p, config.sample_rate) for p in va]
            described.append(
                {
                    "dataset": "mir1k",
                    "clips": spec.mir1k_clips,
                    "train_clips": len(tr),
                    "validation_clips": [p.stem for p in va],
                }
            )
        else:
            tracks = stems_tracks(root)
            tr, va = (
                validation_split(tracks, config.val_fraction, config.seed + i, config.split)
                if len(tracks) >= 2
                else (tracks, [])
            )
            load = lambda t: load_stems_track(t, config.sample_rate, config.max_track_seconds, config.sources)  # noqa: E731
            train += [load(t) for t in tr]
            val += [load(t) for t in va]
            described.append(
                {
                    "dataset": "stems",
                    "folder": root.name,
                    "train_tracks": [t.name for t in tr],
                    "validation_tracks": [t.name for t in va],
                }
            )
    if not val:
        raise DatasetError("no validation clip could be held out of the training data")
    return train, val, {"data": described, "validation_split": config.split}


def _checkpoint(
    path: Path,
    arch: Arch,
    opt: torch.optim.Optimizer,
    step: int,
    best: float,
    rng: np.random.Generator,
    elapsed: float,
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
            "step": step,
            "best": best,
            "rng": rng.bit_generator.state,
            "elapsed": elapsed,
            "arch": arch.name,
        },
        tmp,
    )
    tmp.replace(path)


def _validate(arch: Arch, batches: list[Any], settings: LossSettings) -> float:
    arch.net.eval()
    with torch.no_grad():
        losses = [float(arch.loss(b, settings, discriminative=False)) for b in batches]
    arch.net.train()
    return float(np.mean(losses)) if losses else math.inf


def train(config: TrainConfig, progress: ProgressFn | None = None) -> TrainResult:
    """Train, keep the best checkpoint by validation loss, export it with its manifest."""
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    params = StftParams(config.n_fft, config.hop)
    arch = build_arch(config.arch, params.bins, {**config.arch_options, "sources": config.sources}, config.frames)
    train_clips, val_clips, data_info = load_clips(config)
    train_clips += [repitch_voice(c, s) for s in config.augment.repitch for c in train_clips]
    train_set, val_set = spectral_set(train_clips, params), spectral_set(val_clips, params)
    left, right = arch.train_context
    frames = arch.train_span - left - right
    val_batches = sequential_batches(val_set, config.batch, frames, left, right)

    feats = np.log1p(np.abs(train_set.sources[:, ::7].sum(axis=0)))
    arch.net.set_normalisation(torch.from_numpy(feats.mean(0)).float(), torch.from_numpy(feats.std(0)).float())
    if config.init_from is not None:
        if not config.init_from.exists():
            raise TrainingError(f"--init-from {config.init_from}: no such checkpoint")
        _load_init(arch, config.init_from)
    opt = torch.optim.Adam(arch.net.parameters(), lr=config.lr)
    ema = None if config.ema is None else AveragedModel(arch.net, multi_avg_fn=get_ema_multi_avg_fn(config.ema))
    # what is validated, kept as best and exported: the network or its moving average
    scored = arch if ema is None else replace(arch, net=cast(SeparationNet, ema.module))
    config.run_dir.mkdir(parents=True, exist_ok=True)
    last, best_path, log_path = config.run_dir / "last.pt", config.run_dir / "best.pt", config.run_dir / "log.jsonl"
    step, best, elapsed_before = 0, math.inf, 0.0
    if config.resume:
        if not last.exists():
            raise TrainingError(f"--resume: no checkpoint at {last}")
        ck = torch.load(last, weights_only=False)
        arch.net.load_state_dict(ck.get("train_net", ck["net"]))
        if ema is not None:
            ema.module.load_state_dict(ck["net"])
            ema.n_averaged.fill_(ck.get("ema_updates", 1))
        opt.load_state_dict(ck["opt"])
        step, best, elapsed_before = ck["step"], ck["best"], ck.get("elapsed", 0.0)
        rng.bit_generator.state = ck["rng"]
        _set_lr(opt, config.lr)
    elif log_path.exists():
        log_path.unlink()
    (config.run_dir / "config.json").write_text(json.dumps(_describe(config), indent=2, default=str))

    started = time.monotonic()
    deadline = None if config.minutes is None else started + 60 * config.minutes
    val_loss: float | None = None
    first_step = step
    arch.net.train()
    try:
        while step < config.steps and (deadline is None or time.monotonic() < deadline):
            if config.lr_final is not None:
                done = _budget_used(step - first_step, config.steps - first_step, started, deadline)
                _set_lr(opt, cosine_lr(config.lr, config.lr_final, done))
            b = sample_batch(train_set, rng, config.batch, frames, left, right, config.augment)
            loss = arch.loss(b, config.loss)
            loss_value = loss.item()
            if not math.isfinite(loss_value):
                raise TrainingError(
                    f"loss became {loss_value} at step {step + 1}; stopped. The last good checkpoints are "
                    f"kept in {config.run_dir} (try a lower --lr)"
                )
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(arch.net.parameters(), 5.0)
            opt.step()
            if ema is not None:
                ema.update_parameters(arch.net)
            step += 1
            if step % config.val_every == 0:
                val_loss = _validate(scored, val_batches, config.loss)
                elapsed = elapsed_before + time.monotonic() - started
                if val_loss < best:
                    best = val_loss
                    _checkpoint(best_path, arch, opt, step, best, rng, elapsed, ema)
                _checkpoint(last, arch, opt, step, best, rng, elapsed, ema)
                with log_path.open("a") as f:
                    row = {"step": step, "loss": loss_value, "val_loss": val_loss, "minutes": round(elapsed / 60, 2)}
                    f.write(json.dumps({**row, "lr": opt.param_groups[0]["lr"]}) + "\n")
            if progress is not None:
                progress(step, config.steps, loss_value, val_loss)
    except KeyboardInterrupt:
        _checkpoint(last, arch, opt, step, best, rng, elapsed_before + time.monotonic() - started, ema)
        raise
    if step % config.val_every or not best_path.exists():
        val_loss = _validate(scored, val_batches, config.loss)
        elapsed = elapsed_before + time.monotonic() - started
        if val_loss < best or not best_path.exists():
            best = val_loss
            _checkpoint(best_path, arch, opt, step, best, rng, elapsed, ema)
        _checkpoint(last, arch, opt, step, best, rng, elapsed, ema)
    minutes = (elapsed_before + time.monotonic() - started) / 60
    best_ck = torch.load(best_path, weights_only=False)
    arch.net.load_state_dict(best_ck["net"])
    arch.net.eval()
    _plot(log_path, config.run_dir / "loss.png")
    clip = val_clips[0]
    real = np.abs(stft(clip.mixture[:1], params)).transpose(0, 2, 1)[:, : 16 * max(arch.frame_multiple, 8)]
    real = real[:, : arch.left + arch.right + _fit(real.shape[1] - arch.left - arch.right, arch.frame_multiple)]
    training = {
        **data_info,
        "steps": step,
        "best_step": best_ck["step"],
        "minutes": round(minutes, 1),
        "best_validation_loss": best,
        "hardware": _hardware(),
        "init_from": str(config.init_from) if config.init_from else None,
    }
    hyper = {
        "arch": config.arch,
        **_arch_config(arch),
        "loss": asdict(config.loss),
        "lr": config.lr,
        "lr_final": config.lr_final,
        "batch": config.batch,
        "frames": frames,
        "seed": config.seed,
        "ema": config.ema,
        "augment": asdict(config.augment),
    }
    manifest = export_model(
        arch,
        config.out,
        params,
        config.sample_rate,
        training,
        hyper,
        real,
        default=config.default,
        weights=config.weights,
    )
    return TrainResult(manifest, step, best, minutes, parameter_count(arch.net))


def _load_init(arch: Arch, path: Path) -> None:
    """Weights of ``path`` into ``arch.net``; a DRNN may widen its context window (see :func:`widen_context`)."""
    try:
        state = torch.load(path, weights_only=False)["net"]
    except Exception as exc:  # pickle, zip and key errors all mean "not a checkpoint of ours"
        raise TrainingError(f"--init-from {path}: not a vocalsplit training checkpoint ({exc})") from exc
    if isinstance(arch.net, Drnn):
        state = widen_context(arch.net, state)
    try:
        arch.net.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise TrainingError(
            f"--init-from {path}: its weights do not fit this network (give the same architecture options): "
            + (first[1].strip() if len(first) > 1 else first[0])
        ) from exc


def _budget_used(steps_done: int, steps_budget: int, started: float, deadline: float | None) -> float:
    """Fraction of this run's budget spent: steps or wall-clock minutes, whichever runs out first."""
    done = steps_done / max(1, steps_budget)
    if deadline is not None:
        done = max(done, (time.monotonic() - started) / (deadline - started))
    return done


def cosine_lr(lr: float, lr_final: float, done: float) -> float:
    """Learning rate after fraction ``done`` (clipped to 0..1) of a cosine decay from ``lr`` to ``lr_final``.

    Not ``torch.optim.lr_scheduler.CosineAnnealingLR``: that one counts steps, and runs here are
    usually bounded by ``--minutes``, so the schedule follows whichever budget ends first."""
    done = min(1.0, max(0.0, done))
    return lr_final + 0.5 * (lr - lr_final) * (1 + math.cos(math.pi * done))


def _set_lr(opt: torch.optim.Optimizer, lr: float) -> None:
    for group in opt.param_groups:
        group["lr"] = lr


def _fit(n: int, multiple: int) -> int:
    return max(multiple, n - n % multiple)


def _arch_config(arch: Arch) -> dict[str, Any]:
    return dict(arch.net.config.to_dict())


def _describe(config: TrainConfig) -> dict[str, Any]:
    d = asdict(config)
    d["data"] = [{**asdict(s), "path": str(s.path)} for s in config.data]
    return d


def _hardware() -> str:
    import os
    import platform

    return f"{platform.machine()} CPU, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads"


def _plot(log_path: Path, png: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    if not log_path.exists():
        return
    rows = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    if not rows:
        return
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot([r["step"] for r in rows], [r["loss"] for r in rows], label="train (with discriminative term)")
    ax.plot([r["step"] for r in rows], [r["val_loss"] for r in rows], label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)
