"""TensorBoard logs of a training run, written when the ``tensorboard`` package is installed."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class TensorBoard:
    """Each checkpoint's losses and validation SDR as scalars under ``run_dir/tensorboard``.

    Without ``tensorboard`` installed this does nothing: ``log.jsonl`` and ``loss.png`` hold
    the same figures."""

    def __init__(self, run_dir: Path) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            self._writer: Any = None
            return
        self._writer = SummaryWriter(str(run_dir / "tensorboard"))

    @property
    def active(self) -> bool:
        return self._writer is not None

    def add(self, row: dict[str, Any]) -> None:
        if self._writer is None:
            return
        step = row["step"]
        self._writer.add_scalar("loss/train", row["loss"], step)
        self._writer.add_scalar("loss/validation", row["val_loss"], step)
        for source, sdr in row.get("val_sdr", {}).items():
            self._writer.add_scalar(f"validation_sdr/{source}", sdr, step)
        self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
