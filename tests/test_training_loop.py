"""train → export → parity → separate through the CLI, on synthetic stems."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.helpers import SHARED, make_stems, tone_mix, write_audio

torch = pytest.importorskip("torch")

from vocalsplit.catalog.manifest import load_manifest  # noqa: E402
from vocalsplit.errors import TrainingError, UsageError  # noqa: E402
from vocalsplit.training import drnn as drnn_module  # noqa: E402
from vocalsplit.training.architecture import build_arch  # noqa: E402
from vocalsplit.training.export import parity  # noqa: E402
from vocalsplit.training.trainer import DataSpec, TrainConfig, train  # noqa: E402


def _config(tmp_path: Path, **kw) -> TrainConfig:  # type: ignore[no-untyped-def]
    data = make_stems(tmp_path / "stems")
    base = dict(
        data=[DataSpec("stems", data)],
        out=tmp_path / "models" / "drnn-test",
        run_dir=tmp_path / "run",
        arch_options={"hidden": 24, "layers": 2, "recurrent_layer": 1, "cell": "gru", "context": 3},
        batch=4,
        frames=16,
        steps=6,
        val_every=3,
        n_fft=256,
        hop=64,
        val_fraction=0.34,
    )
    base.update(kw)
    return TrainConfig(**base)


def test_train_export_parity_and_separate_through_cli(tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    result = train(_config(tmp_path))
    manifest = load_manifest(result.manifest)
    manifest.verify()
    assert manifest.architecture == "drnn" and manifest.stft.n_fft == 256
    assert manifest.context_left == manifest.context_right == 1
    assert [s.input for s in manifest.states] == ["h_in"] and manifest.states[0].shape == (1, 24)
    raw = json.loads(result.manifest.read_text())
    assert raw["parity"]["random_max_abs"] < 1e-4 and raw["parity"]["real_clip_max_abs"] < 1e-4
    assert raw["training"]["steps"] == 6 and raw["training"]["data"][0]["validation_tracks"]
    assert raw["training"]["best_step"] in (3, 6)
    assert raw["training"]["validation_split"] == "name"
    log = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [3, 6]
    assert (tmp_path / "run" / "loss.png").read_bytes()[:4] == b"\x89PNG"  # the curves, to look at

    song = write_audio(tmp_path / "song.wav", tone_mix(1.5, 44100), 44100, "PCM_16")
    code, stdout, stderr = cli(song, "-o", tmp_path / "out", "--model", result.manifest, "-q")
    assert code == 0, stderr
    v, _ = sf.read(str(tmp_path / "out/song/vocals.wav"))
    assert v.shape == (int(1.5 * 44100), 2) and np.std(v) > 1e-3

    # resume continues from the saved step
    resumed = train(_config(tmp_path, steps=9, resume=True))
    assert resumed.steps == 9


def test_validation_sdr_per_checkpoint_is_what_the_exported_model_scores(tmp_path: Path) -> None:
    from vocalsplit.api import Separator
    from vocalsplit.evaluation.checkpoint_sdr import checkpoint_sdr
    from vocalsplit.evaluation.metrics import global_sdr
    from vocalsplit.training.data import load_clips

    config = _config(tmp_path)
    result = train(config, scorer=checkpoint_sdr)
    log = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [sorted(r["val_sdr"]) for r in log] == [["accompaniment", "vocals"]] * 2
    best = json.loads(result.manifest.read_text())["training"]["best_step"]
    logged = next(r["val_sdr"] for r in log if r["step"] == best)
    _, clips, _ = load_clips(config)
    separator = Separator(result.manifest, device="cpu", shifts=1)
    scores = []
    for clip in clips:
        stems = separator.separate_array(clip.mixture, clip.rate)
        scores.append(global_sdr(clip.voice, stems["vocals"]))
    assert abs(float(np.mean(scores)) - logged["vocals"]) < 0.01


def test_validation_sdr_scores_excerpts_where_every_source_sounds() -> None:
    from vocalsplit.evaluation.checkpoint_sdr import _excerpts

    n = 1000
    rng = np.random.default_rng(0)
    voice = rng.standard_normal((2, 3500)).astype(np.float32)
    voice[:, :n] = 0.0  # a song's intro: no singing yet
    music = rng.standard_normal((2, 3500)).astype(np.float32)
    excerpts = _excerpts({"vocals": voice, "accompaniment": music}, n)
    assert len(excerpts) == 2  # [1000, 2000) and [2000, 3000); the intro and the short tail are left out
    assert all(e["vocals"].shape == (2, n) and np.abs(e["vocals"]).max() > 0 for e in excerpts)
    assert np.array_equal(excerpts[0]["accompaniment"], music[:, n : 2 * n])
    short = _excerpts({"vocals": voice[:, n : n + 300], "accompaniment": music[:, :300]}, n)
    assert len(short) == 1 and short[0]["vocals"].shape == (2, 300)  # a clip shorter than an excerpt: whole


def test_select_sdr_exports_the_checkpoint_with_the_best_mean_validation_sdr(tmp_path: Path) -> None:
    from vocalsplit.evaluation.checkpoint_sdr import checkpoint_sdr

    config = _config(tmp_path, steps=6, val_every=2, select="sdr")
    result = train(config, scorer=checkpoint_sdr)
    log = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    means = {r["step"]: float(np.mean(list(r["val_sdr"].values()))) for r in log}
    best_step = max(means, key=lambda k: means[k])
    training = json.loads(result.manifest.read_text())["training"]
    assert training["best_step"] == best_step
    assert training["selected_by"] == "validation SDR (mean over sources)"
    assert training["best_validation_sdr"] == pytest.approx(means[best_step], abs=1e-3)
    assert result.best_described == f"best mean validation SDR {means[best_step]:.2f} dB"
    # resumed under the other rule, the stored best (an SDR) is not compared with losses
    resumed = train(replace(config, steps=8, resume=True, select="loss"), scorer=checkpoint_sdr)
    training = json.loads(resumed.manifest.read_text())["training"]
    assert training["best_step"] == 8 and training["selected_by"] == "validation loss"
    rows = (tmp_path / "run" / "log.jsonl").read_text()
    again = train(replace(config, steps=8, resume=True, select="loss"), scorer=checkpoint_sdr)  # nothing left: export
    assert again.steps == 8 and (tmp_path / "run" / "log.jsonl").read_text() == rows
    with pytest.raises(UsageError, match="--select sdr needs"):
        train(replace(config, run_dir=tmp_path / "other"))


def test_phase_sensitive_loss_trains_and_is_recorded(tmp_path: Path) -> None:
    from vocalsplit.training.config import LossSettings

    result = train(_config(tmp_path, loss=LossSettings("psa", gamma=0.05), steps=3, val_every=3))
    raw = json.loads(result.manifest.read_text())
    assert raw["hyperparameters"]["loss"]["kind"] == "psa"
    log = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert np.isfinite(log[-1]["val_loss"]) and log[-1]["val_loss"] > 0


def test_repitched_copies_join_the_training_data_and_the_manifest(tmp_path: Path) -> None:
    from vocalsplit.training.config import Augment

    result = train(_config(tmp_path, steps=3, val_every=3, augment=Augment(repitch=(-1.0, 2.0))))
    raw = json.loads(result.manifest.read_text())
    assert raw["hyperparameters"]["augment"]["repitch"] == [-1.0, 2.0]
    with pytest.raises(UsageError, match="--repitch 0"):
        _config(tmp_path, augment=Augment(repitch=(0.0,)))


def test_init_from_grows_the_context_and_refuses_misfits(tmp_path: Path) -> None:
    base = _config(tmp_path, steps=3, val_every=3)
    train(base)
    grown = replace(
        base,
        run_dir=tmp_path / "run5",
        out=tmp_path / "models" / "ctx5",
        arch_options={**base.arch_options, "context": 5},
        init_from=tmp_path / "run" / "best.pt",
    )
    result = train(grown)
    raw = json.loads(result.manifest.read_text())
    assert raw["hyperparameters"]["context"] == 5
    # the manifest says what training the starting weights had, which its own minutes leave out
    assert raw["training"]["init_from_training"]["steps"] == 3
    assert raw["training"]["init_from_training"]["minutes"] >= 0
    # a fine-tune of that exported model counts both runs before it
    onnx = result.manifest.with_suffix(".onnx")
    again = train(replace(grown, run_dir=tmp_path / "run-again", out=tmp_path / "models" / "again", init_from=onnx))
    prior = json.loads(again.manifest.read_text())["training"]["init_from_training"]
    assert prior["steps"] == 3 and prior["device"] == "cpu"
    assert prior["minutes_before_it"] == raw["training"]["init_from_training"]["minutes"]

    with pytest.raises(TrainingError, match="do not fit this network"):
        train(replace(grown, arch_options={**grown.arch_options, "hidden": 32}))
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(TrainingError, match="not a vocalsplit training checkpoint"):
        train(replace(grown, init_from=junk))


@pytest.mark.parametrize(
    ("cell", "recurrent_layer", "weights"), [("lstm", 1, "float16"), ("gru", 0, "float32"), ("relu", 2, "float32")]
)
def test_init_from_an_exported_onnx_model_starts_from_exactly_its_weights(
    tmp_path: Path, cell: str, recurrent_layer: int, weights: str
) -> None:
    import onnxruntime as ort

    from vocalsplit.training.checkpoints import init_from

    options = {"hidden": 24, "layers": 2, "recurrent_layer": recurrent_layer, "cell": cell, "context": 3}
    base = _config(tmp_path, steps=2, val_every=2, arch_options=options, weights=weights)
    result = train(base)
    onnx_path = result.manifest.with_suffix(".onnx")
    arch = build_arch("drnn", 129, options, 16)
    init_from(arch, onnx_path)
    arch.net.eval()
    x = np.abs(np.random.default_rng(3).standard_normal((2, 20, 129))).astype(np.float32)
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    feed = {"magnitude": x, **{i.name: np.zeros((2, *i.shape[1:]), np.float32) for i in session.get_inputs()[1:]}}
    expected = session.run(["masks"], feed)[0]
    with torch.no_grad():
        masks, _ = arch.net(torch.from_numpy(x), arch.net.initial_state(2))
    assert np.abs(masks.numpy() - expected).max() < 1e-5

    with pytest.raises(TrainingError, match="in this network: give the architecture options"):
        init_from(build_arch("drnn", 129, {**options, "hidden": 32}, 16), onnx_path)
    if recurrent_layer == 0:  # a stacked RNN may start a narrower one (tests/test_narrow_hidden.py)
        narrow = build_arch("drnn", 129, {**options, "hidden": 16}, 16)
        init_from(narrow, onnx_path)
        kept = narrow.net.state_dict()["head.weight"]
        assert kept.shape == (2 * 129, 16)
        assert all(any(torch.equal(col, c) for c in arch.net.state_dict()["head.weight"].T) for col in kept.T)
    with pytest.raises(TrainingError, match="are not this network's"):
        init_from(build_arch("cnn", 129, {"window": 8, "horizontal_kernel": 3}, 8), onnx_path)


def test_init_from_a_narrower_band_keeps_the_old_network_below_its_band(tmp_path: Path) -> None:
    """A 16 kHz model grown to 32 kHz (bins and frames aligned): on the old bins, with the old
    normalisation, the grown network gives the old model's masks whatever the new bins hold."""
    import onnxruntime as ort

    from vocalsplit.training.checkpoints import init_from
    from vocalsplit.training.onnx_weights import _tables

    options = {"hidden": 24, "layers": 2, "recurrent_layer": 0, "cell": "gru", "context": 3}
    onnx_path = train(_config(tmp_path, steps=2, val_every=2, arch_options=options)).manifest.with_suffix(".onnx")
    arch = build_arch("drnn", 257, options, 16)
    init_from(arch, onnx_path, (32000, 512, 128))
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    net = arch.net
    # the normalisation is this run's; the old one goes back on the old bins to compare like with like
    _, values = _tables(onnx_path)
    with torch.no_grad():
        net.feat_mean[:129] = torch.from_numpy(values["net.feat_mean"])
        net.feat_std[:129] = torch.from_numpy(values["net.feat_std"])
    net.eval()
    rng = np.random.default_rng(5)
    low = np.abs(rng.standard_normal((2, 20, 129))).astype(np.float32)
    wide = np.concatenate([low, 10 * np.abs(rng.standard_normal((2, 20, 128))).astype(np.float32)], axis=2)
    feed = {"magnitude": low, **{i.name: np.zeros((2, *i.shape[1:]), np.float32) for i in session.get_inputs()[1:]}}
    expected = session.run(["masks"], feed)[0]
    with torch.no_grad():
        masks, _ = net(torch.from_numpy(wide), net.initial_state(2))
    assert np.abs(masks.numpy()[..., :129] - expected).max() < 1e-5
    high = masks.numpy()[..., 129:]
    assert np.allclose(high.sum(axis=1), 1.0, atol=1e-5) and ((high > 0) & (high < 1)).all()

    with pytest.raises(TrainingError, match="do not line up with this run's"):
        init_from(build_arch("drnn", 257, options, 16), onnx_path, (44100, 512, 128))
    with pytest.raises(TrainingError, match="cannot start from a model of another band"):
        init_from(build_arch("lstm", 257, {"hidden": 8, "layers": 1, "window": 8}, 8), onnx_path, (32000, 512, 128))


def test_weight_average_is_validated_exported_and_resumed(tmp_path: Path) -> None:
    decay = 0.75
    train(_config(tmp_path, steps=1, val_every=1, ema=decay))
    first = torch.load(tmp_path / "run" / "last.pt", weights_only=False)
    w1 = first["train_net"]
    assert all(torch.equal(first["net"][k], w1[k]) for k in w1)  # the first update copies the weights
    result = train(_config(tmp_path, steps=2, val_every=1, ema=decay, resume=True))
    second = torch.load(tmp_path / "run" / "last.pt", weights_only=False)
    w2, average = second["train_net"], second["net"]
    moved = [k for k in w2 if w2[k].is_floating_point() and not torch.equal(w1[k], w2[k])]
    assert moved
    for k in moved:
        assert torch.allclose(average[k], decay * w1[k] + (1 - decay) * w2[k], atol=1e-6)
    raw = json.loads(result.manifest.read_text())
    assert raw["hyperparameters"]["ema"] == decay
    assert raw["parity"]["random_max_abs"] < 1e-4  # the export is of the averaged weights, checked against them
    with pytest.raises(UsageError, match="--ema 1.0"):
        _config(tmp_path, ema=1.0)


def test_float16_weights_halve_the_file_and_keep_parity(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto

    full = train(_config(tmp_path, steps=3, val_every=3, arch_options={**_config(tmp_path).arch_options, "hidden": 64}))
    half = train(
        _config(
            tmp_path,
            steps=3,
            val_every=3,
            resume=True,
            out=tmp_path / "models" / "drnn-half",
            weights="float16",
            arch_options={**_config(tmp_path).arch_options, "hidden": 64},
        )
    )
    full_onnx, half_onnx = full.manifest.with_suffix(".onnx"), half.manifest.with_suffix(".onnx")
    assert half_onnx.stat().st_size < 0.6 * full_onnx.stat().st_size
    raw = json.loads(half.manifest.read_text())
    assert raw["weights"] == "float16" and json.loads(full.manifest.read_text())["weights"] == "float32"
    assert raw["parity"]["random_max_abs"] < 1e-4 and raw["parity"]["real_clip_max_abs"] < 1e-4
    kinds = {i.data_type for i in onnx.load(str(half_onnx)).graph.initializer if np.prod(i.dims) >= 1024}
    assert kinds == {TensorProto.FLOAT16}
    small = {i.data_type for i in onnx.load(str(half_onnx)).graph.initializer if 1 < np.prod(i.dims) < 1024}
    assert TensorProto.FLOAT in small  # biases and normalisation stay float32
    with pytest.raises(UsageError, match="--weights 'int8'"):
        _config(tmp_path, weights="int8")


def test_float16_storage_leaves_values_float16_cannot_hold(tmp_path: Path) -> None:
    from vocalsplit.training.export import export_onnx, round_weights_to_float16, store_weights_as_float16

    arch = build_arch("drnn", 129, {"hidden": 32, "layers": 2, "recurrent_layer": 1, "cell": "gru", "context": 3}, 16)
    export_onnx(arch, tmp_path / "m.onnx")
    assert store_weights_as_float16(tmp_path / "m.onnx") == 0  # unrounded weights: nothing may change
    round_weights_to_float16(arch.net)
    export_onnx(arch, tmp_path / "r.onnx")
    assert store_weights_as_float16(tmp_path / "r.onnx") > 0
    mag = np.abs(np.random.default_rng(0).normal(0, 1, (2, 30, 129))).astype(np.float32)
    assert parity(arch, tmp_path / "r.onnx", mag) < 1e-4


def test_cosine_learning_rate_schedule_values() -> None:
    from vocalsplit.training.trainer import cosine_lr

    assert cosine_lr(1e-3, 1e-5, 0.0) == pytest.approx(1e-3)
    assert cosine_lr(1e-3, 1e-5, 0.5) == pytest.approx(0.5 * (1e-3 + 1e-5))
    assert cosine_lr(1e-3, 1e-5, 1.0) == pytest.approx(1e-5)
    assert cosine_lr(1e-3, 1e-5, 7.0) == pytest.approx(1e-5)  # clipped past the end


def test_resume_with_new_lr_decays_over_the_resumed_steps(tmp_path: Path) -> None:
    train(_config(tmp_path, steps=6, lr=1e-3))
    train(_config(tmp_path, steps=12, val_every=2, resume=True, lr=4e-4, lr_final=1e-5))
    log = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [3, 6, 8, 10, 12]
    assert [r["lr"] for r in log[:2]] == [1e-3, 1e-3]
    resumed = [r["lr"] for r in log[2:]]
    assert resumed == sorted(resumed, reverse=True) and resumed[0] < 4e-4 and resumed[-1] > 1e-5
    # lr at the start of step 12 (5 of 6 resumed steps done): cosine at 5/6
    assert resumed[-1] == pytest.approx(1e-5 + 0.5 * (4e-4 - 1e-5) * (1 + np.cos(np.pi * 5 / 6)))


@pytest.mark.parametrize("lr, lr_final", [(1e-3, 2e-3), (1e-3, 0.0), (0.0, None)])
def test_bad_learning_rates_are_refused(tmp_path: Path, lr: float, lr_final: float | None) -> None:
    with pytest.raises(UsageError, match="lr"):
        _config(tmp_path, lr=lr, lr_final=lr_final)


def test_parity_on_lstm_export(tmp_path: Path) -> None:
    from vocalsplit.training.export import export_onnx

    arch = build_arch(
        "drnn", 129, {"hidden": 16, "layers": 3, "recurrent_layer": 0, "cell": "lstm", "context": 5, "dropout": 0.3}, 16
    )
    export_onnx(arch, tmp_path / "m.onnx")
    mag = np.abs(np.random.default_rng(0).normal(0, 1, (2, 30, 129))).astype(np.float32)
    assert parity(arch, tmp_path / "m.onnx", mag) < 1e-4


def test_nan_loss_stops_with_clear_message_and_keeps_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = drnn_module.discriminative_loss
    calls = {"n": 0}

    def flaky(masks, *args, **kw):  # type: ignore[no-untyped-def]
        if masks.requires_grad:
            calls["n"] += 1
            if calls["n"] == 5:
                return real(masks, *args, **kw) * float("nan")
        return real(masks, *args, **kw)

    monkeypatch.setattr(drnn_module, "discriminative_loss", flaky)
    with pytest.raises(TrainingError, match="loss became nan at step 5"):
        train(_config(tmp_path, steps=10))
    checkpoint = torch.load(tmp_path / "run" / "last.pt", weights_only=False)
    assert checkpoint["step"] == 3
    assert all(torch.isfinite(p).all() for p in checkpoint["net"].values() if p.is_floating_point())


def test_train_cli_usage_errors(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, _, stderr = cli("train", "--dataset", "mir1k", "--data-dir", tmp_path / "nope")
    assert code == 2 and "does not exist" in stderr
    code, _, stderr = cli("train", "--dataset", "mir1k", "--data-dir", tmp_path)
    assert code == 2 and "no MIR-1K clips found" in stderr
    code, _, stderr = cli("train", "--dataset", "stems", "--data-dir", tmp_path, "--arch", "transformer")
    assert code == 2 and "'transformer' is not one of 'drnn', 'cnn', 'bmcnn'" in stderr
    code, _, stderr = cli("train", "--dataset", "musdb", "--data-dir", tmp_path)
    assert code == 2 and "'musdb' is not one of 'mir1k', 'stems'" in stderr
    code, _, stderr = cli("train", "--dataset", "mir1k", "--data-dir", tmp_path, "--repitch", "up")
    assert code == 2 and "--repitch 'up'" in stderr
    code, _, stderr = cli("train", "--dataset", "mir1k", "--data-dir", tmp_path, "--split", "random")
    assert code == 2 and "'random' is not one of 'name', 'seeded'" in stderr


@pytest.mark.skipif(not (SHARED / "testclips" / "mir1k").is_dir(), reason="../shared/data/testclips absent")
def test_fast_metrics_agree_with_mir_eval_on_a_real_clip() -> None:
    from vocalsplit.evaluation.metrics import bss_eval
    from vocalsplit.training.datasets import load_mir1k_clip

    clip = load_mir1k_clip(SHARED / "testclips" / "mir1k" / "Ani_1_01.flac", 16000)
    v, a = clip.voice[0], clip.accompaniment[0]
    rng = np.random.default_rng(0)
    noise = 0.02 * rng.standard_normal((2, v.size))
    est = np.stack([0.8 * v + 0.2 * a, 0.3 * v + 0.7 * a]) + noise
    ref = np.stack([v, a])
    fast = bss_eval(ref, est, "fast")
    slow = bss_eval(ref, est, "mir_eval")
    for f, s in zip(fast, slow, strict=True):
        assert np.allclose(f, s, atol=0.05)


def test_weighted_means_follow_clip_length_and_skip_infinite() -> None:
    from vocalsplit.evaluation.metrics import weighted_means

    rows = [{"samples": 1, "NSDR": 10.0, "SIR": float("inf")}, {"samples": 3, "NSDR": 2.0, "SIR": 6.0}]
    assert weighted_means(rows, ["NSDR", "SIR"]) == {"NSDR": 4.0, "SIR": 6.0}


def test_tensorboard_logs_each_checkpoint_when_installed(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    from vocalsplit.training.board import TensorBoard

    board = TensorBoard(tmp_path)
    assert board.active
    board.add({"step": 3, "loss": 0.5, "val_loss": 0.6, "val_sdr": {"vocals": 1.5, "accompaniment": 7.0}})
    board.close()
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))


def test_prior_training_is_none_where_nothing_usable_is_recorded(tmp_path: Path) -> None:
    from vocalsplit.training.checkpoints import checkpoint_training, model_training

    assert model_training(tmp_path / "absent.json") is None
    bad = tmp_path / "bad.json"
    for text in ("[1, 2]", '{"training": {"steps": "many"}}', '{"training": {}}'):
        bad.write_text(text)
        assert model_training(bad) is None
    bad.write_text('{"training": {"steps": 7, "minutes": 1.5, "device": "cuda"}}')
    assert model_training(bad) == {"steps": 7, "minutes": 1.5, "device": "cuda"}
    assert checkpoint_training({"step": 12, "elapsed": 90.0}) == {"steps": 12, "minutes": 1.5}
