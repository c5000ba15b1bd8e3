"""Options with a fixed set of values, as string enums.

The CLI hands them to Typer, which validates them once, at the edge, and lists
them in ``--help``; the Python API converts plain strings with :func:`parse`,
which is the same single check. Members compare equal to their strings.
"""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

from vocalsplit.errors import UsageError


class Choice(str, Enum):
    """A string enum whose ``str()`` is its value (``f"{Mask.SOFT}"`` is ``soft``)."""

    def __str__(self) -> str:
        return str(self.value)


class Select(Choice):
    """What picks a training run's best checkpoint."""

    LOSS = "loss"
    SDR = "sdr"


class Mask(Choice):
    SOFT = "soft"
    BINARY = "binary"


class OutputFormat(Choice):
    WAV = "wav"
    FLAC = "flac"
    MP3 = "mp3"


class BitDepth(Choice):
    AUTO = "auto"
    PCM16 = "16"
    PCM24 = "24"
    PCM32 = "32"
    FLOAT = "float"


class HighBand(Choice):
    """Where the song above a model's band goes (``--high-band``)."""

    SHARE = "share"
    ACCOMPANIMENT = "accompaniment"


class ChannelMasks(Choice):
    """How the channels of a stereo (or multichannel) song get their masks (``--channel-masks``)."""

    SHARED = "shared"
    """One mask per frame and bin, the mean of the channels' network outputs, applied to every channel."""
    SEPARATE = "separate"
    """Each channel its own mask, as if each were a mono song."""


class Existing(Choice):
    """What to do with an output that already exists."""

    ERROR = "error"
    OVERWRITE = "overwrite"
    SKIP = "skip"


class Dataset(Choice):
    MIR1K = "mir1k"
    STEMS = "stems"
    """Track folders with vocals.* and accompaniment.* (or other stems)."""
    VOCALS = "vocals"
    """A folder of solo singing (any audio files): voices only (needs ``--mix``)."""
    MUSIC = "music"
    """A folder of music without voice: accompaniment only (needs ``--mix``)."""


class Mir1kClips(Choice):
    TRAIN = "train"
    """The protocol's 175 training clips (singers abjones and amy)."""
    ALL = "all"


class Split(Choice):
    NAME = "name"
    """Validation clips chosen by clip name: the same in any pool and with any seed."""
    SEEDED = "seeded"
    """Drawn with the run's seed (the shipped MIR-1K models' split)."""


class Architecture(Choice):
    """The architectures offered by ``vocalsplit train --arch`` (each registered by its net file)."""

    DRNN = "drnn"
    CNN = "cnn"
    BMCNN = "bmcnn"
    LSTM = "lstm"


class Cell(Choice):
    RELU = "relu"
    GRU = "gru"
    LSTM = "lstm"


class Loss(Choice):
    MSE = "mse"
    KL = "kl"
    PSA = "psa"


class Weights(Choice):
    FLOAT32 = "float32"
    FLOAT16 = "float16"


class Backend(Choice):
    FAST = "fast"
    MIR_EVAL = "mir_eval"


C = TypeVar("C", bound=Choice)


def parse(kind: type[C], value: str | C, option: str) -> C:
    """``value`` as a member of ``kind``; a UsageError naming ``option`` and the allowed values otherwise."""
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise UsageError(f"{option} {value!r}; allowed: {allowed}") from None
