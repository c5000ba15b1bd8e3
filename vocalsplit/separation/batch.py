"""A run over many inputs: validate everything first, then separate file by file.

One bad file never stops the others; its error is recorded in its result.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vocalsplit import __version__, defaults
from vocalsplit.audio.formats import choose_subtype
from vocalsplit.catalog.manifest import Manifest
from vocalsplit.catalog.registry import resolve_model
from vocalsplit.errors import UsageError, VocalsplitError
from vocalsplit.runtime.providers import parse_device
from vocalsplit.runtime.session import ModelSession
from vocalsplit.separation.files import FileOptions, FileResult, check_input, separate_file
from vocalsplit.separation.inputs import collect_inputs
from vocalsplit.separation.masks import MASK_MODES
from vocalsplit.separation.outputs import OutputPlan, check_template, plan_outputs
from vocalsplit.separation.pipeline import check_stems, chunk_frames
from vocalsplit.separation.shifts import check_shifts


@dataclass(frozen=True)
class BatchRequest:
    inputs: list[str]
    out_dir: Path
    model: str | None = None
    models_dir: Path | None = None
    mask: str = "soft"
    device: str = "auto"
    stems: list[str] | None = None
    fmt: str = "wav"
    sample_rate: int | None = None
    bit_depth: str = "auto"
    filename: str = "{track}/{stem}.{ext}"
    existing: str = "error"
    chunk_seconds: float = defaults.CHUNK_SECONDS
    shifts: int = defaults.SHIFTS


@dataclass
class Batch:
    request: BatchRequest
    manifest: Manifest
    session: ModelSession
    options: FileOptions
    plans: list[OutputPlan]
    durations: list[float]
    failures: list[FileResult] = field(default_factory=list)

    @property
    def provider(self) -> str:
        return self.session.provider

    @property
    def total_seconds(self) -> float:
        return float(sum(self.durations))

    def summary(self, results: list[FileResult], wall_s: float) -> dict[str, Any]:
        """The machine-readable run report (what ``--report`` writes)."""
        files = [_result_dict(r) for r in [*self.failures, *results]]
        return {
            "vocalsplit": __version__,
            "model": self.manifest.name,
            "model_sha256": self.manifest.sha256,
            "device_requested": self.request.device,
            "provider": self.provider,
            "mask": self.options.mask,
            "shifts": self.options.shifts,
            "format": self.options.fmt,
            "files": files,
            "totals": {
                "ok": sum(f["status"] == "ok" for f in files),
                "skipped": sum(f["status"] == "skipped" for f in files),
                "failed": sum(f["status"] == "failed" for f in files),
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
    }


def _check_options(req: BatchRequest) -> None:
    if req.mask not in MASK_MODES:
        raise UsageError(f"--mask {req.mask!r}; allowed: {', '.join(MASK_MODES)}")
    check_shifts(req.shifts)
    choose_subtype(req.fmt, None, req.bit_depth)
    if req.sample_rate is not None and not 1000 <= req.sample_rate <= 768000:
        raise UsageError(f"--sample-rate {req.sample_rate}: must be between 1000 and 768000 Hz")
    if req.fmt == "mp3" and req.sample_rate is not None and req.sample_rate > 48000:
        raise UsageError(f"--sample-rate {req.sample_rate}: mp3 supports at most 48000 Hz")
    check_template(req.filename, len(req.stems) if req.stems else 2)
    parse_device(req.device)
    if not req.inputs:
        raise UsageError("no input given")


def _check_out_dir(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".vocalsplit-write-test-", dir=out_dir)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise UsageError(f"output folder {out_dir} is not writable ({err.strerror or err})") from err


def prepare_batch(req: BatchRequest) -> Batch:
    """Validate options, load the model once, probe inputs and name every output."""
    _check_options(req)
    manifest = resolve_model(req.model, req.models_dir)
    stems = check_stems(manifest, req.stems or list(manifest.sources))
    options = FileOptions(
        mask=req.mask,
        chunk_frames=chunk_frames(manifest, req.chunk_seconds),
        fmt=req.fmt,
        bit_depth=req.bit_depth,
        sample_rate=req.sample_rate,
        existing=req.existing,
        shifts=req.shifts,
    )
    session = ModelSession(manifest, parse_device(req.device))
    items, problems = collect_inputs(req.inputs, exclude=req.out_dir)
    failures = [FileResult(Path(p.spec), "failed", error=p.message) for p in problems]
    usable, durations = [], []
    for item in items:
        try:
            durations.append(check_input(item.path, session).duration)
            usable.append(item)
        except VocalsplitError as err:
            failures.append(FileResult(item.path, "failed", error=str(err)))
    plans = plan_outputs(usable, req.out_dir, req.filename, stems, req.fmt, manifest.name)
    if plans:
        _check_out_dir(req.out_dir)
    return Batch(req, manifest, session, options, plans, durations, failures)


def run_batch(
    batch: Batch,
    on_start: Callable[[Path, float], None] | None = None,
    on_progress: Callable[[float, float], None] | None = None,
    on_error: Callable[[Path, BaseException], None] | None = None,
) -> list[FileResult]:
    """Separate every planned file; callbacks get (path, seconds), (done in file, done before)."""
    results = []
    done_before = 0.0
    for plan, seconds in zip(batch.plans, batch.durations, strict=True):
        path = plan.input.path
        if on_start:
            on_start(path, seconds)

        def progress(done: float, base: float = done_before) -> None:
            if on_progress:
                on_progress(done, base)

        try:
            result = separate_file(batch.session, plan, batch.options, batch.provider, progress)
        except VocalsplitError as err:
            result = FileResult(path, "failed", error=str(err), provider=batch.provider)
            if on_error:
                on_error(path, err)
        except (MemoryError, OSError, ValueError, RuntimeError) as err:
            result = FileResult(path, "failed", error=f"{path}: unexpected error: {err}", provider=batch.provider)
            if on_error:
                on_error(path, err)
        results.append(result)
        done_before += seconds
    return results
