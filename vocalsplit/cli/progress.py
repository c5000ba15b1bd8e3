"""The progress display of a run over files: a bar for the run, a bar per file being separated."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vocalsplit.cli.common import err, say_error
from vocalsplit.errors import VocalsplitError

if TYPE_CHECKING:
    from vocalsplit.separation.batch import BatchJob
    from vocalsplit.separation.files import FileResult


def run_with_progress(job: BatchJob, quiet: bool, verbose: bool) -> list[FileResult]:
    """Run ``job``'s files with a bar for the whole run and one per running file (none when ``quiet``);
    each failure is said on one line as it happens."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from vocalsplit.separation.batch import run_batch

    def on_error(path: Path, error: BaseException) -> None:
        if verbose and not isinstance(error, VocalsplitError):
            err.print_exception()
        say_error(str(error))

    if quiet:
        return run_batch(job, on_error=on_error)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:>7.1f}/{task.total:.1f} s"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=False) as progress:
        overall = progress.add_task("[bold]all files", total=max(job.total_seconds, 1e-9))
        tasks: dict[Path, Any] = {}  # a bar per running file; the files run on threads of their own
        done: dict[Path, float] = {}  # seconds done in each running file
        total = 0.0  # seconds done in every file so far: kept, not summed, however many files there are
        lock = threading.Lock()

        def on_start(path: Path, seconds: float) -> None:
            with lock:
                tasks[path] = progress.add_task(_short(path.name), total=max(seconds, 1e-9))
                done[path] = 0.0

        def on_progress(path: Path, done_in_file: float) -> None:
            nonlocal total
            with lock:
                total += done_in_file - done[path]
                done[path] = done_in_file
                progress.update(tasks[path], completed=done_in_file)
                progress.update(overall, completed=total)

        def on_end(result: FileResult) -> None:
            with lock:
                progress.remove_task(tasks.pop(result.input))
                del done[result.input]

        results = run_batch(job, on_start=on_start, on_progress=on_progress, on_error=on_error, on_end=on_end)
        progress.update(overall, completed=job.total_seconds)
    return results


def _short(name: str, width: int = 32) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"
