"""Gates that move elements or reduce them, as ONNX nodes: reshape, permute, indexing, pad, cat, stack, expand,
matmul and the reductions. Converters as in ``gates.py``.

With a symbolic batch size these are where the batch can get lost: a reshape keeps the batch only
when it stays an axis of its own (written as 0, "copy this axis", or -1), an index may not slice it,
a pad may not pad it, a cat may not join along it.
"""
from __future__ import annotations

import math

import numpy as np

from ..ops import interpolate, matmul, padding, rearrange, reduce, shape
from .gates import converts


@converts(shape.Reshape)
def _reshape(g, node, gate, inputs):
    x = node._inputs[0]
    target, b = list(node.shape), g.batch_of(x)
    batch = None
    if b is not None:
        before = math.prod(x.shape[:b])
        kept = [j for j in range(len(target)) if math.prod(target[:j]) == before and target[j] == x.shape[b]]
        if not kept:
            g.fail(f"reshapes {x.shape} to {node.shape}, which merges or splits the batch axis {b}: with a symbolic "
                   f"batch size the new shape is unknown; keep the batch as an axis of its own (x.flatten(1)), or "
                   f"export with dynamic_batch=False")
        batch = kept[0]
        target[batch] = 0 if batch == b else -1  # ONNX: 0 copies the input's size at the same axis
    return g.node("Reshape", [inputs[0], g.ints(target)], batch=batch)


@converts(shape.Permute)
def _permute(g, node, gate, inputs):
    dims = [int(d) for d in gate._options["dims"]]
    b = g.batch_of(node._inputs[0])
    return g.node("Transpose", inputs, batch=None if b is None else dims.index(b), perm=dims)


@converts(shape.Index)
def _index(g, node, gate, inputs):
    """Basic indexing as Slice (slices and ints), Squeeze (the ints' axes) and Unsqueeze (None); integer arrays on
    adjacent axes among slices (or one 1-D boolean mask) as Gather, on those axes merged into one."""
    x, index = node._inputs[0], gate._options["index"]
    items = list(index) if isinstance(index, tuple) else [index]
    at = [k for k, item in enumerate(items) if isinstance(item, (list, np.ndarray))]
    if at and (at != list(range(at[0], at[0] + len(at))) or any(i is None or _is_int(i) for i in items)):
        g.fail(f"indexes with {_describe(index)}: of advanced indexing, only integer arrays on adjacent axes among "
               f"slices (or one 1-D boolean mask) have an ONNX mapping")
    gathered = len(np.broadcast_shapes(*(np.shape(items[k]) for k in at))) if at else 0
    items = _expand_ellipsis(g, items, x.ndim, index)
    b = g.batch_of(x)
    starts, ends, axes, steps, squeeze, unsqueeze, sizes, arrays = [], [], [], [], [], [], [], []
    batch, axis, out_axis = None, 0, 0
    for item in items:
        if item is None:
            unsqueeze.append(out_axis)
            out_axis += 1
            continue
        size = x.shape[axis]
        full = isinstance(item, slice) and item.indices(size) == (0, size, 1)
        if axis == b:
            if not full:
                g.fail(f"indexes the batch axis with {_describe(item)}; with a symbolic batch size only ':' fits "
                       f"there: export with dynamic_batch=False")
            batch = out_axis
        if isinstance(item, slice):
            start, stop, step = item.indices(size)
            sizes.append(len(range(start, stop, step)))
            if not full:
                if step < 0 and stop < 0:
                    stop = -size - 1  # ONNX reads a negative end from the back: this one is "before the first"
                starts.append(start), ends.append(stop), axes.append(axis), steps.append(step)
            out_axis += 1
        elif _is_int(item):
            if not -size <= int(item) < size:
                g.fail(f"indexes axis {axis} of size {size} with {item}")
            i = int(item) % size
            starts.append(i), ends.append(i + 1), axes.append(axis), steps.append(1)
            squeeze.append(axis)
            sizes.append(1)
        else:
            arrays.append((axis, _gather_indices(g, np.asarray(item), size, len(at))))
            if len(arrays) == 1:  # the arrays' broadcast shape takes the place of their axes
                out_axis += gathered
            sizes.append(size)
        axis += 1
    name = inputs[0]
    if starts:
        name = g.node("Slice", [name, g.ints(starts), g.ints(ends), g.ints(axes), g.ints(steps)])
    if arrays:
        name = _gather(g, name, arrays, sizes, b)
    if squeeze:
        name = g.node("Squeeze", [name, g.ints(squeeze)])
    if unsqueeze:
        name = g.node("Unsqueeze", [name, g.ints(unsqueeze)])
    if name == inputs[0]:
        name = g.node("Identity", [name])
    g.batch[name] = batch
    return name


def _gather(g, name, arrays, sizes, b):
    """x[..., i, j, ...] for index arrays on adjacent axes: those axes merged into one (Reshape), then one Gather of
    the flat indices i·n_j + j (numpy's result: the arrays' broadcast shape in their place)."""
    first, count = arrays[0][0], len(arrays)
    if count == 1:
        return g.node("Gather", [name, g.const(arrays[0][1])], axis=first)
    merged = [np.broadcast_to(a, np.broadcast_shapes(*(a.shape for _, a in arrays))) for _, a in arrays]
    flat = np.ravel_multi_index(merged, sizes[first:first + count]).astype(np.int64)
    target = sizes[:first] + [int(np.prod(sizes[first:first + count]))] + sizes[first + count:]
    if b is not None:
        target[b if b < first else b - count + 1] = 0 if b < first else -1
    name = g.node("Reshape", [name, g.ints(target)])
    return g.node("Gather", [name, g.const(flat)], axis=first)


def _describe(index):
    """An index as it would be written, arrays by their shape (their values can fill a screen)."""
    def one(item):
        if isinstance(item, slice):
            text = f"{'' if item.start is None else item.start}:{'' if item.stop is None else item.stop}"
            return text if item.step is None else f"{text}:{item.step}"
        if isinstance(item, (list, np.ndarray)):
            return f"<{np.asarray(item).dtype} array of shape {np.shape(item)}>"
        return "..." if item is Ellipsis else repr(item)
    items = index if isinstance(index, tuple) else (index,)
    return "[" + ", ".join(one(i) for i in items) + "]"


def _is_int(item):
    return isinstance(item, (int, np.integer)) and not isinstance(item, (bool, np.bool_))


def _expand_ellipsis(g, items, ndim, index):
    """The index with ``...`` replaced by full slices and padded with them to every axis."""
    used = sum(1 for i in items if i is not None and i is not Ellipsis)
    if sum(1 for i in items if i is Ellipsis) > 1:
        g.fail(f"indexes with {index!r}, which has more than one '...'")
    out = []
    for item in items:
        out.extend([slice(None)] * (ndim - used) if item is Ellipsis else [item])
    if not any(item is Ellipsis for item in items):
        out.extend([slice(None)] * (ndim - used))
    for item in out:
        if not (item is None or isinstance(item, (slice, list, np.ndarray)) or _is_int(item)):
            g.fail(f"indexes with {_describe(index)}: {item!r} has no ONNX mapping")
    return out


def _gather_indices(g, array, size, count):
    if array.dtype == bool:
        if array.ndim != 1 or count > 1:
            g.fail("indexes with a boolean mask of more than one dimension, or beside other index arrays, which has "
                   "no ONNX mapping")
        return np.flatnonzero(array).astype(np.int64)
    if array.dtype.kind not in "iu":
        g.fail(f"indexes with an array of {array.dtype}; an index array must hold integers")
    return np.where(array < 0, array + size, array).astype(np.int64)


@converts(shape.Pad)
def _pad(g, node, gate, inputs):
    widths = gate._options["widths"]
    b = g.batch_of(node._inputs[0])
    if b is not None and widths[b] != (0, 0):
        g.fail("pads the batch axis; export with dynamic_batch=False")
    pads = [lo for lo, _ in widths] + [hi for _, hi in widths]
    value = g.scalar_like(gate._options.get("value", 0.0), node)
    return g.node("Pad", [inputs[0], g.ints(pads), value], batch=b, mode="constant")


@converts(interpolate.Interpolate, padding.PadCopies)
def _resample(g, node, gate, inputs):
    """Resizing and the reflect/replicate/circular pads read the input along each axis at the source indices
    forward used (``Resample``'s plan): a Gather per axis, and for the linear modes lo + (hi − lo)·λ."""
    x = node._inputs[0]
    batch, name = g.batch_of(x), inputs[0]
    for axis, i0, i1, lam in gate._options["plan"]:
        if axis == batch:
            g.fail(f"reads along the batch axis {batch} of {x.shape}, which a symbolic batch size cannot fix; export "
                   f"with dynamic_batch=False")
        lo = g.node("Gather", [name, g.const(np.asarray(i0, np.int64))], batch=batch, axis=axis)
        if lam is None:
            name = lo
            continue
        hi = g.node("Gather", [name, g.const(np.asarray(i1, np.int64))], batch=batch, axis=axis)
        weight = g.const(np.asarray(lam, node.dtype).reshape((-1,) + (1,) * (x.ndim - axis - 1)))
        name = g.node("Add", [lo, g.node("Mul", [g.node("Sub", [hi, lo], batch=batch), weight], batch=batch)],
                      batch=batch)
    return name


@converts(shape.Cat)
def _cat(g, node, gate, inputs):
    dim = gate._options["dim"]
    batch = g.aligned_batch(node, *node._inputs)
    if batch is not None and batch == dim:
        g.fail("joins tensors along the batch axis; export with dynamic_batch=False")
    return g.node("Concat", inputs, batch=batch, axis=dim)


@converts(shape.Stack)
def _stack(g, node, gate, inputs):
    dim = gate._options["dim"]
    b = g.aligned_batch(node._inputs[0], *node._inputs)
    batch = None if b is None else b + (b >= dim)
    parts = [g.node("Unsqueeze", [name, g.ints([dim])], batch=batch) for name in inputs]
    return g.node("Concat", parts, batch=batch, axis=dim)


@converts(shape.Expand)
def _expand(g, node, gate, inputs):
    x = node._inputs[0]
    target = list(node.shape)
    batch = g.aligned_batch(node, x)
    if batch is not None:
        target[batch] = 1  # Expand broadcasts: 1 keeps the input's (symbolic) size
    elif g.dynamic and node.ndim and target[0] == g.batch_size != 1 and x.shape[:1] != (g.batch_size,):
        g.fail(f"expands a value that does not come from the input to the batch size {g.batch_size}; export with "
               f"dynamic_batch=False")
    return g.node("Expand", [inputs[0], g.ints(target)], batch=batch)


@converts(matmul.MatMul)
def _matmul(g, node, gate, inputs):
    a, b = node._inputs
    ba, bb = g.batch_of(a), g.batch_of(b)
    if ba == a.ndim - 1 or (bb is not None and bb == max(b.ndim - 2, 0)):
        g.fail("multiplies along the batch axis; export with dynamic_batch=False")
    if a.ndim > 1 and b.ndim > 1:
        batch = g.aligned_batch(node, a, b)  # batch dims broadcast, rows and columns keep their places
    elif b.ndim == 1:
        batch = ba  # (..., n, k) @ (k,) -> (..., n)
    else:
        batch = None if bb is None else (bb if bb < b.ndim - 2 else node.ndim - 1)  # (k,) @ (..., k, m) -> (..., m)
    return g.node("MatMul", inputs, batch=batch)


def _reduced_batch(g, node, gate):
    b = g.batch_of(node._inputs[0])
    if b is None or b in gate.axes:
        return None
    return b if gate.keepdim else b - sum(1 for a in gate.axes if a < b)


def _reduce(g, op, name, axes, keepdim, batch):
    if not axes:
        return g.node("Identity", [name], batch=batch)
    if op == "ReduceSum":  # its axes have been an input since opset 13, the others' since 18
        return g.node(op, [name, g.ints(axes)], batch=batch, keepdims=int(keepdim))
    return g.axes_input_or_attribute(op, name, axes, batch, 18, keepdims=int(keepdim))


_REDUCTIONS = {reduce.Sum: "ReduceSum", reduce.Mean: "ReduceMean", reduce.Max: "ReduceMax", reduce.Min: "ReduceMin",
               reduce.Prod: "ReduceProd"}


@converts(*_REDUCTIONS)
def _reduction(g, node, gate, inputs):
    return _reduce(g, _REDUCTIONS[type(gate)], inputs[0], gate.axes, gate.keepdim, _reduced_batch(g, node, gate))


@converts(reduce.LogSumExp)
def _logsumexp(g, node, gate, inputs):
    """m + log Σ exp(x − m), m the maximum (0 where it is infinite), as forward: stable for any finite x."""
    x, b, batch = inputs[0], g.batch_of(node._inputs[0]), _reduced_batch(g, node, gate)
    m = _reduce(g, "ReduceMax", x, gate.axes, True, b)
    m = g.node("Where", [g.node("IsInf", [m], batch=b), g.scalar_like(0, node), m], batch=b)
    total = _reduce(g, "ReduceSum", g.node("Exp", [g.node("Sub", [x, m], batch=b)], batch=b), gate.axes, True, b)
    out = g.node("Add", [g.node("Log", [total], batch=b), m], batch=b)
    if gate.keepdim or not gate.axes:
        return out if gate.axes else g.node("Identity", [out], batch=batch)
    return g.node("Squeeze", [out, g.ints(gate.axes)], batch=batch)


@converts(rearrange.Repeat)
def _repeat(g, node, gate, inputs):
    """np.tile: new leading axes of size 1 first (Unsqueeze), then Tile by the repeats."""
    x, reps = node._inputs[0], list(gate._options["reps"])
    b, name, extra = g.batch_of(x), inputs[0], len(reps) - x.ndim
    if extra:
        name = g.node("Unsqueeze", [name, g.ints(range(extra))], batch=None if b is None else b + extra)
        b = None if b is None else b + extra
    if b is not None and reps[b] != 1:
        g.fail(f"repeats the batch axis {reps[b]} times; with a symbolic batch size it would not fit: export with "
               f"dynamic_batch=False")
    return g.node("Tile", [name, g.ints(reps)], batch=b)


@converts(reduce.Var, reduce.Std)
def _var(g, node, gate, inputs):
    """Σ (x − mean)² / (count − ddof), as forward computes it; its square root for std."""
    x, b, batch = inputs[0], g.batch_of(node._inputs[0]), _reduced_batch(g, node, gate)
    centred = g.node("Sub", [x, _reduce(g, "ReduceMean", x, gate.axes, True, b)], batch=b)
    total = _reduce(g, "ReduceSum", g.node("Mul", [centred, centred], batch=b), gate.axes, gate.keepdim, batch)
    var = g.node("Div", [total, g.scalar_like(gate.count - gate.ddof, node)], batch=batch)
    return g.node("Sqrt", [var], batch=batch) if isinstance(gate, reduce.Std) else var
