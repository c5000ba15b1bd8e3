"""Start a narrower recurrent stack from a wider one: keep each layer's most used units.

A cheaper network (fewer hidden units per layer) fine-tuned from a trained wider
one starts far closer to it than from scratch. For every layer of a stacked RNN
(torch's ``nn.GRU`` / ``nn.LSTM`` / ``nn.RNN`` with ``num_layers`` layers) the units
kept are those whose outgoing weights are largest (L2 norm of the unit's column in
the layer's own recurrent weights and in whatever reads the layer next: the next
layer's input weights, or the output head), a standard magnitude criterion for
structured pruning. Every gate block of a kept unit is kept with it. The result is
a state dict shaped for the narrower network; it is not the same function (the
units dropped are gone), which fine-tuning then repairs.
"""

from __future__ import annotations

import torch


def narrow_hidden(
    state: dict[str, torch.Tensor], prefix: str, layers: int, hidden: int, head: str
) -> dict[str, torch.Tensor]:
    """``state`` with the stacked RNN under ``prefix`` (e.g. ``"stack.0."``) cut to ``hidden``
    units per layer and the ``head`` linear layer's inputs cut to match. Unchanged if the
    checkpoint has no such stack, another number of layers or no more than ``hidden`` units
    (then the network does not fit it, and loading says so)."""
    first = state.get(f"{prefix}weight_hh_l0")
    depth = sum(1 for key in state if key.startswith(f"{prefix}weight_hh_l"))
    if first is None or first.shape[1] <= hidden or depth != layers:  # loading names the misfit
        return state
    old = first.shape[1]
    gates = first.shape[0] // old
    out = dict(state)
    for k in range(layers):
        reader = f"{prefix}weight_ih_l{k + 1}" if k + 1 < layers else f"{head}.weight"
        outgoing = torch.cat([state[f"{prefix}weight_hh_l{k}"], state[reader]], dim=0)
        keep = torch.sort(torch.topk(outgoing.norm(dim=0), hidden).indices).values
        rows = torch.cat([keep + g * old for g in range(gates)])
        for name in (f"weight_ih_l{k}", f"bias_ih_l{k}", f"bias_hh_l{k}"):
            out[prefix + name] = out[prefix + name][rows]
        out[f"{prefix}weight_hh_l{k}"] = state[f"{prefix}weight_hh_l{k}"][rows][:, keep]
        out[reader] = out[reader][:, keep]
    return out
