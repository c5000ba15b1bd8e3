"""A run over many inputs with one :class:`Separator`: check everything first, then separate the files,
a few at a time.

One bad file never stops the others; its error is recorded in its result.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from concurrent.futures import TimeoutError as FuturesTimeout  # not the builtin TimeoutError before 3.11
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vocalsplit import __version__, defaults
from vocalsplit.audio.writer import remove_stale_partials
from vocalsplit.errors import UsageError, VocalsplitError
from vocalsplit.runtime.providers import CUDA
from vocalsplit.separation.files import FileResult, OutputOptions, check_container
from vocalsplit.separation.inputs import collect_inputs
from vocalsplit.separation.outputs import OutputPlan, check_template
from vocalsplit.separation.separator import Separator


@dataclass
class BatchJob:
    """Every input of a run, probed and with its outputs named, ready to separate."""

    separator: Separator
    options: OutputOptions
    plans: list[OutputPlan]
    durations: list[float]
    failures: list[FileResult] = field(default_factory=list)
    """Inputs refused before any separation (unreadable, too short, not found)."""

    @property
    def total_seconds(self) -> float:
        return float(sum(self.durations))

    def summary(self, results: list[FileResult], wall_s: float, device_requested: str) -> dict[str, Any]:
        """The machine-readable run report (what ``--report`` writes)."""
        files = [_result_dict(r) for r in [*self.failures, *results]]
        sep = self.separator
        return {
            "vocalsplit": __version__,
            "model": sep.manifest.name,
            "model_sha256": sep.manifest.sha256,
            "device_requested": device_requested,
            "provider": sep.provider,
            "mask": str(sep.mask),
            "shifts": sep.shifts,
            "channel_masks": str(sep.channel_masks),
            "format": str(self.options.fmt),
            "files": files,
            "totals": {
                "ok": sum(f["status"] == "ok" for f in files),
                "skipped": sum(f["status"] == "skipped" for f in files),
                "failed": sum(f["status"] == "failed" for f in files),
                "warnings": sum(len(f["warnings"]) for f in files),
                "audio_s": round(sum(f["duration_s"] for f in files), 3),
                "wall_s": round(wall_s, 3),
            },
        }


def _result_dict(r: FileResult) -> dict[str, Any]:
    return {
        "input": str(r.input),
        "status": r.status,
        "duration_s": round(r.duration_s, 3),
        "wall_s": round(r.wall_s, 3),
        "x_realtime": round(r.x_realtime, 2) if r.x_realtime else None,
        "rtf": round(r.wall_s / r.duration_s, 4) if r.duration_s > 0 and r.wall_s > 0 else None,
        "sample_rate": r.sample_rate,
        "channels": r.channels,
        "provider": r.provider,
        "outputs": {s: str(p) for s, p in r.outputs.items()} if r.status != "failed" else {},
        "error": r.error,
        "warnings": list(r.warnings),
    }


def _check_out_dir(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".vocalsplit-write-test-", dir=out_dir)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise UsageError(f"output folder {out_dir} is not writable ({err.strerror or err})") from err


def check_request(inputs: list[str], filename: str, stems: list[str] | None) -> None:
    """What can be refused before a model is loaded: no input, a template that cannot name the stems."""
    if not inputs:
        raise UsageError("no input given")
    check_template(filename, len(stems) if stems else 2)


def prepare_batch(
    separator: Separator,
    inputs: list[str],
    out_dir: Path,
    options: OutputOptions,
    filename: str,
    stems: list[str] | None = None,
) -> BatchJob:
    """Expand ``inputs``, probe each file with the loaded model and name every output."""
    chosen = separator.stems(stems)
    items, problems = collect_inputs(inputs, exclude=out_dir)
    failures = [FileResult(Path(p.spec), "failed", error=p.message) for p in problems]
    usable, durations = [], []
    for item in items:
        try:
            info = separator.check_input(item.path, options)
            check_container(info, options)
            durations.append(info.duration)
            usable.append(item)
        except VocalsplitError as err:
            failures.append(FileResult(item.path, "failed", error=str(err)))
    plans, unnamed = separator.plan(usable, out_dir, filename, chosen, options.fmt)
    failures += [FileResult(p.input.path, "failed", error=p.message) for p in unnamed]
    planned = {p.input for p in plans}
    durations = [d for item, d in zip(usable, durations, strict=True) if item in planned]
    if plans:
        _check_out_dir(out_dir)
    for folder in sorted({p.parent for plan in plans for p in plan.outputs.values()}):
        remove_stale_partials(folder)
    return BatchJob(separator, options, plans, durations, failures)


class _Stopped(BaseException):
    """Raised inside a file's run when the batch is interrupted: its unfinished outputs go."""


def run_batch(
    job: BatchJob,
    on_start: Callable[[Path, float], None] | None = None,
    on_progress: Callable[[Path, float], None] | None = None,
    on_error: Callable[[Path, BaseException], None] | None = None,
    on_end: Callable[[FileResult], None] | None = None,
    files_at_once: int | None = None,
) -> list[FileResult]:
    """Separate every planned file; the results in the plans' order.

    Up to ``files_at_once`` files are separated at the same time, each on a thread of its
    own with the one loaded model, so one file's start and end overlap another's middle
    (``None``: :data:`~vocalsplit.defaults.FILES_AT_ONCE` on the CPU, one at a time on CUDA).
    The callbacks come from those threads: ``on_start(path, seconds)``, ``on_progress(path,
    seconds done)``, ``on_error(path, error)`` for a file that failed, ``on_end(result)``.
    An interruption of the calling thread (Ctrl-C, a signal) stops every running file at its
    next block, their unfinished outputs are removed, and it propagates."""
    if files_at_once is None:
        files_at_once = 1 if job.separator.provider == CUDA else defaults.FILES_AT_ONCE
    if files_at_once < 1:
        raise UsageError(f"files at once must be at least 1, got {files_at_once}")
    stop = threading.Event()
    provider = job.separator.provider

    def separate(plan: OutputPlan, seconds: float) -> FileResult:
        path = plan.input.path
        if on_start:
            on_start(path, seconds)

        def progress(done: float) -> None:
            if stop.is_set():
                raise _Stopped
            if on_progress:
                on_progress(path, done)

        try:
            result = job.separator.write_stems(plan, job.options, progress)
        except VocalsplitError as err:
            result = FileResult(path, "failed", error=str(err), provider=provider)
            if on_error:
                on_error(path, err)
        except (MemoryError, OSError, ValueError, RuntimeError) as err:
            result = FileResult(path, "failed", error=f"{path}: unexpected error: {err}", provider=provider)
            if on_error:
                on_error(path, err)
        if on_end:
            on_end(result)
        return result

    pairs = list(zip(job.plans, job.durations, strict=True))
    if files_at_once == 1 or len(pairs) <= 1:
        return [separate(plan, seconds) for plan, seconds in pairs]
    with ThreadPoolExecutor(files_at_once, thread_name_prefix="vocalsplit-file") as pool:
        running: list[Future[FileResult]] = []
        try:  # a signal can land while the files are still being queued (the first ones already run)
            for plan, seconds in pairs:
                running.append(pool.submit(separate, plan, seconds))
            return [_result(f) for f in running]
        except BaseException:
            stop.set()  # the running files stop at their next block; the queued ones never start
            for f in running:
                f.cancel()
            while wait(running, timeout=WAIT_STEP_S).not_done:
                pass
            raise


WAIT_STEP_S = 0.1
"""How long the calling thread waits on the files at a time. The kernel may hand a signal (SIGTERM
under load) to any thread; Python runs its handler only when the main thread runs again, so the
main thread must not sleep through a whole file (it once finished two files before it stopped)."""


def _result(running: Future[FileResult]) -> FileResult:
    while True:
        try:
            return running.result(timeout=WAIT_STEP_S)
        except FuturesTimeout:
            continue
