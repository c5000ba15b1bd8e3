"""Helpers shared by the benchmark scripts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def write_song(path: Path, seconds: float, rate: int = 44100, channels: int = 2, block_s: float = 10.0) -> Path:
    """A tone-plus-noise 'song' written block by block (the generator never holds it all)."""
    rng = np.random.default_rng(0)
    total = int(seconds * rate)
    with sf.SoundFile(str(path), "w", samplerate=rate, channels=channels, subtype="PCM_16") as f:
        for start in range(0, total, int(block_s * rate)):
            n = min(int(block_s * rate), total - start)
            t = (start + np.arange(n)) / rate
            voice = 0.3 * np.sin(2 * np.pi * (440 * t + 3 * np.sin(2 * np.pi * 5 * t)))
            block = voice[:, None] + 0.1 * rng.standard_normal((n, channels))
            f.write(np.clip(block, -1, 1).astype(np.float32))
    return path


def benchmark_model(folder: Path) -> Path:
    """A random-weight DRNN of the shipped default's size (needs the ``train`` extra for torch)."""
    try:
        from vocalsplit.audio.stft import StftParams
        from vocalsplit.training.architecture import build_arch
        from vocalsplit.training.export import export_model
    except ImportError as err:
        raise SystemExit(
            f"building the benchmark model needs pip install -e '.[train]' ({err}); or pass --model"
        ) from err
    options = {"context": 3, "layers": 3, "hidden": 384, "recurrent_layer": 0, "cell": "gru"}
    arch = build_arch("drnn", 513, options, 64)
    return export_model(arch, folder / "bench-drnn", StftParams(1024, 512), 16000, {}, {})
