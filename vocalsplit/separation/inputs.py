"""Expand the command line's inputs (files, folders, glob patterns) into audio files."""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

from vocalsplit.audio.folders import files_below
from vocalsplit.defaults import AUDIO_EXTENSIONS


@dataclass(frozen=True)
class InputFile:
    path: Path
    relative_dir: str
    """Folder of the file below the folder it was found in ('' for direct files)."""


@dataclass(frozen=True)
class InputProblem:
    spec: str
    message: str


def _is_hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _is_within(path: Path, folder: Path | None) -> bool:
    if folder is None:
        return False
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def collect_inputs(specs: list[str], exclude: Path | None = None) -> tuple[list[InputFile], list[InputProblem]]:
    """Files to process (each once, in command-line order) and one problem per bad spec.

    Folders are searched recursively, through symlinked sub-folders too, for known
    audio extensions, skipping hidden entries and anything under ``exclude`` (the
    output folder).
    """
    found: list[InputFile] = []
    problems: list[InputProblem] = []
    seen: set[Path] = set()

    def add(item: InputFile) -> None:
        key = item.path.resolve()
        if key not in seen:
            seen.add(key)
            found.append(item)

    for spec in specs:
        path = Path(spec).expanduser()
        if path.is_dir():
            files = [
                p
                for p in files_below(path)
                if p.is_file()
                and p.suffix.lower() in AUDIO_EXTENSIONS
                and not _is_hidden(p, path)
                and not _is_within(p, exclude)
            ]
            if not files:
                problems.append(
                    InputProblem(
                        spec, f"{spec}: folder holds no audio files ({', '.join(sorted(AUDIO_EXTENSIONS)[:6])}, ...)"
                    )
                )
            for p in files:
                rel = p.parent.relative_to(path).as_posix()
                add(InputFile(p, "" if rel == "." else rel))
        elif path.exists():
            add(InputFile(path, ""))
        elif glob.has_magic(spec):
            matches = sorted(Path(m) for m in glob.glob(spec, recursive=True))
            files = [m for m in matches if m.is_file() and m.suffix.lower() in AUDIO_EXTENSIONS]
            if not files:
                problems.append(InputProblem(spec, f"{spec}: pattern matches no audio files"))
            for p in files:
                add(InputFile(p, ""))
        else:
            problems.append(InputProblem(spec, f"{spec}: no such file or folder"))
    return found, problems
