"""clamp (clip): x held inside [min, max], as ``torch.clamp``: y = min(max(x, min), max).

A gate that routes: the gradient passes to x where it is inside the bounds (boundaries included) and to
a bound where that bound is the output. With number bounds only x has a gradient; with tensor bounds
(broadcast against x) each gets its share, with PyTorch's rule for a min above the max (the output is
then the max, and the max takes the gradient):

    dL/dx = [min ≤ x ≤ max] ⊙ dL/dy,   dL/dmin = [x < min < max] ⊙ dL/dy,   dL/dmax = [x > max or max < min] ⊙ dL/dy

NaN in x stays NaN and gets no gradient.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..core.elementwise_gate import Elementwise
from ..core.rules import Rule, value
from . import dtypes
from .gate import as_tensor, broadcast_shape, is_tensor


def _inside(x, lo, hi):
    v = value(x)
    if lo is None:
        return v <= hi
    return v >= lo if hi is None else (v >= lo) & (v <= hi)


class ClampNumber(Elementwise):
    """Number bounds: parameters of the gate, not inputs."""

    name, symbol = "clamp", "clamp"
    rules = (Rule("x", "[min ≤ x ≤ max]", lambda x, y, lo, hi: _inside(x, lo, hi), routes=True),)

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.params = (lo, hi)
        return np.clip(x, lo, hi)  # min(max(x, lo), hi): NaN stays NaN, and lo > hi gives hi, as PyTorch


def _v(t):
    return value(t)


BOTH = (
    Rule("x", "[min ≤ x ≤ max]", lambda x, lo, hi, y: (_v(x) >= _v(lo)) & (_v(x) <= _v(hi)), routes=True),
    Rule("min", "[x < min < max]", lambda x, lo, hi, y: (_v(x) < _v(lo)) & (_v(lo) < _v(hi)), routes=True),
    Rule("max", "[x > max or max < min]", lambda x, lo, hi, y: (_v(x) > _v(hi)) | (_v(hi) < _v(lo)), routes=True),
)
MIN_ONLY = (
    Rule("x", "[x ≥ min]", lambda x, lo, y: _v(x) >= _v(lo), routes=True),
    Rule("min", "[x < min]", lambda x, lo, y: _v(x) < _v(lo), routes=True),
)
MAX_ONLY = (
    Rule("x", "[x ≤ max]", lambda x, hi, y: _v(x) <= _v(hi), routes=True),
    Rule("max", "[x > max]", lambda x, hi, y: _v(x) > _v(hi), routes=True),
)


class ClampTensor(Elementwise):
    """Tensor bounds: inputs x, then min and/or max (whichever were given)."""

    name, symbol = "clamp", "clamp"
    rules = BOTH
    saves = "inputs"

    @staticmethod
    def forward(ctx, x, *bounds, has_min, has_max):
        ctx.rules = BOTH if has_min and has_max else MIN_ONLY if has_min else MAX_ONLY
        out = x
        if has_min:
            out = np.maximum(out, bounds[0])
        if has_max:
            out = np.minimum(out, bounds[-1])
        return out


def _number(op, what, bound):
    if bound is None or is_tensor(bound) or isinstance(bound, np.ndarray):
        return bound
    if isinstance(bound, (bool, np.bool_)) or not isinstance(bound, (numbers.Real, np.generic)):
        raise TypeError(f"{op}: {what} must be a number, a Tensor or None, got {bound!r}")
    return bound.item() if isinstance(bound, np.generic) else bound


def clamp(input, min=None, max=None):
    """Each element of ``input`` limited to [min, max] (either may be None, not both): numbers or tensors
    (broadcast against ``input``). As ``torch.clamp``: a min above the max makes every element the max."""
    op = "clamp"
    x = as_tensor(op, input)
    lo, hi = _number(op, "min", min), _number(op, "max", max)
    if lo is None and hi is None:
        raise ValueError(f"{op}: at least one of min and max must be given (not both None)")
    bounds = [b for b in (lo, hi) if b is not None]
    if all(isinstance(b, numbers.Real) for b in bounds):
        (x,) = dtypes.promoted(op, x, *bounds)[:1]
        cast = float if x.dtype.kind == "f" else int
        return ClampNumber.apply(x, lo=None if lo is None else cast(lo), hi=None if hi is None else cast(hi))
    x, *tensors = dtypes.promoted(op, x, *bounds)
    broadcast_shape(op, x.shape, *(t.shape for t in tensors))
    return ClampTensor.apply(x, *tensors, has_min=lo is not None, has_max=hi is not None)
