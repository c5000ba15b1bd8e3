"""Shift averaging (``--shifts``): alignment, streaming invariance, stems summing to the input."""

import numpy as np
import pytest
import soxr

from tests.helpers import tone_mix
from vocalsplit import defaults
from vocalsplit.audio.resample import QUALITY
from vocalsplit.choices import HighBand, Mask
from vocalsplit.errors import UsageError
from vocalsplit.runtime.session import ModelSession
from vocalsplit.separation.pipeline import SeparationStream, open_stream, separate_array
from vocalsplit.separation.shifts import check_shifts, shift_offsets


def test_offsets_split_one_hop_evenly_at_the_file_rate() -> None:
    assert shift_offsets(1, 512, 16000, 16000) == [0]
    assert shift_offsets(4, 512, 16000, 16000) == [0, 128, 256, 384]
    assert shift_offsets(2, 512, 16000, 44100) == [0, 706]  # half of 1411.2 samples
    with pytest.raises(UsageError, match="--shifts 0: must be between 1 and 16"):
        check_shifts(0)
    with pytest.raises(UsageError, match="too many"):
        shift_offsets(16, 8, 16000, 1000)  # a hop of 0.5 samples has no 16 distinct offsets


def test_shifted_output_is_the_mean_of_delayed_passes_at_the_model_rate(rnn_session: ModelSession) -> None:
    x = tone_mix(1.3, 16000)
    shifts = 3
    got = separate_array(rnn_session, x, 16000, chunk=23, block=3001, shifts=shifts)
    manual = {s: np.zeros_like(x) for s in got}
    m = rnn_session.manifest
    for offset in shift_offsets(shifts, m.stft.hop, m.sample_rate, m.sample_rate):
        delayed = np.concatenate([np.zeros((x.shape[0], offset), np.float32), x], axis=1)
        for s, y in separate_array(rnn_session, delayed, 16000, chunk=10_000, block=10**7, shifts=1).items():
            manual[s] += y[:, offset:] / shifts
    for s in got:
        assert got[s].shape == x.shape
        assert np.max(np.abs(got[s] - manual[s])) < 1e-4
    assert np.max(np.abs(got["vocals"] + got["accompaniment"] - x)) < 1e-4
    single = separate_array(rnn_session, x, 16000, chunk=23, shifts=1)
    assert np.max(np.abs(single["vocals"] - got["vocals"])) > 1e-3  # the passes really differ


def test_at_another_rate_the_song_is_resampled_once_and_the_passes_averaged_at_the_model_rate(
    rnn_session: ModelSession,
) -> None:
    x = tone_mix(1.3, 44100)
    got = separate_array(rnn_session, x, 44100, chunk=23, block=3001, shifts=3, high_band=HighBand.ACCOMPANIMENT)
    down = soxr.resample(x.T, 44100, 16000, quality=QUALITY).T
    at_model_rate = separate_array(rnn_session, down, 16000, chunk=23, shifts=3)["vocals"]
    expected = soxr.resample(at_model_rate.T, 16000, 44100, quality=QUALITY).T
    assert np.max(np.abs(got["vocals"] - expected)) < 1e-4
    assert np.max(np.abs(got["vocals"] + got["accompaniment"] - x)) < 1e-4


def test_one_shift_is_the_plain_pipeline_and_the_default_is_the_users(rnn_session: ModelSession) -> None:
    x = tone_mix(1.0, 16000)
    stream = open_stream(rnn_session, 16000, 2, Mask.SOFT, 30, ["vocals", "accompaniment"], shifts=1)
    assert isinstance(stream, SeparationStream)
    default = separate_array(rnn_session, x, 16000, chunk=30)
    users = separate_array(rnn_session, x, 16000, chunk=30, shifts=defaults.SHIFTS)
    one = separate_array(rnn_session, x, 16000, chunk=30, shifts=1)
    assert all(np.array_equal(default[s], users[s]) for s in default)
    assert defaults.SHIFTS == 1 or not np.array_equal(default["vocals"], one["vocals"])


def test_single_stem_and_mono_with_shifts(rnn_session: ModelSession) -> None:
    x = tone_mix(0.7, 22050, 1)[0]
    both = separate_array(rnn_session, x, 22050, shifts=2)
    acc = separate_array(rnn_session, x, 22050, stems=["accompaniment"], shifts=2)
    assert both["vocals"].shape == x.shape and list(acc) == ["accompaniment"]
    assert np.max(np.abs(acc["accompaniment"] - both["accompaniment"])) < 1e-5
