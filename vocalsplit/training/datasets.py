"""Training/evaluation data: MIR-1K (standard split) and folders of stems.

Every clip is reduced to the complex STFTs of its two sources at the model's
rate, using the one shared STFT definition. Mixtures are formed from them on the
fly (the STFT is linear), which makes remixing and shifting cheap.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from vocalsplit.audio.channel_layout import side_by_side
from vocalsplit.audio.folders import files_below
from vocalsplit.audio.resample import QUALITY
from vocalsplit.audio.stft import StftParams, stft
from vocalsplit.choices import Split, parse
from vocalsplit.errors import DatasetError
from vocalsplit.training.net_configs import TWO_SOURCES
from vocalsplit.training.voice_band import voice_band_hz

ENV_DATA = "VOCALSPLIT_DATA"
MIR1K_TRAIN_SINGERS = ("abjones", "amy")
_MIR1K_NAME = re.compile(r"^(?P<singer>[A-Za-z0-9]+)_(?P<song>\d+)_(?P<clip>\d+)\.(wav|flac)$", re.IGNORECASE)


@dataclass(frozen=True)
class Clip:
    """One example: named sources, each ``(channels, samples)`` at ``rate``; the first is the voice."""

    name: str
    sources: dict[str, np.ndarray]
    rate: int
    voice_band_hz: float | None = None
    """Highest frequency the voice really holds (half its file's rate, or a solo voice's measured
    edge, see ``voice_band``); None: the whole band at ``rate``."""

    @property
    def voice(self) -> np.ndarray:
        return next(iter(self.sources.values()))

    @property
    def accompaniment(self) -> np.ndarray:
        """Everything but the voice."""
        rest = list(self.sources.values())[1:]
        return np.asarray(sum(rest), np.float32)

    @property
    def mixture(self) -> np.ndarray:
        return np.asarray(sum(self.sources.values()), np.float32)


def find_data_dir(data_dir: Path | None, dataset: str) -> Path:
    if data_dir is None:
        env = os.environ.get(ENV_DATA)
        if not env:
            raise DatasetError(f"dataset {dataset!r}: pass --data-dir PATH or set {ENV_DATA}")
        data_dir = Path(env)
    if not data_dir.is_dir():
        raise DatasetError(f"data folder {data_dir} does not exist")
    return data_dir


def mir1k_wavfile_dir(data_dir: Path) -> Path:
    """Accept the MIR-1K root, its ``Wavfile/`` folder, or a folder of MIR-1K wavs."""
    for candidate in (data_dir / "Wavfile", data_dir / "MIR-1K" / "Wavfile", data_dir / "mir-1k" / "Wavfile", data_dir):
        if candidate.is_dir() and any(_MIR1K_NAME.match(p.name) for p in candidate.iterdir()):
            return candidate
    raise DatasetError(
        f"{data_dir}: no MIR-1K clips found (expected Wavfile/<singer>_<song>_<clip>.wav, e.g. abjones_1_01.wav)"
    )


def mir1k_split(data_dir: Path) -> dict[str, list[Path]]:
    """The standard protocol: train = abjones + amy clips, test = every other singer.

    Clips are ``<singer>_<song>_<clip>.wav`` (or ``.flac``)."""
    wav_dir = mir1k_wavfile_dir(data_dir)
    train: list[Path] = []
    test: list[Path] = []
    for p in sorted(wav_dir.iterdir()):
        m = _MIR1K_NAME.match(p.name)
        if not m:
            continue
        (train if m.group("singer").lower() in MIR1K_TRAIN_SINGERS else test).append(p)
    return {"train": train, "test": test}


def mir1k_singer(path: Path) -> str:
    m = _MIR1K_NAME.match(path.name)
    return m.group("singer").lower() if m else ""


def validation_split(
    paths: list[Path], fraction: float, seed: int, how: Split | str = Split.SEEDED
) -> tuple[list[Path], list[Path]]:
    """Hold out about ``fraction`` of the clips (never fewer than one, never all) for validation.

    ``how='name'`` holds out the clips whose name hashes below ``fraction``: a clip is
    held out or not whatever the seed and whatever other clips are in the pool, so a
    fine-tune on a bigger pool or with another seed never validates on clips its
    starting checkpoint trained on. ``how='seeded'`` draws exactly
    ``round(fraction * n)`` clips with ``seed`` (how the shipped models were split).
    """
    if len(paths) < 2:
        raise DatasetError(f"need at least two training clips to hold one out, found {len(paths)}")
    if parse(Split, how, "--split") == Split.NAME:
        return _name_split(paths, fraction)
    order = np.random.default_rng(seed).permutation(len(paths))
    n_val = max(1, int(round(fraction * len(paths))))
    val = sorted(paths[i] for i in order[:n_val])
    train = sorted(paths[i] for i in order[n_val:])
    return train, val


def _unit_hash(name: str) -> float:
    """A stable number in [0, 1) for a clip name (sha256, so not Python's salted hash)."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big") / 2.0**64


def _name_split(paths: list[Path], fraction: float) -> tuple[list[Path], list[Path]]:
    score = {p: _unit_hash(p.name) for p in paths}
    val = [p for p in paths if score[p] < fraction]
    if not val:  # a small pool: hold out the clip that would be the first in any pool
        val = [min(paths, key=lambda p: score[p])]
    elif len(val) == len(paths):
        val.remove(max(paths, key=lambda p: score[p]))
    held = set(val)
    return sorted(p for p in paths if p not in held), sorted(val)


def load_mir1k_clip(path: Path, rate: int) -> Clip:
    """MIR-1K wav: left = accompaniment, right = voice; returned mono ``(1, n)``."""
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as err:
        raise DatasetError(f"{path}: unreadable ({err})") from err
    if data.shape[1] != 2:
        raise DatasetError(f"{path}: MIR-1K clips have 2 channels (music, voice), found {data.shape[1]}")
    data = resample_to(data, sr, rate)
    voices = {"vocals": data[:, 1][None, :], "accompaniment": data[:, 0][None, :]}
    return Clip(path.stem, voices, rate, _band(sr, rate))


def _band(file_rate: int, rate: int) -> float | None:
    """The voice band of a file read at ``rate``: None when the file is at least as wide."""
    return file_rate / 2 if file_rate < rate else None


def resample_to(data: np.ndarray, sr: int, rate: int) -> np.ndarray:
    """``(samples, channels)`` float32 audio at ``rate`` (soxr, the project's quality)."""
    return data if sr == rate else soxr.resample(data, sr, rate, quality=QUALITY).astype(np.float32)


_AUDIO = (".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff")


def stems_tracks(data_dir: Path) -> list[Path]:
    """Track folders below ``data_dir`` (symlinked ones too) that hold a ``vocals.*`` file."""
    tracks = sorted({p.parent for p in files_below(data_dir) if p.stem == "vocals" and p.suffix.lower() in _AUDIO})
    if not tracks:
        raise DatasetError(
            f"{data_dir}: no track folder with a vocals.* file (expected <track>/vocals.wav and "
            "<track>/accompaniment.wav, or other stems that are summed into the accompaniment)"
        )
    return tracks


def load_stems_track(
    track: Path, rate: int, max_seconds: float | None = None, sources: tuple[str, ...] = TWO_SOURCES
) -> Clip:
    """Named stems of one track folder, any rate/channels, e.g. ``vocals.wav`` + ``accompaniment.flac``.

    A source called ``accompaniment`` without its own file is the sum of every stem
    that is not another named source (so drums/bass/other folders work too).
    """
    files = sorted(p for p in track.iterdir() if p.suffix.lower() in _AUDIO and not p.name.startswith("."))
    by_name = {p.stem.lower(): p for p in files}
    if "vocals" not in by_name:
        raise DatasetError(f"{track}: no vocals.* file")
    groups: dict[str, list[Path]] = {}
    for name in sources:
        if name in by_name:
            groups[name] = [by_name[name]]
        elif name == "accompaniment":
            rest = [p for p in files if p.stem.lower() not in (*sources, "mixture")]
            if not rest:
                raise DatasetError(f"{track}: no accompaniment.* file and no other stems to sum")
            groups[name] = rest
        else:
            raise DatasetError(f"{track}: no {name}.* file (sources wanted: {', '.join(sources)})")
    audio = {name: [_read_any(p, rate, max_seconds) for p in paths] for name, paths in groups.items()}
    band = _band(min(_file_rate(p) for p in groups[sources[0]]), rate)
    n = min(a.shape[1] for parts in audio.values() for a in parts)
    channels = max(a.shape[0] for parts in audio.values() for a in parts)
    stems = {
        name: np.asarray(sum(with_channels(a[:, :n], channels) for a in parts), np.float32)
        for name, parts in audio.items()
    }
    return Clip(track.name, stems, rate, band)


def solo_files(data_dir: Path) -> list[Path]:
    """Every audio file below ``data_dir`` (a folder of solo voices, or of music without voice)."""
    files = sorted(p for p in files_below(data_dir) if p.suffix.lower() in _AUDIO and not p.name.startswith("."))
    if not files:
        raise DatasetError(f"{data_dir}: no audio files ({', '.join(_AUDIO)})")
    return files


def load_solo_clip(path: Path, rate: int, source: str, max_seconds: float | None = None) -> Clip:
    """One file as a clip holding a single source: ``vocals`` (solo singing) or ``accompaniment`` (music)."""
    audio = _read_any(path, rate, max_seconds)
    band = voice_band_hz(audio, rate, _band(_file_rate(path), rate)) if source == "vocals" else None
    return Clip(path.stem, {source: audio}, rate, band)


def _file_rate(path: Path) -> int:
    try:
        return int(sf.info(str(path)).samplerate)
    except (sf.LibsndfileError, RuntimeError) as err:
        raise DatasetError(f"{path}: unreadable ({err})") from err


def with_channels(x: np.ndarray, channels: int) -> np.ndarray:
    """``(c, n)`` audio as ``channels`` channels: as it is, or its first channel repeated."""
    return x if x.shape[0] == channels else np.repeat(x[:1], channels, axis=0)


def _read_any(path: Path, rate: int, max_seconds: float | None) -> np.ndarray:
    try:
        info = sf.info(str(path))
        frames = -1 if max_seconds is None else int(max_seconds * info.samplerate)
        data, sr = sf.read(str(path), frames=frames, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as err:
        raise DatasetError(f"{path}: unreadable ({err})") from err
    return np.ascontiguousarray(resample_to(data, sr, rate).T)


@dataclass
class SpectralSet:
    """Complex STFTs of each source, frames concatenated over clips.

    ``sources``: ``(sources, frames, bins)`` complex64, the voice first; ``starts``
    marks where each clip (channel) begins.
    """

    sources: np.ndarray
    names: tuple[str, ...]
    starts: np.ndarray

    @property
    def frames(self) -> int:
        return int(self.sources.shape[1])


def spectral_set(clips: list[Clip], params: StftParams, channels: int = 1) -> SpectralSet:
    """Each channel of each clip becomes its own example (stereo → two examples); with ``channels`` 2
    each clip is one example, its channels' bins side by side (a mono clip as two equal channels)."""
    if not clips:
        raise DatasetError("no training audio")
    names = tuple(clips[0].sources)
    parts, starts, pos = [], [], 0
    for clip in clips:
        if tuple(clip.sources) != names:
            raise DatasetError(f"{clip.name}: sources {list(clip.sources)} differ from {list(names)}")
        frames = np.stack([stft(clip.sources[n], params) for n in names]).transpose(0, 1, 3, 2)  # (S, C, T, F)
        if channels > 1:
            if frames.shape[1] not in (1, channels):
                raise DatasetError(f"{clip.name}: {frames.shape[1]} channels; a stereo model trains on 1 or 2")
            wide = np.broadcast_to(frames, (frames.shape[0], channels, *frames.shape[2:]))
            examples = [np.concatenate([side_by_side(source, channels) for source in wide])]  # (S, T, C·F)
        else:
            examples = [frames[:, c] for c in range(frames.shape[1])]
        for example in examples:
            parts.append(example)
            starts.append(pos)
            pos += example.shape[1]
    return SpectralSet(np.concatenate(parts, axis=1), names, np.array(starts))
