"""A narrow-band DRNN grown to a wider band, so a 16 kHz model can start a full-band one.

A shipped 16 kHz DRNN (STFT 1024/512: bins 15.625 Hz apart, frames 32 ms apart) knows
the voice below 8 kHz well. A network at 48 kHz with an STFT of 3072/1536 has bins at
exactly the same frequencies and frames at exactly the same times, plus 1024 bins
from 8 to 24 kHz. Its weights are the old ones where the bins coincide: the first
layer's input weights of every context frame go to the same bins and the new bins
start with zero weights, so the recurrent layers at first see what the old network
saw. Each new output bin starts as the mean of the old output rows for 5–7.5 kHz
(per source), so the high band at first gets each source's share of the top of the
old band, as ``--high-band share`` does, and training learns from there. The input
normalisation is this run's, measured on its own training data: the wider STFT frame
holds more energy per bin, which the per-bin statistics absorb.

Why not interpolate a 16 kHz model onto another grid (e.g. 44.1 kHz, 2048/512)? Its
bins and frame times would not coincide, so no weight would mean what it meant.
"""

from __future__ import annotations

import torch

from vocalsplit.errors import TrainingError

SHARE_BAND = (0.625, 0.9375)
"""Old bins whose output rows seed every new bin: 5–7.5 kHz of a model with an 8 kHz band."""


def check_aligned(old: tuple[int, int, int], new: tuple[int, int, int], source: str) -> None:
    """Raise unless the (rate, n_fft, hop) grids ``old`` and ``new`` put bins and frames at the same places
    and ``new`` reaches higher."""
    (r0, n0, h0), (r1, n1, h1) = old, new
    if r0 * n1 != r1 * n0 or h0 * r1 != h1 * r0 or r1 <= r0:
        spacing, frame = r0 / n0, 1000 * h0 / r0
        hint = f"--sample-rate {3 * r0} --n-fft {3 * n0} --hop {3 * h0}" if 3 * r0 <= 96000 else "a multiple of them"
        raise TrainingError(
            f"--init-from {source}: its bins ({spacing:g} Hz apart) and frames ({frame:g} ms apart, {r0} Hz) "
            f"do not line up with this run's ({r1 / n1:g} Hz, {1000 * h1 / r1:g} ms, {r1} Hz) in a wider band: "
            f"use e.g. {hint}"
        )


def widen_band(
    state: dict[str, torch.Tensor], bins: int, feat_mean: torch.Tensor, feat_std: torch.Tensor, first_layer: str
) -> dict[str, torch.Tensor]:
    """``state`` (a DRNN's weights at fewer bins) made to fit ``bins``: see the module docstring.

    ``feat_mean``/``feat_std`` are this run's normalisation; ``first_layer`` names the input weights."""
    old = int(state["feat_mean"].shape[0])
    weight = state[first_layer]
    context = weight.shape[1] // old
    wide = torch.zeros(weight.shape[0], bins * context, dtype=weight.dtype)
    for f in range(context):
        wide[:, f * bins : f * bins + old] = weight[:, f * old : (f + 1) * old]
    lo, hi = (round(x * (old - 1)) for x in SHARE_BAND)
    head_w = state["head.weight"].reshape(2, old, -1)
    head_b = state["head.bias"].reshape(2, old)
    new_w = head_w[:, lo:hi].mean(dim=1, keepdim=True).expand(2, bins - old, head_w.shape[2])
    new_b = head_b[:, lo:hi].mean(dim=1, keepdim=True).expand(2, bins - old)
    return {
        **state,
        first_layer: wide,
        "head.weight": torch.cat([head_w, new_w], dim=1).reshape(2 * bins, -1),
        "head.bias": torch.cat([head_b, new_b], dim=1).reshape(2 * bins),
        "feat_mean": feat_mean.clone(),
        "feat_std": feat_std.clone(),
    }
