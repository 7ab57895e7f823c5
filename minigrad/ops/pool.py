"""Pooling gates: max_pool2d, avg_pool2d, adaptive_avg_pool2d (NCHW, every channel on its own).

A pooling window of K = kH·kW elements sits at s·(r, q) in the padded input; each kernel tap (i, j)
reads the strided slice ``Xp[:, :, s·r + dil·i, s·q + dil·j]`` over all outputs (r, q) at once,
so forward and backward are loops over the K taps, never over output positions.

    max:  y = max over the window        dL/dx = dL/dy routed to the window's argmax only (the max
                                          gate: a gradient router); overlapping windows add
    avg:  y = (1/K²) Σ over the window   dL/dx = dL/dy / K² spread over every element of the window
                                          (/ count of real, unpadded elements with count_include_pad=False)

Max pooling picks ONE argmax per window, the first in row-major order on a tie, as PyTorch does
(unlike ``Tensor.max``, which splits a tie evenly). Padding is -inf for max and 0 for avg.
"""
from __future__ import annotations

import numpy as np

from ..core.function import Function
from ..core.rules import Rule
from . import window
from .accumulate import shared
from .conv import accepts_unbatched, check_4d
from .gate import constant
from .shape import expand


def _taps(xp, kernel, stride, dilation, out):
    """(t, view) for each kernel tap t = i·kW + j: view[n, c, r, q] = xp[n, c, s·r + dil·i, s·q + dil·j]."""
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
            cols = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
            yield i * kw + j, xp[:, :, rows, cols]


class _Pool(Function):
    """Padding and cropping shared by the pooling gates."""


    def setup(self, x, kernel, stride, padding, dilation, ceil_mode):
        self.kernel, self.stride, self.padding, self.dilation = kernel, stride, padding, dilation
        self.in_shape = x.shape
        self.out, self.extra = pool_size(x.shape[2:], kernel, stride, padding, dilation, ceil_mode)

    def pad(self, x, fill):
        """x padded by ``padding`` on every side, plus ceil_mode's ``extra`` rows/columns at the bottom/right."""
        (ph, pw), (eh, ew), (H, W) = self.padding, self.extra, x.shape[2:]
        if ph == pw == eh == ew == 0:
            return x
        xp = np.full(x.shape[:2] + (H + 2 * ph + eh, W + 2 * pw + ew), fill, x.dtype)
        xp[:, :, ph : ph + H, pw : pw + W] = x
        return xp

    def crop(self, xp):
        (ph, pw), (H, W) = self.padding, self.in_shape[2:]
        return xp[:, :, ph : ph + H, pw : pw + W]

    def taps(self, xp):
        return _taps(xp, self.kernel, self.stride, self.dilation, self.out)

    def padded_zeros(self, dtype, planes=None):
        """Zeros of the padded input's shape (ceil_mode's extra rows included); ``planes`` replaces (N, C)."""
        (ph, pw), (eh, ew), (N, C, H, W) = self.padding, self.extra, self.in_shape
        return np.zeros((planes or (N, C)) + (H + 2 * ph + eh, W + 2 * pw + ew), dtype)


def pool_size(size, kernel, stride, padding, dilation, ceil_mode):
    """Output size and ceil_mode's extra bottom/right padding, per spatial axis, as PyTorch computes them.

    The size is ``window.out_length`` (rounded up with ``ceil_mode``). Rounding up can leave the
    last window reaching past the padded input; it then reads ``extra`` more rows/columns (-inf for
    max, not counted by avg).
    """
    out, extra = [], []
    for d, k, s, p, dil in zip(size, kernel, stride, padding, dilation):
        o = window.out_length(d, k, s, (p, p), dil, ceil_mode)
        out.append(o)
        extra.append(max(0, (o - 1) * s + window.span(k, dil) - (d + 2 * p)))
    return tuple(out), tuple(extra)


class MaxPool2d(_Pool):
    name, symbol = "max_pool2d", "max"
    rules = (Rule("x", "dL/dy routed to the argmax of each window; overlapping windows add"),)
    pattern = "gradient router"

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation, ceil_mode):
        ctx.setup(x, kernel, stride, padding, dilation, ceil_mode)
        fill = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
        taps = ctx.taps(ctx.pad(x, fill))
        _, first = next(taps)
        best = first.copy()
        arg = np.zeros(best.shape, np.min_scalar_type(kernel[0] * kernel[1] - 1))
        # PyTorch's rule: a tap takes over when strictly greater (a tie keeps the first maximum) or NaN
        nan_aware = x.dtype.kind == "f" and x.size > 0 and np.isnan(x.max())
        for t, win in taps:
            better = win > best
            if nan_aware:
                better |= win != win
            np.maximum(best, win, out=best)
            # taps come in increasing order, so the newest winner is the largest index; arithmetic, not
            # np.where/copyto with a mask, which are much slower on unpredictable masks (bench/README.md)
            np.maximum(arg, better * arg.dtype.type(t), out=arg)
        ctx.save_for_backward(arg)
        return best

    @staticmethod
    def backward(ctx, up):
        (arg,) = ctx.saved_tensors
        dxp = ctx.padded_zeros(up.dtype)
        for t, win in ctx.taps(dxp):
            win += up * (arg == t)
        return (ctx.crop(dxp),)

    def adjoint(self, v):
        """The transpose of backward's routing: each window's value at its argmax (linear in ``v``)."""
        (arg,) = self.saved_tensors
        out = np.zeros(arg.shape, v.dtype)
        for t, win in self.taps(self.pad(v, 0)):
            out += win * (arg == t)
        return out

    def backward_graph(self, node, up):
        return (PoolBackward.apply(up, pool=self),)

    def indices(self):
        """Each maximum's flat index h·W + w into its (unpadded) input plane, int64, as PyTorch's return_indices."""
        (arg,), kw = self.saved_tensors, self.kernel[1]
        (sh, sw), (ph, pw), (dh, dw), (oh, ow), W = self.stride, self.padding, self.dilation, self.out, self.in_shape[3]
        i, j = np.divmod(arg.astype(np.int64), kw)
        rows = np.arange(oh)[:, None] * sh + i * dh - ph
        cols = np.arange(ow)[None, :] * sw + j * dw - pw
        return constant(rows * W + cols)


class AvgPool2d(_Pool):
    name, symbol = "avg_pool2d", "avg"
    rules = (Rule("x", "dL/dy / K² spread over every element of each window"),)
    note = "with count_include_pad=False (or ceil_mode's partial windows) divided by the count of real elements"
    pattern = "gradient distributor"

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, count_include_pad, ceil_mode, divisor_override):
        ctx.setup(x, kernel, stride, padding, (1, 1), ceil_mode)
        taps = ctx.taps(ctx.pad(x, 0))
        _, first = next(taps)
        total = first.astype(np.result_type(x.dtype, np.float32), copy=True)
        for _, win in taps:
            total += win
        (H, W), (ph, pw) = x.shape[2:], padding
        if divisor_override is not None:
            ctx.divisor = divisor_override
        elif ctx.extra == (0, 0) and (count_include_pad or padding == (0, 0)):
            ctx.divisor = kernel[0] * kernel[1]
        else:
            # how many counted elements each window holds (the input, plus the padding with count_include_pad,
            # never ceil_mode's extra rows): pool a map of ones over the same windows
            counted = ctx.padded_zeros(total.dtype, planes=(1, 1))
            if count_include_pad:
                counted[..., : H + 2 * ph, : W + 2 * pw] = 1
            else:
                counted[..., ph : ph + H, pw : pw + W] = 1
            ctx.divisor = sum(win for _, win in ctx.taps(counted))
        return (total / ctx.divisor).astype(x.dtype, copy=False)  # summed in float32 (float16), returned in x's dtype

    @staticmethod
    def backward(ctx, up):
        share = shared(up, ctx.divisor)
        dxp = ctx.padded_zeros(share.dtype)
        for _, win in ctx.taps(dxp):
            win += share
        return (ctx.crop(dxp),)

    def adjoint(self, v):
        """The transpose of backward's spreading: each window's sum, divided as forward divides."""
        taps = self.taps(self.pad(v, 0))
        _, first = next(taps)
        total = first.copy()
        for _, win in taps:
            total += win
        return shared(total, self.divisor)

    def backward_graph(self, node, up):
        return (PoolBackward.apply(up, pool=self),)


class AdaptiveAvgPool2d(Function):
    """Average over bins that tile the input: bin r spans rows ⌊r·H/oh⌋ … ⌈(r+1)·H/oh⌉ − 1 (PyTorch's bins).

    When the output size divides the input size the bins are the windows of an average pooling
    with kernel = stride = H/oh, and the mean is taken over a reshaped view. Otherwise bins overlap
    and differ in size; averaging rows then columns is then a matrix on each side, y = A_h·x·A_wᵀ with
    A_h[r, h] = 1/|bin r| for the rows h in bin r, so dL/dx = A_hᵀ·dL/dy·A_w. Either way every
    element receives its bins' gradients divided by the bins' sizes.
    """

    name, symbol = "adaptive_avg_pool2d", "avg"
    rules = (Rule("x", "dL/dy / |bin| spread evenly over each bin (A_hᵀ·dL/dy·A_w)"),)

    @staticmethod
    def forward(ctx, x, out):
        (N, C, H, W), (oh, ow) = x.shape, out
        ctx.in_shape, ctx.out = x.shape, out
        ctx.even = H % oh == 0 and W % ow == 0
        if ctx.even:
            return x.reshape(N, C, oh, H // oh, ow, W // ow).mean(axis=(3, 5))
        dtype = np.result_type(x.dtype, np.float32)
        ctx.rows, ctx.cols = _bins(H, oh, dtype), _bins(W, ow, dtype)
        return np.matmul(np.matmul(ctx.rows, x), ctx.cols.T).astype(x.dtype, copy=False)  # float16 in float32

    @staticmethod
    def backward(ctx, up):
        if not ctx.even:
            return (np.matmul(np.matmul(ctx.rows.T, up), ctx.cols),)
        (N, C, H, W), (oh, ow) = ctx.in_shape, ctx.out
        share = shared(up[:, :, :, None, :, None], (H // oh) * (W // ow))
        return (np.broadcast_to(share, (N, C, oh, H // oh, ow, W // ow)).reshape(ctx.in_shape),)

    def backward_graph(self, node, up):
        if not self.even:
            return (self.rows.T @ up @ self.cols,)  # the bins' matrices are constants
        (N, C, H, W), (oh, ow) = self.in_shape, self.out
        share = up.reshape(N, C, oh, 1, ow, 1) * (1.0 / ((H // oh) * (W // ow)))
        return (expand(share, (N, C, oh, H // oh, ow, W // ow)).reshape(self.in_shape),)


class PoolBackward(Function):
    """A pooling gate's backward as a gate (create_graph): linear in dL/dy; its own backward is the
    transposed map (``adjoint``), and that one's is this again."""

    name, symbol = "pool_backward", "poolᵀ"
    rules = (Rule("g", "each window's share of dL/dy back, as the pooling chose"),)

    @staticmethod
    def forward(ctx, up, pool):
        ctx.pool = pool
        return type(pool).backward(pool, up)[0]

    @staticmethod
    def backward(ctx, v):
        return (ctx.pool.adjoint(v),)

    def backward_graph(self, node, v):
        return (PoolAdjoint.apply(v, pool=self.pool),)


class PoolAdjoint(Function):
    name, symbol = "pool_adjoint", "pool"
    rules = (Rule("v", "dL/dy spread back into the windows, as the pooling chose"),)

    @staticmethod
    def forward(ctx, v, pool):
        ctx.pool = pool
        return pool.adjoint(v)

    @staticmethod
    def backward(ctx, g):
        return (type(ctx.pool).backward(ctx.pool, g)[0],)

    def backward_graph(self, node, g):
        return (PoolBackward.apply(g, pool=self.pool),)


def _bins(size, out, dtype):
    """The (out, size) averaging matrix of adaptive pooling along one axis."""
    a = np.zeros((out, size), dtype)
    for r in range(out):
        start, stop = (r * size) // out, -(-((r + 1) * size) // out)
        a[r, start:stop] = 1.0 / (stop - start)
    return a


# -- the functions (re-exported as minigrad.nn.functional) and their argument checks --------------


@accepts_unbatched
def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over kH×kW windows of ``x`` (N, C, H, W) (or an unbatched (C, H, W), as every pool here); ``stride`` defaults to ``kernel_size``.

    ``padding`` pads with -inf (at most half the kernel, as in PyTorch); ``dilation`` spaces the
    window's taps. Output size ⌊(d + 2p − dil·(k−1) − 1)/s⌋ + 1 (⌈…⌉ + 1 with ``ceil_mode``, the
    last window kept only if it starts inside the input or the left/top padding). With
    ``return_indices`` also returns each maximum's flat index into its input plane (H·W), int64.
    """
    kernel, stride, padding, dilation = _pool_args("max_pool2d", x, kernel_size, stride, padding, dilation)
    gate = MaxPool2d()
    options = dict(kernel=kernel, stride=stride, padding=padding, dilation=dilation, ceil_mode=bool(ceil_mode))
    y = gate._apply((x,), options)
    if not return_indices:
        return y
    from .compare import pool_indices

    return y, pool_indices(x, gate, options)


@accepts_unbatched
def avg_pool2d(x, kernel_size, stride=None, padding=0, count_include_pad=True, *, ceil_mode=False, divisor_override=None):
    """Mean over kH×kW windows of ``x`` (N, C, H, W); ``stride`` defaults to ``kernel_size``.

    ``padding`` pads with zeros; with ``count_include_pad=False`` a window's mean divides by the
    number of real elements it covers instead of kH·kW. ``ceil_mode`` as in ``max_pool2d`` (the
    windows' part past the padded input is never counted, as in PyTorch); ``divisor_override``
    divides every window by that number instead.
    """
    kernel, stride, padding, _ = _pool_args("avg_pool2d", x, kernel_size, stride, padding, 1)
    if divisor_override is not None and (isinstance(divisor_override, bool) or not isinstance(divisor_override, int)
                                         or divisor_override < 1):
        raise ValueError(f"avg_pool2d: divisor_override must be a positive int or None, got {divisor_override!r}")
    return AvgPool2d.apply(x, kernel=kernel, stride=stride, padding=padding, count_include_pad=bool(count_include_pad),
                           ceil_mode=bool(ceil_mode), divisor_override=divisor_override)


@accepts_unbatched
def adaptive_avg_pool2d(x, output_size):
    """Average ``x`` (N, C, H, W) down to ``output_size`` (an int, a pair, None in a pair keeps that size).

    ``adaptive_avg_pool2d(x, 1)`` is global average pooling. Bins follow PyTorch's rule, so sizes
    that do not divide the input give overlapping bins of unequal size, exactly as there.
    """
    op = "adaptive_avg_pool2d"
    check_4d(op, "input", x, "(N, C, H, W)")
    if isinstance(output_size, (tuple, list)) and len(output_size) == 2:
        output_size = tuple(d if o is None else o for d, o in zip(x.shape[2:], output_size))
    out = window.pair(op, "output_size", output_size)
    if min(out) < 1:
        raise ValueError(f"{op}: output_size must be at least 1, got {out}; use 1 for global average pooling")
    if min(x.shape[2:]) < 1:
        raise ValueError(f"{op}: input {x.shape} has an empty spatial dimension")
    return AdaptiveAvgPool2d.apply(x, out=out)


def _pool_args(op, x, kernel_size, stride, padding, dilation):
    check_4d(op, "input", x, "(N, C, H, W)")
    kernel = window.pair(op, "kernel_size", kernel_size)
    stride = kernel if stride is None else window.pair(op, "stride", stride)
    padding, dilation = window.pair(op, "padding", padding), window.pair(op, "dilation", dilation)
    for what, value in (("kernel_size", kernel), ("stride", stride), ("dilation", dilation)):
        window.positive(op, what, value)
    window.non_negative(op, "padding", padding)
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        # PyTorch's rule: more padding would let a window hold nothing but padding
        raise ValueError(
            f"{op}: padding {padding} is more than half the kernel {kernel}; PyTorch's rule is padding ≤ kernel_size // 2, "
            f"so use padding ≤ {tuple(k // 2 for k in kernel)} or a larger kernel"
        )
    H, W = x.shape[2:]
    spans = tuple(window.span(k, dil) for k, dil in zip(kernel, dilation))
    if any(span > d + 2 * p for span, d, p in zip(spans, (H, W), padding)):
        raise ValueError(
            f"{op}: the window {kernel} (dilation {dilation}, spanning {spans}) is larger than the padded input "
            f"{(H + 2 * padding[0], W + 2 * padding[1])} (input {x.shape}, padding {padding}); use a smaller kernel"
        )
    return kernel, stride, padding, dilation
