"""Where the time of a `vocalsplit` run goes, against the I/O floor, and a folder against one file.

1. Whole process: `vocalsplit SONG -o OUT -q` (median of --rounds, interleaved with 2).
2. I/O floor: a process that only decodes SONG block by block and writes two WAVs
   of the same length (what any separator must pay, plus Python's start-up).
3. Stages: one in-process run of `Separator.separate_file` under cProfile, its time
   grouped by the functions that do each job (the rest is numpy and Python glue). The
   network runs on a thread of its own, which cProfile does not see: its time is taken
   around each call there, and the main thread's time waiting for it is shown apart
   (the network's time less that wait is what the two threads overlapped).
4. Folder: the same total length cut into --files files, `vocalsplit FOLDER`.

    python benchmarks/stages.py                      # default model and settings, 240-s song
    python benchmarks/stages.py --seconds 60 --rounds 1 --args "--shifts 1"
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import soundfile as sf
from _common import write_song  # run as a script: benchmarks/ is on sys.path

STAGES = {
    "waiting for the network": ("_thread.lock", "acquire"),
    "resampling (soxr)": ("soxr", "resample_chunk"),
    "FFTs (numpy)": ("_pocketfft", "_raw_fft"),
    "decode and encode (libsndfile)": ("soundfile", "_cdata_io"),
}

IO_FLOOR = """
import sys, soundfile as sf
song, out = sys.argv[1], sys.argv[2]
with sf.SoundFile(song) as f, sf.SoundFile(out + "/a.wav", "w", f.samplerate, f.channels, "PCM_16") as a, \\
        sf.SoundFile(out + "/b.wav", "w", f.samplerate, f.channels, "PCM_16") as b:
    for block in f.blocks(65536, dtype="float32"):
        a.write(block)
        b.write(block)
"""


def timed(command: list[str]) -> float:
    t = time.perf_counter()
    if subprocess.run(command).returncode != 0:
        raise SystemExit(f"no figure: {' '.join(command[:3])} ... failed (its message is above)")
    return time.perf_counter() - t


def stage_times(song: Path, out: Path, args: list[str], device: str) -> tuple[dict[str, float], float]:
    """Seconds per stage of one in-process run, and the run's total (``--device cuda`` that cannot
    run on CUDA is an error, never a CPU figure)."""
    from vocalsplit.api import Separator

    options = dict(zip(args[::2], args[1::2], strict=False))
    high_band = options.get("--high-band", "share")
    model = options.get("--model") or options.get("-m")
    shifts = int(options["--shifts"]) if "--shifts" in options else None
    separator = Separator(model, device=device, shifts=shifts, high_band=high_band)
    threads = separator.session.threads
    print(f"in-process run of {separator.manifest.name} on {separator.provider}, network on {threads} thread(s)")
    network = [0.0]
    for part in separator.parts:
        run = part.session.run

        def timed_run(*a: object, run: Callable[..., object] = run) -> object:
            t = time.perf_counter()
            try:
                return run(*a)
            finally:
                network[0] += time.perf_counter() - t

        part.session.run = timed_run  # type: ignore[method-assign]
    profile = cProfile.Profile()
    t = time.perf_counter()
    profile.runcall(separator.separate_file, song, out, existing="overwrite")
    total = time.perf_counter() - t
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    spent = dict.fromkeys(STAGES, 0.0)
    for (file, _, name), (_, _, own, _, _) in stats.items():
        for stage, (where, function) in STAGES.items():
            if where in f"{file}:{name}" and function in name:
                spent[stage] += own
    return {"network (onnxruntime, own thread)": network[0], **spent}, total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=240.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--files", type=int, default=24, help="files the folder run cuts the song into")
    ap.add_argument("--args", default="", help="extra vocalsplit options, e.g. '--shifts 1'")
    ap.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (also passed to the processes)")
    args = ap.parse_args()
    extra = [*shlex.split(args.args), "--device", args.device]
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        song = write_song(d / "song.wav", args.seconds)
        folder = d / "folder"
        folder.mkdir()
        audio, rate = sf.read(str(song), dtype="int16")
        step = len(audio) // args.files
        for i in range(args.files):
            sf.write(str(folder / f"part{i:02d}.wav"), audio[i * step : (i + 1) * step], rate, "PCM_16")
        (d / "floor").mkdir()
        one = [sys.executable, "-m", "vocalsplit", str(song), "-o", str(d / "one"), "-q", "--overwrite", *extra]
        many = [sys.executable, "-m", "vocalsplit", str(folder), "-o", str(d / "many"), "-q", "--overwrite", *extra]
        floor = [sys.executable, "-c", IO_FLOOR, str(song), str(d / "floor")]
        runs: dict[str, list[float]] = {"one": [], "many": [], "floor": []}
        for _ in range(args.rounds):
            for name, command in (("floor", floor), ("one", one), ("many", many)):
                runs[name].append(timed(command))
        med = {k: statistics.median(v) for k, v in runs.items()}
        spent, total = stage_times(song, d / "profiled", extra, args.device)
    s = args.seconds
    print(f"{s:g}-s stereo 44.1 kHz 16-bit WAV → two WAVs; vocalsplit {' '.join(extra) or '(defaults)'}")
    print(f"whole process      {med['one']:6.2f} s  {s / med['one']:6.1f}x real time")
    print(
        f"I/O floor          {med['floor']:6.2f} s  {s / med['floor']:6.1f}x  (vocalsplit = {med['one'] / med['floor']:.1f}x it)"
    )
    print(
        f"folder of {args.files:<3d}      {med['many']:6.2f} s  {s / med['many']:6.1f}x  ({med['many'] / med['one']:.2f}x one file)"
    )
    print(f"in-process run     {total:6.2f} s, under cProfile, by stage:")
    for stage, seconds in spent.items():
        print(f"  {stage:32s} {seconds:6.2f} s  {100 * seconds / total:4.0f} %")
    rest = total - sum(s for stage, s in spent.items() if not stage.startswith("network"))
    print(f"  {'numpy and Python glue':32s} {rest:6.2f} s  {100 * rest / total:4.0f} %")


if __name__ == "__main__":
    main()
