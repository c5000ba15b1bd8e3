"""``vocalsplit group-stems``: four-source training folders from per-instrument multitracks."""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vocalsplit.cli.app import app
from vocalsplit.cli.common import VerboseOpt, fail, out
from vocalsplit.errors import UsageError, VocalsplitError

if TYPE_CHECKING:
    from vocalsplit.training.multitrack import SongReport

REPORT_NAME = "groups.json"


@app.command("group-stems")
def group_stems(
    songs: Annotated[list[Path], typer.Argument(help="One folder per song, holding one audio file per instrument.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for <song>/{vocals,drums,bass,other}.flac.")],
    rate: Annotated[int, typer.Option("--rate", help="Sample rate of the written stems.")] = 44100,
    verbose: VerboseOpt = False,
) -> None:
    """Group each song's instrument stems into vocals, drums, bass and other (training data for --sources).

    Stems are grouped by name (voices, drum parts, bass) and, for the rest, by
    spectrum (most of the power below 200 Hz: bass). The groups sum to the whole
    multitrack; groups.json records what went where."""
    from vocalsplit.training.multitrack import group_song, write_song

    try:
        _check(songs, output)
        output.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".group-stems-", dir=output) as partial:
            reports = []
            for song in songs:
                groups, report = group_song(song, rate)
                write_song(groups, Path(partial) / song.name, rate)
                reports.append(asdict(report))
                out.print(_summary(report), soft_wrap=True)
            for song in songs:  # only whole songs land in the output folder, and only when all succeeded
                (Path(partial) / song.name).rename(output / song.name)
        (output / REPORT_NAME).write_text(json.dumps(reports, indent=1) + "\n")
    except (VocalsplitError, OSError) as error:
        raise fail(error, verbose) from None
    out.print(f"wrote {len(songs)} songs to {output} (grouping in {output / REPORT_NAME})", soft_wrap=True)


def _summary(report: SongReport) -> str:
    counts = ", ".join(f"{g} {len(names)}" for g, names in report.groups.items())
    note = f"; scaled by {report.scale} to stay below clipping" if report.scale != 1.0 else ""
    low = f"; lower-quality copies of {len(report.low_copies)}" if report.low_copies else ""
    return f"{report.song}: {report.seconds:.0f} s, stems per group: {counts}{note}{low}"


def _check(songs: list[Path], output: Path) -> None:
    missing = [s for s in songs if not s.is_dir()]
    if missing:
        raise UsageError(f"{missing[0]}: not a folder")
    names = [s.name for s in songs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise UsageError(f"two song folders are both called {repeated[0]!r}: their stems would collide")
    for taken in [output / REPORT_NAME, *(output / n for n in names)]:
        if taken.exists():
            raise UsageError(f"{taken} exists: choose an empty output folder")
