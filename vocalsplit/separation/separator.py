"""The loaded model: one object that the CLI batch, the Python API and ``vocalsplit eval`` all use.

>>> from vocalsplit.api import Separator
>>> sep = Separator()                         # default installed model, best device, default settings
>>> stems = sep.separate_array(audio, 44100)  # audio: (channels, samples) or (samples,)
>>> stems["vocals"].shape == audio.shape
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vocalsplit import defaults
from vocalsplit.audio.reader import AudioInfo
from vocalsplit.catalog.blend import Blend
from vocalsplit.catalog.manifest import Manifest
from vocalsplit.catalog.registry import Model, resolve_model
from vocalsplit.choices import BitDepth, ChannelMasks, Existing, HighBand, Mask, OutputFormat, parse
from vocalsplit.errors import UsageError
from vocalsplit.runtime.providers import CUDA, parse_device
from vocalsplit.runtime.session import ModelSession
from vocalsplit.separation.blending import BlendStream
from vocalsplit.separation.files import FileResult, OutputOptions, check_input, separate_file
from vocalsplit.separation.inputs import InputFile
from vocalsplit.separation.latency import Latency, fit_chunk, stream_latency
from vocalsplit.separation.outputs import OutputPlan, PlanProblem, plan_outputs
from vocalsplit.separation.pipeline import check_stems, chunk_frames, open_stream, run_stream
from vocalsplit.separation.shifts import StemStream, check_shifts


@dataclass
class ModelPart:
    """One network of a separator: a blend has one per member, a single model one in all."""

    manifest: Manifest
    session: ModelSession
    shifts: int
    weight: float
    chunk_frames: int


class Separator:
    """A model (or a blend of models) loaded once on a device, with its separation settings.
    Not thread-safe: one per thread.

    Args:
        model: installed model or blend name, a ``.onnx``/``.json`` path, or ``None`` for the default.
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        mask: ``soft`` (stems sum to the mix) or ``binary``.
        chunk_seconds: audio at the model's rate per network call; ``None``: ``defaults.CHUNK_SECONDS``
            on the CPU, ``defaults.CUDA_CHUNK_SECONDS`` on CUDA.
        models_dir: extra folder searched first for ``model``.
        shifts: passes averaged on frame grids offset by 1/shifts of a hop (1 = one pass); ``None``: the
            model's own number (its manifest's ``shifts``, else 2; each blend member's own).
        high_band: ``share`` or ``accompaniment``: where the song above the model's band goes.
        channel_masks: ``shared`` (every channel the same masks) or ``separate`` (a mask per channel).
        threads: onnxruntime's threads per network call; ``None``: every core but one (the other one
            decodes, resamples and writes meanwhile: see ``runtime.session.network_threads``).
    """

    def __init__(
        self,
        model: str | Path | None = None,
        device: str = defaults.DEVICE,
        mask: Mask | str = defaults.MASK,
        chunk_seconds: float | None = None,
        models_dir: Path | None = None,
        shifts: int | None = None,
        high_band: HighBand | str = defaults.HIGH_BAND,
        channel_masks: ChannelMasks | str = defaults.CHANNEL_MASKS,
        threads: int | None = None,
    ) -> None:
        self.mask = parse(Mask, mask, "--mask")
        self.high_band = parse(HighBand, high_band, "--high-band")
        self.channel_masks = parse(ChannelMasks, channel_masks, "--channel-masks")
        chosen_device = parse_device(device)
        if shifts is not None:
            check_shifts(shifts)
        self.manifest: Model = resolve_model(str(model) if model is not None else None, models_dir)
        members = (
            [(m.manifest, m.weight, m.shifts) for m in self.manifest.members]
            if isinstance(self.manifest, Blend)
            else [(self.manifest, 1.0, self.manifest.shifts)]
        )
        if chunk_seconds is not None:  # a bad value fails before the model loads
            for manifest, _, _ in members:
                chunk_frames(manifest, chunk_seconds)
        self.parts: list[ModelPart] = []
        for manifest, weight, own_shifts in members:
            session = ModelSession(manifest, chosen_device, threads)
            seconds = chunk_seconds if chunk_seconds is not None else _default_chunk_seconds(session)
            passes = own_shifts if shifts is None else shifts
            self.parts.append(ModelPart(manifest, session, passes, weight, chunk_frames(manifest, seconds)))
        self.chunk_seconds = chunk_seconds if chunk_seconds is not None else _default_chunk_seconds(self.session)

    @property
    def session(self) -> ModelSession:
        """The (first) network's session."""
        return self.parts[0].session

    @property
    def chunk_frames(self) -> int:
        """Frames per call of the (first) network; each part has its own (``parts``)."""
        return self.parts[0].chunk_frames

    @property
    def shifts(self) -> int | tuple[int, ...]:
        """The passes run: one number for one model, one per member for a blend."""
        passes = tuple(p.shifts for p in self.parts)
        return passes if isinstance(self.manifest, Blend) else passes[0]

    @property
    def provider(self) -> str:
        """The onnxruntime execution provider actually running the model."""
        return self.session.provider

    @property
    def sources(self) -> tuple[str, ...]:
        return self.manifest.sources

    def stems(self, requested: list[str] | None = None) -> list[str]:
        """``requested`` checked against the model's sources (``None``: all of them)."""
        return check_stems(self.manifest.name, self.manifest.sources, requested or list(self.manifest.sources))

    def open_stream(
        self, sample_rate: int, channels: int, stems: list[str] | None = None, background: bool = False
    ) -> StemStream:
        """A stream with this separator's settings: push ``(channels, n)`` blocks, get stems in step.

        ``background``: the network runs on a thread of its own, a chunk behind (same stems, sooner;
        for whole files, where the extra chunk of delay does not matter)."""
        return self._stream(sample_rate, channels, self.mask, self.stems(stems), background)

    def _stream(
        self, sample_rate: int, channels: int, mask: Mask, stems: list[str], background: bool = False
    ) -> StemStream:
        streams = [
            open_stream(
                p.session,
                sample_rate,
                channels,
                mask,
                p.chunk_frames,
                stems,
                p.shifts,
                self.high_band,
                self.channel_masks,
                background,
            )
            for p in self.parts
        ]
        return streams[0] if len(streams) == 1 else BlendStream(streams, [p.weight for p in self.parts], channels)

    def latency(self, sample_rate: int) -> Latency:
        """How far the stems of a stream at ``sample_rate`` may lag its input, by cause (a blend: its
        slowest member's)."""
        bounds = [stream_latency(p.manifest, p.chunk_frames, p.shifts, sample_rate) for p in self.parts]
        return max(bounds, key=lambda b: b.total)

    def fit_latency(self, seconds: float, sample_rate: int) -> Latency:
        """Size the chunks so that streams at ``sample_rate`` lag at most ``seconds``; the stated latency.

        Raises a UsageError with the least latency these settings allow when ``seconds`` is below it."""
        fitted = [fit_chunk(p.manifest, seconds, p.shifts, sample_rate) for p in self.parts]
        for part, (frames, _) in zip(self.parts, fitted, strict=True):
            part.chunk_frames = frames
        return max((stated for _, stated in fitted), key=lambda b: b.total)

    def separate_array(
        self, audio: np.ndarray, sample_rate: int, stems: list[str] | None = None, mask: Mask | str | None = None
    ) -> dict[str, np.ndarray]:
        """Stems with the input's shape, ``(channels, samples)`` or ``(samples,)``, float32.

        ``mask`` overrides this separator's mask for this call (``vocalsplit eval`` scores both)."""
        chosen = self.mask if mask is None else parse(Mask, mask, "--mask")
        wanted = self.stems(stems)
        return run_stream(audio, lambda channels: self._stream(sample_rate, channels, chosen, wanted, True))

    def check_input(self, path: Path, options: OutputOptions | None = None) -> AudioInfo:
        """Probe ``path`` (``options``' excerpt of it); raise if it cannot be separated (unreadable, empty,
        shorter than one frame of every network)."""
        longest = max(self.parts, key=lambda p: p.manifest.stft.n_fft / p.manifest.sample_rate)
        return check_input(path, longest.manifest, options)

    def plan(
        self,
        items: list[InputFile],
        out_dir: Path,
        filename: str = defaults.FILENAME_TEMPLATE,
        stems: list[str] | None = None,
        fmt: OutputFormat | str = defaults.FORMAT,
    ) -> tuple[list[OutputPlan], list[PlanProblem]]:
        """Name every output; an input whose outputs cannot be named is a problem of its own (see ``outputs``)."""
        ext = str(parse(OutputFormat, fmt, "--format"))
        return plan_outputs(items, out_dir, filename, self.stems(stems), ext, self.manifest.name)

    def write_stems(
        self, plan: OutputPlan, options: OutputOptions, progress: Callable[[float], None] | None = None
    ) -> FileResult:
        """Separate ``plan.input`` into the files ``plan`` names, streaming."""
        return separate_file(self, plan, options, progress)

    def separate_file(
        self,
        input_path: Path,
        out_dir: Path,
        stems: list[str] | None = None,
        filename: str = defaults.FILENAME_TEMPLATE,
        fmt: OutputFormat | str = defaults.FORMAT,
        bit_depth: BitDepth | str = defaults.BIT_DEPTH,
        sample_rate: int | None = None,
        existing: Existing | str = Existing.ERROR,
        progress: Callable[[float], None] | None = None,
        offset_s: float = 0.0,
        duration_s: float | None = None,
    ) -> FileResult:
        """Write ``out_dir/<filename>`` for each stem and return what was done (files in, files out).

        ``offset_s``/``duration_s`` separate an excerpt; ``progress`` gets the seconds done so far."""
        plans, problems = self.plan([InputFile(Path(input_path), "")], Path(out_dir), filename, stems, fmt)
        if problems:
            raise UsageError(problems[0].message)
        plan = plans[0]
        options = OutputOptions.checked(fmt, bit_depth, sample_rate, existing, offset_s, duration_s)
        return self.write_stems(plan, options, progress)


def _default_chunk_seconds(session: ModelSession) -> float:
    return defaults.CUDA_CHUNK_SECONDS if session.provider == CUDA else defaults.CHUNK_SECONDS
