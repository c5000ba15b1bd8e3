"""BSS Eval v3 (``bss_eval_sources``) and the MIR-1K summary figures.

Two backends compute the same figures: ``mir_eval`` (the reference, ~0.4 s per
8-s clip) and ``fast`` (fast_bss_eval on torch tensors with 10 conjugate-gradient
iterations: its exact solver can hang on real clips with torch 2.13 CPU). A test
checks that they agree on a real clip.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from vocalsplit.choices import Backend


def bss_eval(
    reference: np.ndarray, estimate: np.ndarray, backend: Backend = Backend.FAST
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SDR, SIR, SAR per source (dB) for ``(sources, samples)`` arrays, no permutation."""
    reference = np.asarray(reference, np.float64)
    estimate = np.asarray(estimate, np.float64)
    if backend == Backend.MIR_EVAL:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import mir_eval.separation

            sdr, sir, sar, _ = mir_eval.separation.bss_eval_sources(reference, estimate, compute_permutation=False)
        return sdr, sir, sar
    import fast_bss_eval
    import torch

    sdr, sir, sar = fast_bss_eval.bss_eval_sources(
        torch.from_numpy(reference), torch.from_numpy(estimate), compute_permutation=False, use_cg_iter=10
    )
    return sdr.numpy(), sir.numpy(), sar.numpy()


def weighted_means(rows: Sequence[dict[str, float]], keys: Sequence[str], weight: str = "samples") -> dict[str, float]:
    """Means of ``keys`` over rows weighted by ``weight`` (GNSDR etc. weight by clip length).

    Non-finite values (BSS Eval gives +inf SIR for a perfectly clean estimate) are left
    out of that key's mean.
    """
    out = {}
    for k in keys:
        w = np.array([r[weight] for r in rows], np.float64)
        v = np.array([r[k] for r in rows], np.float64)
        ok = np.isfinite(v) & (w > 0)
        out[k] = float(np.sum(w[ok] * v[ok]) / np.sum(w[ok])) if ok.any() else float("nan")
    return out
