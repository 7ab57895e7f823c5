"""Normalisation within each sample: layer_norm, group_norm, instance_norm (``torch.nn.functional``'s).

Batch norm (``norm.py``) normalises each channel over the batch; these normalise each sample on its own,
so they behave the same in training and eval and at any batch size. Each normalises groups of M values
(layer norm: the trailing ``normalized_shape``; group norm: the C/G channels of a group, with their
positions; instance norm: one channel's positions) with their own mean and biased variance, then applies
an elementwise affine γ, β (per element of ``normalized_shape`` for layer norm, per channel otherwise):

    x̂ = (x − μ)/√(σ² + eps),   y = γ·x̂ + β

One gate each, whose backward is the same formula as batch norm's, with ĝ = γ·dL/dy and the means over a
group's M values:

    dL/dx = (1/σ)·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)),   dL/dγ = Σ dL/dy·x̂,   dL/dβ = Σ dL/dy

(Σ over everything γ is shared across). instance_norm keeps running statistics as batch norm does when
they are given (the batch mean of the instances' means and unbiased variances), and with
``use_input_stats=False`` normalises each channel with them: batch norm in eval mode.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..core.function import Function, reduce_to, sum_to_shape
from ..core.rules import Rule
from .gate import as_tensor, is_tensor
from .norm import BatchNorm, _running_array, _update_running


class _SampleNorm(Function):
    """Inputs x, then γ if given, then β if given. ``rows``: x as (R, M), one group of M values per row;
    ``view``: x's shape in which γ and β (of shape ``affine``) broadcast."""

    WEIGHT, BIAS = Rule("γ", "Σ dL/dy·x̂"), Rule("β", "Σ dL/dy")
    X = Rule("x", "(1/σ)(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)), ĝ = γ·dL/dy, means over each group")
    rules = (X, WEIGHT, BIAS)

    @staticmethod
    def forward(ctx, x, *params, rows, view, affine, has_weight, has_bias, eps):
        ctx.rows, ctx.view, ctx.affine, ctx.eps = rows, view, affine, eps
        ctx.has_weight, ctx.has_bias, ctx.shape = has_weight, has_bias, x.shape
        ctx.param_shape = params[0].shape if params else None
        ctx.rules = (ctx.X,) + (ctx.WEIGHT,) * has_weight + (ctx.BIAS,) * has_bias
        xr = x.reshape(rows)
        if xr.dtype == np.float16:  # the statistics in float32, as PyTorch: Σ(x − μ)² over 70,000 values is inf
            xr = xr.astype(np.float32)
        mean = xr.mean(axis=1, keepdims=True)
        xc = xr - mean
        squares = np.einsum("rm,rm->r", xc, xc)[:, None]
        invstd = 1.0 / np.sqrt(squares / max(rows[1], 1) + eps)
        xhat = xc * invstd
        ctx.stats = mean[:, 0], squares[:, 0]  # instance norm's running statistics are made from these
        y = xhat.reshape(view)
        if has_weight:
            y = y * params[0].reshape(affine)
        if has_bias:
            y = y + params[-1].reshape(affine)
        ctx.save_for_backward(xhat, invstd, params[0] if has_weight else None)
        return y.reshape(x.shape).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, up):
        xhat, invstd, weight = ctx.saved_tensors
        g = up.reshape(ctx.view)
        ghat = (g if weight is None else g * weight.reshape(ctx.affine)).reshape(ctx.rows)
        dx = invstd * (ghat - ghat.mean(axis=1, keepdims=True) - xhat * (ghat * xhat).mean(axis=1, keepdims=True))
        grads = [dx.reshape(ctx.shape)]
        if ctx.has_weight:
            grads.append(sum_to_shape(g * xhat.reshape(ctx.view), ctx.affine).reshape(ctx.param_shape))
        if ctx.has_bias:
            grads.append(sum_to_shape(g, ctx.affine).reshape(ctx.param_shape))
        return tuple(grads)

    def backward_graph(self, node, up):
        """The same formulas in Tensor operations, the statistics recomputed as gates on x (they depend on it)."""
        x = node._inputs[0]
        weight = node._inputs[1] if self.has_weight else None
        xr = x.reshape(self.rows)
        xc = xr - xr.mean(dim=1, keepdim=True)
        invstd = ((xc * xc).mean(dim=1, keepdim=True) + self.eps) ** -0.5
        xhat = xc * invstd
        g = up.reshape(self.view)
        ghat = (g if weight is None else g * weight.reshape(self.affine)).reshape(self.rows)
        dx = invstd * (ghat - ghat.mean(dim=1, keepdim=True) - xhat * (ghat * xhat).mean(dim=1, keepdim=True))
        grads = [dx.reshape(self.shape)]
        if self.has_weight:
            grads.append(reduce_to(g * xhat.reshape(self.view), self.affine).reshape(self.param_shape))
        if self.has_bias:
            grads.append(reduce_to(g, self.affine).reshape(self.param_shape))
        return tuple(grads)


class LayerNorm(_SampleNorm):
    name, symbol = "layer_norm", "LN"


class GroupNorm(_SampleNorm):
    name, symbol = "group_norm", "GN"


class InstanceNorm(_SampleNorm):
    name, symbol = "instance_norm", "IN"


class InstanceNormEval(BatchNorm):
    """instance_norm with ``use_input_stats=False``: each channel normalised with the running statistics,
    which is batch norm in eval mode."""

    name, symbol = "instance_norm", "IN"


def _affine(op, name, p, shape):
    if p is None:
        return None
    p = as_tensor(op, p, name)
    if p.shape != tuple(shape):
        raise ValueError(f"{op}: {name} has shape {p.shape} but must have shape {tuple(shape)}")
    return p


def _float_input(op, x, min_ndim, layout):
    x = as_tensor(op, x)
    if x.ndim < min_ndim:
        raise ValueError(f"{op}: expected an input of shape {layout}, got {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: the input must be floating point, got {x.dtype}")
    return x


def _eps(op, eps):
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
        raise TypeError(f"{op}: eps must be a number, got {eps!r}")
    return float(eps)


def _apply(gate, x, weight, bias, **geometry):
    params = [p for p in (weight, bias) if p is not None]
    return gate.apply(x, *params, has_weight=weight is not None, has_bias=bias is not None, **geometry)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing dims ``normalized_shape`` (an int or a tuple) of each sample, as
    ``torch.nn.functional.layer_norm``; ``weight`` and ``bias`` have shape ``normalized_shape``."""
    op = "layer_norm"
    x = _float_input(op, input, 1, "(..., *normalized_shape)")
    shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
    if not shape or not all(isinstance(n, numbers.Integral) for n in shape):
        raise TypeError(f"{op}: normalized_shape must be an int or a non-empty tuple of ints, got {normalized_shape!r}")
    if x.shape[x.ndim - len(shape):] != shape or len(shape) > x.ndim:
        raise ValueError(
            f"{op}: normalized_shape {shape} must be the input's last dims, but the input has shape {x.shape}; "
            f"e.g. normalized_shape={x.shape[-1:]} normalises over the last dim"
        )
    m = math.prod(shape)
    weight, bias = _affine(op, "weight", weight, shape), _affine(op, "bias", bias, shape)
    rows = (x.numel() // max(m, 1), m)
    return _apply(LayerNorm, x, weight, bias, rows=rows, view=rows, affine=(m,), eps=_eps(op, eps))


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise each sample's channels in ``num_groups`` groups (each group's channels and positions together),
    as ``torch.nn.functional.group_norm``; ``weight`` and ``bias`` have one value per channel, (C,)."""
    op = "group_norm"
    x = _float_input(op, input, 2, "(N, C, ...)")
    n, c = x.shape[:2]
    if isinstance(num_groups, bool) or not isinstance(num_groups, numbers.Integral) or num_groups < 1:
        raise ValueError(f"{op}: num_groups must be a positive int, got {num_groups!r}")
    if c % num_groups:
        raise ValueError(
            f"{op}: the input's {c} channels must be divisible by num_groups ({num_groups}); "
            f"use a divisor of {c}, e.g. {max(d for d in range(1, num_groups + 1) if c % d == 0)}"
        )
    weight, bias = _affine(op, "weight", weight, (c,)), _affine(op, "bias", bias, (c,))
    positions = x.numel() // max(n * c, 1)
    rows = (n * num_groups, (c // num_groups) * positions)
    return _apply(GroupNorm, x, weight, bias, rows=rows, view=(n, c, positions), affine=(c, 1), eps=_eps(op, eps))


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalise each channel of each sample over its positions, as ``torch.nn.functional.instance_norm``.

    ``weight`` and ``bias`` have shape (C,). With ``running_mean``/``running_var`` (numpy arrays or Tensors
    of shape (C,), updated in place) the statistics move towards the batch mean of the instances' means and
    unbiased variances, r ← (1 − momentum)·r + momentum·batch; ``use_input_stats=False`` normalises with
    them instead (the same map in training and eval).
    """
    op = "instance_norm"
    x = _float_input(op, input, 3, "(N, C, L) or (N, C, H, W)")
    n, c = x.shape[:2]
    positions = x.numel() // max(n * c, 1)
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{op}: pass both running_mean and running_var, or neither")
    running = None if running_mean is None else (
        _running_array("running_mean", running_mean, c, op), _running_array("running_var", running_var, c, op))
    if not isinstance(momentum, numbers.Real):
        raise TypeError(f"{op}: momentum must be a number, got {momentum!r}")
    weight, bias = _affine(op, "weight", weight, (c,)), _affine(op, "bias", bias, (c,))
    if not use_input_stats:
        if running is None:
            raise ValueError(f"{op}: use_input_stats=False normalises with running_mean and running_var; pass them")
        params = [p for p in (weight, bias) if p is not None]
        return InstanceNormEval.apply(x, *params, has_weight=weight is not None, has_bias=bias is not None,
                                      training=False, momentum=float(momentum), eps=_eps(op, eps), running=running)
    if positions <= 1:
        raise ValueError(
            f"{op}: expected more than 1 spatial element per channel when using the input's statistics, got input "
            f"of shape {x.shape}"
        )
    gate = InstanceNorm()
    params = [p for p in (weight, bias) if p is not None]
    out = gate._apply((x, *params), dict(rows=(n * c, positions), view=(n, c, positions), affine=(c, 1),
                                         has_weight=weight is not None, has_bias=bias is not None, eps=_eps(op, eps)))
    if running is not None:
        means, squares = gate.stats
        _update_running(running[0], means.reshape(n, c).mean(axis=0), float(momentum))
        _update_running(running[1], (squares / (positions - 1)).reshape(n, c).mean(axis=0), float(momentum))
        for stat in (running_mean, running_var):
            if is_tensor(stat):
                stat._version += 1
    return out
