"""Where models live and how a name or path becomes a verified manifest.

Search order: ``$VOCALSPLIT_MODELS`` (folders separated by the OS path separator),
the ``models/`` shipped inside the installed package, then the source checkout's
``models/`` (editable installs and running from a clone).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from vocalsplit.catalog.blend import Blend, is_blend, parse_blend
from vocalsplit.catalog.manifest import Manifest, parse_manifest, read_json
from vocalsplit.errors import ModelError, ModelNotFoundError, NoModelInstalledError

ENV_MODELS = "VOCALSPLIT_MODELS"
ENV_DEFAULT = "VOCALSPLIT_MODEL"


def builtin_dirs() -> list[Path]:
    """The wheel's bundled models, then a source checkout's ``models/``."""
    package = Path(__file__).resolve().parent.parent
    return [package / "_models", package.parent / "models"]


def model_dirs(extra: Path | None = None) -> list[Path]:
    """Folders searched for ``<name>.json`` manifests, first match wins.

    ``extra`` (``--models-dir``) must be a folder: a misspelt one is an error, not silently skipped."""
    dirs: list[Path] = []
    if extra is not None:
        if not extra.is_dir():
            raise ModelNotFoundError(f"--models-dir {extra}: no such folder")
        dirs.append(extra)
    env = os.environ.get(ENV_MODELS)
    if env:
        dirs.extend(Path(p) for p in env.split(os.pathsep) if p)
    dirs.extend(builtin_dirs())
    seen: set[Path] = set()
    unique = []
    for d in dirs:
        key = d.resolve() if d.exists() else d
        if key not in seen:
            seen.add(key)
            unique.append(d)
    return unique


Model = Manifest | Blend
"""What a model name resolves to: one network, or a blend of installed ones."""


def list_manifests(extra: Path | None = None) -> tuple[list[Model], list[str]]:
    """Installed models and blends (first of each name) and one message per broken manifest."""
    found: dict[str, Manifest] = {}
    blends: list[tuple[Path, dict[str, Any]]] = []
    problems: list[str] = []
    for d in model_dirs(extra):
        if not d.is_dir():
            continue
        for path in sorted(d.glob("*.json")):
            try:
                raw = read_json(path)
                if is_blend(raw):
                    blends.append((path, raw))
                else:
                    m = parse_manifest(path, raw)
                    found.setdefault(m.name, m)
            except ModelError as err:
                problems.append(str(err))
    models: dict[str, Model] = dict(found)
    for path, raw in blends:  # after every single model is known: members may live in any folder
        try:
            b = parse_blend(path, raw, found)
        except ModelError as err:
            problems.append(str(err))
            continue
        models.setdefault(b.name, b)
    return sorted(models.values(), key=lambda m: m.name), problems


def resolve_model(spec: str | None, extra: Path | None = None) -> Model:
    """Return the verified manifest for a model name, a ``.json``/``.onnx`` path or the default."""
    if spec and (spec.endswith((".json", ".onnx")) or os.sep in spec or "/" in spec):
        return _from_path(spec, extra)
    installed, problems = list_manifests(extra)
    if spec is None:
        spec = os.environ.get(ENV_DEFAULT) or None
    if spec is None:
        defaults = [m for m in installed if m.default] or installed[:1]
        if not defaults:
            hint = f" ({problems[0]})" if problems else ""
            raise NoModelInstalledError(
                "no separation model is installed; searched "
                + ", ".join(str(d) for d in model_dirs(extra))
                + f"; pass --model PATH or set {ENV_MODELS}{hint}"
            )
        model = defaults[0]
    else:
        matches = [m for m in installed if m.name == spec]
        if not matches:
            names = ", ".join(m.name for m in installed) or "none"
            broken = [p for p in problems if f"{spec!r}" in p]
            raise ModelNotFoundError(broken[0] if broken else f"unknown model {spec!r}; installed models: {names}")
        model = matches[0]
    model.verify()
    return model


def _from_path(spec: str, extra: Path | None) -> Model:
    path = Path(spec).expanduser()
    manifest_path = path.with_suffix(".json")
    if not manifest_path.is_file():
        raise ModelNotFoundError(f"model {spec}: no manifest {manifest_path} beside it")
    raw = read_json(manifest_path)
    if is_blend(raw):
        installed = [m for m in list_manifests(extra)[0] if isinstance(m, Manifest)]
        model: Model = parse_blend(manifest_path, raw, {m.name: m for m in installed})
    else:
        model = parse_manifest(manifest_path, raw)
    model.verify()
    return model
