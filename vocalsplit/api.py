"""Library facade: load a model once, separate arrays or files.

>>> from vocalsplit.api import Separator
>>> sep = Separator()                       # default installed model, best device
>>> stems = sep.separate_array(audio, 44100)  # audio: (channels, samples) or (samples,)
>>> stems["vocals"].shape == audio.shape
True
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from vocalsplit import defaults
from vocalsplit.catalog.manifest import Manifest
from vocalsplit.catalog.registry import resolve_model
from vocalsplit.runtime.providers import parse_device
from vocalsplit.runtime.session import ModelSession
from vocalsplit.separation.files import FileOptions, FileResult, separate_file
from vocalsplit.separation.inputs import InputFile
from vocalsplit.separation.outputs import plan_outputs
from vocalsplit.separation.pipeline import check_stems, chunk_frames, separate_array
from vocalsplit.separation.shifts import check_shifts


class Separator:
    """A loaded model on a device. Not thread-safe: use one per thread."""

    def __init__(
        self,
        model: str | Path | None = None,
        device: str = defaults.DEVICE,
        mask: str = defaults.MASK,
        chunk_seconds: float = defaults.CHUNK_SECONDS,
        models_dir: Path | None = None,
        shifts: int = defaults.SHIFTS,
    ) -> None:
        self.shifts = check_shifts(shifts)
        self.manifest: Manifest = resolve_model(str(model) if model is not None else None, models_dir)
        self.session = ModelSession(self.manifest, parse_device(device))
        self.mask = mask
        self.chunk_frames = chunk_frames(self.manifest, chunk_seconds)

    @property
    def provider(self) -> str:
        """The onnxruntime execution provider actually running the model."""
        return self.session.provider

    @property
    def sources(self) -> tuple[str, ...]:
        return self.manifest.sources

    def separate_array(
        self, audio: np.ndarray, sample_rate: int, stems: list[str] | None = None
    ) -> dict[str, np.ndarray]:
        """Stems with the input's shape, ``(channels, samples)`` or ``(samples,)``, float32."""
        return separate_array(self.session, audio, sample_rate, self.mask, self.chunk_frames, stems, shifts=self.shifts)

    def separate_file(
        self,
        input_path: Path,
        out_dir: Path,
        stems: list[str] | None = None,
        filename: str = defaults.FILENAME_TEMPLATE,
        fmt: str = defaults.FORMAT,
        bit_depth: str = defaults.BIT_DEPTH,
        sample_rate: int | None = None,
        existing: str = "error",
        progress: Callable[[float], None] | None = None,
    ) -> FileResult:
        """Write ``out_dir/<filename>`` for each stem and return what was done."""
        chosen = check_stems(self.manifest, stems or list(self.manifest.sources))
        plan = plan_outputs(
            [InputFile(Path(input_path), "")], Path(out_dir), filename, chosen, fmt, self.manifest.name
        )[0]
        options = FileOptions(self.mask, self.chunk_frames, fmt, bit_depth, sample_rate, existing, shifts=self.shifts)
        return separate_file(self.session, plan, options, self.provider, progress)
