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
    from vocalsplit.catalog.blend import Blend

    soft = _soft_figures(m.quality.get("mir1k_test"))
    shifted = _shifted_figures(m.quality)
    if isinstance(m, Blend):
        size: int | None = m.size_bytes
        blend = {"members": [{"model": x.manifest.name, "weight": x.weight, "passes": x.shifts} for x in m.members]}
    else:
        size, blend = (m.onnx_path.stat().st_size if m.onnx_path.exists() else None), {}
    return {
        "name": m.name,
        "default": m.default,
        "architecture": m.architecture,
        "sample_rate": m.sample_rate,
        "channels": m.channels,
        "sources": list(m.sources),
        "passes": list(m.shifts) if isinstance(m, Blend) else m.shifts,
        **blend,
        "size_mb": round(size / 1e6, 2) if size is not None else None,
        "gnsdr_db": soft.get("GNSDR"),
        "gsir_db": soft.get("GSIR"),
        "gsar_db": soft.get("GSAR"),
        "shifts": shifted[0] if shifted else None,
        "gnsdr_db_shifts": shifted[1] if shifted else None,
        "quality": _quality(m.quality, m.shifts),
        "path": str(m.path if isinstance(m, Blend) else m.onnx_path),
        "description": m.description,
    }


def _print_table(rows: list[dict[str, Any]]) -> None:
    """Plain aligned text: names are never cut (they are what ``--model`` takes), in any width or pipe."""
    if not rows:
        out.print("no models installed")
        return
    header = ("NAME", "ARCH", "RATE", "MB", "PASSES", "QUALITY (vocalsplit eval)")
    lines = [
        (
            r["name"] + (" *" if r["default"] else ""),
            r["architecture"] + (" stereo" if r["channels"] == 2 else ""),
            f"{r['sample_rate'] / 1000:g} kHz",
            f"{r['size_mb']:.1f}" if r["size_mb"] is not None else "-",
            "+".join(str(p) for p in r["passes"]) if isinstance(r["passes"], list) else str(r["passes"]),
            r["quality"] or "-",
        )
        for r in rows
    ]
    widths = [max(len(str(line[i])) for line in [header, *lines]) for i in range(5)]
    for line in [header, *lines]:
        text = "  ".join(str(cell).ljust(w) for cell, w in zip(line[:5], widths, strict=True)) + "  " + line[5]
        out.print(text, soft_wrap=True, markup=False)
    out.print("* default model; PASSES: the --shifts it runs when none is given", soft_wrap=True)


Passes = tuple[int, ...]
"""Passes a figure was measured with: one number per network (one for a model, one per blend member)."""


def _quality(quality: dict[str, Any], passes: int | Passes = defaults.SHIFTS) -> str | None:
    """The headline figure of each recorded evaluation, with the number of passes it was measured with
    (the model's own number of passes preferred)."""
    own = passes if isinstance(passes, tuple) else (passes,)
    picked: dict[str, tuple[Passes, dict[str, Any]]] = {}
    for key, entry in quality.items():
        soft = _soft_figures(entry)
        if not soft or not isinstance(soft.get("GNSDR"), (int, float)):
            continue
        base, _, n = key.partition("_shifts")
        shifts = _recorded_passes(n, entry)
        best = picked.get(base)
        if best is None or _preference(shifts, own) > _preference(best[0], own):
            picked[base] = (shifts, soft)
    parts = []
    for base, (shifts, soft) in picked.items():
        name = "MIR-1K GNSDR" if base == "mir1k_test" else f"{base}: vocals NSDR"
        text = f"{name} {soft['GNSDR']:.2f} dB"
        if isinstance(soft.get("vocals_SDR_median"), (int, float)):
            text += f", SDR {soft['vocals_SDR_median']:.2f} dB"
        others = [(k.split("_SDR_median")[0], v) for k, v in soft.items() if k.endswith("_SDR_median")]
        others = [(k, v) for k, v in others if k not in ("vocals", "acc") and isinstance(v, (int, float))]
        if others:
            text += ", " + ", ".join(f"{k} {v:.2f}" for k, v in others) + " dB"
        parts.append(f"{text} ({'+'.join(map(str, shifts))} pass{'es' if sum(shifts) > 1 else ''})")
    return "; ".join(parts) or None


def _recorded_passes(suffix: str, entry: Any) -> Passes:
    """The passes of one record: from its key's ``_shiftsN`` (or ``_shifts1+2``), else its ``shifts``."""
    if suffix and all(p.isdigit() for p in suffix.split("+")):
        return tuple(int(p) for p in suffix.split("+"))
    value = entry.get("shifts", 1) if isinstance(entry, dict) else 1
    if isinstance(value, list) and value and all(isinstance(v, int) for v in value):
        return tuple(value)
    return (int(value),) if isinstance(value, int) else (1,)


def _preference(shifts: Passes, passes: Passes) -> tuple[bool, int]:
    """The model's own number of passes first, then the most passes."""
    return (shifts == passes, sum(shifts))


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
