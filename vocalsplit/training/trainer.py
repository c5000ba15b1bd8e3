"""Training loop: Adam, seeded, validation, best/last checkpoints, resume, JSON log, export."""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from vocalsplit.audio.channel_layout import side_by_side
from vocalsplit.audio.stft import StftParams, stft
from vocalsplit.choices import Select
from vocalsplit.errors import DeviceError, TrainingError, UsageError
from vocalsplit.training import checkpoints
from vocalsplit.training.architecture import Arch, LossSettings, build_arch
from vocalsplit.training.base import SeparationNet, parameter_count
from vocalsplit.training.batches import TrainingBatch, sample_batch, sequential_batches
from vocalsplit.training.board import TensorBoard
from vocalsplit.training.checkpoints import Progress
from vocalsplit.training.config import DataSpec, TrainConfig
from vocalsplit.training.data import load_clips
from vocalsplit.training.datasets import Clip, spectral_set
from vocalsplit.training.export import export_model
from vocalsplit.training.mixer import build_pools, mix_batch
from vocalsplit.training.repitch import repitch_voice

__all__ = ["DataSpec", "TrainConfig", "TrainResult", "cosine_lr", "resolve_device", "train"]


@dataclass
class TrainResult:
    manifest: Path
    steps: int
    best_val: float
    minutes: float
    parameters: int
    select: Select = Select.LOSS

    @property
    def best_described(self) -> str:
        if self.select == Select.SDR:
            return f"best mean validation SDR {-self.best_val:.2f} dB"
        return f"best validation loss {self.best_val:.4f}"


CheckpointScorer = Callable[[Arch, list[Clip], StftParams, int, torch.device], dict[str, float] | None]
"""(network, validation clips, STFT, sample rate, device) → mean whole-clip SDR per source, or None."""

ProgressFn = Callable[[int, int, float, float | None], None]
"""(step, total steps, train loss, latest validation loss)."""


def resolve_device(device: str) -> torch.device:
    """``auto`` → the first CUDA device if torch sees one, else the CPU; ``cuda`` without CUDA is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        chosen = torch.device(device)
    except RuntimeError as err:
        raise DeviceError(f"--device {device!r}; allowed: auto, cpu, cuda, cuda:N") from err
    if chosen.type not in ("cpu", "cuda"):
        raise DeviceError(f"--device {device!r}; allowed: auto, cpu, cuda, cuda:N")
    if chosen.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"--device {device}: torch {torch.__version__} sees no usable CUDA device")
        if chosen.index is not None and chosen.index >= torch.cuda.device_count():
            raise DeviceError(f"--device {device}: only {torch.cuda.device_count()} CUDA device(s)")
    return chosen


@dataclass
class _Run:
    """One training run's moving parts."""

    config: TrainConfig
    arch: Arch
    scored: Arch
    """What is validated, kept as best and exported: the network or its moving average."""
    opt: torch.optim.Optimizer
    ema: AveragedModel | None
    rng: np.random.Generator
    device: torch.device
    draw: Callable[[np.random.Generator], TrainingBatch]
    """One training batch (remixed STFTs of paired clips, or waveforms mixed on the fly)."""
    val_batches: list[TrainingBatch]
    frames: int
    val_clips: list[Clip]
    scorer: CheckpointScorer | None = None
    """Whole-clip SDR of the validation clips per source (``vocalsplit train`` passes the pipeline's)."""
    prior: dict[str, Any] | None = None
    """Steps and minutes behind the ``--init-from`` weights, as far as they are recorded."""

    def score(self) -> dict[str, float] | None:
        if self.scorer is None:
            return None
        params = StftParams(self.config.n_fft, self.config.hop)
        return self.scorer(self.scored, self.val_clips, params, self.config.sample_rate, self.device)

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """bf16 autocast on CUDA (mixed precision); nothing on the CPU."""
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def step_loss(self) -> torch.Tensor:
        b = self.draw(self.rng)
        with self.autocast():
            return self.arch.loss(b.to(self.device), self.config.loss).float()

    def validate(self) -> float:
        net = self.scored.net
        net.eval()
        with torch.no_grad(), self.autocast():
            settings: LossSettings = self.config.loss
            losses = [float(self.scored.loss(b.to(self.device), settings, False)) for b in self.val_batches]
        net.train()
        return float(np.mean(losses)) if losses else math.inf


def _prepare(config: TrainConfig) -> tuple[_Run, dict[str, Any], Any]:
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    device = resolve_device(config.device)
    params = StftParams(config.n_fft, config.hop)
    arch = build_arch(config.arch, config.channels * params.bins, config.arch_options, config.frames, config.sources)
    train_clips, val_clips, data_info = load_clips(config)
    voiced = [c for c in train_clips if "vocals" in c.sources]
    train_clips += [repitch_voice(c, s) for s in config.augment.repitch for c in voiced]
    left, right = arch.train_context
    frames = arch.train_span - left - right
    draw, feats = _sampler(config, train_clips, params, frames, left, right)
    arch.net.set_normalisation(torch.from_numpy(feats.mean(0)).float(), torch.from_numpy(feats.std(0)).float())
    prior = None
    if config.init_from is not None:
        prior = checkpoints.init_from(arch, config.init_from, (config.sample_rate, config.n_fft, config.hop))
    arch.net.to(device)
    opt = torch.optim.Adam(arch.net.parameters(), lr=config.lr)
    ema = None if config.ema is None else AveragedModel(arch.net, multi_avg_fn=get_ema_multi_avg_fn(config.ema))
    scored = arch if ema is None else replace(arch, net=cast(SeparationNet, ema.module))
    val_set = spectral_set(val_clips, params, config.channels)
    val_batches = sequential_batches(val_set, config.batch, frames, left, right)
    run = _Run(config, arch, scored, opt, ema, rng, device, draw, val_batches, frames, val_clips, prior=prior)
    return run, data_info, val_clips[0]


def _sampler(
    config: TrainConfig, clips: list[Clip], params: StftParams, frames: int, left: int, right: int
) -> tuple[Callable[[np.random.Generator], TrainingBatch], np.ndarray]:
    """How training batches are drawn (waveforms mixed on the fly, or remixed STFTs of paired clips),
    and log-magnitude frames ``(n, bins)`` of typical inputs for the network's normalisation."""
    mixing = config.mixing
    if mixing is not None:
        pools = build_pools(clips, (frames + left + right) * params.hop + params.n_fft)

        def draw(rng: np.random.Generator) -> TrainingBatch:
            return mix_batch(pools, rng, config.batch, frames, left, right, params, config.sample_rate, mixing)

        sampling = np.random.default_rng(config.seed + 1)  # leaves the training draws as they are
        typical = [draw(sampling).mixture for _ in range(8)]
        return draw, np.log1p(np.concatenate(typical, axis=1).reshape(-1, params.bins))
    train_set = spectral_set(clips, params, config.channels)
    feats = np.log1p(np.abs(train_set.sources[:, ::7].sum(axis=0)))

    def remix(rng: np.random.Generator) -> TrainingBatch:
        return sample_batch(train_set, rng, config.batch, frames, left, right, config.augment)

    return remix, feats


def train(
    config: TrainConfig, progress: ProgressFn | None = None, scorer: CheckpointScorer | None = None
) -> TrainResult:
    """Train, keep the best checkpoint by validation loss, export it (on the CPU) with its manifest.

    ``scorer``, when given, measures the validation SDR at each checkpoint (logged and plotted)."""
    run, data_info, first_val_clip = _prepare(config)
    run.scorer = scorer
    if config.select == Select.SDR and scorer is None:
        raise UsageError("--select sdr needs the validation SDR scorer (vocalsplit train passes it)")
    config.run_dir.mkdir(parents=True, exist_ok=True)
    log_path = config.run_dir / "log.jsonl"
    at = Progress(select=str(config.select))
    if config.resume:
        at = checkpoints.resume(config.run_dir / "last.pt", run.arch, run.opt, run.rng, run.ema)
        _set_lr(run.opt, config.lr)
        if at.select != config.select:  # the stored best was ranked by the other rule
            at = replace(at, best=float("inf"), select=str(config.select))
    elif log_path.exists():
        log_path.unlink()
    (config.run_dir / "config.json").write_text(json.dumps(config.describe(), indent=2, default=str))
    _loop(run, at, progress)
    best_ck = checkpoints.load(config.run_dir / "best.pt")
    arch = run.scored
    arch.net.to("cpu").load_state_dict(best_ck["net"])
    arch.net.eval()
    _plot(log_path, config.run_dir / "loss.png")
    training = {
        **data_info,
        "steps": at.step,
        "best_step": best_ck["step"],
        "minutes": round(at.elapsed / 60, 1),
        **_best_figure(at),
        "device": _device_name(run.device),
        "hardware": _hardware(run.device),
        # the run folder and file, not this machine's path to them
        "init_from": str(Path(*config.init_from.parts[-2:])) if config.init_from else None,
        "init_from_training": run.prior,  # what this run's minutes and steps do not include
    }
    manifest = export_model(
        arch,
        config.out,
        StftParams(config.n_fft, config.hop),
        config.sample_rate,
        training,
        _hyperparameters(config, arch, run.frames),
        _real_input(first_val_clip.mixture, arch, StftParams(config.n_fft, config.hop), config.channels),
        default=config.default,
        weights=config.weights,
    )
    return TrainResult(manifest, at.step, at.best, at.elapsed / 60, parameter_count(arch.net), config.select)


def _best_figure(at: Progress) -> dict[str, Any]:
    """How the exported checkpoint was chosen, for the manifest."""
    if at.select == Select.SDR:
        return {"selected_by": "validation SDR (mean over sources)", "best_validation_sdr": round(-at.best, 3)}
    return {"selected_by": "validation loss", "best_validation_loss": at.best}


def _loop(run: _Run, at: Progress, progress: ProgressFn | None) -> None:
    """Train until the step or time budget ends; checkpoint ``last`` and ``best`` on each validation."""
    config = run.config
    started, first_step, elapsed_before = time.monotonic(), at.step, at.elapsed
    deadline = None if config.minutes is None else started + 60 * config.minutes
    val_loss: float | None = None
    run.arch.net.train()

    def checkpoint(loss_value: float) -> float:
        val = run.validate()
        sdr = run.score()
        at.elapsed = elapsed_before + time.monotonic() - started
        figure = selection_figure(config.select, val, sdr)
        if figure < at.best or not (config.run_dir / "best.pt").exists():
            at.best = figure
            checkpoints.save(config.run_dir / "best.pt", run.arch, run.opt, at, run.rng, run.ema)
        checkpoints.save(config.run_dir / "last.pt", run.arch, run.opt, at, run.rng, run.ema)
        row: dict[str, Any] = {
            "step": at.step,
            "loss": loss_value,
            "val_loss": val,
            "minutes": round(at.elapsed / 60, 2),
        }
        if sdr is not None:
            row["val_sdr"] = sdr
        with (config.run_dir / "log.jsonl").open("a") as f:
            f.write(json.dumps({**row, "lr": run.opt.param_groups[0]["lr"]}) + "\n")
        board.add(row)
        return val

    board = TensorBoard(config.run_dir)
    loss_value = math.nan
    try:
        for loss_value in _steps(run, at, first_step, started, deadline):
            if at.step % config.val_every == 0:
                val_loss = checkpoint(loss_value)
            if progress is not None:
                progress(at.step, config.steps, loss_value, val_loss)
    except KeyboardInterrupt:
        at.elapsed = elapsed_before + time.monotonic() - started
        checkpoints.save(config.run_dir / "last.pt", run.arch, run.opt, at, run.rng, run.ema)
        raise
    stepped = at.step > first_step  # a resume with nothing left to train only exports
    if (stepped and at.step % config.val_every) or not (config.run_dir / "best.pt").exists():
        checkpoint(loss_value)
    board.close()
    at.elapsed = elapsed_before + time.monotonic() - started


def selection_figure(select: Select, val_loss: float, sdr: dict[str, float] | None) -> float:
    """The figure that ranks checkpoints, lower is better: the validation loss, or minus the mean SDR."""
    if select == Select.LOSS:
        return val_loss
    if not sdr:
        raise TrainingError("--select sdr: no validation clip holds every source, so no SDR can be measured")
    return -float(np.mean(list(sdr.values())))


def _steps(run: _Run, at: Progress, first_step: int, started: float, deadline: float | None) -> Iterator[float]:
    """Optimiser steps while the budget lasts; yields each step's training loss."""
    config = run.config
    while at.step < config.steps and (deadline is None or time.monotonic() < deadline):
        if config.lr_final is not None:
            done = _budget_used(at.step - first_step, config.steps - first_step, started, deadline)
            _set_lr(run.opt, cosine_lr(config.lr, config.lr_final, done))
        loss = run.step_loss()
        loss_value = loss.item()
        if not math.isfinite(loss_value):
            raise TrainingError(
                f"loss became {loss_value} at step {at.step + 1}; stopped. The last good checkpoints are "
                f"kept in {config.run_dir} (try a lower --lr)"
            )
        run.opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(run.arch.net.parameters(), 5.0)
        run.opt.step()
        if run.ema is not None:
            run.ema.update_parameters(run.arch.net)
        at.step += 1
        yield loss_value


def _real_input(mixture: np.ndarray, arch: Arch, params: StftParams, channels: int) -> np.ndarray:
    """A real clip's magnitudes ``(1, frames, bins)`` cut to a length the network takes (parity check):
    its first channel, or for a stereo network its two channels side by side."""
    rows = mixture[:channels] if mixture.shape[0] >= channels else np.repeat(mixture[:1], channels, axis=0)
    real = np.abs(stft(rows, params)).transpose(0, 2, 1)[:, : 16 * max(arch.frame_multiple, 8)]
    real = side_by_side(real, channels)
    return real[:, : arch.left + arch.right + _fit(real.shape[1] - arch.left - arch.right, arch.frame_multiple)]


def _hyperparameters(config: TrainConfig, arch: Arch, frames: int) -> dict[str, Any]:
    return {
        "arch": config.arch,
        **arch.net.config.to_dict(),
        "loss": {**asdict(config.loss), "kind": str(config.loss.kind)},
        "lr": config.lr,
        "lr_final": config.lr_final,
        "batch": config.batch,
        "frames": frames,
        "seed": config.seed,
        "ema": config.ema,
        "augment": asdict(config.augment),
    }


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


def _device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"


def _hardware(device: torch.device) -> str:
    where = f"{_device_name(device)} (bf16 autocast)" if device.type == "cuda" else f"{platform.machine()} CPU"
    return f"{where}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads"


def _plot(log_path: Path, png: Path) -> None:
    """Loss curves, and the validation SDR per checkpoint beside them when it was measured."""
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
    scored = [r for r in rows if "val_sdr" in r]
    fig, axes = plt.subplots(1, 2 if scored else 1, figsize=(11 if scored else 6, 3.5), squeeze=False)
    ax = axes[0][0]
    ax.plot([r["step"] for r in rows], [r["loss"] for r in rows], label="train (with discriminative term)")
    ax.plot([r["step"] for r in rows], [r["val_loss"] for r in rows], label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend()
    if scored:
        ax = axes[0][1]
        for source in scored[0]["val_sdr"]:
            ax.plot([r["step"] for r in scored], [r["val_sdr"][source] for r in scored], marker="o", label=source)
        ax.set_xlabel("step")
        ax.set_ylabel("validation SDR (dB, whole clips)")
        ax.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)
