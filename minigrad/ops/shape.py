"""Gates that move elements without changing them: reshape, permute, indexing, cat, stack, pad.

Backward moves the gradient back to where each element came from; nothing is multiplied.
Indexing scatters the gradient into zeros of the input's shape, adding where an index repeats
(the copy gate again: an element read twice receives both gradients).
"""
from __future__ import annotations

import numpy as np

from ..core.function import Function
from ..core.rules import Rule
from ..core.dims import axes, axis
from .gate import is_tensor


class Reshape(Function):
    name, symbol = "reshape", "reshape"
    rules = (Rule("x", "dL/dy reshaped back"),)
    view = True

    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        try:
            return a.reshape(shape)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape {a.shape} ({a.size} elements) into {tuple(shape)}"
            ) from None

    @staticmethod
    def backward(ctx, up):
        return (up.reshape(ctx.in_shape),)

    def backward_graph(self, node, up):
        return (up.reshape(self.in_shape),)


class Permute(Function):
    name, symbol = "permute", "permute"
    rules = (Rule("x", "dL/dy with the axes permuted back"),)
    view = True

    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return a.transpose(dims)

    @staticmethod
    def backward(ctx, up):
        return (up.transpose(np.argsort(ctx.dims)),)

    def backward_graph(self, node, up):
        return (up.permute(*[int(d) for d in np.argsort(self.dims)]),)


def _is_advanced(index):
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, (list, np.ndarray)) for p in parts)


class Index(Function):
    name, symbol = "index", "[ ]"
    rules = (Rule("x", "dL/dy scattered back to the indexed places (repeats add up)"),)
    view = True

    @staticmethod
    def forward(ctx, a, index):
        ctx.in_shape, ctx.index = a.shape, index
        try:
            return a[index]
        except IndexError as exc:
            raise IndexError(f"index: {exc} (tensor of shape {a.shape})") from None

    @staticmethod
    def backward(ctx, up):
        return (_scatter(up, ctx.in_shape, ctx.index),)

    def backward_graph(self, node, up):
        return (Scatter.apply(up, shape=self.in_shape, index=self.index),)


def _scatter(up, shape, index):
    """Zeros of ``shape`` with ``up`` added at ``index`` (an index that repeats receives every value sent to it)."""
    grad = np.zeros(shape, dtype=up.dtype)
    if _is_advanced(index):
        np.add.at(grad, index, up)
    else:
        grad[index] = up
    return grad


class Scatter(Function):
    """Index's backward as a gate of its own, for ``create_graph``: its gradient is indexing again."""

    name, symbol = "scatter", "scatter"
    rules = (Rule("g", "dL/dy[index]"),)

    @staticmethod
    def forward(ctx, up, shape, index):
        ctx.index = index
        return _scatter(up, shape, index)

    @staticmethod
    def backward(ctx, grad):
        return (grad[ctx.index],)

    def backward_graph(self, node, grad):
        return (Index.apply(grad, index=self.index),)


class Expand(Function):
    """``x`` broadcast to a larger shape (a copy); the gradient is summed back, as for any broadcast."""

    name, symbol = "expand", "expand"
    rules = (Rule("x", "dL/dy summed over the broadcast axes"),)

    @staticmethod
    def forward(ctx, a, shape):
        return np.broadcast_to(a, shape).copy()

    @staticmethod
    def backward(ctx, up):
        return (up,)  # Function.send sums it back to the input's shape

    def backward_graph(self, node, up):
        return (up,)  # Function.send_graph sums it back, in Tensor operations


class Cat(Function):
    name, symbol = "cat", "cat"
    rules = (Rule("xᵢ", "the slice of dL/dy that xᵢ filled"),)

    @staticmethod
    def forward(ctx, *arrays, dim=0):
        ctx.dim = dim
        ctx.bounds = np.cumsum([a.shape[dim] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx, up):
        return tuple(np.split(up, ctx.bounds, axis=ctx.dim))

    def backward_graph(self, node, up):
        edges = [0, *(int(b) for b in self.bounds), up.shape[self.dim]]
        lead = (slice(None),) * self.dim
        return tuple(index(up, lead + (slice(lo, hi),)) for lo, hi in zip(edges[:-1], edges[1:]))


class Stack(Function):
    name, symbol = "stack", "stack"
    rules = (Rule("xᵢ", "dL/dy[i] along the new axis"),)

    @staticmethod
    def forward(ctx, *arrays, dim=0):
        ctx.dim = dim
        return np.stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx, up):
        return tuple(np.moveaxis(up, ctx.dim, 0))

    def backward_graph(self, node, up):
        lead = (slice(None),) * self.dim
        return tuple(index(up, lead + (k,)) for k in range(up.shape[self.dim]))


class Pad(Function):
    name, symbol = "pad", "pad"
    rules = (Rule("x", "dL/dy with the padding cut off"),)

    @staticmethod
    def forward(ctx, a, widths, value=0.0):
        ctx.inner = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, a.shape))
        return np.pad(a, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, up):
        return (up[ctx.inner],)

    def backward_graph(self, node, up):
        return (index(up, self.inner),)

# -- the functions Tensor's methods and minigrad's namespace call --


def expand(a, shape):
    """``a`` broadcast to ``shape`` (numpy's rules), differentiably."""
    shape = tuple(shape)
    return a if tuple(a.shape) == shape else Expand.apply(a, shape=shape)


def reshape(a, *shape):
    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    if shape == a.shape:
        return a
    return Reshape.apply(a, shape=shape)


def permute(a, *dims):
    dims = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
    if len(dims) != a.ndim:
        raise ValueError(f"permute: {dims} is not a permutation of the {a.ndim} dimensions of a {a.shape} tensor")
    order = tuple(axis("permute", d, a.ndim) for d in dims)
    if sorted(order) != list(range(a.ndim)):
        raise ValueError(f"permute: {dims} is not a permutation of the {a.ndim} dimensions of a {a.shape} tensor")
    return Permute.apply(a, dims=order)


def transpose(a, d0, d1):
    d0, d1 = axis("transpose", d0, a.ndim), axis("transpose", d1, a.ndim)
    if a.ndim < 2:
        return a
    order = list(range(a.ndim))
    order[d0], order[d1] = order[d1], order[d0]
    return Permute.apply(a, dims=tuple(order))


def flatten(a, start_dim=0, end_dim=-1):
    start, end = axis("flatten", start_dim, a.ndim), axis("flatten", end_dim, a.ndim)
    if a.ndim == 0:
        return reshape(a, 1)
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = a.shape[:start] + (int(np.prod(a.shape[start : end + 1])),) + a.shape[end + 1 :]
    return reshape(a, shape)


def unsqueeze(a, dim):
    dim = axis("unsqueeze", dim, a.ndim, new=True)
    return reshape(a, a.shape[:dim] + (1,) + a.shape[dim:])


def squeeze(a, dim=None):
    """Drop axes of size 1: all of them, or those of ``dim`` (an int or a tuple) that have size 1, as PyTorch."""
    if dim is None:
        return reshape(a, tuple(n for n in a.shape if n != 1))
    chosen = axes("squeeze", dim if isinstance(dim, (tuple, list)) else (dim,), a.ndim)
    shape = tuple(n for k, n in enumerate(a.shape) if not (k in chosen and n == 1))
    return a if shape == a.shape else reshape(a, shape)


def index(a, idx):
    idx = numpy_index(idx)
    return Index.apply(a, index=idx)


def numpy_index(idx):
    """An index as numpy understands it: Tensors (alone or inside a tuple) become their arrays."""
    if is_tensor(idx):
        return idx.data
    if isinstance(idx, tuple):
        return tuple(i.data if is_tensor(i) else i for i in idx)
    return idx


def cat(tensors, dim=0):
    """Join tensors along an existing axis ``dim``; all other dimensions must match."""
    tensors = _tensors("cat", tensors)
    first = tensors[0]
    flat = next((i for i, t in enumerate(tensors) if t.ndim == 0), None)
    if flat is not None:  # PyTorch: "zero-dimensional tensor (at position 0) cannot be concatenated"
        raise ValueError(f"cat: tensor {flat} is 0-d (one number, shape ()) and cannot be concatenated along a dim it "
                         f"does not have; mg.stack joins 0-d tensors into a 1-d one")
    dim = axis("cat", dim, first.ndim)
    for i, t in enumerate(tensors[1:], 1):
        if t.ndim != first.ndim or any(a != b for k, (a, b) in enumerate(zip(t.shape, first.shape)) if k != dim):
            raise ValueError(
                f"cat: tensor {i} has shape {t.shape} but tensor 0 has {first.shape}; "
                f"all dimensions except dim={dim} must match"
            )
    return Cat.apply(*tensors, dim=dim)


def stack(tensors, dim=0):
    """Join same-shaped tensors along a new axis ``dim``."""
    tensors = _tensors("stack", tensors)
    first = tensors[0]
    for i, t in enumerate(tensors[1:], 1):
        if t.shape != first.shape:
            raise ValueError(f"stack: tensor {i} has shape {t.shape} but tensor 0 has {first.shape}; they must match")
    return Stack.apply(*tensors, dim=axis("stack", dim, first.ndim, new=True))


def pad(a, pad, mode="constant", value=None):
    """Padding as ``torch.nn.functional.pad``: ``pad`` lists (before, after) pairs from the last dim back;
    ``mode`` "constant" (with ``value``, 0 by default) or "reflect", "replicate", "circular" (``padding.py``)."""
    if isinstance(mode, (int, float)) and not isinstance(mode, bool):
        raise TypeError(f"pad: the third argument is mode, as in PyTorch; pass the fill value by name: value={mode!r}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > a.ndim:
        raise ValueError(f"pad: needs (before, after) pairs for at most {a.ndim} dimensions, got {pad}")
    if mode != "constant":
        if value is not None:
            raise ValueError(f"pad: value is only for mode 'constant', not {mode!r}")
        from .padding import pad_copies

        return pad_copies(a, pad, mode)
    value = 0.0 if value is None else value
    widths = [(0, 0)] * a.ndim
    for k in range(len(pad) // 2):
        widths[a.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    if any(p < 0 for p in pad):  # PyTorch's rule: a negative width crops that many elements (a slice, then the rest)
        crop = []
        for d, ((lo, hi), n) in enumerate(zip(widths, a.shape)):
            start, stop = max(-lo, 0), n - max(-hi, 0)
            if stop < start:
                raise ValueError(f"pad: dim {d} of size {n} with padding ({lo}, {hi}) would have {stop - start} "
                                 f"elements; negative padding crops, at most the whole dim")
            crop.append(slice(start, stop))
        a = index(a, tuple(crop))
        widths = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
        if not any(lo or hi for lo, hi in widths):
            return a
    if not any(pad):
        return a
    return Pad.apply(a, widths=tuple(widths), value=value)


def _tensors(name, tensors):
    """The tensors to join, in the dtype PyTorch gives them together (``torch.cat`` of int64 and float32 is float32)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{name}: needs at least one tensor")
    for t in tensors:
        if not is_tensor(t):
            raise TypeError(f"{name}: expected Tensors, got {type(t).__name__}")
    first = tensors[0]._data.dtype
    if any(t._data.dtype != first for t in tensors):
        from . import dtypes

        tensors = list(dtypes.promoted(name, *tensors))
    return tensors


def zero_pad_shortcut(x, out_channels, stride=1):
    """The lectures' ResNet shortcut for a spatial reduction: subsample by ``stride``, zero-pad the channels.

    For x (N, C, H, W) and J = out_channels ≥ C, the result x̃ has shape (N, J, ⌈H/s⌉, ⌈W/s⌉) with
    x̃[b, j, i, k] = x[b, j, s·i, s·k] for j < C and 0 for the C ≤ j < J new channels, so it can
    be added to a residual branch that strides by s and widens to J. Composed from the index and
    pad gates: the gradient goes back to the sampled positions of the first C channels only.
    """
    if not is_tensor(x):
        raise TypeError(f"zero_pad_shortcut: expected a Tensor, got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"zero_pad_shortcut: expected an input of shape (N, C, H, W), got {x.shape}")
    if not isinstance(stride, (int, np.integer)) or stride < 1:
        raise ValueError(f"zero_pad_shortcut: stride must be a positive integer, got {stride!r}")
    channels = x.shape[1]
    if not isinstance(out_channels, (int, np.integer)) or out_channels < channels:
        raise ValueError(
            f"zero_pad_shortcut: out_channels ({out_channels}) must be at least the input's {channels} channels "
            f"(the shortcut can only add zero channels); use a 1x1 convolution (projection shortcut) to reduce them"
        )
    if stride > 1:
        x = index(x, (slice(None), slice(None), slice(None, None, stride), slice(None, None, stride)))
    return pad(x, (0, 0, 0, 0, 0, int(out_channels) - channels))
