"""``vocalsplit separate`` (and ``vocalsplit FILE...``): songs in, stem files out."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from vocalsplit import defaults
from vocalsplit.audio.formats import MP3_DEFAULT_KBPS
from vocalsplit.choices import BitDepth, Existing, OutputFormat
from vocalsplit.cli.app import app
from vocalsplit.cli.common import (
    INPUT_FAILED,
    ChannelMasksOpt,
    ChunkOpt,
    DeviceOpt,
    HighBandOpt,
    MaskOpt,
    ModelOpt,
    ModelsDirOpt,
    ShiftsOpt,
    VerboseOpt,
    err,
    fail,
    flag,
    interrupts_clean_up,
    out,
    say_error,
)
from vocalsplit.cli.pipe import LatencyOpt, PipeRequest, RawFormatOpt, RawOutputOpt, check_file_mode, is_pipe, run_pipe
from vocalsplit.cli.progress import run_with_progress
from vocalsplit.errors import UsageError, VocalsplitError

InputsArg = Annotated[
    list[str],
    typer.Argument(
        help="Audio files, folders (searched recursively) and glob patterns.", show_default=False, metavar="INPUT"
    ),
]
StemsOpt = Annotated[str, typer.Option("--stems", help="Comma-separated stems to write (e.g. vocals), or 'all'.")]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", help="Output format.", case_sensitive=False)]
RateOpt = Annotated[
    int | None,
    typer.Option("--sample-rate", help="Output rate in Hz. [default: the input's rate]", show_default=False),
]
BitDepthOpt = Annotated[
    BitDepth,
    typer.Option("--bit-depth", help="auto keeps the input's depth where the format allows.", case_sensitive=False),
]
Mp3Opt = Annotated[int, typer.Option("--mp3-bitrate", help="Constant bitrate of mp3 stems, kb/s.")]
OffsetOpt = Annotated[
    str | None,
    typer.Option("--offset", help="Start this far into each input: seconds or [hh:]mm:ss.", show_default=False),
]
DurationOpt = Annotated[
    str | None, typer.Option("--duration", help="Separate this much of each input: seconds or [hh:]mm:ss.")
]
FilenameOpt = Annotated[
    str, typer.Option("--filename", help="Output path template below -o; fields {track} {stem} {ext} {model} {dir}.")
]


@app.command()
def separate(
    inputs: InputsArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="Output folder.")] = Path("separated"),
    model: ModelOpt = None,
    models_dir: ModelsDirOpt = None,
    mask: MaskOpt = defaults.MASK,
    device: DeviceOpt = defaults.DEVICE,
    stems: StemsOpt = "all",
    fmt: FormatOpt = defaults.FORMAT,
    sample_rate: RateOpt = None,
    bit_depth: BitDepthOpt = defaults.BIT_DEPTH,
    filename: FilenameOpt = defaults.FILENAME_TEMPLATE,
    overwrite: Annotated[bool, flag("--overwrite", help="Replace existing outputs.")] = False,
    skip_existing: Annotated[bool, flag("--skip-existing", help="Skip stems whose output already exists.")] = False,
    report: Annotated[Path | None, typer.Option("--report", help="Write a JSON run report to this file.")] = None,
    shifts: ShiftsOpt = None,
    high_band: HighBandOpt = defaults.HIGH_BAND,
    channel_masks: ChannelMasksOpt = defaults.CHANNEL_MASKS,
    chunk_seconds: ChunkOpt = None,
    mp3_bitrate: Mp3Opt = MP3_DEFAULT_KBPS,
    offset: OffsetOpt = None,
    duration: DurationOpt = None,
    raw_format: RawFormatOpt = None,
    raw_output: RawOutputOpt = False,
    latency: LatencyOpt = None,
    quiet: Annotated[bool, flag("--quiet", "-q", help="Print nothing but errors.")] = False,
    verbose: VerboseOpt = False,
) -> None:
    """Separate songs into stems (vocals, accompaniment)."""
    from vocalsplit.separation.batch import check_request, prepare_batch
    from vocalsplit.separation.files import OutputOptions
    from vocalsplit.separation.separator import Separator

    started = time.perf_counter()
    wanted = None if stems.strip().lower() == "all" else [s.strip() for s in stems.split(",") if s.strip()]
    if is_pipe(inputs, output):
        args = {"model": model, "device": device, "mask": mask, "chunk_seconds": chunk_seconds, "high_band": high_band,
                "channel_masks": channel_masks}  # fmt: skip
        floating = bit_depth == BitDepth.FLOAT
        request = PipeRequest(inputs, output, fmt, floating, raw_format, raw_output, latency, quiet)
        return run_pipe({**args, "models_dir": models_dir, "shifts": shifts}, wanted, request)
    try:
        check_file_mode(raw_format, raw_output, latency)
        if wanted == []:
            raise UsageError(f"--stems {stems!r} names no stem; give e.g. vocals, or all")
        if overwrite and skip_existing:
            raise UsageError("--overwrite and --skip-existing exclude each other")
        existing = Existing.OVERWRITE if overwrite else Existing.SKIP if skip_existing else Existing.ERROR
        options = OutputOptions.checked(fmt, bit_depth, sample_rate, existing, _time(offset, "--offset") or 0.0,
                                        _time(duration, "--duration"), mp3_bitrate)  # fmt: skip
        check_request(inputs, filename, wanted)
        if report is not None:
            _check_report(report)
        separator = Separator(model, device, mask, chunk_seconds, models_dir, shifts, high_band, channel_masks)
        job = prepare_batch(separator, inputs, output, options, filename, wanted)
    except VocalsplitError as error:
        raise fail(error, verbose) from None
    if not quiet:
        err.print(
            f"model [bold]{separator.manifest.name}[/] on [bold]{separator.provider}[/] · "
            f"{len(job.plans)} file(s) → {output}",
            highlight=False,
        )
    for problem in job.failures:
        say_error(str(problem.error))
    with interrupts_clean_up():
        results = run_with_progress(job, quiet, verbose)
    for warning in (w for r in results for w in r.warnings):
        say_error(warning, label="warning")
    summary = job.summary(results, time.perf_counter() - started, device)
    if report is not None:
        try:
            _write_report(report, summary)
        except OSError as error:
            say_error(f"cannot write report {report}: {error}")
            raise typer.Exit(INPUT_FAILED) from None
    if not quiet:
        _print_summary(summary)
    if any(r.status == "failed" for r in [*job.failures, *results]):
        raise typer.Exit(INPUT_FAILED)


def _time(text: str | None, option: str) -> float | None:
    """``"90"``, ``"1:30"``, ``"0:01:30.5"`` → seconds; anything else is a usage error."""
    if text is None:
        return None
    try:
        parts = [float(p) for p in text.strip().split(":")]
        if len(parts) > 3 or any(p < 0 for p in parts) or any(p >= 60 for p in parts[1:]):
            raise ValueError(text)
    except ValueError:
        raise UsageError(f"{option} {text!r}: give seconds (90, 12.5) or [hh:]mm:ss (1:30)") from None
    seconds = 0.0
    for part in parts:
        seconds = 60 * seconds + part
    return seconds


def _print_summary(summary: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title="vocalsplit summary", show_lines=False)
    for column in ("input", "status", "audio s", "wall s", "× real time", "detail"):
        table.add_column(column, overflow="fold")
    for f in summary["files"]:
        detail = f["error"] or ", ".join(Path(p).name for p in f["outputs"].values())
        speed = f"{f['x_realtime']:.1f}" if f["x_realtime"] else "-"
        colour = {"ok": "green", "skipped": "yellow"}.get(f["status"], "red")
        status = f"[{colour}]{f['status']}[/]"
        table.add_row(Path(f["input"]).name, status, f"{f['duration_s']:.1f}", f"{f['wall_s']:.2f}", speed, detail)
    out.print(table)
    t = summary["totals"]
    warned = f", {t['warnings']} warning(s)" if t["warnings"] else ""
    out.print(f"{t['ok']} separated, {t['skipped']} skipped, {t['failed']} failed{warned} in {t['wall_s']:.1f} s")


def _check_report(path: Path) -> None:
    """Refuse a --report that cannot be written before any work is done."""
    if path.is_dir():
        raise UsageError(f"--report {path} is a folder; give a file name, e.g. {path / 'report.json'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.probe-"):
            pass
    except OSError as error:
        raise UsageError(f"--report {path}: cannot write there ({error.strerror or error})") from error


def _write_report(path: Path, summary: dict[str, Any]) -> None:
    """Write the report atomically; nothing is left behind if that fails (a full disk)."""
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        tmp.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
