"""On-the-fly mixing: any voice over any accompaniment, drawn fresh for every example.

The pools hold waveforms (mono, at the model's rate): every channel of every voice
(stems tracks, MIR-1K, solo-singing folders) and every channel of every accompaniment
(stems tracks, MIR-1K, instrumental music folders). An example is either a real song's
own aligned excerpt (``Mixing.pairs``) or a random voice excerpt over a random music
excerpt at a random vocals-to-accompaniment ratio; some examples have no voice at
all (``Mixing.silence``), so the model learns to return nothing. Each example's
loss ignores the bins above its voice's band (a 16 kHz voice holds nothing above
8 kHz: it must not teach a full-band model that voices have no air). Seeded:
the same seed draws the same batches.

Tracks are drawn in proportion to their length, so every second of audio is as
likely as any other: a five-minute song weighs as much as thirty ten-second clips.
(Drawing files uniformly let the 1000 MIR-1K clips crowd out the few real songs:
with four songs beside them, under 1 % of the pairs came from the songs.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vocalsplit.audio.stft import StftParams, stft
from vocalsplit.errors import DatasetError
from vocalsplit.training.batches import TrainingBatch
from vocalsplit.training.config import Mixing
from vocalsplit.training.datasets import Clip

SILENT_RMS = 1e-4
"""An excerpt quieter than this (about −80 dBFS) counts as silent: it sets no ratio."""


@dataclass
class Track:
    """One channel of one source: ``audio`` ``(n,)`` float32; ``band_hz`` its real band (None: full)."""

    audio: np.ndarray
    band_hz: float | None = None


@dataclass
class Pools:
    voices: list[Track]
    music: list[Track]
    pairs: list[tuple[Track, Track]]
    """Aligned (voice, accompaniment) channels of real songs."""

    ends: dict[str, np.ndarray] = field(default_factory=dict)
    """Cumulative track lengths per role (``voices``, ``music``, ``pairs``), so tracks are drawn in
    proportion to their length; set once by :func:`build_pools`."""


def build_pools(clips: list[Clip], min_samples: int) -> Pools:
    """Every channel of every clip, by role; channels shorter than ``min_samples`` are left out."""
    pools = Pools([], [], [])
    for clip in clips:
        voice = clip.sources.get("vocals")
        rest = [x for name, x in clip.sources.items() if name != "vocals"]
        music = np.stack(rest).sum(axis=0).astype(np.float32) if rest else None
        channels = max(x.shape[0] for x in clip.sources.values())
        for c in range(channels):
            v = None if voice is None else Track(voice[min(c, voice.shape[0] - 1)], clip.voice_band_hz)
            a = None if music is None else Track(music[min(c, music.shape[0] - 1)])
            if v is not None and v.audio.size >= min_samples:
                pools.voices.append(v)
            if a is not None and a.audio.size >= min_samples:
                pools.music.append(a)
            if v is not None and a is not None and min(v.audio.size, a.audio.size) >= min_samples:
                pools.pairs.append((v, a))
    pools.ends = {
        "voices": np.cumsum([v.audio.size for v in pools.voices], dtype=np.int64),
        "music": np.cumsum([m.audio.size for m in pools.music], dtype=np.int64),
        "pairs": np.cumsum([min(v.audio.size, a.audio.size) for v, a in pools.pairs], dtype=np.int64),
    }
    if not pools.voices or not pools.music:
        raise DatasetError(
            f"mixing needs voices and music: found {len(pools.voices)} voice and {len(pools.music)} music "
            f"channels of at least {min_samples} samples"
        )
    return pools


def _draw(ends: np.ndarray, rng: np.random.Generator) -> int:
    """An index drawn with probability proportional to each track's length (``ends``: cumulative lengths)."""
    return int(np.searchsorted(ends, rng.integers(0, int(ends[-1])), side="right"))


def _excerpt(track: Track, n: int, rng: np.random.Generator) -> np.ndarray:
    start = int(rng.integers(0, track.audio.size - n + 1))
    return track.audio[start : start + n]


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def mix_example(
    pools: Pools, rng: np.random.Generator, n: int, mixing: Mixing
) -> tuple[np.ndarray, np.ndarray, float | None]:
    """(voice, accompaniment, voice band) excerpts of ``n`` samples for one example."""
    if pools.pairs and rng.random() < mixing.pairs:
        v_track, a_track = pools.pairs[_draw(pools.ends["pairs"], rng)]
        start = int(rng.integers(0, min(v_track.audio.size, a_track.audio.size) - n + 1))
        voice, music = v_track.audio[start : start + n], a_track.audio[start : start + n]
        band = v_track.band_hz
    else:
        v_track = pools.voices[_draw(pools.ends["voices"], rng)]
        voice, band = _excerpt(v_track, n, rng), v_track.band_hz
        music = _excerpt(pools.music[_draw(pools.ends["music"], rng)], n, rng)
        v_rms, m_rms = _rms(voice), _rms(music)
        if v_rms > SILENT_RMS and m_rms > SILENT_RMS:
            ratio_db = rng.uniform(*mixing.ratio_db)
            voice = voice * np.float32(m_rms / v_rms * 10 ** (ratio_db / 20))
    if rng.random() < mixing.silence:
        voice, band = np.zeros_like(voice), None
    gain = np.float32(10 ** (rng.uniform(-mixing.gain_db, mixing.gain_db) / 20))
    return (voice * gain).astype(np.float32), (music * gain).astype(np.float32), band


def mix_batch(
    pools: Pools,
    rng: np.random.Generator,
    batch: int,
    frames: int,
    left: int,
    right: int,
    params: StftParams,
    rate: int,
    mixing: Mixing,
) -> TrainingBatch:
    """A batch of freshly mixed examples: ``frames + left + right`` STFT frames each, centre frames scored."""
    span = frames + left + right
    n = (span - 1) * params.hop + params.n_fft  # samples whose STFT has at least ``span`` frames
    examples = [mix_example(pools, rng, n, mixing) for _ in range(batch)]
    voices = np.stack([e[0] for e in examples])
    music = np.stack([e[1] for e in examples])
    src = np.stack([stft(voices, params), stft(music, params)], axis=1)[..., :span]  # (B, 2, F, span)
    src = src.transpose(0, 1, 3, 2).astype(np.complex64)  # (B, 2, span, F)
    freqs = np.arange(params.bins) * rate / params.n_fft
    weights = np.ones((batch, 1, params.bins), np.float32)
    for i, (_, _, band) in enumerate(examples):
        if band is not None:
            weights[i, 0, freqs > band] = 0.0
    end = span - right
    return TrainingBatch(
        mixture=np.abs(src.sum(axis=1)).astype(np.float32),
        targets=np.abs(src[:, :, left:end]).astype(np.float32),
        sources_c=src,
        weights=weights,
    )
