"""A first-in first-out queue of blocks along their second axis, joined only when taken.

The streams hold samples (``(channels, n)``) and spectral frames (``(channels, k, bins)``)
until the other stems or the masks catch up. Joining every new block onto what waits
copies the whole backlog on each push; this queue keeps the blocks as they came and
copies each sample once, when it is taken.
"""

from __future__ import annotations

from collections import deque

import numpy as np


class BlockFifo:
    """Blocks ``(rows, n, ...)`` queued along axis 1; :meth:`take` returns the first ``n`` joined."""

    def __init__(self, empty: np.ndarray) -> None:
        """``empty``: a block with no samples (``shape[1] == 0``), the shape and dtype of what comes."""
        self._empty = empty
        self._blocks: deque[np.ndarray] = deque()
        self.size = 0

    def append(self, block: np.ndarray) -> None:
        if block.shape[1]:
            self._blocks.append(block)
            self.size += block.shape[1]

    def take(self, n: int) -> np.ndarray:
        """The first ``n`` samples (at most :attr:`size`), removed from the queue."""
        if n > self.size:
            raise ValueError(f"{n} samples asked of a queue holding {self.size}")
        parts = []
        while n > 0:
            block = self._blocks[0]
            if block.shape[1] <= n:
                parts.append(self._blocks.popleft())
            else:
                parts.append(block[:, :n])
                self._blocks[0] = block[:, n:]
            n -= parts[-1].shape[1]
            self.size -= parts[-1].shape[1]
        if not parts:
            return self._empty
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
