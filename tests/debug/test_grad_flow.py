"""grad_flow: one row per parameter in order, the vanishing sigmoid MLP beside ReLU + BN + skips, the bar chart."""
import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import Tensor, nn
from minigrad.debug import grad_flow, grad_flow_report


class Residual(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.linear = nn.Linear(width, width, bias=False)
        self.bn = nn.BatchNorm1d(width)

    def forward(self, x):
        return x + self.bn(self.linear(x)).relu()


def sigmoid_mlp(depth=12, width=32):
    layers = [nn.Linear(64, width), nn.Sigmoid()]
    for _ in range(depth - 2):
        layers += [nn.Linear(width, width), nn.Sigmoid()]
    return nn.Sequential(*layers, nn.Linear(width, 10))


def residual_mlp(depth=12, width=32):
    return nn.Sequential(nn.Linear(64, width), *[Residual(width) for _ in range(depth - 2)], nn.Linear(width, 10))


def one_backward(make, seed=0):
    """The model after one backward of cross-entropy on 64 fixed inputs shaped like flattened digits."""
    mg.manual_seed(seed)
    model = make()
    rng = np.random.default_rng(seed)
    x = Tensor(rng.random((64, 64)).astype(np.float32))
    F.cross_entropy(model(x), rng.integers(0, 10, 64)).backward()
    return model


def first_over_last(model):
    weights = [r for r in grad_flow(model) if r["name"].endswith("weight") and len(r["shape"]) == 2]
    assert len(weights) == 12
    return weights[0]["grad_norm"] / weights[-1]["grad_norm"]


def test_rows_follow_named_parameters_with_l2_norms():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3))
    assert [r["grad_norm"] for r in grad_flow(model)] == [None] * 6  # before backward
    F.cross_entropy(model(Tensor(np.random.default_rng(0).random((4, 1, 4, 4)).astype(np.float32))), [0, 1, 2, 0]).backward()
    rows = grad_flow(model)
    params = list(model.named_parameters())
    assert [r["name"] for r in rows] == [n for n, _ in params]
    assert [r["name"] for r in rows] == ["0.weight", "0.bias", "1.weight", "1.bias", "4.weight", "4.bias"]
    assert [r["shape"] for r in rows] == [(2, 1, 3, 3), (2,), (2,), (2,), (3, 8), (3,)]
    for row, (_, p) in zip(rows, params):
        assert set(row) == {"name", "shape", "grad_norm", "weight_norm"}
        assert type(row["grad_norm"]) is float and type(row["weight_norm"]) is float
        assert row["grad_norm"] == pytest.approx(np.linalg.norm(p.grad.astype(np.float64)), rel=1e-12)
        assert row["weight_norm"] == pytest.approx(np.linalg.norm(p.data.astype(np.float64)), rel=1e-12)


def test_a_parameter_without_gradient_has_grad_norm_none():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 1))
    model[0].requires_grad_(False)
    model(Tensor(np.ones((2, 3), np.float32))).sum().backward()
    norms = [r["grad_norm"] for r in grad_flow(model)]
    assert norms[:2] == [None, None] and all(isinstance(n, float) for n in norms[2:])
    report = grad_flow_report(model)
    assert report.splitlines()[1].endswith("no gradient")
    with pytest.raises(TypeError, match="grad_flow: expected an nn.Module"):
        grad_flow([1, 2])


def test_the_sigmoid_mlp_vanishes_and_relu_bn_skip_does_not():
    sigmoid = first_over_last(one_backward(sigmoid_mlp))
    residual = first_over_last(one_backward(residual_mlp))
    assert sigmoid < 1e-3  # measured about 1e-9: eleven factors of σ' ≤ 1/4 times the weights
    assert residual > 1e-2  # measured about 0.5: the add gate carries the gradient down the skip path
    # the flow is monotone through the sigmoid stack: each earlier layer gets less than the next
    weights = [r["grad_norm"] for r in grad_flow(one_backward(sigmoid_mlp)) if r["name"].endswith("weight")]
    assert all(a < b for a, b in zip(weights, weights[1:]))


def test_report_flags_vanishing_rows():
    lines = grad_flow_report(one_backward(sigmoid_mlp)).splitlines()
    assert lines[0].split()[:2] == ["parameter", "shape"]
    assert lines[1].startswith("0.weight") and lines[1].endswith("vanishing")
    assert lines[-3].startswith("22.weight") and not lines[-3].endswith("vanishing")


def test_plot_grad_flow_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    from minigrad.viz import plot_grad_flow

    model = one_backward(sigmoid_mlp)
    path = plot_grad_flow(model, tmp_path / "flow.png")
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert plot_grad_flow(grad_flow(model), tmp_path / "rows.png")  # the rows work too
    model.zero_grad()
    no_grads = r"plot_grad_flow: no parameter of Sequential has a gradient yet; call loss.backward\(\) first"
    with pytest.raises(RuntimeError, match=no_grads):
        plot_grad_flow(model, tmp_path / "none.png")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        plot_grad_flow(one_backward(sigmoid_mlp), tmp_path / "missing" / "flow.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flow.png", "rows.png"]  # no half-written files
