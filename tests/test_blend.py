"""Blends: several installed models run side by side, their stems averaged with weights."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.helpers import tone_mix, write_audio
from tests.model_factory import recurrent_model
from vocalsplit.catalog.blend import Blend
from vocalsplit.catalog.registry import list_manifests, resolve_model
from vocalsplit.errors import ModelError, ModelNotFoundError, UsageError
from vocalsplit.separation.separator import Separator


def _blend(folder: Path, members: list[dict[str, Any]], name: str = "mix-of-two", **extra: Any) -> Path:
    path = folder / f"{name}.json"
    raw = {"schema_version": 1, "kind": "blend", "name": name, "description": "test blend", "members": members}
    path.write_text(json.dumps({**raw, **extra}))
    return path


@pytest.fixture
def blend_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, models_dir: Path) -> Path:
    """The tiny models plus a second recurrent model at another rate and STFT, and a blend of both."""
    d = tmp_path / "more"
    recurrent_model(d, name="tiny-rnn-22k", sample_rate=22050, n_fft=1024, hop=256, seed=3)
    _blend(d, [{"model": "tiny-rnn", "weight": 0.25, "shifts": 2}, {"model": "tiny-rnn-22k", "weight": 0.75}])
    monkeypatch.setenv("VOCALSPLIT_MODELS", f"{models_dir}:{d}")
    return d


def test_a_blend_is_listed_and_resolved_with_its_members(blend_dir: Path) -> None:
    models, problems = list_manifests()
    assert not problems
    blend = next(m for m in models if m.name == "mix-of-two")
    assert isinstance(blend, Blend)
    assert [(m.manifest.name, m.weight, m.shifts) for m in blend.members] == [
        ("tiny-rnn", 0.25, 2),
        ("tiny-rnn-22k", 0.75, 2),  # no shifts given: the member's own
    ]
    assert blend.sample_rate == 22050 and blend.sources == ("vocals", "accompaniment")
    assert resolve_model("mix-of-two") == blend
    assert resolve_model(str(blend_dir / "mix-of-two.json")) == blend


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ([{"model": "tiny-rnn", "weight": 1.0}], "at least two models"),
        ([{"model": "tiny-rnn", "weight": 0.5}, {"model": "nope", "weight": 0.5}], "'nope' is not an installed model"),
        ([{"model": "tiny-rnn", "weight": 0.5}, {"model": "tiny-conv", "weight": 0.6}], "sum to 1.1, not 1"),
        ([{"model": "tiny-rnn", "weight": 0.0}, {"model": "tiny-conv", "weight": 1.0}], "weight between 0 and 1"),
        ([{"model": "tiny-rnn", "weight": 0.5, "shifts": 0}, {"model": "tiny-conv", "weight": 0.5}], "shifts must"),
    ],
)
def test_a_broken_blend_is_a_clear_problem_and_cannot_be_used(
    models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, members: list[dict[str, Any]], message: str
) -> None:
    _blend(tmp_path, members, name="broken")
    monkeypatch.setenv("VOCALSPLIT_MODELS", f"{models_dir}:{tmp_path}")
    models, problems = list_manifests()
    assert [m.name for m in models] == ["tiny-conv", "tiny-rnn"]  # the single models still load
    assert len(problems) == 1 and message in problems[0]
    with pytest.raises(ModelNotFoundError, match=message):
        resolve_model("broken")
    with pytest.raises(ModelError, match=message):
        resolve_model(str(tmp_path / "broken.json"))


def test_members_must_separate_the_same_sources(models_dir: Path, tmp_path: Path) -> None:
    from tests.model_factory import conv_model

    conv_model(tmp_path, name="tiny-4", sources=("vocals", "drums", "bass", "other"))
    path = _blend(tmp_path, [{"model": "tiny-rnn", "weight": 0.5}, {"model": "tiny-4", "weight": 0.5}])
    with pytest.raises(ModelError, match="members must separate the same sources"):
        resolve_model(str(path), tmp_path)


def test_blended_stems_are_the_weighted_mean_of_the_members_and_sum_to_the_song(blend_dir: Path) -> None:
    x = tone_mix(1.5, 44100)
    blend = Separator("mix-of-two", device="cpu", chunk_seconds=0.3)
    first = Separator("tiny-rnn", device="cpu", chunk_seconds=0.3, shifts=2)
    second = Separator("tiny-rnn-22k", device="cpu", chunk_seconds=0.3)
    got, a, b = (s.separate_array(x, 44100) for s in (blend, first, second))
    assert blend.shifts == (2, 2)
    for stem in ("vocals", "accompaniment"):
        assert got[stem].shape == x.shape
        np.testing.assert_allclose(got[stem], 0.25 * a[stem] + 0.75 * b[stem], atol=1e-6)
    np.testing.assert_allclose(got["vocals"] + got["accompaniment"], x, atol=1e-5)
    assert np.abs(a["vocals"] - b["vocals"]).max() > 1e-3  # the members differ: the weights matter


def test_a_blend_streams_the_same_for_any_block_and_chunk(blend_dir: Path) -> None:
    x = tone_mix(2.0, 44100, seed=1)
    one = Separator("mix-of-two", device="cpu", chunk_seconds=0.2)
    other = Separator("mix-of-two", device="cpu", chunk_seconds=0.7)
    stream = one.open_stream(44100, 2)
    parts = [stream.push(x[:, i : i + 777]) for i in range(0, x.shape[1], 777)] + [stream.finish()]
    streamed = np.concatenate([p["vocals"] for p in parts], axis=1)
    assert streamed.shape == x.shape
    np.testing.assert_allclose(streamed, other.separate_array(x, 44100)["vocals"], atol=1e-5)


def test_shifts_override_every_member_and_latency_is_the_slowest_members(blend_dir: Path) -> None:
    blend = Separator("mix-of-two", device="cpu", shifts=1)
    assert blend.shifts == (1, 1)
    members = [Separator(n, device="cpu", shifts=1) for n in ("tiny-rnn", "tiny-rnn-22k")]
    assert blend.latency(44100).total == max(m.latency(44100).total for m in members)
    stated = blend.fit_latency(0.5, 44100)
    assert stated.total <= 0.5
    assert [p.chunk_frames for p in blend.parts] == [m.fit_latency(0.5, 44100) and m.chunk_frames for m in members]
    with pytest.raises(UsageError, match="needs at least"):
        blend.fit_latency(0.01, 44100)


def test_the_cli_separates_with_a_blend_and_lists_it(blend_dir: Path, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    song = write_audio(tmp_path / "song.wav", tone_mix(1.0, 44100), 44100)
    code, _, err = cli(song, "-o", tmp_path / "out", "--model", "mix-of-two", "--report", tmp_path / "r.json")
    assert code == 0, err
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["model"] == "mix-of-two" and report["shifts"] == [2, 2]
    assert sorted(p.name for p in (tmp_path / "out" / "song").iterdir()) == ["accompaniment.wav", "vocals.wav"]
    code, out, _ = cli("models", "--json")
    row = next(r for r in json.loads(out)["models"] if r["name"] == "mix-of-two")
    assert row["architecture"] == "blend" and row["passes"] == [2, 2]
    assert [m["model"] for m in row["members"]] == ["tiny-rnn", "tiny-rnn-22k"]
    code, out, _ = cli("models")
    assert code == 0 and "mix-of-two" in out and "2+2" in out


def test_a_changed_member_changes_the_blends_digest(blend_dir: Path, models_dir: Path) -> None:
    before = resolve_model("mix-of-two").sha256
    recurrent_model(blend_dir, name="tiny-rnn-22k", sample_rate=22050, n_fft=1024, hop=256, seed=4)
    assert resolve_model("mix-of-two").sha256 != before


def test_doctor_checks_a_blend_by_its_members(blend_dir: Path, cli) -> None:  # type: ignore[no-untyped-def]
    code, stdout, _ = cli("doctor")
    assert code == 0
    assert "blend mix-of-two" in stdout and "tiny-rnn × 0.25, tiny-rnn-22k × 0.75" in stdout
