"""Adagrad: each step divided by the root of the sum of every squared gradient so far.

PyTorch's update rule, for a gradient ``g`` of parameter ``p`` at step ``t``::

    g   = -g                                  (if maximize)
    g   = g + weight_decay * p                (if weight_decay: an L2 term)
    clr = lr / (1 + (t - 1) * lr_decay)
    s   = s + g * g                           sum, starting at initial_accumulator_value
    p   = p - clr * g / (sqrt(s) + eps)

A parameter that has had large gradients takes small steps from then on; the step sizes only shrink.
"""
from __future__ import annotations

import numpy as np

from .implementation import check_switches
from .optimizer import Optimizer, _check_nonnegative


class Adagrad(Optimizer):
    """``Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, foreach=None,
    *, maximize=False, differentiable=False, fused=None)`` (the switches: ``implementation.py``). As in PyTorch, every parameter's state (``step`` 0, ``sum`` filled with
    ``initial_accumulator_value``) exists from the start."""

    _state_keys = ("step", "sum")

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        check_switches("Adagrad", foreach=foreach, differentiable=differentiable, fused=fused)
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group, self.state.setdefault(p, {}))

    def _check_group(self, group):
        super()._check_group(group)
        _check_nonnegative(self, group, "lr_decay", "lr_decay")
        _check_nonnegative(self, group, "initial_accumulator_value", "initial_accumulator_value")
        _check_nonnegative(self, group, "eps", "epsilon")

    @staticmethod
    def _init_state(p, group, state):
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(p.data, group["initial_accumulator_value"])

    def _update(self, p, grad, group, state):
        self._init_state(p, group, state)  # a group added after construction
        lr, lr_decay, eps = float(group["lr"]), float(group["lr_decay"]), float(group["eps"])
        weight_decay = float(group["weight_decay"])
        state["step"] += 1
        g = grad
        if weight_decay != 0:
            g = g + weight_decay * p.data
        clr = lr / (1 + (state["step"] - 1) * lr_decay)
        state["sum"] += g * g
        p.add_(-clr * g / (np.sqrt(state["sum"]) + eps))
