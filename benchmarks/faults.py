"""Fault injection through the real ``vocalsplit`` process: kills, concurrent runs, a full disk, bit rot.

Prints one table row per case: what was done, the exit code, and what was left on disk.
Uses the installed default model (or ``--model``); every file lives in a temporary folder.

    python benchmarks/faults.py [--model NAME] [--seconds 20]
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf
from _common import write_song  # run as a script: benchmarks/ is on sys.path


def vocalsplit(*args: str | Path, **kw: object) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "vocalsplit", *(str(a) for a in args)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)  # type: ignore[call-overload]


def leftovers(folder: Path) -> str:
    if not folder.exists():
        return "nothing"
    partial = [p for p in folder.rglob("*") if p.is_file() and ".partial-" in p.name]
    done = [p for p in folder.rglob("*.wav") if ".partial-" not in p.name]
    return f"{len(done)} stems, {len(partial)} partial files"


def wait_for_partial(folder: Path, seconds: float = 60.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if folder.exists() and any(".partial-" in p.name for p in folder.rglob("*")):
            return True
        time.sleep(0.02)
    return False


def killed(song: Path, out: Path, model: list[str], sig: int) -> tuple[int, str]:
    proc = vocalsplit(song, "-o", out, "--shifts", "8", *model)
    if not wait_for_partial(out):
        proc.kill()
        return -1, "never started writing"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    note = err.strip().splitlines()[-1] if err.strip() else ""
    return proc.returncode, f"{leftovers(out)}; {note[:60]}"


def rerun_after_sigkill(song: Path, out: Path, model: list[str]) -> tuple[int, str]:
    killed(song, out, model, signal.SIGKILL)
    before = leftovers(out)
    proc = vocalsplit(song, "-o", out, "-q", "--overwrite", *model)
    proc.communicate(timeout=300)
    return proc.returncode, f"after kill: {before}; after rerun: {leftovers(out)}"


def concurrent(song_a: Path, song_b: Path, out: Path, model: list[str]) -> tuple[int, str]:
    a = vocalsplit(song_a, "-o", out, "-q", *model)
    b = vocalsplit(song_b, "-o", out, "-q", *model)
    _, err_a = a.communicate(timeout=300)
    _, err_b = b.communicate(timeout=300)
    codes = f"{a.returncode}/{b.returncode}"
    said = "'exists' reported" if "exists" in err_a + err_b else "no clash reported"
    return max(a.returncode, b.returncode), f"exit {codes}; {said}; {leftovers(out)}"


def full_disk(song: Path, out: Path, model: list[str]) -> tuple[int, str]:
    """RLIMIT_FSIZE stands in for a full disk: writes past it fail (EFBIG) as ENOSPC would."""

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    proc = vocalsplit(song, "-o", out, "-q", *model, preexec_fn=limit)
    _, err = proc.communicate(timeout=300)
    note = err.strip().splitlines()[-1] if err.strip() else ""
    return proc.returncode, f"{leftovers(out)}; {note[:70]}"


def bit_rot(song: Path, out: Path, model: list[str]) -> tuple[int, str]:
    audio, rate = sf.read(str(song), dtype="float32")
    flac = out.parent / "rot.flac"
    sf.write(str(flac), audio, rate, subtype="PCM_16")
    data = bytearray(flac.read_bytes())
    data[len(data) // 2] ^= 0x10
    flac.write_bytes(bytes(data))
    proc = vocalsplit(flac, "-o", out, "-q", *model)
    _, err = proc.communicate(timeout=300)
    stems = list(out.rglob("vocals.wav"))
    length = sf.info(str(stems[0])).duration if stems else 0.0
    warned = "warned" if "replaced by silence" in err else "no warning"
    return proc.returncode, f"{length:.1f} of {len(audio) / rate:.1f} s separated; {warned}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", help="model name or path (default: the default installed model)")
    ap.add_argument("--seconds", type=float, default=20.0)
    args = ap.parse_args()
    model = ["--model", args.model] if args.model else []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        song = write_song(d / "song.wav", args.seconds)
        other = d / "other" / "song.wav"
        other.parent.mkdir()
        sf.write(str(other), np.flip(sf.read(str(song))[0], axis=0), 44100, subtype="PCM_16")
        cases: list[tuple[str, Callable[[], tuple[int, str]]]] = [
            ("SIGTERM mid-run", lambda: killed(song, d / "term", model, signal.SIGTERM)),
            ("SIGHUP mid-run", lambda: killed(song, d / "hup", model, signal.SIGHUP)),
            ("SIGINT mid-run", lambda: killed(song, d / "int", model, signal.SIGINT)),
            ("SIGKILL, then a new run", lambda: rerun_after_sigkill(song, d / "kill", model)),
            ("two runs, same names, one -o", lambda: concurrent(song, other, d / "both", model)),
            ("disk full (200 kB file limit)", lambda: full_disk(song, d / "full", model)),
            ("FLAC with one flipped bit", lambda: bit_rot(song, d / "rot", model)),
        ]
        print(f"{'case':32} {'exit':>4}  result")
        for name, run in cases:
            code, result = run()
            print(f"{name:32} {code:>4}  {result}")
    os.sync()


if __name__ == "__main__":
    main()
