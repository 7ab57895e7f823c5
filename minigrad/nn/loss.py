"""The losses as modules, each calling one function of ``minigrad.nn.functional`` with PyTorch's arguments.

Constructor arguments, their order and defaults are PyTorch's without the deprecated ``size_average``
and ``reduce`` (so ``reduction`` and what follows it are best passed by name, as PyTorch's docs do).
Per-class or per-element weights are buffers (in ``state_dict`` under PyTorch's names when given).
``reduction`` is checked when the loss is built.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..ops.loss.reduction import REDUCTIONS, _check_reduction
from . import functional as F
from .layers import number
from .module import Module


def _no_string(op, what, value):
    """A reduction passed where PyTorch's signature has a weight (``BCELoss("sum")``) is an error that says so."""
    if isinstance(value, str):
        raise TypeError(f"{op}: {what} must be an array of weights, got {value!r}; the argument in that place is "
                        f"{what}, as in PyTorch, so pass the reduction by name: reduction={value!r}")


class _Loss(Module):
    reductions = REDUCTIONS

    def __init__(self, reduction="mean"):
        super().__init__()
        _check_reduction(type(self).__name__, reduction, self.reductions)
        self.reduction = reduction


class _WeightedLoss(_Loss):
    """A loss with weights (per class, or per element for BCELoss), kept as a buffer named ``weight`` (in
    ``state_dict`` when given), as PyTorch."""

    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        _no_string(type(self).__name__, "weight", weight)
        self.register_buffer("weight", weight)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy on logits (N, C) and integer class targets (N,), fused with log-softmax.

    ``weight`` (C,) weighs each class, targets equal to ``ignore_index`` are skipped, and
    ``label_smoothing`` ε mixes in the uniform target; see ``F.cross_entropy`` for the formula. A float
    target of the logits' shape is read as class probabilities, as PyTorch does.
    """

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(weight, reduction)
        if isinstance(label_smoothing, (bool, np.bool_)) or not isinstance(label_smoothing, numbers.Real):
            raise TypeError(f"CrossEntropyLoss: label_smoothing must be a number in [0, 1], got {label_smoothing!r}")
        if not 0.0 <= label_smoothing <= 1.0:  # written so that nan fails too
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1] (0 is no smoothing, 1 a uniform "
                             f"target), got {label_smoothing}")
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, logits, target):
        return F.cross_entropy(logits, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction,
                               label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """−w[t]·log_probs[t] on log-probabilities (pair it with ``F.log_softmax(x, dim=1)``); options as
    CrossEntropyLoss."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, log_probs, target):
        return F.nll_loss(log_probs, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class MSELoss(_Loss):
    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """|input − target|, reduced."""

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """½d²/β where |d| < β, else |d| − ½β (d = input − target), reduced; ``beta=0`` is L1Loss."""

    def __init__(self, reduction="mean", beta=1.0):
        super().__init__(reduction)
        if not number("SmoothL1Loss", "beta", beta) >= 0:  # written so that nan fails too
            raise ValueError(f"SmoothL1Loss: beta must be ≥ 0 (the width of the quadratic part), got {beta}")
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """½d² where |d| ≤ δ, else δ·(|d| − ½δ) (d = input − target), reduced: SmoothL1Loss(beta=δ) times δ."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        if not number("HuberLoss", "delta", delta) > 0:
            raise ValueError(f"HuberLoss: delta must be > 0 (PyTorch's rule), got {delta}; L1Loss is the loss without "
                             f"a quadratic part")
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy on probabilities in [0, 1]; ``weight`` (broadcast against the input) is a buffer, as
    PyTorch's."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid and binary cross-entropy in one stable gate, on logits; ``weight`` (broadcast against the input)
    and ``pos_weight`` (one per class: the last dim) are buffers, as PyTorch's, in ``state_dict`` when given."""

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(reduction)
        _no_string("BCEWithLogitsLoss", "weight", weight)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class KLDivLoss(_Loss):
    """KL(target ‖ input) on log-probabilities ``input``; ``log_target=True`` when the target holds log-probabilities
    too. The default reduction is PyTorch's, "mean" (÷ every element, with PyTorch's warning that it is not the KL
    divergence); pass ``reduction="batchmean"`` for the divergence per sample (``F.kl_div``'s default, DESIGN.md)."""

    reductions = ("batchmean",) + REDUCTIONS

    def __init__(self, reduction="mean", log_target=False):
        super().__init__(reduction)
        self.log_target = log_target

    def forward(self, log_input, target):
        return F.kl_div(log_input, target, reduction=self.reduction, log_target=self.log_target)
