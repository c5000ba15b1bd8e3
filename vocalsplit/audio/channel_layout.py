"""How a stereo model sees a song: both channels' bins side by side in one frame.

A model whose manifest says ``"channels": 2`` takes frames of ``2 × bins`` values, the
first channel's bins then the second's, and returns masks of the same width: each
channel gets its own masks, computed with both channels in view. Training and
serving use these two functions, so the layout is defined once.
"""

from __future__ import annotations

import numpy as np


def side_by_side(frames: np.ndarray, channels: int) -> np.ndarray:
    """``(groups × channels, k, F)`` rows, each run of ``channels`` rows one song → ``(groups, k, channels × F)``."""
    rows, k, f = frames.shape
    if rows % channels:
        raise ValueError(f"{rows} rows do not form groups of {channels} channels")
    return (
        frames.reshape(rows // channels, channels, k, f)
        .transpose(0, 2, 1, 3)
        .reshape(rows // channels, k, channels * f)
    )


def split_channels(masks: np.ndarray, channels: int) -> np.ndarray:
    """``(groups, S, k, channels × F)`` → ``(groups × channels, S, k, F)``, the inverse of :func:`side_by_side`."""
    groups, s, k, width = masks.shape
    f = width // channels
    return masks.reshape(groups, s, k, channels, f).transpose(0, 3, 1, 2, 4).reshape(groups * channels, s, k, f)
