"""A narrower stacked-RNN DRNN started from a wider one keeps the units that matter."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from vocalsplit.training.checkpoints import init_from  # noqa: E402
from vocalsplit.training.drnn import Drnn  # noqa: E402
from vocalsplit.training.narrow_hidden import narrow_hidden  # noqa: E402
from vocalsplit.training.net_configs import DrnnConfig  # noqa: E402

BINS = 33


def _net(cell: str, hidden: int, layers: int = 2) -> Drnn:
    config = DrnnConfig(bins=BINS, hidden=hidden, layers=layers, recurrent_layer=0, cell=cell, context=3)
    return Drnn(config).eval()


def _silence_units(net: Drnn, unused: list[list[int]]) -> None:
    """Zero every outgoing weight of ``unused[k]``'s units of layer ``k``: they feed nothing."""
    state = net.state_dict()
    layers = net.config.layers
    with torch.no_grad():
        for k, units in enumerate(unused):
            reader = f"stack.0.weight_ih_l{k + 1}" if k + 1 < layers else "head.weight"
            for name in (f"stack.0.weight_hh_l{k}", reader):
                state[name][:, units] = 0.0
    net.load_state_dict(state)


def _masks(net: Drnn, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        masks, _ = net(torch.from_numpy(x), net.initial_state(x.shape[0]))
    return masks.numpy()


@pytest.mark.parametrize("cell", ["gru", "lstm", "relu"])
def test_dropping_units_that_feed_nothing_keeps_the_network_exactly(cell: str) -> None:
    torch.manual_seed(0)
    wide = _net(cell, hidden=8, layers=3)
    _silence_units(wide, [[1, 4, 6], [0, 2, 7], [3, 5, 6]])
    narrow = _net(cell, hidden=5, layers=3)
    narrow.load_state_dict(narrow_hidden(wide.state_dict(), "stack.0.", 3, 5, "head"))
    x = np.abs(np.random.default_rng(1).standard_normal((2, 12, BINS))).astype(np.float32)
    assert np.abs(_masks(narrow, x) - _masks(wide, x)).max() < 1e-6


def test_the_units_kept_are_the_most_used_and_their_gates_stay_together() -> None:
    torch.manual_seed(0)
    wide = _net("gru", hidden=6, layers=1)
    state = wide.state_dict()
    with torch.no_grad():  # unit 2 reads loudest, unit 4 next; the rest faintly
        for name in ("stack.0.weight_hh_l0", "head.weight"):
            state[name][:] = 0.01
            state[name][:, 2] = 3.0
            state[name][:, 4] = 2.0
    narrowed = narrow_hidden(state, "stack.0.", 1, 2, "head")
    rows = [u + g * 6 for g in range(3) for u in (2, 4)]
    assert torch.equal(narrowed["stack.0.weight_ih_l0"], state["stack.0.weight_ih_l0"][rows])
    assert torch.equal(narrowed["stack.0.weight_hh_l0"], state["stack.0.weight_hh_l0"][rows][:, [2, 4]])
    assert torch.equal(narrowed["head.weight"], state["head.weight"][:, [2, 4]])


def test_a_checkpoint_no_wider_or_of_another_depth_is_left_alone() -> None:
    state = _net("gru", hidden=4).state_dict()
    assert narrow_hidden(state, "stack.0.", 2, 4, "head") is state
    assert narrow_hidden(state, "stack.0.", 2, 6, "head") is state  # loading then reports the misfit
    wide = _net("gru", hidden=8).state_dict()
    assert narrow_hidden(wide, "stack.0.", 3, 4, "head") is wide  # another depth: loading reports it


def test_init_from_a_wider_checkpoint_fine_tunes_a_narrower_network(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from vocalsplit.training.architecture import build_arch

    options = {"hidden": 8, "layers": 2, "recurrent_layer": 0, "cell": "gru", "context": 3}
    wide = build_arch("drnn", BINS, options, 16)
    path = tmp_path / "wide.pt"
    torch.save({"net": wide.net.state_dict(), "step": 7, "elapsed": 60.0}, path)
    narrow = build_arch("drnn", BINS, {**options, "hidden": 5}, 16)
    assert init_from(narrow, path) == {"steps": 7, "minutes": 1.0}
    assert narrow.net.state_dict()["stack.0.weight_hh_l1"].shape == (15, 5)
