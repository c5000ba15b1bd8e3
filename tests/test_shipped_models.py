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
MANIFESTS = sorted(MODELS.glob("*.json"))
BLENDS = [p for p in MANIFESTS if json.loads(p.read_text()).get("kind") == "blend"]
SHIPPED = [p for p in MANIFESTS if p not in BLENDS]
"""Single models (an ONNX file each); ``BLENDS`` name several of them."""
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


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.stem)
def test_manifest_carries_no_build_machine_paths(path: Path) -> None:
    import re

    text = path.read_text()
    found = re.findall(r'(?<![\w$.])/(?:root|home|work|tmp|Users|mnt|var)/[^" ]*', text)
    assert not found, f"{path.name} names this machine's folders: {found[:3]} (record placeholders like $MIR1K)"


def test_exactly_one_default_model() -> None:
    assert sum(json.loads(p.read_text()).get("default") is True for p in MANIFESTS) == 1


@pytest.mark.parametrize("path", BLENDS, ids=lambda p: p.stem)
def test_a_shipped_blend_names_shipped_models_and_all_their_training_sources(path: Path) -> None:
    from vocalsplit.catalog.blend import Blend
    from vocalsplit.catalog.registry import resolve_model

    blend = resolve_model(str(path), MODELS)
    assert isinstance(blend, Blend) and all(m.manifest.path.parent == MODELS for m in blend.members)
    listed = {(d["member"], d["dataset"], d["licence"]) for d in blend.raw["training"]["data"]}
    members = {
        (m.manifest.name, d["dataset"], d["licence"]) for m in blend.members for d in m.manifest.raw["training"]["data"]
    }
    assert listed == members
    assert blend.quality  # measured, with the command that measured it
    assert all("command" in entry for entry in blend.quality.values())


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


CLIP = Path(__file__).resolve().parent / "data" / "eif-lithium-3s"  # CC0, committed (see tests/data/ATTRIBUTION.md)


def _clip() -> tuple[np.ndarray, np.ndarray, int]:
    import soundfile as sf

    voice, rate = sf.read(str(CLIP / "vocals.flac"), dtype="float32")
    acc, _ = sf.read(str(CLIP / "accompaniment.flac"), dtype="float32")
    return voice.T, acc.T, rate


@pytest.mark.parametrize("path", SHIPPED + BLENDS, ids=lambda p: p.stem)
def test_separates_a_real_full_band_song_in_a_fresh_clone(path: Path) -> None:
    """3 s of a real 44.1 kHz stereo song: measured gains 7.0-10.9 dB (vocals), 2.2-6.1 dB (accompaniment)
    with the default settings; a broken or random model gains about 0 or less."""
    from vocalsplit.api import Separator

    voice, acc, rate = _clip()
    mix = voice + acc
    stems = Separator(path, device="cpu", models_dir=MODELS).separate_array(mix, rate)
    rest = sum(x for name, x in stems.items() if name != "vocals")  # a four-source model's drums + bass + other
    assert _sdr(stems["vocals"], voice) - _sdr(mix, voice) > 4.0
    assert _sdr(rest, acc) - _sdr(mix, acc) > 1.0
    assert np.max(np.abs(stems["vocals"] + rest - mix)) < 1e-4


def test_the_default_model_through_the_cli_on_the_committed_clip(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import soundfile as sf
    from typer.testing import CliRunner

    from vocalsplit.cli import app, route

    monkeypatch.setenv("VOCALSPLIT_MODELS", str(MODELS))
    voice, acc, rate = _clip()
    song = tmp_path / "song.flac"
    sf.write(str(song), (voice + acc).T, rate, subtype="PCM_24")
    result = CliRunner().invoke(app, route([str(song), "-o", str(tmp_path / "out"), "--format", "flac", "-q"]))
    assert result.exit_code == 0, result.stderr
    vocals, _ = sf.read(str(tmp_path / "out" / "song" / "vocals.flac"))
    assert vocals.shape == (voice.shape[1], 2) and sf.info(str(tmp_path / "out/song/vocals.flac")).subtype == "PCM_24"
    assert _sdr(vocals.T, voice) - _sdr(voice + acc, voice) > 4.0
