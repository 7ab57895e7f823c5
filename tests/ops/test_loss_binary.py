"""binary_cross_entropy with weight, and binary_cross_entropy_with_logits (weight, pos_weight, stable): gradcheck
for both inputs and every reduction, second derivatives, logits of ±1000, clear errors, PyTorch."""
import numpy as np
import pytest

import minigrad.nn.functional as F
from minigrad import Tensor, gradcheck, gradgradcheck

rng = np.random.default_rng(0)
REDUCTIONS = ["mean", "sum", "none"]
X = rng.standard_normal((4, 3)) * 3
T = rng.uniform(0, 1, (4, 3))
Q = rng.uniform(0.1, 0.9, (4, 3))
W = rng.uniform(0.5, 2.0, (3,))  # broadcast along the rows
W_FULL = rng.uniform(0.5, 2.0, (4, 3))
POS = rng.uniform(0.5, 3.0, (3,))  # one per class


def _logits_loss(weight, pos_weight, reduction):
    return lambda x, t: F.binary_cross_entropy_with_logits(x, t, weight, reduction=reduction, pos_weight=pos_weight)


OPTIONS = {"plain": (None, None), "weight": (W, None), "pos_weight": (None, POS), "both": (W_FULL, POS)}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("option", OPTIONS)
def test_with_logits_gradcheck_both_inputs_and_second_derivatives(option, reduction):
    fn = _logits_loss(*OPTIONS[option], reduction)
    assert gradcheck(fn, [X, T])
    assert gradgradcheck(fn, [X, T])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("option", OPTIONS)
def test_with_logits_matches_pytorch(option, reduction, compare_with_torch):
    import torch

    weight, pos = OPTIONS[option]
    tw = None if weight is None else torch.tensor(weight)
    tp = None if pos is None else torch.tensor(pos)
    compare_with_torch(_logits_loss(weight, pos, reduction),
                       lambda x, t: torch.nn.functional.binary_cross_entropy_with_logits(
                           x, t, tw, reduction=reduction, pos_weight=tp), [X, T], rng, rtol=1e-12, atol=1e-14)


def test_with_logits_is_stable_for_huge_logits():
    x = Tensor(np.array([1000.0, -1000.0, 1000.0, -1000.0]), requires_grad=True)
    t = np.array([0.0, 1.0, 1.0, 0.0])
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    assert loss.data.tolist() == [1000.0, 1000.0, 0.0, 0.0]
    loss.sum().backward()
    assert x.grad.tolist() == [1.0, -1.0, 0.0, 0.0]  # σ(x) − t
    assert loss._gate.name == "binary_cross_entropy_with_logits" and loss._inputs[0] is x


def test_with_logits_by_hand_and_pos_weight():
    x, t = np.array([[0.5, -1.0]]), np.array([[1.0, 0.0]])
    s = 1 / (1 + np.exp(-x))
    pw = np.array([3.0, 3.0])
    loss = F.binary_cross_entropy_with_logits(Tensor(x), t, reduction="none", pos_weight=pw).data
    np.testing.assert_allclose(loss, -(pw * t * np.log(s) + (1 - t) * np.log(1 - s)), rtol=1e-14)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_weight_gradcheck_and_pytorch(reduction, compare_with_torch):
    import torch

    fn = lambda q, t: F.binary_cross_entropy(q, t, W, reduction=reduction)  # noqa: E731
    assert gradcheck(fn, [Q, T])
    assert gradgradcheck(fn, [Q[:2], T[:2]])
    theirs = torch.nn.functional.binary_cross_entropy
    compare_with_torch(fn, lambda q, t: theirs(q, t, torch.tensor(W), reduction=reduction), [Q, T], rng,
                       rtol=1e-12, atol=1e-14)


def test_binary_cross_entropy_still_takes_the_reduction_third():
    # minigrad's older signature was (input, target, reduction); a string there is still the reduction
    a = F.binary_cross_entropy(Tensor(Q), T, "sum").item()
    assert a == pytest.approx(F.binary_cross_entropy(Tensor(Q), T, reduction="sum").item())


def test_bad_weights_are_errors_that_say_what_fits():
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: pos_weight has shape \(4,\), which "
                                         r"does not broadcast to the input's shape \(4, 3\) \(one per class: the last"):
        F.binary_cross_entropy_with_logits(Tensor(X), T, pos_weight=np.ones(4))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: weight has shape \(2,\), which does not broadcast"):
        F.binary_cross_entropy(Tensor(Q), T, np.ones(2))
    with pytest.raises(ValueError, match="weight is a constant .* pass weight.detach()"):
        F.binary_cross_entropy_with_logits(Tensor(X), T, Tensor(W, requires_grad=True))
    with pytest.raises(ValueError, match=r"input has shape \(4, 3\) but target has shape \(3,\)"):
        F.binary_cross_entropy_with_logits(Tensor(X), T[0])
    with pytest.raises(ValueError, match="reduction must be one of 'mean', 'sum', 'none', got 'avg'"):
        F.binary_cross_entropy_with_logits(Tensor(X), T, reduction="avg")
    with pytest.raises(ValueError, match="or use binary_cross_entropy_with_logits on the logits"):
        F.binary_cross_entropy(Tensor(X), T)


def test_binary_cross_entropy_target_gradient_at_0_and_1_is_torchs_infinity(torch_on_one_thread):
    """The audit's gap: the target's gradient used the clamped logs (±100·g); PyTorch's uses them unclamped."""
    q, t = np.array([0.0, 1.0, 0.5, 0.0, 1.0]), np.array([0.3, 0.3, 0.3, 0.0, 1.0])
    ours_q, ours_t = Tensor(q.copy(), requires_grad=True), Tensor(t.copy(), requires_grad=True)
    F.binary_cross_entropy(ours_q, ours_t, reduction="none").sum().backward()
    assert ours_t.grad.tolist()[:2] == [np.inf, -np.inf] and ours_t.grad[2] == 0.0
    if torch_on_one_thread is not None:
        torch = torch_on_one_thread
        tq, tt = torch.tensor(q, requires_grad=True), torch.tensor(t, requires_grad=True)
        torch.nn.functional.binary_cross_entropy(tq, tt, reduction="none").sum().backward()
        np.testing.assert_array_equal(ours_t.grad, tt.grad.numpy())
        np.testing.assert_allclose(ours_q.grad, tq.grad.numpy(), rtol=1e-8)  # torch's 1e-12 floor is a float32
    x, y = Tensor(Q.copy(), requires_grad=True), Tensor(T.copy(), requires_grad=True)
    (grad_t,) = mg_grad(F.binary_cross_entropy(x, y), y)
    np.testing.assert_allclose(grad_t.data, (np.log1p(-Q) - np.log(Q)) / Q.size, rtol=1e-12)


def mg_grad(out, x):
    import minigrad as mg

    return mg.autograd.grad(out, [x], create_graph=True)
