"""Losses: gradcheck for every reduction, the numbers by hand, logits of ±1000, clear errors, PyTorch."""
import numpy as np
import pytest

from minigrad import Tensor, gradcheck
from minigrad.ops.activation import log_softmax
from minigrad.ops.loss import binary_cross_entropy, cross_entropy, kl_div, mse_loss, nll_loss

rng = np.random.default_rng(0)
REDUCTIONS = ["mean", "sum", "none"]

LOGITS = rng.standard_normal((5, 4)) * 2
TARGET = np.array([0, 3, 1, 1, 2])
LOGITS_2D = rng.standard_normal((2, 3, 2, 3))  # (N, C, d1, d2)
TARGET_2D = rng.integers(0, 3, (2, 2, 3))
A, B = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
LOG_Q = np.log(rng.dirichlet(np.ones(4), 3))  # log-probabilities, rows of 4
P = rng.dirichlet(np.ones(4), 3)  # probabilities, all > 0
Q, T = rng.uniform(0.1, 0.9, (3, 4)), rng.uniform(0, 1, (3, 4))


# -- gradients, every reduction ------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("logits,target", [(LOGITS, TARGET), (LOGITS_2D, TARGET_2D), (LOGITS[0], TARGET[0])],
                         ids=["N,C", "N,C,d1,d2", "C"])
def test_cross_entropy_and_nll_gradcheck(reduction, logits, target):
    assert gradcheck(lambda z: cross_entropy(z, target, reduction), [logits])
    assert gradcheck(lambda a: nll_loss(a, target, reduction), [logits])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_gradcheck_for_both_inputs(reduction):
    assert gradcheck(lambda x, y: mse_loss(x, y, reduction), [A, B])


@pytest.mark.parametrize("reduction", ["batchmean", "mean", "sum", "none"])
def test_kl_div_gradcheck_for_both_inputs(reduction):
    assert gradcheck(lambda a, p: kl_div(a, p, reduction), [LOG_Q, P])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_gradcheck_for_both_inputs(reduction):
    assert gradcheck(lambda q, t: binary_cross_entropy(q, t, reduction), [Q, T])


# -- the numbers -----------------------------------------------------------------------------------


def test_cross_entropy_by_hand():
    z = Tensor(np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]]), requires_grad=True)
    loss = cross_entropy(z, np.array([2, 0]))
    e = np.exp([1.0, 2.0, 3.0])
    expected = [np.log(e.sum()) - 3.0, np.log(3.0)]  # −log softmax(z)[t] = log Σ eᶻ − z[t]
    np.testing.assert_allclose(loss.item(), np.mean(expected))
    loss.backward()
    onehot = np.array([[0, 0, 1], [1, 0, 0]])
    probs = np.array([e / e.sum(), [1 / 3] * 3])
    np.testing.assert_allclose(z.grad, (probs - onehot) / 2)  # (softmax − onehot)/N
    assert loss._gate.name == "cross_entropy" and loss._inputs == (z,)


def test_cross_entropy_is_finite_for_logits_of_1000():
    z = Tensor(np.array([[1000.0, -1000.0], [-1000.0, 1000.0], [1000.0, 1000.0]]), requires_grad=True)
    losses = cross_entropy(z, np.array([0, 0, 1]), reduction="none")
    np.testing.assert_allclose(losses.data, [0.0, 2000.0, np.log(2.0)])
    loss = cross_entropy(z, np.array([0, 0, 1]))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(z.grad).all()
    np.testing.assert_allclose(z.grad, np.array([[0.0, 0.0], [-1.0, 1.0], [0.5, -0.5]]) / 3)
    z32 = Tensor(np.array([[1000.0, -1000.0]], dtype=np.float32))
    assert cross_entropy(z32, np.array([1])).item() == 2000.0


def test_cross_entropy_equals_nll_of_log_softmax_and_accepts_tensor_targets():
    z = Tensor(LOGITS)
    fused = cross_entropy(z, Tensor(TARGET))
    composed = nll_loss(log_softmax(z, 1), TARGET)
    np.testing.assert_allclose(fused.data, composed.data, rtol=1e-12)


def test_reductions_relate():
    none = cross_entropy(Tensor(LOGITS_2D), TARGET_2D, reduction="none")
    assert none.shape == (2, 2, 3)
    np.testing.assert_allclose(cross_entropy(Tensor(LOGITS_2D), TARGET_2D, "sum").item(), none.data.sum())
    np.testing.assert_allclose(cross_entropy(Tensor(LOGITS_2D), TARGET_2D).item(), none.data.mean())
    mse = mse_loss(Tensor(A), B, reduction="none").data
    np.testing.assert_allclose(mse, (A - B) ** 2)
    np.testing.assert_allclose(mse_loss(Tensor(A), B).item(), mse.mean())


def test_kl_div_batchmean_divides_by_the_batch_size_and_0_log_0_is_0():
    p = np.array([[0.0, 0.5, 0.5], [0.2, 0.3, 0.5]])
    a = np.log(np.array([[0.2, 0.4, 0.4], [1 / 3, 1 / 3, 1 / 3]]))
    pointwise = kl_div(Tensor(a), p, reduction="none").data
    assert pointwise[0, 0] == 0.0  # 0·(log 0 − a) = 0
    np.testing.assert_allclose(pointwise[1], p[1] * (np.log(p[1]) - a[1]))
    np.testing.assert_allclose(kl_div(Tensor(a), p).item(), pointwise.sum() / 2)  # batchmean: ÷ N = 2
    np.testing.assert_allclose(kl_div(Tensor(a), p, "mean").item(), pointwise.sum() / 6)
    np.testing.assert_allclose(kl_div(Tensor(a), p, "sum").item(), pointwise.sum())


def test_binary_cross_entropy_by_hand_and_the_clamp():
    q = Tensor(np.array([0.8, 0.3, 0.0, 1.0]), requires_grad=True)
    t = np.array([1.0, 0.0, 1.0, 1.0])
    losses = binary_cross_entropy(q, t, reduction="none")
    np.testing.assert_allclose(losses.data, [-np.log(0.8), -np.log(0.7), 100.0, 0.0])  # log 0 clamped at −100
    binary_cross_entropy(q, t, "sum").backward()
    assert np.isfinite(q.grad).all()
    np.testing.assert_allclose(q.grad[:2], [-1 / 0.8, 1 / 0.7])


# -- bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [cross_entropy, nll_loss])
def test_class_target_errors(fn):
    op = fn.__name__
    z = Tensor(LOGITS)
    with pytest.raises(IndexError, match=f"{op}: target holds class 4, but the input has only C = 4 classes"):
        fn(z, np.array([0, 4, 1, 1, 2]))
    with pytest.raises(IndexError, match=r"target holds class -1, .* \(valid targets are 0..3\)"):
        fn(z, np.array([0, -1, 1, 1, 2]))
    with pytest.raises(TypeError, match=rf"{op}: target has dtype float64, .* integer class indices; .*y.astype\(np.int64\)"):
        fn(z, TARGET.astype(np.float64))
    with pytest.raises(ValueError, match=rf"{op}: input has batch size 5 \(shape \(5, 4\)\) but target has batch size 3"):
        fn(z, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"target has shape \(2, 3, 2\) but input \(2, 3, 2, 3\) needs class indices of shape \(2, 2, 3\)"):
        fn(Tensor(LOGITS_2D), np.zeros((2, 3, 2), dtype=np.int64))


def test_pointwise_loss_shape_errors():
    with pytest.raises(ValueError, match=r"mse_loss: input has shape \(3, 4\) but target has shape \(4,\); they must be equal"):
        mse_loss(Tensor(A), np.ones(4))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input has shape \(3, 4\) but target has shape \(3, 1\)"):
        binary_cross_entropy(Tensor(Q), np.ones((3, 1)))
    with pytest.raises(ValueError, match=r"kl_div: log_input has shape \(3, 4\) but target has shape \(4, 3\)"):
        kl_div(Tensor(LOG_Q), P.T)


def test_binary_cross_entropy_needs_probabilities():
    with pytest.raises(ValueError, match=r"binary_cross_entropy: .* in \[0, 1\], but they range from -0.5 to 2; apply sigmoid"):
        binary_cross_entropy(Tensor(np.array([-0.5, 2.0])), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="range from nan"):
        binary_cross_entropy(Tensor(np.array([np.nan, 0.5])), np.array([0.0, 1.0]))


def test_unknown_reduction():
    with pytest.raises(ValueError, match="cross_entropy: reduction must be one of 'mean', 'sum', 'none', got 'avg'"):
        cross_entropy(Tensor(LOGITS), TARGET, reduction="avg")
    with pytest.raises(ValueError, match="kl_div: reduction must be one of 'batchmean', 'mean', 'sum', 'none'"):
        kl_div(Tensor(LOG_Q), P, reduction="max")


# -- against PyTorch (skipped when it is not installed) ---------------------------------------------


def _their(torch, name):
    return getattr(torch.nn.functional, name)


CASES = {
    "cross_entropy": (cross_entropy, [LOGITS], TARGET),
    "cross_entropy spatial": (cross_entropy, [LOGITS_2D], TARGET_2D),
    "nll_loss": (nll_loss, [LOG_Q], np.array([3, 0, 2])),
    "nll_loss spatial": (nll_loss, [LOGITS_2D], TARGET_2D),
    "mse_loss": (mse_loss, [A, B], None),
    "kl_div": (kl_div, [LOG_Q, P], None),
    "binary_cross_entropy": (binary_cross_entropy, [Q, T], None),
}


PAIRS = [(case, r) for case in CASES for r in REDUCTIONS + ["batchmean"] * (CASES[case][0] is kl_div)]


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")  # PyTorch's kl_div "mean" warning
@pytest.mark.parametrize("case,reduction", PAIRS)
def test_losses_match_pytorch(case, reduction):
    torch = pytest.importorskip("torch")
    fn, arrays, target = CASES[case]
    ours = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    if target is not None:
        ours.append(target)
        theirs.append(torch.tensor(target))
    y = fn(*ours, reduction=reduction)
    ref = _their(torch, fn.__name__)(*theirs, reduction=reduction)
    np.testing.assert_allclose(y.data, ref.detach().numpy(), rtol=1e-12, atol=1e-14)
    up = rng.standard_normal(ref.shape)
    y.backward(up)
    ref.backward(torch.tensor(up))
    for o, t in zip(ours, theirs):
        if isinstance(o, Tensor):
            np.testing.assert_allclose(o.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)
