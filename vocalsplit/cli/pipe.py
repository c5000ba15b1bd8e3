"""``vocalsplit - -o -``: a stream in on stdin, the stems out on stdout, messages on stderr only."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vocalsplit.choices import OutputFormat
from vocalsplit.cli.common import err, fail, flag, say_error
from vocalsplit.errors import UsageError, VocalsplitError

if TYPE_CHECKING:
    from vocalsplit.audio.pipe import StreamFormat
    from vocalsplit.separation.latency import Latency

RawFormatOpt = Annotated[
    str | None,
    typer.Option(
        "--raw-format",
        help="Pipe mode: stdin is headerless PCM of RATE:CHANNELS:TYPE (TYPE s16le, s24le, s32le or f32le), "
        "e.g. 16000:1:s16le.",
        show_default=False,
        metavar="RATE:CHANNELS:TYPE",
    ),
]
RawOutputOpt = Annotated[
    bool, flag("--raw-output", help="Pipe mode: write headerless PCM (s16le; f32le with --bit-depth float).")
]
LatencyOpt = Annotated[
    float | None,
    typer.Option(
        "--latency",
        help="Pipe mode: the stems lag the input by at most this many milliseconds plus computing time "
        "(sizes the chunk; refused if the model needs more).",
        show_default=False,
        metavar="MS",
    ),
]


@dataclass(frozen=True)
class PipeRequest:
    """What ``vocalsplit separate`` hands to pipe mode."""

    inputs: list[str]
    output: Path
    fmt: OutputFormat
    floating: bool
    raw_format: str | None
    raw_output: bool
    latency_ms: float | None
    quiet: bool


def is_pipe(inputs: list[str], output: Path) -> bool:
    return "-" in inputs or str(output) == "-"


def check_file_mode(raw_format: str | None, raw_output: bool, latency_ms: float | None) -> None:
    """The pipe-only options are refused outside pipe mode."""
    used = [name for name, value in (("--raw-format", raw_format), ("--latency", latency_ms)) if value is not None]
    if used or raw_output:
        names = ", ".join([*used, *(["--raw-output"] if raw_output else [])])
        raise UsageError(f"{names}: for pipe mode only (vocalsplit - -o -)")


def run_pipe(separator_args: dict[str, object], stems: list[str] | None, request: PipeRequest) -> None:
    """Separate stdin to stdout; a reader that closes the pipe early ends the run quietly (exit 0)."""
    from vocalsplit.audio.pipe import parse_raw_format
    from vocalsplit.separation.piped import PipeSettings, separate_pipe
    from vocalsplit.separation.separator import Separator

    if request.inputs != ["-"] or str(request.output) != "-" or request.fmt != OutputFormat.WAV:
        raise fail(UsageError("pipe mode is `vocalsplit - -o -`: one stream in on stdin, WAV or raw PCM out on stdout"))
    if sys.stdout.isatty():
        raise fail(UsageError("-o - writes audio to standard output: pipe it into a program, not a terminal"))
    try:
        if request.latency_ms is not None and not request.latency_ms > 0:
            raise UsageError(f"--latency {request.latency_ms:g}: give a positive number of milliseconds")
        settings = PipeSettings(
            raw_input=parse_raw_format(request.raw_format) if request.raw_format is not None else None,
            raw_output=request.raw_output,
            floating=request.floating,
            latency=None if request.latency_ms is None else request.latency_ms / 1000,
        )
        separator = Separator(**separator_args)  # type: ignore[arg-type]
        result = separate_pipe(
            separator, sys.stdin.buffer, sys.stdout.buffer, stems, settings, None if request.quiet else _say_latency
        )
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        # the reader is gone (e.g. `| head -c`): nothing more to say, and nothing to flush at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None
    except VocalsplitError as error:
        raise fail(error) from None
    if result.trailing_bytes:
        say_error(f"standard input ended inside a frame: its last {result.trailing_bytes} bytes dropped", "warning")
    if result.clipped:
        say_error(
            f"{result.clipped} samples passed full scale and were clamped; --bit-depth float keeps them", "warning"
        )
    if not request.quiet:
        seconds = result.frames / result.sample_rate
        err.print(f"separated {seconds:.1f} s from standard input: {', '.join(result.stems)}", highlight=False)


def _say_latency(fmt: StreamFormat, latency: Latency) -> None:
    err.print(
        f"{fmt.sample_rate} Hz, {fmt.channels} channel(s) in; latency {latency.describe()}",
        highlight=False,
        soft_wrap=True,
    )
