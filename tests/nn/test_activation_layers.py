"""GELU, ELU, SiLU, Softplus, Hardtanh, ReLU6, Mish, LogSoftmax against PyTorch's modules."""
import numpy as np
import pytest

from minigrad import Tensor, nn

rng = np.random.default_rng(0)

PAIRS = {
    "GELU": lambda n: n.GELU(),
    "GELU, tanh": lambda n: n.GELU(approximate="tanh"),
    "ELU": lambda n: n.ELU(),
    "ELU, alpha": lambda n: n.ELU(alpha=0.3),
    "SiLU": lambda n: n.SiLU(),
    "Softplus": lambda n: n.Softplus(),
    "Softplus, beta and threshold": lambda n: n.Softplus(beta=2.0, threshold=3.0),
    "Hardtanh": lambda n: n.Hardtanh(),
    "Hardtanh, bounds": lambda n: n.Hardtanh(-2.5, 0.5),
    "ReLU6": lambda n: n.ReLU6(),
    "Mish": lambda n: n.Mish(),
    "LogSoftmax over classes": lambda n: n.LogSoftmax(dim=1),
    "LogSoftmax over the last dim": lambda n: n.LogSoftmax(-1),
}


@pytest.mark.parametrize("name", PAIRS)
def test_outputs_and_gradients_match_pytorch(name, compare_modules, torch_on_one_thread):
    make = PAIRS[name]
    # values up to ±12: past ReLU6's 6 and Softplus' threshold, and near 0 where the curves bend
    a = np.concatenate([rng.standard_normal(60), rng.uniform(-12, 12, 60)]).reshape(4, 5, 6)
    compare_modules(make(nn), make(torch_on_one_thread.nn), a)


def test_reprs_match_pytorchs(torch_on_one_thread):
    torch = torch_on_one_thread
    if torch is None:
        pytest.skip("torch is not installed (pip install torch==2.13.0)")
    makers = list(PAIRS.values()) + [
        lambda n: n.ELU(0.5, inplace=True), lambda n: n.SiLU(inplace=True), lambda n: n.Mish(True),
        lambda n: n.Hardtanh(0, 2, True), lambda n: n.ReLU6(inplace=True), lambda n: n.LogSoftmax(),
    ]
    for make in makers:
        assert repr(make(nn)) == repr(make(torch.nn))
    assert repr(nn.GELU("tanh")) == "GELU(approximate='tanh')" and repr(nn.ReLU6()) == "ReLU6()"


def test_attributes_are_pytorchs():
    assert (nn.ReLU6().min_val, nn.ReLU6().max_val) == (0.0, 6.0) and isinstance(nn.ReLU6(), nn.Hardtanh)
    softplus = nn.Softplus(2, 10)
    assert (softplus.beta, softplus.threshold) == (2, 10) and nn.GELU().approximate == "none"
    assert nn.ELU().alpha == 1.0 and nn.SiLU(inplace=True).inplace and nn.LogSoftmax(1).dim == 1


def test_inplace_is_accepted_but_the_output_is_new():
    a = Tensor(rng.standard_normal((3, 4)))
    before = a.data.copy()
    for layer in (nn.ELU(inplace=True), nn.SiLU(True), nn.Mish(True), nn.Hardtanh(inplace=True), nn.ReLU6(True)):
        assert layer(a) is not a
    np.testing.assert_array_equal(a.data, before)


def test_in_a_model_they_draw_as_one_gate_each():
    model = nn.Sequential(nn.Linear(4, 4), nn.GELU(), nn.ReLU6(), nn.LogSoftmax(1))
    steps = [s.gate for s in model(Tensor(rng.standard_normal((2, 4)))).sum().backward_steps()]
    assert {"gelu", "relu6", "log_softmax"} <= set(steps)


@pytest.mark.parametrize("make, error, message", [
    (lambda: nn.GELU("fast"), ValueError, r"^GELU: approximate must be 'none' \(the exact x·Φ\(x\)\) or 'tanh', "
                                          r"got 'fast'$"),
    (lambda: nn.ELU("1"), TypeError, r"^ELU: alpha must be a number, got '1' \(str\)$"),
    (lambda: nn.Softplus(beta=0), ValueError, r"^Softplus: beta must not be 0"),
    (lambda: nn.Softplus(threshold=None), TypeError, r"^Softplus: threshold must be a number, got None"),
    (lambda: nn.Hardtanh(1, 1), ValueError, r"^Hardtanh: max_val \(1\) must be greater than min_val \(1\)"),
    (lambda: nn.Hardtanh(2.0, -2.0), ValueError, r"^Hardtanh: max_val \(-2.0\) must be greater than min_val"),
    (lambda: nn.Hardtanh(min_val=[0]), TypeError, r"^Hardtanh: min_val must be a number, got \[0\]"),
])
def test_bad_arguments_are_clear_errors_when_the_layer_is_built(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_log_softmax_needs_its_dimension():
    with pytest.raises(ValueError, match=r"^LogSoftmax: give the dimension to normalise over, e.g. "
                                         r"nn.LogSoftmax\(dim=1\)$"):
        nn.LogSoftmax()(Tensor(np.zeros((2, 3))))


def test_drawings_leave_out_the_defaults():
    from minigrad.viz.clusters import brief

    assert [brief(m) for m in (nn.GELU(), nn.ELU(), nn.Softplus(), nn.Hardtanh(), nn.ReLU6(), nn.SiLU())] == [""] * 6
    assert brief(nn.GELU("tanh")) == "approximate='tanh'" and brief(nn.Hardtanh(0, 2)) == "min_val=0, max_val=2"
    assert brief(nn.Softplus(2)) == "beta=2" and brief(nn.LogSoftmax(1)) == "dim=1"
