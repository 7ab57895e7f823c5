"""The fused linear gate: y = x·Wᵀ + b with batch dims, its three gradient rules, shape errors."""
import numpy as np
import pytest

from minigrad import Tensor, gradcheck
from minigrad.ops.linear import linear

rng = np.random.default_rng(0)


@pytest.mark.parametrize("x_shape", [(3,), (2, 3), (2, 4, 3), (2, 1, 2, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradcheck(x_shape, bias):
    w, b = rng.standard_normal((5, 3)), rng.standard_normal(5)
    x = rng.standard_normal(x_shape)
    if bias:
        assert gradcheck(linear, [x, w, b])
    else:
        assert gradcheck(linear, [x, w])


@pytest.mark.parametrize("frozen", ["x", "w", "b", "x and b"])
def test_linear_skips_the_gradients_nobody_needs_and_the_others_are_exact(frozen):
    arrays = {"x": rng.standard_normal((4, 3)), "w": rng.standard_normal((2, 3)), "b": rng.standard_normal(2)}
    ts = {k: Tensor(v, requires_grad=k not in frozen) for k, v in arrays.items()}
    up = rng.standard_normal((4, 2))
    linear(ts["x"], ts["w"], ts["b"]).backward(up)
    expected = {"x": up @ arrays["w"], "w": up.T @ arrays["x"], "b": up.sum(axis=0)}
    for k, t in ts.items():
        if k in frozen:
            assert t.grad is None
        else:
            np.testing.assert_allclose(t.grad, expected[k])


def test_linear_forward_and_the_rules_by_hand():
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    w = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = Tensor(rng.standard_normal(2), requires_grad=True)
    y = linear(x, w, b)
    np.testing.assert_allclose(y.data, x.data @ w.data.T + b.data)
    up = rng.standard_normal((4, 2))
    y.backward(up)
    np.testing.assert_allclose(x.grad, up @ w.data)  # dL/dx = dL/dy·W
    np.testing.assert_allclose(w.grad, up.T @ x.data)  # dL/dW = dL/dyᵀ·x
    np.testing.assert_allclose(b.grad, up.sum(axis=0))  # dL/db = Σ dL/dy


def test_linear_is_one_gate_with_the_rule_in_words():
    x, w, b = Tensor(np.ones((2, 3))), Tensor(np.ones((4, 3)), requires_grad=True), Tensor(np.ones(4))
    y = linear(x, w, b)
    assert y._gate.name == "linear" and y._inputs == (x, w, b)
    assert y._gate.formula == "dL/dx = dL/dy·W, dL/dW = dL/dyᵀ·x, dL/db = Σ dL/dy"
    y.sum().backward()
    assert x.grad is None and w.grad is not None  # no dL/dx computed for an input that needs none
    np.testing.assert_allclose(w.grad, np.full((4, 3), 2.0))


def test_linear_keeps_float32():
    x = Tensor(rng.standard_normal((8, 3)).astype(np.float32), requires_grad=True)
    w = Tensor(rng.standard_normal((2, 3)).astype(np.float32), requires_grad=True)
    y = linear(x, w, Tensor(np.zeros(2, np.float32)))
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == w.grad.dtype == np.float32


def test_linear_shape_errors():
    with pytest.raises(ValueError, match=r"linear: input has 5 features \(input shape \(2, 5\)\) but weight \(3, 4\) expects 4"):
        linear(Tensor(np.ones((2, 5))), Tensor(np.ones((3, 4))))
    with pytest.raises(ValueError, match=r"linear: bias has shape \(4,\) but weight \(3, 4\) has 3 output features"):
        linear(Tensor(np.ones((2, 4))), Tensor(np.ones((3, 4))), np.ones(4))
    with pytest.raises(ValueError, match=r"linear: weight must be 2-D \(out_features, in_features\), got shape \(4,\)"):
        linear(Tensor(np.ones((2, 4))), Tensor(np.ones(4)))


@pytest.mark.parametrize("x_shape", [(3,), (4, 3), (2, 4, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_pytorch(x_shape, bias, compare_with_torch):
    import torch

    arrays = [rng.standard_normal(x_shape), rng.standard_normal((5, 3)), rng.standard_normal(5)][: 3 if bias else 2]
    compare_with_torch(linear, torch.nn.functional.linear, arrays, rng, rtol=1e-12, atol=1e-12)
