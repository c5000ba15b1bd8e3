"""ONNX export with explicit recurrent state, manifest, and a torch/onnxruntime parity check."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from vocalsplit.audio.stft import StftParams
from vocalsplit.catalog.manifest import SCHEMA_VERSION, file_sha256, load_manifest, write_manifest
from vocalsplit.choices import Weights
from vocalsplit.errors import TrainingError
from vocalsplit.training.base import parameter_count

if TYPE_CHECKING:
    from vocalsplit.training.architecture import Arch

OPSET = 17
MAX_IR_VERSION = 10  # onnxruntime >= 1.20 reads it; onnx 1.23 alone would write 14
PARITY_TOLERANCE = 1e-4
HALF_MIN_ELEMENTS = 1024
"""float16 storage only pays for big tensors; small ones (biases, normalisation) stay float32."""


class _Exportable(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, magnitude: torch.Tensor, *state: torch.Tensor) -> tuple[torch.Tensor, ...]:
        masks, new_state = self.net(magnitude, list(state))
        return (masks, *new_state)


def export_onnx(arch: Arch, path: Path) -> None:
    """Write ``path`` with dynamic batch and time axes; state names ``<name>_in``/``<name>_out``."""
    import onnx

    net = arch.net.eval()
    names = list(net.state_names)
    ins = ["magnitude", *(f"{n}_in" for n in names)]
    outs = ["masks", *(f"{n}_out" for n in names)]
    example = (arch.example_input(1), *net.initial_state(1))
    axes: dict[str, dict[int, str]] = {"magnitude": {0: "batch", 1: "frames"}, "masks": {0: "batch", 2: "frames_out"}}
    for n in ins[1:] + outs[1:]:
        axes[n] = {0: "batch"}
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            _Exportable(net),
            example,
            str(path),
            input_names=ins,
            output_names=outs,
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )
    model = onnx.load(str(path))
    if model.ir_version > MAX_IR_VERSION:
        model.ir_version = MAX_IR_VERSION
        onnx.save(model, str(path))
    onnx.checker.check_model(model)


def round_weights_to_float16(net: nn.Module) -> None:
    """Round every floating parameter of ``net`` to the nearest float16 value, in place.

    After this the network computes exactly what its float16-stored ONNX file computes,
    so the export's parity check still measures the export alone."""
    with torch.no_grad():
        for p in net.parameters():
            if p.is_floating_point():
                p.copy_(p.half().float())


def store_weights_as_float16(path: Path) -> int:
    """Rewrite ``path`` so its big float32 weights are stored as float16; return how many.

    Only initializers whose values float16 holds exactly are rewritten (run
    :func:`round_weights_to_float16` before the export), each read back through a Cast
    to float32: the file halves, every value and the float32 arithmetic stay the same,
    and onnxruntime folds the casts away when it loads the model. Hand-written because
    onnxconverter-common's float16 pass converts the arithmetic too (slow and less
    accurate on CPU) and only adds a dependency."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    kept, casts = [], []
    for init in graph.initializer:
        values = numpy_helper.to_array(init) if init.data_type == TensorProto.FLOAT else None
        if values is None or values.size < HALF_MIN_ELEMENTS:
            kept.append(init)
            continue
        half = values.astype(np.float16)
        if not np.array_equal(half.astype(np.float32), values):
            kept.append(init)
            continue
        stored = f"{init.name}__float16"
        kept.append(numpy_helper.from_array(half, stored))
        casts.append(helper.make_node("Cast", [stored], [init.name], to=TensorProto.FLOAT, name=f"{stored}_cast"))
    nodes = list(graph.node)
    del graph.initializer[:]
    graph.initializer.extend(kept)
    del graph.node[:]
    graph.node.extend(casts + nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return len(casts)


def parity(arch: Arch, onnx_path: Path, magnitude: np.ndarray) -> float:
    """Largest |torch − onnxruntime| over masks and states for one input ``(B, T, F)``."""
    import onnxruntime as ort

    net = arch.net.eval()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    gen = np.random.default_rng(0)
    state = [
        torch.from_numpy(gen.normal(0, 0.1, s.shape).astype(np.float32)) for s in net.initial_state(magnitude.shape[0])
    ]
    with torch.no_grad():
        ref_masks, ref_state = net(torch.from_numpy(magnitude), state)
    feeds = {"magnitude": magnitude, **{f"{n}_in": s.numpy() for n, s in zip(net.state_names, state, strict=True)}}
    got = session.run(None, feeds)
    diffs = [np.max(np.abs(got[0] - ref_masks.numpy()))]
    diffs += [np.max(np.abs(g - r.numpy())) for g, r in zip(got[1:], ref_state, strict=True)]
    return float(max(diffs))


def export_model(
    arch: Arch,
    out: Path,
    params: StftParams,
    sample_rate: int,
    training: dict[str, Any],
    hyper: dict[str, Any],
    real_magnitude: np.ndarray | None = None,
    default: bool = False,
    description: str = "",
    weights: Weights = Weights.FLOAT32,
) -> Path:
    """Write ``out.onnx`` + ``out.json``; raise TrainingError if parity exceeds 1e-4.

    ``weights="float16"`` first rounds the network's weights to float16 (in place) and
    stores them so: half the file size; parity is then against the rounded network."""
    net = arch.net.eval()
    onnx_path = out.with_suffix(".onnx")
    if weights == Weights.FLOAT16:
        round_weights_to_float16(net)
    export_onnx(arch, onnx_path)
    if weights == Weights.FLOAT16:
        store_weights_as_float16(onnx_path)
    # random input drawn in the network's input domain (its own log-magnitude statistics):
    # far outside it, float32 rounding differences are amplified and say nothing about use
    rng = np.random.default_rng(1)
    mean, std = net.feat_mean.numpy(), net.feat_std.numpy()
    frames = 4 * arch.frame_multiple if arch.frame_multiple > 1 else 40
    z = rng.standard_normal((2, frames + arch.left + arch.right, net.config.bins))
    random_mag = np.expm1(np.maximum(mean + std * z, 0.0)).astype(np.float32)
    checks = {"random_max_abs": parity(arch, onnx_path, random_mag)}
    if real_magnitude is not None:
        checks["real_clip_max_abs"] = parity(arch, onnx_path, real_magnitude.astype(np.float32))
    worst = max(checks.values())
    if worst > PARITY_TOLERANCE:
        raise TrainingError(f"ONNX export differs from torch by {worst:.2e} (> {PARITY_TOLERANCE}); not shipped")
    sources = list(arch.sources)
    state_shape = net.state_shape()
    channels = net.config.bins // params.bins  # a stereo network sees both channels' bins side by side
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "name": out.name,
        "file": onnx_path.name,
        "sha256": file_sha256(onnx_path),
        "description": description or arch.spec.description,
        "architecture": arch.name,
        "sample_rate": sample_rate,
        "stft": {"n_fft": params.n_fft, "hop": params.hop, "window": params.window},
        "context_frames": {"left": arch.left, "right": arch.right},
        "frame_multiple": arch.frame_multiple,
        "channels": channels,
        "io": {"input": "magnitude", "output": "masks"},
        "state": [{"input": f"{n}_in", "output": f"{n}_out", "shape": state_shape} for n in net.state_names],
        "sources": sources,
        "residual_source": sources[-1] if len(sources) > 2 else "accompaniment",
        "mask_kind": arch.mask_kind,
        "default": default,
        "parameters": parameter_count(net),
        "weights": str(weights),
        "hyperparameters": hyper,
        "training": training,
        "parity": checks,
        "quality": {},
    }
    path = out.with_suffix(".json")
    write_manifest(path, manifest)
    load_manifest(path).verify()
    return path
