"""``vocalsplit - -o -``: a WAV stream in on stdin, the stems out on stdout, messages on stderr only."""

from __future__ import annotations

import os
import sys

import typer

from vocalsplit.cli.common import err, fail, say_error
from vocalsplit.errors import UsageError, VocalsplitError


def run_pipe(separator_args: dict[str, object], stems: list[str] | None, floating: bool, quiet: bool) -> None:
    """Separate stdin to stdout; a reader that closes the pipe early ends the run quietly (exit 0)."""
    from vocalsplit.separation.piped import separate_pipe
    from vocalsplit.separation.separator import Separator

    if sys.stdout.isatty():
        raise fail(UsageError("-o - writes audio to standard output: pipe it into a program, not a terminal"))
    try:
        separator = Separator(**separator_args)  # type: ignore[arg-type]
        result = separate_pipe(separator, sys.stdin.buffer, sys.stdout.buffer, stems, floating)
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        # the reader is gone (e.g. `| head -c`): nothing more to say, and nothing to flush at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None
    except VocalsplitError as error:
        raise fail(error) from None
    if result.clipped:
        say_error(
            f"{result.clipped} samples passed full scale and were clamped; --bit-depth float keeps them", "warning"
        )
    if not quiet:
        seconds = result.frames / result.sample_rate
        err.print(f"separated {seconds:.1f} s from standard input: {', '.join(result.stems)}", highlight=False)
