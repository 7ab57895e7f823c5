"""The pointwise losses, mse_loss, kl_div and binary_cross_entropy: two tensors of one shape, compared
element by element; both inputs may require grad. Each is one gate whose backward is the derivative
of its pointwise formula, shared out by the reduction.
"""
from __future__ import annotations

import numpy as np

from ...core.function import Function
from ...core.rules import Rule
from ..elementwise import maximum
from ..gate import as_tensor
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
    rules = (Rule("a", "−p·dL/dloss (÷ N for batchmean)"), Rule("p", "(log p + 1 − a)·dL/dloss (÷ N for batchmean)"))

    @staticmethod
    def forward(ctx, log_input, target, reduction):
        ctx.reduction = reduction
        ctx.count = _kl_count(log_input, reduction)
        ctx.save_for_backward(log_input, target)
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
            return -target * g, (np.log(target) + 1 - log_input) * g

    def backward_graph(self, node, up):
        log_input, target = node._inputs
        g = _spread(up, "mean" if self.reduction == "batchmean" else self.reduction, self.count)
        with np.errstate(divide="ignore", invalid="ignore"):
            return -target * g, (target.log() + 1 - log_input) * g


def _kl_count(log_input, reduction):
    """What the mean divides by: the batch size for "batchmean", the number of elements for "mean"."""
    if reduction == "batchmean":
        return log_input.shape[0] if log_input.ndim else 1
    return max(log_input.size, 1)


class BinaryCrossEntropy(Function):
    name, symbol = "binary_cross_entropy", "BCE"
    rules = (Rule("q", "(q − t)/(q(1 − q))·dL/dloss (÷ n for the mean)"),
             Rule("t", "(log(1 − q) − log q)·dL/dloss (÷ n for the mean)"))

    @staticmethod
    def forward(ctx, q, t, reduction):
        ctx.reduction = reduction
        with np.errstate(divide="ignore"):
            # PyTorch's clamp: log 0 = −∞ would make 0·log 0 a nan and a wrong label an infinite loss
            log_q = np.maximum(np.log(q), -100)
            log_not_q = np.maximum(np.log1p(-q), -100)
        ctx.save_for_backward(q, t, log_q, log_not_q)
        return _reduce(-(t * log_q + (1 - t) * log_not_q), reduction)

    @staticmethod
    def backward(ctx, up):
        q, t, log_q, log_not_q = ctx.saved_tensors
        g = _spread(up, ctx.reduction, q.size)
        # as PyTorch: the denominator is kept ≥ 1e-12 so q = 0 or 1 gives a large, finite gradient
        dq = (q - t) / np.maximum(q * (1 - q), 1e-12) * g
        return dq, (log_not_q - log_q) * g

    def backward_graph(self, node, up):
        q, t = node._inputs
        g = _spread(up, self.reduction, q.numel())
        with np.errstate(divide="ignore", invalid="ignore"):
            log_q, log_not_q = maximum(q.log(), -100.0), maximum((1 - q).log(), -100.0)
            return (q - t) / maximum(q * (1 - q), 1e-12) * g, (log_not_q - log_q) * g


def mse_loss(input, target, reduction="mean"):
    """(input − target)², reduced; both may require grad. Shapes must be equal."""
    _check_reduction("mse_loss", reduction)
    x, y = _pair("mse_loss", input, target)
    return MSELoss.apply(x, y, reduction=reduction)


def kl_div(log_input, target, reduction="batchmean"):
    """KL(target ‖ input) with ``log_input`` holding log-probabilities and ``target`` probabilities.

    Pointwise target·(log target − log_input), with 0·log 0 = 0. "batchmean" divides the sum by
    the batch size N = log_input.shape[0] (the true KL divergence per sample); "mean" divides by
    the number of elements, "sum" and "none" as usual.
    """
    _check_reduction("kl_div", reduction, ("batchmean", "mean", "sum", "none"))
    a, p = _pair("kl_div", log_input, target, ("log_input", "target"))
    return KLDiv.apply(a, p, reduction=reduction)


def binary_cross_entropy(input, target, reduction="mean"):
    """−(t·log q + (1 − t)·log(1 − q)) with q = input in [0, 1] (logs clamped at −100, as PyTorch)."""
    _check_reduction("binary_cross_entropy", reduction)
    q, t = _pair("binary_cross_entropy", input, target)
    if q.data.size:
        low, high = float(q.data.min()), float(q.data.max())
        if not (low >= 0.0 and high <= 1.0):  # written so that nan fails too
            raise ValueError(
                f"binary_cross_entropy: all elements of input should be probabilities in [0, 1], but they range "
                f"from {low:g} to {high:g}; apply sigmoid first (input.sigmoid())"
            )
    return BinaryCrossEntropy.apply(q, t, reduction=reduction)
