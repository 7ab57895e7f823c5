"""The binary cross-entropies: on probabilities (binary_cross_entropy) and on logits
(binary_cross_entropy_with_logits), each with PyTorch's ``weight`` (broadcast against the input, a constant).

On probabilities q, with the logs clamped at −100 as PyTorch does:

    ℓ = −w·(t·log q + (1 − t)·log(1 − q))      dL/dq = w·(q − t)/(q(1 − q))·g,  dL/dt = w·(log(1 − q) − log q)·g

(dL/dq with q(1 − q) kept ≥ 1e-12, dL/dt with the logs not clamped, ±∞ at q = 0 or 1: both PyTorch's rules.)

On logits x, with σ = sigmoid(x), sp(x) = log(1 + eˣ) and p = ``pos_weight`` (the weight of the positive
term, broadcast along the last dim: one per class), written so that no exp overflows and no log meets 0:

    ℓ = w·((1 − t)·x + (1 + (p − 1)·t)·sp(−x))  (= −w·(p·t·log σ + (1 − t)·log(1 − σ)))
    dL/dx = w·((1 + (p − 1)·t)·σ − p·t)·g        dL/dt = w·((p − 1)·sp(−x) − x)·g

(p = 1: dL/dx = w·(σ − t)·g). The reduction shares g out as for every loss ("mean": ÷ the number of
elements, whatever the weights).
"""
from __future__ import annotations

import math

import numpy as np

from ...core.function import Function
from ...core.rules import Rule
from ..elementwise import maximum
from ..gate import as_tensor, is_tensor
from .reduction import _check_reduction, _reduce, _spread


def _weight(op, what, weight, x):
    """A constant weight broadcastable to the input's shape, in its dtype, or None."""
    if weight is None:
        return None
    if is_tensor(weight) and weight.requires_grad:
        raise ValueError(f"{op}: {what} is a constant (PyTorch does not differentiate it); pass {what}.detach()")
    w = np.asarray(weight.data if is_tensor(weight) else weight)
    if w.dtype.kind not in "biuf":
        raise TypeError(f"{op}: {what} must hold numbers, got dtype {w.dtype}")
    try:
        fits = np.broadcast_shapes(w.shape, x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        hint = " (one per class: the last dim)" if what == "pos_weight" else ""
        raise ValueError(
            f"{op}: {what} has shape {w.shape}, which does not broadcast to the input's shape {x.shape}{hint}"
        )
    return w.astype(x.dtype, copy=False)


def _softplus(z):
    """log(1 + e^z), stable for any z."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


class BinaryCrossEntropy(Function):
    name, symbol = "binary_cross_entropy", "BCE"
    rules = (Rule("q", "w·(q − t)/(q(1 − q))·dL/dloss (÷ n for the mean)"),
             Rule("t", "w·(log(1 − q) − log q)·dL/dloss (÷ n for the mean)"))

    @staticmethod
    def forward(ctx, q, t, reduction, weight=None):
        ctx.reduction, ctx.weight = reduction, weight
        with np.errstate(divide="ignore"):
            # PyTorch's clamp: log 0 = −∞ would make 0·log 0 a nan and a wrong label an infinite loss
            log_q = np.maximum(np.log(q), -100)
            log_not_q = np.maximum(np.log1p(-q), -100)
        ctx.save_for_backward(q, t)
        losses = -(t * log_q + (1 - t) * log_not_q)
        return _reduce(losses if weight is None else losses * weight, reduction)

    @staticmethod
    def backward(ctx, up):
        q, t = ctx.saved_tensors
        g = _spread(up, ctx.reduction, q.size)
        if ctx.weight is not None:
            g = g * ctx.weight
        # as PyTorch: the denominator is kept ≥ 1e-12 so q = 0 or 1 gives a large, finite gradient
        dq = (q - t) / np.maximum(q * (1 - q), 1e-12) * g
        with np.errstate(divide="ignore", invalid="ignore"):  # PyTorch's: the logs unclamped, ±inf at q = 0 or 1
            dt = (np.log1p(-q) - np.log(q)) * g
        return dq, dt

    def backward_graph(self, node, up):
        q, t = node._inputs
        g = _spread(up, self.reduction, q.numel())
        if self.weight is not None:
            g = g * self.weight
        with np.errstate(divide="ignore", invalid="ignore"):
            return (q - t) / maximum(q * (1 - q), 1e-12) * g, ((1 - q).log() - q.log()) * g


class BinaryCrossEntropyWithLogits(Function):
    name, symbol = "binary_cross_entropy_with_logits", "BCE"
    rules = (Rule("x", "w·((1 + (p − 1)t)·σ(x) − p·t)·dL/dloss (÷ n for the mean)"),
             Rule("t", "w·((p − 1)·softplus(−x) − x)·dL/dloss (÷ n for the mean)"))

    @staticmethod
    def forward(ctx, x, t, reduction, weight, pos_weight):
        ctx.reduction, ctx.weight, ctx.pos_weight = reduction, weight, pos_weight
        sp = _softplus(-x)  # −log σ(x)
        coef = 1 if pos_weight is None else 1 + (pos_weight - 1) * t
        losses = (1 - t) * x + coef * sp
        ctx.save_for_backward(x, t)
        return _reduce(losses if weight is None else losses * weight, reduction)

    def _g(self, up, n):
        g = _spread(up, self.reduction, n)
        return g if self.weight is None else g * self.weight

    @staticmethod
    def backward(ctx, up):
        x, t = ctx.saved_tensors
        g, p = ctx._g(up, x.size), ctx.pos_weight
        s = 0.5 + 0.5 * np.tanh(0.5 * x)
        if p is None:
            return (s - t) * g, -x * g
        return ((1 + (p - 1) * t) * s - p * t) * g, ((p - 1) * _softplus(-x) - x) * g

    def backward_graph(self, node, up):
        from ..activation import softplus

        x, t = node._inputs
        g, p = self._g(up, x.numel()), self.pos_weight
        s = x.sigmoid()
        if p is None:
            return (s - t) * g, -x * g
        return ((1 + (p - 1) * t) * s - p * t) * g, ((p - 1) * softplus(-x, threshold=math.inf) - x) * g


def _pair(op, a, b):
    a, b = as_tensor(op, a, "input"), as_tensor(op, b, "target")
    if a.shape != b.shape:
        raise ValueError(
            f"{op}: input has shape {a.shape} but target has shape {b.shape}; they must be equal "
            f"(minigrad does not broadcast losses; reshape one, e.g. target.reshape({', '.join(map(str, a.shape))}))"
        )
    if b.dtype != a.dtype and a.dtype.kind == "f":
        b = b.astype(a.dtype) if not b.requires_grad else b
    return a, b


def binary_cross_entropy(input, target, weight=None, *, reduction="mean"):
    """−w·(t·log q + (1 − t)·log(1 − q)) with q = input in [0, 1] (logs clamped at −100, as PyTorch).

    ``weight`` (broadcast against the input) rescales each element's loss; it is a constant. The third
    positional argument is ``weight``, as in PyTorch; a string there is read as the reduction, as
    minigrad's older ``binary_cross_entropy(q, t, "sum")`` meant it.
    """
    op = "binary_cross_entropy"
    if isinstance(weight, str):
        weight, reduction = None, weight
    _check_reduction(op, reduction)
    q, t = _pair(op, input, target)
    if q.data.size:
        low, high = float(q.data.min()), float(q.data.max())
        if not (low >= 0.0 and high <= 1.0):  # written so that nan fails too
            raise ValueError(
                f"{op}: all elements of input should be probabilities in [0, 1], but they range "
                f"from {low:g} to {high:g}; apply sigmoid first (input.sigmoid()), or use "
                f"binary_cross_entropy_with_logits on the logits"
            )
    return BinaryCrossEntropy.apply(q, t, reduction=reduction, weight=_weight(op, "weight", weight, q.data))


def binary_cross_entropy_with_logits(input, target, weight=None, *, reduction="mean", pos_weight=None):
    """Sigmoid and binary cross-entropy in one stable gate, on logits (any real numbers), as PyTorch's.

    ℓ = −w·(p·t·log σ(x) + (1 − t)·log(1 − σ(x))), computed as w·((1 − t)·x + (1 + (p − 1)·t)·softplus(−x)):
    finite for logits of ±1000. ``weight`` w broadcasts against the input; ``pos_weight`` p weighs the
    positive term, broadcast along the last dim (shape (C,) for (N, C): p = negatives / positives
    balances a class). Both are constants; ``reduction`` and ``pos_weight`` are passed by name.
    """
    op = "binary_cross_entropy_with_logits"
    if isinstance(weight, str):
        raise TypeError(f"{op}: weight must be a tensor of weights, got {weight!r}; the third positional argument is "
                        f"weight, as in PyTorch, so pass the reduction by name: reduction={weight!r}")
    _check_reduction(op, reduction)
    x, t = _pair(op, input, target)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: input must hold floating-point logits, got {x.dtype}")
    return BinaryCrossEntropyWithLogits.apply(x, t, reduction=reduction, weight=_weight(op, "weight", weight, x.data),
                                              pos_weight=_weight(op, "pos_weight", pos_weight, x.data))
