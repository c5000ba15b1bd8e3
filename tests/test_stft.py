import numpy as np
import pytest

from vocalsplit.audio.stft import StftParams, StreamingIstft, StreamingStft, istft, stft
from vocalsplit.errors import ModelError

P = StftParams(n_fft=1024, hop=256)


@pytest.mark.parametrize("length", [1, 255, 1024, 5000, 44100])
def test_round_trip_reconstructs_signal(length: int) -> None:
    x = np.random.default_rng(length).standard_normal((2, length))
    spec = stft(x, P)
    assert spec.shape == (2, 513, P.frame_count(length))
    assert np.max(np.abs(istft(spec, P, length) - x)) < 1e-5


def test_half_overlap_round_trip() -> None:
    p = StftParams(n_fft=1024, hop=512)
    x = np.random.default_rng(1).standard_normal((1, 16000))
    assert np.max(np.abs(istft(stft(x, p), p, 16000) - x)) < 1e-5


def test_streaming_equals_whole_signal_with_odd_blocks() -> None:
    x = np.random.default_rng(2).standard_normal((2, 50000))
    whole = stft(x, P)
    s = StreamingStft(P, 2)
    parts = [s.push(x[:, i : i + 3001]) for i in range(0, 50000, 3001)] + [s.flush()]
    assert np.array_equal(np.concatenate(parts, axis=2), whole)
    inv = StreamingIstft(P, 2)
    ys = [inv.push(whole[:, :, j : j + 37]) for j in range(0, whole.shape[2], 37)] + [inv.finish(50000)]
    y = np.concatenate(ys, axis=1)[:, :50000]
    assert np.max(np.abs(y - x)) < 1e-5


def test_frame_count_formula() -> None:
    assert P.frame_count(0) == 0
    assert P.frame_count(1) == 4
    assert P.frame_count(256) == 4
    assert P.frame_count(257) == 5


@pytest.mark.parametrize("n_fft,hop", [(1000, 300), (1024, 1024), (0, 1)])
def test_bad_parameters_are_rejected(n_fft: int, hop: int) -> None:
    with pytest.raises(ModelError):
        StftParams(n_fft=n_fft, hop=hop)
