"""Output file names from a template, with collision and input-overwrite checks."""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from vocalsplit.errors import UsageError
from vocalsplit.separation.inputs import InputFile

FIELDS = ("track", "stem", "ext", "model", "dir")


@dataclass(frozen=True)
class OutputPlan:
    input: InputFile
    outputs: dict[str, Path]
    """stem name → output path."""


def check_template(template: str, stems: int = 1) -> None:
    try:
        names = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    except ValueError as err:
        raise UsageError(f"--filename {template!r}: {err}") from err
    unknown = sorted(n for n in names if n not in FIELDS)
    if unknown:
        raise UsageError(
            f"--filename {template!r}: unknown field {{{unknown[0]}}}; allowed: "
            + ", ".join(f"{{{f}}}" for f in FIELDS)
        )
    if "stem" not in names and stems > 1:
        raise UsageError(f"--filename {template!r} must contain {{stem}}, or every stem would get the same name")
    try:  # conversions ({track!x}) and format specs ({track:d}) fail only when filled in
        text = template.format(**dict.fromkeys(FIELDS, "x"))
    except (ValueError, KeyError, IndexError) as err:
        raise UsageError(f"--filename {template!r}: {err}; fields are plain names like {{track}}") from err
    if PurePosixPath(text.replace("\\", "/")).is_absolute():
        raise UsageError(f"--filename {template!r}: must be a path relative to -o, not an absolute one")


def render(template: str, out_dir: Path, item: InputFile, stem: str, ext: str, model: str) -> Path:
    text = template.format(track=item.path.stem, stem=stem, ext=ext, model=model, dir=item.relative_dir)
    parts = [p for p in PurePosixPath(text.replace("\\", "/")).parts if p not in ("", "/", ".")]
    if not parts or ".." in parts:
        raise UsageError(
            f"--filename {template!r} gives {text!r} for {item.path}: must be a relative path without '..'"
        )
    return out_dir.joinpath(*parts)


def plan_outputs(
    items: list[InputFile], out_dir: Path, template: str, stems: list[str], ext: str, model: str
) -> list[OutputPlan]:
    """Name every output; raise UsageError if two would collide or one would replace an input."""
    check_template(template, len(stems))
    plans = []
    owner: dict[Path, Path] = {}
    inputs = {i.path.resolve() for i in items}
    for item in items:
        outputs = {}
        for stem in stems:
            path = render(template, out_dir, item, stem, ext, model)
            key = path.resolve()
            if key in inputs:
                raise UsageError(f"output {path} would overwrite the input {key}; choose another -o or --filename")
            if key in owner:
                raise UsageError(
                    f"{item.path} and {owner[key]} would both write {path}; add {{dir}} or another "
                    "field to --filename (e.g. '{dir}/{track}/{stem}.{ext}')"
                )
            owner[key] = item.path
            outputs[stem] = path
        plans.append(OutputPlan(item, outputs))
    return plans
