import pytest

torch = pytest.importorskip("torch")

from vocalsplit.errors import UsageError  # noqa: E402
from vocalsplit.training.archs import build_arch  # noqa: E402
from vocalsplit.training.losses import discriminative_loss, generalized_kl, mse  # noqa: E402
from vocalsplit.training.nets import Drnn, DrnnConfig  # noqa: E402


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


def test_bad_architecture_options() -> None:
    with pytest.raises(UsageError, match="unknown architecture 'transformer'"):
        build_arch("transformer", 33, {"hidden": 4}, 8)
    with pytest.raises(UsageError, match="--context 2"):
        DrnnConfig(context=2)
    with pytest.raises(UsageError, match="--cell 'tanh'"):
        DrnnConfig(cell="tanh")
