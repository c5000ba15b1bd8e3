"""Turn ``--device`` into onnxruntime providers and check what a session really uses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from vocalsplit.errors import DeviceError, UsageError

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"

_DEVICE_RE = re.compile(r"^(auto|cpu|cuda)(?::(\d+))?$")


@dataclass(frozen=True)
class DeviceRequest:
    kind: str  # auto | cpu | cuda
    index: int = 0

    def providers(self, available: list[str]) -> list[Any]:
        """Provider list for ``InferenceSession`` (CPU always last as the fallback)."""
        if self.kind == "cpu":
            return [CPU]
        if self.kind == "cuda" and CUDA not in available:
            raise DeviceError(
                "--device cuda: this onnxruntime has no CUDA provider "
                f"(available: {', '.join(available)}); install onnxruntime-gpu and "
                "uninstall onnxruntime, or use --device cpu"
            )
        if CUDA in available:
            return [(CUDA, {"device_id": self.index}), CPU]
        return [CPU]


def parse_device(text: str) -> DeviceRequest:
    m = _DEVICE_RE.match(text.strip().lower())
    if not m:
        raise UsageError(f"unknown device {text!r}; allowed: auto, cpu, cuda, cuda:N")
    kind, index = m.group(1), m.group(2)
    if index is not None and kind != "cuda":
        raise UsageError(f"device {text!r}: only cuda takes an index (cuda:N)")
    return DeviceRequest(kind, int(index or 0))


def check_actual(request: DeviceRequest, actual: list[str]) -> str:
    """Return the provider doing the work; CUDA asked for but not active is an error."""
    used = actual[0] if actual else CPU
    if request.kind == "cuda" and used != CUDA:
        raise DeviceError(
            "--device cuda: onnxruntime could not load CUDA and would silently run on the CPU "
            "(CUDA 12/13 runtime and cuDNN 9 must be loadable; see `vocalsplit doctor`); "
            "use --device cpu or --device auto"
        )
    return used
