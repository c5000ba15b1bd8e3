"""The Typer application the command modules attach to, and the ``vocalsplit FILE`` shortcut."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vocalsplit import __version__
from vocalsplit.cli.common import out

app = typer.Typer(
    name="vocalsplit",
    help=(
        "Split songs into vocals and accompaniment.\n\n"
        "  vocalsplit song.mp3 -o out/        (short for: vocalsplit separate song.mp3 -o out/)\n\n"
        "  vocalsplit music/ '*.flac' -o out/ (folders are searched recursively)"
    ),
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # plain help: readable in any terminal width and in pipes, and flags show no "<bool>" value
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

COMMANDS = ("separate", "models", "doctor", "train", "eval", "group-stems")


def _version_callback(value: bool) -> None:
    if value:
        out.print(f"vocalsplit {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Print the version and exit.", metavar=""
        ),
    ] = False,
) -> None:
    """Split songs into vocals and accompaniment."""


def route(args: list[str]) -> list[str]:
    """``vocalsplit FILE...`` means ``vocalsplit separate FILE...``."""
    if args and args[0] not in COMMANDS and args[0] not in ("-h", "--help", "--version"):
        return ["separate", *args]
    return args


def dash_named_files(args: list[str]) -> list[str]:
    """Arguments before any ``--`` that look like options but name existing files (``-song.wav``)."""
    before = args[: args.index("--")] if "--" in args else args
    return [a for a in before if a.startswith("-") and len(a) > 1 and Path(a).exists()]
