"""``vocalsplit models``: installed models with their measured quality."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from vocalsplit import defaults
from vocalsplit.cli.app import app
from vocalsplit.cli.common import ENVIRONMENT, ModelsDirOpt, fail, flag, out, say_error
from vocalsplit.errors import VocalsplitError


@app.command()
def models(
    models_dir: ModelsDirOpt = None,
    as_json: Annotated[bool, flag("--json", help="Print the list as JSON.")] = False,
) -> None:
    """List installed models with their rate, size and measured quality."""
    from vocalsplit.catalog.registry import list_manifests

    try:
        manifests, problems = list_manifests(models_dir)
    except VocalsplitError as error:
        raise fail(error) from None
    rows = [_row(m) for m in manifests]
    if as_json:
        out.print_json(json.dumps({"models": rows, "problems": problems}))
    else:
        _print_table(rows)
    for p in problems:
        say_error(p)
    if problems:
        raise typer.Exit(ENVIRONMENT)


def _row(m: Any) -> dict[str, Any]:
    soft = _soft_figures(m.quality.get("mir1k_test"))
    shifted = _shifted_figures(m.quality)
    return {
        "name": m.name,
        "default": m.default,
        "architecture": m.architecture,
        "sample_rate": m.sample_rate,
        "sources": list(m.sources),
        "size_mb": round(m.onnx_path.stat().st_size / 1e6, 2) if m.onnx_path.exists() else None,
        "gnsdr_db": soft.get("GNSDR"),
        "gsir_db": soft.get("GSIR"),
        "gsar_db": soft.get("GSAR"),
        "shifts": shifted[0] if shifted else None,
        "gnsdr_db_shifts": shifted[1] if shifted else None,
        "path": str(m.onnx_path),
        "description": m.description,
    }


def _print_table(rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    if not rows:
        out.print("no models installed")
        return
    table = Table(title="installed models")
    for column in ("name", "arch", "rate", "sources", "MB", "GNSDR", "GSIR", "GSAR", "GNSDR --shifts N"):
        table.add_column(column)

    def db(v: Any) -> str:
        return f"{v:.2f}" if isinstance(v, (int, float)) else "-"

    for r in rows:
        table.add_row(
            r["name"] + (" (default)" if r["default"] else ""),
            r["architecture"],
            f"{r['sample_rate']} Hz",
            ", ".join(r["sources"]),
            f"{r['size_mb']}",
            db(r["gnsdr_db"]),
            db(r["gsir_db"]),
            db(r["gsar_db"]),
            f"{db(r['gnsdr_db_shifts'])} (N={r['shifts']})" if r["shifts"] else "-",
        )
    out.print(table)
    out.print(
        "GNSDR/GSIR/GSAR: dB on the 825 MIR-1K test clips (soft mask), measured by `vocalsplit eval`; "
        f"the last column with N passes averaged (`--shifts N`; default {defaults.SHIFTS})."
    )


def _soft_figures(entry: Any) -> dict[str, Any]:
    """The soft-mask figures of one recorded MIR-1K evaluation (empty if absent or malformed)."""
    soft = entry.get("soft") if isinstance(entry, dict) else None
    return soft if isinstance(soft, dict) else {}


def _shifted_figures(quality: dict[str, Any]) -> tuple[int, float] | None:
    """(N, soft GNSDR) of a MIR-1K evaluation with N > 1 shifts: the default N if recorded, else the largest."""
    found = []
    prefix = "mir1k_test_shifts"
    for key, entry in quality.items():
        gnsdr = _soft_figures(entry).get("GNSDR")
        n = key[len(prefix) :]
        if key.startswith(prefix) and n.isdigit() and isinstance(gnsdr, (int, float)):
            found.append((int(n), float(gnsdr)))
    default = [f for f in found if f[0] == defaults.SHIFTS]
    return default[0] if default else max(found) if found else None
