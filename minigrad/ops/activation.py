"""Activations as functions (``torch.nn.functional`` names): relu, sigmoid, tanh, leaky_relu, softmax, log_softmax.

relu, sigmoid and tanh are the Tensor methods' gates (``ops/elementwise.py``). leaky_relu is the
relu gate with a slope instead of a zero. softmax and log_softmax are each one gate with an
analytic backward, not a chain of exp/sum/div gates: with s = softmax(x) along ``dim``,

    softmax:      dL/dx = s ⊙ (g − Σ g⊙s)         (the Jacobian diag(s) − s·sᵀ, applied to g)
    log_softmax:  dL/dx = g − s · Σ g

where g is the upstream gradient and Σ sums along ``dim``. Both subtract the maximum before
exponentiating, so logits of ±1000 stay finite.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..core.elementwise_gate import Elementwise
from ..core.function import Function
from ..core.rules import Rule, value
from . import dims
from .gate import as_tensor


def class_axis(op, dim, ndim):
    """``dim`` as a non-negative axis of an ``ndim``-dimensional tensor, or a clear error."""
    if ndim == 0 and dims._is_int(dim):
        raise ValueError(f"{op}: needs a tensor with at least 1 dimension, got a 0-d one; reshape it first")
    return dims.axis(op, dim, ndim)


class LeakyRelu(Elementwise):
    name, symbol = "leaky_relu", "lrelu"
    rules = (Rule("x", "[x > 0] + negative_slope·[x ≤ 0]",
                  lambda x, y, slope: np.where(value(x) > 0, np.ones((), x.dtype), np.asarray(slope, x.dtype))),)

    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.params = (negative_slope,)
        return np.where(x > 0, x, x * negative_slope).astype(x.dtype, copy=False)


class Softmax(Function):
    name, symbol = "softmax", "softmax"
    rules = (Rule("x", "s ⊙ (dL/ds − Σ dL/ds ⊙ s), Σ along dim"),)  # s = softmax(x), the output

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        if x.shape[dim] == 0:  # nothing to normalise over: the empty result, as PyTorch
            ctx.save_for_backward(x)
            return x.copy()
        # softmax(x) = softmax(x − max): the shift keeps exp from overflowing
        s = np.exp(x - x.max(axis=dim, keepdims=True))
        s /= s.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, up):
        (s,) = ctx.saved_tensors
        return (s * (up - (up * s).sum(axis=ctx.dim, keepdims=True)),)

    def backward_graph(self, node, up):
        s = node  # the output: its own gate carries the dependence on x
        return (s * (up - (up * s).sum(dim=self.dim, keepdim=True)),)


class LogSoftmax(Function):
    name, symbol = "log_softmax", "logsoftmax"
    rules = (Rule("x", "dL/dy − softmax(x) · Σ dL/dy, Σ along dim"),)

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        if x.shape[dim] == 0:  # the empty result, as PyTorch
            ctx.save_for_backward(x)
            return x.copy()
        shifted = x - x.max(axis=dim, keepdims=True)
        # log Σ exp(shifted) ≥ 0 since the largest term is exp(0) = 1: no log(0), no overflow
        out = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, up):
        (out,) = ctx.saved_tensors
        return (up - np.exp(out) * up.sum(axis=ctx.dim, keepdims=True),)

    def backward_graph(self, node, up):
        return (up - node.exp() * up.sum(dim=self.dim, keepdim=True),)

# -- the functions (torch.nn.functional names and defaults) --


def relu(x):
    """max(x, 0) elementwise: the relu gate routes the gradient where x > 0."""
    return as_tensor("relu", x).relu()


def sigmoid(x):
    """σ(x) = 1 / (1 + e⁻ˣ); local gradient σ(x)(1 − σ(x))."""
    return as_tensor("sigmoid", x).sigmoid()


def tanh(x):
    """tanh(x); local gradient 1 − tanh²(x)."""
    return as_tensor("tanh", x).tanh()


def leaky_relu(x, negative_slope=0.01):
    """x where x > 0, else negative_slope·x (as ``torch.nn.functional.leaky_relu``; at 0 the slope applies)."""
    x = as_tensor("leaky_relu", x)
    if not isinstance(negative_slope, numbers.Real):
        raise TypeError(f"leaky_relu: negative_slope must be a number, got {type(negative_slope).__name__}")
    return LeakyRelu.apply(x, negative_slope=float(negative_slope))


def softmax(x, dim):
    """exp(x) / Σ exp(x) along ``dim`` (stable: computed as exp(x − max))."""
    x = as_tensor("softmax", x)
    return Softmax.apply(x, dim=class_axis("softmax", dim, x.ndim))


def log_softmax(x, dim):
    """x − log Σ exp(x) along ``dim``, computed as (x − max) − log Σ exp(x − max) so it never overflows."""
    x = as_tensor("log_softmax", x)
    return LogSoftmax.apply(x, dim=class_axis("log_softmax", dim, x.ndim))
