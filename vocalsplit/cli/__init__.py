"""The command line: the only code that parses arguments, prints, draws progress or exits.

One module per command on shared option types (``common``). Heavy modules
(onnxruntime, torch) are imported inside the commands so ``vocalsplit --help`` stays fast.
"""

from __future__ import annotations

import sys

from vocalsplit.cli import doctor, evaluate, models, separate, train
from vocalsplit.cli.app import COMMANDS, app, route

__all__ = ["COMMANDS", "app", "main", "route"]
_COMMAND_MODULES = (separate, models, doctor, train, evaluate)


def main() -> None:
    """Console-script entry point."""
    app(args=route(sys.argv[1:]), prog_name="vocalsplit")
