"""The deep recurrent network of Huang et al. (ISMIR 2014 / TASLP 2015).

A stack of fully connected ReLU layers over a window of context frames, with
recurrence on one chosen layer (DRNN-k) or on all layers (stacked RNN), two
output heads (voice, accompaniment) and the joint soft-mask layer
``m_voice = |y1| / (|y1| + |y2|)`` (plus a small floor δ), so the two estimates always sum to the
mixture magnitude. Input normalisation (log compression, per-bin mean/std of
the training data) lives inside the network, so the ONNX file needs no side tables.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from vocalsplit.errors import UsageError
from vocalsplit.training.base import SeparationNet

CELLS = ("relu", "gru", "lstm")


@dataclass(frozen=True)
class DrnnConfig:
    bins: int = 513
    context: int = 3
    """Frames seen per output frame (1, 3, 5...): the centre plus (context-1)/2 each side."""
    layers: int = 3
    hidden: int = 1000
    recurrent_layer: int = 2
    """1-based layer with the recurrence; 0 = every layer recurrent (stacked RNN)."""
    cell: str = "relu"
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
        if self.cell not in CELLS:
            raise UsageError(f"--cell {self.cell!r}; allowed: {', '.join(CELLS)}")
        if self.hidden < 1:
            raise UsageError("--hidden must be positive")
        if not 0.0 <= self.dropout < 1.0:
            raise UsageError(f"--dropout {self.dropout}: must be in [0, 1)")

    @property
    def half(self) -> int:
        return (self.context - 1) // 2

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _rnn(cell: str, inp: int, hidden: int, layers: int, dropout: float) -> nn.RNNBase:
    """``dropout`` acts between stacked layers only (torch's convention)."""
    dropout = dropout if layers > 1 else 0.0
    if cell == "relu":
        return nn.RNN(inp, hidden, num_layers=layers, nonlinearity="relu", batch_first=True, dropout=dropout)
    if cell == "gru":
        return nn.GRU(inp, hidden, num_layers=layers, batch_first=True, dropout=dropout)
    return nn.LSTM(inp, hidden, num_layers=layers, batch_first=True, dropout=dropout)


class Drnn(SeparationNet):
    """``(batch, frames + context - 1, bins)`` magnitudes → masks ``(batch, 2, frames, bins)``."""

    def __init__(self, config: DrnnConfig) -> None:
        super().__init__(config.bins)
        self.config = config
        c = config
        self.state_layers = c.layers if c.recurrent_layer == 0 else 1
        self.state_names = ["h", "c"] if c.cell == "lstm" else ["h"]
        inp = c.bins * c.context
        self.stack = nn.ModuleList()
        if c.recurrent_layer == 0:
            self.stack.append(_rnn(c.cell, inp, c.hidden, c.layers, c.dropout))
        else:
            for i in range(1, c.layers + 1):
                size_in = inp if i == 1 else c.hidden
                if i == c.recurrent_layer:
                    self.stack.append(_rnn(c.cell, size_in, c.hidden, 1, 0.0))
                else:
                    self.stack.append(nn.Sequential(nn.Linear(size_in, c.hidden), nn.ReLU()))
        # after each entry of the stack; a stacked RNN also drops between its own layers
        self.drop = nn.Dropout(c.dropout)
        self.head = nn.Linear(c.hidden, 2 * c.bins)

    def initial_state(self, batch: int) -> list[torch.Tensor]:
        """States ``(batch, state_layers, hidden)``, one per name in :attr:`state_names`."""
        return [torch.zeros(batch, self.state_layers, self.config.hidden) for _ in self.state_names]

    def forward(self, magnitude: torch.Tensor, state: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        c = self.config
        x = self.features(magnitude)
        frames = x.shape[1] - (c.context - 1)
        if c.context > 1:
            x = torch.cat([x[:, i : i + frames] for i in range(c.context)], dim=-1)
        new_state = state
        for layer in self.stack:
            if isinstance(layer, nn.RNNBase):
                hx = [s.transpose(0, 1).contiguous() for s in state]
                x, h = layer(x, (hx[0], hx[1]) if c.cell == "lstm" else hx[0])
                hs = list(h) if c.cell == "lstm" else [h]
                new_state = [s.transpose(0, 1) for s in hs]
            else:
                x = layer(x)
            x = self.drop(x)
        y = self.head(x).reshape(x.shape[0], frames, 2, c.bins).abs()
        d = c.mask_floor
        masks = (y + d) / (y.sum(dim=2, keepdim=True) + 2 * d)
        return masks.permute(0, 2, 1, 3), new_state


def widen_context(net: Drnn, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A checkpoint of a narrower context window, made to fit ``net`` without changing its output.

    The first layer's input weights of a ``c``-frame checkpoint are placed on the
    centre ``c`` frames of ``net``'s wider window and the new outer frames get zero
    weights, so fine-tuning starts from exactly the old model and learns what the
    extra frames add. Other checkpoints are returned unchanged.
    """
    key = "stack.0.weight_ih_l0" if isinstance(net.stack[0], nn.RNNBase) else "stack.0.0.weight"
    weight = state.get(key)
    bins, context = net.config.bins, net.config.context
    if weight is None or weight.ndim != 2 or weight.shape[1] == bins * context or weight.shape[1] % bins:
        return state
    old = weight.shape[1] // bins
    if old > context or (context - old) % 2:
        raise UsageError(
            f"the checkpoint has a {old}-frame context; it can only grow to a wider odd one, not {context}"
        )
    pad = (context - old) // 2 * bins
    wide = torch.zeros(weight.shape[0], bins * context, dtype=weight.dtype)
    wide[:, pad : pad + weight.shape[1]] = weight
    return {**state, key: wide}


def parameter_count(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
