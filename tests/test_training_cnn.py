"""The convolutional models: train → export → parity → streaming separation, 2 and 4 sources."""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.helpers import make_stems, tone_mix, write_audio

torch = pytest.importorskip("torch")

from vocalsplit.catalog.manifest import load_manifest  # noqa: E402
from vocalsplit.errors import InputAudioError  # noqa: E402
from vocalsplit.runtime.providers import parse_device  # noqa: E402
from vocalsplit.runtime.session import ModelSession  # noqa: E402
from vocalsplit.separation.pipeline import separate_array  # noqa: E402
from vocalsplit.training.architecture import build_arch  # noqa: E402
from vocalsplit.training.batches import TensorBatch  # noqa: E402
from vocalsplit.training.config import LossSettings  # noqa: E402
from vocalsplit.training.losses import source_discriminative_loss  # noqa: E402
from vocalsplit.training.trainer import DataSpec, TrainConfig, train  # noqa: E402

CNN_SMALL = {"window": 8, "vertical_filters": 6, "horizontal_filters": 5, "horizontal_kernel": 3, "bottleneck": 16}


def _train(  # type: ignore[no-untyped-def]
    tmp_path: Path,
    arch: str,
    data: Path,
    sources: tuple[str, ...] = ("vocals", "accompaniment"),
    stereo=False,
    **options,
):
    config = TrainConfig(
        data=[DataSpec("stems", data)],
        out=tmp_path / "models" / f"{arch}-test",
        run_dir=tmp_path / f"run-{arch}",
        arch=arch,
        arch_options=options,
        sources=sources,
        batch=4,
        frames=8,
        steps=4,
        val_every=2,
        n_fft=256,
        hop=64,
        val_fraction=0.34,
        stereo=stereo,
    )
    return train(config)


def test_chandna_cnn_trains_exports_and_streams_chunk_invariantly(tmp_path: Path) -> None:
    result = _train(tmp_path, "cnn", make_stems(tmp_path / "stems"), **CNN_SMALL)
    m = load_manifest(result.manifest)
    assert (m.architecture, m.frame_multiple, m.context_left, m.context_right, m.mask_kind) == ("cnn", 4, 4, 4, "soft")
    raw = json.loads(result.manifest.read_text())
    assert max(raw["parity"].values()) < 1e-4
    session = ModelSession(m, parse_device("cpu"))
    x = tone_mix(1.3, 22050)
    whole = separate_array(session, x, 22050, chunk=100_000)
    chunked = separate_array(session, x, 22050, chunk=5, block=3001)  # 5 frames → rounded to the window grid
    assert np.max(np.abs(whole["vocals"] - chunked["vocals"])) < 1e-4
    assert np.max(np.abs(whole["vocals"] + whole["accompaniment"] - x)) < 1e-4


def test_binary_mask_cnn_exports_probabilities(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    result = _train(tmp_path, "bmcnn", make_stems(tmp_path / "stems"), context=5, channels=(4, 4), dense=16)
    m = load_manifest(result.manifest)
    assert (m.mask_kind, m.context_left, m.sources) == ("probability", 2, ("vocals", "accompaniment"))
    assert max(json.loads(result.manifest.read_text())["parity"].values()) < 1e-4
    song = write_audio(tmp_path / "song.wav", tone_mix(1.0, 16000), 16000)
    for mask in ("binary", "soft"):
        code, _, stderr = cli(song, "-o", tmp_path / mask, "--model", result.manifest, "--mask", mask, "-q")
        assert code == 0, stderr
    v_bin, _ = sf.read(str(tmp_path / "binary/song/vocals.wav"))
    v_soft, _ = sf.read(str(tmp_path / "soft/song/vocals.wav"))
    assert v_bin.shape == v_soft.shape and not np.allclose(v_bin, v_soft)


def test_four_source_cnn_writes_each_source(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    names = ("vocals", "drums", "bass", "other")
    for t in ("a", "b", "c"):
        for i, name in enumerate(names):
            write_audio(tmp_path / "musdb" / t / f"{name}.wav", tone_mix(1.0, 16000, seed=i + 3 * ord(t)), 16000)
    result = _train(tmp_path, "cnn", tmp_path / "musdb", sources=names, **CNN_SMALL)
    m = load_manifest(result.manifest)
    assert m.sources == names and m.residual_source == "other"
    song = write_audio(tmp_path / "song.wav", tone_mix(1.0, 16000), 16000)
    code, _, stderr = cli(song, "-o", tmp_path / "out", "--model", result.manifest, "--stems", "drums,bass,other", "-q")
    assert code == 0, stderr
    written = sorted(p.stem for p in (tmp_path / "out" / "song").iterdir())
    assert written == ["bass", "drums", "other"]
    code, _, _ = cli(song, "-o", tmp_path / "all", "--model", result.manifest, "-q")
    parts = [sf.read(str(tmp_path / "all/song" / f"{n}.wav"))[0] for n in names]
    assert np.max(np.abs(sum(parts) - sf.read(str(song))[0])) < 4 / 32768


def test_chandna_loss_terms() -> None:
    targets = torch.rand(2, 2, 3, 4)
    perfect = source_discriminative_loss(targets, targets, ("vocals", "accompaniment"), 0.0, 0.0, 0.0)
    assert float(perfect) == 0.0
    disc = source_discriminative_loss(targets, targets, ("vocals", "accompaniment"), 0.001, 0.01, 0.03)
    cross = ((targets[:, 0] - targets[:, 1]) ** 2).mean()
    assert float(disc) == pytest.approx(-(0.03 + 0.01) * float(cross), rel=1e-5)


def test_cnn_forward_equals_blended_windows() -> None:
    arch = build_arch("cnn", 33, CNN_SMALL, 8)
    net = arch.net.eval()
    x = torch.rand(1, 8 * 3, 33)
    with torch.no_grad():
        masks, _ = net(x, [])
        w0, w1 = net.window_masks(x[:, 0:8]), net.window_masks(x[:, 4:12])
    blend = net.blend
    expected = w0[:, :, 4:] * blend[4:, None] + w1[:, :, :4] * blend[:4, None]
    assert torch.allclose(masks[:, :, :4], expected, atol=1e-6)
    assert torch.allclose(blend[:4] + blend[4:], torch.ones(4))


def test_cnn_training_loss_uses_the_discriminative_weights_only_while_training() -> None:
    arch = build_arch("cnn", 33, CNN_SMALL, 8)
    gen = torch.Generator().manual_seed(0)
    targets = torch.rand(2, 2, 8, 33, generator=gen)
    mix = targets.sum(dim=1)
    batch = TensorBatch(mix, targets, targets.to(torch.complex64))
    settings = LossSettings(alpha=0.0, beta=0.02, beta_vocals=0.05)
    with torch.no_grad():
        estimates = arch.net.window_masks(mix) * mix[:, None]
        plain = source_discriminative_loss(estimates, targets, arch.sources, 0.0, 0.0, 0.0)
        weighted = source_discriminative_loss(estimates, targets, arch.sources, 0.0, 0.02, 0.05)
        assert float(arch.loss(batch, settings, discriminative=True)) == pytest.approx(float(weighted), rel=1e-6)
        assert float(arch.loss(batch, settings, discriminative=False)) == pytest.approx(float(plain), rel=1e-6)
    assert float(weighted) < float(plain)  # the cross terms are subtracted


def test_input_features_are_computed_as_the_exported_graph_computes_them(tmp_path: Path) -> None:
    """log(1 + x), as ONNX's Add + Log: float32 log1p differs from it by up to ~6e-8 on near-silent
    frames, which a narrow per-bin spread (std clamped at 1e-3) amplifies past the export's tolerance."""
    import onnxruntime as ort
    import torch

    arch = build_arch("cnn", 129, {"window": 8, "horizontal_kernel": 3}, 8, ("vocals", "drums", "bass", "other"))
    arch.net.set_normalisation(torch.zeros(129), torch.full((129,), 1e-3))

    class Features(torch.nn.Module):
        def forward(self, magnitude: torch.Tensor) -> torch.Tensor:
            return arch.net.features(magnitude)

    quiet = torch.from_numpy(np.geomspace(1e-6, 1e-2, 40 * 129, dtype=np.float32).reshape(1, 40, 129))
    torch.onnx.export(Features(), (quiet,), str(tmp_path / "f.onnx"), input_names=["m"], opset_version=17, dynamo=False)
    served = ort.InferenceSession(str(tmp_path / "f.onnx"), providers=["CPUExecutionProvider"]).run(
        None, {"m": quiet.numpy()}
    )
    with torch.no_grad():
        trained = arch.net.features(quiet).numpy()
    np.testing.assert_allclose(trained, served[0], rtol=1e-6, atol=0)  # within a few float32 steps


def test_a_stereo_cnn_trains_exports_and_masks_each_channel_from_both(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    m = load_manifest(_train(tmp_path, "cnn", make_stems(tmp_path / "stems"), stereo=True, **CNN_SMALL).manifest)
    assert m.channels == 2 and max(m.raw["parity"].values()) < 1e-4
    session = ModelSession(m, parse_device("cpu"))
    x = tone_mix(1.3, 22050)
    whole = separate_array(session, x, 22050, chunk=100_000)
    chunked = separate_array(session, x, 22050, chunk=5, block=3001)
    assert np.max(np.abs(whole["vocals"] - chunked["vocals"])) < 1e-4
    assert np.max(np.abs(whole["vocals"] + whole["accompaniment"] - x)) < 1e-4
    # the right channel's stems depend on the left channel: the network sees both
    louder_left = x.copy()
    louder_left[0] *= 3.0
    other = separate_array(session, louder_left, 22050)
    assert np.max(np.abs(other["vocals"][1] - whole["vocals"][1])) > 1e-4
    # and each channel has its own masks (one shared mask would scale with the channel)
    quiet_right = np.stack([x[0], 0.25 * x[0]])
    apart = separate_array(session, quiet_right, 22050)["vocals"]
    assert np.max(np.abs(apart[1] - 0.25 * apart[0])) > 1e-4
    # a mono song is separated as two equal channels, a 3-channel one refused
    mono = separate_array(session, x[0], 22050)
    assert mono["vocals"].shape == x[0].shape
    assert np.max(np.abs(mono["vocals"] + mono["accompaniment"] - x[0])) < 1e-4
    with pytest.raises(InputAudioError, match="stereo model"):
        separate_array(session, tone_mix(0.5, 22050, channels=3), 22050)
    code, stdout, _ = cli("models", "--models-dir", tmp_path / "models")
    assert code == 0 and "cnn stereo" in stdout
