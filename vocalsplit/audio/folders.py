"""Files below a folder, symlinked sub-folders included."""

from __future__ import annotations

import os
from pathlib import Path


def files_below(root: Path) -> list[Path]:
    """Every file below ``root``, sorted.

    Symlinked folders are followed (``Path.rglob`` before Python 3.13 skips them), and
    each real folder is visited once, so a link back to a parent cannot loop forever.
    """
    seen: set[str] = set()
    found: list[Path] = []
    for folder, subfolders, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            subfolders.clear()
            continue
        seen.add(real)
        found += [Path(folder) / name for name in files]
    return sorted(found)
