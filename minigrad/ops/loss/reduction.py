"""How a loss is reduced, shared by every loss: ``reduction`` is "mean", "sum" or "none".

With g the upstream gradient of the reduced loss, "mean" divides it by the number of terms (or
by another count: kl_div's batch size, the class losses' total weight), "sum" hands it to every
term, "none" gives each term its own.
"""
from __future__ import annotations

import numpy as np

from ..accumulate import shared, wide_sum

REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(op, reduction, allowed=REDUCTIONS):
    if reduction not in allowed:
        choices = ", ".join(repr(r) for r in allowed)
        raise ValueError(f"{op}: reduction must be one of {choices}, got {reduction!r}")


def _reduce(losses, reduction, divisor=None):
    """The per-term losses reduced; ``divisor`` overrides the count for "mean" (kl_div's batchmean)."""
    if reduction == "none":
        return losses
    total = wide_sum(losses)  # float16 in float32: 70,000 terms would be inf
    if reduction == "sum":
        return np.asarray(total, dtype=losses.dtype)
    return np.asarray(total / (divisor if divisor is not None else max(losses.size, 1)), dtype=losses.dtype)


def _spread(up, reduction, count):
    """The upstream gradient each term receives: g (sum or none, elementwise for none) or g/count (mean)."""
    if reduction == "mean":
        return shared(up, count)
    return up
