"""The gates that exist only in a traced graph (``ops/compare.py``) as ONNX nodes: comparisons, argmax/argmin,
``where`` on a computed mask and max pooling's indices -- and ``max_unpool2d``, which reads those indices.
Converters as in ``gates.py``.
"""
from __future__ import annotations

import numpy as np

from ..ops import adaptive_pool, compare, pool
from .gates import _max_pool_padding, converts

_COMPARE = {"eq": "Equal", "lt": "Less", "le": "LessOrEqual", "gt": "Greater", "ge": "GreaterOrEqual"}


@converts(compare.Compare, cast=False)  # forward's inputs already share PyTorch's common dtype
def _compare(g, node, gate, inputs):
    op, batch = gate._options["op"], g.aligned_batch(node, *node._inputs)
    if op == "ne":
        return g.node("Not", [g.node("Equal", inputs, batch=batch)], batch=batch)
    return g.node(_COMPARE[op], inputs, batch=batch)


@converts(compare.ArgExtremum, cast=False)
def _arg_extremum(g, node, gate, inputs):
    o, x = gate._options, node._inputs[0]
    op, b = ("ArgMax" if o["op"] == "argmax" else "ArgMin"), g.batch_of(x)
    if o["dim"] is None:  # of the flattened tensor
        if b is not None:
            g.fail(f"takes the {o['op']} of the whole tensor {x.shape}, batch included, which a symbolic batch size "
                   f"cannot fix; give a dim (x.{o['op']}(1)), or export with dynamic_batch=False")
        flat = g.node("Reshape", [inputs[0], g.ints([-1])])
        out = g.node(op, [flat], axis=0, keepdims=0)
        return g.node("Reshape", [out, g.ints(node.shape)])
    dim, keep = o["dim"], o["keepdim"]
    if b == dim:
        g.fail(f"takes the {o['op']} along the batch axis {b}; export with dynamic_batch=False")
    batch = None if b is None else b if keep or b < dim else b - 1
    return g.node(op, inputs, batch=batch, axis=dim, keepdims=int(keep), select_last_index=0)


@converts(compare.MaskedWhere, cast=False)
def _masked_where(g, node, gate, inputs):
    values = [g.value(x, node.dtype) for x in node._inputs[1:]]
    return g.node("Where", [inputs[0], *values], batch=g.aligned_batch(node, *node._inputs))


@converts(compare.PoolIndices, cast=False)
def _pool_indices(g, node, gate, inputs):
    """MaxPool's second output counts over the whole (N, C, H, W) input; PyTorch's indices over one H·W plane."""
    x, o = node._inputs[0], gate._options
    g.require_batch_first(x)
    batch = g.batch_of(x)
    geometry = pool.MaxPool2d()
    geometry.setup(x.data, o["kernel"], o["stride"], o["padding"], o["dilation"], o["ceil_mode"])
    _, flat = g.node("MaxPool", inputs, batch=batch, outputs=2, kernel_shape=list(o["kernel"]),
                     strides=list(o["stride"]), pads=_max_pool_padding(geometry), dilations=list(o["dilation"]))
    return g.node("Mod", [flat, g.ints([x.shape[2] * x.shape[3]])], batch=batch)


@converts(adaptive_pool.MaxUnpool2d, cast=False)
def _max_unpool2d(g, node, gate, inputs):
    """Each value put at its index of a zero output: ScatterElements along the flattened planes, (N, C, H·W)."""
    x, idx = node._inputs
    g.require_batch_first(x)
    batch = g.aligned_batch(node, x, idx)
    (n, c, h, w), (H, W) = x.shape, node.shape[2:]
    lead = 0 if batch is not None else n  # Reshape's 0 copies the (symbolic) batch size
    values = g.node("Reshape", [inputs[0], g.ints([lead, c, h * w])], batch=batch)
    where = g.node("Reshape", [g.value(idx, np.int64), g.ints([lead, c, h * w])], batch=batch)
    planes = g.node("Slice", [g.node("Shape", [inputs[0]]), g.ints([0]), g.ints([2])])  # (N, C)
    shape = g.node("Concat", [planes, g.ints([H * W])], axis=0)
    zero = g.helper.make_tensor("value", g.tensor_type(node.dtype), [1], [0])
    zeros = g.node("ConstantOfShape", [shape], batch=batch, value=zero)
    out = g.node("ScatterElements", [zeros, where, values], batch=batch, axis=2)
    return g.node("Reshape", [out, g.ints([lead, c, H, W])], batch=batch)
