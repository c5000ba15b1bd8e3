"""Stereo models: both channels' bins side by side, a mask per channel, trained and served alike."""

from pathlib import Path

import numpy as np
import pytest

from tests.helpers import tone_mix
from vocalsplit.audio.channel_layout import side_by_side, split_channels
from vocalsplit.errors import UsageError

torch = pytest.importorskip("torch")

from vocalsplit.audio.stft import StftParams  # noqa: E402
from vocalsplit.training.config import Mixing  # noqa: E402
from vocalsplit.training.datasets import Clip, spectral_set  # noqa: E402
from vocalsplit.training.trainer import DataSpec, TrainConfig  # noqa: E402


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
