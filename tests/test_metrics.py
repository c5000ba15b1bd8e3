"""Whole-track figures: global SDR (MDX definition) and the vocals' high band."""

import numpy as np
import pytest

from vocalsplit.evaluation.metrics import global_sdr, high_band_db


def test_global_sdr_matches_its_definition() -> None:
    rng = np.random.default_rng(0)
    s = rng.standard_normal((2, 44100))
    assert global_sdr(s, np.zeros_like(s)) == pytest.approx(0.0, abs=1e-9)
    assert global_sdr(s, s / 2) == pytest.approx(10 * np.log10(4), abs=1e-9)
    noise = 0.1 * rng.standard_normal(s.shape)
    expected = 10 * np.log10(np.sum(s**2) / np.sum(noise**2))
    assert global_sdr(s, s + noise) == pytest.approx(expected, abs=1e-6)
    assert global_sdr(np.zeros_like(s), np.zeros_like(s)) == 0.0  # silent reference, silent estimate


def test_high_band_tells_a_16_khz_estimate_from_a_full_band_one() -> None:
    rate = 44100
    t = np.arange(2 * rate) / rate
    voice = np.sin(2 * np.pi * 440 * t) + 0.1 * np.sin(2 * np.pi * 12000 * t)
    low_only = np.sin(2 * np.pi * 440 * t)
    assert high_band_db(voice[None], voice[None], rate) == pytest.approx(0.0, abs=1e-9)
    assert high_band_db(voice[None], 0.5 * voice[None], rate) == pytest.approx(-6.02, abs=0.01)
    assert high_band_db(voice[None], low_only[None], rate) < -40  # only edge clicks and window leakage remain
    assert high_band_db(low_only[None], voice[None], rate) > 40  # invented air: far above a near-empty band
