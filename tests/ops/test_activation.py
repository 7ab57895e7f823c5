"""Activations as functions: leaky_relu, softmax and log_softmax (one gate each, stable), the thin wrappers, and
gelu, elu, silu, softplus, mish, hardtanh, relu6 (one elementwise gate each, with second derivatives)."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import Tensor, gradcheck, gradgradcheck
from minigrad.ops.activation import (elu, gelu, hardtanh, leaky_relu, log_softmax, mish, relu, relu6, sigmoid, silu,
                                     softmax, softplus, tanh)

rng = np.random.default_rng(0)
X = rng.uniform(0.2, 2.0, (3, 4, 5)) * rng.choice([-1.0, 1.0], (3, 4, 5))  # away from leaky_relu's kink


@pytest.mark.parametrize("slope", [0.01, 0.2, -0.5])
def test_leaky_relu_gradcheck(slope):
    assert gradcheck(lambda x: leaky_relu(x, slope), [X])


def test_leaky_relu_values_and_the_slope_at_zero():
    x = Tensor(np.array([-2.0, 0.0, 3.0]), requires_grad=True)
    y = leaky_relu(x, 0.1)
    np.testing.assert_allclose(y.data, [-0.2, 0.0, 3.0])
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [0.1, 0.1, 1.0])  # as PyTorch: x = 0 takes the slope
    assert y._gate.name == "leaky_relu"
    assert leaky_relu(Tensor(np.ones(2, np.float32))).dtype == np.float32


@pytest.mark.parametrize("fn", [softmax, log_softmax])
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_softmax_gradcheck(fn, dim):
    assert gradcheck(lambda x: fn(x, dim), [X])


def test_softmax_and_log_softmax_values():
    x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    e = np.exp(x)
    expected = e / e.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(softmax(Tensor(x), 1).data, expected)
    np.testing.assert_allclose(log_softmax(Tensor(x), dim=1).data, np.log(expected))
    np.testing.assert_allclose(softmax(Tensor(x), 0).data.sum(axis=0), 1.0)


def test_softmax_is_stable_for_huge_logits():
    x = Tensor(np.array([[1000.0, 0.0, -1000.0]]), requires_grad=True)
    s = softmax(x, 1)
    np.testing.assert_allclose(s.data, [[1.0, 0.0, 0.0]])
    ls = log_softmax(x, 1)
    np.testing.assert_allclose(ls.data, [[0.0, -1000.0, -2000.0]])
    ls.backward(np.array([[1.0, 0.0, 0.0]]))
    assert np.isfinite(x.grad).all()
    np.testing.assert_allclose(x.grad, [[0.0, 0.0, 0.0]], atol=1e-300)


def test_each_is_one_gate():
    x = Tensor(X, requires_grad=True)
    assert softmax(x, 1)._gate.name == "softmax" and softmax(x, 1)._inputs == (x,)
    assert log_softmax(x, 1)._gate.name == "log_softmax"


def test_the_thin_wrappers_are_the_tensor_methods():
    x = Tensor(X, requires_grad=True)
    for fn, method in [(relu, x.relu), (sigmoid, x.sigmoid), (tanh, x.tanh)]:
        y = fn(x)
        np.testing.assert_array_equal(y.data, method().data)
        assert y._gate.name == fn.__name__
    np.testing.assert_array_equal(relu(X).data, np.maximum(X, 0))  # a numpy array is taken as a constant


def test_bad_dims():
    with pytest.raises(IndexError, match="softmax: dim 3 is out of range for a tensor with 3 dimensions"):
        softmax(Tensor(X), 3)
    with pytest.raises(TypeError, match="log_softmax: dim must be an int, got None"):
        log_softmax(Tensor(X), None)
    with pytest.raises(IndexError, match=r"softmax: dim 1 is out of range for a tensor with 0 dimensions"):
        softmax(Tensor(np.float64(1.0)), 1)
    with pytest.raises(TypeError, match="relu: input must be a Tensor or a numpy array, got str"):
        relu("x")


@pytest.mark.parametrize(
    "name,ours,theirs",
    [
        ("leaky_relu", lambda x: leaky_relu(x), lambda F, x: F.leaky_relu(x)),
        ("leaky_relu 0.2", lambda x: leaky_relu(x, 0.2), lambda F, x: F.leaky_relu(x, 0.2)),
        ("softmax 0", lambda x: softmax(x, 0), lambda F, x: F.softmax(x, 0)),
        ("softmax -1", lambda x: softmax(x, -1), lambda F, x: F.softmax(x, -1)),
        ("log_softmax 1", lambda x: log_softmax(x, 1), lambda F, x: F.log_softmax(x, 1)),
        ("log_softmax 2", lambda x: log_softmax(x, 2), lambda F, x: F.log_softmax(x, 2)),
        ("relu", relu, lambda F, x: F.relu(x)),
        ("sigmoid", sigmoid, lambda F, x: F.sigmoid(x)),
        ("tanh", tanh, lambda F, x: F.tanh(x)),
    ],
)
def test_activations_match_pytorch(name, ours, theirs):
    torch = pytest.importorskip("torch")
    x, t = Tensor(X.copy(), requires_grad=True), torch.tensor(X, requires_grad=True)
    y, ref = ours(x), theirs(torch.nn.functional, t)
    np.testing.assert_allclose(y.data, ref.detach().numpy(), rtol=1e-12, atol=1e-14)
    up = rng.standard_normal(X.shape)
    y.backward(up)
    ref.backward(torch.tensor(up))
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)


# -- gelu, elu, silu, softplus, mish, hardtanh, relu6: one elementwise gate each --

WIDE = rng.uniform(0.05, 4.0, (3, 4, 5)) * rng.choice([-1.0, 1.0], (3, 4, 5))  # both sides, off the kinks
SMOOTH = {
    "gelu": (gelu, lambda F, x: F.gelu(x)),
    "gelu tanh": (lambda x: gelu(x, approximate="tanh"), lambda F, x: F.gelu(x, approximate="tanh")),
    "elu": (elu, lambda F, x: F.elu(x)),
    "elu 0.3": (lambda x: elu(x, alpha=0.3), lambda F, x: F.elu(x, alpha=0.3)),
    "silu": (silu, lambda F, x: F.silu(x)),
    "softplus": (softplus, lambda F, x: F.softplus(x)),
    "softplus beta 2 threshold 3": (lambda x: softplus(x, beta=2.0, threshold=3.0),
                                    lambda F, x: F.softplus(x, beta=2.0, threshold=3.0)),
    "mish": (mish, lambda F, x: F.mish(x)),
    "hardtanh": (hardtanh, lambda F, x: F.hardtanh(x)),
    "hardtanh -0.5 2": (lambda x: hardtanh(x, -0.5, 2.0), lambda F, x: F.hardtanh(x, -0.5, 2.0)),
    "relu6": (lambda x: relu6(x * 2), lambda F, x: F.relu6(x * 2)),
}


@pytest.mark.parametrize("name", SMOOTH)
def test_new_activations_gradcheck_at_every_index(name):
    fn = SMOOTH[name][0]
    assert gradcheck(fn, [WIDE])


@pytest.mark.parametrize("name", SMOOTH)
def test_new_activations_have_second_derivatives(name):
    fn = SMOOTH[name][0]
    assert gradgradcheck(lambda x: fn(x) * x, [WIDE[:2, :3]])  # × x: the piecewise-linear ones bend too


@pytest.mark.parametrize("name", SMOOTH)
def test_new_activations_match_pytorch(name, compare_with_torch):
    ours, theirs = SMOOTH[name]
    import torch

    compare_with_torch(ours, lambda x: theirs(torch.nn.functional, x), [WIDE], rng, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("name", ["gelu", "gelu tanh", "elu", "silu", "softplus", "mish"])
def test_new_activations_second_derivatives_match_pytorch(name, torch_on_one_thread):
    torch = torch_on_one_thread
    if torch is None:
        pytest.skip("torch is not installed (pip install torch==2.13.0)")
    ours, theirs = SMOOTH[name]
    x, t = Tensor(WIDE.copy(), requires_grad=True), torch.tensor(WIDE, requires_grad=True)
    (g,) = mg.autograd.grad(ours(x).sum(), [x], create_graph=True)
    (gt,) = torch.autograd.grad(theirs(torch.nn.functional, t).sum(), [t], create_graph=True)
    np.testing.assert_allclose(g.data, gt.detach().numpy(), rtol=1e-11, atol=1e-13)
    (h,) = mg.autograd.grad(g.sum(), [x])
    (ht,) = torch.autograd.grad(gt.sum(), [t])
    np.testing.assert_allclose(h, ht.numpy(), rtol=1e-10, atol=1e-12)


def test_the_kinks_follow_pytorch():
    x = Tensor(np.array([-1.0, 1.0, 0.0, 6.0]), requires_grad=True)
    hardtanh(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0, 0.0]  # 0 at the boundaries themselves
    x.grad = None
    relu6(x).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0, 0.0]
    x.grad = None
    elu(x, alpha=2.0).sum().backward()
    assert x.grad[2] == 2.0  # x = 0 takes α·e⁰
    x = Tensor(np.array([20.0, 20.5]), requires_grad=True)
    y = softplus(x)
    assert y.data[1] == 20.5  # past the threshold softplus is x itself
    y.sum().backward()
    assert x.grad[1] == 1.0


def test_new_activations_are_stable_and_keep_float32():
    big = Tensor(np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], np.float32))
    for fn in (gelu, lambda x: gelu(x, "tanh"), elu, silu, softplus, mish, hardtanh, relu6):
        y = fn(big)
        assert y.dtype == np.float32 and np.isfinite(y.data).all()
    assert gelu(big).data.tolist()[-1] == 1000.0 and softplus(big).data.tolist()[0] == 0.0
    assert mish(Tensor(np.array([np.nan]))).data[0] != mish(Tensor(np.array([np.nan]))).data[0]  # NaN stays NaN
    assert gelu(Tensor(np.array([1, 2]))).dtype == np.float32  # integers become float32


def test_new_activations_are_one_gate_each():
    x = Tensor(WIDE, requires_grad=True)
    for name, (fn, _) in SMOOTH.items():
        y = fn(x) if name != "relu6" else relu6(x)
        assert y._inputs == (x,) and y._gate.name == name.split()[0]


def test_new_activations_bad_arguments():
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh', got 'fast'"):
        gelu(Tensor(X), approximate="fast")
    with pytest.raises(ValueError, match=r"hardtanh: min_val \(2\) cannot be greater than max_val \(1\)"):
        hardtanh(Tensor(X), 2, 1)
    with pytest.raises(ValueError, match="softplus: beta must not be 0"):
        softplus(Tensor(X), beta=0)
    with pytest.raises(TypeError, match="elu: alpha must be a number, got 'a'"):
        elu(Tensor(X), alpha="a")
    with pytest.raises(TypeError, match="silu: input must be a Tensor or a numpy array, got str"):
        silu("x")


def test_tensor_softmax_and_log_softmax_are_the_functions():
    x = Tensor(X, requires_grad=True)
    np.testing.assert_array_equal(x.softmax(1).data, softmax(x, 1).data)
    np.testing.assert_array_equal(x.log_softmax(-1).data, log_softmax(x, -1).data)
    assert x.softmax(0)._gate.name == "softmax"


# -- the audit of issue 17 --

def test_elu_sends_the_gradient_1_at_nan_as_torch(torch_on_one_thread):
    x = Tensor(np.array([np.nan, 1.0, -1.0, 0.0]), requires_grad=True)
    elu(x, alpha=0.5).sum().backward()
    np.testing.assert_allclose(x.grad, [1.0, 1.0, 0.5 * np.exp(-1.0), 0.5])
    if torch_on_one_thread is not None:
        t = torch_on_one_thread.tensor(np.array([np.nan, 1.0, -1.0, 0.0]), requires_grad=True)
        torch_on_one_thread.nn.functional.elu(t, alpha=0.5).sum().backward()
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-12)
    assert gradgradcheck(lambda t: elu(t, 0.5), [X])


def test_relu_and_leaky_relu_accept_inplace_as_torch():
    x = Tensor(np.array([-1.0, 2.0]))
    assert relu(x, inplace=False).tolist() == relu(x, True).tolist() == [0.0, 2.0]
    assert leaky_relu(x, 0.1, inplace=True).tolist() == leaky_relu(x, negative_slope=0.1, inplace=False).tolist()
    assert x.tolist() == [-1.0, 2.0]  # a new tensor, as documented


@pytest.mark.parametrize("dim", [0, -1])
def test_softmax_of_a_0d_tensor_is_1_and_log_softmax_0_as_pytorch(dim):
    """PyTorch takes a 0-d tensor (one element) with dim 0 or -1; minigrad refused it."""
    for fn, want in ((softmax, 1.0), (log_softmax, 0.0)):
        x = Tensor(np.float64(2.0), requires_grad=True)
        y = fn(x, dim)
        y.backward()
        assert y.shape == () and y.item() == want and x.grad == 0.0
