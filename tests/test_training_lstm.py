"""The full-band LSTM soft-mask network: trains, exports with parity, streams chunk-invariantly."""

import json
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import make_stems, tone_mix

torch = pytest.importorskip("torch")

from vocalsplit.catalog.manifest import load_manifest  # noqa: E402
from vocalsplit.errors import DatasetError  # noqa: E402
from vocalsplit.runtime.providers import parse_device  # noqa: E402
from vocalsplit.runtime.session import ModelSession  # noqa: E402
from vocalsplit.separation.pipeline import separate_array  # noqa: E402
from vocalsplit.training.config import DataSpec, TrainConfig  # noqa: E402
from vocalsplit.training.trainer import train  # noqa: E402

SMALL = {"window": 8, "hidden": 8, "bottleneck": 6, "layers": 2}


def _config(tmp_path: Path, **kw) -> TrainConfig:  # type: ignore[no-untyped-def]
    base = dict(
        data=[DataSpec("stems", make_stems(tmp_path / "stems"))],
        out=tmp_path / "models" / "lstm-test",
        run_dir=tmp_path / "run",
        arch="lstm",
        arch_options=SMALL,
        batch=4,
        steps=4,
        val_every=2,
        sample_rate=22050,
        n_fft=256,
        hop=64,
        device="cpu",
    )
    return TrainConfig(**{**base, **kw})


def test_lstm_trains_on_named_validation_tracks_exports_and_streams_exactly(tmp_path: Path) -> None:
    config = _config(tmp_path, validation_tracks=("t2",))
    (config.data[0].path / "LICENSE").write_text("\nCC0 1.0 Universal\n\nStatement of purpose ...\n")
    result = train(config)
    raw = json.loads(result.manifest.read_text())
    assert raw["training"]["data"][0]["validation_tracks"] == ["t2"]
    assert raw["training"]["data"][0]["train_tracks"] == ["t1", "t3"]
    assert raw["training"]["data"][0]["licence"] == "CC0 1.0 Universal"  # the folder's LICENSE file
    assert raw["training"]["device"] == "cpu" and max(raw["parity"].values()) < 1e-4
    m = load_manifest(result.manifest)
    assert (m.architecture, m.sample_rate, m.frame_multiple, m.context_left, m.mask_kind) == (
        "lstm",
        22050,
        4,
        4,
        "soft",
    )
    session = ModelSession(m, parse_device("cpu"))
    x = tone_mix(1.1, 44100)
    whole = separate_array(session, x, 44100, chunk=100_000, shifts=1)
    chunked = separate_array(session, x, 44100, chunk=5, block=3001, shifts=1)  # 5 frames → the window grid
    assert np.max(np.abs(whole["vocals"] - chunked["vocals"])) < 1e-4
    assert np.max(np.abs(whole["vocals"] + whole["accompaniment"] - x)) < 1e-4


def test_unknown_validation_track_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="--validation-track t9: no such track"):
        train(_config(tmp_path, validation_tracks=("t9",)))
