"""Training and ONNX export (needs the ``train`` extra: torch, onnx); never imports the separation pipeline."""

from __future__ import annotations

from vocalsplit.errors import TrainingError


def require_torch() -> None:
    """Raise a clear error when torch is missing (it is only in the ``train`` extra)."""
    try:
        import torch  # noqa: F401
    except ImportError as err:
        raise TrainingError("training needs PyTorch: pip install 'vocalsplit[train]' (pins torch==2.13.0)") from err
