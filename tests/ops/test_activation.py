"""Activations as functions: leaky_relu, softmax and log_softmax (one gate each, stable), and the thin wrappers."""
import numpy as np
import pytest

from minigrad import Tensor, gradcheck
from minigrad.ops.activation import leaky_relu, log_softmax, relu, sigmoid, softmax, tanh

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
    with pytest.raises(ValueError, match="softmax: needs a tensor with at least 1 dimension"):
        softmax(Tensor(np.float64(1.0)), 0)
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
