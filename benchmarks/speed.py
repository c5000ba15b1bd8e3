"""Real-time factor of the separation pipeline: in memory and file to file."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from _common import benchmark_model, write_song  # run as a script: benchmarks/ is on sys.path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", help="model name or path (default: random-weight DRNN of the shipped size)")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument(
        "--shifts", type=int, default=None, help="frame grids averaged, as vocalsplit --shifts (default: the model's)"
    )
    ap.add_argument("--channel-masks", default="shared", help="shared or separate, as vocalsplit --channel-masks")
    ap.add_argument("--chunk-seconds", type=float, default=None, help="as vocalsplit --chunk-seconds (default: its)")
    args = ap.parse_args()
    from vocalsplit.api import Separator
    from vocalsplit.errors import VocalsplitError

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        model = args.model or str(benchmark_model(d / "models"))
        chunk = {} if args.chunk_seconds is None else {"chunk_seconds": args.chunk_seconds}
        try:
            sep = Separator(model, device=args.device, shifts=args.shifts, channel_masks=args.channel_masks, **chunk)
        except VocalsplitError as err:  # e.g. --device cuda where CUDA cannot load: never a CPU figure instead
            raise SystemExit(f"no figure: {err}") from None
        song = write_song(d / "song.wav", args.seconds)
        audio, rate = sf.read(str(song), dtype="float32", always_2d=True)
        print(
            f"model {sep.manifest.name} ({sep.manifest.sample_rate} Hz) on {sep.provider}; "
            f"{args.seconds:g} s stereo 44.1 kHz; shifts {sep.shifts}; channel masks {sep.channel_masks}; "
            "frames per network call: " + ", ".join(f"{p.manifest.name} {p.chunk_frames}" for p in sep.parts)
        )
        sep.separate_array(audio.T[:, :rate], rate)  # warm-up
        t = time.perf_counter()
        stems = sep.separate_array(audio.T, rate)
        mem = time.perf_counter() - t
        assert np.all(np.isfinite(stems["vocals"]))
        t = time.perf_counter()
        sep.separate_file(song, d / "out")
        files = time.perf_counter() - t
        print(f"in memory   : {mem:6.2f} s  = {args.seconds / mem:7.1f}x real time (RTF {mem / args.seconds:.4f})")
        print(
            f"file to file: {files:6.2f} s  = {args.seconds / files:7.1f}x real time (RTF {files / args.seconds:.4f})"
        )


if __name__ == "__main__":
    main()
