"""Build an evaluation set of songs that no shipped model trained on: solo-singing voices laid over
instrumental music, written as ``<out>/<track>/{vocals,accompaniment}.flac`` for
``vocalsplit eval --dataset stems``.

One track per music file: an excerpt of ``--seconds`` from ``--start`` seconds in, and
voice files (drawn without repeats) laid one after another from 5 s in, each followed by
4 s of silence (real songs have unsung stretches, where a separator must return
nothing). Each track's vocal-to-accompaniment ratio is drawn from ``--var-db`` (over the
sung samples against the whole excerpt). Mono voices go to the centre of stereo music.
Everything is resampled to 44.1 kHz with soxr. Seeded: the same inputs give the same set.

    python benchmarks/make_heldout_mixes.py --voices ~/datasets/ssvd/test \\
        --music ~/datasets/heldout-music --out ~/datasets/eval-heldout-mixes
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

RATE = 44100
VOICE_START_S, GAP_S = 5.0, 4.0


def load(path: Path, channels: int) -> np.ndarray:
    """``(channels, n)`` float32 at 44.1 kHz; mono is copied to every channel, stereo to mono averaged."""
    audio, rate = sf.read(str(path), dtype="float32", always_2d=True)
    if rate != RATE:
        audio = soxr.resample(audio, rate, RATE, quality="VHQ").astype(np.float32)
    x = audio.T
    if x.shape[0] != channels:
        x = np.repeat(x.mean(axis=0, keepdims=True), channels, axis=0)
    return x


def lay_voices(files: list[Path], n: int, rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    """Voice files one after another, each followed by a silent gap, up to ``n`` samples."""
    out = np.zeros((2, n), np.float32)
    used: list[str] = []
    at = int(VOICE_START_S * RATE)
    for i in rng.permutation(len(files)):
        if at >= n:
            break
        voice = load(files[i], 2)
        take = min(voice.shape[1], n - at)
        out[:, at : at + take] = voice[:, :take]
        used.append(files[i].name)
        at += take + int(GAP_S * RATE)
    return out, used


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--voices", type=Path, required=True, help="folder of solo-singing files (searched recursively)")
    ap.add_argument("--music", type=Path, required=True, help="folder of instrumental music files")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--start", type=float, default=20.0, help="excerpt start; earlier for shorter music")
    ap.add_argument("--var-db", type=float, nargs=2, default=(-10.0, 0.0), metavar=("LOW", "HIGH"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    voices = sorted(p for p in args.voices.rglob("*") if p.suffix.lower() in (".flac", ".wav", ".ogg", ".mp3"))
    music = sorted(p for p in args.music.iterdir() if p.suffix.lower() in (".flac", ".wav", ".ogg", ".mp3"))
    if not voices or not music:
        raise SystemExit(f"no audio in {args.voices if not voices else args.music}")
    if args.out.exists() and any(args.out.iterdir()):
        raise SystemExit(f"{args.out} is not empty: choose a new folder")
    rng = np.random.default_rng(args.seed)
    n = int(args.seconds * RATE)
    for path in music:
        acc = load(path, 2)
        start = min(int(args.start * RATE), max(0, acc.shape[1] - n))
        acc = acc[:, start : start + n]
        if acc.shape[1] < n:
            print(f"skipped {path.name}: shorter than {args.seconds:g} s")
            continue
        vocals, used = lay_voices(voices, n, rng)
        sung = np.any(vocals != 0, axis=0)
        var_db = float(rng.uniform(*args.var_db))
        gain = np.sqrt(np.mean(acc**2) / np.mean(vocals[:, sung] ** 2)) * 10 ** (var_db / 20)
        vocals *= gain
        peak = float(np.max(np.abs(vocals + acc)))
        if peak > 0.99:  # the same scale for both stems: their ratio stays
            vocals, acc = vocals * 0.99 / peak, acc * 0.99 / peak
        folder = args.out / path.stem
        folder.mkdir(parents=True)
        sf.write(str(folder / "vocals.flac"), vocals.T, RATE, subtype="PCM_24")
        sf.write(str(folder / "accompaniment.flac"), acc.T, RATE, subtype="PCM_24")
        print(f"{path.stem}: VAR {var_db:+.1f} dB, voices {', '.join(used)}")


if __name__ == "__main__":
    main()
