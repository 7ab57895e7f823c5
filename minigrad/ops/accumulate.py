"""Counts, scale factors and sums for half precision: what PyTorch calls the accumulate type.

float16 holds nothing above 65,504, so a count of 70,000 elements is inf in float16 and a mean's
gradient g/N is 0, a variance's Σ(x − μ)²/N is inf/inf = nan. PyTorch sums float16 in float32 and
divides by counts it never rounds to float16; the gates that average do the same here: they sum
with ``wide_sum`` (float32 for float16, the input's own dtype otherwise, so float32 and float64 results
are unchanged), share a gradient out over N elements with ``shared``, and cast the result back to the input's
dtype.
"""
from __future__ import annotations

import numpy as np

_HALF = np.dtype(np.float16)


def acc_dtype(dtype):
    """The dtype sums of ``dtype`` are taken in: float32 for float16, ``dtype`` itself otherwise."""
    return np.dtype(np.float32) if dtype == _HALF else np.dtype(dtype)


def wide_sum(a, axis=None, keepdims=False):
    """Σ a over ``axis``, float16 in float32 (the result stays float32: cast it back when done)."""
    return a.sum(axis=axis, dtype=np.float32 if a.dtype == _HALF else None, keepdims=keepdims)


def shared(g, count):
    """g / count (a gradient shared out over ``count`` elements) in g's dtype, g an array or a Tensor; in float16
    as g·(1/count) with the reciprocal in float64 (a zero count gives inf, as PyTorch's mean of nothing)."""
    if g.dtype != _HALF:
        return g / count
    with np.errstate(divide="ignore"):
        share = np.float64(1.0) / count
    if isinstance(g, (np.ndarray, np.generic)):
        return (g * share).astype(g.dtype)
    return g * float(share)  # a Tensor: a Python float keeps its dtype
