"""--high-band: the song above the model's band goes to each stem by its share of the band's top."""

import numpy as np
import soxr

from tests.helpers import tone_mix
from vocalsplit.audio.resample import QUALITY
from vocalsplit.choices import HighBand
from vocalsplit.runtime.session import ModelSession
from vocalsplit.separation.pipeline import separate_array


def _bright_song(seconds: float, rate: int) -> np.ndarray:
    """Tones plus white noise: plenty of energy above 8 kHz."""
    rng = np.random.default_rng(3)
    noise = 0.05 * rng.standard_normal((2, int(seconds * rate))).astype(np.float32)
    return tone_mix(seconds, rate) + noise


def test_each_stem_gets_a_share_between_none_and_all_of_the_high_band(rnn_session: ModelSession) -> None:
    x = _bright_song(2.0, 44100)
    shared = separate_array(rnn_session, x, 44100, chunk=23, shifts=2, high_band=HighBand.SHARE)
    plain = separate_array(rnn_session, x, 44100, chunk=23, shifts=2, high_band=HighBand.ACCOMPANIMENT)
    heard = soxr.resample(soxr.resample(x.T, 44100, 16000, quality=QUALITY), 16000, 44100, quality=QUALITY).T
    high = x - heard[:, : x.shape[1]]
    added = shared["vocals"] - plain["vocals"]
    loud = np.abs(high) > 1e-3
    gain = added[loud] / high[loud]
    assert gain.min() > -1e-3 and gain.max() < 1 + 1e-3  # a share of a soft mask
    assert 0.05 < np.median(gain) < 0.95  # a real share: neither none nor all
    for stems in (shared, plain):
        assert np.max(np.abs(stems["vocals"] + stems["accompaniment"] - x)) < 1e-4
    assert np.mean(plain["vocals"] ** 2) < np.mean(shared["vocals"] ** 2)


def test_the_gain_moves_smoothly_from_frame_to_frame(rnn_session: ModelSession) -> None:
    x = _bright_song(1.5, 44100)
    shared = separate_array(rnn_session, x, 44100, chunk=23, shifts=1, high_band=HighBand.SHARE)
    plain = separate_array(rnn_session, x, 44100, chunk=23, shifts=1, high_band=HighBand.ACCOMPANIMENT)
    high = x - soxr.resample(soxr.resample(x.T, 44100, 16000, quality=QUALITY), 16000, 44100, quality=QUALITY).T
    # a constant gain over a hop would step at frame edges; an overlap-added one changes little per sample
    loud = np.abs(high[0]) > 2e-2
    loud[:4410] = loud[-4410:] = False  # the converters' edges
    gain = (shared["vocals"][0] - plain["vocals"][0])[loud] / high[0][loud]
    steps = np.abs(np.diff(gain))[np.diff(np.flatnonzero(loud)) == 1]
    assert steps.max() < 0.01


def test_at_the_models_rate_there_is_no_high_band_to_share(rnn_session: ModelSession) -> None:
    x = _bright_song(1.0, 16000)
    shared = separate_array(rnn_session, x, 16000, chunk=23, high_band=HighBand.SHARE)
    plain = separate_array(rnn_session, x, 16000, chunk=23, high_band=HighBand.ACCOMPANIMENT)
    assert all(np.array_equal(shared[s], plain[s]) for s in shared)


def test_every_source_of_a_four_source_model_gets_its_share(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.model_factory import conv_model
    from vocalsplit.catalog.manifest import load_manifest
    from vocalsplit.runtime.providers import parse_device

    path = conv_model(tmp_path, name="four", sources=("vocals", "drums", "bass", "other"))
    session = ModelSession(load_manifest(path), parse_device("cpu"))
    x = _bright_song(1.0, 48000)
    shared = separate_array(session, x, 48000, chunk=13, high_band=HighBand.SHARE)
    plain = separate_array(session, x, 48000, chunk=13, high_band=HighBand.ACCOMPANIMENT)
    assert np.max(np.abs(sum(shared.values()) - x)) < 1e-4
    for source in ("vocals", "drums", "bass"):
        assert np.mean((shared[source] - plain[source]) ** 2) > 1e-7
