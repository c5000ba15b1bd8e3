"""Separate one audio file into stem files, streaming block by block."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vocalsplit.audio.formats import choose_subtype
from vocalsplit.audio.reader import AudioInfo, probe, read_blocks
from vocalsplit.audio.resample import StreamResampler
from vocalsplit.audio.writer import StemWriter
from vocalsplit.defaults import BLOCK_FRAMES
from vocalsplit.errors import InputAudioError, OutputError, UsageError
from vocalsplit.separation.outputs import OutputPlan
from vocalsplit.separation.pipeline import SeparationModel, open_stream

EXISTING = ("error", "overwrite", "skip")


@dataclass(frozen=True)
class FileOptions:
    mask: str = "soft"
    chunk_frames: int = 1024
    fmt: str = "wav"
    bit_depth: str = "auto"
    sample_rate: int | None = None
    """Output rate; None keeps the input's."""
    existing: str = "error"
    """What to do with outputs that already exist: error, overwrite or skip."""
    block_frames: int = BLOCK_FRAMES
    shifts: int = 1
    """Passes averaged on offset frame grids (1 = a single pass); see ``shifts.py``."""


@dataclass
class FileResult:
    input: Path
    status: str  # ok | skipped | failed
    outputs: dict[str, Path] = field(default_factory=dict)
    duration_s: float = 0.0
    wall_s: float = 0.0
    sample_rate: int | None = None
    channels: int | None = None
    provider: str | None = None
    error: str | None = None

    @property
    def x_realtime(self) -> float | None:
        return self.duration_s / self.wall_s if self.wall_s > 0 and self.duration_s > 0 else None


def check_input(path: Path, model: SeparationModel) -> AudioInfo:
    """Probe ``path``; raise if it cannot be separated (empty, shorter than one frame)."""
    info = probe(path)
    if info.frames <= 0:
        raise InputAudioError(f"{path}: audio is empty (0 samples)")
    m = model.manifest
    if info.frames * m.sample_rate / info.sample_rate < m.stft.n_fft:
        need = 1000.0 * m.stft.n_fft / m.sample_rate
        raise InputAudioError(
            f"{path}: too short ({1000.0 * info.duration:.1f} ms); at least {need:.0f} ms "
            "(one analysis frame) is needed"
        )
    return info


def separate_file(
    model: SeparationModel,
    plan: OutputPlan,
    options: FileOptions,
    provider: str | None = None,
    progress: Callable[[float], None] | None = None,
) -> FileResult:
    """Write the stems named in ``plan``; inputs are never modified.

    ``progress`` receives the seconds of input audio done so far. On any error every
    temporary output is removed and the exception propagates.
    """
    if options.existing not in EXISTING:
        raise UsageError(f"unknown existing-output policy {options.existing!r}; allowed: {', '.join(EXISTING)}")
    start = time.perf_counter()
    path = plan.input.path
    todo = dict(plan.outputs)
    existing = [p for p in todo.values() if p.exists()]
    if existing and options.existing == "error":
        raise OutputError(f"{existing[0]} exists; pass --overwrite or --skip-existing")
    if options.existing == "skip":
        todo = {s: p for s, p in todo.items() if not p.exists()}
        if not todo:
            return FileResult(path, "skipped", dict(plan.outputs), provider=provider)
    info = check_input(path, model)
    out_rate = options.sample_rate or info.sample_rate
    subtype = choose_subtype(options.fmt, info.subtype, options.bit_depth)
    stream = open_stream(
        model, info.sample_rate, info.channels, options.mask, options.chunk_frames, list(todo), options.shifts
    )
    converters = {s: StreamResampler(info.sample_rate, out_rate, info.channels) for s in todo}
    done = 0
    with contextlib.ExitStack() as stack:
        writers = {
            s: stack.enter_context(StemWriter(p, out_rate, info.channels, options.fmt, subtype))
            for s, p in todo.items()
        }

        def write(parts: dict[str, np.ndarray], last: bool) -> None:
            for s, y in parts.items():
                writers[s].write(converters[s].push(y, last=last))

        try:
            for block in read_blocks(info, options.block_frames):
                write(stream.push(block), last=False)
                done += block.shape[1]
                if progress is not None:
                    progress(done / info.sample_rate)
            write(stream.finish(), last=True)
        except InputAudioError as err:
            message = str(err)
            raise InputAudioError(message if message.startswith(str(path)) else f"{path}: {message}") from err
        for w in writers.values():
            w.commit()
    return FileResult(
        path,
        "ok",
        dict(plan.outputs),
        duration_s=done / info.sample_rate if done else info.duration,
        wall_s=time.perf_counter() - start,
        sample_rate=out_rate,
        channels=info.channels,
        provider=provider,
    )
