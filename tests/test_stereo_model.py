"""Stereo models: both channels' bins side by side, a mask per channel, trained and served alike."""

from pathlib import Path

import numpy as np
import pytest

from tests.helpers import make_stems, tone_mix
from vocalsplit.audio.channel_layout import side_by_side, split_channels
from vocalsplit.errors import InputAudioError, UsageError

torch = pytest.importorskip("torch")

from vocalsplit.audio.stft import StftParams  # noqa: E402
from vocalsplit.catalog.manifest import load_manifest  # noqa: E402
from vocalsplit.runtime.providers import parse_device  # noqa: E402
from vocalsplit.runtime.session import ModelSession  # noqa: E402
from vocalsplit.separation.pipeline import separate_array  # noqa: E402
from vocalsplit.training.config import Mixing  # noqa: E402
from vocalsplit.training.datasets import Clip, spectral_set  # noqa: E402
from vocalsplit.training.trainer import DataSpec, TrainConfig, train  # noqa: E402

CNN_SMALL = {"window": 8, "vertical_filters": 6, "horizontal_filters": 5, "horizontal_kernel": 3, "bottleneck": 16}


def test_side_by_side_puts_each_songs_channels_in_one_row_and_splits_back() -> None:
    frames = np.random.default_rng(0).standard_normal((4, 3, 5)).astype(np.float32)  # 2 songs × 2 channels
    wide = side_by_side(frames, 2)
    assert wide.shape == (2, 3, 10)
    assert np.array_equal(wide[1, :, :5], frames[2]) and np.array_equal(wide[1, :, 5:], frames[3])
    masks = np.stack([wide, 2 * wide], axis=1)  # (groups, sources, k, 2F)
    back = split_channels(masks, 2)
    assert back.shape == (4, 2, 3, 5)
    assert np.array_equal(back[:, 0], frames) and np.array_equal(back[:, 1], 2 * frames)
    with pytest.raises(ValueError, match="groups of 2"):
        side_by_side(frames[:3], 2)


def test_stereo_spectral_set_keeps_a_clips_channels_together() -> None:
    params = StftParams(64, 16)
    stereo = Clip("s", {"vocals": tone_mix(0.1, 8000), "accompaniment": tone_mix(0.1, 8000, seed=1)}, 8000)
    mono = Clip("m", {"vocals": tone_mix(0.1, 8000, 1), "accompaniment": tone_mix(0.1, 8000, 1, seed=1)}, 8000)
    apart, together = spectral_set([stereo, mono], params), spectral_set([stereo, mono], params, channels=2)
    assert apart.sources.shape[2] == params.bins and together.sources.shape[2] == 2 * params.bins
    assert together.frames * 3 == apart.frames * 2  # 3 single channels, or 2 clips of two channels
    n = together.starts[1]
    assert np.array_equal(together.sources[:, :n, : params.bins], apart.sources[:, :n])  # left channel
    assert np.array_equal(together.sources[:, :n, params.bins :], apart.sources[:, n : 2 * n])  # right
    m = together.sources[:, n:]
    assert np.array_equal(m[..., : params.bins], m[..., params.bins :])  # a mono clip: two equal channels


def test_stereo_needs_the_stems_own_channels() -> None:
    with pytest.raises(UsageError, match="--stereo"):
        TrainConfig(data=[DataSpec("stems", Path("x"))], out=Path("o"), run_dir=Path("r"), stereo=True, mixing=Mixing())


def test_a_stereo_cnn_trains_exports_and_masks_each_channel_from_both(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    config = TrainConfig(
        data=[DataSpec("stems", make_stems(tmp_path / "stems"))],
        out=tmp_path / "models" / "cnn-stereo",
        run_dir=tmp_path / "run",
        arch="cnn",
        arch_options=CNN_SMALL,
        batch=4,
        frames=8,
        steps=4,
        val_every=2,
        n_fft=256,
        hop=64,
        val_fraction=0.34,
        stereo=True,
    )
    m = load_manifest(train(config).manifest)
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
