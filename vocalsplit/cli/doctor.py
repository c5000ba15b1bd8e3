"""``vocalsplit doctor``: versions, usable onnxruntime providers, model checks."""

from __future__ import annotations

import typer

from vocalsplit.cli.app import app
from vocalsplit.cli.common import ENVIRONMENT, ModelsDirOpt, fail, out, say_error
from vocalsplit.errors import VocalsplitError


@app.command()
def doctor(models_dir: ModelsDirOpt = None) -> None:
    """Check the installation: versions, usable onnxruntime providers, model files."""
    from vocalsplit.runtime.diagnostics import diagnose

    try:
        report = diagnose(models_dir)
    except VocalsplitError as error:
        raise fail(error) from None
    for key, value in report.facts:
        out.print(f"{key:>32}: {value}", highlight=False, soft_wrap=True)
    for p in report.problems:
        say_error(p, label="problem")
    if report.problems:
        raise typer.Exit(ENVIRONMENT)
    out.print("all checks passed")
