"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay.

PyTorch's update rule, for a gradient ``g`` of parameter ``p``::

    g   = -g                                         (if maximize)
    g   = g + weight_decay * p                       (if weight_decay)
    buf = g                                          (first step: no dampening)
    buf = momentum * buf + (1 - dampening) * g       (later steps)
    g   = g + momentum * buf   if nesterov   else   buf
    p   = p - lr * g
"""
from __future__ import annotations

from .implementation import check_switches
from .optimizer import Optimizer, _check_nonnegative


class SGD(Optimizer):
    """``SGD(params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False, foreach=None,
    differentiable=False, fused=None)`` (the last three: ``implementation.py``).

    ``lr`` has no default: the right step size depends on the model (PyTorch >= 2.2 defaults it to 1e-3).
    """

    _state_keys = ("momentum_buffer",)
    _new_options = {"maximize": False}

    def __init__(self, params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False,
                 foreach=None, differentiable=False, fused=None):
        check_switches("SGD", foreach=foreach, differentiable=differentiable, fused=fused)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        super()._check_group(group)
        _check_nonnegative(self, group, "momentum", "momentum")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"SGD: Nesterov momentum requires momentum > 0 and dampening = 0, "
                f"got momentum={group['momentum']!r}, dampening={group['dampening']!r}"
            )

    def _update(self, p, grad, group, state):
        lr, momentum, dampening = float(group["lr"]), float(group["momentum"]), float(group["dampening"])
        weight_decay = float(group["weight_decay"])
        g = grad
        if weight_decay != 0:
            g = g + weight_decay * p.data
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.astype(p.dtype, copy=True)
            else:
                buf *= momentum
                buf += (1 - dampening) * g
            g = g + momentum * buf if group["nesterov"] else buf
        p.add_(g, alpha=-lr)
