"""Tiny ONNX models with random weights, built with onnx.helper (no torch needed).

They exercise the real runtime contract: magnitudes ``(batch, frames, bins)`` in,
masks ``(batch, sources, frames - left - right, bins)`` out, recurrent state as
explicit inputs/outputs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from vocalsplit.catalog.manifest import file_sha256

OPSET = 17
IR_VERSION = 8


def _init(name: str, arr: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(arr.astype(np.float32), name)


def _save(model: onnx.ModelProto, folder: Path, name: str, manifest: dict) -> Path:
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    folder.mkdir(parents=True, exist_ok=True)
    onnx_path = folder / f"{name}.onnx"
    onnx.save(model, str(onnx_path))
    manifest = {
        "schema_version": 1,
        "name": name,
        "file": onnx_path.name,
        "sha256": file_sha256(onnx_path),
        "description": "tiny random test model",
        **manifest,
    }
    path = folder / f"{name}.json"
    path.write_text(json.dumps(manifest, indent=2))
    return path


def recurrent_model(
    folder: Path,
    name: str = "tiny-rnn",
    sample_rate: int = 16000,
    n_fft: int = 512,
    hop: int = 128,
    hidden: int = 8,
    seed: int = 0,
    default: bool = False,
) -> Path:
    """ReLU-free tanh RNN over log magnitudes with a joint soft mask for two sources."""
    rng = np.random.default_rng(seed)
    f = n_fft // 2 + 1
    nodes = [
        helper.make_node("Add", ["mag", "one"], ["mag1"]),
        helper.make_node("Log", ["mag1"], ["feat"]),
        helper.make_node("Transpose", ["feat"], ["feat_t"], perm=[1, 0, 2]),
        helper.make_node("Unsqueeze", ["h_in", "axis0"], ["h0"]),
        helper.make_node("RNN", ["feat_t", "W", "R", "B", "", "h0"], ["Y", "Y_h"], hidden_size=hidden),
        helper.make_node("Squeeze", ["Y", "axis1"], ["y"]),
        helper.make_node("Squeeze", ["Y_h", "axis0"], ["h_out"]),
        helper.make_node("MatMul", ["y", "Wo"], ["z0"]),
        helper.make_node("Add", ["z0", "bo"], ["z"]),
        helper.make_node("Reshape", ["z", "shape4"], ["z4"]),
        helper.make_node("Abs", ["z4"], ["a0"]),
        helper.make_node("Add", ["a0", "eps"], ["a"]),
        helper.make_node("ReduceSum", ["a", "axis2"], ["s"], keepdims=1),
        helper.make_node("Div", ["a", "s"], ["m"]),
        helper.make_node("Transpose", ["m"], ["masks"], perm=[1, 2, 0, 3]),
    ]
    inits = [
        _init("one", np.array(1.0)),
        _init("eps", np.array(1e-8)),
        _init("W", rng.normal(0, 0.1, (1, hidden, f))),
        _init("R", rng.normal(0, 0.3, (1, hidden, hidden))),
        _init("B", np.zeros((1, 2 * hidden))),
        _init("Wo", rng.normal(0, 0.5, (hidden, 2 * f))),
        _init("bo", rng.normal(0, 0.1, (2 * f,))),
        numpy_helper.from_array(np.array([0], np.int64), "axis0"),
        numpy_helper.from_array(np.array([1], np.int64), "axis1"),
        numpy_helper.from_array(np.array([2], np.int64), "axis2"),
        numpy_helper.from_array(np.array([0, 0, 2, f], np.int64), "shape4"),
    ]
    graph = helper.make_graph(
        nodes,
        name,
        [
            helper.make_tensor_value_info("mag", TensorProto.FLOAT, ["batch", "frames", f]),
            helper.make_tensor_value_info("h_in", TensorProto.FLOAT, ["batch", hidden]),
        ],
        [
            helper.make_tensor_value_info("masks", TensorProto.FLOAT, ["batch", 2, "frames", f]),
            helper.make_tensor_value_info("h_out", TensorProto.FLOAT, ["batch", hidden]),
        ],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    return _save(
        model,
        folder,
        name,
        {
            "architecture": "test-rnn",
            "sample_rate": sample_rate,
            "stft": {"n_fft": n_fft, "hop": hop, "window": "hann"},
            "context_frames": {"left": 0, "right": 0},
            "io": {"input": "mag", "output": "masks"},
            "state": [{"input": "h_in", "output": "h_out", "shape": [hidden]}],
            "sources": ["vocals", "accompaniment"],
            "residual_source": "accompaniment",
            "mask_kind": "soft",
            "default": default,
        },
    )


def conv_model(
    folder: Path,
    name: str = "tiny-conv",
    sample_rate: int = 16000,
    n_fft: int = 512,
    hop: int = 128,
    left: int = 2,
    right: int = 1,
    filters: int = 4,
    seed: int = 1,
    sources: tuple[str, ...] = ("vocals", "accompaniment"),
    mask_kind: str = "soft",
    default: bool = False,
) -> Path:
    """Valid-padded time convolution (kernel ``left + right + 1``) and per-source soft masks."""
    rng = np.random.default_rng(seed)
    f = n_fft // 2 + 1
    k = left + right + 1
    n_out = 1 if mask_kind == "probability" else len(sources)
    nodes = [
        helper.make_node("Add", ["mag", "one"], ["mag1"]),
        helper.make_node("Log", ["mag1"], ["feat"]),
        helper.make_node("Transpose", ["feat"], ["feat_t"], perm=[0, 2, 1]),
        helper.make_node("Conv", ["feat_t", "Wc", "bc"], ["c"], kernel_shape=[k]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("Transpose", ["r"], ["r_t"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["r_t", "Wo"], ["z0"]),
        helper.make_node("Add", ["z0", "bo"], ["z"]),
        helper.make_node("Reshape", ["z", "shape4"], ["z4"]),
        helper.make_node("Transpose", ["z4"], ["zt"], perm=[0, 2, 1, 3]),
    ]
    if mask_kind == "probability":
        nodes.append(helper.make_node("Sigmoid", ["zt"], ["masks"]))
    else:
        nodes.append(helper.make_node("Softmax", ["zt"], ["masks"], axis=1))
    inits = [
        _init("one", np.array(1.0)),
        _init("Wc", rng.normal(0, 0.05, (filters, f, k))),
        _init("bc", rng.normal(0, 0.1, (filters,))),
        _init("Wo", rng.normal(0, 0.5, (filters, n_out * f))),
        _init("bo", rng.normal(0, 0.1, (n_out * f,))),
        numpy_helper.from_array(np.array([0, 0, n_out, f], np.int64), "shape4"),
    ]
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("mag", TensorProto.FLOAT, ["batch", "frames", f])],
        [helper.make_tensor_value_info("masks", TensorProto.FLOAT, ["batch", n_out, "frames_out", f])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    return _save(
        model,
        folder,
        name,
        {
            "architecture": "test-conv",
            "sample_rate": sample_rate,
            "stft": {"n_fft": n_fft, "hop": hop, "window": "hann"},
            "context_frames": {"left": left, "right": right},
            "io": {"input": "mag", "output": "masks"},
            "sources": list(sources),
            "residual_source": sources[-1] if len(sources) > 2 else "accompaniment",
            "mask_kind": mask_kind,
            "default": default,
        },
    )
