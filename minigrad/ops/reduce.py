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
from ..core import dims
from . import dtypes
from .accumulate import wide_sum
from .gate import as_tensor
from .shape import expand


class _Reduction(Function):
    """Common bookkeeping: the reduced axes and how to spread an upstream gradient back over them."""

    def setup(self, a, dim, keepdim):
        self.shape = shape = a.shape
        if dim is None:  # every axis: the common case, without the checks
            self.axes, self.count = tuple(range(len(shape))), a.size
        else:
            self.axes = dims.axes(self.name, dim, len(shape))
            self.count = math.prod([shape[i] for i in self.axes])
        self.keepdim = keepdim

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
        if a.dtype == np.float16:  # summed in float32, as PyTorch (float16's own sum drifts by many ulps)
            return a.sum(ctx.axes, np.float32, None, keepdim).astype(a.dtype)
        count_in = None if a.dtype.kind == "f" else dtypes.accumulator(a.dtype)  # integers and bools: int64
        return a.sum(ctx.axes, count_in, None, keepdim)  # positional: numpy's keyword path is slower (bench/README.md)

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
        if a.dtype.kind != "f":
            dtypes.require_float("mean", a.dtype)
        ctx.setup(a, dim, keepdim)
        return a.mean(ctx.axes, None, None, keepdim)

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
    def forward(ctx, a, dim=None, keepdim=False, unbiased=False, correction=None):
        dtypes.require_float(ctx.name, a.dtype)
        ctx.setup(a, dim, keepdim)
        ctx.ddof = (1 if unbiased else 0) if correction is None else correction
        centered = a - a.mean(axis=ctx.axes, keepdims=True)
        # the corrected two-pass algorithm: the rounding error of the mean taken out again, so a constant row
        # is exactly 0 from its mean (var 0, std's gradient 0, as PyTorch), not a tiny constant −ε
        centered -= centered.mean(axis=ctx.axes, keepdims=True)
        ctx.save_for_backward(centered)
        with np.errstate(divide="ignore", invalid="ignore"):  # float16 squares summed in float32, as PyTorch
            squares = wide_sum(centered * centered, ctx.axes, keepdim)
            return (squares / max(ctx.count - ctx.ddof, 0)).astype(a.dtype, copy=False)

    def _local(self):
        centered = self.saved_tensors[0]
        with np.errstate(divide="ignore", invalid="ignore"):  # N = ddof (one element, unbiased): nan, as PyTorch
            return (centered * (np.float64(2.0) / max(self.count - self.ddof, 0))).astype(centered.dtype, copy=False)

    @staticmethod
    def backward(ctx, up):
        return (ctx.spread(up) * ctx._local(),)

    def backward_graph(self, node, up):
        x = node._inputs[0]
        centered = x - x.mean(dim=self.axes, keepdim=True)
        with np.errstate(divide="ignore"):
            scale = np.float64(2.0) / max(self.count - self.ddof, 0)
        return (self.spread(up) * centered * float(scale),)


class Std(Var):
    """σ = √var in one gate, so that its gradient can be 0 where σ = 0 (a constant row), as PyTorch's: through
    the sqrt alone it would be ∞ · 0 = nan there. dL/dvar = dL/dσ / (2σ), then var's rule."""

    name, symbol = "std", "σ"
    rules = (Rule("x", "(x − mean)/((N − ddof)·σ) ⊙ dL/dy broadcast over the reduced axes; 0 where σ = 0"),)

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False, unbiased=True, correction=None):
        var = Var.forward(ctx, a, dim, keepdim, unbiased, correction)
        with np.errstate(invalid="ignore"):
            out = np.sqrt(var)
        ctx.save_for_backward(ctx.saved[0], out)
        return out

    @staticmethod
    def backward(ctx, up):
        out = ctx.saved_tensors[1]
        with np.errstate(divide="ignore", invalid="ignore"):
            up_var = np.where(out == 0, np.zeros((), up.dtype), up / (2 * out))
        return Var.backward(ctx, up_var)

    def backward_graph(self, node, up):
        from .elementwise import where

        zero = self.saved_tensors[1] == 0  # which rows are constant is a constant choice, as PyTorch's masked_fill
        with np.errstate(divide="ignore", invalid="ignore"):
            up_var = where(zero, 0.0, up / (node * 2.0))
        return Var.backward_graph(self, node, up_var)


class _Extremum(_Reduction):
    """max and min over ``dim``: the gradient goes to the extremal elements, split evenly on a tie
    (``torch.amax``/``torch.amin``, and ``torch.max()``/``torch.min()`` of a whole tensor)."""

    pattern = "gradient router"
    pick = None

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        ctx.setup(a, dim, keepdim)
        if a.size == 0:
            raise ValueError(f"{ctx.name}: cannot take the {ctx.name} of an empty tensor of shape {a.shape}")
        out = type(ctx).pick(a, axis=ctx.axes, keepdims=True)
        hits = a == out
        ctx.save_for_backward(hits / hits.sum(axis=ctx.axes, keepdims=True, dtype=a.dtype))
        return out if keepdim else np.squeeze(out, axis=ctx.axes)

    @staticmethod
    def backward(ctx, up):
        return (ctx.spread(up) * ctx.saved_tensors[0],)

    def backward_graph(self, node, up):
        return (self.spread(up) * self.saved_tensors[0],)  # which elements win is a constant choice


class Max(_Extremum):
    name, symbol = "max", "max"
    rules = (Rule("x", "dL/dy at the maximal elements (split evenly on ties), 0 elsewhere"),)
    pick = staticmethod(np.max)


class Min(_Extremum):
    name, symbol = "min", "min"
    rules = (Rule("x", "dL/dy at the minimal elements (split evenly on ties), 0 elsewhere"),)
    pick = staticmethod(np.min)


class LogSumExp(_Reduction):
    """y = log Σ exp(x) = m + log Σ exp(x − m) with m the maximum (so nothing overflows);
    dL/dx = exp(x − y) ⊙ dL/dy = softmax(x) ⊙ dL/dy."""

    name, symbol = "logsumexp", "LSE"
    rules = (Rule("x", "softmax(x) ⊙ dL/dy = exp(x − y) ⊙ dL/dy, broadcast over the reduced axes"),)

    @staticmethod
    def forward(ctx, a, dim, keepdim=False):
        ctx.setup(a, dim, keepdim)
        m = a.max(axis=ctx.axes, keepdims=True) if a.size else np.zeros((1,) * a.ndim, a.dtype)
        m = np.where(np.isfinite(m), m, np.zeros((), a.dtype))  # all −inf (or an inf): no inf − inf
        with np.errstate(divide="ignore"):
            out = np.log(np.exp(a - m).sum(axis=ctx.axes, keepdims=True)) + m
        ctx.save_for_backward(a, out)
        return out if keepdim else np.squeeze(out, axis=ctx.axes)

    @staticmethod
    def backward(ctx, up):
        a, out = ctx.saved_tensors
        with np.errstate(invalid="ignore"):
            return (np.exp(a - out) * ctx.spread(up),)

    def backward_graph(self, node, up):
        x = node._inputs[0]
        return ((x - self.spread(node)).exp() * self.spread(up),)  # y is a gate on x: its dependence counts


class Prod(_Reduction):
    """y = Π x over ``dim``; dL/dx_i = (Π_{j≠i} x_j) ⊙ dL/dy: y/x_i when no element is 0, else the
    product of the others, computed without dividing (PyTorch's rule, so a zero gets a gradient)."""

    name, symbol = "prod", "Π"
    rules = (Rule("x", "(Π of the other elements) ⊙ dL/dy (= y/x without zeros)"),)

    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        ctx.setup(a, dim, keepdim)
        out = a.prod(axis=ctx.axes, keepdims=True, dtype=dtypes.accumulator(a.dtype))
        ctx.save_for_backward(a, out)
        return out if keepdim else np.squeeze(out, axis=ctx.axes)

    @staticmethod
    def backward(ctx, up):
        a, out = ctx.saved_tensors
        if (a != 0).all():
            return (ctx.spread(up) * (out / a),)
        return (ctx.spread(up) * _others(a, ctx.axes),)

    def backward_graph(self, node, up):
        x = node._inputs[0]
        if (x.data != 0).all():
            return (self.spread(up) * self.spread(node) / x,)
        return (self.spread(up) * _others_graph(x, self.axes),)


def _last(shape, axes):
    """The permutation that moves ``axes`` to the end, and the shape with them merged into one."""
    rest = [i for i in range(len(shape)) if i not in axes]
    order = rest + list(axes)
    return order, tuple(shape[i] for i in rest) + (math.prod(shape[i] for i in axes),)


def _others(a, axes):
    """For each element, the product of the other elements of its reduced slice (exclusive products: no division)."""
    order, merged = _last(a.shape, axes)
    b = a.transpose(order).reshape(merged)
    ones = np.ones(merged[:-1] + (1,), a.dtype)
    left = np.concatenate([ones, np.cumprod(b[..., :-1], axis=-1)], axis=-1)
    right = np.concatenate([np.cumprod(b[..., :0:-1], axis=-1)[..., ::-1], ones], axis=-1)
    others = (left * right).reshape([a.shape[i] for i in order])
    return others.transpose(np.argsort(order))


def _others_graph(x, axes):
    """``_others`` in Tensor operations (create_graph with zeros): for each i, Π over the slice with x_i made 1."""
    from .elementwise import where

    order, merged = _last(x.shape, axes)
    n = merged[-1]
    b = x.permute(*order).reshape(merged).unsqueeze(-2)        # (..., 1, n)
    rows = where(np.eye(n, dtype=bool), 1.0, expand(b, merged[:-1] + (n, n)))
    others = rows.prod(dim=-1).reshape(tuple(x.shape[i] for i in order))
    return others.permute(*[int(i) for i in np.argsort(order)])


# -- the functions Tensor's methods call (dim arguments as PyTorch's) --


def std(x, dim=None, unbiased=True, keepdim=False, *, correction=None):
    """√var: the standard deviation over ``dim``, unbiased (N − 1) by default as ``torch.std``; ``correction``
    (PyTorch's newer keyword) is the number subtracted from N. One gate (``Std``): its gradient is 0 where σ is 0."""
    x = as_tensor("std", x)
    return Std.apply(x, dim=dim, keepdim=keepdim, unbiased=bool(unbiased), correction=correction)


def amax(x, dim=(), keepdim=False):
    """Maxima over ``dim`` (all of them by default), a tie splitting the gradient evenly (``torch.amax``)."""
    x = as_tensor("amax", x)
    dims.axes("amax", dim, x.ndim)
    return Max.apply(x, dim=dim, keepdim=keepdim)


def amin(x, dim=(), keepdim=False):
    """Minima over ``dim``, as ``amax``."""
    x = as_tensor("amin", x)
    dims.axes("amin", dim, x.ndim)
    return Min.apply(x, dim=dim, keepdim=keepdim)


def logsumexp(x, dim, keepdim=False):
    """log Σ exp(x) over ``dim`` (required, as in PyTorch), stable for any finite x; integers give float32."""
    x = as_tensor("logsumexp", x)
    if x.dtype.kind != "f":
        x = x.astype(np.float32)
    return LogSumExp.apply(x, dim=dim, keepdim=keepdim)


def prod(x, dim=None, keepdim=False):
    """Π over ``dim``: one int, or None for every element (as ``torch.prod``)."""
    x = as_tensor("prod", x)
    if dim is not None and not dims._is_int(dim):
        raise TypeError(f"prod: dim must be an int or None (as torch.prod), got {dim!r}; reduce one dim at a time")
    return Prod.apply(x, dim=dim, keepdim=keepdim)


def arg_extremum(op, x, dim=None, keepdim=False):
    """argmax / argmin: indices of the first maximum / minimum (an int64 tensor outside the graph); without
    ``dim``, of the flattened tensor (with ``keepdim``, in a shape of ones, as PyTorch). ``mg.argmax(x)``,
    ``x.argmax()``; recorded as a gate only while ``mg.onnx.export`` traces (``ops/compare.py``)."""
    from .compare import arg_extremum as traced

    x = as_tensor(op, x)
    if x.data.size == 0:
        raise ValueError(f"{op}: cannot take the {op} of an empty tensor of shape {x.shape}")
    return traced(op, x, None if dim is None else dims.axis(op, dim, x.ndim), keepdim)


def argmax(input, dim=None, keepdim=False):
    """Indices of the maxima (as ``torch.argmax``): int64, the first on a tie; without ``dim``, of the flattened
    tensor."""
    return arg_extremum("argmax", input, dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    """Indices of the minima (as ``torch.argmin``), as :func:`argmax`."""
    return arg_extremum("argmin", input, dim, keepdim)
