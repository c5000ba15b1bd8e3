"""Training loop: Adam, seeded, validation, best/last checkpoints, resume, JSON log."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vocalsplit.audio.stft import StftParams
from vocalsplit.errors import DatasetError, TrainingError, UsageError
from vocalsplit.training.batches import Augment, sample_batch, sequential_batches
from vocalsplit.training.datasets import (
    Clip,
    find_data_dir,
    load_mir1k_clip,
    load_stems_track,
    mir1k_split,
    spectral_set,
    stems_tracks,
    validation_split,
)
from vocalsplit.training.export import export_model
from vocalsplit.training.losses import LOSSES, discriminative_loss
from vocalsplit.training.nets import DrnnConfig, build_net, parameter_count

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
    net: DrnnConfig = field(default_factory=DrnnConfig)
    loss: str = "mse"
    gamma: float = 0.05
    lr: float = 1e-3
    batch: int = 32
    frames: int = 64
    steps: int = 20000
    minutes: float | None = None
    val_every: int = 200
    val_fraction: float = 0.1
    seed: int = 0
    sample_rate: int = 16000
    n_fft: int = 1024
    hop: int = 512
    augment: Augment = field(default_factory=Augment)
    resume: bool = False
    default: bool = False
    threads: int = 0
    max_track_seconds: float | None = None

    def __post_init__(self) -> None:
        from vocalsplit.training.nets import ARCHITECTURES

        if self.arch not in ARCHITECTURES:
            raise UsageError(f"unknown architecture {self.arch!r}; allowed: {', '.join(ARCHITECTURES)}")
        if self.loss not in LOSSES:
            raise UsageError(f"--loss {self.loss!r}; allowed: {', '.join(LOSSES)}")
        for d in self.data:
            if d.kind not in DATASETS:
                raise UsageError(f"--dataset {d.kind!r}; allowed: {', '.join(DATASETS)}")
        if not self.data:
            raise UsageError("give at least one --dataset")


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
            tr, va = validation_split(pool, config.val_fraction, config.seed + i)
            train += [load_mir1k_clip(p, config.sample_rate) for p in tr]
            val += [load_mir1k_clip(p, config.sample_rate) for p in va]
            described.append({"dataset": "mir1k", "clips": spec.mir1k_clips, "train_clips": len(tr),
                              "validation_clips": [p.stem for p in va]})
        else:
            tracks = stems_tracks(root)
            if len(tracks) >= 2:
                tr, va = validation_split(tracks, config.val_fraction, config.seed + i)
            else:
                tr, va = tracks, []
            train += [load_stems_track(t, config.sample_rate, config.max_track_seconds) for t in tr]
            val += [load_stems_track(t, config.sample_rate, config.max_track_seconds) for t in va]
            described.append({"dataset": "stems", "folder": root.name, "train_tracks": [t.name for t in tr],
                              "validation_tracks": [t.name for t in va]})
    if not val:
        raise DatasetError("no validation clip could be held out of the training data")
    return train, val, {"data": described}


def _checkpoint(path: Path, net: torch.nn.Module, opt: torch.optim.Optimizer, step: int, best: float,
                rng: np.random.Generator, elapsed: float) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "step": step, "best": best,
                "rng": rng.bit_generator.state, "elapsed": elapsed}, tmp)
    tmp.replace(path)


def _validate(net: torch.nn.Module, batches: list[Any], config: TrainConfig) -> float:
    net.eval()
    total, n = 0.0, 0
    with torch.no_grad():
        for b in batches:
            masks, _ = net(torch.from_numpy(b.mixture), net.initial_state(b.mixture.shape[0]))
            half = config.net.half
            mix = torch.from_numpy(b.mixture[:, half : b.mixture.shape[1] - half])
            total += float(discriminative_loss(masks, mix, torch.from_numpy(b.voice),
                                               torch.from_numpy(b.accompaniment), config.loss, 0.0))
            n += 1
    net.train()
    return total / max(n, 1)


def train(config: TrainConfig, progress: ProgressFn | None = None, stop: Callable[[], bool] | None = None) -> TrainResult:
    """Train, keep the best checkpoint by validation loss, export it with its manifest."""
    if config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    params = StftParams(config.n_fft, config.hop)
    config.net = DrnnConfig(**{**asdict(config.net), "bins": params.bins})
    train_clips, val_clips, data_info = load_clips(config)
    train_set, val_set = spectral_set(train_clips, params), spectral_set(val_clips, params)
    half = config.net.half
    val_batches = sequential_batches(val_set, config.batch, config.frames * 4, half, half)

    net = build_net(config.arch, config.net)
    sample = np.abs(train_set.voice[:: 7] + train_set.accompaniment[:: 7])
    feats = np.log1p(sample)
    net.set_normalisation(torch.from_numpy(feats.mean(0)).float(), torch.from_numpy(feats.std(0)).float())
    opt = torch.optim.Adam(net.parameters(), lr=config.lr)
    config.run_dir.mkdir(parents=True, exist_ok=True)
    last, best_path, log_path = config.run_dir / "last.pt", config.run_dir / "best.pt", config.run_dir / "log.jsonl"
    step, best, elapsed_before = 0, math.inf, 0.0
    if config.resume:
        if not last.exists():
            raise TrainingError(f"--resume: no checkpoint at {last}")
        ck = torch.load(last, weights_only=False)
        net.load_state_dict(ck["net"])
        opt.load_state_dict(ck["opt"])
        step, best, elapsed_before = ck["step"], ck["best"], ck.get("elapsed", 0.0)
        rng.bit_generator.state = ck["rng"]
    elif log_path.exists():
        log_path.unlink()
    (config.run_dir / "config.json").write_text(json.dumps(_describe(config), indent=2, default=str))

    started = time.monotonic()
    deadline = None if config.minutes is None else started + 60 * config.minutes
    val_loss: float | None = None
    net.train()
    try:
        while step < config.steps and (deadline is None or time.monotonic() < deadline):
            if stop is not None and stop():
                break
            b = sample_batch(train_set, rng, config.batch, config.frames, half, half, config.augment)
            masks, _ = net(torch.from_numpy(b.mixture), net.initial_state(config.batch))
            mix = torch.from_numpy(b.mixture[:, half : b.mixture.shape[1] - half])
            loss = discriminative_loss(masks, mix, torch.from_numpy(b.voice), torch.from_numpy(b.accompaniment),
                                       config.loss, config.gamma)
            loss_value = loss.item()
            if not math.isfinite(loss_value):
                raise TrainingError(
                    f"loss became {loss_value} at step {step + 1}; stopped. The last good checkpoints are "
                    f"kept in {config.run_dir} (try a lower --lr)"
                )
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            opt.step()
            step += 1
            if step % config.val_every == 0 or step == config.steps:
                val_loss = _validate(net, val_batches, config)
                elapsed = elapsed_before + time.monotonic() - started
                if val_loss < best:
                    best = val_loss
                    _checkpoint(best_path, net, opt, step, best, rng, elapsed)
                _checkpoint(last, net, opt, step, best, rng, elapsed)
                with log_path.open("a") as f:
                    f.write(json.dumps({"step": step, "loss": loss_value, "val_loss": val_loss,
                                        "minutes": round(elapsed / 60, 2)}) + "\n")
            if progress is not None:
                progress(step, config.steps, loss_value, val_loss)
    except KeyboardInterrupt:
        _checkpoint(last, net, opt, step, best, rng, elapsed_before + time.monotonic() - started)
        raise
    if not best_path.exists() or (val_loss is None and step % config.val_every):
        val_loss = _validate(net, val_batches, config)
        if val_loss < best:
            best = val_loss
            _checkpoint(best_path, net, opt, step, best, rng, elapsed_before + time.monotonic() - started)
    minutes = (elapsed_before + time.monotonic() - started) / 60
    net.load_state_dict(torch.load(best_path, weights_only=False)["net"])
    _plot(log_path, config.run_dir / "loss.png")
    real = np.abs(stft_clip(val_clips[0], params))[:, :200]
    training = {**data_info, "steps": step, "minutes": round(minutes, 1), "best_validation_loss": best,
                "hardware": _hardware(), "protocol": "MIR-1K (Huang et al. 2014): train singers abjones+amy"}
    hyper = {**config.net.to_dict(), "arch": config.arch, "loss": config.loss, "gamma": config.gamma,
             "lr": config.lr, "batch": config.batch, "frames": config.frames, "seed": config.seed,
             "augment": asdict(config.augment)}
    manifest = export_model(net, config.out, params, config.sample_rate, training, hyper, real,
                            default=config.default, description=f"DRNN ({config.net.cell}) trained by vocalsplit")
    return TrainResult(manifest, step, best, minutes, parameter_count(net))


def stft_clip(clip: Clip, params: StftParams) -> np.ndarray:
    from vocalsplit.audio.stft import stft

    return stft(clip.mixture[:1], params).transpose(0, 2, 1)


def _describe(config: TrainConfig) -> dict[str, Any]:
    d = asdict(config)
    d["data"] = [{**asdict(s), "path": str(s.path)} for s in config.data]
    return d


def _hardware() -> str:
    import os
    import platform

    return f"{platform.machine()} CPU, {os.cpu_count()} cores, torch {torch.__version__}"


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
    ax.plot([r["step"] for r in rows], [r["loss"] for r in rows], label="train (discriminative)")
    ax.plot([r["step"] for r in rows], [r["val_loss"] for r in rows], label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)
