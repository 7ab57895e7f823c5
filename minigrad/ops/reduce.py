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


def normalize_dims(name, dim, ndim):
    """``dim`` as a sorted tuple of non-negative axes, or a clear error."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int) and -ndim <= dim < ndim:
        return (dim % ndim,)
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = []
    for d in dims:
        if not isinstance(d, (int, np.integer)):
            raise TypeError(f"{name}: dim must be an int or a tuple of ints, got {dim!r}")
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"{name}: dim {d} is out of range for a tensor with {ndim} dimensions")
        out.append(int(d) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: dim {dim!r} names the same axis twice")
    return tuple(sorted(out)) if ndim else ()


class _Reduction(Function):
    """Common bookkeeping: the reduced axes and how to spread an upstream gradient back over them."""

    def setup(self, a, dim, keepdim):
        self.shape = a.shape
        self.axes = normalize_dims(self.name, dim, a.ndim)
        self.keepdim = keepdim
        self.count = math.prod([a.shape[i] for i in self.axes])

    def spread(self, up):
        """The upstream gradient with the reduced axes put back (size 1), ready to broadcast."""
        return up if self.keepdim else np.expand_dims(up, self.axes)


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


class Mean(_Reduction):
    name, symbol = "mean", "mean"
    rules = (Rule("x", "dL/dy / N broadcast over the averaged axes"),)

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        ctx.setup(a, dim, keepdim)
        return a.mean(axis=ctx.axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, up):
        return (np.broadcast_to(ctx.spread(up) / ctx.count, ctx.shape),)


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
        return centered * (2.0 / (self.count - self.ddof))

    @staticmethod
    def backward(ctx, up):
        return (ctx.spread(up) * ctx._local(),)


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
