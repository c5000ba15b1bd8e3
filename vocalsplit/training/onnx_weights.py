"""A shipped DRNN's weights read back from its ONNX file, so ``--init-from model.onnx`` can fine-tune it.

The shipped models keep no training checkpoint; their ONNX files hold every weight.
The export writes each recurrent layer as an ONNX ``RNN``/``GRU``/``LSTM`` node (inputs
W, R, B) and each dense layer as ``MatMul`` + ``Add``, in the network's order, so the
weights map back one to one; only the gate order differs between ONNX and torch
(GRU: ONNX z, r, h / torch r, z, n; LSTM: ONNX i, o, f, c / torch i, f, g, o). Weights
stored as float16 are read back through their ``Cast`` node. The importer checks every
shape against the network it fills and names the first that does not fit.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from vocalsplit.errors import TrainingError

_RNN_OPS = {"RNN": nn.RNN, "GRU": nn.GRU, "LSTM": nn.LSTM}
_TORCH_GATES = {"RNN": [0], "GRU": [1, 0, 2], "LSTM": [0, 2, 3, 1]}
"""For each torch gate block, the ONNX gate block it comes from."""


def _tables(path: Path) -> tuple[list[object], dict[str, np.ndarray]]:
    import onnx
    from onnx import numpy_helper

    try:
        model = onnx.load(str(path))
    except Exception as exc:  # protobuf errors have no common base worth naming
        raise TrainingError(f"--init-from {path}: not an ONNX model ({exc})") from exc
    values = {t.name: numpy_helper.to_array(t).astype(np.float32) for t in model.graph.initializer}
    for node in model.graph.node:  # float16 storage: a Cast turns the stored weight into float32
        if node.op_type == "Cast" and node.input[0] in values:
            values[node.output[0]] = values[node.input[0]]
        if node.op_type == "Constant" and node.attribute and node.attribute[0].t.dims:
            values[node.output[0]] = numpy_helper.to_array(node.attribute[0].t).astype(np.float32)
    return list(model.graph.node), values


def _reorder(weight: np.ndarray, op: str) -> np.ndarray:
    blocks = np.split(weight, len(_TORCH_GATES[op]), axis=0)
    return np.concatenate([blocks[i] for i in _TORCH_GATES[op]], axis=0)


def _layers(nodes: list[object], values: dict[str, np.ndarray]) -> list[tuple[str, list[np.ndarray]]]:
    """("GRU", [W, R, B]) per recurrent node and ("Linear", [weight, bias]) per dense layer, in order."""
    consumers: dict[str, list[object]] = {}
    for node in nodes:
        for name in node.input:  # type: ignore[attr-defined]
            consumers.setdefault(name, []).append(node)
    layers: list[tuple[str, list[np.ndarray]]] = []
    for node in nodes:
        op, inputs = node.op_type, list(node.input)  # type: ignore[attr-defined]
        if op in _RNN_OPS:
            layers.append((op, [values[name][0] for name in inputs[1:4]]))
        elif op == "Gemm" and inputs[1] in values and len(inputs) > 2 and inputs[2] in values:
            trans_b = any(a.name == "transB" and a.i for a in node.attribute)  # type: ignore[attr-defined]
            weight = values[inputs[1]]
            layers.append(("Linear", [weight if trans_b else weight.T, values[inputs[2]]]))
        elif op == "MatMul" and inputs[1] in values:
            adds = [n for n in consumers.get(node.output[0], []) if n.op_type == "Add"]  # type: ignore[attr-defined]
            bias = next((values[i] for a in adds for i in a.input if i in values), None)  # type: ignore[attr-defined]
            if bias is not None:
                layers.append(("Linear", [values[inputs[1]].T, bias]))
    return layers


def _fill(prefix: str, op: str, weights: list[np.ndarray], layer: int) -> dict[str, np.ndarray]:
    if op == "Linear":
        return {f"{prefix}weight": weights[0], f"{prefix}bias": weights[1]}
    w, r, b = weights
    half = b.shape[0] // 2
    return {
        f"{prefix}weight_ih_l{layer}": _reorder(w, op),
        f"{prefix}weight_hh_l{layer}": _reorder(r, op),
        f"{prefix}bias_ih_l{layer}": _reorder(b[:half], op),
        f"{prefix}bias_hh_l{layer}": _reorder(b[half:], op),
    }


def _targets(net: nn.Module) -> list[tuple[str, str, int]]:
    """(state-dict prefix, ONNX op it comes from, layer index) in the order the export writes them."""
    out: list[tuple[str, str, int]] = []
    for name, module in net.named_modules():
        if isinstance(module, nn.RNNBase):
            op = next(k for k, cls in _RNN_OPS.items() if type(module) is cls)
            out += [(f"{name}.", op, k) for k in range(module.num_layers)]
        elif isinstance(module, nn.Linear):
            out.append((f"{name}.", "Linear", 0))
        elif isinstance(module, nn.modules.conv._ConvNd):
            out.append((f"{name}.", type(module).__name__, 0))  # never matched: only dense and recurrent nets import
    return out


def state_from_onnx(
    net: nn.Module,
    path: Path,
    adapt: Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]] | None = None,
) -> dict[str, torch.Tensor]:
    """``net``'s state dict with every weight taken from the ONNX file at ``path``, passed through
    ``adapt`` (e.g. a band widened) before each shape is checked against ``net``."""
    nodes, values = _tables(path)
    layers = _layers(nodes, values)
    targets = _targets(net)
    if [op for op, _ in layers] != [op for _, op, _ in targets]:
        raise TrainingError(
            f"--init-from {path}: its layers ({', '.join(op for op, _ in layers) or 'none'}) are not this "
            f"network's ({', '.join(op for _, op, _ in targets)}): give the architecture options it was trained with"
        )
    state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    found: dict[str, np.ndarray] = {}
    for (op, weights), (prefix, _, layer) in zip(layers, targets, strict=True):
        found.update(_fill(prefix, op, weights, layer))
    for buffer in ("feat_mean", "feat_std"):
        if f"net.{buffer}" not in values:
            raise TrainingError(f"--init-from {path}: no net.{buffer} in the file (not exported by vocalsplit?)")
        found[buffer] = values[f"net.{buffer}"]
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in found.items()}
    if adapt is not None:
        tensors = adapt(tensors)
    for key, value in tensors.items():
        if state[key].shape != value.shape:
            raise TrainingError(
                f"--init-from {path}: {key} is {list(value.shape)} in the file but {list(state[key].shape)} "
                "in this network: give the architecture options it was trained with"
            )
        state[key] = value
    return state
