"""The JSON manifest that describes each ``models/<name>.onnx``."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vocalsplit.audio.stft import StftParams
from vocalsplit.defaults import MAX_SHIFTS, SHIFTS
from vocalsplit.errors import ModelError, VocalsplitError

SCHEMA_VERSION = 1
BLEND_KIND = "blend"
"""``"kind"`` of a manifest that names member models instead of an ONNX file (``blend.py``)."""
MASK_KINDS = ("soft", "probability")
"""``soft``: per-source masks that sum to one. ``probability``: one voice-presence
probability per bin (binary-mask nets); the other source gets its complement."""


@dataclass(frozen=True)
class StateSpec:
    """A recurrent state carried across chunks: ONNX input/output names and shape without batch."""

    input: str
    output: str
    shape: tuple[int, ...]


class RawFields:
    """What a model's JSON object says for people, read the same way for a model and a blend."""

    raw: dict[str, Any]

    @property
    def quality(self) -> dict[str, Any]:
        q = self.raw.get("quality")
        return q if isinstance(q, dict) else {}

    @property
    def description(self) -> str:
        return str(self.raw.get("description", ""))


@dataclass(frozen=True)
class Manifest(RawFields):
    name: str
    path: Path
    onnx_path: Path
    sha256: str
    architecture: str
    sample_rate: int
    stft: StftParams
    context_left: int
    context_right: int
    input_name: str
    output_name: str
    sources: tuple[str, ...]
    residual_source: str
    mask_kind: str
    states: tuple[StateSpec, ...] = ()
    frame_multiple: int = 1
    """Each model call must cover a multiple of this many output frames (window grids)."""
    default: bool = False
    shifts: int = SHIFTS
    """Passes run when the user names none (``"shifts"`` in the JSON; default :data:`defaults.SHIFTS`)."""
    channels: int = 1
    """1: the network sees one channel at a time. 2: a stereo model, which sees both channels'
    bins side by side (``audio/channel_layout.py``) and gives each channel its own masks."""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def input_width(self) -> int:
        """Values per frame of the network's input and masks: the bins, times the channels it sees."""
        return self.channels * self.stft.bins

    def verify(self) -> None:
        """Raise ModelError unless the ONNX file exists and matches the recorded sha256."""
        if not self.onnx_path.is_file():
            raise ModelError(f"model {self.name!r}: file {self.onnx_path} is missing")
        digest = file_sha256(self.onnx_path)
        if digest != self.sha256:
            raise ModelError(
                f"model {self.name!r}: {self.onnx_path.name} does not match its manifest "
                f"(sha256 {digest[:12]}…, expected {self.sha256[:12]}…); the file is corrupt or was replaced"
            )


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_json(path: Path) -> dict[str, Any]:
    """The JSON object in ``path``; a ModelError if it is unreadable or not an object."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelError(f"model manifest {path}: unreadable ({err})") from err
    if not isinstance(raw, dict):
        raise ModelError(f"model manifest {path}: expected a JSON object")
    return raw


def load_manifest(path: Path) -> Manifest:
    """Parse and validate ``<name>.json``; every problem is a ModelError naming the field."""
    return parse_manifest(path, read_json(path))


def parse_manifest(path: Path, raw: dict[str, Any]) -> Manifest:
    """A single model's manifest from its JSON object (see :func:`load_manifest`)."""
    try:
        return _parse(path, raw)
    except VocalsplitError as err:
        raise ModelError(f"model manifest {path}: {err}") from err
    except (KeyError, TypeError, ValueError) as err:
        raise ModelError(f"model manifest {path}: bad or missing field ({err})") from err


def _req(d: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    if key not in d:
        raise ModelError(f"missing field {key!r}")
    value = d[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ModelError(f"field {key!r} has the wrong type ({type(value).__name__})")
    return value


def _parse(path: Path, raw: dict[str, Any]) -> Manifest:
    version = _req(raw, "schema_version", int)
    if version != SCHEMA_VERSION:
        raise ModelError(f"schema_version {version} is not supported (this vocalsplit reads {SCHEMA_VERSION})")
    stft_raw = _req(raw, "stft", dict)
    stft = StftParams(
        n_fft=_req(stft_raw, "n_fft", int),
        hop=_req(stft_raw, "hop", int),
        window=_req(stft_raw, "window", str),
    )
    context = _req(raw, "context_frames", dict)
    left, right = _req(context, "left", int), _req(context, "right", int)
    if left < 0 or right < 0:
        raise ModelError("context_frames must be >= 0")
    rate = _req(raw, "sample_rate", int)
    if not 1000 <= rate <= 384000:
        raise ModelError(f"sample_rate {rate} is out of range")
    io = _req(raw, "io", dict)
    sources = tuple(_req(raw, "sources", list))
    if len(sources) < 2 or not all(isinstance(s, str) and s for s in sources) or len(set(sources)) != len(sources):
        raise ModelError("sources must list at least two distinct names")
    residual = _req(raw, "residual_source", str)
    if residual not in sources:
        raise ModelError(f"residual_source {residual!r} is not one of the sources {list(sources)}")
    mask_kind = _req(raw, "mask_kind", str)
    if mask_kind not in MASK_KINDS:
        raise ModelError(f"mask_kind {mask_kind!r}; allowed: {', '.join(MASK_KINDS)}")
    if mask_kind == "probability" and len(sources) != 2:
        raise ModelError("mask_kind 'probability' needs exactly two sources")
    states = tuple(
        StateSpec(_req(s, "input", str), _req(s, "output", str), tuple(int(d) for d in _req(s, "shape", list)))
        for s in raw.get("state", [])
    )
    multiple = raw.get("frame_multiple", 1)
    if not isinstance(multiple, int) or isinstance(multiple, bool) or multiple < 1:
        raise ModelError("frame_multiple must be an integer >= 1")
    shifts = raw.get("shifts", SHIFTS)
    if not isinstance(shifts, int) or isinstance(shifts, bool) or not 1 <= shifts <= MAX_SHIFTS:
        raise ModelError(f"shifts must be an integer from 1 to {MAX_SHIFTS}")
    channels = raw.get("channels", 1)
    if channels not in (1, 2) or isinstance(channels, bool):
        raise ModelError("channels must be 1 (each channel alone) or 2 (a stereo model)")
    onnx_file = _req(raw, "file", str)
    if Path(onnx_file).name != onnx_file:
        raise ModelError(f"file {onnx_file!r} must be a plain file name beside the manifest")
    return Manifest(
        name=_req(raw, "name", str),
        path=path,
        onnx_path=path.parent / onnx_file,
        sha256=_req(raw, "sha256", str).lower(),
        architecture=_req(raw, "architecture", str),
        sample_rate=rate,
        stft=stft,
        context_left=left,
        context_right=right,
        input_name=_req(io, "input", str),
        output_name=_req(io, "output", str),
        sources=sources,
        residual_source=residual,
        mask_kind=mask_kind,
        states=states,
        frame_multiple=multiple,
        default=bool(raw.get("default", False)),
        shifts=shifts,
        channels=channels,
        raw=raw,
    )


def write_manifest(path: Path, data: dict[str, Any]) -> None:
    """Write a manifest dict (sorted keys, trailing newline) after validating it."""
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if data.get("kind") != BLEND_KIND:  # a blend is checked against the installed models when loaded
        load_manifest(path)
