"""The loaded model: one object that the CLI batch, the Python API and ``vocalsplit eval`` all use.

>>> from vocalsplit.api import Separator
>>> sep = Separator()                         # default installed model, best device, default settings
>>> stems = sep.separate_array(audio, 44100)  # audio: (channels, samples) or (samples,)
>>> stems["vocals"].shape == audio.shape
True
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from vocalsplit import defaults
from vocalsplit.audio.reader import AudioInfo
from vocalsplit.catalog.manifest import Manifest
from vocalsplit.catalog.registry import resolve_model
from vocalsplit.choices import BitDepth, ChannelMasks, Existing, HighBand, Mask, OutputFormat, parse
from vocalsplit.errors import UsageError
from vocalsplit.runtime.providers import CUDA, parse_device
from vocalsplit.runtime.session import ModelSession
from vocalsplit.separation.files import FileResult, OutputOptions, check_input, separate_file
from vocalsplit.separation.inputs import InputFile
from vocalsplit.separation.latency import Latency, fit_chunk, stream_latency
from vocalsplit.separation.outputs import OutputPlan, PlanProblem, plan_outputs
from vocalsplit.separation.pipeline import check_stems, chunk_frames, open_stream, separate_array
from vocalsplit.separation.shifts import StemStream, check_shifts


class Separator:
    """A model loaded once on a device, with its separation settings. Not thread-safe: one per thread.

    Args:
        model: installed model name, a ``.onnx``/``.json`` path, or ``None`` for the default model.
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        mask: ``soft`` (stems sum to the mix) or ``binary``.
        chunk_seconds: audio at the model's rate per network call; ``None``: ``defaults.CHUNK_SECONDS``
            on the CPU, ``defaults.CUDA_CHUNK_SECONDS`` on CUDA.
        models_dir: extra folder searched first for ``model``.
        shifts: passes averaged on frame grids offset by 1/shifts of a hop (1 = one pass); ``None``: the
            model's own number (its manifest's ``shifts``, else 2).
        high_band: ``share`` or ``accompaniment``: where the song above the model's band goes.
        channel_masks: ``shared`` (every channel the same masks) or ``separate`` (a mask per channel).
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
    ) -> None:
        self.mask = parse(Mask, mask, "--mask")
        self.high_band = parse(HighBand, high_band, "--high-band")
        self.channel_masks = parse(ChannelMasks, channel_masks, "--channel-masks")
        chosen_device = parse_device(device)
        if shifts is not None:
            check_shifts(shifts)
        self.manifest: Manifest = resolve_model(str(model) if model is not None else None, models_dir)
        self.shifts = self.manifest.shifts if shifts is None else shifts
        if chunk_seconds is not None:  # a bad value fails before the model loads
            chunk_frames(self.manifest, chunk_seconds)
        self.session = ModelSession(self.manifest, chosen_device)
        self.chunk_seconds = chunk_seconds if chunk_seconds is not None else self._default_chunk_seconds()
        self.chunk_frames = chunk_frames(self.manifest, self.chunk_seconds)

    def _default_chunk_seconds(self) -> float:
        return defaults.CUDA_CHUNK_SECONDS if self.session.provider == CUDA else defaults.CHUNK_SECONDS

    @property
    def provider(self) -> str:
        """The onnxruntime execution provider actually running the model."""
        return self.session.provider

    @property
    def sources(self) -> tuple[str, ...]:
        return self.manifest.sources

    def stems(self, requested: list[str] | None = None) -> list[str]:
        """``requested`` checked against the model's sources (``None``: all of them)."""
        return check_stems(self.manifest, requested or list(self.manifest.sources))

    def open_stream(self, sample_rate: int, channels: int, stems: list[str] | None = None) -> StemStream:
        """A stream with this separator's settings: push ``(channels, n)`` blocks, get stems in step."""
        return open_stream(
            self.session,
            sample_rate,
            channels,
            self.mask,
            self.chunk_frames,
            self.stems(stems),
            self.shifts,
            self.high_band,
            self.channel_masks,
        )

    def latency(self, sample_rate: int) -> Latency:
        """How far the stems of a stream at ``sample_rate`` may lag its input, by cause."""
        return stream_latency(self.manifest, self.chunk_frames, self.shifts, sample_rate)

    def fit_latency(self, seconds: float, sample_rate: int) -> Latency:
        """Size the chunk so that streams at ``sample_rate`` lag at most ``seconds``; the stated latency.

        Raises a UsageError with the least latency these settings allow when ``seconds`` is below it."""
        self.chunk_frames, stated = fit_chunk(self.manifest, seconds, self.shifts, sample_rate)
        return stated

    def separate_array(
        self, audio: np.ndarray, sample_rate: int, stems: list[str] | None = None, mask: Mask | str | None = None
    ) -> dict[str, np.ndarray]:
        """Stems with the input's shape, ``(channels, samples)`` or ``(samples,)``, float32.

        ``mask`` overrides this separator's mask for this call (``vocalsplit eval`` scores both)."""
        chosen = self.mask if mask is None else parse(Mask, mask, "--mask")
        return separate_array(
            self.session,
            audio,
            sample_rate,
            chosen,
            self.chunk_frames,
            self.stems(stems),
            shifts=self.shifts,
            high_band=self.high_band,
            channel_masks=self.channel_masks,
        )

    def check_input(self, path: Path, options: OutputOptions | None = None) -> AudioInfo:
        """Probe ``path`` (``options``' excerpt of it); raise if it cannot be separated (unreadable, empty,
        shorter than one frame)."""
        return check_input(path, self.manifest, options)

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
