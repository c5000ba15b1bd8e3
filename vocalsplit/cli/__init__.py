"""The command line: the only code that parses arguments, prints, draws progress or exits.

One module per command on shared option types (``common``). Heavy modules
(onnxruntime, torch) are imported inside the commands so ``vocalsplit --help`` stays fast.
"""

from __future__ import annotations

import sys

from vocalsplit.cli import doctor, evaluate, group_stems, models, separate, train
from vocalsplit.cli.app import COMMANDS, app, dash_named_files, route
from vocalsplit.cli.common import USAGE, say_error

__all__ = ["COMMANDS", "app", "main", "route"]
_COMMAND_MODULES = (separate, models, doctor, train, evaluate, group_stems)


def main() -> None:
    """Console-script entry point."""
    args = sys.argv[1:]
    for name in dash_named_files(args):
        say_error(
            f"{name!r} is a file whose name starts with '-': write ./{name}, or give the options first, then --, then the file"
        )
        sys.exit(USAGE)
    app(args=route(args), prog_name="vocalsplit")
