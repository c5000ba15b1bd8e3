"""Pictures of an evaluation: whole-track SDR of every track, per mask (people would rather look than read)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def track_chart(result: dict[str, Any], path: Path) -> Path | None:
    """Bars of vocals and accompaniment global SDR per track, one panel per mask, medians as lines.

    Needs matplotlib (in the ``train`` extra, which ``vocalsplit eval`` needs anyway); None without it."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    masks = [m for m, rows in result["tracks"].items() if rows]
    if not masks:
        return None
    fig, axes = plt.subplots(len(masks), 1, figsize=(8, 2.8 * len(masks)), squeeze=False)
    for ax, mask in zip(axes[:, 0], masks, strict=True):
        rows = result["tracks"][mask]
        names = [r["track"] for r in rows]
        x = range(len(rows))
        for offset, key, label in ((-0.2, "vocals_SDR", "vocals"), (0.2, "acc_SDR", "accompaniment")):
            values = [r[key] for r in rows]
            bars = ax.bar([i + offset for i in x], values, width=0.4, label=label)
            median = result["summary"][mask][f"{key}_median"]
            ax.axhline(median, color=bars.patches[0].get_facecolor(), linestyle="--", linewidth=1)
        ax.set_xticks(list(x), names, rotation=30 if len(names) > 6 else 0, ha="right" if len(names) > 6 else "center")
        ax.set_ylabel("global SDR (dB)")
        ax.set_title(f"{result['dataset']}, {mask} mask, {result['shifts']} pass(es): dashed = median")
        ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
