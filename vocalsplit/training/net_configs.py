"""The options of the built-in networks, torch-free so that ``vocalsplit train --help`` shows their defaults."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from vocalsplit.choices import Cell, parse
from vocalsplit.errors import UsageError

TWO_SOURCES = ("vocals", "accompaniment")


@dataclass(frozen=True)
class DrnnConfig:
    bins: int = 513
    context: int = 3
    """Frames seen per output frame (1, 3, 5...): the centre plus (context-1)/2 each side."""
    layers: int = 3
    hidden: int = 1000
    recurrent_layer: int = 2
    """1-based layer with the recurrence; 0 = every layer recurrent (stacked RNN)."""
    cell: Cell = Cell.RELU
    mask_floor: float = 1e-2
    """δ in ``(|y1| + δ) / (|y1| + |y2| + 2δ)``: keeps the joint mask well conditioned
    where both heads are near zero (there float32 rounding would decide the mask)."""
    dropout: float = 0.0
    """Dropout on every hidden layer's output while training (none at inference); 0 as in the paper."""

    def __post_init__(self) -> None:
        if self.context < 1 or self.context % 2 == 0:
            raise UsageError(f"--context {self.context}: must be odd and >= 1 (1, 3, 5...)")
        if not 1 <= self.layers <= 3:
            raise UsageError(f"--layers {self.layers}: allowed 1 to 3")
        if not 0 <= self.recurrent_layer <= self.layers:
            raise UsageError(f"--recurrent-layer {self.recurrent_layer}: allowed 0 (all) to {self.layers}")
        object.__setattr__(self, "cell", parse(Cell, self.cell, "--cell"))
        if self.hidden < 1:
            raise UsageError("--hidden must be positive")
        if not 0.0 <= self.dropout < 1.0:
            raise UsageError(f"--dropout {self.dropout}: must be in [0, 1)")

    @property
    def half(self) -> int:
        return (self.context - 1) // 2

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "cell": str(self.cell)}


@dataclass(frozen=True)
class CnnConfig:
    bins: int = 513
    window: int = 30
    """Frames per window (the paper's T); must be even (windows overlap by half)."""
    vertical_filters: int = 50
    horizontal_filters: int = 50
    horizontal_kernel: int = 15
    bottleneck: int = 128
    sources: tuple[str, ...] = TWO_SOURCES
    mask_floor: float = 1e-2

    def __post_init__(self) -> None:
        if self.window < 2 or self.window % 2:
            raise UsageError(f"--window {self.window}: must be even and >= 2 (windows overlap by half)")
        if not 1 <= self.horizontal_kernel <= self.window:
            raise UsageError(f"--horizontal-kernel {self.horizontal_kernel}: must be between 1 and the window")
        if len(self.sources) < 2:
            raise UsageError("a CNN separates at least two sources")

    @property
    def hop(self) -> int:
        return self.window // 2

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "sources": list(self.sources)}


@dataclass(frozen=True)
class BmcnnConfig:
    bins: int = 513
    context: int = 9
    """Frames in the input window (odd); the output is the centre frame's mask."""
    channels: tuple[int, int] = (16, 32)
    dense: int = 256
    dropout: float = 0.25
    sources: tuple[str, ...] = TWO_SOURCES

    def __post_init__(self) -> None:
        if self.context < 3 or self.context % 2 == 0:
            raise UsageError(f"--context {self.context}: must be odd and >= 3")

    @property
    def half(self) -> int:
        return (self.context - 1) // 2

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "sources": list(self.sources), "channels": list(self.channels)}


@dataclass(frozen=True)
class LstmConfig:
    """The LSTM soft-mask network of Bhular's guide: LSTM layers → dense sigmoid → soft-mask layer."""

    bins: int = 2049
    window: int = 64
    """Frames per window (even): the LSTM sees whole windows at 50 % overlap, blended (see ``blend_windows``)."""
    bottleneck: int = 256
    """Units of the dense layer that compresses the bins before the LSTM (Open-Unmix's idea)."""
    hidden: int = 256
    """LSTM units per layer (split between the two directions when bidirectional)."""
    layers: int = 2
    bidirectional: bool = True
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.window < 2 or self.window % 2:
            raise UsageError(f"--window {self.window}: must be even and >= 2 (windows overlap by half)")
        if self.bidirectional and self.hidden % 2:
            raise UsageError(f"--hidden {self.hidden}: must be even for a bidirectional LSTM")
        if not 1 <= self.layers <= 4:
            raise UsageError(f"--layers {self.layers}: allowed 1 to 4")
        if not 0.0 <= self.dropout < 1.0:
            raise UsageError(f"--dropout {self.dropout}: must be in [0, 1)")

    @property
    def hop(self) -> int:
        return self.window // 2

    def to_dict(self) -> dict[str, object]:
        return asdict(self)
