"""Batch normalisation and dropout.

Batch norm (the lectures' "spatial batch normalization" with the affine γ, β), per channel c of an
input x of shape (N, C) or (N, C, H, W) (any trailing dims), over the M = N·H·W values of c:

    μ = mean(x),  σ² = mean((x − μ)²)  (biased),  x̂ = (x − μ)/√(σ² + eps),  y = γ·x̂ + β

In training the batch's μ, σ² are used and the running statistics move towards them in place,
``r ← (1 − momentum)·r + momentum·batch``, with the *unbiased* variance σ²·M/(M − 1) (as PyTorch).
In eval the running statistics replace μ, σ², so y is a fixed affine map of x.

One gate, with the analytic backward (writing g = dL/dy and mean/Σ over the M values of a channel):

    training:  dL/dx = (γ/σ)·(g − mean(g) − x̂·mean(g·x̂))    (μ and σ depend on x too)
    eval:      dL/dx = (γ/σ)·g
    both:      dL/dγ = Σ g·x̂,   dL/dβ = Σ g

Dropout (inverted): keep each unit with probability 1 − p and scale it by 1/(1 − p), so the
expected activation is unchanged and eval needs no rescaling; the gradient flows through the
same mask.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..core.creation import rng
from ..core.elementwise_gate import Elementwise
from ..core.function import Function
from ..core.rules import Rule
from .gate import as_tensor, is_tensor


def _channel_sum(a):
    """Σ over axes 0 and 2 of an (N, C, L) array: one pass (einsum beats ``sum(axis=(0, 2))`` here); float16
    is summed in float32, as PyTorch does (and the sum stays float32)."""
    return np.einsum("ncl->c", a, dtype=_wide(a.dtype))


def _channel_dot(a, b):
    """Σ a·b over axes 0 and 2 of two (N, C, L) arrays, without materialising a·b (float16 in float32)."""
    return np.einsum("ncl,ncl->c", a, b, dtype=_wide(np.result_type(a, b)))


def _wide(dtype):
    return np.float32 if dtype == np.float16 else None


class BatchNorm(Function):
    """Inputs: x, then γ if given, then β if given. Works on x viewed as (N, C, L), L = H·W (1 for (N, C))."""

    name, symbol = "batch_norm", "BN"
    TRAINING = Rule("x", "(γ/σ)(dL/dy − mean(dL/dy) − x̂·mean(dL/dy·x̂))")
    EVAL = Rule("x", "(γ/σ)·dL/dy (eval: fixed μ, σ)")
    WEIGHT, BIAS = Rule("γ", "Σ dL/dy·x̂"), Rule("β", "Σ dL/dy")
    rules = (TRAINING, WEIGHT, BIAS)

    @staticmethod
    def forward(ctx, x, *affine, has_weight, has_bias, training, momentum, eps, running):
        n, c = x.shape[:2]
        x3 = x.reshape(n, c, -1)
        count = x3.shape[0] * x3.shape[2]
        weight = affine[0] if has_weight else None
        bias = affine[-1] if has_bias else None
        ctx.has_weight, ctx.has_bias, ctx.training, ctx.count, ctx.eps = has_weight, has_bias, training, count, eps
        ctx.rules = (ctx.TRAINING if training else ctx.EVAL,) + (ctx.WEIGHT,) * has_weight + (ctx.BIAS,) * has_bias
        # training keeps only arrays it computed, so x may change in place afterwards; eval keeps x itself
        if training:
            mean = _channel_sum(x3) / count
            xc = x3 - mean[:, None]  # kept for backward: x̂ = xc·invstd, without another pass (float16: in float32)
            var = _channel_dot(xc, xc) / count  # biased: what the batch is normalised with
            invstd = 1.0 / np.sqrt(var + eps)
            if running is not None:
                _update_running(running[0], mean, momentum)
                _update_running(running[1], var * (count / (count - 1)), momentum)
            scale = _scale(invstd, weight, x.dtype)
            y = xc * scale[:, None]
            if bias is not None:
                y += bias[:, None]
            y = y.astype(x.dtype, copy=False)
            ctx.save_for_backward(xc, invstd, scale)
        else:
            mean = running[0].astype(x.dtype, copy=False)
            invstd = 1.0 / np.sqrt(running[1].astype(x.dtype, copy=False) + eps)
            scale = _scale(invstd, weight, x.dtype)
            shift = -mean * scale if bias is None else bias - mean * scale
            y = x3 * scale[:, None]
            y += shift[:, None]
            ctx.save_for_backward(x3, invstd, scale, mean)
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, up):
        if ctx.training:
            xc, invstd, scale = ctx.saved_tensors
        else:
            x3, invstd, scale, mean = ctx.saved_tensors
        g = up.reshape(up.shape[0], up.shape[1], -1)
        sum_g = _channel_sum(g)
        if ctx.training:
            sum_g_xhat = _channel_dot(g, xc) * invstd
            # (γ/σ)(g − mean g − x̂·mean(g·x̂)) as g·a − xc·b − c with per-channel a, b, c: four passes
            dx = g * scale[:, None]
            dx -= xc * (scale * invstd * sum_g_xhat / ctx.count)[:, None]
            dx -= (scale * sum_g / ctx.count)[:, None]
        else:
            sum_g_xhat = (_channel_dot(g, x3) - mean * sum_g) * invstd  # Σ g·(x − μ)/σ
            dx = g * scale[:, None]
        grads = [dx.reshape(up.shape)]
        if ctx.has_weight:
            grads.append(sum_g_xhat)
        if ctx.has_bias:
            grads.append(sum_g)
        return tuple(grads)

    def backward_graph(self, node, up):
        """The same formulas in Tensor operations, the batch statistics recomputed as gates on x (they depend
        on it); in eval mode the running statistics are constants."""
        x = node._inputs[0]
        weight = node._inputs[1] if self.has_weight else None
        n, c = x.shape[:2]
        x3, g, axes = x.reshape(n, c, -1), up.reshape(n, c, -1), (0, 2)
        if self.training:
            xc = x3 - x3.mean(dim=axes, keepdim=True)
            invstd = ((xc * xc).mean(dim=axes, keepdim=True) + self.eps) ** -0.5
            xhat = xc * invstd
            scale = invstd if weight is None else invstd * weight.reshape(1, c, 1)
            dx = scale * (g - g.mean(dim=axes, keepdim=True) - xhat * (g * xhat).mean(dim=axes, keepdim=True))
        else:
            _, invstd, _, mean = self.saved_tensors
            xhat = (x3 - mean[:, None]) * invstd[:, None]
            scale = invstd[:, None] if weight is None else weight.reshape(c, 1) * invstd[:, None]
            dx = g * scale
        grads = [dx.reshape(x.shape)]
        if self.has_weight:
            grads.append((g * xhat).sum(dim=axes))
        if self.has_bias:
            grads.append(g.sum(dim=axes))
        return tuple(grads)


def _scale(invstd, weight, dtype):
    """γ/σ per channel (1/σ without an affine), in x's dtype so float32 stays float32."""
    scale = invstd if weight is None else weight * invstd
    return scale.astype(dtype, copy=False)


def _update_running(stat, batch, momentum):
    """stat ← (1 − momentum)·stat + momentum·batch, in place and in stat's own dtype."""
    np.multiply(stat, 1.0 - momentum, out=stat, casting="unsafe")
    np.add(stat, momentum * batch, out=stat, casting="unsafe")


def _running_array(name, stat, channels, op="batch_norm"):
    """The numpy array behind a running statistic (updated in place), checked against C."""
    array = stat.data if is_tensor(stat) else stat
    if not isinstance(array, np.ndarray):
        raise TypeError(
            f"{op}: {name} must be a numpy array or a Tensor (it is updated in place), got {type(stat).__name__}"
        )
    if array.shape != (channels,):
        raise ValueError(
            f"{op}: {name} has shape {array.shape} but the input has {channels} channels; "
            f"it must have shape ({channels},), one value per channel"
        )
    if array.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must be a floating-point array, got {array.dtype}")
    return array


def _affine(name, p, channels):
    if p is None:
        return None
    p = as_tensor("batch_norm", p, name)
    if p.shape != (channels,):
        raise ValueError(
            f"batch_norm: {name} has shape {p.shape} but the input has {channels} channels; "
            f"it must have shape ({channels},)"
        )
    return p


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalisation per channel (dim 1) of x (N, C, ...), as ``torch.nn.functional.batch_norm``.

    y = γ·(x − μ)/√(σ² + eps) + β, with the batch's mean and biased variance when ``training``
    (and the running statistics moved towards them in place, with the unbiased variance), else
    ``running_mean`` and ``running_var``. These may be numpy arrays or Tensors (a Tensor's array is
    updated in place and its version raised; no graph is built for them), or both None in training.
    ``weight`` (γ) and ``bias`` (β) have shape (C,); without them there is no affine step.
    """
    x = as_tensor("batch_norm", x)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C) or (N, C, H, W), got {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"batch_norm: the input must be floating point, got {x.dtype}")
    channels = x.shape[1]
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: pass both running_mean and running_var, or neither (training only)")
    if running_mean is None:
        if not training:
            raise ValueError(
                "batch_norm: eval mode (training=False) normalises with running_mean and running_var, "
                "but both are None; pass them, or training=True to use the batch statistics"
            )
        running = None
    else:
        running = (_running_array("running_mean", running_mean, channels),
                   _running_array("running_var", running_var, channels))
    if training and x.numel() // max(channels, 1) <= 1:
        raise ValueError(
            f"batch_norm: expected more than 1 value per channel when training, got input of shape {x.shape}; "
            f"use a batch of at least 2 (the unbiased variance of one value is undefined)"
        )
    if not isinstance(momentum, numbers.Real) or not isinstance(eps, numbers.Real):
        raise TypeError(f"batch_norm: momentum and eps must be numbers, got {momentum!r} and {eps!r}")
    weight, bias = _affine("weight", weight, channels), _affine("bias", bias, channels)
    affine = [p for p in (weight, bias) if p is not None]
    out = BatchNorm.apply(
        x, *affine, has_weight=weight is not None, has_bias=bias is not None, training=bool(training),
        momentum=float(momentum), eps=float(eps), running=running,
    )
    if training and running is not None:
        for stat in (running_mean, running_var):
            if is_tensor(stat):
                stat._version += 1  # an in-place change: a gate that saved the old value will notice
    return out


class Dropout(Elementwise):
    """Inverted dropout: the mask holds 1/(1 − p) for a kept unit and 0 for a dropped one, which gets no gradient."""

    name, symbol = "dropout", "dropout"
    rules = (Rule("x", "mask/(1 − p)", lambda x, y, mask: mask),)
    saves = ""

    @staticmethod
    def forward(ctx, x, mask):
        ctx.params = (mask,)
        return x * mask


class Dropout2d(Dropout):
    """Dropout of whole channels: one mask value per (sample, channel), broadcast over the positions."""

    name, symbol = "dropout2d", "dropout2d"
    rules = (Rule("x", "mask/(1 − p), one per channel", lambda x, y, mask: mask),)


def dropout(x, p=0.5, training=True, inplace=False):
    """Inverted dropout: zero each unit with probability ``p``, scale the kept ones by 1/(1 − p).

    The identity when not training or when p == 0; zeros (and zero gradients) when p == 1. The
    mask is drawn from minigrad's generator, so ``minigrad.manual_seed`` repeats it. ``inplace`` is
    accepted for PyTorch's signature; the result is a new tensor.
    """
    x = as_tensor("dropout", x)
    if not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability p has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return x
    return Dropout.apply(x, mask=_mask(x, p, x.shape))


def _mask(x, p, shape):
    """1/(1 − p) for a kept unit, 0 for a dropped one, in ``shape`` (broadcast against x)."""
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
    if p == 1:
        return np.zeros(shape, dtype=dtype)
    keep = rng().random(shape, dtype=np.float32) >= p  # P(keep) = 1 − p
    return np.where(keep, np.asarray(1.0 / (1.0 - p), dtype=dtype), np.zeros((), dtype=dtype))


_DROPOUT2D_WARNINGS = {  # PyTorch 2.13's, word for word
    3: "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is desired - "
       "input is interpreted as shape (N, C, L), where C is the channel dim. This behavior will change in a future "
       "release to interpret the input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
       "channel-wise dropout behavior, please switch to using dropout1d instead.",
    2: "dropout2d: Received a 2-D input to dropout2d, which is deprecated and will result in an error in a future "
       "release. To retain the behavior and silence this warning, please use dropout instead. Note that dropout2d "
       "exists to provide channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, and an "
       "optional batch dimension (i.e. 3D or 4D inputs).",
}


def dropout2d(x, p=0.5, training=True, inplace=False):
    """Channel dropout, as ``torch.nn.functional.dropout2d``: each channel of each sample of x (N, C, H, W) is
    zeroed as a whole with probability ``p``, the kept ones scaled by 1/(1 − p) (neighbouring positions are
    correlated, so dropping single ones regularises little). As PyTorch 2.13, a 3-D x is read as (N, C, L) and a
    2-D one as (N, C), each with PyTorch's warning (use dropout1d / dropout for those)."""
    x = as_tensor("dropout2d", x)
    if not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout2d: probability p has to be between 0 and 1, but got {p}")
    if x.ndim not in (2, 3, 4):
        raise ValueError(f"dropout2d: expected an input of shape (N, C, H, W) (or (N, C, L)), got {x.shape}")
    if x.ndim < 4:
        import warnings

        warnings.warn(_DROPOUT2D_WARNINGS[x.ndim], UserWarning, stacklevel=2)
    if not training or p == 0:
        return x
    return Dropout2d.apply(x, mask=_mask(x, p, x.shape[:2] + (1,) * (x.ndim - 2)))
