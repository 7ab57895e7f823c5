"""Comparisons, argmax/argmin and ``where`` on a computed mask: outside the graph, as in PyTorch -- except while
``mg.onnx.export`` traces a model.

``x > 0`` gives a boolean tensor and ``x.argmax(1)`` an int64 one, with no gate and no gradient: nothing
could flow back through them. But a model's forward may compute with them (``x * (x > 0)``, a head that
returns ``logits.argmax(1)``), and a trace that saw them as constants would freeze the example's values
into the exported file. Under :func:`tracing` they are recorded as gates instead (``compare``,
``argmax``/``argmin``, ``masked_where``, max pooling's indices), so the exporter sees where the values come from and writes
ONNX's Greater, ArgMax, Where, ... Their backward is never run: they exist only in a traced graph.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager

import numpy as np

from ..core.function import Function
from ..core.rules import Rule
from .gate import Tensor

_state = threading.local()


@contextmanager
def tracing():
    """Record comparisons, argmax/argmin and where on their results as gates (for ``mg.onnx.export``; per thread)."""
    before = getattr(_state, "on", False)
    _state.on = True
    try:
        yield
    finally:
        _state.on = before


def is_tracing():
    return getattr(_state, "on", False)


def _in_graph(*xs):
    return is_tracing() and any(getattr(x, "requires_grad", False) for x in xs)


class _TracedOnly(Function):
    """A gate recorded only while tracing for export: it has no gradient."""

    rules = (Rule("x", "no gradient (recorded only while mg.onnx.export traces the model)"),)

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError(f"{ctx.name}: has no gradient; it is recorded only while mg.onnx.export traces a model")


UFUNCS = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater,
          "ge": np.greater_equal}


class Compare(_TracedOnly):
    """``a <op> b``, elementwise, a boolean output; ``op`` one of :data:`UFUNCS`."""

    name, symbol = "compare", "cmp"

    @staticmethod
    def forward(ctx, a, b, op):
        return UFUNCS[op](a, b)


class ArgExtremum(_TracedOnly):
    """argmax / argmin (``op``) over ``dim`` (None: the flattened tensor), int64 indices of the first extremum."""

    name, symbol = "arg_extremum", "argmax"

    @staticmethod
    def forward(ctx, a, op, dim, keepdim):
        pick = a.argmax if op == "argmax" else a.argmin
        if dim is None:
            out = np.asarray(pick(), dtype=np.int64)
            return out.reshape((1,) * a.ndim) if keepdim else out
        return np.asarray(pick(axis=dim, keepdims=keepdim), dtype=np.int64)


class MaskedWhere(_TracedOnly):
    """``where(cond, x, y)`` with a condition computed in the traced graph."""

    name, symbol = "masked_where", "where"

    @staticmethod
    def forward(ctx, cond, x, y):
        return np.where(cond, x, y)


def compare(op, a, b):
    """``a <op> b`` for a Tensor ``a`` and a Tensor, array or number ``b``: a boolean Tensor outside the graph
    (a ``compare`` gate while tracing)."""
    if _in_graph(a, b):
        from . import dtypes

        x, y = dtypes.promoted(op, a, b)  # both in PyTorch's common dtype, as ONNX's comparisons need
        return Compare.apply(x, y, op=op)
    other = b.data if isinstance(b, Tensor) else b
    return Tensor._make(UFUNCS[op](a.data, other), None, ())


def arg_extremum(op, x, axis, keepdim):
    """argmax / argmin of ``x`` (a Tensor) over ``axis`` (None: flattened), as an int64 Tensor."""
    if _in_graph(x):
        return ArgExtremum.apply(x, op=op, dim=axis, keepdim=keepdim)
    return Tensor._make(ArgExtremum.forward(None, x.data, op, axis, keepdim), None, ())


class PoolIndices(_TracedOnly):
    """max_pool2d's ``return_indices`` (each maximum's flat index into its input plane), as a traced gate on the
    pooled input, so that a ``max_unpool2d`` of them exports (ONNX MaxPool's second output)."""

    name, symbol = "max_pool2d_indices", "argmax"

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation, ceil_mode):
        from .pool import MaxPool2d

        pool = MaxPool2d()
        MaxPool2d.forward(pool, x, kernel, stride, padding, dilation, ceil_mode)
        return pool.indices().data


def pool_indices(x, gate, options):
    """max_pool2d's indices: a constant Tensor, or a ``PoolIndices`` gate on ``x`` while tracing."""
    if _in_graph(x):
        return PoolIndices.apply(x, **options)
    return gate.indices()


def traced_mask(cond):
    """Whether ``cond`` is a mask computed in a traced graph (so ``where`` must keep it as an input)."""
    return is_tracing() and getattr(cond, "_gate", None) is not None
