"""The deep recurrent network of Huang et al. (ISMIR 2014 / TASLP 2015).

A stack of fully connected ReLU layers over a window of context frames, with
recurrence on one chosen layer (DRNN-k) or on all layers (stacked RNN), two
output heads (voice, accompaniment) and the joint soft-mask layer
``m_voice = |y1| / (|y1| + |y2|)`` (plus a small floor δ), so the two estimates always sum to the
mixture magnitude. Input normalisation (log compression, per-bin mean/std of
the training data) lives inside the network, so the ONNX file needs no side tables.
"""

from __future__ import annotations

import torch
from torch import nn

from vocalsplit.choices import Cell, Loss
from vocalsplit.errors import UsageError
from vocalsplit.training.architecture import Arch, ArchSpec, register
from vocalsplit.training.base import SeparationNet
from vocalsplit.training.batches import TensorBatch
from vocalsplit.training.config import LossSettings
from vocalsplit.training.losses import discriminative_loss, phase_sensitive_targets
from vocalsplit.training.narrow_hidden import narrow_hidden
from vocalsplit.training.net_configs import TWO_SOURCES, DrnnConfig
from vocalsplit.training.widen_band import widen_band


def _rnn(cell: Cell, inp: int, hidden: int, layers: int, dropout: float) -> nn.RNNBase:
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
        return [torch.zeros(batch, *self.state_shape()) for _ in self.state_names]

    def state_shape(self) -> list[int]:
        return [self.state_layers, self.config.hidden]

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
    key = _first_layer(net)
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


def _first_layer(net: Drnn) -> str:
    """The state-dict key of the input weights of the first layer."""
    return "stack.0.weight_ih_l0" if isinstance(net.stack[0], nn.RNNBase) else "stack.0.0.weight"


def _build(config: DrnnConfig, frames: int, sources: tuple[str, ...]) -> Arch:
    h = config.half
    return Arch(SPEC, Drnn(config), TWO_SOURCES, h, h, frames + 2 * h)


def _loss(arch: Arch, batch: TensorBatch, settings: LossSettings, discriminative: bool) -> torch.Tensor:
    """Huang et al.'s discriminative loss on the centre frames (``psa``: phase-sensitive targets)."""
    mix = batch.mixture
    targets = batch.targets
    masks, _ = arch.net(mix, arch.net.initial_state(mix.shape[0]))
    end = mix.shape[1] - arch.right
    if settings.kind == Loss.PSA:
        projected = phase_sensitive_targets(batch.sources_c[:, :, arch.left : end]).float()
        targets = torch.stack([projected[:, 0], projected[:, 1:].sum(dim=1)], dim=1)
    gamma = settings.gamma if discriminative else 0.0
    return discriminative_loss(
        masks, mix[:, arch.left : end], targets[:, 0], targets[:, 1], settings.kind, gamma, batch.weights
    )


def _adapt(net: SeparationNet, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A checkpoint of a narrower context window or of more hidden units, made to fit ``net``."""
    assert isinstance(net, Drnn)
    c = net.config
    if c.recurrent_layer == 0:  # a stacked RNN: fewer units per layer keep the most used ones
        state = narrow_hidden(state, "stack.0.", c.layers, c.hidden, "head")
    return widen_context(net, state)


def _widen(net: SeparationNet, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    assert isinstance(net, Drnn)
    return widen_band(state, net.config.bins, net.feat_mean, net.feat_std, _first_layer(net))


SPEC = register(
    ArchSpec(
        "drnn",
        DrnnConfig,
        _build,
        _loss,
        "Deep recurrent network with joint soft-mask layer (Huang et al. 2014), trained by vocalsplit",
        adapt_checkpoint=_adapt,
        widen_band=_widen,
    )
)
