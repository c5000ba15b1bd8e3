"""vocalsplit end to end against the network alone of an Open-Unmix-HQ-sized separator, same song, same cores.

Open-Unmix (Stöter et al. 2019, "umxhq") runs one network per target on 4096/1024
STFT magnitudes at 44.1 kHz: a dense layer on the bins up to 16 kHz (1487 of 2049)
and both channels to 512 units, three bidirectional LSTM layers (2 × 256), two more
dense layers back to 2049 bins × 2 channels. Its weights do not change its speed, so
this builds that network here with random weights (needs torch: the ``train`` extra),
exports it to ONNX and times onnxruntime on a song's frames for two targets (vocals
and accompaniment), without its STFT, Wiener filter or file I/O. vocalsplit is timed
in memory, end to end (resampling, STFT, network, masks, inverse STFT), default
settings unless ``--shifts`` says otherwise.

    python benchmarks/versus_umx.py [--seconds 240] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import write_song  # run as a script: benchmarks/ is on sys.path

BINS, KEPT, HIDDEN, HOP = 2049, 1487, 512, 1024


def umx_network(channels: int = 2):  # type: ignore[no-untyped-def]
    import torch
    from torch import nn

    class UmxSized(nn.Module):
        """Open-Unmix's layer sizes; input ``(frames, channels, bins)`` magnitudes."""

        def __init__(self) -> None:
            super().__init__()
            self.fc1 = nn.Sequential(nn.Linear(KEPT * channels, HIDDEN, bias=False), nn.BatchNorm1d(HIDDEN))
            self.lstm = nn.LSTM(HIDDEN, HIDDEN // 2, num_layers=3, bidirectional=True, dropout=0.4)
            self.fc2 = nn.Sequential(nn.Linear(2 * HIDDEN, HIDDEN, bias=False), nn.BatchNorm1d(HIDDEN), nn.ReLU())
            self.fc3 = nn.Sequential(nn.Linear(HIDDEN, BINS * channels, bias=False), nn.BatchNorm1d(BINS * channels))

        def forward(self, mag: torch.Tensor) -> torch.Tensor:
            frames = mag.shape[0]
            x = torch.tanh(self.fc1(mag[..., :KEPT].reshape(frames, -1)))
            y, _ = self.lstm(x.unsqueeze(1))
            x = self.fc2(torch.cat([x, y.squeeze(1)], dim=-1))
            return torch.relu(self.fc3(x)).reshape(frames, channels, BINS) * mag

    return UmxSized().eval()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=240.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--shifts", type=int, default=None, help="vocalsplit --shifts (default: the default)")
    args = ap.parse_args()
    import onnxruntime as ort
    import soundfile as sf
    import torch

    from vocalsplit.api import Separator

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        onnx_path = d / "umx.onnx"
        net = umx_network()
        example = torch.rand(64, 2, BINS)
        torch.onnx.export(
            net, (example,), str(onnx_path), input_names=["mag"], output_names=["out"],
            dynamic_axes={"mag": {0: "frames"}, "out": {0: "frames"}}, opset_version=17, dynamo=False,
        )  # fmt: skip
        umx = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        song = write_song(d / "song.wav", args.seconds)
        audio, rate = sf.read(str(song), dtype="float32", always_2d=True)
        frames = len(audio) // HOP + 4
        mag = np.abs(np.random.default_rng(0).standard_normal((frames, 2, BINS))).astype(np.float32)
        separator = Separator() if args.shifts is None else Separator(shifts=args.shifts)
        separator.separate_array(audio.T[:, :rate], rate)  # warm-up
        umx.run(None, {"mag": mag[:64]})
        ours, theirs = [], []
        for _ in range(args.rounds):
            t = time.perf_counter()
            separator.separate_array(audio.T, rate)
            ours.append(time.perf_counter() - t)
            t = time.perf_counter()
            for _target in ("vocals", "accompaniment"):
                umx.run(None, {"mag": mag})
            theirs.append(time.perf_counter() - t)
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"{args.seconds:g}-s stereo song, medians of {args.rounds} interleaved rounds, onnxruntime CPU")
    print(f"vocalsplit {separator.manifest.name}, shifts {separator.shifts}, end to end: {a:6.2f} s")
    print(f"Open-Unmix-HQ-sized network, 2 targets, network only: {b:6.2f} s")
    print(f"vocalsplit is {b / a:.2f}x the speed of that network")


if __name__ == "__main__":
    main()
