"""Activations as functions (``torch.nn.functional`` names): relu, sigmoid, tanh, leaky_relu, gelu, elu, silu,
softplus, mish, hardtanh, relu6, softmax, log_softmax.

relu, sigmoid and tanh are the Tensor methods' gates (``ops/elementwise.py``). leaky_relu is the
relu gate with a slope instead of a zero. Each of the others is one elementwise gate whose rule is
written with ``ops/dual.py``, so the same formula serves backward (on arrays) and create_graph (on
Tensors, differentiable again):

    gelu(x)     = x·Φ(x)                       local Φ(x) + x·φ(x)      (Φ, φ: the normal cdf and pdf)
    gelu(x, "tanh") = ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³)
                                               local ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²), t = tanh u
    elu(x)      = x if x > 0 else α(eˣ − 1)    local [x > 0] + αeˣ·[x ≤ 0]
    silu(x)     = x·σ(x)                       local σ(x)(1 + x(1 − σ(x)))
    softplus(x) = log(1 + e^(βx))/β (x where βx > threshold)      local σ(βx) (1 past the threshold)
    mish(x)     = x·tanh(softplus(x))          local tanh(sp) + x·σ(x)(1 − tanh²(sp))
    hardtanh(x) = clamp(x, min_val, max_val)   local [min_val < x < max_val] (relu6: min 0, max 6)

softmax and log_softmax are each one gate with an analytic backward, not a chain of exp/sum/div
gates: with s = softmax(x) along ``dim``,

    softmax:      dL/dx = s ⊙ (g − Σ g⊙s)         (the Jacobian diag(s) − s·sᵀ, applied to g)
    log_softmax:  dL/dx = g − s · Σ g

where g is the upstream gradient and Σ sums along ``dim``. Both subtract the maximum before
exponentiating, so logits of ±1000 stay finite.
"""
from __future__ import annotations

import numbers

import numpy as np

import math

from ..core.elementwise_gate import Elementwise
from ..core import dims
from ..core.function import Function
from ..core.rules import Rule, value
from . import dtypes, dual
from .gate import as_tensor


class LeakyRelu(Elementwise):
    name, symbol = "leaky_relu", "lrelu"
    rules = (Rule("x", "[x > 0] + negative_slope·[x ≤ 0]",
                  lambda x, y, slope: np.where(value(x) > 0, np.ones((), x.dtype), np.asarray(slope, x.dtype))),)

    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.params = (negative_slope,)
        return np.where(x > 0, x, x * negative_slope).astype(x.dtype, copy=False)


_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_GELU_CUBIC = 0.044715


def _gelu_local(x, y):
    return dual.normal_cdf(x) + x * dual.exp(-0.5 * (x * x)) * _INV_SQRT_2PI


def _gelu_tanh_local(x, y):
    t = dual.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * (x * x * x)))
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * (_SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * (x * x)))


class Gelu(Elementwise):
    name, symbol = "gelu", "gelu"
    rules = (Rule("x", "Φ(x) + x·φ(x)", _gelu_local),)

    @staticmethod
    def forward(ctx, x):
        return (x * dual.normal_cdf(x)).astype(x.dtype, copy=False)


class GeluTanh(Elementwise):
    name, symbol = "gelu", "gelu"
    rules = (Rule("x", "½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²), t = tanh(√(2/π)(x + 0.044715x³))",
                  _gelu_tanh_local),)

    @staticmethod
    def forward(ctx, x):
        return 0.5 * x * (1 + np.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x)))


class Elu(Elementwise):
    name, symbol = "elu", "elu"
    rules = (Rule("x", "α·eˣ where x ≤ 0, else 1 (NaN too, as PyTorch)",
                  lambda x, y, alpha: dual.where(value(x) <= 0, alpha * dual.exp(x), 1.0)),)

    @staticmethod
    def forward(ctx, x, alpha):
        ctx.params = (alpha,)
        with np.errstate(over="ignore"):
            return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))).astype(x.dtype, copy=False)


class Silu(Elementwise):
    name, symbol = "silu", "silu"
    rules = (Rule("x", "σ(x)(1 + x(1 − σ(x)))", lambda x, y: _silu_local(x)),)

    @staticmethod
    def forward(ctx, x):
        return x * dual.sigmoid(x)


def _silu_local(x):
    s = dual.sigmoid(x)
    return s * (1 + x * (1 - s))


class Softplus(Elementwise):
    name, symbol = "softplus", "softplus"
    rules = (Rule("x", "σ(βx) (1 where βx > threshold)", lambda x, y, beta, threshold: dual.where(
        value(x) * beta > threshold, 1.0, dual.sigmoid(x * beta))),)

    @staticmethod
    def forward(ctx, x, beta, threshold):
        ctx.params = (beta, threshold)
        bx = x * beta
        return np.where(bx > threshold, x, dual.softplus(bx) / beta).astype(x.dtype, copy=False)


def _mish_local(x, y):
    t = dual.tanh(dual.softplus(x))
    return t + x * dual.sigmoid(x) * (1 - t * t)


class Mish(Elementwise):
    name, symbol = "mish", "mish"
    rules = (Rule("x", "tanh(sp) + x·σ(x)(1 − tanh²(sp)), sp = softplus(x)", _mish_local),)

    @staticmethod
    def forward(ctx, x):
        return x * np.tanh(dual.softplus(x))


class Hardtanh(Elementwise):
    """clamp(x, min_val, max_val); as PyTorch, the gradient is 0 at the boundaries themselves."""

    name, symbol = "hardtanh", "htanh"
    rules = (Rule("x", "[min_val < x < max_val]",
                  lambda x, y, lo, hi: ~((value(x) <= lo) | (value(x) >= hi)), routes=True),)

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.params = (lo, hi)
        if x.dtype.kind in "iu":  # an integer tensor stays one, as PyTorch's (numpy would answer in float64)
            return np.clip(x, lo, hi).astype(x.dtype)
        return np.clip(x, lo, hi)


class Relu6(Hardtanh):
    name, symbol = "relu6", "relu6"
    rules = (Rule("x", "[0 < x < 6]", Hardtanh.rules[0].local, routes=True),)


class Softmax(Function):
    name, symbol = "softmax", "softmax"
    rules = (Rule("x", "s ⊙ (dL/ds − Σ dL/ds ⊙ s), Σ along dim"),)  # s = softmax(x), the output

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        if x.shape[dim] == 0:  # nothing to normalise over: the empty result, as PyTorch
            ctx.save_for_backward(x)
            return x.copy()
        # softmax(x) = softmax(x − max): the shift keeps exp from overflowing
        s = np.exp(x - x.max(axis=dim, keepdims=True))
        s /= s.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, up):
        (s,) = ctx.saved_tensors
        return (s * (up - (up * s).sum(axis=ctx.dim, keepdims=True)),)

    def backward_graph(self, node, up):
        s = node  # the output: its own gate carries the dependence on x
        return (s * (up - (up * s).sum(dim=self.dim, keepdim=True)),)


class LogSoftmax(Function):
    name, symbol = "log_softmax", "logsoftmax"
    rules = (Rule("x", "dL/dy − softmax(x) · Σ dL/dy, Σ along dim"),)

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        if x.shape[dim] == 0:  # the empty result, as PyTorch
            ctx.save_for_backward(x)
            return x.copy()
        shifted = x - x.max(axis=dim, keepdims=True)
        # log Σ exp(shifted) ≥ 0 since the largest term is exp(0) = 1: no log(0), no overflow
        out = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, up):
        (out,) = ctx.saved_tensors
        return (up - np.exp(out) * up.sum(axis=ctx.dim, keepdims=True),)

    def backward_graph(self, node, up):
        return (up - node.exp() * up.sum(dim=self.dim, keepdim=True),)

# -- the functions (torch.nn.functional names and defaults) --


def relu(x, inplace=False):
    """max(x, 0) elementwise: the relu gate routes the gradient where x > 0. ``inplace`` is accepted, as in
    PyTorch's signature; the result is always a new tensor."""
    return as_tensor("relu", x).relu()


def sigmoid(x):
    """σ(x) = 1 / (1 + e⁻ˣ); local gradient σ(x)(1 − σ(x))."""
    return as_tensor("sigmoid", x).sigmoid()


def tanh(x):
    """tanh(x); local gradient 1 − tanh²(x)."""
    return as_tensor("tanh", x).tanh()


def leaky_relu(x, negative_slope=0.01, inplace=False):
    """x where x > 0, else negative_slope·x (as ``torch.nn.functional.leaky_relu``; at 0 the slope applies);
    ``inplace`` accepted, a new tensor returned."""
    x = as_tensor("leaky_relu", x)
    if not isinstance(negative_slope, numbers.Real):
        raise TypeError(f"leaky_relu: negative_slope must be a number, got {type(negative_slope).__name__}")
    return LeakyRelu.apply(x, negative_slope=float(negative_slope))


def softmax(x, dim):
    """exp(x) / Σ exp(x) along ``dim`` (stable: computed as exp(x − max))."""
    x = as_tensor("softmax", x)
    dtypes.require_float("softmax", x.dtype)
    if x.ndim == 0:  # one element, as PyTorch takes it (dim 0 or -1): softmax 1, its gradient 0
        dims.axis("softmax", dim, 0)
        return softmax(x.reshape(1), 0).reshape(())
    return Softmax.apply(x, dim=dims.axis("softmax", dim, x.ndim))


def log_softmax(x, dim):
    """x − log Σ exp(x) along ``dim``, computed as (x − max) − log Σ exp(x − max) so it never overflows."""
    x = as_tensor("log_softmax", x)
    dtypes.require_float("log_softmax", x.dtype)
    if x.ndim == 0:  # one element, as PyTorch takes it: log_softmax 0, its gradient 0
        dims.axis("log_softmax", dim, 0)
        return log_softmax(x.reshape(1), 0).reshape(())
    return LogSoftmax.apply(x, dim=dims.axis("log_softmax", dim, x.ndim))


def _float(op, x):
    x = as_tensor(op, x)
    return x if x.dtype.kind == "f" else x.astype(np.float32)


def _real(op, what, v):
    if isinstance(v, bool) or not isinstance(v, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{op}: {what} must be a number, got {v!r}")
    return float(v)


def gelu(x, approximate="none"):
    """x·Φ(x), Φ the standard normal cdf (as ``torch.nn.functional.gelu``); ``approximate="tanh"`` uses
    ½x(1 + tanh(√(2/π)(x + 0.044715x³)))."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    x = _float("gelu", x)
    return (Gelu if approximate == "none" else GeluTanh).apply(x)


def elu(x, alpha=1.0, inplace=False):
    """x for x > 0, α(eˣ − 1) otherwise. ``inplace`` is accepted for PyTorch's signature; the result is new."""
    return Elu.apply(_float("elu", x), alpha=_real("elu", "alpha", alpha))


def silu(x, inplace=False):
    """x·σ(x) (swish)."""
    return Silu.apply(_float("silu", x))


def softplus(x, beta=1.0, threshold=20.0):
    """log(1 + e^(βx))/β, and x itself where βx > threshold (as PyTorch: linear there, for stability)."""
    beta, threshold = _real("softplus", "beta", beta), _real("softplus", "threshold", threshold)
    if beta == 0:
        raise ValueError("softplus: beta must not be 0 (the result divides by it)")
    return Softplus.apply(_float("softplus", x), beta=beta, threshold=threshold)


def mish(x, inplace=False):
    """x·tanh(softplus(x))."""
    return Mish.apply(_float("mish", x))


def hardtanh(x, min_val=-1.0, max_val=1.0, inplace=False):
    """x clamped to [min_val, max_val]; the gradient passes strictly inside (0 at the boundaries, as PyTorch)."""
    lo, hi = _real("hardtanh", "min_val", min_val), _real("hardtanh", "max_val", max_val)
    if lo > hi:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    x = as_tensor("hardtanh", x)
    if x.dtype.kind == "u" and lo < 0:
        raise ValueError(f"hardtanh: cannot clamp an unsigned tensor ({x.dtype}) to a negative min_val ({min_val}), "
                         f"as PyTorch; give min_val ≥ 0 or convert it first (x.astype('int16'))")
    return Hardtanh.apply(x, lo=lo, hi=hi)


def relu6(x, inplace=False):
    """min(max(x, 0), 6): hardtanh(x, 0, 6)."""
    return Relu6.apply(as_tensor("relu6", x), lo=0.0, hi=6.0)
