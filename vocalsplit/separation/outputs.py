"""Output file names from a template, with collision and input-overwrite checks."""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from vocalsplit.defaults import FILENAME_TEMPLATE
from vocalsplit.errors import UsageError
from vocalsplit.separation.inputs import InputFile

FIELDS = ("track", "name", "stem", "ext", "model", "dir")
"""``{track}`` the input's name without extension, ``{name}`` with it (tells song.wav from song.flac)."""


@dataclass(frozen=True)
class OutputPlan:
    input: InputFile
    outputs: dict[str, Path]
    """stem name → output path."""


@dataclass(frozen=True)
class PlanProblem:
    """An input whose outputs cannot be named (it is reported and skipped; the others go on)."""

    input: InputFile
    message: str


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


def render(template: str, out_dir: Path, item: InputFile, stem: str, ext: str, model: str, suffix: str = "") -> Path:
    """The output path of ``stem`` for ``item``; ``suffix`` is appended to ``{track}`` (clash resolution)."""
    fields = {"track": item.path.stem + suffix, "name": item.path.name, "dir": item.relative_dir}
    text = template.format(**fields, stem=stem, ext=ext, model=model)
    parts = [p for p in PurePosixPath(text.replace("\\", "/")).parts if p not in ("", "/", ".")]
    if not parts or ".." in parts:
        raise UsageError(
            f"--filename {template!r} gives {text!r} for {item.path}: must be a relative path without '..'"
        )
    return out_dir.joinpath(*parts)


def plan_outputs(
    items: list[InputFile], out_dir: Path, template: str, stems: list[str], ext: str, model: str
) -> tuple[list[OutputPlan], list[PlanProblem]]:
    """Name every output. An input whose outputs would replace an input, or (with a template of the
    user's) collide with another input's, is a problem of its own; the default layout resolves
    collisions by numbering the later track (``song-2``)."""
    check_template(template, len(stems))
    plans, problems = [], []
    owner: dict[Path, Path] = {}
    inputs = {i.path.resolve() for i in items}
    for item in items:
        try:
            outputs = _name_outputs(item, out_dir, template, stems, ext, model, owner, inputs)
        except UsageError as err:
            problems.append(PlanProblem(item, str(err)))
            continue
        owner.update({p.resolve(): item.path for p in outputs.values()})
        plans.append(OutputPlan(item, outputs))
    return plans, problems


def _name_outputs(
    item: InputFile,
    out_dir: Path,
    template: str,
    stems: list[str],
    ext: str,
    model: str,
    owner: dict[Path, Path],
    inputs: set[Path],
) -> dict[str, Path]:
    for n in range(1, 1000 if template == FILENAME_TEMPLATE else 2):
        suffix = "" if n == 1 else f"-{n}"
        outputs = {stem: render(template, out_dir, item, stem, ext, model, suffix) for stem in stems}
        for path in outputs.values():
            if path.resolve() in inputs:
                raise UsageError(
                    f"output {path} would overwrite the input {path.resolve()}; choose another -o or --filename"
                )
        taken = [p for p in outputs.values() if p.resolve() in owner]
        if not taken:
            return outputs
    raise UsageError(
        f"{item.path} and {owner[taken[0].resolve()]} would both write {taken[0]}; add {{name}} or {{dir}} to "
        "--filename (e.g. '{dir}/{name}/{stem}.{ext}')"
    )
