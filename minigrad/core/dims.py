"""Dimension arguments, checked in one place: ``dim=1``, ``dim=-1``, ``dim=(0, 2)``, as PyTorch reads them.

An out-of-range dim is an IndexError that names the op and the range, never an index that wraps around
(``flatten(4)`` on an (N, C, H, W) tensor must not flatten the batch too).
"""
from __future__ import annotations

import numpy as np


def _is_int(d):
    return isinstance(d, (int, np.integer)) and not isinstance(d, (bool, np.bool_))


def axis(op, dim, ndim, *, new=False):
    """``dim`` as a non-negative axis of an ``ndim``-dimensional tensor (``new``: a position for a new axis,
    as ``unsqueeze`` takes, so one more is allowed), or a TypeError / IndexError naming ``op``."""
    if not _is_int(dim):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    size = max(ndim + 1 if new else ndim, 1)  # a 0-d tensor takes dim 0 or -1, as in PyTorch
    if not -size <= dim < size:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dimensions "
                         f"(expected in [{-size}, {size - 1}])")
    return int(dim) % size


def existing_axis(op, dim, ndim):
    """``axis`` for the ops that index the shape at ``dim`` (size, split, chunk): a 0-d tensor has no dimension
    to name, so dim 0 and -1 are refused there, as PyTorch does ("Dimension specified as 0 but tensor has no
    dimensions"), though reductions and unsqueeze take them."""
    if ndim == 0 and _is_int(dim):
        raise IndexError(f"{op}: dimension specified as {dim} but the tensor has no dimensions (it is 0-d, one "
                         f"number); reshape it first, e.g. x.reshape(1)")
    return axis(op, dim, ndim)


def axes(op, dim, ndim):
    """``dim`` -- None or ``()`` for every axis (as PyTorch), an int, or a tuple of ints -- as a sorted tuple of
    non-negative axes, or a clear error (a dim named twice included)."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    if _is_int(dim):
        return (axis(op, dim, ndim),) if ndim else ()
    if not isinstance(dim, (tuple, list)) or not all(_is_int(d) for d in dim):
        raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {dim!r}")
    out = [axis(op, d, ndim) for d in dim]
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dim {dim!r} names the same axis twice")
    return tuple(sorted(out)) if ndim else ()
