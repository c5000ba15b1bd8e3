"""Separate one audio file into stem files, streaming block by block."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from vocalsplit.audio.formats import MP3_DEFAULT_KBPS, choose_subtype
from vocalsplit.audio.reader import AudioInfo, excerpt, probe, read_blocks
from vocalsplit.audio.resample import StreamResampler
from vocalsplit.audio.writer import StemWriter, partial_path, remove_file
from vocalsplit.catalog.manifest import Manifest
from vocalsplit.choices import BitDepth, Existing, OutputFormat, parse
from vocalsplit.defaults import BLOCK_FRAMES, SILENCE_PEAK
from vocalsplit.errors import InputAudioError, OutputError, UsageError
from vocalsplit.separation.outputs import OutputPlan
from vocalsplit.separation.shifts import StemStream

MIN_RATE, MAX_RATE, MP3_MAX_RATE = 1000, 768000, 48000
MP3_BITRATES = (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 192, 224, 256, 320)
MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
MP3_MAX_CHANNELS = 2


class StreamSource(Protocol):
    """What separates a file: a loaded model that opens streams (a ``Separator``)."""

    @property
    def provider(self) -> str: ...

    def check_input(self, path: Path, options: OutputOptions | None = None) -> AudioInfo: ...

    def open_stream(
        self, sample_rate: int, channels: int, stems: list[str] | None = None, background: bool = False
    ) -> StemStream: ...


@dataclass(frozen=True)
class OutputOptions:
    """How stem files are written."""

    fmt: OutputFormat = OutputFormat.WAV
    bit_depth: BitDepth = BitDepth.AUTO
    sample_rate: int | None = None
    """Output rate; None keeps the input's."""
    existing: Existing = Existing.ERROR
    """What to do with outputs that already exist: error, overwrite or skip."""
    block_frames: int = BLOCK_FRAMES
    offset_s: float = 0.0
    """Separate from this many seconds into each input (``--offset``)."""
    duration_s: float | None = None
    """Separate at most this many seconds (``--duration``); None: to the end."""
    mp3_kbps: int = MP3_DEFAULT_KBPS
    """Constant bitrate of MP3 stems (``--mp3-bitrate``)."""

    @classmethod
    def checked(
        cls,
        fmt: OutputFormat | str,
        bit_depth: BitDepth | str,
        sample_rate: int | None = None,
        existing: Existing | str = Existing.ERROR,
        offset_s: float = 0.0,
        duration_s: float | None = None,
        mp3_kbps: int = MP3_DEFAULT_KBPS,
    ) -> OutputOptions:
        """Options from user values; UsageError for a value or combination that cannot be written."""
        if not 0.0 <= offset_s < float("inf"):
            raise UsageError(f"--offset {offset_s:g}: must be a time from the start of the file")
        if duration_s is not None and not 0.0 < duration_s < float("inf"):
            raise UsageError(f"--duration {duration_s:g}: must be a positive time")
        options = cls(
            parse(OutputFormat, fmt, "--format"),
            parse(BitDepth, bit_depth, "--bit-depth"),
            sample_rate,
            parse(Existing, existing, "existing outputs"),
            offset_s=offset_s,
            duration_s=duration_s,
            mp3_kbps=mp3_kbps,
        )
        if mp3_kbps not in MP3_BITRATES:
            raise UsageError(f"--mp3-bitrate {mp3_kbps}: allowed {', '.join(str(b) for b in MP3_BITRATES)} kb/s")
        choose_subtype(options.fmt, None, options.bit_depth)
        if sample_rate is not None and not MIN_RATE <= sample_rate <= MAX_RATE:
            raise UsageError(f"--sample-rate {sample_rate}: must be between {MIN_RATE} and {MAX_RATE} Hz")
        if options.fmt == OutputFormat.MP3 and sample_rate is not None and sample_rate not in MP3_RATES:
            allowed = ", ".join(str(r) for r in MP3_RATES)
            raise UsageError(f"--sample-rate {sample_rate}: mp3 holds only {allowed} Hz")
        return options


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
    warnings: list[str] = field(default_factory=list)
    """What went through but the user must know (e.g. a truncated input)."""

    @property
    def x_realtime(self) -> float | None:
        return self.duration_s / self.wall_s if self.wall_s > 0 and self.duration_s > 0 else None


def check_input(path: Path, m: Manifest, options: OutputOptions | None = None) -> AudioInfo:
    """Probe ``path`` (narrowed to ``options``' excerpt); raise if model ``m`` cannot separate it
    (empty, shorter than one frame)."""
    info = probe(path)
    if options is not None:
        info = excerpt(info, options.offset_s, options.duration_s)
    if info.frames <= 0:
        raise InputAudioError(f"{path}: audio is empty (0 samples)")
    if info.frames * m.sample_rate / info.sample_rate < m.stft.n_fft:
        need = 1000.0 * m.stft.n_fft / m.sample_rate
        raise InputAudioError(
            f"{path}: too short ({1000.0 * info.duration:.1f} ms); at least {need:.0f} ms "
            "(one analysis frame) is needed"
        )
    return info


def separate_file(
    source: StreamSource,
    plan: OutputPlan,
    options: OutputOptions,
    progress: Callable[[float], None] | None = None,
) -> FileResult:
    """Write the stems named in ``plan``; inputs are never modified.

    ``progress`` receives the seconds of input audio done so far. On any error every
    temporary output is removed and the exception propagates.
    """
    start = time.perf_counter()
    path = plan.input.path
    todo = dict(plan.outputs)
    existing = [p for p in todo.values() if p.exists()]
    provider = source.provider
    if existing and options.existing == Existing.ERROR:
        raise OutputError(f"{existing[0]} exists; pass --overwrite or --skip-existing")
    if options.existing == Existing.SKIP:
        todo = {s: p for s, p in todo.items() if not p.exists()}
        if not todo:
            return FileResult(path, "skipped", dict(plan.outputs), provider=provider)
    info = source.check_input(path, options)
    check_container(info, options)
    out_rate, rate_note = output_rate(info, options)
    subtype = choose_subtype(options.fmt, info.subtype, options.bit_depth)
    stream = source.open_stream(info.sample_rate, info.channels, list(todo), background=True)
    converters = {s: StreamResampler(info.sample_rate, out_rate, info.channels) for s in todo}
    expected = int(info.frames * out_rate / info.sample_rate) + out_rate  # a second of margin
    done = 0
    notes: list[str] = [rate_note] if rate_note else []
    damage: list[str] = []  # what the reader said about a damaged or cut stream
    peak = 0.0
    with contextlib.ExitStack() as stack:
        writers = {}
        for s, p in todo.items():
            # registered before the file exists: an interruption between its creation and
            # enter_context below still removes it (a committed file is no longer there)
            stack.callback(remove_file, partial_path(p))
            writers[s] = stack.enter_context(
                StemWriter(p, out_rate, info.channels, options.fmt, subtype, expected, options.mp3_kbps)
            )

        def write(parts: dict[str, np.ndarray], last: bool) -> None:
            for s, y in parts.items():
                writers[s].write(converters[s].push(y, last=last))

        try:
            for block in read_blocks(info, options.block_frames, damage.append):
                peak = max(peak, float(np.max(np.abs(block)))) if block.size else peak
                write(stream.push(block), last=False)
                done += block.shape[1]
                if progress is not None:
                    progress(done / info.sample_rate)
            write(stream.finish(), last=True)
        except InputAudioError as err:
            message = str(err)
            raise InputAudioError(message if message.startswith(str(path)) else f"{path}: {message}") from err
        for w in writers.values():
            w.commit(replace=options.existing == Existing.OVERWRITE)
        notes += [_clipping_note(stem, w) for stem, w in writers.items() if w.clipped]
    if peak <= SILENCE_PEAK:
        notes.append(f"{path}: the input is digitally silent: its stems are silent too")
    return FileResult(
        path,
        "ok",
        dict(plan.outputs),
        duration_s=done / info.sample_rate if done else info.duration,
        wall_s=time.perf_counter() - start,
        sample_rate=out_rate,
        channels=info.channels,
        provider=provider,
        # a stream the reader already called damaged needs no second word on its length
        warnings=notes + (damage or _length_warnings(info, done)),
    )


def check_container(info: AudioInfo, options: OutputOptions) -> None:
    """Refuse an input the output format cannot hold (before any work on it)."""
    if options.fmt == OutputFormat.MP3 and info.channels > MP3_MAX_CHANNELS:
        raise InputAudioError(
            f"{info.path}: {info.channels} channels; mp3 holds at most {MP3_MAX_CHANNELS}: use --format flac or wav"
        )


def output_rate(info: AudioInfo, options: OutputOptions) -> tuple[int, str | None]:
    """The stems' rate: ``--sample-rate``, else the input's, else (mp3) the nearest rate mp3 holds, said."""
    rate = options.sample_rate or info.sample_rate
    if options.fmt != OutputFormat.MP3 or rate in MP3_RATES:
        return rate, None
    nearest = min(MP3_RATES, key=lambda r: (abs(r - rate), -r))
    return nearest, f"{info.path}: mp3 cannot hold {rate} Hz: stems written at {nearest} Hz"


TRUNCATION_TOLERANCE_S = 0.05
"""Decoders' length estimates (MP3 padding) may be off by this much without the file being cut."""


def _length_warnings(info: AudioInfo, decoded: int) -> list[str]:
    """A warning when fewer samples were decoded than the file's header announced (a cut or damaged file)."""
    announced = max(info.frames, info.announced_frames or 0)
    missing = (announced - decoded) / info.sample_rate
    if missing <= TRUNCATION_TOLERANCE_S:
        return []
    return [
        f"{info.path}: truncated input: decoded {decoded / info.sample_rate:.2f} s of the "
        f"{announced / info.sample_rate:.2f} s its header announces; the stems end there ({missing:.2f} s missing)"
    ]


def _clipping_note(stem: str, writer: StemWriter) -> str:
    peak_db = 20 * np.log10(writer.peak)
    return (
        f"{writer.path}: {writer.clipped} samples of the {stem} passed full scale (peak +{peak_db:.1f} dBFS) and "
        "were clamped; --bit-depth float keeps them"
    )
