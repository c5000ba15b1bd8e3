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

from vocalsplit.audio.stft import StftParams, StreamingStft
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


MDX_DELTA = 1e-7
"""The MDX challenge's guard against empty references (keeps silence finite)."""


def global_sdr(reference: np.ndarray, estimate: np.ndarray) -> float:
    """SDR over a whole excerpt, all channels: ``10·log10(Σs² / Σ(s−ŝ)²)`` in dB (the MDX-challenge definition)."""
    s = np.asarray(reference, np.float64)
    err = s - np.asarray(estimate, np.float64)
    return float(10 * np.log10((MDX_DELTA + np.sum(s**2)) / (MDX_DELTA + np.sum(err**2))))


def band_energy(audio: np.ndarray, rate: int, low_hz: float, block: int = 1 << 16) -> float:
    """Energy of ``audio`` ``(channels, n)`` above ``low_hz``: squared Hann-windowed STFT magnitudes, streamed.

    The window keeps a loud low band from leaking into the high one; only ratios of
    two such energies are meaningful (the scale depends on the window)."""
    x = np.atleast_2d(np.asarray(audio, np.float32))
    params = StftParams(4096, 1024)
    first_bin = int(np.ceil(low_hz * params.n_fft / rate))
    stream = StreamingStft(params, x.shape[0])
    total = 0.0
    for start in range(0, x.shape[1], block):
        total += float(np.sum(np.abs(stream.push(x[:, start : start + block])[:, first_bin:]) ** 2))
    return total + float(np.sum(np.abs(stream.flush()[:, first_bin:]) ** 2))


def high_band_db(reference: np.ndarray, estimate: np.ndarray, rate: int, low_hz: float = 8000.0) -> float:
    """Energy above ``low_hz`` of the estimate relative to the reference, in dB.

    0 dB: the estimate keeps the reference's high band; far below 0: the band is lost
    (a 16 kHz model's vocals sit near −60 dB); ``nan`` if the reference has no such band."""
    ref, est = band_energy(reference, rate, low_hz), band_energy(estimate, rate, low_hz)
    if ref <= 0:
        return float("nan")
    return float(10 * np.log10(max(est, 1e-30) / ref))
