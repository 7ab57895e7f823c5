"""l1_loss, smooth_l1_loss(beta), huber_loss(delta), kl_div(log_target=True): gradcheck for both inputs and every
reduction, second derivatives, the pieces by hand, clear errors, PyTorch."""
import numpy as np
import pytest

import minigrad.nn.functional as F
from minigrad import Tensor, gradcheck, gradgradcheck

rng = np.random.default_rng(0)
REDUCTIONS = ["mean", "sum", "none"]
A = rng.standard_normal((3, 4)) * 2
B = A + rng.choice([-1, 1], (3, 4)) * rng.uniform(0.1, 3.0, (3, 4))  # differences away from 0 and from ±β
B[0, 0] = A[0, 0] + 0.75
LOG_P, LOG_Q = np.log(rng.dirichlet(np.ones(4), 3)), np.log(rng.dirichlet(np.ones(4), 3))
CASES = {  # name: (function, keyword arguments), the same for minigrad and PyTorch
    "l1": ("l1_loss", {}),
    "smooth_l1": ("smooth_l1_loss", {}),
    "smooth_l1 beta 0.5": ("smooth_l1_loss", {"beta": 0.5}),
    "smooth_l1 beta 0": ("smooth_l1_loss", {"beta": 0.0}),
    "huber": ("huber_loss", {}),
    "huber delta 2": ("huber_loss", {"delta": 2.0}),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", CASES)
def test_regression_losses_gradcheck_second_derivatives_and_pytorch(name, reduction, compare_with_torch):
    import torch

    fn, options = CASES[name]

    def ours(x, y):
        return getattr(F, fn)(x, y, reduction=reduction, **options)

    assert gradcheck(ours, [A, B])
    assert gradgradcheck(ours, [A[:2], B[:2]])
    compare_with_torch(ours, lambda x, y: getattr(torch.nn.functional, fn)(x, y, reduction=reduction, **options),
                       [A, B], rng, rtol=1e-13, atol=1e-15)


def test_regression_losses_by_hand():
    x, y = Tensor(np.array([0.0, 0.5, 3.0, -2.0]), requires_grad=True), np.zeros(4)
    assert F.l1_loss(x, y, "none").tolist() == [0.0, 0.5, 3.0, 2.0]
    assert F.smooth_l1_loss(x, y, "none").tolist() == [0.0, 0.125, 2.5, 1.5]      # ½d² inside |d| < 1, |d| − ½
    assert F.huber_loss(x, y, "none", delta=2.0).tolist() == [0.0, 0.125, 4.0, 2.0]  # δ(|d| − ½δ) past δ, ½d² at it
    F.l1_loss(x, y, "sum").backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, -1.0]  # the slope at 0 is 0, as PyTorch
    x.grad = None
    F.smooth_l1_loss(x, y, "sum", beta=0.5).backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, -1.0]  # at |d| = β both pieces give sign(d)
    for fn in (F.l1_loss, F.smooth_l1_loss, F.huber_loss):
        assert fn(x, y)._gate.name == fn.__name__


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")  # as PyTorch warns
@pytest.mark.parametrize("reduction", ["batchmean", "mean", "sum", "none"])
def test_kl_div_log_target_gradcheck_and_pytorch(reduction, compare_with_torch):
    import torch

    fn = lambda a, t: F.kl_div(a, t, reduction, log_target=True)  # noqa: E731
    assert gradcheck(fn, [LOG_Q, LOG_P])
    assert gradgradcheck(fn, [LOG_Q, LOG_P])
    np.testing.assert_allclose(fn(Tensor(LOG_Q), LOG_P).data, F.kl_div(Tensor(LOG_Q), np.exp(LOG_P), reduction).data,
                               rtol=1e-12)  # the same divergence as with probabilities
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that "mean" is not "batchmean"
        compare_with_torch(fn, lambda a, t: torch.nn.functional.kl_div(a, t, reduction=reduction, log_target=True),
                           [LOG_Q, LOG_P], rng, rtol=1e-12, atol=1e-14)


def test_regression_loss_errors():
    with pytest.raises(ValueError, match="smooth_l1_loss: beta must be a number ≥ 0, got -1"):
        F.smooth_l1_loss(Tensor(A), B, beta=-1)
    with pytest.raises(ValueError, match=r"huber_loss: delta must be > 0 \(PyTorch's rule\); l1_loss is"):
        F.huber_loss(Tensor(A), B, delta=0)
    with pytest.raises(ValueError, match=r"l1_loss: input has shape \(3, 4\) but target has shape \(4,\)"):
        F.l1_loss(Tensor(A), B[0])
    with pytest.raises(ValueError, match="huber_loss: reduction must be one of"):
        F.huber_loss(Tensor(A), B, "batchmean")
