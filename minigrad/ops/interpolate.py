"""interpolate: resizing (N, C, ...) by nearest neighbours or (bi/tri)linear interpolation, as
``torch.nn.functional.interpolate``.

Resizing is separable: along each spatial axis, output position o reads the input at a source
coordinate s(o), and the axes are done one after the other. PyTorch's coordinates:

    nearest:                 src = min(⌊o·scale⌋, in − 1)                  (scale = in/out, or 1/scale_factor)
    linear, align_corners:   s = o·(in − 1)/(out − 1)                      (the corner pixels' centres meet)
    linear, otherwise:       s = max((o + ½)·scale − ½, 0)                 (pixel areas meet)

and linear interpolation takes y = (1 − λ)·x[i₀] + λ·x[i₁] with i₀ = ⌊s⌋, i₁ = min(i₀ + 1, in − 1),
λ = s − i₀. One gate: the backward sends each output's gradient back to the input elements it read,
with the same weights (1 for nearest; 1 − λ and λ for linear) -- adding where several outputs read one
element -- by the scatter gate, whose own gradient is reading again, so second derivatives work.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..core.function import Function
from ..core.rules import Rule
from .gate import as_tensor
from .shape import Scatter

MODES = {"nearest": None, "linear": 3, "bilinear": 4, "trilinear": 5}


def _nearest(n_in, n_out, scale):
    """PyTorch's nearest source index per output position (computed in float32, as its kernel does)."""
    if n_out == n_in:
        return np.arange(n_out)
    if n_out == 2 * n_in:
        return np.arange(n_out) // 2
    s = np.float32(1.0 / scale) if scale is not None and scale > 0 else np.float32(n_in) / np.float32(n_out)
    return np.minimum(np.floor(np.arange(n_out, dtype=np.float32) * s).astype(np.int64), n_in - 1)


def _linear(n_in, n_out, scale, align_corners, dtype):
    """(i₀, i₁, λ) per output position, in ``dtype``'s precision as PyTorch's kernel computes them."""
    o = np.arange(n_out, dtype=dtype)
    if align_corners:
        step = dtype.type(n_in - 1) / dtype.type(n_out - 1) if n_out > 1 else dtype.type(0)
        src = o * step
    else:
        step = dtype.type(1.0 / scale) if scale is not None and scale > 0 else dtype.type(n_in) / dtype.type(n_out)
        src = np.maximum(step * (o + dtype.type(0.5)) - dtype.type(0.5), dtype.type(0))
    i0 = np.minimum(src.astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = np.clip(src - i0, 0, 1).astype(dtype)
    return i0, i1, lam


class Resample(Function):
    """Reading the input along axes: ``plan`` lists (axis, i₀, i₁, λ) -- each output position along ``axis``
    reads x[i₀]·(1 − λ) + x[i₁]·λ, or just x[i₀] when λ is None. Interpolation, and padding by copies
    (``padding.py``), are such reads; the backward adds each gradient back where it was read."""

    @staticmethod
    def forward(ctx, x, plan, mode=None):
        ctx.plan, ctx.shapes = plan, []
        for axis, i0, i1, lam in plan:
            ctx.shapes.append(x.shape)
            if lam is None:
                x = np.take(x, i0, axis=axis)
            else:
                w = lam.reshape((-1,) + (1,) * (x.ndim - axis - 1))
                lo, hi = np.take(x, i0, axis=axis), np.take(x, i1, axis=axis)
                x = lo * (1 - w) + hi * w
        return x

    @staticmethod
    def backward(ctx, up):
        g = up
        for (axis, i0, i1, lam), shape in zip(reversed(ctx.plan), reversed(ctx.shapes)):
            out = np.zeros(shape, g.dtype)
            where = (slice(None),) * axis
            if lam is None:
                np.add.at(out, where + (i0,), g)
            else:
                w = lam.reshape((-1,) + (1,) * (g.ndim - axis - 1))
                np.add.at(out, where + (i0,), g * (1 - w))
                np.add.at(out, where + (i1,), g * w)
            g = out
        return (g,)

    def backward_graph(self, node, up):
        g = up
        for (axis, i0, i1, lam), shape in zip(reversed(self.plan), reversed(self.shapes)):
            where = (slice(None),) * axis
            if lam is None:
                g = Scatter.apply(g, shape=shape, index=where + (i0,))
            else:
                w = lam.reshape((-1,) + (1,) * (g.ndim - axis - 1))
                g = Scatter.apply(g * (1 - w), shape=shape, index=where + (i0,)) + Scatter.apply(
                    g * w, shape=shape, index=where + (i1,))
        return (g,)


class Interpolate(Resample):
    name, symbol = "interpolate", "resize"
    rules = (Rule("x", "each output's dL/dy sent back to the input elements it read, with their weights"),)


def _per_axis(op, what, value, n, kind):
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise ValueError(f"{op}: {what} must have one entry per spatial dimension ({n}), got {tuple(value)}")
        values = tuple(value)
    else:
        values = (value,) * n
    for v in values:
        if isinstance(v, bool) or not isinstance(v, kind) or not v > 0:
            raise ValueError(f"{op}: {what} must be positive {'ints' if kind is numbers.Integral else 'numbers'}, "
                             f"got {value!r}")
    return values


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    """Resize the spatial dims of ``input`` (N, C, L), (N, C, H, W) or (N, C, D, H, W) to ``size`` or by
    ``scale_factor`` (one of them), as ``torch.nn.functional.interpolate``: ``mode`` "nearest" (any of the
    three), "linear" (3-D), "bilinear" (4-D) or "trilinear" (5-D), ``align_corners`` for the linear modes.
    The output size is ⌊in·scale_factor⌋; coordinates use 1/scale_factor unless ``recompute_scale_factor``."""
    op = "interpolate"
    x = as_tensor(op, input)
    if mode not in MODES:
        raise ValueError(f"{op}: mode {mode!r} is not supported; use one of {', '.join(map(repr, MODES))}")
    if x.ndim not in (3, 4, 5):
        raise ValueError(f"{op}: expected a 3-D, 4-D or 5-D input (N, C, ...), got shape {x.shape}")
    if MODES[mode] is not None and x.ndim != MODES[mode]:
        raise ValueError(f"{op}: mode {mode!r} needs a {MODES[mode]}-D input, got {x.ndim}-D {x.shape}; "
                         f"use {({3: 'linear', 4: 'bilinear', 5: 'trilinear'})[x.ndim]!r} for this one")
    if mode == "nearest" and align_corners is not None:
        raise ValueError(f"{op}: align_corners option can only be set with the interpolating modes: linear | "
                         f"bilinear | trilinear (PyTorch's rule)")
    if antialias:
        raise ValueError(f"{op}: antialias=True is not supported")
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: give exactly one of size and scale_factor")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: the input must be floating point, got {x.dtype}")
    n = x.ndim - 2
    spatial = x.shape[2:]
    if size is not None:
        out, scales = _per_axis(op, "size", size, n, numbers.Integral), (None,) * n
    else:
        scales = tuple(float(s) for s in _per_axis(op, "scale_factor", scale_factor, n, numbers.Real))
        out = tuple(int(math.floor(d * s)) for d, s in zip(spatial, scales))
        if recompute_scale_factor:
            scales = (None,) * n
        if min(out) < 1:
            raise ValueError(f"{op}: scale_factor {scale_factor} makes the output {out} from {spatial}; it must be ≥ 1")
    plan = []
    for k, (d, o, s) in enumerate(zip(spatial, out, scales)):
        if mode == "nearest":
            plan.append((k + 2, _nearest(d, o, s), None, None))
        else:
            plan.append((k + 2, *_linear(d, o, s, bool(align_corners), x.dtype)))
    return Interpolate.apply(x, plan=tuple(plan), mode=mode)
