"""Every user-facing default, in one place (the CLI shows them in --help)."""

from __future__ import annotations

from vocalsplit.choices import BitDepth, ChannelMasks, HighBand, Mask, OutputFormat

CHUNK_SECONDS: float = 2.0
"""Audio (at the model's rate) handed to the network per call on the CPU. The network runs a
chunk behind the rest on a thread of its own, so a file's last chunk is not overlapped: 2 s
against 5 s on 2 cores, a 240-s song as fast, a folder of 24 10-s parts 1.2-1.7x faster
(``drnn-lite-eif`` 1.65 s against 2.75 s; docs/experiments.md); outputs equal within 1e-4."""

CUDA_CHUNK_SECONDS: float = 20.0
"""Audio per network call on CUDA, where the GPU figures so far were measured (fewer,
larger calls); :data:`CHUNK_SECONDS` there is not measured yet."""

FILES_AT_ONCE: int = 2
"""Files of a folder separated at the same time, each on a thread of its own with the one loaded
model: while one file starts (the network waits for its first chunk) or ends (the rest waits for
the network's last), another is in its middle. A folder of 24 10-s parts on 2 cores, in process:
1.35-1.42 s at 2 or 3 at once against 1.66-1.70 s one at a time (one 240-s file: 1.22-1.28 s).
Each file in flight holds its own buffers: peak memory 154 MB against 109 MB one at a time. On
CUDA files go one at a time (not measured on a GPU yet)."""

MAX_CHUNK_SECONDS: float = 600.0
"""Largest ``--chunk-seconds``: memory grows with the chunk, never with the song."""

BLOCK_FRAMES: int = 65536
"""Samples per channel read from the input file per block."""

MAX_SHIFTS: int = 16
"""Most ``--shifts`` passes."""

MASK: Mask = Mask.SOFT

DEVICE: str = "auto"

SHIFTS: int = 2
"""Passes averaged per song, on frame grids offset by 1/SHIFTS of a hop (``--shifts``; 1 = one pass),
for a model whose manifest names no ``shifts`` of its own.

Chosen on validation data: two passes gain 0.2–0.4 dB over one at twice the time for the
DRNNs; four gain little more (README, "Shipped models"). A model for which a second pass
measured no gain (the 44.1 kHz CNNs, hop a quarter of a frame) records ``"shifts": 1``."""

HIGH_BAND: HighBand = HighBand.SHARE
"""Above a model's band (8 kHz for the 16 kHz models), each source gets the song times its share of
the top of the band (5-7.5 kHz), frame by frame, instead of the residual source getting it all."""

CHANNEL_MASKS: ChannelMasks = ChannelMasks.SHARED
"""Every channel of a song gets the same masks, the mean of the channels' network outputs.

Measured on the five Everything is Free songs (whole-song vocals SDR): better than a mask per
channel for every model and song tried, +0.02 to +0.44 dB (docs/experiments.md)."""

FORMAT: OutputFormat = OutputFormat.WAV

BIT_DEPTH: BitDepth = BitDepth.AUTO

FILENAME_TEMPLATE: str = "{track}/{stem}.{ext}"

SILENCE_PEAK: float = 1e-7
"""An input whose absolute peak never exceeds this is treated as all-silent."""

AUDIO_EXTENSIONS: frozenset[str] = frozenset(
    {
        ".wav",
        ".wave",
        ".flac",
        ".mp3",
        ".ogg",
        ".oga",
        ".opus",
        ".aif",
        ".aiff",
        ".aifc",
        ".au",
        ".snd",
        ".caf",
        ".w64",
        ".rf64",
        ".m4a",
        ".aac",
        ".mp4",
        ".wma",
        ".webm",
        ".mka",
    }
)
