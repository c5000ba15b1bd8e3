"""A voice file's real band, measured from its spectrum.

Voices recorded on phones or passed through lossy codecs often stop well below half
their file's rate (SSVD's phone recordings end between 15 and 20 kHz at 44.1 kHz).
Above that edge the file holds no voice, so a full-band model must not learn from it
that voices have no air there: the mixer's loss ignores those bins, as it does above
a 16-kHz file's 8 kHz. The edge is where the long-term spectrum falls steeply and
stays down: the lowest 250-Hz band above ``MIN_EDGE_HZ`` whose 2 kHz below lie
(median) ``DROP_DB`` or more above every band from it up. A spectrum that decays
smoothly (a studio voice) has no such edge and keeps its whole band.

Only solo voices (``--dataset vocals``) are measured: there the band is the recording's
artefact. A real song's vocal stem is kept whole, because a low-passed voice there is
the production (two of the five EIF songs' voices stop at 9 and 11.5 kHz) and the song's
high band really is all accompaniment.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import welch

BAND_HZ = 250.0
MIN_EDGE_HZ = 4000.0
DROP_DB = 25.0
BELOW_HZ = 2000.0
SAME_EDGE = 0.9
"""An edge above this share of the file's own Nyquist band is that band's (resampling) edge."""


def long_term_levels(audio: np.ndarray, rate: int) -> np.ndarray:
    """Mean power per ``BAND_HZ`` band in dB (Welch's method), ``audio`` ``(channels, n)`` (channels averaged)."""
    n_fft = 1 << max(8, int(np.ceil(np.log2(rate / BAND_HZ * 4))))
    mono = np.asarray(audio, np.float64).mean(axis=0)
    if len(mono) < n_fft:
        return np.empty(0)
    freqs, power = welch(mono, fs=rate, nperseg=n_fft)
    index = np.minimum((freqs / BAND_HZ).astype(int), int(rate / 2 / BAND_HZ) - 1)
    sums = np.bincount(index, weights=power)
    counts = np.bincount(index)
    return np.asarray(10 * np.log10(sums / np.maximum(counts, 1) + 1e-20))


def measured_edge_hz(audio: np.ndarray, rate: int) -> float | None:
    """The frequency where the voice's spectrum ends (see the module), or None if it has no edge."""
    levels = long_term_levels(audio, rate)
    below = int(BELOW_HZ / BAND_HZ)
    first = max(int(MIN_EDGE_HZ / BAND_HZ), below)
    if len(levels) <= first:
        return None
    above_max = np.maximum.accumulate(levels[::-1])[::-1]
    for k in range(first, len(levels)):
        if np.median(levels[k - below : k]) - above_max[k] >= DROP_DB:
            return k * BAND_HZ
    return None


def voice_band_hz(audio: np.ndarray, rate: int, file_band_hz: float | None) -> float | None:
    """The voice's band at ``rate``: its file's band (None: the whole band), narrowed to a measured edge below it."""
    edge = measured_edge_hz(audio, rate)
    if edge is not None and edge < SAME_EDGE * (file_band_hz or rate / 2):
        return edge
    return file_band_hz
