"""Where models live and how a name or path becomes a verified manifest.

Search order: ``$VOCALSPLIT_MODELS`` (folders separated by the OS path separator),
the ``models/`` shipped inside the installed package, then the source checkout's
``models/`` (editable installs and running from a clone).
"""

from __future__ import annotations

import os
from pathlib import Path

from vocalsplit.catalog.manifest import Manifest, load_manifest
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


def list_manifests(extra: Path | None = None) -> tuple[list[Manifest], list[str]]:
    """Installed models (first of each name) and one message per broken manifest."""
    found: dict[str, Manifest] = {}
    problems: list[str] = []
    for d in model_dirs(extra):
        if not d.is_dir():
            continue
        for path in sorted(d.glob("*.json")):
            try:
                m = load_manifest(path)
            except ModelError as err:
                problems.append(str(err))
                continue
            found.setdefault(m.name, m)
    return sorted(found.values(), key=lambda m: m.name), problems


def resolve_model(spec: str | None, extra: Path | None = None) -> Manifest:
    """Return the verified manifest for a model name, a ``.json``/``.onnx`` path or the default."""
    if spec and (spec.endswith((".json", ".onnx")) or os.sep in spec or "/" in spec):
        path = Path(spec).expanduser()
        manifest_path = path.with_suffix(".json")
        if not manifest_path.is_file():
            raise ModelNotFoundError(f"model {spec}: no manifest {manifest_path} beside it")
        manifest = load_manifest(manifest_path)
        manifest.verify()
        return manifest
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
        manifest = defaults[0]
    else:
        matches = [m for m in installed if m.name == spec]
        if not matches:
            names = ", ".join(m.name for m in installed) or "none"
            raise ModelNotFoundError(f"unknown model {spec!r}; installed models: {names}")
        manifest = matches[0]
    manifest.verify()
    return manifest
