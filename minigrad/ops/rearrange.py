"""Replicating and cutting up tensors, with PyTorch's arguments: expand, repeat, split, chunk, flip.

``repeat`` is a gate of its own (tiles: the gradient of each input element is the sum over its copies).
The others are compositions, because that is what they are: ``expand`` is the expand gate (a
broadcast, summed back), ``split`` and ``chunk`` are slices (index gates), ``flip`` is indexing with a
reversed slice, so the gradient goes back to where each element came from.
"""
from __future__ import annotations

import math

import numpy as np

from ..core.function import Function
from ..core.rules import Rule
from ..core import dims
from .gate import as_tensor, is_tensor
from .shape import expand as _broadcast
from .shape import index


def _sizes(op, sizes):
    """``f(2, 3)`` or ``f((2, 3))`` as a tuple of ints, or a TypeError naming ``op``."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if not all(dims._is_int(s) for s in sizes):
        raise TypeError(f"{op}: sizes must be ints, got {sizes!r}")
    return tuple(int(s) for s in sizes)


def expand(a, *sizes):
    """``a`` broadcast to ``sizes``, as ``Tensor.expand``: -1 keeps a dimension; new dimensions go in front;
    only dimensions of size 1 can grow. The gradient is summed back over the copies."""
    sizes = _sizes("expand", sizes)
    if len(sizes) < a.ndim:
        raise ValueError(
            f"expand: the number of sizes ({len(sizes)}) must be at least the tensor's dimensions ({a.ndim}); "
            f"shape {a.shape} cannot expand to {sizes}"
        )
    lead = len(sizes) - a.ndim
    shape = []
    for k, s in enumerate(sizes):
        if k < lead:
            if s < 0:
                raise ValueError(f"expand: -1 is not allowed for a new leading dimension (dim {k} of {sizes})")
            shape.append(s)
            continue
        n = a.shape[k - lead]
        if s == -1:
            s = n
        if s != n and n != 1:
            raise ValueError(
                f"expand: dimension {k - lead} of shape {a.shape} has size {n}, which cannot expand to {s} "
                f"(only dimensions of size 1 can); target {sizes}"
            )
        shape.append(s)
    return _broadcast(a, tuple(shape))


def expand_as(a, other):
    """``a.expand(other.size())``."""
    if not is_tensor(other):
        raise TypeError(f"expand_as: other must be a Tensor, got {type(other).__name__}")
    return expand(a, other.shape)


class Repeat(Function):
    """y = the input tiled ``reps`` times along each dimension (new leading dimensions for extra reps)."""

    name, symbol = "repeat", "repeat"
    rules = (Rule("x", "Σ of dL/dy over the copies of each element"),)

    @staticmethod
    def forward(ctx, a, reps):
        shape = (1,) * (len(reps) - a.ndim) + a.shape
        ctx.in_shape, ctx.reps, ctx.shape = a.shape, reps, shape
        return np.tile(a.reshape(shape), reps)

    def _folded(self):
        """The output's shape as (r0, s0, r1, s1, ...): each copy index beside the element's own."""
        return tuple(n for r, s in zip(self.reps, self.shape) for n in (r, s))

    @staticmethod
    def backward(ctx, up):
        summed = up.reshape(ctx._folded()).sum(axis=tuple(range(0, 2 * len(ctx.reps), 2)))
        return (summed.reshape(ctx.in_shape),)

    def backward_graph(self, node, up):
        summed = up.reshape(self._folded()).sum(dim=tuple(range(0, 2 * len(self.reps), 2)))
        return (summed.reshape(self.in_shape),)


def repeat(a, *sizes):
    """``a`` tiled ``sizes[d]`` times along dimension d, as ``Tensor.repeat`` (at least ``a.ndim`` sizes;
    extra ones add leading dimensions)."""
    sizes = _sizes("repeat", sizes)
    if len(sizes) < a.ndim:
        raise ValueError(
            f"repeat: the number of repeats ({len(sizes)}) must be at least the tensor's dimensions ({a.ndim}), "
            f"e.g. x.repeat({', '.join(['1'] * (a.ndim - len(sizes)) + [str(s) for s in sizes])}) for shape {a.shape}"
        )
    if any(s < 0 for s in sizes):
        raise ValueError(f"repeat: repeats must be ≥ 0, got {sizes}")
    return Repeat.apply(a, reps=sizes)


def split(a, split_size_or_sections, dim=0):
    """Pieces of ``a`` along ``dim``, as ``torch.split``: an int gives pieces of that size (the last may be
    smaller), a list gives pieces of those sizes (which must add up to the dimension). Each is a slice."""
    a = as_tensor("split", a)
    axis = dims.existing_axis("split", dim, a.ndim)
    n = a.shape[axis]
    if dims._is_int(split_size_or_sections):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ValueError(f"split: split_size must be a positive int, got {size}")
        sections = [size] * (n // size) + ([n % size] if n % size else []) or [0]  # an empty dim: one empty piece
    elif isinstance(split_size_or_sections, (list, tuple)) and all(dims._is_int(s) for s in split_size_or_sections):
        sections = [int(s) for s in split_size_or_sections]
        if any(s < 0 for s in sections) or sum(sections) != n:
            raise ValueError(
                f"split: the sections {sections} must be ≥ 0 and add up to {n}, the size of dim {dim} of {a.shape}"
            )
    else:
        raise TypeError(
            f"split: split_size_or_sections must be an int or a list of ints, got {split_size_or_sections!r}"
        )
    lead = (slice(None),) * axis
    edges = np.cumsum([0] + sections)
    return tuple(index(a, lead + (slice(int(lo), int(hi)),)) for lo, hi in zip(edges[:-1], edges[1:]))


def chunk(a, chunks, dim=0):
    """``a`` split into ``chunks`` pieces of ⌈n/chunks⌉ along ``dim`` (fewer if they run out), as ``torch.chunk``."""
    a = as_tensor("chunk", a)
    if not dims._is_int(chunks) or chunks < 1:
        raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
    n = a.shape[dims.existing_axis("chunk", dim, a.ndim)]
    return split(a, max(math.ceil(n / chunks), 1), dim)


_dim_rules = dims  # the module, for flip, whose argument is named dims as torch.flip's


def flip(input, dims):
    """``input`` reversed along each of ``dims`` (an int or a tuple), as ``torch.flip``: indexing with ``::-1``."""
    a = as_tensor("flip", input)
    if _dim_rules._is_int(dims):
        dims = (dims,)
    if not isinstance(dims, (tuple, list)):
        raise TypeError(f"flip: dims must be an int or a tuple of ints, got {dims!r}")
    axes = _dim_rules.axes("flip", tuple(dims), a.ndim) if dims else ()
    if not axes:
        return a
    return index(a, tuple(slice(None, None, -1) if k in axes else slice(None) for k in range(a.ndim)))
