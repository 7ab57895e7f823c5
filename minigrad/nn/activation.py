"""More activations as modules (GELU, ELU, SiLU, Softplus, Hardtanh, ReLU6, Mish) and LogSoftmax, with PyTorch's
arguments, attributes and ``repr``; each calls its function in ``minigrad.nn.functional``, one elementwise gate.

``inplace=True`` is accepted where PyTorch has it, as for ReLU: the output is always a new tensor
(the gate's backward reads its input). The arguments are checked when the module is built.
"""
from __future__ import annotations

from . import functional as F
from .layers import number
from .module import Module


def _inplace(inplace, first=False):
    """PyTorch's way of showing ``inplace`` in a repr: only when True."""
    return ("inplace=True" if first else ", inplace=True") if inplace else ""


class GELU(Module):
    """x·Φ(x), Φ the standard normal cdf; ``approximate="tanh"`` is ½x(1 + tanh(√(2/π)(x + 0.044715x³)))."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' (the exact x·Φ(x)) or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class ELU(Module):
    """x for x > 0, α(eˣ − 1) otherwise."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = number("ELU", "alpha", alpha), inplace

    def forward(self, x):
        return F.elu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}{_inplace(self.inplace)}"


class _NoOptions(Module):
    """An activation whose only argument is ``inplace``."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def extra_repr(self):
        return _inplace(self.inplace, first=True)


class SiLU(_NoOptions):
    """x·σ(x) (swish)."""

    def forward(self, x):
        return F.silu(x)


class Mish(_NoOptions):
    """x·tanh(softplus(x))."""

    def forward(self, x):
        return F.mish(x)


class Softplus(Module):
    """log(1 + e^(βx))/β, and x itself where βx > threshold (linear there, for stability, as PyTorch)."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = number("Softplus", "beta", beta), number("Softplus", "threshold", threshold)
        if beta == 0:
            raise ValueError("Softplus: beta must not be 0 (the result is divided by it); beta=1 is the usual softplus")

    def forward(self, x):
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """x clamped to [min_val, max_val]; the gradient is 1 strictly inside, 0 at and past the bounds (as PyTorch)."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        op = type(self).__name__
        self.min_val, self.max_val = number(op, "min_val", min_val), number(op, "max_val", max_val)
        if not max_val > min_val:  # written so that nan fails too
            raise ValueError(f"{op}: max_val ({max_val}) must be greater than min_val ({min_val}), as in PyTorch")
        self.inplace = inplace

    def forward(self, x):
        return F.hardtanh(x, self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace(self.inplace)}"


class ReLU6(Hardtanh):
    """min(max(x, 0), 6): Hardtanh(0, 6), drawn as its own relu6 gate."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def forward(self, x):
        return F.relu6(x)

    def extra_repr(self):
        return _inplace(self.inplace, first=True)


class LogSoftmax(Module):
    """x − log Σ exp(x) along ``dim``, one stable gate (pair it with NLLLoss)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        if self.dim is None:
            raise ValueError("LogSoftmax: give the dimension to normalise over, e.g. nn.LogSoftmax(dim=1)")
        return F.log_softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"
