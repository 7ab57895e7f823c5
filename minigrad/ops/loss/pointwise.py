"""The pointwise losses, mse_loss, l1_loss, smooth_l1_loss, huber_loss and kl_div: two tensors of one shape,
compared element by element; both inputs may require grad. Each is one gate whose backward is the derivative
of its pointwise formula, shared out by the reduction. With d = x − y:

    l1_loss         |d|                                          dL/dx = sign(d)·g = −dL/dy
    smooth_l1_loss  ½d²/β where |d| < β, else |d| − ½β           dL/dx = d/β inside, sign(d) outside
    huber_loss      ½d² where |d| ≤ δ, else δ·(|d| − ½δ)         dL/dx = d inside, δ·sign(d) outside

(smooth_l1 is huber/β; β = 0 is l1). kl_div with ``log_target=True`` takes the target as log-probabilities,
pointwise e^t·(t − a). The binary cross-entropies live in ``binary.py`` and are re-exported here.
"""
from __future__ import annotations

import numpy as np

import numbers

from ...core.function import Function
from ...core.rules import Rule
from ..gate import as_tensor
from .binary import BinaryCrossEntropy, binary_cross_entropy  # noqa: F401 -- their old home
from .reduction import _check_reduction, _reduce, _spread


def _pair(op, a, b, names=("input", "target")):
    """Two Tensors of the same shape (arrays become constants), or a clear error."""
    a, b = as_tensor(op, a, names[0]), as_tensor(op, b, names[1])
    if a.shape != b.shape:
        raise ValueError(
            f"{op}: {names[0]} has shape {a.shape} but {names[1]} has shape {b.shape}; they must be equal "
            f"(minigrad does not broadcast losses; reshape one, e.g. target.reshape({', '.join(map(str, a.shape))}))"
        )
    return a, b


class MSELoss(Function):
    name, symbol = "mse_loss", "MSE"
    rules = (Rule("x", "2(x − y)·dL/dloss (÷ n for the mean)"), Rule("y", "−2(x − y)·dL/dloss (÷ n for the mean)"))

    @staticmethod
    def forward(ctx, x, y, reduction):
        ctx.reduction = reduction
        diff = x - y
        ctx.save_for_backward(diff)
        return _reduce(diff * diff, reduction)

    @staticmethod
    def backward(ctx, up):
        (diff,) = ctx.saved_tensors
        dx = diff * (2 * _spread(up, ctx.reduction, diff.size))
        return dx, -dx

    def backward_graph(self, node, up):
        x, y = node._inputs
        dx = (x - y) * (2 * _spread(up, self.reduction, x.numel()))
        return dx, -dx


class KLDiv(Function):
    name, symbol = "kl_div", "KL"
    PROBS = (Rule("a", "−p·dL/dloss (÷ N for batchmean)"), Rule("p", "(log p + 1 − a)·dL/dloss (÷ N for batchmean)"))
    LOGS = (Rule("a", "−eᵗ·dL/dloss (÷ N for batchmean)"), Rule("t", "eᵗ·(t − a + 1)·dL/dloss (÷ N for batchmean)"))
    rules = PROBS

    @staticmethod
    def forward(ctx, log_input, target, reduction, log_target=False):
        ctx.reduction, ctx.log_target = reduction, log_target
        ctx.count = _kl_count(log_input, reduction)
        ctx.save_for_backward(log_input, target)
        if log_target:  # the target as log-probabilities: e^t·(t − a) (as PyTorch, −inf in t gives nan)
            ctx.rules = ctx.LOGS
            with np.errstate(invalid="ignore"):
                pointwise = np.exp(target) * (target - log_input)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                # xlogy(p, p): 0·log 0 = 0 (a class the target never picks costs nothing)
                p_log_p = np.where(target == 0, 0, target * np.log(target)).astype(target.dtype, copy=False)
            pointwise = p_log_p - target * log_input
        if reduction == "batchmean":
            return _reduce(pointwise, "mean", divisor=ctx.count)
        return _reduce(pointwise, reduction)

    @staticmethod
    def backward(ctx, up):
        log_input, target = ctx.saved_tensors
        g = _spread(up, "mean" if ctx.reduction == "batchmean" else ctx.reduction, ctx.count)
        with np.errstate(divide="ignore", invalid="ignore"):
            if ctx.log_target:
                p = np.exp(target)
                return -p * g, p * (target - log_input + 1) * g
            return -target * g, (np.log(target) + 1 - log_input) * g

    def backward_graph(self, node, up):
        log_input, target = node._inputs
        g = _spread(up, "mean" if self.reduction == "batchmean" else self.reduction, self.count)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.log_target:
                p = target.exp()
                return -p * g, p * (target - log_input + 1) * g
            return -target * g, (target.log() + 1 - log_input) * g


def _kl_count(log_input, reduction):
    """What the mean divides by: the batch size for "batchmean", the number of elements for "mean"."""
    if reduction == "batchmean":
        return log_input.shape[0] if log_input.ndim else 1
    return max(log_input.size, 1)


class _Regression(Function):
    """What l1, smooth_l1 and huber share: d = x − y, a pointwise loss of d and its derivative, dL/dy = −dL/dx."""

    @staticmethod
    def forward(ctx, x, y, reduction, width=None):
        ctx.reduction, ctx.width = reduction, width
        d = x - y
        ctx.save_for_backward(d)
        return _reduce(ctx.loss(d), reduction)

    @staticmethod
    def backward(ctx, up):
        (d,) = ctx.saved_tensors
        dx = ctx.slope(d) * _spread(up, ctx.reduction, d.size)
        return dx, -dx

    def backward_graph(self, node, up):
        x, y = node._inputs
        d = x - y
        dx = self.slope_graph(d) * _spread(up, self.reduction, x.numel())
        return dx, -dx


def _sign(d):
    """sign(d) as a constant: the slope of |d| is piecewise constant (0 at d = 0, as PyTorch)."""
    return np.sign(d.data if hasattr(d, "_inputs") else d)


class L1Loss(_Regression):
    name, symbol = "l1_loss", "L1"
    rules = (Rule("x", "sign(x − y)·dL/dloss (÷ n for the mean)"),
             Rule("y", "−sign(x − y)·dL/dloss (÷ n for the mean)"))

    def loss(self, d):
        return np.abs(d)

    def slope(self, d):
        return np.sign(d)

    def slope_graph(self, d):
        return _sign(d)


class SmoothL1Loss(_Regression):
    name, symbol = "smooth_l1_loss", "SmoothL1"
    rules = (Rule("x", "(d/β where |d| < β, else sign(d))·dL/dloss, d = x − y"),
             Rule("y", "−(d/β where |d| < β, else sign(d))·dL/dloss, d = x − y"))

    def loss(self, d):
        beta, a = self.width, np.abs(d)
        if beta == 0:
            return a
        return np.where(a < beta, (0.5 / beta) * d * d, a - 0.5 * beta).astype(d.dtype, copy=False)

    def slope(self, d):
        beta = self.width
        if beta == 0:
            return np.sign(d)
        return np.where(np.abs(d) < beta, d / beta, np.sign(d)).astype(d.dtype, copy=False)

    def slope_graph(self, d):
        from ..elementwise import where

        beta = self.width
        if beta == 0:
            return _sign(d)
        return where(np.abs(d.data) < beta, d * (1.0 / beta), _sign(d))


class HuberLoss(_Regression):
    name, symbol = "huber_loss", "Huber"
    rules = (Rule("x", "(d where |d| ≤ δ, else δ·sign(d))·dL/dloss, d = x − y"),
             Rule("y", "−(d where |d| ≤ δ, else δ·sign(d))·dL/dloss, d = x − y"))

    def loss(self, d):
        delta, a = self.width, np.abs(d)
        return np.where(a <= delta, 0.5 * d * d, delta * (a - 0.5 * delta)).astype(d.dtype, copy=False)

    def slope(self, d):
        delta = self.width
        return np.where(np.abs(d) <= delta, d, delta * np.sign(d)).astype(d.dtype, copy=False)

    def slope_graph(self, d):
        from ..elementwise import where

        return where(np.abs(d.data) <= self.width, d, self.width * _sign(d))


def _width(op, what, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"{op}: {what} must be a number ≥ 0, got {value!r}")
    return float(value)


def mse_loss(input, target, reduction="mean"):
    """(input − target)², reduced; both may require grad. Shapes must be equal."""
    _check_reduction("mse_loss", reduction)
    x, y = _pair("mse_loss", input, target)
    return MSELoss.apply(x, y, reduction=reduction)


def l1_loss(input, target, reduction="mean"):
    """|input − target|, reduced; both may require grad (the slope at 0 is 0, as PyTorch)."""
    _check_reduction("l1_loss", reduction)
    x, y = _pair("l1_loss", input, target)
    return L1Loss.apply(x, y, reduction=reduction)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """½d²/β where |d| < β, else |d| − ½β (d = input − target), reduced; ``beta=0`` is ``l1_loss``."""
    _check_reduction("smooth_l1_loss", reduction)
    beta = _width("smooth_l1_loss", "beta", beta)
    x, y = _pair("smooth_l1_loss", input, target)
    return SmoothL1Loss.apply(x, y, reduction=reduction, width=beta)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """½d² where |d| ≤ δ, else δ·(|d| − ½δ) (d = input − target), reduced: quadratic near 0, linear beyond."""
    _check_reduction("huber_loss", reduction)
    delta = _width("huber_loss", "delta", delta)
    if delta == 0:
        raise ValueError("huber_loss: delta must be > 0 (PyTorch's rule); l1_loss is the loss without a quadratic part")
    x, y = _pair("huber_loss", input, target)
    return HuberLoss.apply(x, y, reduction=reduction, width=delta)


def kl_div(log_input, target, reduction="batchmean", log_target=False):
    """KL(target ‖ input) with ``log_input`` holding log-probabilities and ``target`` probabilities (or, with
    ``log_target=True``, log-probabilities too).

    Pointwise target·(log target − log_input), with 0·log 0 = 0 (with ``log_target``: e^t·(t − log_input),
    stable where the probabilities underflow). "batchmean" divides the sum by the batch size
    N = log_input.shape[0] (the true KL divergence per sample); "mean" divides by the number of elements,
    "sum" and "none" as usual; "mean" warns, as PyTorch does, that it is not the KL divergence.
    """
    _check_reduction("kl_div", reduction, ("batchmean", "mean", "sum", "none"))
    if reduction == "mean":
        import warnings

        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size. "
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition "
                      "(PyTorch's warning)", UserWarning, stacklevel=2)
    a, p = _pair("kl_div", log_input, target, ("log_input", "target"))
    return KLDiv.apply(a, p, reduction=reduction, log_target=bool(log_target))
