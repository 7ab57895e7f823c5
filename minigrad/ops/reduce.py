"""Reductions over ``dim`` (an int, a tuple, or None for all), with ``keepdim`` as in PyTorch.

Backward broadcasts the upstream gradient back over the reduced axes: every input element
that fed a sum gets its gradient (add distributes); a mean divides it by the count; a max
routes it to the maximal elements (ties split evenly, like ``torch.amax``).
"""
from __future__ import annotations

import math

import numpy as np

from ..core.function import Function
from ..core.rules import Rule
from . import dims
from .shape import expand


class _Reduction(Function):
    """Common bookkeeping: the reduced axes and how to spread an upstream gradient back over them."""

    def setup(self, a, dim, keepdim):
        self.shape = a.shape
        self.axes = dims.axes(self.name, dim, a.ndim)
        self.keepdim = keepdim
        self.count = math.prod([a.shape[i] for i in self.axes])

    def spread(self, up):
        """The upstream gradient with the reduced axes put back (size 1), ready to broadcast (array or Tensor)."""
        if self.keepdim:
            return up
        if isinstance(up, np.ndarray):
            return np.expand_dims(up, self.axes)
        return up.reshape(tuple(1 if i in self.axes else n for i, n in enumerate(self.shape)))


class Sum(_Reduction):
    name, symbol = "sum", "Σ"
    rules = (Rule("x", "dL/dy broadcast over the summed axes"),)
    pattern = "gradient distributor"

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        ctx.setup(a, dim, keepdim)
        return a.sum(axis=ctx.axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, up):
        return (np.broadcast_to(ctx.spread(up), ctx.shape),)

    def backward_graph(self, node, up):
        return (expand(self.spread(up), self.shape),)


class Mean(_Reduction):
    name, symbol = "mean", "mean"
    rules = (Rule("x", "dL/dy / N broadcast over the averaged axes"),)

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        ctx.setup(a, dim, keepdim)
        return a.mean(axis=ctx.axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, up):
        # 1/N in float64, the product cast back: in float16, N past 65,504 would be inf and the gradient 0
        share = (ctx.spread(up) * (np.float64(1.0) / ctx.count)).astype(up.dtype, copy=False)
        return (np.broadcast_to(share, ctx.shape),)

    def backward_graph(self, node, up):
        return (expand(self.spread(up) * (1.0 / self.count), self.shape),)


class Var(_Reduction):
    name, symbol = "var", "var"
    rules = (Rule("x", "2(x − mean)/(N − ddof) ⊙ dL/dy broadcast over the reduced axes"),)

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False, unbiased=False):
        ctx.setup(a, dim, keepdim)
        ctx.ddof = 1 if unbiased else 0
        centered = a - a.mean(axis=ctx.axes, keepdims=True)
        ctx.save_for_backward(centered)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (centered * centered).sum(axis=ctx.axes, keepdims=keepdim) / (ctx.count - ctx.ddof)

    def _local(self):
        (centered,) = self.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):  # N = ddof (one element, unbiased): nan, as PyTorch
            return (centered * (np.float64(2.0) / (self.count - self.ddof))).astype(centered.dtype, copy=False)

    @staticmethod
    def backward(ctx, up):
        return (ctx.spread(up) * ctx._local(),)

    def backward_graph(self, node, up):
        x = node._inputs[0]
        centered = x - x.mean(dim=self.axes, keepdim=True)
        return (self.spread(up) * centered * (2.0 / (self.count - self.ddof)),)


class Max(_Reduction):
    name, symbol = "max", "max"
    rules = (Rule("x", "dL/dy at the maximal elements (split evenly on ties), 0 elsewhere"),)
    pattern = "gradient router"

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        ctx.setup(a, dim, keepdim)
        if a.size == 0:
            raise ValueError(f"max: cannot take the max of an empty tensor of shape {a.shape}")
        out = a.max(axis=ctx.axes, keepdims=True)
        hits = a == out
        ctx.save_for_backward(hits / hits.sum(axis=ctx.axes, keepdims=True, dtype=a.dtype))
        return out if keepdim else np.squeeze(out, axis=ctx.axes)

    @staticmethod
    def backward(ctx, up):
        return (ctx.spread(up) * ctx.saved_tensors[0],)

    def backward_graph(self, node, up):
        return (self.spread(up) * self.saved_tensors[0],)  # which elements win is a constant choice
