"""Tracing: one forward pass in eval mode, whose graph minigrad records anyway, read back in creation order.

The example input is made a leaf that requires grad, so every gate that depends on it is recorded
(without that, a first gate with no parameters, such as a pooling, would give a constant).
Nodes are collected from the outputs with an explicit stack (no recursion: a deep model is fine)
and sorted by creation number, so every node comes after its inputs.

Comparisons, argmax/argmin and ``where`` on their masks are recorded too while tracing (``ops/compare.py``),
so ``x * (x > 0)`` or a head returning ``logits.argmax(1)`` exports as ONNX's Greater, ArgMax, ...
:func:`check_outputs` refuses an output that does not depend on an input through the graph: it was
computed outside it (``.data``, numpy, ``detach()``, ``no_grad``) and would be written as the example's
value.

A trace stands for the model only if the model does the same for every input. ``compare`` checks
a second trace, made from other values (and, with a symbolic batch, another batch size): the same
gates must come out, and every constant must be the same -- a value computed from the input outside
the graph (a comparison, an argmax, indices taken from the data) would otherwise be frozen into the
file as the example's value.
"""
from __future__ import annotations

import numpy as np

from ..core.engine import enable_grad
from ..core.tensor import Tensor
from ..ops.compare import tracing
from .graph import ExportError, where_made


class Trace:
    """``inputs`` (the leaf Tensors fed to the model), ``outputs`` (a tuple of Tensors), ``order`` (every node
    the outputs depend on, inputs before the gates that use them)."""

    def __init__(self, inputs, outputs, order):
        self.inputs, self.outputs, self.order = inputs, outputs, order


def trace(model, arrays):
    """Run ``model`` once in eval mode on Tensors made from ``arrays``, recording the graph; modes are put back."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    inputs = [Tensor(a, requires_grad=True) for a in arrays]
    try:
        with enable_grad(), tracing():  # comparisons and argmax recorded too (ops/compare.py)
            out = model(*inputs)
    finally:
        for m, training in modes:
            object.__setattr__(m, "training", training)
    outputs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    for i, o in enumerate(outputs):
        if not isinstance(o, Tensor):
            raise ExportError(f"onnx.export: the model returned {type(o).__name__} as output {i}; ONNX export needs "
                              f"a Tensor, or a tuple of Tensors")
    return Trace(inputs, outputs, _creation_order(outputs))


def _creation_order(outputs):
    seen, stack, nodes = set(), list(outputs), []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        nodes.append(node)
        stack.extend(node._inputs)
    return sorted(nodes, key=lambda n: n._id)


def check_outputs(first, names):
    """Refuse an output that does not depend on any input through the recorded graph (see the module's docstring)."""
    reached = {id(x) for x in first.inputs}
    for node in first.order:
        if node._gate is not None and any(id(x) in reached for x in node._inputs):
            reached.add(id(node))
    for k, (out, name) in enumerate(zip(first.outputs, names)):
        if id(out) in reached:
            continue
        how = (f"it is made by the {out._gate.name} gate ({where_made(out)}) from constants only" if out._gate is not None
               else f"it is a constant made by {where_made(out)}")
        raise ExportError(
            f"onnx.export: output {k} ({name!r}, shape {out.shape}, {out.dtype}) does not depend on the input through "
            f"the graph: {how}, so the file would hold the example's value whatever the input. It was computed "
            f"outside the graph (from .data or numpy, under no_grad, after detach()); compute it with Tensor "
            f"operations on the input (comparisons and argmax are traced too), or return what it is computed from "
            f"and finish the computation after running the ONNX file"
        )


def second_input(arrays, batch):
    """Inputs with other values (same mean and spread) and, when ``batch`` is given, that many rows."""
    rng = np.random.default_rng(17)
    out = []
    for a in arrays:
        shape = a.shape if batch is None else (batch,) + a.shape[1:]
        spread = float(a.std()) if a.size and np.isfinite(a).all() and a.std() > 0 else 1.0
        centre = float(a.mean()) if a.size and np.isfinite(a).all() else 0.0
        out.append((rng.standard_normal(shape) * spread + centre).astype(a.dtype))
    return out


def compare(first, second, known, dynamic):
    """Refuse a trace that another input would not reproduce, naming the gate (see the module's docstring).
    ``known``: ids of the leaves that are inputs, parameters or buffers (they may differ: they are not constants)."""
    gates = [[n for n in t.order if n._gate is not None] for t in (first, second)]
    kinds = [[type(n._gate) for n in g] for g in gates]
    if kinds[0] != kinds[1] or len(first.outputs) != len(second.outputs):
        at = next((i for i, (a, b) in enumerate(zip(*kinds)) if a is not b), min(map(len, kinds)))
        node = gates[0][min(at, len(gates[0]) - 1)] if gates[0] else None
        where = f" (from the {node._gate.name} gate made by {where_made(node)} on)" if node is not None else ""
        other = "another batch size" if dynamic else "other values"
        raise ExportError(
            f"onnx.export: the model computes differently for an input of {other}{where}: its forward depends on "
            f"the input's values{' or batch size' if dynamic else ''} (a Python `if` on a tensor, a loop over the "
            f"batch), so no single traced graph stands for it"
        )
    known2 = {id(x) for x in second.inputs} | known
    for a, b in zip(gates[0], gates[1]):
        for k, (x, y) in enumerate(zip(a._inputs, b._inputs)):
            if x._gate is None and id(x) not in known and id(y) not in known2:
                _same(a, f"its input {k} (a constant)", x._data, y._data, dynamic)
        for key, value in (a._gate._options or {}).items():
            for x, y in zip(_arrays(value), _arrays(b._gate._options[key])):
                _same(a, f"its argument {key}", x, y, dynamic)


def _arrays(value):
    """The numpy arrays in an option: itself, or those in a tuple (an index, batch norm's running statistics)."""
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, (tuple, list)):
        return [v for v in value if isinstance(v, np.ndarray)]
    return []


def _collapsed(a):
    """``a`` with every axis along which it does not change cut to size 1 (a broadcast constant, or a mask
    ``mg.where`` broadcast to the batch, then compares across batch sizes)."""
    for axis in range(a.ndim):
        if a.shape[axis] > 1 and (a == a.take([0], axis=axis)).all():
            a = a.take([0], axis=axis)
    return a


def _same(node, what, x, y, dynamic):
    if x.shape != y.shape:
        x, y = _collapsed(x), _collapsed(y)
    if x.shape != y.shape:
        raise ExportError(
            f"onnx.export: the {node._gate.name} gate, made by {where_made(node)}: {what} has shape {x.shape} here "
            f"and {y.shape} for another batch size; a constant made for the batch size cannot have a symbolic one: "
            f"export with dynamic_batch=False"
        )
    if not np.array_equal(x, y, equal_nan=x.dtype.kind == "f"):
        raise ExportError(
            f"onnx.export: the {node._gate.name} gate, made by {where_made(node)}: {what} changes with the input: it "
            f"was computed from the input outside the graph (a comparison, argmax, an index taken from the data, "
            f"return_indices...), so the file would hold the example's value; compute it with gates that have an "
            f"ONNX mapping"
        )
