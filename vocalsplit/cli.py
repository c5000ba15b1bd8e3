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
from typing import Annotated, Any

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
    str | None,
    typer.Option(
        "--model", "-m", help="Installed model name or path to a .onnx/.json; default: the default installed model."
    ),
]
ModelsDirOpt = Annotated[
    Path | None,
    typer.Option("--models-dir", help="Extra folder of models searched first (also: VOCALSPLIT_MODELS)."),
]
DeviceOpt = Annotated[
    str, typer.Option("--device", help="auto, cpu, cuda or cuda:N. cuda fails (exit 3) if CUDA cannot be used.")
]
MaskOpt = Annotated[str, typer.Option("--mask", help="soft (stems sum to the mix) or binary (each bin to one stem).")]
ShiftsOpt = Annotated[
    int,
    typer.Option(
        "--shifts",
        help="Average N passes on frame grids offset by 1/N of a hop: better separation, N times the time.",
    ),
]
ChunkOpt = Annotated[
    float, typer.Option("--chunk-seconds", help="Seconds of audio per network call (memory vs. speed).")
]


@app.command()
def separate(
    inputs: Annotated[
        list[str],
        typer.Argument(help="Audio files, folders (searched recursively) and glob patterns.", show_default=False),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output folder.")] = Path("separated"),
    model: ModelOpt = None,
    models_dir: ModelsDirOpt = None,
    mask: MaskOpt = defaults.MASK,
    device: DeviceOpt = defaults.DEVICE,
    stems: Annotated[
        str, typer.Option("--stems", help="Comma-separated stems to write (e.g. vocals), or 'all'.")
    ] = "all",
    fmt: Annotated[str, typer.Option("--format", help="Output format: wav, flac or mp3.")] = defaults.FORMAT,
    sample_rate: Annotated[
        int | None,
        typer.Option("--sample-rate", help="Output rate in Hz. [default: the input's rate]", show_default=False),
    ] = None,
    bit_depth: Annotated[
        str, typer.Option("--bit-depth", help="auto (the input's, where the format allows), 16, 24, 32 or float.")
    ] = defaults.BIT_DEPTH,
    filename: Annotated[
        str,
        typer.Option("--filename", help="Output path template below -o; fields {track} {stem} {ext} {model} {dir}."),
    ] = defaults.FILENAME_TEMPLATE,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace existing outputs.")] = False,
    skip_existing: Annotated[
        bool, typer.Option("--skip-existing", help="Skip stems whose output already exists.")
    ] = False,
    report: Annotated[Path | None, typer.Option("--report", help="Write a JSON run report to this file.")] = None,
    shifts: ShiftsOpt = defaults.SHIFTS,
    chunk_seconds: ChunkOpt = defaults.CHUNK_SECONDS,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="More detail, tracebacks on errors.")] = False,
) -> None:
    """Separate songs into stems (vocals, accompaniment)."""
    from vocalsplit.separation.batch import BatchRequest, prepare_batch, run_batch

    if overwrite and skip_existing:
        raise fail(UsageError("--overwrite and --skip-existing exclude each other"))
    request = BatchRequest(
        inputs=inputs,
        out_dir=output,
        model=model,
        models_dir=models_dir,
        mask=mask,
        device=device,
        stems=None if stems.strip().lower() == "all" else [s.strip() for s in stems.split(",") if s.strip()],
        fmt=fmt.lower(),
        sample_rate=sample_rate,
        bit_depth=bit_depth.lower(),
        filename=filename,
        existing="overwrite" if overwrite else "skip" if skip_existing else "error",
        chunk_seconds=chunk_seconds,
        shifts=shifts,
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
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:>7.1f}/{task.total:.1f} s"),
        TimeRemainingColumn(),
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


def _semitones(text: str) -> tuple[float, ...]:
    """``"-2,1.5"`` → ``(-2.0, 1.5)``; a value that is not a number is a usage error."""
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError as err:
        raise UsageError(f"--repitch {text!r}: expected comma-separated semitones, e.g. -2,-1,1,2") from err


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
            Path(f["input"]).name,
            f"[{colour}]{f['status']}[/]",
            f"{f['duration_s']:.1f}",
            f"{f['wall_s']:.2f}",
            speed,
            detail,
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
    rows: list[dict[str, Any]] = []
    for m in manifests:
        soft = _soft_figures(m.quality.get("mir1k_test"))
        shifted = _shifted_figures(m.quality)
        rows.append(
            {
                "name": m.name,
                "default": m.default,
                "architecture": m.architecture,
                "sample_rate": m.sample_rate,
                "sources": list(m.sources),
                "size_mb": round(m.onnx_path.stat().st_size / 1e6, 2) if m.onnx_path.exists() else None,
                "gnsdr_db": soft.get("GNSDR"),
                "gsir_db": soft.get("GSIR"),
                "gsar_db": soft.get("GSAR"),
                "shifts": shifted[0] if shifted else None,
                "gnsdr_db_shifts": shifted[1] if shifted else None,
                "path": str(m.onnx_path),
                "description": m.description,
            }
        )
    if as_json:
        out.print_json(json.dumps({"models": rows, "problems": problems}))
    else:
        table = Table(title="installed models")
        for column in ("name", "arch", "rate", "sources", "MB", "GNSDR", "GSIR", "GSAR", "GNSDR --shifts N"):
            table.add_column(column)

        def db(v: Any) -> str:
            return f"{v:.2f}" if isinstance(v, (int, float)) else "-"

        for r in rows:
            table.add_row(
                r["name"] + (" (default)" if r["default"] else ""),
                r["architecture"],
                f"{r['sample_rate']} Hz",
                ", ".join(r["sources"]),
                f"{r['size_mb']}",
                db(r["gnsdr_db"]),
                db(r["gsir_db"]),
                db(r["gsar_db"]),
                f"{db(r['gnsdr_db_shifts'])} (N={r['shifts']})" if r["shifts"] else "-",
            )
        out.print(table if rows else "no models installed")
        if rows:
            out.print(
                "GNSDR/GSIR/GSAR: dB on the 825 MIR-1K test clips (soft mask), measured by `vocalsplit eval`; "
                f"the last column with N passes averaged (`--shifts N`; default {defaults.SHIFTS})."
            )
    for p in problems:
        err.print(f"[bold red]error:[/] {p}", highlight=False, soft_wrap=True)
    if problems:
        raise typer.Exit(ENVIRONMENT)


def _soft_figures(entry: Any) -> dict[str, Any]:
    """The soft-mask figures of one recorded MIR-1K evaluation (empty if absent or malformed)."""
    soft = entry.get("soft") if isinstance(entry, dict) else None
    return soft if isinstance(soft, dict) else {}


def _shifted_figures(quality: dict[str, Any]) -> tuple[int, float] | None:
    """(N, soft GNSDR) of a MIR-1K evaluation with N > 1 shifts: the default N if recorded, else the largest."""
    found = []
    prefix = "mir1k_test_shifts"
    for key, entry in quality.items():
        gnsdr = _soft_figures(entry).get("GNSDR")
        n = key[len(prefix) :]
        if key.startswith(prefix) and n.isdigit() and isinstance(gnsdr, (int, float)):
            found.append((int(n), float(gnsdr)))
    default = [f for f in found if f[0] == defaults.SHIFTS]
    return default[0] if default else max(found) if found else None


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


@app.command()
def train(
    dataset: Annotated[
        list[str], typer.Option("--dataset", help="mir1k or stems; repeat to combine (pair each with --data-dir).")
    ],
    data_dir: Annotated[
        list[Path] | None, typer.Option("--data-dir", help="Data folder per --dataset (default: $VOCALSPLIT_DATA).")
    ] = None,
    out_path: Annotated[Path, typer.Option("--out", help="Model path without extension, e.g. models/my-drnn.")] = Path(
        "models/custom"
    ),
    run_dir: Annotated[
        Path | None, typer.Option("--run-dir", help="Checkpoints and logs. [default: runs/<name>]", show_default=False)
    ] = None,
    mir1k_clips: Annotated[
        str, typer.Option("--mir1k-clips", help="train (protocol's 175 clips) or all (1000).")
    ] = "train",
    sources: Annotated[
        str,
        typer.Option("--sources", help="Comma-separated sources, vocals first (cnn: e.g. vocals,drums,bass,other)."),
    ] = "vocals,accompaniment",
    arch: Annotated[
        str, typer.Option("--arch", help="drnn (Huang et al.), cnn (Chandna et al.) or bmcnn (binary-mask CNN).")
    ] = "drnn",
    context: Annotated[
        int | None,
        typer.Option("--context", help="drnn/bmcnn: context frames. [default: drnn 3, bmcnn 9]", show_default=False),
    ] = None,
    layers: Annotated[int, typer.Option("--layers", help="drnn: hidden layers (1-3).")] = 3,
    hidden: Annotated[int, typer.Option("--hidden", help="drnn: units per hidden layer.")] = 1000,
    recurrent_layer: Annotated[
        int, typer.Option("--recurrent-layer", help="drnn: layer with recurrence; 0 = all (stacked RNN).")
    ] = 2,
    cell: Annotated[str, typer.Option("--cell", help="drnn: relu (as in the paper), gru or lstm.")] = "relu",
    window: Annotated[int, typer.Option("--window", help="cnn: frames per window T.")] = 30,
    vertical_filters: Annotated[int, typer.Option("--vertical-filters", help="cnn: N1.")] = 50,
    horizontal_filters: Annotated[int, typer.Option("--horizontal-filters", help="cnn: N2.")] = 50,
    horizontal_kernel: Annotated[int, typer.Option("--horizontal-kernel", help="cnn: t2 frames.")] = 15,
    bottleneck: Annotated[int, typer.Option("--bottleneck", help="cnn: NN units.")] = 128,
    dense: Annotated[int, typer.Option("--dense", help="bmcnn: dense units.")] = 256,
    dropout: Annotated[
        float | None,
        typer.Option(
            "--dropout",
            help="Dropout rate while training. [default: bmcnn 0.25, drnn 0 (the paper)]",
            show_default=False,
        ),
    ] = None,
    loss: Annotated[
        str, typer.Option("--loss", help="drnn: mse, kl (generalized KL) or psa (phase-sensitive MSE).")
    ] = "mse",
    gamma: Annotated[float, typer.Option("--gamma", help="drnn: discriminative weight γ (paper's best: 0.05).")] = 0.05,
    alpha: Annotated[float, typer.Option("--alpha", help="cnn: discriminative weight α.")] = 0.001,
    beta: Annotated[float, typer.Option("--beta", help="cnn: discriminative weight β.")] = 0.01,
    beta_vocals: Annotated[float, typer.Option("--beta-vocals", help="cnn: discriminative weight β_vocals.")] = 0.03,
    sample_rate: Annotated[int, typer.Option("--sample-rate", help="Model sample rate in Hz.")] = 16000,
    n_fft: Annotated[int, typer.Option("--n-fft", help="STFT size.")] = 1024,
    hop: Annotated[int, typer.Option("--hop", help="STFT hop.")] = 512,
    lr: Annotated[float, typer.Option("--lr", help="Adam learning rate (also applied on --resume).")] = 1e-3,
    lr_final: Annotated[
        float | None,
        typer.Option("--lr-final", help="Cosine-decay the learning rate to this over the run's --steps/--minutes."),
    ] = None,
    batch: Annotated[int, typer.Option("--batch", help="Examples per batch.")] = 32,
    frames: Annotated[int, typer.Option("--frames", help="drnn/bmcnn: frames per training sequence.")] = 64,
    steps: Annotated[int, typer.Option("--steps", help="Maximum training steps.")] = 20000,
    minutes: Annotated[
        float | None, typer.Option("--minutes", help="Stop after this many minutes of training.")
    ] = None,
    val_every: Annotated[int, typer.Option("--val-every", help="Validate and checkpoint every N steps.")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    split: Annotated[
        str,
        typer.Option(
            "--split",
            help="Validation clips: name (by clip name, the same in any pool and with any seed) or seeded "
            "(drawn with --seed, as the shipped models were).",
        ),
    ] = "name",
    init_from: Annotated[
        Path | None, typer.Option("--init-from", help="Start from a checkpoint's weights (fine-tune).")
    ] = None,
    ema: Annotated[
        float | None,
        typer.Option("--ema", help="Validate and export a moving average of the weights with this decay (e.g. 0.999)."),
    ] = None,
    repitch: Annotated[
        str,
        typer.Option(
            "--repitch",
            help="Semitone shifts, comma-separated (e.g. -2,-1,1,2): each adds a copy of every training clip "
            "with its voice sung that much higher or lower.",
        ),
    ] = "",
    weights: Annotated[
        str,
        typer.Option(
            "--weights",
            help="How the ONNX file stores weights: float32, or float16 (half the size; "
            "the network is rounded to float16 before export).",
        ),
    ] = "float32",
    default: Annotated[bool, typer.Option("--default", help="Mark the exported model as the default model.")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the run folder's last checkpoint.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Tracebacks on errors.")] = False,
) -> None:
    """Train a model, keep the best by validation loss, export ONNX + manifest."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    try:
        from vocalsplit.training import require_torch

        require_torch()
        from vocalsplit.training.archs import LossSettings
        from vocalsplit.training.batches import Augment
        from vocalsplit.training.trainer import DataSpec, TrainConfig
        from vocalsplit.training.trainer import train as run_training

        dirs = list(data_dir or [])
        if dirs and len(dirs) != len(dataset):
            raise UsageError(f"give one --data-dir per --dataset ({len(dataset)} datasets, {len(dirs)} folders)")
        specs = [DataSpec(d, dirs[i] if dirs else None, mir1k_clips) for i, d in enumerate(dataset)]
        augment = Augment(repitch=_semitones(repitch))
        options = {
            "context": context,
            "layers": layers,
            "hidden": hidden,
            "recurrent_layer": recurrent_layer,
            "cell": cell,
            "window": window,
            "vertical_filters": vertical_filters,
            "horizontal_filters": horizontal_filters,
            "horizontal_kernel": horizontal_kernel,
            "bottleneck": bottleneck,
            "dense": dense,
            "dropout": dropout,
        }
        config = TrainConfig(
            data=specs,
            out=out_path,
            run_dir=run_dir or Path("runs") / out_path.name,
            arch=arch,
            arch_options=options,
            sources=tuple(x.strip() for x in sources.split(",") if x.strip()),
            loss=LossSettings(loss, gamma, alpha, beta, beta_vocals),
            lr=lr,
            lr_final=lr_final,
            batch=batch,
            frames=frames,
            steps=steps,
            minutes=minutes,
            val_every=val_every,
            seed=seed,
            split=split,
            sample_rate=sample_rate,
            n_fft=n_fft,
            hop=hop,
            default=default,
            resume=resume,
            init_from=init_from,
            ema=ema,
            augment=augment,
            weights=weights,
        )
        columns = (
            TextColumn("training"),
            BarColumn(),
            TextColumn("step {task.completed}/{task.total}"),
            TextColumn("loss {task.fields[loss]} val {task.fields[val]}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=err) as progress:
            task = progress.add_task("train", total=steps, loss="-", val="-")

            def on_step(step: int, total: int, loss_value: float, val_loss: float | None) -> None:
                progress.update(
                    task, completed=step, loss=f"{loss_value:.4f}", val="-" if val_loss is None else f"{val_loss:.4f}"
                )

            result = run_training(config, on_step)
    except KeyboardInterrupt:
        err.print("interrupted: last checkpoint saved; continue with --resume")
        raise typer.Exit(130) from None
    except VocalsplitError as error:
        raise fail(error, verbose) from None
    out.print(
        f"trained {result.steps} steps in {result.minutes:.1f} min ({result.parameters:,} parameters); "
        f"best validation loss {result.best_val:.4f}; wrote {result.manifest} and {result.manifest.with_suffix('.onnx')}",
        highlight=False,
    )


@app.command("eval")
def evaluate_command(
    dataset: Annotated[
        str, typer.Option("--dataset", help="mir1k (825 test clips) or stems (a folder of tracks).")
    ] = "mir1k",
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Data folder (default: $VOCALSPLIT_DATA).")
    ] = None,
    model: ModelOpt = None,
    models_dir: ModelsDirOpt = None,
    device: DeviceOpt = defaults.DEVICE,
    masks: Annotated[
        str, typer.Option("--masks", help="Comma-separated masks to score: soft, binary.")
    ] = "soft,binary",
    backend: Annotated[
        str, typer.Option("--backend", help="BSS Eval implementation: fast (fast_bss_eval) or mir_eval.")
    ] = "fast",
    limit: Annotated[int | None, typer.Option("--limit", help="Score only the first N clips (quick checks).")] = None,
    workers: Annotated[int, typer.Option("--workers", help="Processes computing metrics.")] = 2,
    clip_timeout: Annotated[
        float, typer.Option("--clip-timeout-s", help="Give up on one clip's metrics after this long.")
    ] = 120.0,
    max_track_seconds: Annotated[
        float | None, typer.Option("--max-track-seconds", help="stems: score only the first N s of each track.")
    ] = None,
    segment_seconds: Annotated[
        float, typer.Option("--segment-seconds", help="stems: score segments of this length; silent ones are skipped.")
    ] = 10.0,
    results: Annotated[Path, typer.Option("--results", help="Folder for per_clip.csv and summary.json.")] = Path(
        "eval-results"
    ),
    update_manifest: Annotated[
        bool, typer.Option("--update-manifest", help="Record the MIR-1K figures in the model's manifest.")
    ] = False,
    shifts: ShiftsOpt = defaults.SHIFTS,
    chunk_seconds: ChunkOpt = defaults.CHUNK_SECONDS,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Tracebacks on errors.")] = False,
) -> None:
    """Score a model: GNSDR/GSIR/GSAR on MIR-1K, or SDR/SIR/SAR on a stems folder."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    try:
        from vocalsplit.training import require_torch

        require_torch()
        from vocalsplit.api import Separator
        from vocalsplit.training.evaluate import EvalRequest, evaluate, write_results

        chosen = tuple(m.strip() for m in masks.split(",") if m.strip())
        bad = [m for m in chosen if m not in defaults.MASKS]
        if bad or not chosen:
            raise UsageError(f"--masks {masks!r}; allowed: soft, binary")
        sep = Separator(model, device=device, chunk_seconds=chunk_seconds, models_dir=models_dir, shifts=shifts)
        req = EvalRequest(
            dataset, data_dir, chosen, backend, limit, workers, clip_timeout, max_track_seconds, segment_seconds, shifts
        )
        columns = (
            TextColumn(f"eval {sep.manifest.name}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} clips"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=err) as progress:
            task = progress.add_task("eval", total=None)

            def on_clip(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            result = evaluate(sep.session, req, sep.chunk_frames, on_clip)
        csv_path, json_path = write_results(result, results)
        if update_manifest:
            _record_quality(sep.manifest.path, result, dataset)
    except VocalsplitError as error:
        raise fail(error, verbose) from None
    table = Table(title=f"{sep.manifest.name} on {dataset} ({result['clips']} clips, {result['seconds']:.0f} s)")
    for column in ("mask", "GNSDR", "GSIR", "GSAR", "acc GNSDR", "acc GSIR", "acc GSAR", "clips"):
        table.add_column(column)
    for mask, s in result["summary"].items():
        table.add_row(
            mask,
            *(f"{s[k]:.2f}" for k in ("GNSDR", "GSIR", "GSAR", "acc_GNSDR", "acc_GSIR", "acc_GSAR")),
            str(s["clips"]),
        )
    out.print(table)
    out.print(f"per-clip: {csv_path}  summary: {json_path}")
    for f in result["failures"]:
        err.print(f"[bold red]error:[/] {f['clip']}: {f['error']}", highlight=False)
    if result["failures"]:
        raise typer.Exit(INPUT_FAILED)


def _record_quality(manifest_path: Path, result: dict[str, Any], dataset: str) -> None:
    """Store measured figures in the manifest (the ONNX file and its sha256 are untouched)."""
    from vocalsplit.catalog.manifest import write_manifest

    data = json.loads(manifest_path.read_text())
    key = "mir1k_test" if dataset == "mir1k" else dataset
    if result["shifts"] > 1:
        key += f"_shifts{result['shifts']}"
    data.setdefault("quality", {})[key] = {
        **{
            m: {k: round(v, 2) if isinstance(v, float) else v for k, v in s.items()}
            for m, s in result["summary"].items()
        },
        "clips": result["clips"],
        "backend": result["backend"],
        "shifts": result["shifts"],
        "command": "vocalsplit " + " ".join(sys.argv[1:]),
    }
    write_manifest(manifest_path, data)


def route(args: list[str]) -> list[str]:
    """``vocalsplit FILE...`` means ``vocalsplit separate FILE...``."""
    if args and args[0] not in COMMANDS and args[0] not in ("-h", "--help", "--version"):
        return ["separate", *args]
    return args


def main() -> None:
    """Console-script entry point."""
    app(args=route(sys.argv[1:]), prog_name="vocalsplit")
