"""Weighted averaging of several streams' stems, in step with the input (a blend of models)."""

from __future__ import annotations

import numpy as np

from vocalsplit.separation.shifts import StemStream


class BlendStream:
    """Push ``(channels, n)`` blocks to every member stream; get their stems averaged with ``weights``.

    Members hand back different amounts per call (their own chunks, rates and delays), but each
    returns, over the whole stream, exactly as many samples as were pushed: what one has given
    and another not yet waits in a queue, bounded by the members' latencies, never the song.
    With weights that sum to one, blended stems that each summed to the input still do.
    """

    def __init__(self, members: list[StemStream], weights: list[float], channels: int) -> None:
        if not members or len(members) != len(weights):
            raise ValueError("one weight per member stream")
        self.stems = list(members[0].stems)
        if any(list(m.stems) != self.stems for m in members):
            raise ValueError("member streams must give the same stems")
        self._members, self._weights = members, weights
        self._queue = [{s: np.zeros((channels, 0), np.float32) for s in self.stems} for _ in members]

    def push(self, block: np.ndarray) -> dict[str, np.ndarray]:
        for i, member in enumerate(self._members):
            self._add(i, member.push(block))
        return self._take()

    def finish(self) -> dict[str, np.ndarray]:
        for i, member in enumerate(self._members):
            self._add(i, member.finish())
        return self._take()

    def _add(self, i: int, parts: dict[str, np.ndarray]) -> None:
        for s, y in parts.items():
            self._queue[i][s] = np.concatenate([self._queue[i][s], y], axis=1)

    def _take(self) -> dict[str, np.ndarray]:
        n = min(q[self.stems[0]].shape[1] for q in self._queue)
        out = {}
        for s in self.stems:
            total = self._weights[0] * self._queue[0][s][:, :n]
            for w, q in zip(self._weights[1:], self._queue[1:], strict=True):
                total += w * q[s][:, :n]
            out[s] = total.astype(np.float32, copy=False)
            for q in self._queue:
                q[s] = q[s][:, n:]
        return out
