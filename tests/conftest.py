"""Fixtures: tiny random-weight models, isolated from installed ones; the CLI run in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.model_factory import conv_model, recurrent_model


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


@pytest.fixture(scope="session")
def rnn_separator(models_dir: Path):  # type: ignore[no-untyped-def]
    """The tiny recurrent model as users load it, one pass, 64-frame chunks."""
    from vocalsplit.separation.separator import Separator

    return Separator(models_dir / "tiny-rnn.json", device="cpu", shifts=1, chunk_seconds=64 * 128 / 16000)


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
