"""Convolution variants: locally connected, tiled and transform-invariant convolution.

All three slide a kH×kW window over the zero-padded input Xp exactly as conv2d does (same stride,
padding and output size o = ⌊(d + 2p − k)/s⌋ + 1); they differ in *which* filter each window meets.
With win[n, r, q] the window (C, kH, kW) under output position (r, q):

    conv2d          O[n, o, r, q] = b[o]          + Σ_{c,i,j} W[o, c, i, j]              · Xp[n, c, s·r + i, s·q + j]
    local_conv2d    O[n, o, r, q] = b[o, r, q]    + Σ_{c,i,j} W[r, q, o, c, i, j]        · Xp[n, c, s·r + i, s·q + j]
    tiled_conv2d    O[n, o, r, q] = b[o, r%t, q%t] + Σ_{c,i,j} W[r%t, q%t, o, c, i, j]   · Xp[n, c, s·r + i, s·q + j]
    transform-inv.  O[n, o, r, q] = b[o] + max_{g ∈ G} conv2d(X, g·W)[n, o, r, q]

* **Locally connected**: every output position has its own filter, so nothing is shared; the
  parameters are oh·ow times conv2d's. Gradients stay per position: dL/dW[r, q] = Σ_n dL/dO[n, :, r, q]ᵀ·win[n, r, q].
* **Tiled**: t×t filters rotate through the output positions, position (r, q) using filter
  (r mod t, q mod t): neighbours differ as in a locally connected layer, the parameters grow only by t².
  dL/dW[a, b] sums the per-position gradients over the positions that use filter (a, b) (weight sharing adds).
* **Transform-invariant**: one filter W is applied in every transformed version g·W (rotations by 90°,
  mirror images) and the responses are max-pooled over g. Built from existing gates (index, permute,
  stack, conv2d, max): the transforms only permute W's entries, so backward routes each gradient back
  to the entry it came from and the shared filter receives the sum over its transformed copies.

In both gates, dL/dX adds each window's gradient dL/dwin = dL/dO·W back where the window was read
(one strided add per kernel tap, kH·kW adds): the adjoint of cutting the windows out.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..core.function import Function, HigherOrderError
from ..core.rules import Rule
from . import window
from .conv import check_4d, conv2d
from .gate import is_tensor


class _Windows:
    """Where the windows of one convolution sit: the padded input viewed as (N, oh, ow, C, kH, kW)."""

    def __init__(self, size, kernel, stride, padding):
        (self.H, self.W), (self.kh, self.kw), (self.sh, self.sw) = size, kernel, stride
        ((self.top, bottom), (self.left, right)) = padding
        self.Hp, self.Wp = self.H + self.top + bottom, self.W + self.left + right
        self.oh, self.ow = window.out_size(size, kernel, stride, padding)

    def pad(self, x, dtype):
        xp = np.zeros(x.shape[:2] + (self.Hp, self.Wp), dtype)
        xp[:, :, self.top : self.top + self.H, self.left : self.left + self.W] = x
        return xp

    def view(self, xp):
        """win[n, r, q, c, i, j] = Xp[n, c, s·r + i, s·q + j], a read-only view (nothing is copied)."""
        N, C = xp.shape[:2]
        sn, sc, sy, sx = xp.strides
        return as_strided(xp, shape=(N, self.oh, self.ow, C, self.kh, self.kw),
                          strides=(sn, self.sh * sy, self.sw * sx, sc, sy, sx), writeable=False)

    def add_back(self, dwin, shape):
        """The adjoint of ``view``: each window's gradient (N, oh, ow, C, kH, kW) added where it was read; dL/dX."""
        dxp = np.zeros(shape[:2] + (self.Hp, self.Wp), dwin.dtype)
        rows, cols = self.sh * (self.oh - 1) + 1, self.sw * (self.ow - 1) + 1
        for i in range(self.kh):
            for j in range(self.kw):
                dxp[:, :, i : i + rows : self.sh, j : j + cols : self.sw] += dwin[..., i, j].transpose(0, 3, 1, 2)
        return dxp[:, :, self.top : self.top + self.H, self.left : self.left + self.W]


class _NoSecondDerivative:
    def backward_graph(self, node, up):
        raise HigherOrderError(
            f"{self.name}: second derivatives (create_graph=True) are not supported for this gate; use conv2d, or "
            f"backward() without create_graph"
        )


class LocalConv2d(_NoSecondDerivative, Function):
    """Backward skips a first layer's dL/dX (``needs_input_grad``): the add-back nobody uses."""

    name, symbol = "local_conv2d", "local"
    rules = (
        Rule("X", "each window's dL/dO[:,:,r,q]·W[r,q] added back where it was read"),
        Rule("W[r,q]", "dL/dO[:,:,r,q]ᵀ·win[r,q] (one filter per position, nothing summed over positions)"),
        Rule("b", "Σ_n dL/dO"),
    )

    @staticmethod
    def forward(ctx, x, w, *bias, windows):
        geo = ctx.geo = windows
        dtype = np.result_type(x, w, *bias)
        xp = geo.pad(x, dtype)
        cols = ctx._columns(xp)                                       # (P, N, K), P = oh·ow, K = C·kH·kW
        out = np.matmul(cols, ctx._filters(w).transpose(0, 2, 1))     # (P, N, O): one GEMM per position
        out = out.reshape(geo.oh, geo.ow, x.shape[0], -1).transpose(2, 3, 0, 1)
        if bias:
            out = out + bias[0]
        ctx.save_for_backward(w, xp)
        return np.ascontiguousarray(out)

    def _columns(self, xp):
        win = self.geo.view(xp)
        return np.ascontiguousarray(win.transpose(1, 2, 0, 3, 4, 5)).reshape(self.geo.oh * self.geo.ow, xp.shape[0], -1)

    def _filters(self, w):
        return w.reshape(w.shape[0] * w.shape[1], w.shape[2], -1)    # (P, O, K)

    @staticmethod
    def backward(ctx, up):
        w, xp = ctx.saved_tensors
        geo, needs = ctx.geo, ctx.needs_input_grad
        N, O = up.shape[:2]
        u = np.ascontiguousarray(up.transpose(2, 3, 0, 1)).reshape(geo.oh * geo.ow, N, O)   # (P, N, O)
        dx = dw = db = None
        if needs[1]:
            dw = np.matmul(u.transpose(0, 2, 1), ctx._columns(xp)).reshape(w.shape)
        if needs[0]:
            dcols = np.matmul(u, ctx._filters(w)).reshape(geo.oh, geo.ow, N, *w.shape[3:])
            dx = geo.add_back(dcols.transpose(2, 0, 1, 3, 4, 5), xp.shape)
        if len(needs) > 2 and needs[2]:
            db = up.sum(axis=0)
        return (dx, dw, db)[: len(needs)]


class TiledConv2d(_NoSecondDerivative, Function):
    name, symbol = "tiled_conv2d", "tiled"
    rules = (
        Rule("X", "each window's dL/dO·W[r%t,q%t] added back where it was read"),
        Rule("W[a,b]", "Σ over positions (r,q) ≡ (a,b) mod t of dL/dO[:,:,r,q]ᵀ·win[r,q] (shared filters add)"),
        Rule("b[:,a,b]", "Σ dL/dO over those positions"),
    )

    @staticmethod
    def forward(ctx, x, w, *bias, windows):
        geo = ctx.geo = windows
        dtype = np.result_type(x, w, *bias)
        xp = geo.pad(x, dtype)
        win = geo.view(xp)
        N, O = x.shape[0], w.shape[2]
        out = np.empty((N, O, geo.oh, geo.ow), dtype)
        for a, b, at in ctx._tiles(w):
            cols = win[:, at[0], at[1]]                                   # (N, ma, mb, C, kH, kW): filter (a, b)'s windows
            z = cols.reshape(-1, w[a, b, 0].size) @ w[a, b].reshape(O, -1).T
            out[:, :, at[0], at[1]] = z.reshape(cols.shape[:3] + (O,)).transpose(0, 3, 1, 2)
        if bias:
            out += ctx._bias_map(bias[0])
        ctx.save_for_backward(w, xp)
        return out

    def _tiles(self, w):
        """(a, b, where): filter (a, b) serves the output positions rows a::th, columns b::tw (skipped if none)."""
        th, tw = w.shape[:2]
        for a in range(min(th, self.geo.oh)):
            for b in range(min(tw, self.geo.ow)):
                yield a, b, (slice(a, None, th), slice(b, None, tw))

    def _bias_map(self, b):
        """b (O, th, tw) laid over the output: position (r, q) gets b[:, r % th, q % tw]."""
        th, tw = b.shape[1:]
        return b[:, np.arange(self.geo.oh)[:, None] % th, np.arange(self.geo.ow)[None, :] % tw]

    @staticmethod
    def backward(ctx, up):
        w, xp = ctx.saved_tensors
        geo, needs = ctx.geo, ctx.needs_input_grad
        win = geo.view(xp)
        O = w.shape[2]
        dw = np.zeros(w.shape, up.dtype) if needs[1] else None
        dwin = np.empty(win.shape, up.dtype) if needs[0] else None
        db = np.zeros((O,) + w.shape[:2], up.dtype) if len(needs) > 2 and needs[2] else None
        for a, b, at in ctx._tiles(w):
            u = up[:, :, at[0], at[1]]                                    # (N, O, ma, mb)
            flat_u = u.transpose(0, 2, 3, 1).reshape(-1, O)
            if needs[1]:
                dw[a, b] = (flat_u.T @ win[:, at[0], at[1]].reshape(flat_u.shape[0], -1)).reshape(w.shape[2:])
            if needs[0]:
                dwin[:, at[0], at[1]] = (flat_u @ w[a, b].reshape(O, -1)).reshape(dwin[:, at[0], at[1]].shape)
            if db is not None:
                db[:, a, b] = u.sum(axis=(0, 2, 3))
        dx = geo.add_back(dwin, xp.shape) if needs[0] else None
        return (dx, dw, db)[: len(needs)]

# -- transform invariance: the group of filter transforms ------------------------------------------

# An element (f, r) of the symmetry group of the square maps a filter to rot90ʳ(flipᶠ(W)): first the
# horizontal mirror (left-right) if f = 1, then r quarter turns counter-clockwise (as np.rot90).
GENERATORS = {"rot90": (0, 1), "rot180": (0, 2), "flip": (1, 0), "vflip": (1, 2)}


def _compose(g2, g1):
    """g2∘g1: a mirror turns a later rotation backwards (flip∘rotʳ = rot⁻ʳ∘flip)."""
    (f2, r2), (f1, r1) = g2, g1
    return (f1 ^ f2, (r2 + (-r1 if f2 else r1)) % 4)


def transform_group(transforms=("rot90", "flip")):
    """The group generated by the named transforms, as a sorted tuple of (flip, quarter_turns) pairs.

    "rot90" gives the 4 rotations, "rot180" the 2 half turns, "flip" the left-right mirror, "vflip" the
    top-bottom mirror; ("rot90", "flip") gives all 8 symmetries of the square; () the identity alone.
    The closure is found by composing with the generators until nothing new appears (a loop, no recursion).
    """
    if isinstance(transforms, str):
        transforms = (transforms,)
    for name in transforms:
        if name not in GENERATORS:
            raise ValueError(
                f"transform_invariant_conv2d: unknown transform {name!r}; choose among {tuple(GENERATORS)}, "
                f"e.g. transforms=('rot90', 'flip') for all 8 symmetries of the square"
            )
    group, frontier = {(0, 0)}, [(0, 0)]
    while frontier:
        g = frontier.pop()
        for name in transforms:
            h = _compose(GENERATORS[name], g)
            if h not in group:
                group.add(h)
                frontier.append(h)
    return tuple(sorted(group))


def transform_name(g):
    """(1, 3) -> 'flip+rot270'; (0, 0) -> 'identity'."""
    f, r = g
    parts = (["flip"] if f else []) + ([f"rot{90 * r}"] if r else [])
    return "+".join(parts) or "identity"


def transform_index(g, kh, kw):
    """Where each entry of the transformed filter comes from: g·W[..., i, j] = W[..., rows[i, j], cols[i, j]]."""
    f, r = g
    rows, cols = np.indices((kh, kw))
    grid = np.stack([rows, cols], axis=-1)        # the index grid, moved exactly as the filter is
    if f:
        grid = grid[:, ::-1]
    grid = np.rot90(grid, r, axes=(0, 1))
    return grid[..., 0], grid[..., 1]


def transformed_filters(w, group):
    """(G, out, in, kH, kW): every g·W of ``w`` (out, in, kH, kW), by one index gate.

    The transforms only permute W's entries, so backward scatters each copy's gradient back to the
    entry it came from; entries used by several copies add their gradients (the copy gate).
    """
    kh, kw = w.shape[2:]
    index = [transform_index(g, kh, kw) for g in group]
    rows, cols = np.stack([i[0] for i in index]), np.stack([i[1] for i in index])     # (G, kH, kW)
    return w[:, :, rows, cols].permute(2, 0, 1, 3, 4)


def transform_invariant_conv2d(x, w, b=None, stride=1, padding=0, transforms=("rot90", "flip")):
    """max over g ∈ G of conv2d(x, g·w) + b: one filter, applied in every transformed version, max-pooled.

    ``w`` (out, in, kH, kW) and ``b`` (out,) as conv2d's; ``stride``, ``padding`` as conv2d's (including
    "same"). G is :func:`transform_group` of ``transforms``; "rot90" needs a square kernel. The G·out
    responses come from one conv2d with the stacked filters (G·out, in, kH, kW), then a max over G.

    Equivariance: if G contains a transform T and the padding is symmetric (T(x) of a square x keeps
    the windows aligned: stride 1 and padding (k−1)/2, or a valid convolution whose size divides evenly),
    then f(T·x) = T·f(x): conv2d(T·x, g·W) = T·conv2d(x, T⁻¹g·W), and T⁻¹g runs over G as g does.
    """
    op = "transform_invariant_conv2d"
    check_4d(op, "input", x, "(N, C, H, W)")
    check_4d(op, "weight", w, "(out_channels, in_channels, kH, kW)")
    if x.shape[1] != w.shape[1]:
        raise ValueError(
            f"{op}: input has {x.shape[1]} channels but weight expects {w.shape[1]} (weight {w.shape}); "
            f"the weight must be (out_channels, {x.shape[1]}, kH, kW) for this input"
        )
    group = transform_group(transforms)
    kh, kw = w.shape[2:]
    if kh != kw and any(g[1] % 2 for g in group):
        raise ValueError(
            f"{op}: quarter turns ('rot90') need a square kernel, got {(kh, kw)} (weight {w.shape}); "
            f"use a square kernel or transforms without 'rot90'"
        )
    if b is not None and b.shape != (w.shape[0],):
        raise ValueError(f"{op}: bias has shape {b.shape} but there are {w.shape[0]} output channels; bias must be ({w.shape[0]},)")
    G, O = len(group), w.shape[0]
    filters = transformed_filters(w, group).reshape(G * O, *w.shape[1:])
    out = conv2d(x, filters, None, stride, padding)
    out = out.reshape(out.shape[0], G, O, *out.shape[2:]).max(dim=1)
    return out if b is None else out + b.reshape(O, 1, 1)


# -- the functions (re-exported as minigrad.nn.functional) and their argument checks --------------


def local_conv2d(x, w, b=None, stride=1, padding=0):
    """Locally connected convolution: every output position (r, q) has its own filter ``w[r, q]``.

    ``x`` (N, C, H, W); ``w`` (out_h, out_w, out_channels, C, kH, kW); ``b`` (out_channels, out_h, out_w),
    one bias per output unit, or None. ``stride``, ``padding`` as conv2d's (an int, a pair, "valid", or
    "same" with stride 1); (out_h, out_w) must be the output size conv2d would give. Parameters:
    out_h·out_w times conv2d's (out·C·kH·kW + out): nothing is shared between positions.
    """
    op = "local_conv2d"
    geo = _check(op, x, w, b, stride, padding, "(out_h, out_w, out_channels, in_channels, kH, kW)")
    if w.shape[:2] != (geo.oh, geo.ow):
        raise ValueError(
            f"{op}: input {x.shape} with kernel {(geo.kh, geo.kw)}, stride {(geo.sh, geo.sw)} and padding gives a "
            f"{geo.oh}x{geo.ow} output, but the weight {w.shape} holds filters for {w.shape[0]}x{w.shape[1]} positions; "
            f"a locally connected weight is built for one input size: use weight ({geo.oh}, {geo.ow}, ...) or resize the input"
        )
    _check_bias(op, b, (w.shape[2], geo.oh, geo.ow), "(out_channels, out_h, out_w)")
    return LocalConv2d.apply(x, w, *(() if b is None else (b,)), windows=geo)


def tiled_conv2d(x, w, b=None, stride=1, padding=0):
    """Tiled convolution: th×tw filters rotate through the output, position (r, q) using ``w[r % th, q % tw]``.

    ``x`` (N, C, H, W); ``w`` (th, tw, out_channels, C, kH, kW); ``b`` (out_channels, th, tw) or None.
    ``stride``, ``padding`` as conv2d's. t = 1 is conv2d; t ≥ the output size is a locally connected
    convolution. Parameters: th·tw times conv2d's, whatever the input size.
    """
    op = "tiled_conv2d"
    geo = _check(op, x, w, b, stride, padding, "(tile_h, tile_w, out_channels, in_channels, kH, kW)")
    _check_bias(op, b, (w.shape[2],) + w.shape[:2], "(out_channels, tile_h, tile_w)")
    return TiledConv2d.apply(x, w, *(() if b is None else (b,)), windows=geo)


def output_size(op, size, kernel, stride=1, padding=0):
    """conv2d's output size (oh, ow) for an input (H, W); ``padding`` as conv2d's. A clear error if the kernel does not fit."""
    geo = _windows(op, window.pair(op, "input size", size), window.pair(op, "kernel_size", kernel), stride, padding)
    return geo.oh, geo.ow


def _windows(op, size, kernel, stride, padding):
    stride = window.positive(op, "stride", stride)
    padding = window.padding(op, padding, stride, kernel)
    for axis, d, k, (lo, hi) in zip(("height", "width"), size, kernel, padding):
        if k > d + lo + hi:
            raise ValueError(
                f"{op}: the kernel {kernel} is larger than the padded input in {axis} ({d} + padding {lo + hi}); "
                f"use a smaller kernel or more padding"
            )
    return _Windows(size, kernel, stride, padding)


def _check(op, x, w, b, stride, padding, layout):
    check_4d(op, "input", x, "(N, C, H, W)")
    if not is_tensor(w):
        raise TypeError(f"{op}: weight must be a minigrad Tensor, got {type(w).__name__}")
    if w.ndim != 6:
        raise ValueError(f"{op}: weight must be 6-D {layout}, got shape {w.shape}")
    if b is not None and not is_tensor(b):
        raise TypeError(f"{op}: bias must be a minigrad Tensor or None, got {type(b).__name__}")
    if x.shape[1] != w.shape[3]:
        raise ValueError(
            f"{op}: input has {x.shape[1]} channels but weight expects {w.shape[3]} (weight {w.shape} is {layout}); "
            f"the weight's fourth dimension must be {x.shape[1]} for this input"
        )
    return _windows(op, x.shape[2:], w.shape[4:], stride, padding)


def _check_bias(op, b, shape, layout):
    if b is not None and b.shape != shape:
        raise ValueError(f"{op}: bias has shape {b.shape} but must be {layout} = {shape}")
