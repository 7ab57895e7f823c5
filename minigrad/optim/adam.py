"""Adam and AdamW: moving averages of the gradient and of its square, bias-corrected.

PyTorch's update rule (single-tensor), for a gradient ``g`` of parameter ``p`` at step ``t``::

    g   = -g                                     (if maximize)
    p   = p * (1 - lr * weight_decay)            AdamW (Adam with decoupled_weight_decay): decoupled decay, first
    g   = g + weight_decay * p                   Adam: L2 penalty added to the gradient
    m   = m + (1 - beta1) * (g - m)              (torch's lerp_, i.e. beta1 * m + (1 - beta1) * g)
    v   = beta2 * v + (1 - beta2) * g * g
    v̂   = max(v̂, v)                              amsgrad: the largest v so far, which replaces v below
    denom = sqrt(v) / sqrt(1 - beta2**t) + eps
    p   = p - lr / (1 - beta1**t) * m / denom

AMSGrad (Reddi et al., 2018) never lets the denominator shrink, so a rare large gradient is not
followed by oversized steps once its square has decayed out of v.
"""
from __future__ import annotations

import numbers

import numpy as np

from .implementation import check_switches
from .optimizer import Optimizer, _check_nonnegative


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *, foreach=None,
    maximize=False, capturable=False, differentiable=False, fused=None, decoupled_weight_decay=False)``; weight
    decay is an L2 term, or AdamW's decoupled decay with ``decoupled_weight_decay=True`` (as PyTorch). ``foreach``,
    ``capturable``, ``differentiable``, ``fused``: ``implementation.py``."""

    _state_keys = ("step", "exp_avg", "exp_avg_sq")
    _new_options = {"amsgrad": False, "maximize": False, "decoupled_weight_decay": False}

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        check_switches(type(self).__name__, foreach=foreach, capturable=capturable, differentiable=differentiable,
                       fused=fused)
        betas = tuple(betas) if isinstance(betas, list) else betas
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, decoupled_weight_decay=decoupled_weight_decay))

    def _state_keys_for(self, group):
        return self._state_keys + (("max_exp_avg_sq",) if group["amsgrad"] else ())

    def _check_group(self, group):
        super()._check_group(group)
        _check_nonnegative(self, group, "eps", "epsilon")
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{type(self).__name__}: betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            if not isinstance(beta, numbers.Real) or not 0.0 <= beta < 1.0:
                raise ValueError(
                    f"{type(self).__name__}: invalid beta parameter at index {i}: {beta!r} (it must be in [0, 1))"
                )

    def _update(self, p, grad, group, state):
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(p.data)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        state["step"] += 1
        step = state["step"]

        g = grad
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                p.mul_(1 - lr * weight_decay)
            else:
                g = g + weight_decay * p.data
        _lerp_(exp_avg, g, 1 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * g * g

        if group["amsgrad"]:
            np.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            exp_avg_sq = state["max_exp_avg_sq"]
        step_size = lr / (1 - beta1**step)
        denom = np.sqrt(exp_avg_sq) / (1 - beta2**step) ** 0.5 + eps
        p.add_(-step_size * exp_avg / denom)


class AdamW(Adam):
    """``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *, maximize=False,
    foreach=None, capturable=False, differentiable=False, fused=None)``: decoupled weight decay (Loshchilov &
    Hutter), the parameter shrinks by ``lr * weight_decay`` before the Adam step; ``Adam(...,
    decoupled_weight_decay=True)``, as in PyTorch."""

    _new_options = {**Adam._new_options, "decoupled_weight_decay": True}

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         foreach=foreach, maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)


def _lerp_(a, end, weight):
    """``a += weight * (end - a)`` in place, with the two-sided formula of ``torch.lerp`` (same rounding)."""
    if abs(weight) < 0.5:
        a += weight * (end - a)
    else:
        a[...] = end - (end - a) * (1 - weight)

