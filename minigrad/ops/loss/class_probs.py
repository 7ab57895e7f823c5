"""cross_entropy against class probabilities: a float target of the logits' shape (soft labels, mixup).

With p = softmax(z) over the classes, weights w (all 1 without ``weight``), label smoothing ε and the
smoothed target q = (1 − ε)·t + ε/C, each sample (a row of C classes) costs

    ℓ = −Σ_c w_c·q_c·log p_c
    dL/dz = (p·Σ_c w_c·q_c − w ⊙ q)·g          dL/dt = −(1 − ε)·w ⊙ log p·g

one gate (log-softmax fused, stable for any finite logits); the target may require grad too. As
PyTorch, "mean" divides by the number of samples (N·d1·…), not by a total weight, and ``ignore_index``
has no meaning here.
"""
from __future__ import annotations

import numpy as np

from ...core.function import Function
from ...core.rules import Rule
from ..activation import log_softmax, softmax
from .class_index import _class_weight, _loss_shape, _rows, _unrows
from .reduction import _reduce, _spread


class CrossEntropyProbs(Function):
    name, symbol = "cross_entropy", "CE"
    rules = (Rule("z", "(softmax(z)·Σ w⊙q − w⊙q)·dL/dloss, q = the smoothed target probabilities"),
             Rule("t", "−(1 − ε)·w⊙log softmax(z)·dL/dloss"))

    @staticmethod
    def forward(ctx, logits, target, weight, reduction, label_smoothing):
        ctx.layout, ctx.reduction, ctx.weight, ctx.eps = logits.shape, reduction, weight, label_smoothing
        rows, t = _rows(logits), _rows(target)
        shifted = rows - rows.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        q = t if not label_smoothing else (1 - label_smoothing) * t + label_smoothing / rows.shape[1]
        wq = q if weight is None else q * weight
        ctx.count = rows.shape[0]
        ctx.save_for_backward(log_p, wq)
        losses = -(wq * log_p).sum(axis=1)
        return _reduce(losses.reshape(_loss_shape(ctx.layout)), reduction)

    def _row_grad(self, up):
        """The upstream gradient each row gets, shaped to multiply (M, C) rows."""
        g = _spread(up, self.reduction, self.count)
        return g.reshape(-1, 1) if self.reduction == "none" else g

    def _target_scale(self):
        scale = 1 - self.eps
        return scale if self.weight is None else scale * self.weight

    @staticmethod
    def backward(ctx, up):
        log_p, wq = ctx.saved_tensors
        g = ctx._row_grad(up)
        p = np.exp(log_p)
        dz = (p * wq.sum(axis=1, keepdims=True) - wq) * g
        dt = -ctx._target_scale() * log_p * g if ctx.needs_input_grad[1] else None
        return _unrows(dz, ctx.layout), None if dt is None else _unrows(dt, ctx.layout)

    def backward_graph(self, node, up):
        z, t = node._inputs
        rows = _rows(z)
        g = self._row_grad(up)
        eps, classes = self.eps, rows.shape[1]
        q = _rows(t) if not eps else (1 - eps) * _rows(t) + eps / classes
        wq = q if self.weight is None else q * self.weight
        dz = (softmax(rows, 1) * wq.sum(dim=1, keepdim=True) - wq) * g
        dt = -self._target_scale() * log_softmax(rows, 1) * g
        return _unrows(dz, self.layout), _unrows(dt, self.layout)


def cross_entropy_probs(logits, target, weight, reduction, label_smoothing):
    """The gate on checked arguments (``cross_entropy`` checks them and dispatches here)."""
    w = _class_weight("cross_entropy", weight, logits.data)
    if target.dtype != logits.dtype and not target.requires_grad:
        target = target.astype(logits.dtype)
    return CrossEntropyProbs.apply(logits, target, weight=w, reduction=reduction,
                                   label_smoothing=float(label_smoothing))
