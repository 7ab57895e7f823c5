"""RMSprop: each step divided by a moving root-mean-square of the parameter's gradients.

PyTorch's update rule (single-tensor), for a gradient ``g`` of parameter ``p``::

    g   = -g                                      (if maximize)
    g   = g + weight_decay * p                    (if weight_decay: an L2 term)
    v   = alpha * v + (1 - alpha) * g * g         square_avg
    a   = alpha * a + (1 - alpha) * g             grad_avg, if centered (torch's lerp_)
    d   = sqrt(v - a * a) + eps    if centered    else    sqrt(v) + eps
    b   = momentum * b + g / d;  p = p - lr * b   if momentum > 0 (momentum_buffer)
    p   = p - lr * g / d                          otherwise

Centred, the denominator is the gradient's moving standard deviation instead of its moving RMS.
"""
from __future__ import annotations

import numbers

import numpy as np

from .adam import _lerp_
from .implementation import check_switches
from .optimizer import Optimizer, _check_nonnegative


class RMSprop(Optimizer):
    """``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
    capturable=False, foreach=None, maximize=False, differentiable=False)`` (PyTorch's order; the switches:
    ``implementation.py``); ``state[p]`` holds ``step`` and ``square_avg``, plus ``momentum_buffer`` when
    momentum > 0 and ``grad_avg`` when centred, as PyTorch's."""

    _state_keys = ("step", "square_avg")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check_switches("RMSprop", capturable=capturable, foreach=foreach, differentiable=differentiable)
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        super()._check_group(group)
        _check_nonnegative(self, group, "eps", "epsilon")
        _check_nonnegative(self, group, "momentum", "momentum")
        alpha = group["alpha"]
        if not isinstance(alpha, numbers.Real) or not 0.0 <= alpha:
            raise ValueError(f"RMSprop: invalid alpha: {alpha!r} (the smoothing constant must be a number >= 0)")

    def _state_keys_for(self, group):
        return (self._state_keys + (("momentum_buffer",) if group["momentum"] > 0 else ())
                + (("grad_avg",) if group["centered"] else ()))

    def _update(self, p, grad, group, state):
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        weight_decay, momentum = float(group["weight_decay"]), float(group["momentum"])
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p.data)
            if momentum > 0:
                state["momentum_buffer"] = np.zeros_like(p.data)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(p.data)
        state["step"] += 1
        g = grad
        if weight_decay != 0:
            g = g + weight_decay * p.data
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * g * g
        if group["centered"]:
            grad_avg = state["grad_avg"]
            _lerp_(grad_avg, g, 1 - alpha)
            avg = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = np.sqrt(square_avg)
        avg += eps
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += g / avg
            p.add_(buf, alpha=-lr)
        else:
            p.add_(-lr * g / avg)
