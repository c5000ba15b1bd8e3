"""Training/evaluation data: MIR-1K (standard split) and folders of stems.

Every clip is reduced to the complex STFTs of its two sources at the model's
rate, using the one shared STFT definition. Mixtures are formed from them on the
fly (the STFT is linear), which makes remixing and shifting cheap.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from vocalsplit.audio.stft import StftParams, stft
from vocalsplit.errors import DatasetError

ENV_DATA = "VOCALSPLIT_DATA"
MIR1K_TRAIN_SINGERS = ("abjones", "amy")
_MIR1K_NAME = re.compile(r"^(?P<singer>[A-Za-z0-9]+)_(?P<song>\d+)_(?P<clip>\d+)\.(wav|flac)$", re.IGNORECASE)


@dataclass(frozen=True)
class Clip:
    """One example: voice and accompaniment, ``(channels, samples)`` at ``rate``."""

    name: str
    voice: np.ndarray
    accompaniment: np.ndarray
    rate: int

    @property
    def mixture(self) -> np.ndarray:
        return self.voice + self.accompaniment


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
        f"{data_dir}: no MIR-1K clips found (expected Wavfile/<singer>_<song>_<clip>.wav, "
        "e.g. abjones_1_01.wav)"
    )


def mir1k_split(data_dir: Path) -> dict[str, list[Path]]:
    """The standard protocol: train = abjones + amy clips, test = every other singer.

    Clips are ``<singer>_<song>_<clip>.wav`` (or ``.flac``)."""
    wav_dir = mir1k_wavfile_dir(data_dir)
    train, test = [], []
    for p in sorted(wav_dir.iterdir()):
        m = _MIR1K_NAME.match(p.name)
        if not m:
            continue
        (train if m.group("singer").lower() in MIR1K_TRAIN_SINGERS else test).append(p)
    return {"train": train, "test": test}


def mir1k_singer(path: Path) -> str:
    m = _MIR1K_NAME.match(path.name)
    return m.group("singer").lower() if m else ""


def validation_split(paths: list[Path], fraction: float, seed: int) -> tuple[list[Path], list[Path]]:
    """Hold out ``fraction`` of the clips (never fewer than one) for validation."""
    if len(paths) < 2:
        raise DatasetError(f"need at least two training clips to hold one out, found {len(paths)}")
    order = np.random.default_rng(seed).permutation(len(paths))
    n_val = max(1, int(round(fraction * len(paths))))
    val = sorted(paths[i] for i in order[:n_val])
    train = sorted(paths[i] for i in order[n_val:])
    return train, val


def load_mir1k_clip(path: Path, rate: int) -> Clip:
    """MIR-1K wav: left = accompaniment, right = voice; returned mono ``(1, n)``."""
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as err:
        raise DatasetError(f"{path}: unreadable ({err})") from err
    if data.shape[1] != 2:
        raise DatasetError(f"{path}: MIR-1K clips have 2 channels (music, voice), found {data.shape[1]}")
    data = _resample(data, sr, rate)
    return Clip(path.stem, data[:, 1][None, :], data[:, 0][None, :], rate)


def _resample(data: np.ndarray, sr: int, rate: int) -> np.ndarray:
    return data if sr == rate else soxr.resample(data, sr, rate, quality="HQ").astype(np.float32)


_AUDIO = (".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff")


def stems_tracks(data_dir: Path) -> list[Path]:
    """Track folders below ``data_dir`` that hold a ``vocals.*`` file."""
    tracks = sorted({p.parent for p in data_dir.rglob("vocals.*") if p.suffix.lower() in _AUDIO})
    if not tracks:
        raise DatasetError(
            f"{data_dir}: no track folder with a vocals.* file (expected <track>/vocals.wav and "
            "<track>/accompaniment.wav, or other stems that are summed into the accompaniment)"
        )
    return tracks


def load_stems_track(track: Path, rate: int, max_seconds: float | None = None) -> Clip:
    """``vocals.*`` and either ``accompaniment.*`` or the sum of every other stem, any rate/channels."""
    files = sorted(p for p in track.iterdir() if p.suffix.lower() in _AUDIO and not p.name.startswith("."))
    vocals = [p for p in files if p.stem.lower() == "vocals"]
    if not vocals:
        raise DatasetError(f"{track}: no vocals.* file")
    others = [p for p in files if p.stem.lower() not in ("vocals", "mixture")]
    acc_files = [p for p in others if p.stem.lower() == "accompaniment"] or others
    if not acc_files:
        raise DatasetError(f"{track}: no accompaniment.* file and no other stems to sum")
    voice = _read_any(vocals[0], rate, max_seconds)
    parts = [_read_any(p, rate, max_seconds) for p in acc_files]
    n = min([voice.shape[1], *(p.shape[1] for p in parts)])
    channels = max([voice.shape[0], *(p.shape[0] for p in parts)])
    acc = sum(_channels(p[:, :n], channels) for p in parts)
    return Clip(track.name, _channels(voice[:, :n], channels), np.asarray(acc, np.float32), rate)


def _channels(x: np.ndarray, channels: int) -> np.ndarray:
    return x if x.shape[0] == channels else np.repeat(x[:1], channels, axis=0)


def _read_any(path: Path, rate: int, max_seconds: float | None) -> np.ndarray:
    try:
        info = sf.info(str(path))
        frames = -1 if max_seconds is None else int(max_seconds * info.samplerate)
        data, sr = sf.read(str(path), frames=frames, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as err:
        raise DatasetError(f"{path}: unreadable ({err})") from err
    return np.ascontiguousarray(_resample(data, sr, rate).T)


@dataclass
class SpectralSet:
    """Complex STFTs of voice and accompaniment, frames concatenated over clips.

    ``voice``/``accompaniment``: ``(frames, bins)`` complex64; ``starts`` marks
    where each clip (channel) begins.
    """

    voice: np.ndarray
    accompaniment: np.ndarray
    starts: np.ndarray

    @property
    def frames(self) -> int:
        return int(self.voice.shape[0])


def spectral_set(clips: list[Clip], params: StftParams) -> SpectralSet:
    """Each channel of each clip becomes its own example (stereo → two examples)."""
    voices, accs, starts, pos = [], [], [], 0
    for clip in clips:
        v, a = stft(clip.voice, params), stft(clip.accompaniment, params)  # (C, F, T)
        for c in range(v.shape[0]):
            voices.append(v[c].T)
            accs.append(a[c].T)
            starts.append(pos)
            pos += v.shape[2]
    if not voices:
        raise DatasetError("no training audio")
    return SpectralSet(np.concatenate(voices), np.concatenate(accs), np.array(starts))
