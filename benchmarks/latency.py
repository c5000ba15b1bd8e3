"""Latency and throughput of pipe mode, through the real ``vocalsplit - -o -`` process.

Latency: a song (the CC0 test clip, looped, at -12 dB) with impulses at known,
jittered sample positions is written into the pipe at the pace of a live source
(10-ms blocks, each sent when its last sample would have been captured). A
reader thread timestamps every piece of output as it arrives. An impulse's
latency is the time its output sample arrived minus the time its input block was
sent; the stems are checked to carry it (vocals + accompaniment = input at that
sample). Impulses in the first seconds (process start-up) are left out.

Throughput: the same stream written as fast as the process takes it; audio
seconds divided by the wall time from start to the last output byte.

    python benchmarks/latency.py            # default model, both input formats
    python benchmarks/latency.py --seconds 30 --model drnn-mir1k
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

CLIP = Path(__file__).resolve().parent.parent / "tests" / "data" / "eif-lithium-3s"
BLOCK_S = 0.010
WARM_UP_S = 3.0


@dataclass(frozen=True)
class Setting:
    rate: int
    channels: int
    shifts: int
    latency_ms: float | None  # None: the default chunk


def song(rate: int, channels: int, seconds: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(n, channels)`` int16 samples and the impulse positions in them."""
    vocals, clip_rate = sf.read(str(CLIP / "vocals.flac"), dtype="float32", always_2d=True)
    clip = vocals + sf.read(str(CLIP / "accompaniment.flac"), dtype="float32", always_2d=True)[0]
    clip = soxr.resample(clip, clip_rate, rate)
    clip = clip[:, :channels] if clip.shape[1] >= channels else np.repeat(clip[:, :1], channels, axis=1)
    n = int(seconds * rate)
    x = 0.25 * np.tile(clip, (n // len(clip) + 1, 1))[:n]
    rng = np.random.default_rng(seed)
    starts = np.arange(WARM_UP_S, seconds - 1.0, 0.2)
    marks = ((starts + rng.uniform(0, 0.1, len(starts))) * rate).astype(int)
    x[marks] = 0.9
    return (x * 32767).astype("<i2"), marks


def command(model: str | None, s: Setting) -> list[str]:
    args = [sys.executable, "-m", "vocalsplit", "-", "-o", "-", "-q", "--raw-output"]
    args += ["--raw-format", f"{s.rate}:{s.channels}:s16le", "--shifts", str(s.shifts)]
    args += ["--model", model] if model else []
    return args + (["--latency", f"{s.latency_ms:g}"] if s.latency_ms is not None else [])


class Capture:
    """Reads the process's stdout in a thread; remembers when each output frame arrived."""

    def __init__(self, proc: subprocess.Popen[bytes], frame_bytes: int) -> None:
        self.ends: list[int] = []  # output frames received so far, after each read
        self.times: list[float] = []
        self.data = bytearray()
        self._proc, self._frame = proc, frame_bytes
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self) -> None:
        assert self._proc.stdout is not None
        while part := self._proc.stdout.read1(1 << 16):
            self.data += part
            self.ends.append(len(self.data) // self._frame)
            self.times.append(time.perf_counter())

    def arrival(self, frame: int) -> float:
        return self.times[int(np.searchsorted(self.ends, frame + 1))]


def run(model: str | None, s: Setting, seconds: float, paced: bool) -> tuple[np.ndarray, float]:
    """Impulse latencies in seconds (paced) and the wall time of the whole run."""
    x, marks = song(s.rate, s.channels, seconds)
    block = int(BLOCK_S * s.rate)
    proc = subprocess.Popen(command(model, s), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out_frame = 2 * s.channels * 2  # two stems, int16
    capture = Capture(proc, out_frame)
    sent = np.zeros(len(x) // block + 1)
    start = time.perf_counter()
    assert proc.stdin is not None
    for i, at in enumerate(range(0, len(x), block)):
        if paced:
            time.sleep(max(0.0, start + (at + block) / s.rate - time.perf_counter()))
        proc.stdin.write(x[at : at + block].tobytes())
        proc.stdin.flush()
        sent[i] = time.perf_counter()
    proc.stdin.close()
    capture.thread.join()
    wall = time.perf_counter() - start
    if proc.wait() != 0:
        raise SystemExit(f"vocalsplit failed ({proc.returncode}) for {s}")
    y = np.frombuffer(bytes(capture.data), "<i2").reshape(-1, 2, s.channels).astype(np.int32)
    if len(y) != len(x):
        raise SystemExit(f"{len(y)} frames out for {len(x)} in ({s})")
    total = y.sum(axis=1)[marks, 0]  # vocals + accompaniment at each impulse, first channel
    if np.max(np.abs(total - x[marks, 0].astype(np.int32))) > 2:  # int16 rounding of each stem
        raise SystemExit(f"the stems do not carry the impulses ({s})")
    latencies = np.array([capture.arrival(int(p)) - sent[p // block] for p in marks])
    return latencies, wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="model name or path (default: the default installed model)")
    ap.add_argument("--seconds", type=float, default=20.0, help="audio per paced latency run")
    ap.add_argument("--throughput-seconds", type=float, default=120.0, help="audio per unpaced run")
    args = ap.parse_args()
    from vocalsplit.api import Separator
    from vocalsplit.separation.latency import stream_latency

    probe = Separator(args.model)  # a blend's least latency is its slowest member's
    manifest = probe.manifest
    print(f"model {manifest.name}; {sys.platform}; blocks of {1000 * BLOCK_S:g} ms written at real-time pace")
    print(f"{'input':>14} {'shifts':>6} {'--latency':>9} {'stated':>7} {'mean':>6} {'p95':>6} {'max':>6} {'speed':>7}")
    for rate, channels in ((manifest.sample_rate, 1), (44100, 2)):
        for shifts in (1, 2):
            least = max(stream_latency(p.manifest, 1, shifts, rate).total for p in probe.parts) * 1000
            for target in (float(np.ceil(least)), 250.0, 1000.0, None):
                s = Setting(rate, channels, shifts, target)
                _, wall = run(args.model, s, args.throughput_seconds, paced=False)
                speed = f"{args.throughput_seconds / wall:6.1f}x"
                name = f"{rate} Hz {channels} ch"
                if target is None:
                    print(f"{name:>14} {shifts:>6} {'default':>9} {'':>7} {'':>6} {'':>6} {'':>6} {speed:>7}")
                    continue
                lat, _ = run(args.model, s, args.seconds, paced=True)
                sep = Separator(args.model, shifts=shifts)
                stated = sep.fit_latency(target / 1000, rate).total * 1000
                ms = 1000 * lat
                print(
                    f"{name:>14} {shifts:>6} {target:>9.0f} {stated:>7.0f} {ms.mean():>6.0f} "
                    f"{np.percentile(ms, 95):>6.0f} {ms.max():>6.0f} {speed:>7}"
                )


if __name__ == "__main__":
    main()
