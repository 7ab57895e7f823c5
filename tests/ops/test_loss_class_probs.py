"""cross_entropy against class probabilities (a float target of the logits' shape): weights, label smoothing,
(N, C), (N, C, d1, d2) and (C,) layouts, a differentiable target, second derivatives, errors, PyTorch."""
import numpy as np
import pytest

import minigrad.nn.functional as F
from minigrad import Tensor, gradcheck, gradgradcheck

rng = np.random.default_rng(0)
LAYOUTS = {
    "N,C": (rng.standard_normal((5, 4)) * 2, rng.dirichlet(np.ones(4), 5)),
    "N,C,d1,d2": (rng.standard_normal((2, 3, 2, 3)), rng.dirichlet(np.ones(3), (2, 2, 3)).transpose(0, 3, 1, 2).copy()),
    "C": (rng.standard_normal(4), rng.dirichlet(np.ones(4))),
}
WEIGHTS = {4: np.array([0.5, 1.0, 2.0, 3.0]), 3: np.array([0.5, 2.0, 1.5])}


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_probability_targets_gradcheck_and_pytorch(layout, reduction, weighted, smoothing, compare_with_torch):
    import torch

    z, p = LAYOUTS[layout]
    classes = z.shape[0] if z.ndim == 1 else z.shape[1]
    w = WEIGHTS[classes] if weighted else None

    def ours(logits, target):
        return F.cross_entropy(logits, target, w, reduction=reduction, label_smoothing=smoothing)

    assert gradcheck(ours, [z, p])  # the target gets its gradient too
    compare_with_torch(ours, lambda logits, target: torch.nn.functional.cross_entropy(
        logits, target, None if w is None else torch.tensor(w), reduction=reduction, label_smoothing=smoothing),
        [z, p], rng, rtol=1e-12, atol=1e-14)


def test_probability_targets_second_derivatives():
    z, p = LAYOUTS["N,C"]
    assert gradgradcheck(lambda a, b: F.cross_entropy(a, b, WEIGHTS[4], label_smoothing=0.1), [z[:3], p[:3]])


def test_one_hot_probabilities_give_the_class_index_loss():
    z, t = LAYOUTS["N,C"][0], np.array([0, 3, 1, 1, 2])
    one_hot = np.eye(4)[t]
    a = F.cross_entropy(Tensor(z), one_hot, WEIGHTS[4], reduction="sum").item()
    assert a == pytest.approx(F.cross_entropy(Tensor(z), t, WEIGHTS[4], reduction="sum").item(), rel=1e-12)
    # but "mean" divides by the number of samples here, as PyTorch, not by the total weight
    m = F.cross_entropy(Tensor(z), one_hot, WEIGHTS[4]).item()
    assert m == pytest.approx(a / 5, rel=1e-12)
    loss = F.cross_entropy(Tensor(z, requires_grad=True), one_hot)
    assert loss._gate.name == "cross_entropy" and len(loss._inputs) == 2


def test_probability_target_errors():
    z, p = LAYOUTS["N,C"]
    with pytest.raises(ValueError, match="cross_entropy: ignore_index is not supported for class-probability targets"):
        F.cross_entropy(Tensor(z), p, ignore_index=0)
    with pytest.raises(TypeError, match=r"class probabilities as targets must have the input's shape \(5, 4\)"):
        F.cross_entropy(Tensor(z), p[:, :3])
