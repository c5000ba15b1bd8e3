"""``vocalsplit train``: train a network, keep the best by validation loss, export ONNX + manifest.

Every default shown here is read from the training configs (``training/config.py``,
``training/net_configs.py``); none is restated.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vocalsplit.choices import Cell, Loss, Mir1kClips
from vocalsplit.cli.app import app
from vocalsplit.cli.common import INTERRUPTED, VerboseOpt, err, fail, flag, out
from vocalsplit.errors import UsageError, VocalsplitError
from vocalsplit.training.config import Augment, DataSpec, LossSettings, Mixing, TrainConfig
from vocalsplit.training.net_configs import BmcnnConfig, CnnConfig, DrnnConfig

if TYPE_CHECKING:
    from vocalsplit.training.trainer import TrainResult

from vocalsplit.cli.train_options import (
    DEFAULT_ARCH,
    DEFAULT_RATIO,
    DEFAULT_SOURCES,
    LS,
    ArchOpt,
    BottleneckOpt,
    ClipsOpt,
    ContextOpt,
    DataDirOpt,
    DatasetOpt,
    DeviceOpt,
    DropoutOpt,
    EmaOpt,
    HiddenOpt,
    InitOpt,
    LayersOpt,
    LicenceOpt,
    LrFinalOpt,
    M,
    MinutesOpt,
    MixOpt,
    MixPairsOpt,
    MixRatioOpt,
    MixSilenceOpt,
    OutOpt,
    RepeatOpt,
    RepitchOpt,
    RunDirOpt,
    SelectOpt,
    SourcesOpt,
    SplitOpt,
    StereoOpt,
    T,
    ValTracksOpt,
    WeightsOpt,
    WindowOpt,
    _opt,
)


@app.command()
def train(
    dataset: DatasetOpt,
    data_dir: DataDirOpt = None,
    data_licence: LicenceOpt = None,
    data_repeat: RepeatOpt = None,
    out_path: OutOpt = Path("models/custom"),
    run_dir: RunDirOpt = None,
    mir1k_clips: ClipsOpt = Mir1kClips.TRAIN,
    sources: SourcesOpt = DEFAULT_SOURCES,
    arch: ArchOpt = DEFAULT_ARCH,
    context: ContextOpt = None,
    layers: LayersOpt = None,
    hidden: HiddenOpt = None,
    recurrent_layer: Annotated[
        int, _opt("--recurrent-layer", "drnn: recurrent layer; 0 = all.")
    ] = DrnnConfig.recurrent_layer,
    cell: Annotated[Cell, _opt("--cell", "drnn: recurrent cell (relu as in the paper).")] = DrnnConfig.cell,
    window: WindowOpt = None,
    vertical_filters: Annotated[int, _opt("--vertical-filters", "cnn: N1.")] = CnnConfig.vertical_filters,
    horizontal_filters: Annotated[int, _opt("--horizontal-filters", "cnn: N2.")] = CnnConfig.horizontal_filters,
    horizontal_kernel: Annotated[int, _opt("--horizontal-kernel", "cnn: t2 frames.")] = CnnConfig.horizontal_kernel,
    bottleneck: BottleneckOpt = None,
    dense: Annotated[int, _opt("--dense", "bmcnn: dense units.")] = BmcnnConfig.dense,
    dropout: DropoutOpt = None,
    loss: Annotated[Loss, _opt("--loss", "drnn/lstm: mse, kl (generalized KL) or psa (phase-sensitive).")] = LS.kind,
    gamma: Annotated[float, _opt("--gamma", "drnn/lstm: discriminative weight γ.")] = LS.gamma,
    alpha: Annotated[float, _opt("--alpha", "cnn: discriminative weight α.")] = LS.alpha,
    beta: Annotated[float, _opt("--beta", "cnn: discriminative weight β.")] = LS.beta,
    beta_vocals: Annotated[float, _opt("--beta-vocals", "cnn: discriminative weight β_vocals.")] = LS.beta_vocals,
    sample_rate: Annotated[int, _opt("--sample-rate", "Model sample rate in Hz.")] = T.sample_rate,
    n_fft: Annotated[int, _opt("--n-fft", "STFT size.")] = T.n_fft,
    hop: Annotated[int, _opt("--hop", "STFT hop.")] = T.hop,
    lr: Annotated[float, _opt("--lr", "Adam learning rate (also applied on --resume).")] = T.lr,
    lr_final: LrFinalOpt = T.lr_final,
    batch: Annotated[int, _opt("--batch", "Examples per batch.")] = T.batch,
    frames: Annotated[int, _opt("--frames", "drnn/bmcnn: frames per training sequence.")] = T.frames,
    steps: Annotated[int, _opt("--steps", "Maximum training steps.")] = T.steps,
    minutes: MinutesOpt = T.minutes,
    val_every: Annotated[int, _opt("--val-every", "Validate and checkpoint every N steps.")] = T.val_every,
    seed: Annotated[int, _opt("--seed", "Random seed.")] = T.seed,
    split: SplitOpt = T.split,
    select: SelectOpt = T.select,
    validation_tracks: ValTracksOpt = None,
    mix: MixOpt = False,
    mix_ratio_db: MixRatioOpt = DEFAULT_RATIO,
    mix_pairs: MixPairsOpt = M.pairs,
    mix_silence: MixSilenceOpt = M.silence,
    init_from: InitOpt = None,
    ema: EmaOpt = T.ema,
    repitch: RepitchOpt = "",
    weights: WeightsOpt = T.weights,
    device: DeviceOpt = T.device,
    stereo: StereoOpt = False,
    default: Annotated[bool, flag("--default", help="Mark the exported model as the default model.")] = False,
    resume: Annotated[bool, flag("--resume", help="Continue from the run folder's last checkpoint.")] = False,
    verbose: VerboseOpt = False,
) -> None:
    """Train a model, keep the best by validation loss (or SDR), export ONNX + manifest."""
    options = dict(locals())  # the options as typer converted them (paths as Path); click's ctx.params holds strings
    try:
        from vocalsplit.training import require_torch

        require_torch()
        result = _train_with_progress(_config(options))
    except KeyboardInterrupt:
        err.print("interrupted: last checkpoint saved; continue with --resume")
        raise typer.Exit(INTERRUPTED) from None
    except VocalsplitError as error:
        raise fail(error, verbose) from None
    out.print(
        f"trained {result.steps} steps in {result.minutes:.1f} min ({result.parameters:,} parameters); "
        f"{result.best_described}; wrote {result.manifest} and {result.manifest.with_suffix('.onnx')}",
        highlight=False,
    )


ARCH_OPTIONS = (
    *("context", "layers", "hidden", "recurrent_layer", "cell", "window", "vertical_filters"),
    *("horizontal_filters", "horizontal_kernel", "bottleneck", "dense", "dropout"),
)
"""Options handed to the chosen architecture's config (each takes the fields it has)."""


def _config(o: dict[str, Any]) -> TrainConfig:
    """The run's configuration from the parsed options (``o``: option name → value)."""
    dirs, licences, datasets = list(o["data_dir"] or []), list(o["data_licence"] or []), o["dataset"]
    if dirs and len(dirs) != len(datasets):
        raise UsageError(f"give one --data-dir per --dataset ({len(datasets)} datasets, {len(dirs)} folders)")
    if licences and len(licences) != len(datasets):
        raise UsageError(f"give one --data-licence per --dataset ({len(datasets)} datasets, {len(licences)} given)")
    repeats = list(o["data_repeat"] or [1] * len(datasets))
    if len(repeats) != len(datasets):
        raise UsageError(f"give one --data-repeat per --dataset ({len(datasets)} datasets, {len(repeats)} given)")
    out_path = o["out_path"]
    return TrainConfig(
        data=[
            DataSpec(d, dirs[i] if dirs else None, o["mir1k_clips"], licences[i] if licences else None, repeats[i])
            for i, d in enumerate(datasets)
        ],
        out=out_path,
        run_dir=o["run_dir"] or Path("runs") / out_path.name,
        arch=str(o["arch"]),
        arch_options={k: o[k] for k in ARCH_OPTIONS},
        sources=tuple(x.strip() for x in o["sources"].split(",") if x.strip()),
        loss=LossSettings(o["loss"], o["gamma"], o["alpha"], o["beta"], o["beta_vocals"]),
        augment=Augment(repitch=_semitones(o["repitch"])),
        mixing=Mixing(_pair(o["mix_ratio_db"]), o["mix_pairs"], o["mix_silence"]) if o["mix"] else None,
        validation_tracks=tuple(o["validation_tracks"] or ()),
        **{k: o[k] for k in PLAIN_OPTIONS},
    )


PLAIN_OPTIONS = (
    *("lr", "lr_final", "batch", "frames", "steps", "minutes", "val_every", "seed", "split", "sample_rate"),
    *("n_fft", "hop", "default", "resume", "init_from", "ema", "weights", "device", "select", "stereo"),
)
"""Options that are TrainConfig fields of the same name."""


def _train_with_progress(config: TrainConfig) -> TrainResult:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from vocalsplit.evaluation.checkpoint_sdr import checkpoint_sdr
    from vocalsplit.training.trainer import train as run_training

    columns = (
        TextColumn("training"),
        BarColumn(),
        TextColumn("step {task.completed}/{task.total}"),
        TextColumn("loss {task.fields[loss]} val {task.fields[val]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err) as progress:
        task = progress.add_task("train", total=config.steps, loss="-", val="-")

        def on_step(step: int, total: int, loss_value: float, val_loss: float | None) -> None:
            val = "-" if val_loss is None else f"{val_loss:.4f}"
            progress.update(task, completed=step, loss=f"{loss_value:.4f}", val=val)

        return run_training(config, on_step, checkpoint_sdr)


def _pair(text: str) -> tuple[float, float]:
    """``"-17,3"`` → ``(-17.0, 3.0)``; anything else is a usage error."""
    try:
        low, high = (float(x) for x in text.split(","))
    except ValueError as error:
        raise UsageError(f"--mix-ratio-db {text!r}: expected LOW,HIGH in dB, e.g. -17,3") from error
    return low, high


def _semitones(text: str) -> tuple[float, ...]:
    """``"-2,1.5"`` → ``(-2.0, 1.5)``; a value that is not a number is a usage error."""
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError as error:
        raise UsageError(f"--repitch {text!r}: expected comma-separated semitones, e.g. -2,-1,1,2") from error
