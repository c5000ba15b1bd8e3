from pathlib import Path

import numpy as np
import pytest
from conftest import tone_mix, write_audio

pytest.importorskip("torch")
pytest.importorskip("fast_bss_eval")

from vocalsplit.training.evaluate import EvalRequest, evaluate, write_results  # noqa: E402


def _mir1k(root: Path) -> Path:
    for name, seed in (("abjones_1_01", 0), ("Ani_1_01", 1), ("bobon_2_03", 2)):
        voice = tone_mix(1.0, 16000, 1, seed)[0]
        music = tone_mix(1.0, 16000, 1, seed + 10)[0] * 0.5
        write_audio(root / "Wavfile" / f"{name}.wav", np.stack([music, voice]), 16000, "PCM_16")
    return root


def test_mir1k_protocol_scores_only_test_singers(rnn_session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    req = EvalRequest("mir1k", _mir1k(tmp_path / "mir"), masks=("soft", "binary"), workers=1)
    result = evaluate(rnn_session, req, chunk=64)
    assert result["clips"] == 2 and not result["failures"]
    assert sorted(r["clip"] for r in result["rows"]["soft"]) == ["Ani_1_01", "bobon_2_03"]
    for mask in ("soft", "binary"):
        s = result["summary"][mask]
        assert s["clips"] == 2 and np.isfinite([s["GNSDR"], s["GSIR"], s["GSAR"], s["acc_GNSDR"]]).all()
    # NSDR = SDR - SDR(mixture): the mixture baseline is the same whichever mask was used
    soft, binary = result["rows"]["soft"][0], result["rows"]["binary"][0]
    assert soft["SDR"] - soft["NSDR"] == pytest.approx(binary["SDR"] - binary["NSDR"], abs=1e-6)
    assert soft["SDR"] != binary["SDR"]
    csv_path, json_path = write_results(result, tmp_path / "res")
    assert len(csv_path.read_text().splitlines()) == 1 + 4
    assert '"GNSDR"' in json_path.read_text()


def test_metric_timeout_is_reported_not_hung(rnn_session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    req = EvalRequest("mir1k", _mir1k(tmp_path / "mir"), masks=("soft",), workers=1, clip_timeout_s=0.001)
    result = evaluate(rnn_session, req, chunk=64)
    assert result["failures"] and "timed out" in result["failures"][0]["error"]
