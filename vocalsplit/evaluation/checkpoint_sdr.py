"""Validation SDR at each checkpoint: the network separates validation clips as users' files are separated.

``vocalsplit train`` hands :func:`checkpoint_sdr` to the trainer (training itself knows
nothing of the inference pipeline).

The torch network is wrapped as a model of the inference pipeline (``SeparationModel``):
the same STFT, chunking, context, recurrent state, masks on the complex mixture and
inverse STFT as ``vocalsplit`` uses with the exported ONNX file, so the figure is the
whole-track SDR users would get (one pass), not a loss on magnitudes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from vocalsplit.audio.stft import StftParams
from vocalsplit.catalog.manifest import Manifest, StateSpec
from vocalsplit.choices import Mask
from vocalsplit.evaluation.metrics import global_sdr
from vocalsplit.separation.pipeline import chunk_frames, separate_array
from vocalsplit.training.architecture import Arch
from vocalsplit.training.datasets import Clip

MAX_CLIPS = 24
"""Validation excerpts scored per checkpoint (evenly spaced through the set), to bound its cost."""
MAX_SECONDS = 30.0
"""Length of an excerpt: a clip up to this long is scored whole, a longer one (a song) is cut into
consecutive excerpts of this length."""
SILENT_POWER = 1e-6
"""An excerpt where a source's mean power is below this (−60 dBFS) is not scored: a song's intro
without voice would give that source's SDR no meaning."""


class TorchModel:
    """The network as the inference pipeline's model: numpy magnitudes and states in, masks out."""

    def __init__(self, arch: Arch, manifest: Manifest, device: torch.device) -> None:
        self.manifest, self._arch, self._device = manifest, arch, device

    def initial_state(self, batch: int) -> dict[str, np.ndarray]:
        return {s.input: np.zeros((batch, *s.shape), np.float32) for s in self.manifest.states}

    def run(self, magnitude: np.ndarray, state: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        states = [torch.from_numpy(state[s.input]).to(self._device) for s in self.manifest.states]
        with torch.no_grad():
            masks, new = self._arch.net(torch.from_numpy(magnitude).to(self._device), states)
        out = {s.input: n.float().cpu().numpy() for s, n in zip(self.manifest.states, new, strict=True)}
        return masks.float().cpu().numpy(), out


def pipeline_manifest(arch: Arch, params: StftParams, sample_rate: int) -> Manifest:
    """What the exported manifest will say about running the network (no file behind it)."""
    net = arch.net
    sources = tuple(arch.sources)
    shape = tuple(net.state_shape())
    return Manifest(
        name="validation",
        path=Path("."),
        onnx_path=Path("."),
        sha256="",
        architecture=arch.name,
        sample_rate=sample_rate,
        stft=params,
        context_left=arch.left,
        context_right=arch.right,
        input_name="magnitude",
        output_name="masks",
        sources=sources,
        residual_source=sources[-1] if len(sources) > 2 else "accompaniment",
        mask_kind=arch.mask_kind,
        states=tuple(StateSpec(f"{n}_in", f"{n}_out", shape) for n in net.state_names),
        frame_multiple=arch.frame_multiple,
        channels=net.config.bins // params.bins,
    )


def checkpoint_sdr(
    arch: Arch, clips: list[Clip], params: StftParams, sample_rate: int, device: torch.device
) -> dict[str, float] | None:
    """Mean SDR (dB) per source over up to :data:`MAX_CLIPS` validation excerpts in which every source
    sounds (evenly spaced through the set, :data:`MAX_SECONDS` each); ``None`` if there are none."""
    n = int(MAX_SECONDS * sample_rate)
    full = [c for c in clips if set(arch.sources) <= set(c.sources) or _two_source(arch, c)]
    excerpts = [e for c in full for e in _excerpts(_references(arch, c), n)]
    if not excerpts:
        return None
    picked = [excerpts[i] for i in np.linspace(0, len(excerpts) - 1, min(MAX_CLIPS, len(excerpts))).round().astype(int)]
    manifest = pipeline_manifest(arch, params, sample_rate)
    model = TorchModel(arch, manifest, device)
    chunk = chunk_frames(manifest, MAX_SECONDS)
    was_training = arch.net.training
    arch.net.eval()
    scores: dict[str, list[float]] = {s: [] for s in manifest.sources}
    try:
        for references in picked:
            mixture = np.asarray(sum(references.values()), np.float32)
            stems = separate_array(model, mixture, sample_rate, Mask.SOFT, chunk, shifts=1)
            for s in manifest.sources:
                scores[s].append(global_sdr(references[s], stems[s]))
    finally:
        arch.net.train(was_training)
    return {s: round(float(np.mean(v)), 3) for s, v in scores.items()}


def _two_source(arch: Arch, clip: Clip) -> bool:
    return tuple(arch.sources) == ("vocals", "accompaniment") and len(clip.sources) >= 2


def _references(arch: Arch, clip: Clip) -> dict[str, np.ndarray]:
    if _two_source(arch, clip) and not set(arch.sources) <= set(clip.sources):
        return {"vocals": clip.voice, "accompaniment": clip.accompaniment}
    return {s: clip.sources[s] for s in arch.sources}


def _excerpts(references: dict[str, np.ndarray], n: int) -> list[dict[str, np.ndarray]]:
    """Consecutive excerpts of ``n`` samples (a shorter clip whole) in which every source sounds."""
    length = min(x.shape[1] for x in references.values())
    out = []
    for start in range(0, max(1, length - n + 1), n):
        cut = {s: x[:, start : start + n] for s, x in references.items()}
        if all(float(np.mean(np.square(x, dtype=np.float64))) > SILENT_POWER for x in cut.values()):
            out.append(cut)
    return out
