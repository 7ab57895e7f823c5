"""The class-index losses, cross_entropy and nll_loss: scores for C classes against integer targets.

cross_entropy fuses log-softmax and the pick into one gate: it subtracts the row maximum before
exponentiating, so logits of ±1000 give a finite loss and gradient. Class targets are integer
indices of shape (N,) for logits (N, C), or (N, d1, ...) for logits (N, C, d1, ...).

Both take PyTorch's options. With class weights w (``weight``), label smoothing ε and
p = softmax(z), cross-entropy is taken against the target q = (1 − ε)·w[t]·onehot(t) + (ε/C)·w, so

    ℓ = Σ_c q[c]·(−log p[c])                        dL/dz = (Σ_c q[c]·p − q)·g

(w = 1 and ε = 0 give −log softmax(z)[t] and (softmax(z) − onehot(t))·g; nll_loss is the ε = 0
case on log-probabilities, −w[t]·a[t]). A target equal to ``ignore_index`` costs 0 and gets no
gradient, and "mean" divides by Σ w[t] over the kept targets instead of N, as PyTorch does.
"""
from __future__ import annotations

import numbers

import numpy as np

from ...core.function import Function
from ...core.rules import Rule
from ..activation import softmax
from ..gate import as_tensor, is_tensor
from ..accumulate import wide_sum
from .reduction import _check_reduction, _reduce, _spread


def _class_targets(op, scores, target, ignore_index=-100):
    """Integer class targets checked against the scores' shape and class count, flattened to (M,).

    Classes sit on dim 1 of (N, C, d1, ...), on dim 0 of an unbatched (C,); the target has the
    scores' shape without that dim. A target equal to ``ignore_index`` may be any integer.
    """
    t = np.asarray(target.data if is_tensor(target) else target)
    if t.dtype.kind not in "iu":
        hint = (f" (class probabilities as targets must have the input's shape {scores.shape})"
                if t.dtype.kind == "f" and op == "cross_entropy" else "")
        raise TypeError(
            f"{op}: target has dtype {t.dtype}, but it must hold integer class indices; "
            f"pass e.g. y.astype(np.int64){hint}"
        )
    if scores.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d tensor")
    class_dim = 0 if scores.ndim == 1 else 1
    classes = scores.shape[class_dim]
    expected = scores.shape[:class_dim] + scores.shape[class_dim + 1:]
    if t.shape != expected:
        if scores.ndim >= 2 and t.ndim >= 1 and t.shape[0] != scores.shape[0]:
            raise ValueError(
                f"{op}: input has batch size {scores.shape[0]} (shape {scores.shape}) but target has batch size "
                f"{t.shape[0]} (shape {t.shape}); they must match"
            )
        raise ValueError(
            f"{op}: target has shape {t.shape} but input {scores.shape} needs class indices of shape {expected} "
            f"(classes are dim {class_dim})"
        )
    bad = t[((t < 0) | (t >= classes)) & (t != ignore_index)]
    if bad.size:
        worst = bad.min() if bad.min() < 0 else bad.max()
        raise IndexError(
            f"{op}: target holds class {worst}, but the input has only C = {classes} classes "
            f"(valid targets are 0..{classes - 1}); targets equal to ignore_index ({ignore_index}) are skipped"
        )
    return t.reshape(-1)


def _probability_target(logits, target):
    """A float target of the logits' shape, as a Tensor (class probabilities, as PyTorch reads it), else None."""
    data = target.data if is_tensor(target) else target
    if not isinstance(data, np.ndarray) or data.dtype.kind != "f" or data.shape != logits.shape:
        return None
    return as_tensor("cross_entropy", target, "target")


def _class_weight(op, weight, scores):
    """The per-class weights as a (C,) array of the scores' dtype, or None. They are constants:
    no gradient flows to them (PyTorch refuses a weight that requires grad)."""
    if weight is None:
        return None
    if isinstance(weight, str):
        raise TypeError(
            f"{op}: weight must be one number per class, got {weight!r}; the third positional argument is "
            f"weight, as in PyTorch, so pass the reduction by name: reduction={weight!r}"
        )
    w = np.asarray(weight.data if is_tensor(weight) else weight)
    classes = scores.shape[0 if scores.ndim == 1 else 1]
    if w.shape != (classes,):
        raise ValueError(
            f"{op}: weight has shape {w.shape}, but the input {scores.shape} has C = {classes} classes; "
            f"give one weight per class, shape ({classes},)"
        )
    if w.dtype.kind not in "iuf":
        raise TypeError(f"{op}: weight has dtype {w.dtype}; it must hold numbers, one per class")
    return w.astype(scores.dtype, copy=False)


def _check_options(op, ignore_index, label_smoothing=0.0):
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"{op}: ignore_index must be an integer class index, got {ignore_index!r}")
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real):
        raise TypeError(f"{op}: label_smoothing must be a number in [0, 1], got {label_smoothing!r}")
    if not 0.0 <= label_smoothing <= 1.0:  # written so that nan fails too
        raise ValueError(
            f"{op}: label_smoothing must be in [0, 1] (0 is no smoothing, 1 a uniform target), got {label_smoothing}"
        )


def _target_weights(target, weight, ignore_index, dtype):
    """Per target: the class to pick (0 stands in for an ignored one), that class's weight (0 if
    ignored) and the mask of kept targets (None when none is ignored)."""
    kept = target != ignore_index
    if kept.all():
        kept, picked = None, target
    else:
        picked = np.where(kept, target, 0)
    w_t = np.ones(target.shape, dtype) if weight is None else weight[picked]
    if kept is not None:
        w_t = w_t * kept
    return picked, w_t, kept


def _rows(scores):
    """The scores as rows (M, C), classes last, so row m belongs to target.flat[m] (an array or a Tensor)."""
    if scores.ndim > 2:
        order = (0, *range(2, scores.ndim), 1)
        scores = scores.transpose(order) if isinstance(scores, np.ndarray) else scores.permute(*order)
    return scores.reshape(-1, scores.shape[-1])


def _unrows(rows, layout):
    """Rows (M, C) back into the scores' layout (inverse of ``_rows``; an array or a Tensor)."""
    if len(layout) > 2:
        shape = (layout[0],) + layout[2:] + (layout[1],)
        order = (0, len(layout) - 1, *range(1, len(layout) - 1))
        rows = rows.reshape(shape)
        return rows.transpose(order) if isinstance(rows, np.ndarray) else rows.permute(*order)
    return rows.reshape(layout)


def _loss_shape(layout):
    """The shape of the unreduced loss: the scores' shape without the class dim."""
    return layout[:1] + layout[2:] if len(layout) > 1 else ()


class _ClassLoss(Function):
    """What cross_entropy and nll_loss share: weighted, ignorable targets and the weighted mean."""

    def _targets(self, scores, target, weight, ignore_index, reduction):
        self.layout, self.reduction = scores.shape, reduction
        rows = _rows(scores)
        picked, self.w_t, self.kept = _target_weights(target, weight, ignore_index, rows.dtype)
        self.picked = (np.arange(picked.size), picked)
        self.total_weight = wide_sum(self.w_t)  # the mean's divisor: Σ w[t] over the kept targets (float16: float32)
        return rows

    def _reduce(self, losses):
        if self.kept is not None:
            losses = np.where(self.kept, losses, 0)  # an ignored target costs nothing, whatever its row holds
        with np.errstate(divide="ignore", invalid="ignore"):  # all ignored: the mean is 0/0 = nan, as PyTorch
            return _reduce(losses.reshape(_loss_shape(self.layout)), self.reduction, divisor=self.total_weight)

    def _downstream(self, grad, up):
        """The local gradient's rows (M, C) times the upstream gradient each row receives, in the scores'
        layout; ignored rows get none (not 0·∞ = nan when every target is ignored)."""
        with np.errstate(divide="ignore", invalid="ignore"):  # a zero total weight: nan, as PyTorch
            g = _spread(up, self.reduction, self.total_weight)
            grad *= g.reshape(-1, 1) if self.reduction == "none" else g
        if self.kept is not None:
            grad[~self.kept] = 0
        return _unrows(grad, self.layout)

    def _downstream_graph(self, grad, up):
        """``_downstream`` in Tensor operations: ``grad`` (M, C) a Tensor or a constant array."""
        with np.errstate(divide="ignore", invalid="ignore"):
            g = _spread(up, self.reduction, self.total_weight)
            grad = grad * (g.reshape(-1, 1) if self.reduction == "none" else g)
        if self.kept is not None:
            grad = grad * self.kept[:, None]
        return _unrows(grad, self.layout)


class CrossEntropy(_ClassLoss):
    name, symbol = "cross_entropy", "CE"
    rules = (Rule("z", "(softmax(z) − onehot(t))·dL/dloss / N"),)

    @staticmethod
    def forward(ctx, logits, target, weight, ignore_index, reduction, label_smoothing):
        rows = ctx._targets(logits, target, weight, ignore_index, reduction)
        ctx.weight, ctx.smoothing = weight, label_smoothing
        if weight is not None or label_smoothing or ctx.kept is not None or reduction != "mean":
            q = "smoothed onehot(t)" if weight is None else "weighted, smoothed onehot(t)"
            rule = f"(Σq·softmax(z) − q)·dL/dloss{_mean_divisor(ctx)}, q = {q}" if weight is not None or label_smoothing \
                else f"(softmax(z) − onehot(t))·dL/dloss{_mean_divisor(ctx)}"
            ctx.rules = (Rule("z", rule),)
        shifted = rows - rows.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        log_total = np.log(total[:, 0])
        nll = log_total - shifted[ctx.picked]  # −log softmax(z)[t] = log Σ exp − z[t]
        losses = nll if weight is None and ctx.kept is None else nll * ctx.w_t
        if label_smoothing:
            eps, classes = label_smoothing, rows.shape[1]
            log_probs = shifted - log_total[:, None]
            uniform = log_probs.sum(axis=1) if weight is None else log_probs @ weight  # Σ_c w_c·log p_c
            losses = (1 - eps) * losses - (eps / classes) * uniform
        exp /= total  # softmax, kept for backward
        ctx.save_for_backward(exp)
        return ctx._reduce(losses)

    @staticmethod
    def backward(ctx, up):
        # q = (1 − ε)·w[t]·onehot(t) + (ε/C)·w is the row's target; dL/dz = Σq·softmax − q
        (probs,) = ctx.saved_tensors
        eps, weight = ctx.smoothing, ctx.weight
        if weight is None and ctx.kept is None:
            grad = probs.copy()  # Σq = 1; the saved softmax stays intact for a second backward or a drawing
        else:
            total_q = (1 - eps) * ctx.w_t + eps * (1 if weight is None else weight.mean())  # Σ_c q[c]
            grad = probs * total_q[:, None]
        grad[ctx.picked] -= (1 - eps) * ctx.w_t
        if eps:
            grad -= (eps / probs.shape[1]) * (1 if weight is None else weight)
        return (ctx._downstream(grad, up),)

    def backward_graph(self, node, up):
        """(Σq·softmax(z) − q) with softmax(z) a gate on z, so that it can be differentiated again."""
        probs = softmax(_rows(node._inputs[0]), 1)
        eps, weight = self.smoothing, self.weight
        target = np.zeros(probs.shape, dtype=probs.dtype)  # q, a constant
        target[self.picked] = (1 - eps) * self.w_t
        if eps:
            target += (eps / probs.shape[1]) * (1 if weight is None else weight)
        if weight is None and self.kept is None:
            grad = probs - target
        else:
            total_q = (1 - eps) * self.w_t + eps * (1 if weight is None else weight.mean())
            grad = probs * total_q[:, None] - target
        return (self._downstream_graph(grad, up),)


class NLLLoss(_ClassLoss):
    name, symbol = "nll_loss", "NLL"
    rules = (Rule("a", "−onehot(t)·dL/dloss / N"),)

    @staticmethod
    def forward(ctx, log_probs, target, weight, ignore_index, reduction):
        rows = ctx._targets(log_probs, target, weight, ignore_index, reduction)
        ctx.rows_shape, ctx.dtype, ctx.weight = rows.shape, rows.dtype, weight
        ctx.rules = (Rule("a", f"{'−w[t]·' if weight is not None else '−'}onehot(t)·dL/dloss{_mean_divisor(ctx)}"),)
        return ctx._reduce(-rows[ctx.picked] * ctx.w_t)

    @staticmethod
    def backward(ctx, up):
        grad = np.zeros(ctx.rows_shape, dtype=np.result_type(ctx.dtype, up.dtype))
        grad[ctx.picked] = -ctx.w_t
        return (ctx._downstream(grad, up),)

    def backward_graph(self, node, up):
        grad = np.zeros(self.rows_shape, dtype=self.dtype)
        grad[self.picked] = -self.w_t
        return (self._downstream_graph(grad, up),)


def _mean_divisor(gate):
    """How the drawing writes the mean's divisor: N, the number of kept targets, or their total weight."""
    if gate.reduction != "mean":
        return ""
    if gate.weight is not None:
        return " / Σ w[t]"
    return " / N" if gate.kept is None else " / N kept"


def cross_entropy(logits, target, weight=None, *, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """−log softmax(logits)[target] per sample, weighted, smoothed and reduced as PyTorch does.

    logits (N, C) with target (N,), or (N, C, d1, ...) with target (N, d1, ...), or (C,) with a
    0-d target; ``target`` holds integer class indices -- or, a float tensor of the logits' own shape,
    class probabilities (``class_probs.py``: −Σ_c w[c]·q[c]·log p[c], "mean" over the samples, the
    target differentiable too). With p = softmax(z), a weight w[c] per
    class (all 1 without ``weight``) and ε = ``label_smoothing``, a sample with target t costs

        ℓ = (1 − ε)·w[t]·(−log p[t]) + (ε/C)·Σ_c w[c]·(−log p[c])

    i.e. cross-entropy against the target q = (1 − ε)·w[t]·onehot(t) + (ε/C)·w. A target equal
    to ``ignore_index`` costs 0 and gets no gradient. "mean" divides the sum by Σ w[t] over the
    kept targets (the count N when unweighted; nan when every target is ignored), "sum" and
    "none" as usual. One gate: log-softmax, the pick and the smoothing fused, stable for any
    finite logits; dL/dz = Σ_c q[c]·p − q per sample. ``weight`` is a constant (no gradient).
    """
    logits = as_tensor("cross_entropy", logits)
    _check_reduction("cross_entropy", reduction)
    _check_options("cross_entropy", ignore_index, label_smoothing)
    probs = _probability_target(logits, target)
    if probs is not None:
        if ignore_index != -100:
            raise ValueError("cross_entropy: ignore_index is not supported for class-probability targets (as in "
                             "PyTorch); give an ignored sample a zero row of probabilities instead")
        from .class_probs import cross_entropy_probs

        return cross_entropy_probs(logits, probs, weight, reduction, label_smoothing)
    w = _class_weight("cross_entropy", weight, logits.data)
    t = _class_targets("cross_entropy", logits.data, target, ignore_index)
    return CrossEntropy.apply(logits, target=t, weight=w, ignore_index=ignore_index, reduction=reduction,
                              label_smoothing=float(label_smoothing))


def nll_loss(log_probs, target, weight=None, *, ignore_index=-100, reduction="mean"):
    """−w[t]·log_probs[t] per sample, reduced (pair it with ``log_softmax(x, dim=1)``).

    Shapes, ``weight``, ``ignore_index`` and the weighted "mean" (÷ Σ w[t] over the kept
    targets) as in ``cross_entropy``.
    """
    log_probs = as_tensor("nll_loss", log_probs)
    _check_reduction("nll_loss", reduction)
    _check_options("nll_loss", ignore_index)
    w = _class_weight("nll_loss", weight, log_probs.data)
    t = _class_targets("nll_loss", log_probs.data, target, ignore_index)
    return NLLLoss.apply(log_probs, target=t, weight=w, ignore_index=ignore_index, reduction=reduction)
