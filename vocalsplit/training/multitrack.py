"""Four-source training stems (vocals, drums, bass, other) from a song's per-instrument multitrack.

A multitrack folder holds one file per instrument, named for it (``KICK``,
``VOX LEAD``, ``SY BASS``, ``MINILOGUE SYNTH``...; a ``<song>_Stem_`` prefix is
ignored). Each stem goes to a group by its name, in this order:

1. **vocals**: a name with ``VOX`` or ``VOCAL`` (lead and backing voices);
2. **drums**: a name with a drum word (kick, snare, hats, clap, tom, crash, beat,
   drums, percussion, tops, breaks, fills, ``K & SN``...), unless it also names a melodic part
   (``MELODY BREAK`` is not a drum break);
3. **bass**: a name with ``BASS``, or, for any other stem, most of its power below
   200 Hz (``BASS_POWER_SHARE``): synths named for the instrument that plays the bass
   line (``MINILOGUE SYNTH``) are found by what they hold, not guessed;
4. **other**: everything else.

A song without any bass stem gets a silent ``bass``: its mixture then really has no
bass line (the kick stays with the drums). Lower-quality copies of a stem
(``<name>_mobile``) are used only where the full one is missing, and the report
says so. Every stem is resampled with soxr to the output rate; the groups always
sum to the whole multitrack, and a song whose sum would clip is scaled as a whole
(the scale is reported, never applied silently).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from vocalsplit.errors import DatasetError, OutputError
from vocalsplit.training.datasets import resample_to, with_channels

GROUPS = ("vocals", "drums", "bass", "other")
BASS_POWER_SHARE = 0.8
"""A stem not named for voice or drums whose power lies at least this much below ``BASS_CUTOFF_HZ`` is bass."""
BASS_CUTOFF_HZ = 200.0
LOW_COPY_SUFFIX = "_mobile"
AUDIO_SUFFIXES = (".m4a", ".mp4", ".aac", ".mp3", ".ogg", ".opus", ".flac", ".wav", ".aif", ".aiff")
PEAK_LIMIT = 0.999

_VOCAL = re.compile(r"VOX|VOCAL|VOICE")  # also inside words: BGVOX
_DRUM = re.compile(
    r"\b(KICKS?|SNARES?|HH|HI ?HATS?|HATS?|CLAPS?|TOMS?|CRASH|RIDE|CYMBALS?|DRUMS?|BEATS?|BREAKBEAT|"
    r"PERC|PRC|PERCUSSION|TOPS|SN|SHAKER|RIM|BREAK|FILL)\b"
)
_MELODIC = re.compile(r"\b(MELODY|PIANO|KEYS|SYNTH|PAD|PLUCK|ARP|ORGAN|STABS?|LEAD|CHORDS?|STRINGS?)\b")
_BASS = re.compile(r"\bBASS\b")


@dataclass(frozen=True)
class Stem:
    name: str
    path: Path
    low_copy: bool
    """True when only the lower-quality copy of this stem exists."""


@dataclass
class SongReport:
    song: str
    groups: dict[str, list[str]] = field(default_factory=dict)
    """Group → stem names in it."""
    low_copies: list[str] = field(default_factory=list)
    low_share: dict[str, float] = field(default_factory=dict)
    """Stem → share of its power below ``BASS_CUTOFF_HZ`` (for stems not named vocals/drums/bass)."""
    scale: float = 1.0
    seconds: float = 0.0


def stem_name(path: Path) -> str:
    """The instrument part of a stem file's name, upper case: ``3.Sodium_Stem_SY BASS.m4a`` → ``SY BASS``."""
    name = path.stem
    if name.endswith(LOW_COPY_SUFFIX):
        name = name[: -len(LOW_COPY_SUFFIX)]
    if "_Stem_" in name:
        name = name.split("_Stem_", 1)[1]
    return name.replace("_", " ").strip().upper()


def named_group(name: str) -> str | None:
    """The group a stem's name settles, or None when only its spectrum can tell (bass or other)."""
    if _VOCAL.search(name):
        return "vocals"
    if _BASS.search(name):
        return "bass"
    if _DRUM.search(name) and not _MELODIC.search(name):
        return "drums"
    return None


def song_stems(folder: Path) -> list[Stem]:
    """One file per instrument: the full file where there is one, else its lower-quality copy."""
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES and not p.name.startswith("."))
    chosen: dict[str, Stem] = {}
    for path in files:
        low = path.stem.endswith(LOW_COPY_SUFFIX)
        name = stem_name(path)
        if name not in chosen or (chosen[name].low_copy and not low):
            chosen[name] = Stem(name, path, low)
    if not chosen:
        raise DatasetError(f"{folder}: no audio stems ({', '.join(AUDIO_SUFFIXES)})")
    return sorted(chosen.values(), key=lambda s: s.name)


def read_stem(path: Path, rate: int) -> np.ndarray:
    """``(channels, samples)`` float32 at ``rate``: libsndfile formats directly, AAC/MP4 and the rest through PyAV."""
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError):
        audio, sr = _decode_with_av(path)
        data = audio.T
    return np.ascontiguousarray(resample_to(data, sr, rate).T, dtype=np.float32)


def _decode_with_av(path: Path) -> tuple[np.ndarray, int]:
    try:
        import av  # the training extra's decoder: libsndfile reads no AAC
    except ImportError as err:
        raise DatasetError(f"{path}: decoding it needs PyAV (pip install av, or the [train] extra)") from err
    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="fltp")
            chunks = [f.to_ndarray() for frame in container.decode(stream) for f in resampler.resample(frame)]
            rate = int(stream.codec_context.sample_rate)
    except (av.FFmpegError, IndexError) as err:
        raise DatasetError(f"{path}: unreadable ({err})") from err
    if not chunks:
        raise DatasetError(f"{path}: no audio")
    return np.concatenate(chunks, axis=1).astype(np.float32), rate


def low_share(audio: np.ndarray, rate: int) -> float:
    """Share of the stem's power below ``BASS_CUTOFF_HZ`` (0 for a silent stem)."""
    power = np.abs(np.fft.rfft(audio.mean(axis=0))) ** 2
    freqs = np.fft.rfftfreq(audio.shape[1], 1.0 / rate)
    total = float(power.sum())
    return float(power[freqs < BASS_CUTOFF_HZ].sum() / total) if total > 0 else 0.0


def group_song(folder: Path, rate: int) -> tuple[dict[str, np.ndarray], SongReport]:
    """The four group sums of one song, ``(channels, samples)`` each, and how they were made."""
    report = SongReport(folder.name, {g: [] for g in GROUPS})
    sums: dict[str, np.ndarray] = {}
    for stem in song_stems(folder):
        audio = read_stem(stem.path, rate)
        group = named_group(stem.name)
        if group is None:
            share = report.low_share[stem.name] = round(low_share(audio, rate), 3)
            group = "bass" if share >= BASS_POWER_SHARE else "other"
        report.groups[group].append(stem.name)
        if stem.low_copy:
            report.low_copies.append(stem.name)
        _accumulate(sums, group, audio)
    return _aligned(sums, report, rate), report


def _accumulate(sums: dict[str, np.ndarray], group: str, audio: np.ndarray) -> None:
    previous = sums.get(group)
    if previous is None:
        sums[group] = audio.copy()
        return
    n = max(previous.shape[1], audio.shape[1])
    channels = max(previous.shape[0], audio.shape[0])
    total = np.zeros((channels, n), np.float32)
    for part in (previous, audio):
        total[:, : part.shape[1]] += with_channels(part, channels)
    sums[group] = total


def _aligned(sums: dict[str, np.ndarray], report: SongReport, rate: int) -> dict[str, np.ndarray]:
    """Every group at the song's channels and length (silent where it has no stem), scaled below clipping."""
    n = max(x.shape[1] for x in sums.values())
    channels = max(x.shape[0] for x in sums.values())
    out = {}
    for g in GROUPS:
        x = np.zeros((channels, n), np.float32)
        part = sums.get(g)
        if part is not None:
            x[:, : part.shape[1]] = with_channels(part, channels)
        out[g] = x
    peak = max(float(np.abs(x).max()) for x in out.values())
    peak = max(peak, float(np.abs(sum(out.values())).max()))
    if peak > PEAK_LIMIT:
        report.scale = round(PEAK_LIMIT / peak, 4)
        out = {g: x * np.float32(report.scale) for g, x in out.items()}
    report.seconds = round(n / rate, 2)
    return out


def write_song(groups: dict[str, np.ndarray], folder: Path, rate: int) -> None:
    """``folder/<group>.flac`` (24-bit) for each group; an existing file is never overwritten."""
    targets = [folder / f"{g}.flac" for g in GROUPS]
    existing = [t for t in targets if t.exists()]
    if existing:
        raise OutputError(f"{existing[0]} exists: choose an empty output folder")
    folder.mkdir(parents=True, exist_ok=True)
    for g, target in zip(GROUPS, targets, strict=True):
        sf.write(str(target), groups[g].T, rate, subtype="PCM_24")
