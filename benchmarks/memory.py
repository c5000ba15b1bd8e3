"""Peak memory of `vocalsplit` for a 1-minute and a 30-minute input (one subprocess each)."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import benchmark_model, write_song  # run as a script: benchmarks/ is on sys.path


def peak_rss_mb(cmd: list[str]) -> tuple[float, float, int]:
    """Run ``cmd`` in a child that only runs it, return (peak RSS MB, wall s, exit code)."""
    probe = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter(); rc = subprocess.call(sys.argv[1:])\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, time.perf_counter() - t, rc)\n"
    )
    # the child's stderr passes through (an error line); its stdout holds the figures
    out = subprocess.run([sys.executable, "-c", probe, *cmd], stdout=subprocess.PIPE, text=True, check=True)
    mb, wall, rc = out.stdout.split()[-3:]
    return float(mb), float(wall), int(rc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", help="model name or path (default: random-weight DRNN of the shipped size)")
    ap.add_argument("--minutes", type=float, nargs="+", default=[1.0, 30.0])
    ap.add_argument(
        "--shifts", type=int, default=None, help="frame grids averaged, as vocalsplit --shifts (default: the model's)"
    )
    ap.add_argument("--chunk-seconds", type=float, default=None, help="as vocalsplit --chunk-seconds (default: its)")
    ap.add_argument(
        "--device", default="cpu", help="as vocalsplit --device: cpu, cuda or cuda:N (cuda never falls back)"
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        model = args.model or str(benchmark_model(d / "models"))
        print(
            f"model: {model}; device {args.device}; shifts {args.shifts or 'the model default'}; "
            f"chunk {args.chunk_seconds or 'default'} s"
        )
        for minutes in args.minutes:
            song = write_song(d / f"song-{minutes:g}min.wav", minutes * 60)
            cmd = [
                sys.executable,
                "-m",
                "vocalsplit",
                str(song),
                "-o",
                str(d / "out"),
                "--model",
                model,
                "--overwrite",
                "--device",
                args.device,
                *(["--shifts", str(args.shifts)] if args.shifts else []),
                *(["--chunk-seconds", str(args.chunk_seconds)] if args.chunk_seconds else []),
                "-q",
            ]
            mb, wall, rc = peak_rss_mb(cmd)
            if rc != 0:  # e.g. --device cuda where CUDA cannot load: its one-line error is above
                raise SystemExit(f"no figure: vocalsplit exited with {rc} for the {minutes:g}-minute song")
            print(
                f"{minutes:5g} min stereo 44.1 kHz: peak RSS {mb:7.1f} MB, wall {wall:6.1f} s, "
                f"{minutes * 60 / wall:6.1f}x real time, exit {rc}"
            )
            song.unlink()


if __name__ == "__main__":
    main()
