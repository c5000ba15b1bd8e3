"""The trained models shipped in models/: intact, loadable, and really separating."""

import json
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import SHARED
from vocalsplit.catalog.manifest import load_manifest
from vocalsplit.runtime.providers import parse_device
from vocalsplit.runtime.session import ModelSession
from vocalsplit.separation.pipeline import separate_array

MODELS = Path(__file__).resolve().parents[1] / "models"
SHIPPED = sorted(MODELS.glob("*.json"))
pytestmark = pytest.mark.skipif(not SHIPPED, reason="no trained model shipped yet")


def _sdr(estimate: np.ndarray, reference: np.ndarray) -> float:
    """Plain signal-to-distortion ratio in dB (no BSS Eval projection): a cheap sanity figure."""
    return float(10 * np.log10(np.sum(reference**2) / np.sum((reference - estimate) ** 2)))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_manifest_is_complete_and_file_verified(path: Path) -> None:
    m = load_manifest(path)
    m.verify()
    raw = json.loads(path.read_text())
    assert raw["training"]["steps"] > 0 and raw["training"]["data"]
    # every training source says where it came from and under which licence
    assert all(entry["dataset"] and entry["licence"] for entry in raw["training"]["data"])
    assert max(raw["parity"].values()) < 1e-4
    ModelSession(m, parse_device("cpu"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_manifest_carries_no_build_machine_paths(path: Path) -> None:
    import re

    text = path.read_text()
    found = re.findall(r'(?<![\w$.])/(?:root|home|work|tmp|Users|mnt|var)/[^" ]*', text)
    assert not found, f"{path.name} names this machine's folders: {found[:3]} (record placeholders like $MIR1K)"


def test_exactly_one_default_model() -> None:
    assert sum(load_manifest(p).default for p in SHIPPED) == 1


@pytest.mark.skipif(not (SHARED / "testclips").is_dir(), reason="../shared/data/testclips absent")
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_separates_real_mir1k_test_singers(path: Path) -> None:
    import soundfile as sf

    session = ModelSession(load_manifest(path), parse_device("cpu"))
    gains = []
    for clip in ("Ani_1_01", "bobon_1_04", "heycat_2_01", "yifen_1_16"):
        data, rate = sf.read(str(SHARED / "testclips" / "mir1k" / f"{clip}.flac"), dtype="float32")
        acc, voice = data[:, 0], data[:, 1]
        mix = acc + voice
        est = separate_array(session, mix, rate)["vocals"]
        gains.append(_sdr(est, voice) - _sdr(mix, voice))
    # the shipped models gain 8-11 dB on these clips; a broken or random model gains ~0 or less
    assert np.mean(gains) > 4.0, gains
