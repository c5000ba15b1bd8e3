"""Voice repitching: the training voices sung higher and lower, to stand in for other singers.

A voice played ``2 ** (semitones / 12)`` times faster moves its pitch and its
formants together, as a singer with a shorter (or longer) vocal tract would
sound. This is the speed-change form of pitch augmentation (no phase vocoder, so
no vocoder artefacts are learnt as "voice"); it widens the two MIR-1K training
singers towards the 17 unseen test singers. The music is left as it is.
"""

from __future__ import annotations

import numpy as np
import soxr

from vocalsplit.audio.resample import QUALITY
from vocalsplit.training.config import check_semitones
from vocalsplit.training.datasets import Clip


def repitch_voice(clip: Clip, semitones: float) -> Clip:
    """``clip`` with its voice (first source) repitched; every source is cut to the shorter length."""
    check_semitones((semitones,))
    factor = 2.0 ** (semitones / 12.0)
    names = list(clip.sources)
    # read the voice as if it had been recorded at rate × factor, and bring it back to rate
    voice = soxr.resample(clip.voice.T, clip.rate * factor, clip.rate, quality=QUALITY).T
    n = min(voice.shape[1], clip.voice.shape[1])
    sources = {names[0]: np.ascontiguousarray(voice[:, :n], dtype=np.float32)}
    sources.update({k: clip.sources[k][:, :n] for k in names[1:]})
    return Clip(f"{clip.name}@{semitones:+g}st", sources, clip.rate)
