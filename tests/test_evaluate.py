import json
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import tone_mix, write_audio

pytest.importorskip("torch")
pytest.importorskip("fast_bss_eval")

from vocalsplit.evaluation.evaluate import EvalRequest, evaluate, write_results  # noqa: E402


def _mir1k(root: Path) -> Path:
    for name, seed in (("abjones_1_01", 0), ("Ani_1_01", 1), ("bobon_2_03", 2)):
        voice = tone_mix(1.0, 16000, 1, seed)[0]
        music = tone_mix(1.0, 16000, 1, seed + 10)[0] * 0.5
        write_audio(root / "Wavfile" / f"{name}.wav", np.stack([music, voice]), 16000, "PCM_16")
    return root


def test_mir1k_protocol_scores_only_test_singers(rnn_separator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    req = EvalRequest("mir1k", _mir1k(tmp_path / "mir"), masks=("soft", "binary"), workers=1)
    result = evaluate(rnn_separator, req)
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
    # whole-clip figures beside BSS Eval: one row per clip and mask, summarised by median and mean
    chart = tmp_path / "res" / "per_track.png"
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and json.loads(json_path.read_text())["chart"] == chart.name
    tracks = (tmp_path / "res" / "per_track.csv").read_text().splitlines()
    assert tracks[0] == "mask,track,seconds,vocals_SDR,acc_SDR,vocals_high_band_dB" and len(tracks) == 1 + 4
    for mask in ("soft", "binary"):
        rows = result["tracks"][mask]
        sdrs = sorted(r["vocals_SDR"] for r in rows)
        assert result["summary"][mask]["vocals_SDR_median"] == pytest.approx(np.mean(sdrs))  # two clips
        assert result["summary"][mask]["tracks"] == 2 and all(np.isfinite(sdrs))


def test_metric_timeout_is_reported_not_hung(rnn_separator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    req = EvalRequest("mir1k", _mir1k(tmp_path / "mir"), masks=("soft",), workers=1, clip_timeout_s=0.001)
    result = evaluate(rnn_separator, req)
    assert result["failures"] and "timed out" in result["failures"][0]["error"]


def test_eval_cli_with_shifts_records_them_beside_the_plain_figures(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.model_factory import recurrent_model

    models = tmp_path / "models"
    recurrent_model(models)
    manifest = models / "tiny-rnn.json"
    data = _mir1k(tmp_path / "mir")
    for extra in (["--shifts", "1"], []):  # the default is two passes, as for separation
        code, stdout, stderr = cli(
            "eval", "--data-dir", data, "--model", manifest, "--masks", "soft", "--workers", "1",
            "--results", tmp_path / f"res{len(extra)}", "--update-manifest", *extra,
        )  # fmt: skip
        assert code == 0, stderr
    quality = json.loads(manifest.read_text())["quality"]
    plain, shifted = quality["mir1k_test"], quality["mir1k_test_shifts2"]
    assert (plain["shifts"], shifted["shifts"], shifted["clips"]) == (1, 2, 2)
    assert plain["soft"]["GNSDR"] != shifted["soft"]["GNSDR"]
    assert json.loads((tmp_path / "res0" / "summary.json").read_text())["shifts"] == 2
    code, stdout, _ = cli("models", "--models-dir", models, "--json")
    listed = next(m for m in json.loads(stdout)["models"] if m["path"] == str(models / "tiny-rnn.onnx"))
    assert (listed["gnsdr_db"], listed["shifts"]) == (plain["soft"]["GNSDR"], 2)
    assert listed["gnsdr_db_shifts"] == shifted["soft"]["GNSDR"]
    code, _, stderr = cli("eval", "--data-dir", data, "--model", manifest, "--shifts", "17")
    assert code == 2 and "--shifts 17: must be between 1 and 16" in stderr


def test_eval_of_a_blend_records_each_members_passes(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.model_factory import conv_model, recurrent_model

    models = tmp_path / "models"
    recurrent_model(models)
    conv_model(models)
    blend = models / "pair.json"
    members = [{"model": "tiny-rnn", "weight": 0.5, "shifts": 2}, {"model": "tiny-conv", "weight": 0.5, "shifts": 1}]
    blend.write_text(json.dumps({"schema_version": 1, "kind": "blend", "name": "pair", "members": members}))
    data = _mir1k(tmp_path / "mir")
    for extra in ([], ["--shifts", "1"]):
        code, _, stderr = cli(
            "eval", "--data-dir", data, "--models-dir", models, "--model", "pair", "--masks", "soft",
            "--workers", "1", "--results", tmp_path / f"res{len(extra)}", "--update-manifest", *extra,
        )  # fmt: skip
        assert code == 0, stderr
    quality = json.loads(blend.read_text())["quality"]
    own, overridden = quality["mir1k_test"], quality["mir1k_test_shifts1+1"]
    assert (own["shifts"], overridden["shifts"]) == ([2, 1], [1, 1])
    assert own["soft"]["GNSDR"] != overridden["soft"]["GNSDR"]
    code, stdout, _ = cli("models", "--models-dir", models)
    line = next(x for x in stdout.splitlines() if x.startswith("pair "))
    assert code == 0 and f"MIR-1K GNSDR {own['soft']['GNSDR']:.2f} dB" in line and line.endswith("(2+1 passes)")


def test_recorded_commands_use_placeholders_for_this_machines_folders() -> None:
    from vocalsplit.choices import Dataset
    from vocalsplit.cli.evaluate import portable_command

    argv = "vocalsplit eval --dataset mir1k --data-dir /root/datasets/mir-1k --model /home/me/m/x.json"
    argv += " --results=/work/runs/r --shifts 2 --update-manifest"
    assert portable_command(argv.split(), Dataset.MIR1K) == (
        "vocalsplit eval --dataset mir1k --data-dir $MIR1K --model $MODELS/x.json --results=$RESULTS "
        "--shifts 2 --update-manifest"
    )
    assert "$STEMS" in portable_command(["vocalsplit", "eval", "--data-dir", "/x/y"], Dataset.STEMS)


def test_a_four_source_model_is_scored_on_each_source_of_four_stem_tracks(tmp_path: Path) -> None:
    from tests.model_factory import conv_model
    from vocalsplit.evaluation.metrics import global_sdr
    from vocalsplit.separation.separator import Separator

    sources = ("vocals", "drums", "bass", "other")
    separator = Separator(conv_model(tmp_path / "models", name="tiny-4", sources=sources), device="cpu", shifts=1)
    stems = {s: 0.3 * tone_mix(2.0, 44100, 2, seed=i) for i, s in enumerate(sources)}
    for s, x in stems.items():
        write_audio(tmp_path / "tracks" / "song" / f"{s}.flac", x, 44100, "PCM_24")
    # a two-stem track in the same folder is scored as vocals and accompaniment only
    write_audio(tmp_path / "tracks" / "pair" / "vocals.flac", stems["vocals"], 44100, "PCM_24")
    write_audio(tmp_path / "tracks" / "pair" / "accompaniment.flac", stems["drums"], 44100, "PCM_24")
    result = evaluate(separator, EvalRequest("stems", tmp_path / "tracks", masks=("soft",), workers=1))
    rows = {r["track"]: r for r in result["tracks"]["soft"]}
    assert "drums_SDR" not in rows["pair"]
    song = rows["song"]
    mix = sum(stems.values())
    estimate = separator.separate_array(mix, 44100, mask="soft")
    for s in sources:
        assert song[f"{s}_SDR"] == pytest.approx(global_sdr(stems[s], estimate[s]), abs=1e-3)
    rest = estimate["drums"] + estimate["bass"] + estimate["other"]
    assert song["acc_SDR"] == pytest.approx(global_sdr(mix - stems["vocals"], rest), abs=1e-3)
    summary = result["summary"]["soft"]
    assert summary["bass_SDR_median"] == pytest.approx(song["bass_SDR"])  # the only track with a bass
    write_results(result, tmp_path / "res")
    header = (tmp_path / "res" / "per_track.csv").read_text().splitlines()[0]
    assert header == "mask,track,seconds,vocals_SDR,acc_SDR,vocals_high_band_dB,drums_SDR,bass_SDR,other_SDR"
