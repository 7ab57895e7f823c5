"""``pad``'s other modes, as ``torch.nn.functional.pad``: 'reflect', 'replicate' and 'circular' pad a tensor with
copies of its own elements (constant padding is the pad gate in ``shape.py``).

Along a padded axis of n elements, the padded position i (from −before to n + after − 1) reads

    reflect:    |i| mirrored at both ends, without repeating the edge    (…, 2, 1 | 0, 1, …, n−1 | n−2, …)
    replicate:  the nearest edge, min(max(i, 0), n − 1)                   (…, 0, 0 | 0, 1, …, n−1 | n−1, …)
    circular:   i mod n                                                   (…, n−2, n−1 | 0, …, n−1 | 0, 1, …)

so the gate reads the input (``interpolate.Resample``) and its backward adds each padded element's
gradient back to the element it copies.
"""
from __future__ import annotations

import numpy as np

from ..core.rules import Rule
from .interpolate import Resample

MODES = ("reflect", "replicate", "circular")


class PadCopies(Resample):
    name, symbol = "pad", "pad"
    rules = (Rule("x", "dL/dy, with each padded element's gradient added to the element it copies"),)


def _source(mode, n, before, after):
    i = np.arange(-before, n + after)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "circular":
        return i % n
    i = np.abs(i)  # reflect: one mirror at each end is enough, since the padding is shorter than n
    return np.where(i > n - 1, 2 * (n - 1) - i, i)


def pad_copies(a, pad, mode):
    """``a`` padded by ``pad`` ((before, after) pairs from the last dim back, as F.pad) in ``mode``."""
    op = "pad"
    k = len(pad) // 2
    if k not in (1, 2, 3) or a.ndim not in (k + 1, k + 2):
        raise ValueError(
            f"pad: mode {mode!r} pads the last 1, 2 or 3 dims of a 2-D/3-D, 3-D/4-D or 4-D/5-D input (PyTorch's "
            f"rule: batch and channel dims are never padded); got padding {pad} for an input of shape {a.shape}"
        )
    if any(p < 0 for p in pad):
        raise ValueError(f"{op}: negative padding {pad} is not supported in mode {mode!r}; slice the tensor instead")
    plan = []
    for j in range(k):
        axis, before, after = a.ndim - 1 - j, pad[2 * j], pad[2 * j + 1]
        n = a.shape[axis]
        if mode == "reflect" and max(before, after) >= n:
            raise ValueError(
                f"{op}: reflect padding must be less than the dimension it pads, but got padding ({before}, {after}) "
                f"for dim {axis} of size {n} (input {a.shape}); use mode='replicate' or a smaller padding"
            )
        if mode == "circular" and max(before, after) > n:
            raise ValueError(
                f"{op}: circular padding ({before}, {after}) for dim {axis} of size {n} would wrap around more than "
                f"once (input {a.shape}); use a padding of at most {n}"
            )
        if mode == "replicate" and n == 0:
            raise ValueError(f"{op}: cannot replicate an empty dim {axis} (input {a.shape})")
        if before or after:
            plan.append((axis, _source(mode, n, before, after), None, None))
    if not plan:
        return a
    return PadCopies.apply(a, plan=tuple(plan))
