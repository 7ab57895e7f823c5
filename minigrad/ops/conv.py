"""Convolution gates: ``conv2d`` and ``conv_transpose2d``, by im2col and one GEMM per group.

conv2d is a cross-correlation (as in PyTorch). For output channel o in group g:

    O[n, o, r, q] = b[o] + Σ_{c ∈ g, i, j} W[o, c, i, j] · Xp[n, c, s·r + dil·i, s·q + dil·j]

with Xp the input zero-padded by p, so the output size is o = ⌊(d + 2p − dil·(k−1) − 1)/s⌋ + 1.
im2col copies every window into a column, ``cols[(c, i, j), (n, r, q)]``, and the sum becomes one
matrix product per group: O = W·cols, with W read as (out, in/groups·kH·kW).

Backward, as the lectures derive it (each weight is shared by every position, so its gradients add):

    dL/dW = X ⋆ dL/dO           = dL/dO·colsᵀ: the correlation of the input with dL/dO, summed over the batch
    dL/db = Σ dL/dO              over the batch and every position
    dL/dX = pad(dL/dO) ⋆ flip(W) the "full" correlation of dL/dO, zero-padded by dil·(k−1) − p and, for
                                 stride > 1, with s − 1 zeros inserted between rows and columns, with the
                                 filter flipped top-bottom and left-right (in and out channels swapped)

With stride 1 no zeros need inserting, and dL/dX is computed literally as that formula: conv2d's own
forward machinery correlates dL/dO, padded by dil·(k − 1) − p, with the flipped filter. With a stride
(or when that would build far more columns, see ``Conv2d.backward``) it is computed as col2im(Wᵀ·dL/dO):
for each kernel tap (i, j), the slice of X that the tap read receives W[:, :, i, j]ᵀ·dL/dO. Written
out per element this is the same sum, but the inserted and padded zeros are never built nor multiplied.

``conv_transpose2d`` is that same map used as a layer: its forward is conv2d's dL/dX computation
and its input gradient is conv2d's forward, so the two gates share all their machinery.

(About 400 lines: conv1d, conv2d and conv_transpose2d are one geometry and two uses of it; split up,
each would have to import the other's halves.)
"""
from __future__ import annotations

import numpy as np

from ..core.function import Function
from ..core.rules import Rule
from . import window
from .gate import is_tensor
from .im2col import Geometry, convolve, correlate, filter_columns, flip, spread


class Conv2d(Function):
    """Backward skips what ``needs_input_grad`` says nobody wants (a first layer's dL/dX, the dearest part)."""

    name, symbol = "conv2d", "conv"
    rules = (
        Rule("X", "pad(dL/dO) ⋆ flip(W)"),  # the full correlation with the flipped filter; zeros between
        Rule("W", "X ⋆ dL/dO"),             # rows/columns for stride > 1; dL/dW summed over the batch
        Rule("b", "Σ dL/dO"),
    )
    note = ("dL/dX: the full correlation of dL/dO, zero-padded (and for stride > 1 with zeros inserted between "
            "rows and columns), with the flipped filter. dL/dW: the input correlated with dL/dO, summed over the "
            "batch (each weight is shared by every position, so its gradients add).")

    @staticmethod
    def forward(ctx, x, w, *bias, stride, padding, dilation, groups):
        dtype = np.result_type(x, w, *bias)
        geo = ctx.geo = Geometry(x.shape[2:], w.shape[2:], stride, padding, dilation)
        ctx.groups = groups
        buf = geo.pad(x, dtype)
        out = np.empty((x.shape[0], w.shape[0], geo.oh, geo.ow), dtype)
        convolve(buf, w, geo, groups, out, bias[0] if bias else None)
        ctx.save_for_backward(w, buf)  # the padded input, not its kH·kW times larger columns; backward redoes im2col
        return out

    @staticmethod
    def backward(ctx, up):
        w, buf = ctx.saved_tensors
        geo, groups, needs = ctx.geo, ctx.groups, ctx.needs_input_grad
        flipped = geo.flipped() if needs[0] else None
        # pad(dL/dO) ⋆ flip(W) builds (out·k²) × (N·H·(W + 2·dil·(k−1) − 2p)) columns and one GEMM; the
        # col2im route builds (in·k²) × (N·oh·Wp) with Wᵀ·dL/dO, then adds them back tap by tap (k² passes
        # over dL/dX). The first is faster until it builds about twice the columns of the second, where
        # the two break even (the measurements: bench/README.md).
        if flipped is not None and w.shape[0] * geo.H * flipped.Wp > 2 * buf.shape[1] * geo.oh * geo.Wp:
            flipped = None
        dbuf = np.zeros(buf.shape, up.dtype) if needs[0] and flipped is None else None
        dw = np.zeros(w.shape, up.dtype) if needs[1] else None
        if needs[1] or dbuf is not None:
            for part in geo.batches(up.shape[0], buf.shape[1], up.dtype):
                z = geo.extend(up[part])
                if needs[1]:
                    dw += correlate(z, geo.im2col(buf[part]), groups, w.shape)
                if dbuf is not None:
                    geo.col2im(spread(w, z, groups), dbuf[part])
        dx = None
        if flipped is not None:
            dx = convolve(flipped.pad(up, up.dtype), flip(w, groups), flipped, groups,
                           np.empty((up.shape[0], buf.shape[1], geo.H, geo.W), up.dtype))
        elif dbuf is not None:
            dx = geo.crop(dbuf)
        db = up.sum(axis=(0, 2, 3)) if len(needs) > 2 and needs[2] else None
        return (dx, dw, db)[: len(needs)]

    def backward_graph(self, node, up):
        """dL/dX and dL/dW as gates of their own (create_graph): each is linear in dL/dO, and a convolution
        again in the other direction, so they can be differentiated as often as asked."""
        x, w = node._inputs[:2]
        needs = self.needs_input_grad
        dx = ConvInputGrad.apply(up, w, geo=self.geo, groups=self.groups, channels=x.shape[1]) if needs[0] else None
        dw = ConvWeightGrad.apply(x, up, geo=self.geo, groups=self.groups, shape=w.shape) if needs[1] else None
        db = up.sum(dim=(0, 2, 3)) if len(needs) > 2 and needs[2] else None
        return (dx, dw, db)[: len(needs)]


def input_grad(up, w, geo, groups, channels):
    """A convolution's dL/dX for weight ``w``: col2im(Wᵀ·dL/dO), cropped -- also conv_transpose2d's forward."""
    dbuf = np.zeros((up.shape[0], channels, geo.flat), up.dtype)
    for part in geo.batches(up.shape[0], channels, up.dtype):
        geo.col2im(spread(w, geo.extend(up[part]), groups), dbuf[part])
    return geo.crop(dbuf)


def weight_grad(x, up, geo, groups, shape):
    """A convolution's dL/dW = X ⋆ dL/dO, summed over the batch."""
    dtype = np.result_type(x, up)
    buf, dw = geo.pad(x, dtype), np.zeros(shape, dtype)
    for part in geo.batches(up.shape[0], buf.shape[1], dtype):
        dw += correlate(geo.extend(up[part].astype(dtype, copy=False)), geo.im2col(buf[part]), groups, shape)
    return dw


def correlation(x, w, geo, groups):
    """The convolution itself, for geometry ``geo``."""
    dtype = np.result_type(x, w)
    out = np.empty((x.shape[0], w.shape[0], geo.oh, geo.ow), dtype)
    return convolve(geo.pad(x, dtype), w, geo, groups, out, None)


def _conv2d(x, w, geo, groups):
    """conv2d as a gate, with the geometry of another convolution's."""
    return Conv2d.apply(x, w, stride=(geo.sh, geo.sw), padding=((geo.top, geo.bottom), (geo.left, geo.right)),
                        dilation=(geo.dh, geo.dw), groups=groups)


class ConvInputGrad(Function):
    """conv2d's dL/dX as a gate (create_graph): bilinear in dL/dO (g) and W; its own gradients are a
    convolution of the upstream with W, and the weight gradient of the upstream against g."""

    name, symbol = "conv2d_input_grad", "convᵀ"
    rules = (Rule("g", "conv2d(dL/dy, W)"), Rule("W", "dL/dy ⋆ g"))

    @staticmethod
    def forward(ctx, g, w, geo, groups, channels):
        ctx.geo, ctx.groups = geo, groups
        ctx.save_for_backward(g, w)
        return input_grad(g, w, geo, groups, channels)

    @staticmethod
    def backward(ctx, v):
        g, w = ctx.saved_tensors
        return correlation(v, w, ctx.geo, ctx.groups), weight_grad(v, g, ctx.geo, ctx.groups, w.shape)

    def backward_graph(self, node, v):
        g, w = node._inputs
        return _conv2d(v, w, self.geo, self.groups), ConvWeightGrad.apply(v, g, geo=self.geo, groups=self.groups,
                                                                          shape=w.shape)


class ConvWeightGrad(Function):
    """conv2d's dL/dW as a gate (create_graph): bilinear in X and dL/dO (g)."""

    name, symbol = "conv2d_weight_grad", "X⋆g"
    rules = (Rule("X", "conv2d's dL/dX of g for the weight dL/dy"), Rule("g", "conv2d(X, dL/dy)"))

    @staticmethod
    def forward(ctx, x, g, geo, groups, shape):
        ctx.geo, ctx.groups = geo, groups
        ctx.save_for_backward(x, g)
        return weight_grad(x, g, geo, groups, shape)

    @staticmethod
    def backward(ctx, v):
        x, g = ctx.saved_tensors
        return input_grad(g, v, ctx.geo, ctx.groups, x.shape[1]), correlation(x, v, ctx.geo, ctx.groups)

    def backward_graph(self, node, v):
        x, g = node._inputs
        return (ConvInputGrad.apply(g, v, geo=self.geo, groups=self.groups, channels=x.shape[1]),
                _conv2d(x, v, self.geo, self.groups))


class ConvTranspose2d(Function):
    name, symbol = "conv_transpose2d", "convᵀ"
    rules = (Rule("X", "dL/dO ⋆ W"), Rule("W", "dL/dO ⋆ X"), Rule("b", "Σ dL/dO"))
    note = ("dL/dX is the strided conv2d this layer transposes, applied to dL/dO; dL/dW is summed over the batch.")

    @staticmethod
    def forward(ctx, x, w, *bias, geometry, groups):
        dtype = np.result_type(x, w, *bias)
        geo = ctx.geo = geometry
        ctx.groups = groups
        y = input_grad(x.astype(dtype, copy=False), w, geo, groups, w.shape[1] * groups)
        if bias:
            y += bias[0][:, None, None]
        ctx.save_for_backward(w, x)
        return y

    @staticmethod
    def backward(ctx, up):
        w, x = ctx.saved_tensors
        geo, groups, needs = ctx.geo, ctx.groups, ctx.needs_input_grad
        dbuf = geo.pad(up, up.dtype)
        dx = np.empty(x.shape, up.dtype) if needs[0] else None
        dw = np.zeros(w.shape, up.dtype) if needs[1] else None
        for part in geo.batches(x.shape[0], dbuf.shape[1], up.dtype):
            cols = geo.im2col(dbuf[part])
            if needs[0]:
                geo.unextend(filter_columns(w, cols, groups), dx[part])
            if needs[1]:
                dw += correlate(geo.extend(x[part]), cols, groups, w.shape)
        db = up.sum(axis=(0, 2, 3)) if len(needs) > 2 and needs[2] else None
        return (dx, dw, db)[: len(needs)]

    def backward_graph(self, node, up):
        x, w = node._inputs[:2]
        needs = self.needs_input_grad
        dx = _conv2d(up, w, self.geo, self.groups) if needs[0] else None
        dw = ConvWeightGrad.apply(up, x, geo=self.geo, groups=self.groups, shape=w.shape) if needs[1] else None
        db = up.sum(dim=(0, 2, 3)) if len(needs) > 2 and needs[2] else None
        return (dx, dw, db)[: len(needs)]


# -- the functions (re-exported as minigrad.nn.functional) and their argument checks --------------


def accepts_unbatched(fn):
    """Let ``fn`` (whose first argument is an (N, C, H, W) input) take an unbatched (C, H, W) one too, as PyTorch's
    2-D convolutions and pools do: it runs as a batch of one, and every output loses that axis again."""
    import functools

    @functools.wraps(fn)
    def run(x, *args, **kwargs):
        if getattr(x, "ndim", None) != 3:
            return fn(x, *args, **kwargs)
        out = fn(_batch_of_one(x), *args, **kwargs)
        return tuple(o.squeeze(0) for o in out) if isinstance(out, tuple) else out.squeeze(0)

    return run


def _batch_of_one(x):
    return x.unsqueeze(0) if is_tensor(x) else np.expand_dims(np.asarray(x), 0)


@accepts_unbatched
def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation of ``x`` (N, C, H, W) -- or an unbatched (C, H, W) -- with ``w`` (out, C/groups, kH,
    kW), plus ``b`` (out,).

    ``stride``, ``padding``, ``dilation``: an int or a pair (height, width). ``padding`` may also be
    ``"valid"`` (no padding) or ``"same"`` (stride 1 only; output size = input size, the odd
    pixel of an even total padding going bottom/right as in PyTorch). ``groups`` splits the channels
    into independent convolutions; ``groups == C`` is a depthwise convolution.
    """
    op = "conv2d"
    _check_inputs(op, x, w, b, "(out_channels, in_channels/groups, kH, kW)")
    stride = window.positive(op, "stride", stride, explain=True)
    dilation = window.positive(op, "dilation", dilation, explain=True)
    groups = _groups(op, groups)
    (_, C, H, W), (out, per_group, kh, kw) = x.shape, w.shape
    _check_channels(op, C, per_group, out, w.shape, groups)
    _check_bias(op, b, out)
    padding = window.padding(op, padding, stride, (kh, kw), dilation, explain=True)
    for axis, size, k, (lo, hi), dil in zip(("height", "width"), (H, W), (kh, kw), padding, dilation):
        reach = window.span(k, dil)
        if reach > size + lo + hi:
            raise ValueError(
                f"{op}: the kernel {(kh, kw)} with dilation {dilation} spans {reach} in {axis}, more than "
                f"the padded input ({size} + padding {lo + hi} = {size + lo + hi}; input {x.shape}); "
                f"use a smaller kernel or dilation, or more padding"
            )
    bias = () if b is None else (b,)
    return Conv2d.apply(x, w, *bias, stride=stride, padding=padding, dilation=dilation, groups=groups)


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation of ``x`` (N, C, L) -- or an unbatched (C, L) -- with ``w`` (out, C/groups, k),
    plus ``b`` (out,), as ``torch.nn.functional.conv1d``; ``padding`` may be "same" or "valid".

    A composition: the conv2d gate on images one row high, (N, C, 1, L) with filters (out, C/groups, 1, k).
    """
    op = "conv1d"
    if not is_tensor(x) or not is_tensor(w):
        bad = x if not is_tensor(x) else w
        raise TypeError(f"{op}: input and weight must be minigrad Tensors, got {type(bad).__name__}")
    unbatched = x.ndim == 2
    if x.ndim not in (2, 3) or w.ndim != 3:
        raise ValueError(f"{op}: expected input (N, C, L) or (C, L) and weight (out_channels, in_channels/groups, k), "
                         f"got {x.shape} and {w.shape}")
    groups = _groups(op, groups)
    (C, L), (out, per_group, k) = x.shape[-2:], w.shape
    if C % groups or out % groups or C != per_group * groups:
        raise ValueError(
            f"{op}: input has {C} channels but weight {w.shape} expects {per_group * groups} with groups={groups} "
            f"(and both channel counts must be divisible by groups); the weight must be (out_channels, "
            f"{C // groups if C % groups == 0 else 'C/groups'}, k) for this input"
        )
    _check_bias(op, b, out)
    (s,), (dil,) = _single(op, "stride", stride, 1), _single(op, "dilation", dilation, 1)
    if isinstance(padding, str):
        pad = window.padding(op, padding, (1, s), (1, k), (1, dil), explain=True)[1]
    else:
        (p,) = _single(op, "padding", padding, 0)
        pad = (p, p)
    if window.span(k, dil) > L + sum(pad):
        raise ValueError(f"{op}: the kernel {k} with dilation {dil} spans {window.span(k, dil)}, more than the padded "
                         f"input ({L} + padding {sum(pad)}; input {x.shape}); use a smaller kernel or more padding")
    x4 = (x.unsqueeze(0) if unbatched else x).unsqueeze(2)
    bias = () if b is None else (b,)
    y = Conv2d.apply(x4, w.unsqueeze(2), *bias, stride=(1, s), padding=((0, 0), pad), dilation=(1, dil), groups=groups)
    y = y.squeeze(2)
    return y.squeeze(0) if unbatched else y


def _single(op, what, value, low):
    """An int or a 1-tuple of ints ≥ ``low``, as a 1-tuple."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise TypeError(f"{op}: {what} must be an int or a 1-tuple of ints, got {value!r}")
    if value < low:
        raise ValueError(f"{op}: {what} must be at least {low}, got {value}")
    return (int(value),)


@accepts_unbatched
def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed convolution of ``x`` (N, C, H, W) (or an unbatched (C, H, W)) with ``w`` (C, out/groups, kH, kW), as PyTorch's.

    The gradient map of conv2d with respect to its input, used as a layer: each input pixel adds
    its weighted filter into the output, s apart. Output size (d − 1)·s − 2p + dil·(k − 1) +
    output_padding + 1, which maps conv2d's output size o back to its input size d (output_padding
    chooses among the d that conv2d rounds down to the same o).
    """
    op = "conv_transpose2d"
    _check_inputs(op, x, w, b, "(in_channels, out_channels/groups, kH, kW)")
    stride = window.positive(op, "stride", stride, explain=True)
    dilation = window.positive(op, "dilation", dilation, explain=True)
    groups = _groups(op, groups)
    padding = window.non_negative(op, "padding", padding, explain=True)
    output_padding = window.non_negative(op, "output_padding", output_padding, explain=True)
    (_, C, H, W), (w_in, per_group, kh, kw) = x.shape, w.shape
    if C % groups or w_in % groups:
        raise ValueError(
            f"{op}: channels must be divisible by groups={groups}, but the input has {C} and the weight {w.shape} "
            f"expects {w_in}; choose groups dividing both"
        )
    if C != w_in:
        raise ValueError(
            f"{op}: input has {C} channels but weight expects {w_in} (weight {w.shape}, groups={groups}); "
            f"a transposed convolution's weight is (in_channels, out_channels/groups, kH, kW)"
        )
    _check_bias(op, b, per_group * groups)
    for op_pad, s, dil in zip(output_padding, stride, dilation):
        if op_pad >= max(s, dil):
            raise ValueError(
                f"{op}: output_padding {output_padding} must be smaller than the stride {stride} or the dilation "
                f"{dilation} (in each dimension), as in PyTorch; it only picks among the sizes conv2d maps to the same size"
            )
    size = tuple(window.transposed_length(d, k, s, p, dil, o)
                 for d, k, s, p, dil, o in zip((H, W), (kh, kw), stride, padding, dilation, output_padding))
    if min(size) < 1:
        raise ValueError(
            f"{op}: the output size would be {size} for input {x.shape}, weight {w.shape}, stride {stride}, "
            f"padding {padding}; use less padding"
        )
    geometry = Geometry(size, (kh, kw), stride, tuple((p, p) for p in padding), dilation, out=(H, W))
    bias = () if b is None else (b,)
    return ConvTranspose2d.apply(x, w, *bias, geometry=geometry, groups=groups)


def _groups(op, groups):
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool):
        raise TypeError(f"{op}: groups must be an int, got {groups!r}")
    if groups < 1:
        raise ValueError(f"{op}: groups must be at least 1, got {groups}")
    return int(groups)


def check_4d(op, what, t, layout):
    """``t`` is a minigrad Tensor with 4 dimensions, or a clear error."""
    if not is_tensor(t):
        raise TypeError(f"{op}: {what} must be a minigrad Tensor, got {type(t).__name__}; wrap it: Tensor(array)")
    if t.ndim != 4:
        unbatched = " (or 3-D (C, H, W), unbatched)" if what == "input" else ""
        raise ValueError(f"{op}: {what} must be 4-D {layout}{unbatched}, got shape {t.shape}")


def _check_inputs(op, x, w, b, weight_layout):
    check_4d(op, "input", x, "(N, C, H, W)")
    check_4d(op, "weight", w, weight_layout)
    if b is not None and not is_tensor(b):
        raise TypeError(f"{op}: bias must be a minigrad Tensor or None, got {type(b).__name__}")


def _check_channels(op, C, per_group, out, shape, groups):
    if C % groups or out % groups:
        raise ValueError(
            f"{op}: channels must be divisible by groups={groups}, but the input has {C} channels and the weight "
            f"{shape} has {out} output channels; choose groups dividing both"
        )
    if C != per_group * groups:
        raise ValueError(
            f"{op}: input has {C} channels but weight expects {per_group * groups} (weight {shape}, groups={groups}); "
            f"the weight must be (out_channels, {C // groups}, kH, kW) for this input"
        )


def _check_bias(op, b, out):
    if b is not None and b.shape != (out,):
        raise ValueError(f"{op}: bias has shape {b.shape} but there are {out} output channels; bias must be ({out},)")
