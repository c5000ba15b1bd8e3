from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

sys.path.insert(0, str(Path(__file__).parent))

from model_factory import conv_model, recurrent_model  # noqa: E402

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def tone_mix(seconds: float, rate: int, channels: int = 2, seed: int = 0) -> np.ndarray:
    """A 'song': a voice-like vibrato tone plus noise and a low chirp, ``(channels, n)``."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    voice = 0.3 * np.sin(2 * np.pi * (440 * t + 3 * np.sin(2 * np.pi * 5 * t)))
    chirp = 0.2 * np.sin(2 * np.pi * (80 * t + 40 * t**2))
    out = np.stack(
        [
            voice * (0.5 + 0.5 * c / max(channels, 1)) + chirp + 0.05 * rng.standard_normal(t.size)
            for c in range(channels)
        ]
    )
    return out.astype(np.float32)


def write_audio(path: Path, audio: np.ndarray, rate: int, subtype: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), audio.T, rate, subtype=subtype)
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("models")
    recurrent_model(d, default=True)
    conv_model(d)
    return d


@pytest.fixture(autouse=True)
def _isolated_models(monkeypatch: pytest.MonkeyPatch, models_dir: Path) -> None:
    """Tests see only the tiny test models, never shipped or user-installed ones."""
    from vocalsplit.catalog import registry

    monkeypatch.setattr(registry, "builtin_dirs", lambda: [])
    monkeypatch.setenv("VOCALSPLIT_MODELS", str(models_dir))
    monkeypatch.delenv("VOCALSPLIT_MODEL", raising=False)


@pytest.fixture(scope="session")
def rnn_session(models_dir: Path):  # type: ignore[no-untyped-def]
    from vocalsplit.catalog.manifest import load_manifest
    from vocalsplit.runtime.providers import parse_device
    from vocalsplit.runtime.session import ModelSession

    return ModelSession(load_manifest(models_dir / "tiny-rnn.json"), parse_device("cpu"))


@pytest.fixture(scope="session")
def conv_session(models_dir: Path):  # type: ignore[no-untyped-def]
    from vocalsplit.catalog.manifest import load_manifest
    from vocalsplit.runtime.providers import parse_device
    from vocalsplit.runtime.session import ModelSession

    return ModelSession(load_manifest(models_dir / "tiny-conv.json"), parse_device("cpu"))


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run the CLI in-process: returns (exit_code, stdout, stderr)."""
    from typer.testing import CliRunner

    from vocalsplit.cli import app, route

    def run(*args: str | Path) -> tuple[int, str, str]:
        runner = CliRunner()
        result = runner.invoke(app, route([str(a) for a in args]), catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return run
