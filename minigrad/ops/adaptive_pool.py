"""adaptive_max_pool2d and max_unpool2d (NCHW), the max-pooling relatives ``torch.nn.functional`` has.

adaptive_max_pool2d takes the maximum over bins that tile the input, bin r spanning rows
⌊r·H/oh⌋ … ⌈(r+1)·H/oh⌉ − 1 (PyTorch's bins, as adaptive_avg_pool2d's): the gradient is routed to
each bin's maximum (the first on a tie), and bins that overlap add. max_unpool2d is max pooling's
partial inverse: each value goes back to the place its index names, zeros elsewhere, and its gradient
is the upstream gradient read at that place. Both are linear in what they route, so their backward,
written with the scatter and index gates, can be differentiated again.
"""
from __future__ import annotations

import numpy as np

from ..core.function import Function
from ..core.rules import Rule
from . import window
from .conv import _batch_of_one, accepts_unbatched, check_4d
from .gate import as_tensor, constant, is_tensor
from .shape import Scatter, index


def _bins(size, out):
    """(start, stop) of each of ``out`` bins over ``size`` elements."""
    return [((r * size) // out, -(-((r + 1) * size) // out)) for r in range(out)]


class AdaptiveMaxPool2d(Function):
    name, symbol = "adaptive_max_pool2d", "max"
    rules = (Rule("x", "dL/dy routed to the maximum of each bin; overlapping bins add"),)
    pattern = "gradient router"

    @staticmethod
    def forward(ctx, x, out):
        (N, C, H, W), (oh, ow) = x.shape, out
        ctx.in_shape = x.shape
        if H % oh == 0 and W % ow == 0:  # equal, disjoint bins: one argmax over a reshaped view
            kh, kw = H // oh, W // ow
            win = x.reshape(N, C, oh, kh, ow, kw).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, oh, ow, kh * kw)
            k = win.argmax(axis=-1)
            values = np.take_along_axis(win, k[..., None], axis=-1)[..., 0]
            i, j = np.divmod(k, kw)
            rows = np.arange(oh)[:, None] * kh + i
            cols = np.arange(ow)[None, :] * kw + j
        else:
            values = np.empty((N, C, oh, ow), x.dtype)
            rows, cols = np.empty((N, C, oh, ow), np.int64), np.empty((N, C, oh, ow), np.int64)
            for r, (h0, h1) in enumerate(_bins(H, oh)):
                for q, (w0, w1) in enumerate(_bins(W, ow)):
                    win = x[:, :, h0:h1, w0:w1].reshape(N, C, -1)
                    k = win.argmax(axis=2)
                    values[:, :, r, q] = np.take_along_axis(win, k[..., None], axis=2)[..., 0]
                    rows[:, :, r, q], cols[:, :, r, q] = h0 + k // (w1 - w0), w0 + k % (w1 - w0)
        ctx.save_for_backward((rows * W + cols).astype(np.int64))
        return values

    def _flat(self):
        """Each output's maximum as an index into the flattened input."""
        (idx,), (N, C, H, W) = self.saved_tensors, self.in_shape
        return (idx.reshape(N * C, -1) + np.arange(N * C)[:, None] * (H * W)).ravel()

    @staticmethod
    def backward(ctx, up):
        size = int(np.prod(ctx.in_shape))
        dx = np.bincount(ctx._flat(), weights=up.ravel(), minlength=size)
        return (dx.astype(up.dtype, copy=False).reshape(ctx.in_shape),)

    def backward_graph(self, node, up):
        size = int(np.prod(self.in_shape))
        return (Scatter.apply(up.reshape(-1), shape=(size,), index=(self._flat(),)).reshape(self.in_shape),)


@accepts_unbatched
def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max of ``input`` (N, C, H, W) over the bins of ``output_size`` (an int, a pair, None in a pair keeps
    that size), as ``torch.nn.functional.adaptive_max_pool2d``; with ``return_indices`` also each maximum's
    flat index h·W + w into its input plane (int64, what ``max_unpool2d`` takes)."""
    op = "adaptive_max_pool2d"
    x = as_tensor(op, input)
    check_4d(op, "input", x, "(N, C, H, W)")
    if isinstance(output_size, (tuple, list)) and len(output_size) == 2:
        output_size = tuple(d if o is None else o for d, o in zip(x.shape[2:], output_size))
    out = window.pair(op, "output_size", output_size)
    if min(out) < 1:
        raise ValueError(f"{op}: output_size must be at least 1, got {out}; use 1 for global max pooling")
    if min(x.shape[2:]) < 1:
        raise ValueError(f"{op}: input {x.shape} has an empty spatial dimension")
    gate = AdaptiveMaxPool2d()
    y = gate._apply((x,), {"out": out})
    return (y, constant(gate.saved[0])) if return_indices else y


class MaxUnpool2d(Function):
    """Inputs x and the indices (a constant: they get no gradient; an input so that an export can trace them)."""

    name, symbol = "max_unpool2d", "unpool"
    rules = (Rule("x", "dL/dy read at each element's index"), Rule("indices", "none (integers)"))

    @staticmethod
    def forward(ctx, x, idx, out_shape):
        n, c = x.shape[:2]
        plane = out_shape[2] * out_shape[3]
        flat = (idx.reshape(n * c, -1).astype(np.int64) + np.arange(n * c)[:, None] * plane).ravel()
        ctx.flat, ctx.in_shape = flat, x.shape
        out = np.zeros(int(np.prod(out_shape)), x.dtype)
        out[flat] = x.ravel()
        return out.reshape(out_shape)

    @staticmethod
    def backward(ctx, up):
        return up.reshape(-1)[ctx.flat].reshape(ctx.in_shape), None

    def backward_graph(self, node, up):
        return index(up.reshape(-1), (self.flat,)).reshape(self.in_shape), None


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Put each value of ``input`` (N, C, H, W) at its ``indices`` (max_pool2d's ``return_indices``: flat
    h·W + w into the output plane) of a zero output, as ``torch.nn.functional.max_unpool2d``.

    The output is (H − 1)·stride − 2·padding + kernel_size high (and wide), or ``output_size`` ((H, W) or
    the whole (N, C, H, W)), which may differ from that by less than the stride, as in PyTorch.
    """
    op = "max_unpool2d"
    if getattr(input, "ndim", None) == 3:  # unbatched (C, H, W), as PyTorch: a batch of one
        size = None if output_size is None else tuple(output_size)[-2:]
        return max_unpool2d(_batch_of_one(input), _batch_of_one(indices), kernel_size, stride, padding,
                            size).squeeze(0)
    x = as_tensor(op, input)
    check_4d(op, "input", x, "(N, C, H, W)")
    indices = indices if is_tensor(indices) else constant(np.asarray(indices))
    idx = indices.data
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be integers (max_pool2d's return_indices), got {idx.dtype}")
    if idx.shape != x.shape:
        raise ValueError(f"{op}: indices have shape {idx.shape} but the input has shape {x.shape}; they must match")
    kernel = window.pair(op, "kernel_size", kernel_size)
    stride = kernel if stride is None else window.pair(op, "stride", stride)
    padding = window.pair(op, "padding", padding)
    window.positive(op, "kernel_size", kernel)
    window.positive(op, "stride", stride)
    window.non_negative(op, "padding", padding)
    default = tuple((d - 1) * s - 2 * p + k for d, s, p, k in zip(x.shape[2:], stride, padding, kernel))
    size = default
    if output_size is not None:
        size = tuple(int(n) for n in output_size)[-2:] if len(output_size) in (2, 4) else None
        if size is None:
            raise ValueError(f"{op}: output_size must be (H, W) or (N, C, H, W), got {tuple(output_size)}")
        for d, (n, m, s) in enumerate(zip(size, default, stride)):
            if not m - s < n < m + s:
                raise ValueError(
                    f"{op}: output_size {size} is invalid: dim {d} must lie between {m - s + 1} and {m + s - 1} "
                    f"for this input, kernel_size, stride and padding (the default is {default})"
                )
    if min(size) < 1:
        raise ValueError(f"{op}: the output would be {size}; use a larger input, kernel_size or stride")
    plane = size[0] * size[1]
    if idx.size and (idx.min() < 0 or idx.max() >= plane):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise IndexError(f"{op}: found an invalid max index {bad} (output planes are {size[0]}x{size[1]})")
    return MaxUnpool2d.apply(x, indices, out_shape=x.shape[:2] + size)
