"""The streaming separation pipeline, independent of files.

file-rate blocks → resample to the model rate → STFT (carried state) → chunk
planner → ONNX model → masks on the mixture's complex STFT (mixture phase kept)
→ ISTFT overlap-add → resample back → stems at the file rate.

The residual source (e.g. accompaniment) is the input minus the other estimated
sources, computed at the file's rate: stems therefore always sum back to the
input, and everything the model cannot see (the band above its Nyquist frequency
when the file's rate is higher) goes to the residual source.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from vocalsplit import defaults
from vocalsplit.audio.channel_layout import side_by_side, split_channels
from vocalsplit.audio.resample import QUALITY, StreamResampler
from vocalsplit.audio.stft import StreamingIstft, StreamingStft
from vocalsplit.catalog.manifest import Manifest
from vocalsplit.choices import ChannelMasks, HighBand, Mask
from vocalsplit.errors import InputAudioError, UsageError
from vocalsplit.separation.fifo import BlockFifo
from vocalsplit.separation.masks import source_masks
from vocalsplit.separation.planner import ChunkPlanner
from vocalsplit.separation.shifts import ShiftAveragedStream, StemStream, shift_offsets


class SeparationModel(Protocol):
    manifest: Manifest

    def initial_state(self, batch: int) -> dict[str, np.ndarray]: ...

    def run(self, magnitude: np.ndarray, state: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[str, np.ndarray]]: ...


def chunk_frames(manifest: Manifest, chunk_seconds: float) -> int:
    """Frames per model call for ``chunk_seconds`` of audio at the model's rate.

    Bounded above by ``defaults.MAX_CHUNK_SECONDS``: a chunk is held in memory, so an
    unbounded one would make memory grow with the song."""
    if not chunk_seconds > 0:
        raise UsageError(f"--chunk-seconds must be positive, got {chunk_seconds}")
    if not chunk_seconds <= defaults.MAX_CHUNK_SECONDS:
        raise UsageError(
            f"--chunk-seconds {chunk_seconds}: at most {defaults.MAX_CHUNK_SECONDS:g} (each chunk is held in memory)"
        )
    return max(1, round(chunk_seconds * manifest.sample_rate / manifest.stft.hop))


def check_stems(model: str, sources: tuple[str, ...], stems: list[str]) -> list[str]:
    """Validate requested stem names against ``model``'s sources (order kept, no repeats)."""
    unknown = [s for s in stems if s not in sources]
    if unknown or not stems:
        raise UsageError(
            f"unknown stem {', '.join(unknown) or '(none)'} for model {model!r}; allowed: {', '.join(sources)}"
        )
    return list(dict.fromkeys(stems))


SHARE = ":share"
"""Suffix of the per-sample gain track of a source (its share of the top of the model's band)."""
LOW = ":low"
"""The model-rate input, aligned with the sources (the part of the song the model heard)."""
SHARE_BAND = (0.625, 0.9375)
"""Where a source's share is measured, as fractions of the model's Nyquist frequency (5-7.5 kHz at 16 kHz)."""


class ModelRateStream:
    """The model's part of a stream: push ``(channels, n)`` blocks at the model's rate, get the
    ``computed`` sources at that rate, every source the same length on each call.

    Concatenated over :meth:`push` and :meth:`finish` calls, each source has exactly as many
    samples as were pushed. With ``shares`` each source ``s`` also comes with ``s:share``,
    its mask averaged over :data:`SHARE_BAND` weighted by the mixture's power there, frame by
    frame, overlap-added into a smooth per-sample gain; and ``:low`` is the input itself.
    With ``link`` > 1 each run of ``link`` rows (the channels of one pass) gets the same masks:
    their network outputs averaged."""

    def __init__(
        self,
        model: SeparationModel,
        channels: int,
        mask: Mask,
        chunk: int,
        computed: list[str],
        shares: bool,
        link: int = 1,
        background: bool = False,
    ) -> None:
        m = model.manifest
        self._m, self._mask, self._computed, self._link = m, mask, computed, link
        self._stft = StreamingStft(m.stft, channels, frames_first=True)
        # a stereo model takes each pass's two channels as one row, side by side
        self._planner = ChunkPlanner(
            model,
            channels // m.channels,
            m.input_width,
            m.context_left,
            m.context_right,
            chunk,
            m.frame_multiple,
            background,
        )
        tracks = [*computed, *(s + SHARE for s in computed if shares)]
        self.stems = [*tracks, *([LOW] if shares else [])]
        self._istft = {s: StreamingIstft(m.stft, channels, frames_first=True) for s in tracks}
        self._spec = BlockFifo(np.zeros((channels, 0, m.stft.bins), np.complex64))  # frames awaiting masks
        top = m.stft.bins - 1
        self._band = slice(round(SHARE_BAND[0] * top), round(SHARE_BAND[1] * top) + 1) if shares else None
        # frames g * window overlap-add (windowed again, normalised) to g, smoothly between frames
        self._gain_frame = m.stft.window_array().astype(np.float32)
        self._x = BlockFifo(np.zeros((channels, 0), np.float32))
        self._samples = 0
        self._emitted = 0

    def push(self, x: np.ndarray) -> dict[str, np.ndarray]:
        self._samples += x.shape[1]
        if self._band is not None:
            self._x.append(x)
        spec = self._stft.push(x)
        return self._with_input(self._masked(spec, self._planner.push(self._model_input(spec)), limit=None))

    def finish(self) -> dict[str, np.ndarray]:
        spec = self._stft.flush()
        parts = self._masked(spec, self._planner.push(self._model_input(spec)) + self._planner.flush(), self._samples)
        rest = self._samples - self._emitted
        tails = {s: self._istft[s].finish(self._samples)[:, :rest] for s in self._istft}
        return self._with_input({s: np.concatenate([parts[s], tails[s]], axis=1) for s in self._istft})

    def _model_input(self, spec: np.ndarray) -> np.ndarray:
        magnitude = np.abs(spec)
        return magnitude if self._m.channels == 1 else side_by_side(magnitude, self._m.channels)

    def _with_input(self, out: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self._band is not None:
            out[LOW] = self._x.take(out[self._computed[0]].shape[1])
        return out

    def _masked(self, spec: np.ndarray, raw_outputs: list[np.ndarray], limit: int | None) -> dict[str, np.ndarray]:
        """Apply the model's outputs to the frames they belong to; the finished samples of each source."""
        self._spec.append(spec)
        pieces: dict[str, list[np.ndarray]] = {s: [] for s in self._istft}
        g = self._link  # rows that share masks: (groups, g, ...) views, masks broadcast over g
        for raw in raw_outputs:
            if self._m.channels > 1:  # a stereo model's row holds both channels' masks
                raw = split_channels(raw, self._m.channels)
            if g > 1:  # each group of rows (one pass's channels) gets its mean
                raw = raw.reshape(-1, g, *raw.shape[1:]).mean(axis=1)
            masks = source_masks(raw, self._m.mask_kind, self._mask)  # (groups, S, k, F)
            frames = self._spec.take(masks.shape[2])
            grouped = frames.reshape(-1, g, *frames.shape[1:])  # (groups, g, k, F)
            for s in self._computed:
                source_mask = masks[:, None, self._m.sources.index(s)]  # (groups, 1, k, F)
                pieces[s].append(self._istft[s].push((grouped * source_mask).reshape(frames.shape)))
                if self._band is not None:
                    power = np.abs(grouped[..., self._band]) ** 2
                    share = (source_mask[..., self._band] * power).sum(axis=3) / (power.sum(axis=3) + 1e-12)
                    gains = share.reshape(frames.shape[:2])[:, :, None] * self._gain_frame  # (C, k, n_fft)
                    pieces[s + SHARE].append(self._istft[s + SHARE].push_frames(gains))
        channels = spec.shape[0]
        out = {s: np.concatenate(p, axis=1) if p else np.zeros((channels, 0), np.float32) for s, p in pieces.items()}
        n = next(iter(out.values())).shape[1]
        if limit is not None:  # the ISTFT's zero padding past the end
            n = min(n, limit - self._emitted)
        self._emitted += n
        return {s: y[:, :n] for s, y in out.items()}


class SeparationStream:
    """Push ``(channels, n)`` float32 blocks at ``sample_rate``; get stems back in step.

    Every call returns a dict stem → ``(channels, m)`` with the same ``m`` for all
    stems; concatenated over :meth:`push` and :meth:`finish` calls, each stem has
    exactly as many samples as were pushed. Memory is bounded by the block size and
    the chunk length, never by the stream's length.

    With ``shifts`` > 1 the model's part runs on that many frame grids, offset by
    ``1/shifts`` of a hop at the model's rate, and the sources are averaged there
    (``shifts.py``): the input is resampled once and each source once, however many passes.

    Above the model's band (a file rate above the model's), ``high_band`` decides: with
    ``share`` each source gets the song's high band (the song minus what the model heard)
    times its share of the top of the model's band, sample by sample; with
    ``accompaniment`` it all goes to the residual source.

    ``channel_masks`` ``shared`` gives every channel the same masks (the mean of the
    channels' network outputs); ``separate`` separates each channel as a mono song.
    A stereo model (``manifest.channels`` 2) sees both channels at once and gives each
    its own masks, whatever ``channel_masks`` says; a mono song is its two equal channels.

    ``background`` runs the network on a thread of its own, a chunk behind the rest
    (:class:`~vocalsplit.separation.planner.ChunkPlanner`): the same stems, sooner, but
    held back one chunk longer (for files, not for live streams).
    """

    def __init__(
        self,
        model: SeparationModel,
        sample_rate: int,
        channels: int,
        mask: Mask,
        chunk: int,
        stems: list[str],
        shifts: int = 1,
        high_band: HighBand = defaults.HIGH_BAND,
        channel_masks: ChannelMasks = defaults.CHANNEL_MASKS,
        background: bool = False,
    ) -> None:
        """``stems``: already checked against the model's sources (:func:`check_stems`)."""
        m = model.manifest
        self._m, self._channels, self._rate = m, channels, sample_rate
        self.stems = stems
        need_residual = m.residual_source in self.stems
        self._computed = [s for s in m.sources if s != m.residual_source and (need_residual or s in self.stems)]

        self._shares = high_band == HighBand.SHARE and sample_rate > m.sample_rate

        if m.channels > 1 and channels not in (1, m.channels):
            raise InputAudioError(
                f"model {m.name!r} is a stereo model: it separates mono and stereo audio, not {channels} channels"
            )
        # a stereo model sees a mono song as two equal channels (their outputs averaged back)
        rows = m.channels if m.channels > 1 else channels
        self._upmix = rows > channels
        link = channels if channel_masks == ChannelMasks.SHARED and m.channels == 1 else 1

        def make(rows: int) -> ModelRateStream:  # rows: the channels of each pass, pass after pass
            return ModelRateStream(model, rows, mask, chunk, self._computed, self._shares, link, background)

        offsets = shift_offsets(shifts, m.stft.hop, m.sample_rate, m.sample_rate)
        self._core: StemStream = make(rows) if shifts == 1 else ShiftAveragedStream(make, offsets, rows)
        self._down = StreamResampler(sample_rate, m.sample_rate, channels)
        tracks = self._core.stems
        # the gains are smooth: cubic interpolation carries them as well as the long filter, for less
        self._up = {
            s: StreamResampler(m.sample_rate, sample_rate, channels, "QQ" if s.endswith(SHARE) else QUALITY)
            for s in tracks
        }
        self._stem_fifo = {s: BlockFifo(np.zeros((channels, 0), np.float32)) for s in tracks}
        self._x_fifo = BlockFifo(np.zeros((channels, 0), np.float32))
        self._samples_in = 0
        self._samples_out = 0

    def push(self, block: np.ndarray) -> dict[str, np.ndarray]:
        if block.ndim != 2 or block.shape[0] != self._channels:
            raise ValueError(f"expected a block of shape ({self._channels}, n), got {block.shape}")
        block = block.astype(np.float32)  # a copy: the caller may reuse its buffer while this one waits
        if not np.all(np.isfinite(block)):
            at = self._samples_in / self._rate
            raise InputAudioError(f"audio contains NaN or infinite samples (near {at:.2f} s)")
        self._samples_in += block.shape[1]
        self._x_fifo.append(block)
        for s, y in self._core.push(self._model_rows(self._down.push(block))).items():
            self._emit(s, y, last=False)
        return self._drain(final=False)

    def finish(self) -> dict[str, np.ndarray]:
        if self._samples_in == 0:
            raise InputAudioError("audio is empty (0 samples)")
        parts = self._core.push(self._model_rows(self._down.flush()))
        for s, y in self._core.finish().items():
            self._emit(s, np.concatenate([parts[s], y], axis=1), last=True)
        return self._drain(final=True)

    def _model_rows(self, x: np.ndarray) -> np.ndarray:
        return np.repeat(x, self._m.channels, axis=0) if self._upmix else x

    def _emit(self, s: str, y_model: np.ndarray, last: bool) -> None:
        if self._upmix:
            y_model = y_model.mean(axis=0, keepdims=True)
        self._stem_fifo[s].append(self._up[s].push(y_model, last=last))

    def _drain(self, final: bool) -> dict[str, np.ndarray]:
        if final:
            n = self._samples_in - self._samples_out
            for fifo in self._stem_fifo.values():
                if fifo.size < n:  # resampler rounding at the very end
                    fifo.append(np.zeros((self._channels, n - fifo.size), np.float32))
        else:
            n = min([self._x_fifo.size, *(f.size for f in self._stem_fifo.values())])
        parts = {s: fifo.take(n) for s, fifo in self._stem_fifo.items()}
        x = self._x_fifo.take(n)
        self._samples_out += n
        if self._shares:
            high = x - parts[LOW]
            for c in self._computed:
                parts[c] = parts[c] + parts[c + SHARE] * high
        out = {}
        for s in self.stems:
            if s == self._m.residual_source:
                rest = x - parts[self._computed[0]]
                for c in self._computed[1:]:
                    rest -= parts[c]
                out[s] = rest
            else:
                out[s] = parts[s]
        return out


def open_stream(
    model: SeparationModel,
    sample_rate: int,
    channels: int,
    mask: Mask,
    chunk: int,
    stems: list[str],
    shifts: int,
    high_band: HighBand = defaults.HIGH_BAND,
    channel_masks: ChannelMasks = defaults.CHANNEL_MASKS,
    background: bool = False,
) -> StemStream:
    """A :class:`SeparationStream`, averaging ``shifts`` passes over frame grids (see ``shifts.py``).

    Values are trusted: the :class:`~vocalsplit.separation.separator.Separator` checked them."""
    return SeparationStream(
        model, sample_rate, channels, mask, chunk, stems, shifts, high_band, channel_masks, background
    )


def separate_array(
    model: SeparationModel,
    audio: np.ndarray,
    sample_rate: int,
    mask: Mask = defaults.MASK,
    chunk: int | None = None,
    stems: list[str] | None = None,
    block: int = defaults.BLOCK_FRAMES,
    shifts: int = defaults.SHIFTS,
    high_band: HighBand = defaults.HIGH_BAND,
    channel_masks: ChannelMasks = defaults.CHANNEL_MASKS,
) -> dict[str, np.ndarray]:
    """Separate an in-memory signal ``(channels, n)`` or ``(n,)``; stems keep its shape.

    The defaults are the user's (``defaults.py``); ``chunk`` in frames, ``None`` for
    ``defaults.CHUNK_SECONDS``. Most callers want ``Separator.separate_array``."""
    m = model.manifest
    frames = chunk_frames(m, defaults.CHUNK_SECONDS) if chunk is None else chunk
    chosen = check_stems(m.name, m.sources, stems or list(m.sources))

    def make(channels: int) -> StemStream:
        return open_stream(model, sample_rate, channels, mask, frames, chosen, shifts, high_band, channel_masks)

    return run_stream(audio, make, block)


def run_stream(
    audio: np.ndarray, make: Callable[[int], StemStream], block: int = defaults.BLOCK_FRAMES
) -> dict[str, np.ndarray]:
    """Push an in-memory signal ``(channels, n)`` or ``(n,)`` through ``make(channels)``'s stream in
    blocks; the stems, joined, with the input's shape."""
    mono = audio.ndim == 1
    x = np.atleast_2d(np.asarray(audio, dtype=np.float32))
    if x.ndim != 2:
        raise UsageError(f"audio must be (channels, samples) or (samples,), got shape {audio.shape}")
    stream = make(x.shape[0])
    pieces: dict[str, list[np.ndarray]] = {s: [] for s in stream.stems}
    for start in range(0, x.shape[1], block):
        for s, y in stream.push(x[:, start : start + block]).items():
            pieces[s].append(y)
    for s, y in stream.finish().items():
        pieces[s].append(y)
    result = {s: np.concatenate(p, axis=1) for s, p in pieces.items()}
    return {s: y[0] for s, y in result.items()} if mono else result
