"""``vocalsplit eval``: score a model through the same Separator users get."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from vocalsplit import defaults
from vocalsplit.choices import Backend, Dataset, Mask, parse
from vocalsplit.cli.app import app
from vocalsplit.cli.common import (
    INPUT_FAILED,
    ChannelMasksOpt,
    ChunkOpt,
    DeviceOpt,
    HighBandOpt,
    ModelOpt,
    ModelsDirOpt,
    ShiftsOpt,
    VerboseOpt,
    err,
    fail,
    flag,
    out,
    say_error,
)
from vocalsplit.errors import UsageError, VocalsplitError

DatasetOpt = Annotated[Dataset, typer.Option("--dataset", help="mir1k (825 test clips) or stems (a folder of tracks).")]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="Data folder (default: $VOCALSPLIT_DATA).")]
MasksOpt = Annotated[str, typer.Option("--masks", help="Comma-separated masks to score: soft, binary.")]
BackendOpt = Annotated[Backend, typer.Option("--backend", help="BSS Eval implementation: fast_bss_eval or mir_eval.")]
LimitOpt = Annotated[int | None, typer.Option("--limit", min=1, help="Score only the first N clips (quick checks).")]
WorkersOpt = Annotated[int, typer.Option("--workers", min=1, help="Processes computing metrics.")]
TimeoutOpt = Annotated[float, typer.Option("--clip-timeout-s", help="Give up on one clip's metrics after this.")]
MaxSecondsOpt = Annotated[
    float | None, typer.Option("--max-track-seconds", help="stems: score only the first N s of each track.")
]
SegmentOpt = Annotated[
    float,
    typer.Option("--segment-seconds", help="stems: score segments of this length."),
]
ResultsOpt = Annotated[Path, typer.Option("--results", help="Folder for per_clip.csv and summary.json.")]
ALL_MASKS = ",".join(m.value for m in Mask)
UpdateOpt = Annotated[bool, flag("--update-manifest", help="Record the figures in the model's manifest.")]


ALL_MASKS = ",".join(m.value for m in Mask)


@app.command("eval")
def evaluate_command(
    dataset: DatasetOpt = Dataset.MIR1K,
    data_dir: DataDirOpt = None,
    model: ModelOpt = None,
    models_dir: ModelsDirOpt = None,
    device: DeviceOpt = defaults.DEVICE,
    masks: MasksOpt = ALL_MASKS,
    backend: BackendOpt = Backend.FAST,
    limit: LimitOpt = None,
    workers: WorkersOpt = 2,
    clip_timeout: TimeoutOpt = 120.0,
    max_track_seconds: MaxSecondsOpt = None,
    segment_seconds: SegmentOpt = 10.0,
    results: ResultsOpt = Path("eval-results"),
    update_manifest: UpdateOpt = False,
    shifts: ShiftsOpt = None,
    high_band: HighBandOpt = defaults.HIGH_BAND,
    channel_masks: ChannelMasksOpt = defaults.CHANNEL_MASKS,
    chunk_seconds: ChunkOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Score a model: GNSDR/GSIR/GSAR on MIR-1K, or SDR/SIR/SAR on a stems folder."""
    try:
        from vocalsplit.training import require_torch

        if backend == Backend.FAST:
            require_torch()  # fast_bss_eval runs on torch tensors
        from vocalsplit.evaluation.evaluate import EvalRequest, evaluate, write_results
        from vocalsplit.separation.separator import Separator

        chosen = _masks(masks)
        sep = Separator(
            model, device, chunk_seconds=chunk_seconds, models_dir=models_dir, shifts=shifts, high_band=high_band,
            channel_masks=channel_masks,
        )  # fmt: skip
        req = EvalRequest(
            dataset, data_dir, chosen, backend, limit, workers, clip_timeout, max_track_seconds, segment_seconds
        )
        result = _evaluate_with_progress(sep.manifest.name, lambda on_clip: evaluate(sep, req, on_clip))
        csv_path, json_path = write_results(result, results)
        if update_manifest:
            _record_quality(sep.manifest.path, result, dataset, sep.manifest.shifts)
    except VocalsplitError as error:
        raise fail(error, verbose) from None
    _print_result(sep.manifest.name, dataset, result)
    out.print(f"per-clip: {csv_path}  summary: {json_path}")
    for f in result["failures"]:
        say_error(f"{f['clip']}: {f['error']}")
    if result["failures"]:
        raise typer.Exit(INPUT_FAILED)


def _evaluate_with_progress(name: str, run: Any) -> dict[str, Any]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn(f"eval {name}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} clips"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err) as progress:
        task = progress.add_task("eval", total=None)

        def on_clip(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        return run(on_clip)


def _print_result(name: str, dataset: Dataset, result: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title=f"{name} on {dataset} ({result['clips']} clips, {result['seconds']:.0f} s): BSS Eval")
    for column in ("mask", "GNSDR", "GSIR", "GSAR", "acc GNSDR", "acc GSIR", "acc GSAR", "clips"):
        table.add_column(column)
    for mask, s in result["summary"].items():
        figures = (f"{s[k]:.2f}" for k in ("GNSDR", "GSIR", "GSAR", "acc_GNSDR", "acc_GSIR", "acc_GSAR"))
        table.add_row(mask, *figures, str(s["clips"]))
    out.print(table)
    whole = Table(title="whole tracks: global SDR (dB), median / mean; vocals above 8 kHz vs reference (dB)")
    for column in ("mask", "vocals SDR", "acc SDR", "vocals >8 kHz", "tracks"):
        whole.add_column(column)
    for mask, s in result["summary"].items():
        pair = [f"{s[f'{k}_median']:.2f} / {s[f'{k}_mean']:.2f}" for k in ("vocals_SDR", "acc_SDR")]
        whole.add_row(mask, *pair, f"{s['vocals_high_band_dB_median']:.1f}", str(s["tracks"]))
    out.print(whole)
    _print_sources(result)


def _print_sources(result: dict[str, Any]) -> None:
    """A multi-source model on tracks with every source: each source's global SDR."""
    from rich.table import Table

    from vocalsplit.evaluation.evaluate import TRACK_KEYS

    summary = next(iter(result["summary"].values()))
    extra = [
        k[: -len("_median")] for k in summary if k.endswith("_SDR_median") and k[: -len("_median")] not in TRACK_KEYS
    ]
    if not extra:
        return
    table = Table(title="whole tracks, each source: global SDR (dB), median / mean")
    for column in ("mask", "vocals", *(k[: -len("_SDR")] for k in extra)):
        table.add_column(column)
    for mask, s in result["summary"].items():
        table.add_row(mask, *(f"{s[f'{k}_median']:.2f} / {s[f'{k}_mean']:.2f}" for k in ("vocals_SDR", *extra)))
    out.print(table)


def _record_quality(
    manifest_path: Path, result: dict[str, Any], dataset: Dataset, own_passes: int | tuple[int, ...]
) -> None:
    """Store measured figures in the manifest (the ONNX file and its sha256 are untouched)."""
    from vocalsplit.catalog.manifest import write_manifest

    data = json.loads(manifest_path.read_text())
    key = "mir1k_test" if dataset == Dataset.MIR1K else str(dataset)
    shifts = result["shifts"]
    if isinstance(shifts, (list, tuple)):  # a blend: marked when not its members' own passes
        if tuple(shifts) != own_passes:
            key += "_shifts" + "+".join(str(n) for n in shifts)
    elif shifts > 1:
        key += f"_shifts{shifts}"
    data.setdefault("quality", {})[key] = {
        **{
            m: {k: round(v, 2) if isinstance(v, float) else v for k, v in s.items()}
            for m, s in result["summary"].items()
        },
        "clips": result["clips"],
        "backend": result["backend"],
        "shifts": list(shifts) if isinstance(shifts, (list, tuple)) else shifts,
        "channel_masks": result["channel_masks"],
        "command": portable_command(["vocalsplit", *sys.argv[1:]], dataset),
    }
    write_manifest(manifest_path, data)


PATH_OPTIONS = {"--data-dir": "$DATA", "--results": "$RESULTS", "--models-dir": "$MODELS"}


def portable_command(argv: list[str], dataset: Dataset) -> str:
    """The command as it can be rerun anywhere: folders of this machine become placeholders
    (``$MIR1K``, ``$STEMS``, ``$RESULTS``...), so manifests never carry a build machine's paths."""
    names = {**PATH_OPTIONS, "--data-dir": "$MIR1K" if dataset == Dataset.MIR1K else "$STEMS"}
    out: list[str] = []
    for arg in argv:
        option, eq, _ = arg.partition("=")
        if out and out[-1] in names:
            out.append(names[out[-1]])
        elif eq and option in names:
            out.append(f"{option}={names[option]}")
        elif out and out[-1] in ("--model", "-m") and ("/" in arg or arg.endswith((".json", ".onnx"))):
            out.append(f"$MODELS/{Path(arg).name}")
        else:
            out.append(arg)
    return " ".join(out)


def _masks(text: str) -> tuple[Mask, ...]:
    chosen = tuple(dict.fromkeys(parse(Mask, m.strip(), "--masks") for m in text.split(",") if m.strip()))
    if not chosen:
        raise UsageError(f"--masks {text!r}; allowed: soft, binary")
    return chosen
