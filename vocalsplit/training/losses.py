"""Losses after the joint mask layer, with Huang et al.'s discriminative term.

For estimates ``ŷ1 = m1 ⊙ x``, ``ŷ2 = m2 ⊙ x`` and targets ``y1`` (voice), ``y2``
(accompaniment): ``D(ŷ1, y1) - γ D(ŷ1, y2) + D(ŷ2, y2) - γ D(ŷ2, y1)``, where D
is the squared error or the generalized KL divergence, averaged over elements.

``psa`` is the squared error against phase-sensitive targets (Erdogan et al.,
ICASSP 2015): ``|s| cos(∠s - ∠x)``, the part of each source in phase with the
mixture. Since the mask keeps the mixture phase, ``|m x - s|² = (m|x| - |s| cos θ)²
+ |s|² sin² θ``, so this loss is the complex STFT error of the estimate (up to a
term the network cannot change): it trains for what SDR measures, not only for
magnitudes.
"""

from __future__ import annotations

import torch

from vocalsplit.choices import Loss


def weighted_mean(x: torch.Tensor, weights: torch.Tensor | None) -> torch.Tensor:
    """Mean of ``x``, or its ``weights``-weighted mean (weights broadcast to ``x``; bins weighted 0 are ignored)."""
    if weights is None:
        return x.mean()
    w = weights.expand_as(x)
    return (x * w).sum() / w.sum().clamp_min(1.0)


def mse(estimate: torch.Tensor, target: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    return weighted_mean((estimate - target) ** 2, weights)


def generalized_kl(
    estimate: torch.Tensor, target: torch.Tensor, weights: torch.Tensor | None = None, eps: float = 1e-8
) -> torch.Tensor:
    """Mean of ``y log(y / ŷ) - y + ŷ`` (zero iff ŷ == y)."""
    return weighted_mean(target * (torch.log(target + eps) - torch.log(estimate + eps)) - target + estimate, weights)


def discriminative_loss(
    masks: torch.Tensor,
    mixture: torch.Tensor,
    voice: torch.Tensor,
    accompaniment: torch.Tensor,
    kind: Loss = Loss.MSE,
    gamma: float = 0.05,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """``masks`` ``(B, 2, T, F)``; ``mixture``/``voice``/``accompaniment`` magnitudes ``(B, T, F)``.

    ``weights`` ``(B, 1, F)`` (or anything that broadcasts to ``(B, T, F)``): 0 for bins the
    loss must ignore, e.g. above the band of a voice recorded at 16 kHz."""
    d = generalized_kl if kind == Loss.KL else mse
    est_v, est_a = masks[:, 0] * mixture, masks[:, 1] * mixture
    loss = d(est_v, voice, weights) + d(est_a, accompaniment, weights)
    if gamma:
        loss = loss - gamma * (d(est_v, accompaniment, weights) + d(est_a, voice, weights))
    return loss


def phase_sensitive_targets(sources: torch.Tensor) -> torch.Tensor:
    """``(B, S, T, F)`` complex source STFTs → ``|s| cos(∠s - ∠x)`` for their sum ``x``.

    Zero where the mixture is exactly zero (no phase to project on).
    """
    mixture = sources.sum(dim=1, keepdim=True)
    magnitude = mixture.abs()
    projected = (sources * mixture.conj()).real / magnitude.clamp_min(1e-12)
    return torch.where(magnitude > 0, projected, torch.zeros_like(projected))


def source_discriminative_loss(
    estimates: torch.Tensor,
    targets: torch.Tensor,
    sources: tuple[str, ...],
    alpha: float = 0.001,
    beta: float = 0.01,
    beta_vocals: float = 0.03,
) -> torch.Tensor:
    """Chandna et al.'s loss for ``(B, S, T, F)`` estimates and targets.

    Squared error of each source, minus weighted squared errors against the other
    sources: ``beta_vocals`` for the vocals estimate against every other source,
    ``beta`` for any estimate against the vocals, ``alpha`` for the remaining pairs
    (e.g. drums against bass). Terms are means over elements.
    """
    loss = ((estimates - targets) ** 2).mean() * len(sources)
    for i, name in enumerate(sources):
        for j, other in enumerate(sources):
            if i == j:
                continue
            weight = beta_vocals if name == "vocals" else beta if other == "vocals" else alpha
            if weight:
                loss = loss - weight * ((estimates[:, i] - targets[:, j]) ** 2).mean()
    return loss
