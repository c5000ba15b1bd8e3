"""Output container and sample-format choices."""

from __future__ import annotations

from vocalsplit.errors import UsageError

CONTAINERS: dict[str, str] = {"wav": "WAV", "flac": "FLAC", "mp3": "MP3"}

_EXPLICIT: dict[str, str] = {"16": "PCM_16", "24": "PCM_24", "32": "PCM_32", "float": "FLOAT"}
_ALLOWED: dict[str, frozenset[str]] = {
    "wav": frozenset({"PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"}),
    "flac": frozenset({"PCM_16", "PCM_24"}),
    "mp3": frozenset({"MPEG_LAYER_III"}),
}
_NEAREST: dict[str, dict[str, str]] = {
    # the input's sample format where the container has it, else the nearest one
    "wav": {"PCM_S8": "PCM_16", "PCM_U8": "PCM_16"},
    "flac": {"PCM_32": "PCM_24", "FLOAT": "PCM_24", "DOUBLE": "PCM_24", "PCM_S8": "PCM_16", "PCM_U8": "PCM_16"},
}


def choose_subtype(fmt: str, input_subtype: str | None, bit_depth: str) -> str:
    """libsndfile subtype for an output: ``bit_depth`` 'auto' keeps the input's depth."""
    if fmt not in CONTAINERS:
        raise UsageError(f"unknown output format {fmt!r}; allowed: {', '.join(CONTAINERS)}")
    if fmt == "mp3":
        if bit_depth != "auto":
            raise UsageError(f"--bit-depth {bit_depth} does not apply to mp3; use 'auto'")
        return "MPEG_LAYER_III"
    if bit_depth != "auto":
        if bit_depth not in _EXPLICIT:
            raise UsageError(f"unknown bit depth {bit_depth!r}; allowed: auto, {', '.join(_EXPLICIT)}")
        subtype = _EXPLICIT[bit_depth]
        if subtype not in _ALLOWED[fmt]:
            allowed = sorted(k for k, v in _EXPLICIT.items() if v in _ALLOWED[fmt])
            raise UsageError(f"--bit-depth {bit_depth} is not possible in {fmt}; allowed: {', '.join(allowed)}")
        return subtype
    if input_subtype in _ALLOWED[fmt]:
        return input_subtype
    return _NEAREST[fmt].get(input_subtype or "", "PCM_16")


def is_integer_subtype(subtype: str) -> bool:
    return subtype.startswith("PCM_") or subtype == "MPEG_LAYER_III"


WAV_LIMIT_BYTES = 0xFFFFFFFF - 1024
"""A RIFF WAV's 32-bit size field: data beyond about 4 GiB makes a broken header."""
_BYTES = {"PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "FLOAT": 4, "DOUBLE": 8}


def container_for(fmt: str, subtype: str, frames: int, channels: int) -> str:
    """libsndfile's container for ``fmt``: RF64 instead of WAV when the data can pass 4 GiB."""
    if fmt == "wav" and frames * channels * _BYTES.get(subtype, 8) > WAV_LIMIT_BYTES:
        return "RF64"
    return CONTAINERS[fmt]


MP3_DEFAULT_KBPS = 320


def mp3_bitrate_range(sample_rate: int) -> tuple[int, int]:
    """Constant bitrates (kb/s) an MP3 at ``sample_rate`` can have: MPEG-1, 2 and 2.5 differ."""
    if sample_rate >= 32000:
        return 32, 320
    if sample_rate >= 16000:
        return 8, 160
    return 8, 64


def mp3_compression_level(kbps: int, sample_rate: int) -> float:
    """libsndfile's compression level for a constant ``kbps``: it maps the level linearly onto the
    MPEG version's bitrate range (level 0 = the highest rate), so this inverts that mapping.
    Hand-written because soundfile exposes only the level, not the bitrate."""
    low, high = mp3_bitrate_range(sample_rate)
    kbps = min(max(kbps, low), high)
    return min(max((high - kbps) / (high - low), 0.0), 0.9999)  # libsndfile refuses exactly 1.0
