"""``vocalsplit eval``: score a model through the same streaming pipeline users get.

MIR-1K protocol (Huang et al. 2014): the 825 clips of the 17 test singers, mixture
= left + right at 0 dB, BSS Eval v3 on (voice, accompaniment); NSDR = SDR(estimate,
voice) − SDR(mixture, voice); GNSDR/GSIR/GSAR = means weighted by clip length.

Beside BSS Eval, every clip or track gets the figures songs are judged by today:
global SDR over the whole excerpt and all channels (the MDX-challenge definition),
vocals and accompaniment, summarised as median and mean over tracks; and the
vocals' energy above 8 kHz relative to the reference (does the voice keep its air band?).
"""

from __future__ import annotations

import csv
import json
import multiprocessing as mp
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import Any

import numpy as np

from vocalsplit.choices import Backend, Dataset, Mask
from vocalsplit.errors import DatasetError
from vocalsplit.evaluation.charts import track_chart
from vocalsplit.evaluation.metrics import bss_eval, global_sdr, high_band_db, weighted_means
from vocalsplit.separation.separator import Separator
from vocalsplit.training.datasets import (
    Clip,
    find_data_dir,
    load_mir1k_clip,
    load_stems_track,
    mir1k_split,
    stems_tracks,
)
from vocalsplit.training.net_configs import TWO_SOURCES

KEYS = ("NSDR", "SDR", "SIR", "SAR", "acc_NSDR", "acc_SDR", "acc_SIR", "acc_SAR")
TRACK_KEYS = ("vocals_SDR", "acc_SDR", "vocals_high_band_dB")
HIGH_BAND_HZ = 8000.0


@dataclass(frozen=True)
class EvalRequest:
    dataset: Dataset
    data_dir: Path | None
    masks: tuple[Mask, ...] = tuple(Mask)
    backend: Backend = Backend.FAST
    limit: int | None = None
    workers: int = 2
    clip_timeout_s: float = 120.0
    max_track_seconds: float | None = None
    segment_seconds: float = 10.0
    """stems: score consecutive segments of this length, skipping those where a source is silent."""


def _clip_metrics(
    voice: np.ndarray, acc: np.ndarray, estimates: dict[str, tuple[np.ndarray, np.ndarray]], backend: Backend
) -> dict[str, dict[str, float]]:
    """Metrics per mask for mono signals; the mixture baseline gives the 'N' in NSDR."""
    ref = np.stack([voice, acc])
    mix = voice + acc
    base, _, _ = bss_eval(ref, np.stack([mix, mix]), backend)
    out = {}
    for mask, (est_v, est_a) in estimates.items():
        sdr, sir, sar = bss_eval(ref, np.stack([est_v, est_a]), backend)
        out[mask] = {
            "SDR": float(sdr[0]),
            "SIR": float(sir[0]),
            "SAR": float(sar[0]),
            "NSDR": float(sdr[0] - base[0]),
            "acc_SDR": float(sdr[1]),
            "acc_SIR": float(sir[1]),
            "acc_SAR": float(sar[1]),
            "acc_NSDR": float(sdr[1] - base[1]),
        }
    return out


def _one_thread(backend: Backend) -> None:
    """Each worker computes on one core: the workers themselves are the parallelism."""
    if backend == Backend.FAST:
        import torch

        torch.set_num_threads(1)


def _clips(req: EvalRequest, model_sources: tuple[str, ...] = TWO_SOURCES) -> list[Callable[[], Clip]]:
    root = find_data_dir(req.data_dir, req.dataset)
    if req.dataset == Dataset.MIR1K:
        paths = mir1k_split(root)["test"]
        if not paths:
            raise DatasetError(f"{root}: no MIR-1K test clips (singers other than abjones, amy)")
        loaders: list[Callable[[], Clip]] = [partial(load_mir1k_clip, p, 16000) for p in paths]
    elif req.dataset == Dataset.STEMS:
        loaders = [
            partial(load_stems_track, t, 44100, req.max_track_seconds, _scored_sources(t, model_sources))
            for t in stems_tracks(root)
        ]
    else:
        raise DatasetError(f"--dataset {req.dataset}: holds one source only; eval needs mir1k or stems")
    return loaders[: req.limit] if req.limit else loaders


def _scored_sources(track: Path, model_sources: tuple[str, ...]) -> tuple[str, ...]:
    """The model's own sources when the track has a file for each (a 4-source model on 4-stem tracks:
    each is scored), else vocals and accompaniment."""
    names = {p.stem.lower() for p in track.iterdir()}
    extra = [s for s in model_sources if s not in TWO_SOURCES]
    if extra and model_sources[0] == "vocals" and all(s in names for s in extra):
        return tuple(s for s in model_sources if s != "accompaniment")
    return TWO_SOURCES


SILENT = 1e-6
"""Mean power below which a reference segment counts as silent (BSS Eval is undefined there)."""


QUIET_VOICE = 1e-3
"""Segments whose voice is more than 30 dB below the accompaniment are skipped (no singing)."""


def _segments(clip: Clip, req: EvalRequest) -> list[tuple[str, int, int, int]]:
    """(name, channel, start, stop): whole clips for MIR-1K, non-silent segments for stems."""
    n = clip.voice.shape[1]
    if req.dataset == Dataset.MIR1K:
        return [(clip.name, 0, 0, n)]
    size = max(1, int(req.segment_seconds * clip.rate))
    out = []
    for c in range(clip.voice.shape[0]):
        for start in range(0, n - size // 2, size):
            stop = min(n, start + size)
            v, a = clip.voice[c, start:stop], clip.accompaniment[c, start:stop]
            pv, pa = float(np.mean(v**2)), float(np.mean(a**2))
            if pv > SILENT and pa > SILENT and pv > QUIET_VOICE * pa:
                out.append((f"{clip.name}[ch{c} {start / clip.rate:.0f}s]", c, start, stop))
    return out


def evaluate(
    separator: Separator,
    req: EvalRequest,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Per-clip rows and length-weighted summaries for each mask mode, separated by ``separator``."""
    loaders = _clips(req, tuple(separator.manifest.sources))
    rows: dict[str, list[dict[str, Any]]] = {str(m): [] for m in req.masks}
    tracks: dict[str, list[dict[str, Any]]] = {str(m): [] for m in req.masks}
    failures: list[dict[str, str]] = []
    started = time.monotonic()
    # a pool that can be terminated: a metrics call that hangs must not hang the run
    pool = mp.get_context("spawn").Pool(max(1, req.workers), initializer=_one_thread, initargs=(req.backend,))
    timed_out = False
    try:
        pending: list[Pending] = []
        for i, load in enumerate(loaders):
            pending += _score_clip(separator, load(), req, pool, tracks)
            if progress:
                progress(i + 1, len(loaders))
        timed_out = _collect(pending, req.clip_timeout_s, rows, failures)
    finally:
        if timed_out:
            pool.terminate()
        else:
            pool.close()
        pool.join()
    return {
        "dataset": str(req.dataset),
        "backend": str(req.backend),
        "shifts": separator.shifts,
        "high_band": str(separator.high_band),
        "channel_masks": str(separator.channel_masks),
        "clips": len(loaders),
        "summary": {mask: {**_summary(r), **_track_summary(tracks[mask])} for mask, r in rows.items()},
        "failures": failures,
        "rows": rows,
        "tracks": tracks,
        "seconds": round(time.monotonic() - started, 1),
    }


def _rest(estimates: dict[str, np.ndarray]) -> np.ndarray:
    """The accompaniment of a multi-source model: every source but the vocals."""
    return np.asarray(sum(x for k, x in estimates.items() if k != "vocals"), np.float32)


Pending = tuple[str, int, "AsyncResult[dict[str, dict[str, float]]]"]
"""(segment name, samples, metrics job)."""


def _score_clip(
    separator: Separator, clip: Clip, req: EvalRequest, pool: Any, tracks: dict[str, list[dict[str, Any]]]
) -> list[Pending]:
    """Separate ``clip`` once per mask, score it whole (``tracks``) and queue the metrics of its segments."""
    voice, acc = clip.voice, clip.accompaniment  # (C, n)
    estimates = {}
    for mask in req.masks:
        est = separator.separate_array(voice + acc, clip.rate, mask=mask)
        est_acc = est["accompaniment"] if "accompaniment" in est else _rest(est)
        estimates[str(mask)] = (est["vocals"], est_acc)
        tracks[str(mask)].append(
            {
                "track": clip.name,
                "seconds": round(voice.shape[1] / clip.rate, 2),
                "vocals_SDR": global_sdr(voice, est["vocals"]),
                "acc_SDR": global_sdr(acc, est_acc),
                "vocals_high_band_dB": high_band_db(voice, est["vocals"], clip.rate, HIGH_BAND_HZ),
                **{f"{k}_SDR": global_sdr(x, est[k]) for k, x in clip.sources.items() if k not in TWO_SOURCES},
            }
        )
    pending = []
    for name, channel, start, stop in _segments(clip, req):
        cut = slice(start, stop)
        seg = {m: (v[channel, cut], a[channel, cut]) for m, (v, a) in estimates.items()}
        job = pool.apply_async(_clip_metrics, (voice[channel, cut], acc[channel, cut], seg, req.backend))
        pending.append((name, stop - start, job))
    return pending


def _collect(
    pending: list[Pending], timeout_s: float, rows: dict[str, list[dict[str, Any]]], failures: list[dict[str, str]]
) -> bool:
    """Wait for every metrics job; a failed or hung one becomes a failure row. True if any timed out."""
    timed_out = False
    for name, samples, fut in pending:
        try:
            per_mask = fut.get(timeout=timeout_s)
        except mp.TimeoutError:
            timed_out = True
            failures.append({"clip": name, "error": f"metrics timed out after {timeout_s} s"})
            continue
        except Exception as err:  # noqa: BLE001 - one bad clip must not sink the run
            failures.append({"clip": name, "error": str(err)})
            continue
        for mask, metrics in per_mask.items():
            rows[mask].append({"clip": name, "samples": samples, **metrics})
    return timed_out


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    means = weighted_means(rows, KEYS)
    return {
        "GNSDR": means["NSDR"],
        "GSIR": means["SIR"],
        "GSAR": means["SAR"],
        "GSDR": means["SDR"],
        "acc_GNSDR": means["acc_NSDR"],
        "acc_GSIR": means["acc_SIR"],
        "acc_GSAR": means["acc_SAR"],
        "clips": len(rows),
    }


def _track_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Median and mean over tracks of the whole-track figures (nan-safe: a track without high band, or
    without a source, is left out of that figure)."""
    out: dict[str, Any] = {"tracks": len(rows)}
    for key in track_keys(rows):
        values = np.array([r.get(key, np.nan) for r in rows], np.float64)
        values = values[np.isfinite(values)]
        out[f"{key}_median"] = float(np.median(values)) if values.size else float("nan")
        out[f"{key}_mean"] = float(np.mean(values)) if values.size else float("nan")
    return out


def track_keys(rows: list[dict[str, Any]]) -> list[str]:
    """The whole-track figures of ``rows``: :data:`TRACK_KEYS`, then each further source's SDR."""
    extra = [k for r in rows for k in r if k.endswith("_SDR") and k not in TRACK_KEYS]
    return [*TRACK_KEYS, *dict.fromkeys(extra)]


def write_results(result: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """``per_clip.csv`` (BSS Eval, one row per clip or segment and mask), ``per_track.csv``
    (global SDR and high band, one row per track and mask), ``per_track.png`` (its chart) and
    ``summary.json``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, json_path = out_dir / "per_clip.csv", out_dir / "summary.json"
    with csv_path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["mask", "clip", "samples", *KEYS])
        for mask, rows in result["rows"].items():
            for r in rows:
                w.writerow([mask, r["clip"], r["samples"], *(f"{r[k]:.4f}" for k in KEYS)])
    with (out_dir / "per_track.csv").open("w", newline="") as f:
        w = csv.writer(f)
        keys = track_keys(next(iter(result["tracks"].values()), []))
        w.writerow(["mask", "track", "seconds", *keys])
        for mask, rows in result["tracks"].items():
            for r in rows:
                w.writerow([mask, r["track"], r["seconds"], *(f"{r.get(k, np.nan):.4f}" for k in keys)])
    chart = track_chart(result, out_dir / "per_track.png")
    summary = {**{k: v for k, v in result.items() if k not in ("rows",)}, "chart": chart and chart.name}
    json_path.write_text(json.dumps(summary, indent=2) + "\n")
    return csv_path, json_path
