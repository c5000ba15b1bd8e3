"""The command line: the only code that parses arguments, prints, draws progress or exits.

One module per command on shared option types (``common``). Heavy modules
(onnxruntime, torch) are imported inside the commands so ``vocalsplit --help`` stays fast.
"""

from __future__ import annotations

import os
import sys

from vocalsplit.cli import doctor, evaluate, group_stems, models, separate, train
from vocalsplit.cli.app import COMMANDS, app, dash_named_files, route
from vocalsplit.cli.common import USAGE, say_error

__all__ = ["COMMANDS", "app", "main", "route"]
_COMMAND_MODULES = (separate, models, doctor, train, evaluate, group_stems)


def main() -> None:
    """Console-script entry point."""
    _own_stderr()
    args = sys.argv[1:]
    for name in dash_named_files(args):
        say_error(
            f"{name!r} is a file whose name starts with '-': write ./{name}, or give the options first, then --, then the file"
        )
        sys.exit(USAGE)
    app(args=route(args), prog_name="vocalsplit")


def _own_stderr() -> None:
    """Point Python's stderr (every line, bar and traceback the CLI writes) at a copy of file
    descriptor 2: the reader silences descriptor 2 for a moment while a file is opened, against
    the notes native decoders write there, and with files opened on other threads meanwhile a
    line of the CLI's own must not vanish with them."""
    try:
        copy = os.dup(sys.stderr.fileno())
    except (AttributeError, OSError, ValueError):
        return  # no real descriptor 2 (embedded, redirected to an object): nothing to guard
    sys.stderr.flush()
    sys.stderr = os.fdopen(copy, "w", encoding=sys.stderr.encoding, errors="backslashreplace", buffering=1)
