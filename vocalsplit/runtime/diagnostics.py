"""Facts for ``vocalsplit doctor``: packages, providers that really work, model files."""

from __future__ import annotations

import base64
import contextlib
import ctypes
import importlib.metadata as md
import io
import platform
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vocalsplit import __version__
from vocalsplit.catalog.blend import Blend
from vocalsplit.catalog.registry import list_manifests, model_dirs
from vocalsplit.errors import VocalsplitError
from vocalsplit.runtime.providers import CPU, CUDA, parse_device
from vocalsplit.runtime.session import ModelSession

# A one-node ONNX graph (y = Relu(x), IR 8, opset 17) used to try each provider
# without needing an installed model; made with onnx.helper.make_model.
PROBE_MODEL = base64.b64decode(
    "CAgSCnZvY2Fsc3BsaXQ6NwoMCgF4EgF5IgRSZWx1EgVwcm9iZVoPCgF4EgoKCAgBEgQKAggBYg8KAXkSCgoICAESBAoCCAFCBAoAEBE="
)

ORT_PACKAGES = ("onnxruntime", "onnxruntime-gpu", "onnxruntime-directml", "onnxruntime-openvino")


@dataclass
class Report:
    facts: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _version(dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def provider_works(provider: str) -> tuple[bool, str]:
    """Create a session on the probe model with only ``provider`` (plus CPU) and run it."""
    import onnxruntime as ort

    providers = [provider] if provider == CPU else [provider, CPU]
    ort.set_default_logger_severity(4)
    try:
        session = ort.InferenceSession(PROBE_MODEL, providers=providers)
        y = session.run(None, {"x": np.array([-1.0], np.float32)})[0]
        used = session.get_providers()[0]
    except Exception as err:  # noqa: BLE001 - any failure means "not usable"
        return False, str(err).splitlines()[0][:200]
    finally:
        ort.set_default_logger_severity(2)
    if used != provider:
        return False, f"session fell back to {used}"
    return bool(y[0] == 0.0), "ran the probe model"


def missing_cuda_libraries(ort: Any) -> list[str]:
    """The libraries the CUDA provider needs that cannot be loaded, as onnxruntime itself names them.

    ``onnxruntime.preload_dlls`` tries NVIDIA's pip packages, then the system paths, and
    prints a line per library it cannot load; the driver (``libcuda.so.1``) and cuDNN 9
    (which it treats as optional, but the recurrent and convolution kernels use) are tried here."""
    missing = []
    for name, what in (("libcuda.so.1", "the NVIDIA driver"), ("libcudnn.so.9", "cuDNN 9")):
        try:
            ctypes.CDLL(name)
        except OSError:
            missing.append(f"{name} ({what})")
    if hasattr(ort, "preload_dlls"):
        said = io.StringIO()
        with contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
            try:
                ort.preload_dlls()
            except Exception as err:  # noqa: BLE001 - reported, not raised: doctor goes on
                missing.append(f"(preload_dlls failed: {err})")
        missing += list(dict.fromkeys(re.findall(r"Failed to load (?:\S*/)?([^/\s:]+):", said.getvalue())))
    return missing


def diagnose(models_dir: Path | None = None) -> Report:
    r = Report()
    r.facts.append(("vocalsplit", __version__))
    r.facts.append(("python", f"{sys.version.split()[0]} ({platform.platform()})"))
    for dist in ("numpy", "soundfile", "soxr", "audioread", "typer", "rich"):
        r.facts.append((dist, _version(dist) or "not installed"))
    installed = {d: v for d in ORT_PACKAGES if (v := _version(d))}
    r.facts.append(("onnxruntime packages", ", ".join(f"{d} {v}" for d, v in installed.items()) or "none"))
    if len(installed) > 1:
        r.problems.append(
            f"several onnxruntime packages are installed ({', '.join(installed)}); they share one module "
            "and break each other: uninstall all, then install one"
        )
    try:
        import onnxruntime as ort
    except ImportError as err:
        r.problems.append(f"onnxruntime cannot be imported ({err}); install onnxruntime-gpu (or onnxruntime)")
        return r
    available = ort.get_available_providers()
    r.facts.append(("providers listed", ", ".join(available)))
    for provider in (CUDA, CPU):
        if provider in available:
            ok, why = provider_works(provider)
            r.facts.append((f"{provider} usable", f"yes ({why})" if ok else f"no ({why})"))
            if provider == CUDA and not ok:
                missing = missing_cuda_libraries(ort)
                hint = "; pip install 'vocalsplit[cuda]' brings all but the driver" if missing else ""
                r.facts.append(("CUDA libraries missing", (", ".join(missing) or "none found missing") + hint))
        elif provider == CUDA:
            r.facts.append((f"{provider} usable", "no (not in this onnxruntime build)"))
    r.facts.append(("model folders", ", ".join(str(d) for d in model_dirs(models_dir) if d.is_dir()) or "none"))
    manifests, problems = list_manifests(models_dir)
    r.problems.extend(problems)
    if not manifests:
        r.problems.append("no model is installed: `vocalsplit INPUT` cannot separate anything")
    for m in manifests:
        try:
            m.verify()
            if isinstance(m, Blend):  # its members are checked as models of their own
                members = ", ".join(f"{x.manifest.name} × {x.weight:g}" for x in m.members)
                r.facts.append((f"blend {m.name}", f"ok ({members}){' [default]' if m.default else ''}"))
                continue
            ModelSession(m, parse_device("cpu"))
            r.facts.append(
                (f"model {m.name}", f"ok (sha256 verified, loads on CPU){' [default]' if m.default else ''}")
            )
        except VocalsplitError as err:
            r.problems.append(str(err))
    return r
