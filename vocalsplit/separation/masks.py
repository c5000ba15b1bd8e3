"""Soft and binary time-frequency masks from a model's raw output."""

from __future__ import annotations

import numpy as np

from vocalsplit.choices import Mask


def source_masks(raw: np.ndarray, kind: str, mode: Mask) -> np.ndarray:
    """Per-source masks ``(batch, sources, frames, bins)`` that sum to one in every bin.

    ``raw`` is the model output: ``(batch, sources, frames, bins)`` soft masks for
    ``kind='soft'``, or ``(batch, 1, frames, bins)`` voice probabilities for
    ``kind='probability'`` (the second source gets the complement). ``mode='binary'``
    gives each bin wholly to the most likely source.
    """
    raw = np.clip(raw, 0.0, 1.0)
    if kind == "probability":
        p = raw[:, 0]
        if mode == Mask.BINARY:
            p = (p > 0.5).astype(np.float32)
        return np.stack([p, 1.0 - p], axis=1).astype(np.float32)
    if mode == Mask.BINARY:
        winner = np.argmax(raw, axis=1)
        return (np.arange(raw.shape[1])[None, :, None, None] == winner[:, None]).astype(np.float32)
    # a model's masks should already sum to one; renormalise, and split evenly where all are 0
    total = raw.sum(axis=1, keepdims=True)
    masks = (raw / np.maximum(total, 1e-12)).astype(np.float32, copy=False)
    silent = total[:, 0] <= 1e-12  # (batch, frames, bins)
    if silent.any():
        masks.transpose(0, 2, 3, 1)[silent] = 1.0 / raw.shape[1]
    return masks
