"""The command line: parses, calls the library, maps errors to exit codes, draws progress.

This is the only module that prints or exits. Heavy modules (onnxruntime, torch)
are imported inside the commands so ``vocalsplit --help`` stays fast.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console

from vocalsplit import __version__, defaults
from vocalsplit.errors import UsageError, VocalsplitError

app = typer.Typer(
    name="vocalsplit",
    help=(
        "Split songs into vocals and accompaniment.\n\n"
        "  vocalsplit song.mp3 -o out/        (short for: vocalsplit separate song.mp3 -o out/)\n\n"
        "  vocalsplit music/ '*.flac' -o out/ (folders are searched recursively)"
    ),
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

COMMANDS = ("separate", "models", "doctor", "train", "eval")
OK, INPUT_FAILED, USAGE, ENVIRONMENT = 0, 1, 2, 3

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def fail(error: BaseException, verbose: bool = False) -> typer.Exit:
    """Print one readable line for ``error`` and return the Exit to raise."""
    if verbose:
        err.print_exception()
    code = error.exit_code if isinstance(error, VocalsplitError) else INPUT_FAILED
    err.print(f"[bold red]error:[/] {error}", markup=True, highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _version_callback(value: bool) -> None:
    if value:
        out.print(f"vocalsplit {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version_callback, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Split songs into vocals and accompaniment."""


ModelOpt = Annotated[
    Optional[str],
    typer.Option("--model", "-m", help="Installed model name or path to a .onnx/.json; default: the default installed model."),
]
ModelsDirOpt = Annotated[
    Optional[Path],
    typer.Option("--models-dir", help="Extra folder of models searched first (also: VOCALSPLIT_MODELS)."),
]
DeviceOpt = Annotated[str, typer.Option("--device", help="auto, cpu, cuda or cuda:N. cuda fails (exit 3) if CUDA cannot be used.")]
MaskOpt = Annotated[str, typer.Option("--mask", help="soft (stems sum to the mix) or binary (each bin to one stem).")]
ChunkOpt = Annotated[float, typer.Option("--chunk-seconds", help="Seconds of audio per network call (memory vs. speed).")]


@app.command()
def separate(
    inputs: Annotated[list[str], typer.Argument(help="Audio files, folders (searched recursively) and glob patterns.", show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output folder.")] = Path("separated"),
    model: ModelOpt = None,
    models_dir: ModelsDirOpt = None,
    mask: MaskOpt = defaults.MASK,
    device: DeviceOpt = defaults.DEVICE,
    stems: Annotated[str, typer.Option("--stems", help="Comma-separated stems to write (e.g. vocals), or 'all'.")] = "all",
    fmt: Annotated[str, typer.Option("--format", help="Output format: wav, flac or mp3.")] = defaults.FORMAT,
    sample_rate: Annotated[
        Optional[int], typer.Option("--sample-rate", help="Output rate in Hz. [default: the input's rate]", show_default=False)
    ] = None,
    bit_depth: Annotated[
        str, typer.Option("--bit-depth", help="auto (the input's, where the format allows), 16, 24, 32 or float.")
    ] = defaults.BIT_DEPTH,
    filename: Annotated[
        str, typer.Option("--filename", help="Output path template below -o; fields {track} {stem} {ext} {model} {dir}.")
    ] = defaults.FILENAME_TEMPLATE,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace existing outputs.")] = False,
    skip_existing: Annotated[bool, typer.Option("--skip-existing", help="Skip stems whose output already exists.")] = False,
    report: Annotated[Optional[Path], typer.Option("--report", help="Write a JSON run report to this file.")] = None,
    chunk_seconds: ChunkOpt = defaults.CHUNK_SECONDS,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="More detail, tracebacks on errors.")] = False,
) -> None:
    """Separate songs into stems (vocals, accompaniment)."""
    from vocalsplit.separation.batch import BatchRequest, prepare_batch, run_batch

    if overwrite and skip_existing:
        raise fail(UsageError("--overwrite and --skip-existing exclude each other"))
    request = BatchRequest(
        inputs=inputs, out_dir=output, model=model, models_dir=models_dir, mask=mask, device=device,
        stems=None if stems.strip().lower() == "all" else [s.strip() for s in stems.split(",") if s.strip()],
        fmt=fmt.lower(), sample_rate=sample_rate, bit_depth=bit_depth.lower(), filename=filename,
        existing="overwrite" if overwrite else "skip" if skip_existing else "error", chunk_seconds=chunk_seconds,
    )
    started = time.perf_counter()
    try:
        batch = prepare_batch(request)
    except VocalsplitError as error:
        raise fail(error, verbose) from None
    if not quiet:
        err.print(
            f"model [bold]{batch.manifest.name}[/] on [bold]{batch.provider}[/] · {len(batch.plans)} file(s) → {output}",
            highlight=False,
        )
    for problem in batch.failures:
        err.print(f"[bold red]error:[/] {problem.error}", highlight=False, soft_wrap=True)
    results = _run_with_progress(batch, run_batch, quiet, verbose)
    summary = batch.summary(results, time.perf_counter() - started)
    if report is not None:
        try:
            _write_report(report, summary)
        except OSError as error:
            err.print(f"[bold red]error:[/] cannot write report {report}: {error}", highlight=False)
            raise typer.Exit(INPUT_FAILED) from None
    failed = [r for r in [*batch.failures, *results] if r.status == "failed"]
    if not quiet:
        _print_summary(summary)
    if failed:
        raise typer.Exit(INPUT_FAILED)


def _run_with_progress(batch: Any, run_batch: Any, quiet: bool, verbose: bool) -> list[Any]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    def on_error(path: Path, error: BaseException) -> None:
        if verbose and not isinstance(error, VocalsplitError):
            err.print_exception()
        err.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)

    if quiet:
        return run_batch(batch, on_error=on_error)
    columns = (
        TextColumn("{task.description}"), BarColumn(),
        TextColumn("{task.completed:>7.1f}/{task.total:.1f} s"), TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=False) as progress:
        overall = progress.add_task("[bold]all files", total=max(batch.total_seconds, 1e-9))
        state: dict[str, Any] = {"task": None, "base": 0.0}

        def on_start(path: Path, seconds: float) -> None:
            if state["task"] is not None:
                progress.remove_task(state["task"])
            state["task"] = progress.add_task(_short(path.name), total=max(seconds, 1e-9))

        def on_progress(done_in_file: float, done_before: float) -> None:
            progress.update(state["task"], completed=done_in_file)
            progress.update(overall, completed=done_before + done_in_file)

        results = run_batch(batch, on_start=on_start, on_progress=on_progress, on_error=on_error)
        if state["task"] is not None:
            progress.remove_task(state["task"])
        progress.update(overall, completed=batch.total_seconds)
    return results


def _short(name: str, width: int = 32) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def _print_summary(summary: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title="vocalsplit summary", show_lines=False)
    for column in ("input", "status", "audio s", "wall s", "× real time", "detail"):
        table.add_column(column, overflow="fold")
    for f in summary["files"]:
        detail = f["error"] or ", ".join(Path(p).name for p in f["outputs"].values())
        speed = f"{f['x_realtime']:.1f}" if f["x_realtime"] else "-"
        colour = {"ok": "green", "skipped": "yellow"}.get(f["status"], "red")
        table.add_row(
            Path(f["input"]).name, f"[{colour}]{f['status']}[/]", f"{f['duration_s']:.1f}", f"{f['wall_s']:.2f}", speed, detail
        )
    out.print(table)
    t = summary["totals"]
    out.print(f"{t['ok']} separated, {t['skipped']} skipped, {t['failed']} failed in {t['wall_s']:.1f} s")


def _write_report(path: Path, summary: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    tmp.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


@app.command()
def models(
    models_dir: ModelsDirOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
) -> None:
    """List installed models with their rate, size and measured quality."""
    from rich.table import Table

    from vocalsplit.catalog.registry import list_manifests

    manifests, problems = list_manifests(models_dir)
    rows = []
    for m in manifests:
        q = m.quality.get("mir1k_test", {}) if isinstance(m.quality.get("mir1k_test"), dict) else {}
        soft = q.get("soft", {}) if isinstance(q.get("soft"), dict) else {}
        rows.append({
            "name": m.name, "default": m.default, "architecture": m.architecture, "sample_rate": m.sample_rate,
            "sources": list(m.sources), "size_mb": round(m.onnx_path.stat().st_size / 1e6, 2) if m.onnx_path.exists() else None,
            "gnsdr_db": soft.get("GNSDR"), "gsir_db": soft.get("GSIR"), "gsar_db": soft.get("GSAR"),
            "path": str(m.onnx_path), "description": m.description,
        })
    if as_json:
        out.print_json(json.dumps({"models": rows, "problems": problems}))
    else:
        table = Table(title="installed models")
        for column in ("name", "arch", "rate", "sources", "MB", "GNSDR", "GSIR", "GSAR"):
            table.add_column(column)

        def db(v: Any) -> str:
            return f"{v:.2f}" if isinstance(v, (int, float)) else "-"

        for r in rows:
            table.add_row(
                r["name"] + (" (default)" if r["default"] else ""), r["architecture"], f"{r['sample_rate']} Hz",
                ", ".join(r["sources"]), f"{r['size_mb']}", db(r["gnsdr_db"]), db(r["gsir_db"]), db(r["gsar_db"]),
            )
        out.print(table if rows else "no models installed")
        if rows:
            out.print("GNSDR/GSIR/GSAR: dB on the 825 MIR-1K test clips (soft mask), measured by `vocalsplit eval`.")
    for p in problems:
        err.print(f"[bold red]error:[/] {p}", highlight=False, soft_wrap=True)
    if problems:
        raise typer.Exit(ENVIRONMENT)


@app.command()
def doctor(models_dir: ModelsDirOpt = None) -> None:
    """Check the installation: versions, usable onnxruntime providers, model files."""
    from vocalsplit.runtime.diagnostics import diagnose

    report = diagnose(models_dir)
    for key, value in report.facts:
        out.print(f"{key:>32}: {value}", highlight=False)
    for p in report.problems:
        err.print(f"[bold red]problem:[/] {p}", highlight=False, soft_wrap=True)
    if report.problems:
        raise typer.Exit(ENVIRONMENT)
    out.print("all checks passed")


def route(args: list[str]) -> list[str]:
    """``vocalsplit FILE...`` means ``vocalsplit separate FILE...``."""
    if args and args[0] not in COMMANDS and args[0] not in ("-h", "--help", "--version"):
        return ["separate", *args]
    return args


def main() -> None:
    """Console-script entry point."""
    app(args=route(sys.argv[1:]), prog_name="vocalsplit")
