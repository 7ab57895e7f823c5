"""The loss modules against PyTorch's: values and gradients (input and target), buffers in state_dict, arguments."""
import inspect

import numpy as np
import pytest

from minigrad import Tensor, nn

rng = np.random.default_rng(0)
W3, P3 = np.array([0.5, 1.0, 2.0]), np.array([3.0, 0.5, 1.5])


def torch_of(a):
    import torch

    return None if a is None else torch.tensor(a)


def logits_and_probabilities(*shape):
    probs = rng.uniform(0.1, 1.0, shape)
    return rng.standard_normal(shape) * 2, probs / probs.sum(axis=1, keepdims=True)


REGRESSION = {  # name: make ours or theirs from the nn namespace
    "L1Loss": lambda n: n.L1Loss(), "L1Loss, sum": lambda n: n.L1Loss(reduction="sum"),
    "L1Loss, none": lambda n: n.L1Loss(reduction="none"),
    "SmoothL1Loss": lambda n: n.SmoothL1Loss(), "SmoothL1Loss, beta": lambda n: n.SmoothL1Loss(beta=0.4),
    "SmoothL1Loss, beta 0": lambda n: n.SmoothL1Loss(reduction="sum", beta=0.0),
    "HuberLoss": lambda n: n.HuberLoss(), "HuberLoss, delta": lambda n: n.HuberLoss("none", 0.7),
    "MSELoss": lambda n: n.MSELoss(),
}


@pytest.mark.parametrize("name", REGRESSION)
def test_regression_losses_match_pytorch(name, compare_modules, torch_on_one_thread):
    make = REGRESSION[name]
    compare_modules(make(nn), make(torch_on_one_thread.nn), rng.standard_normal((4, 5)),
                    rng.standard_normal((4, 5)))  # both inputs get gradients


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")  # PyTorch's, about its "mean"
@pytest.mark.parametrize("reduction", ["batchmean", "mean", "sum", "none"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_loss_matches_pytorch(reduction, log_target, compare_modules, torch_on_one_thread):
    log_q = np.log(logits_and_probabilities(4, 5)[1])
    p = logits_and_probabilities(4, 5)[1]
    target = np.log(p) if log_target else p
    make = lambda n: n.KLDivLoss(reduction=reduction, log_target=log_target)  # noqa: E731
    compare_modules(make(nn), make(torch_on_one_thread.nn), log_q, target)


@pytest.mark.parametrize("weight, pos_weight, reduction", [
    (None, None, "mean"), (W3, None, "sum"), (None, P3, "mean"), (W3, P3, "none"),
    (np.array([[2.0], [0.5], [1.0], [1.5]]), None, "mean"),  # one weight per sample, broadcast
])
def test_bce_with_logits_loss_matches_pytorch_with_its_buffers(weight, pos_weight, reduction, compare_modules,
                                                               torch_on_one_thread):
    torch = torch_on_one_thread
    ours = nn.BCEWithLogitsLoss(weight, reduction=reduction, pos_weight=pos_weight)
    theirs = torch.nn.BCEWithLogitsLoss(torch_of(weight), reduction=reduction, pos_weight=torch_of(pos_weight))
    assert list(ours.state_dict()) == list(theirs.state_dict())  # "weight", "pos_weight" when given, as buffers
    assert list(ours.parameters()) == []
    logits, targets = rng.standard_normal((4, 3)) * 3, rng.integers(0, 2, (4, 3)).astype(np.float64)
    targets[0] = [0.2, 0.7, 1.0]  # soft targets too
    compare_modules(ours, theirs, logits, targets, grads=[0])


@pytest.mark.parametrize("weight, reduction", [(None, "mean"), (np.array([2.0, 0.5, 1.0]), "sum"),
                                               (np.array([[0.5], [2.0], [1.0], [1.0]]), "none")])
def test_bce_loss_takes_pytorchs_weight_as_a_buffer(weight, reduction, compare_modules, torch_on_one_thread):
    ours, theirs = nn.BCELoss(weight, reduction), torch_on_one_thread.nn.BCELoss(torch_of(weight), reduction=reduction)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    compare_modules(ours, theirs, rng.uniform(0.05, 0.95, (4, 3)), rng.uniform(0, 1, (4, 3)), grads=[0])


@pytest.mark.parametrize("make", [
    lambda n, t: n.CrossEntropyLoss(), lambda n, t: n.CrossEntropyLoss(reduction="sum", label_smoothing=0.2),
    lambda n, t: n.CrossEntropyLoss(t(W3), reduction="none"),
    lambda n, t: n.CrossEntropyLoss(t(W3), label_smoothing=0.1),
])
def test_cross_entropy_loss_passes_class_probability_targets_through(make, compare_modules, torch_on_one_thread):
    ours, theirs = make(nn, lambda a: a), make(torch_on_one_thread.nn, torch_of)
    compare_modules(ours, theirs, *logits_and_probabilities(6, 3))  # the target is differentiable too
    compare_modules(ours, theirs, *logits_and_probabilities(2, 3, 4, 5), seed=1)  # (N, C, d1, d2)


def test_cross_entropy_loss_refuses_ignore_index_with_probabilities():
    with pytest.raises(ValueError, match="cross_entropy: ignore_index is not supported for class-probability targets"):
        nn.CrossEntropyLoss(ignore_index=0)(Tensor(rng.standard_normal((2, 3))), Tensor(np.full((2, 3), 1 / 3)))


NAMES = ["L1Loss", "SmoothL1Loss", "HuberLoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "MSELoss", "NLLLoss",
         "BCELoss", "KLDivLoss"]


@pytest.mark.parametrize("name", NAMES)
def test_constructor_arguments_are_pytorchs_without_the_deprecated_ones(name):
    torch = pytest.importorskip("torch")

    def arguments(cls):
        params = inspect.signature(cls.__init__).parameters.values()
        return [(p.name, p.default) for p in params if p.name not in ("self", "size_average", "reduce")]

    ours, theirs = arguments(getattr(nn, name)), arguments(getattr(torch.nn, name))
    assert ours == theirs  # KLDivLoss too: "mean" (DESIGN.md's "batchmean" is F.kl_div's default only)


def test_kl_div_loss_defaults_to_mean_and_warns_as_pytorch(torch_on_one_thread):
    log_q = np.log(logits_and_probabilities(4, 5)[1])
    p = logits_and_probabilities(4, 5)[1]
    assert nn.KLDivLoss().reduction == "mean"
    with pytest.warns(UserWarning, match="reduction: 'mean' divides the total loss by both the batch size and the "
                                         "support size"):
        ours = nn.KLDivLoss()(Tensor(log_q), p)
    np.testing.assert_allclose(ours.item(), (p * (np.log(p) - log_q)).mean(), rtol=1e-12)
    if torch_on_one_thread is not None:
        with pytest.warns(UserWarning, match="reduction: 'mean' divides the total loss"):
            theirs = torch_on_one_thread.nn.KLDivLoss()(torch_on_one_thread.tensor(log_q),
                                                        torch_on_one_thread.tensor(p))
        np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)


def test_reprs_match_pytorchs(torch_on_one_thread):
    torch = torch_on_one_thread
    if torch is None:
        pytest.skip("torch is not installed (pip install torch==2.13.0)")
    for make in list(REGRESSION.values()) + [lambda n: n.BCEWithLogitsLoss(), lambda n: n.KLDivLoss(log_target=True)]:
        assert repr(make(nn)) == repr(make(torch.nn))
    assert (nn.SmoothL1Loss(beta=0.5).beta, nn.HuberLoss(delta=2).delta, nn.KLDivLoss(log_target=True).log_target) == (
        0.5, 2, True)


@pytest.mark.parametrize("make, error, message", [
    (lambda: nn.L1Loss(reduction="avg"), ValueError, r"^L1Loss: reduction must be one of 'mean', 'sum', 'none', "
                                                     r"got 'avg'$"),
    (lambda: nn.MSELoss("batchmean"), ValueError, r"^MSELoss: reduction must be one of 'mean', 'sum', 'none'"),
    (lambda: nn.CrossEntropyLoss(reduction="elementwise"), ValueError, r"^CrossEntropyLoss: reduction must be"),
    (lambda: nn.BCEWithLogitsLoss(reduction=None), ValueError, r"^BCEWithLogitsLoss: reduction must be one of"),
    (lambda: nn.KLDivLoss(reduction="avg"), ValueError,
     r"^KLDivLoss: reduction must be one of 'batchmean', 'mean', 'sum', 'none', got 'avg'$"),
    (lambda: nn.SmoothL1Loss(beta=-1), ValueError, r"^SmoothL1Loss: beta must be ≥ 0 \(the width of the quadratic "
                                                   r"part\), got -1$"),
    (lambda: nn.SmoothL1Loss(beta="1"), TypeError, r"^SmoothL1Loss: beta must be a number, got '1'"),
    (lambda: nn.HuberLoss(delta=0), ValueError, r"^HuberLoss: delta must be > 0 \(PyTorch's rule\), got 0; L1Loss"),
    (lambda: nn.HuberLoss(delta=None), TypeError, r"^HuberLoss: delta must be a number, got None"),
    (lambda: nn.BCELoss("sum"), TypeError, r"^BCELoss: weight must be an array of weights, got 'sum'; the argument "
                                           r"in that place is weight, as in PyTorch, so pass the reduction by name: "
                                           r"reduction='sum'$"),
    (lambda: nn.CrossEntropyLoss("none"), TypeError, r"^CrossEntropyLoss: weight must be an array of weights"),
    (lambda: nn.BCEWithLogitsLoss("mean"), TypeError, r"^BCEWithLogitsLoss: weight must be an array of weights"),
])
def test_bad_arguments_are_clear_errors_when_the_loss_is_built(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_pos_weight_of_the_wrong_size_is_the_functions_clear_error():
    loss = nn.BCEWithLogitsLoss(pos_weight=np.ones(4))
    with pytest.raises(ValueError, match=r"pos_weight has shape \(4,\), which does not broadcast to the input's shape "
                                         r"\(2, 3\) \(one per class: the last dim\)"):
        loss(Tensor(np.zeros((2, 3))), Tensor(np.zeros((2, 3))))
