import pytest

torch = pytest.importorskip("torch")

from vocalsplit.errors import UsageError  # noqa: E402
from vocalsplit.training.architecture import build_arch  # noqa: E402
from vocalsplit.training.drnn import Drnn, widen_context  # noqa: E402
from vocalsplit.training.losses import (  # noqa: E402
    discriminative_loss,
    generalized_kl,
    mse,
    phase_sensitive_targets,
)
from vocalsplit.training.net_configs import DrnnConfig  # noqa: E402


def test_loss_values_for_known_inputs() -> None:
    assert float(mse(torch.tensor([1.0, 2.0]), torch.tensor([0.0, 0.0]))) == pytest.approx(2.5)
    assert float(generalized_kl(torch.tensor([2.0]), torch.tensor([2.0]))) == pytest.approx(0.0, abs=1e-6)
    # y log(y/x) - y + x with y=1, x=e: -1 - 1 + e
    assert float(generalized_kl(torch.tensor([torch.e]), torch.tensor([1.0]))) == pytest.approx(torch.e - 2, abs=1e-5)


def test_discriminative_term_rewards_distance_from_the_other_source() -> None:
    mixture = torch.full((1, 2, 3), 2.0)
    voice, acc = torch.full((1, 2, 3), 1.5), torch.full((1, 2, 3), 0.5)
    masks = torch.stack([torch.full((1, 2, 3), 0.6), torch.full((1, 2, 3), 0.4)], dim=1)
    plain = discriminative_loss(masks, mixture, voice, acc, "mse", gamma=0.0)
    disc = discriminative_loss(masks, mixture, voice, acc, "mse", gamma=0.05)
    # est_v = 1.2, est_a = 0.8: D(v)=0.09, D(a)=0.09; cross terms D(est_v, acc)=0.49, D(est_a, voice)=0.49
    assert float(plain) == pytest.approx(0.18, abs=1e-6)
    assert float(disc) == pytest.approx(0.18 - 0.05 * 0.98, abs=1e-6)
    assert float(disc) < float(plain)
    perfect = torch.stack([voice / mixture, acc / mixture], dim=1)
    assert float(discriminative_loss(perfect, mixture, voice, acc, "kl", gamma=0.0)) == pytest.approx(0.0, abs=1e-6)


def test_phase_sensitive_targets_project_each_source_on_the_mixture_phase() -> None:
    # in phase: voice 2, music -1 (opposite) → mixture 1; quadrature: 1 and 1j → both 1/√2
    sources = torch.tensor([[[[2.0 + 0j, 1.0 + 0j, 0j]]], [[[-1.0 + 0j, 1j, 0j]]]]).reshape(1, 2, 1, 3)
    projected = phase_sensitive_targets(sources)
    assert torch.allclose(projected[0, :, 0, 0], torch.tensor([2.0, -1.0]))
    assert torch.allclose(projected[0, :, 0, 1], torch.tensor([0.5**0.5, 0.5**0.5]))
    assert torch.equal(projected[0, :, 0, 2], torch.zeros(2))  # silent mixture: no phase, target 0
    rng = torch.Generator().manual_seed(0)
    random = torch.complex(torch.randn(3, 2, 4, 5, generator=rng), torch.randn(3, 2, 4, 5, generator=rng))
    # the projections always add up to the mixture magnitude
    assert torch.allclose(phase_sensitive_targets(random).sum(dim=1), random.sum(dim=1).abs(), atol=1e-5)


def test_psa_loss_differs_from_the_complex_stft_error_by_a_constant() -> None:
    rng = torch.Generator().manual_seed(1)
    sources = torch.complex(torch.randn(2, 2, 6, 7, generator=rng), torch.randn(2, 2, 6, 7, generator=rng))
    mixture = sources.sum(dim=1)
    targets = phase_sensitive_targets(sources)

    def both(mask_voice: torch.Tensor) -> tuple[float, float]:
        masks = torch.stack([mask_voice, 1 - mask_voice], dim=1)
        psa = discriminative_loss(masks, mixture.abs(), targets[:, 0], targets[:, 1], "psa", gamma=0.0)
        complex_error = sum(((masks[:, k] * mixture - sources[:, k]).abs() ** 2).mean() for k in range(2))
        return float(psa), float(complex_error)

    a = both(torch.rand(2, 6, 7, generator=rng))
    b = both(torch.rand(2, 6, 7, generator=rng))
    assert a[0] != pytest.approx(b[0])
    assert a[1] - a[0] == pytest.approx(b[1] - b[0], abs=1e-5)
    # the constant is the out-of-phase energy, which no real mask can remove
    assert a[1] - a[0] > 0


@pytest.mark.parametrize("cell,recurrent", [("relu", 2), ("gru", 0), ("lstm", 1)])
def test_joint_mask_layer_sums_to_one_and_state_is_carried(cell: str, recurrent: int) -> None:
    net = Drnn(DrnnConfig(bins=33, context=3, layers=2, hidden=16, recurrent_layer=recurrent, cell=cell))
    x = torch.rand(2, 12, 33)
    masks, state = net(x, net.initial_state(2))
    assert masks.shape == (2, 2, 10, 33)
    assert torch.allclose(masks.sum(dim=1), torch.ones(2, 10, 33), atol=1e-5)
    # two halves with carried state equal the whole
    a, s = net(x[:, :7], net.initial_state(2))
    b, _ = net(x[:, 5:], s)
    assert torch.allclose(torch.cat([a, b], dim=2), masks, atol=1e-5)


@pytest.mark.parametrize("cell,recurrent,wider", [("gru", 0, 5), ("relu", 2, 7), ("lstm", 1, 5)])
def test_widened_context_starts_from_exactly_the_narrow_model(cell: str, recurrent: int, wider: int) -> None:
    options = dict(bins=33, layers=2, hidden=16, recurrent_layer=recurrent, cell=cell)
    torch.manual_seed(0)
    narrow = Drnn(DrnnConfig(context=3, **options))  # type: ignore[arg-type]
    wide = Drnn(DrnnConfig(context=wider, **options))  # type: ignore[arg-type]
    wide.load_state_dict(widen_context(wide, narrow.state_dict()))
    pad = (wider - 3) // 2
    x = torch.rand(2, 20, 33) * 4
    with torch.no_grad():
        expected, _ = narrow(x[:, pad : 20 - pad], narrow.initial_state(2))
        got, _ = wide(x, wide.initial_state(2))
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, atol=1e-5)
    # the extra frames are trainable: they get a gradient
    masks, _ = wide(x, wide.initial_state(2))
    masks[:, 0].sum().backward()
    first = next(iter(wide.parameters()))
    assert first.grad is not None and first.grad[:, : pad * 33].abs().sum() > 0


@pytest.mark.parametrize("recurrent", [0, 2])
def test_dropout_acts_only_while_training_and_keeps_checkpoints_compatible(recurrent: int) -> None:
    options = dict(bins=33, context=3, layers=3, hidden=16, recurrent_layer=recurrent, cell="gru")
    net = Drnn(DrnnConfig(dropout=0.5, **options))  # type: ignore[arg-type]
    plain = Drnn(DrnnConfig(**options))  # type: ignore[arg-type]
    assert net.state_dict().keys() == plain.state_dict().keys()
    plain.load_state_dict(net.state_dict())
    x = torch.rand(2, 12, 33)
    with torch.no_grad():
        a, _ = net.train()(x, net.initial_state(2))
        b, _ = net(x, net.initial_state(2))
        assert not torch.allclose(a, b)
        c, _ = net.eval()(x, net.initial_state(2))
        d, _ = plain.eval()(x, plain.initial_state(2))
    assert torch.allclose(c, d)
    with pytest.raises(UsageError, match="--dropout 1.0"):
        DrnnConfig(dropout=1.0)


def test_context_can_only_grow_by_whole_frames_each_side() -> None:
    narrow = Drnn(DrnnConfig(bins=33, context=5, layers=1, hidden=8, recurrent_layer=1, cell="gru"))
    with pytest.raises(UsageError, match="5-frame context"):
        widen_context(
            Drnn(DrnnConfig(bins=33, context=3, layers=1, hidden=8, recurrent_layer=1, cell="gru")), narrow.state_dict()
        )
    same = narrow.state_dict()
    assert widen_context(narrow, same) is same


def test_bad_architecture_options() -> None:
    with pytest.raises(UsageError, match="unknown architecture 'transformer'"):
        build_arch("transformer", 33, {"hidden": 4}, 8)
    with pytest.raises(UsageError, match="--context 2"):
        DrnnConfig(context=2)
    with pytest.raises(UsageError, match="--cell 'tanh'"):
        DrnnConfig(cell="tanh")
