"""``gradgradcheck``: second derivatives against float64 central differences of the first, at every index.

The first derivative g(x) = ∂⟨fn(x), v⟩/∂x is computed with ``create_graph=True``, so it is a graph of
gates itself; its own gradient ∂⟨g(x), u⟩/∂x (u a fixed random direction) is compared with
(⟨g(x + eps·eᵢ), u⟩ − ⟨g(x − eps·eᵢ), u⟩) / 2eps for every index i. When they disagree it finds the
first gate whose second derivative is wrong: the gate's backward, run as a graph, is checked against
central differences of its ordinary backward on the inputs it saw. A gradient that does not require
grad has a second derivative of 0 -- checked like any other, since a backward that reads ``.data``
gives such a gradient where it should not.
"""
from __future__ import annotations

import copy

import numpy as np

from ..core import autograd, engine
from ..core.function import HigherOrderError
from ..core.outputs import Output
from ..core.tensor import Tensor
from .gradcheck import (GradcheckError, _central_differences, _differs, _float64_inputs, _rebuilt_with_sites, _site,
                        check_tolerances, gate_nodes, projection, worst_mismatch)


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check ``fn``'s second derivatives against central differences of its first, at every index.

    ``inputs`` as for :func:`~minigrad.debug.gradcheck.gradcheck` (copied to float64). Returns True, or
    raises ``GradcheckError`` naming the worst index with both values and, when it finds one, the first
    gate whose second derivative disagrees (name, creation line, input, element, both values; and whether
    that gate's gradient left the graph). A first derivative that does not require grad is checked too
    (its second derivative is 0). A gate without second derivatives raises its ``HigherOrderError``,
    naming it.
    """
    if not callable(fn):
        raise TypeError(f"gradgradcheck: fn must be a function of the inputs, got {type(fn).__name__}")
    check_tolerances("gradgradcheck", eps, atol, rtol)
    xs = _float64_inputs(inputs, "gradgradcheck")
    checked = [x for x in xs if x.requires_grad]
    if not checked:
        raise ValueError("gradgradcheck: no input requires grad; pass arrays, or Tensors with requires_grad=True")
    rng = np.random.default_rng(seed)
    out = fn(*xs)
    if not isinstance(out, Tensor) or not out.requires_grad:
        raise ValueError("gradgradcheck: fn must return a Tensor that depends on an input that requires grad")
    v = np.ones(out.shape) if out.numel() == 1 else rng.standard_normal(out.shape)
    u = [rng.standard_normal(x.shape) for x in checked]

    def first(create_graph):
        y = fn(*xs)
        return autograd.grad(y, checked, grad_outputs=v, create_graph=create_graph, allow_unused=True)

    grads = first(create_graph=True)
    total = _projected_sum(grads, u)
    # no term: the first derivative does not require grad, so the second is 0 -- unless a gate's gradient
    # left the graph, which the central differences below show
    second = [None] * len(checked) if total is None else autograd.grad(total, checked, allow_unused=True)

    def projected():
        with engine.enable_grad():
            gs = first(create_graph=False)
        return float(sum(np.sum(np.asarray(g, np.float64) * w) for g, w in zip(gs, u) if g is not None))

    worst = worst_mismatch(((k, x.data, second[k]) for k, x in enumerate(checked)), projected, eps, atol, rtol)
    if worst is None:
        return True
    k, index, a, numeric = worst
    message = (f"gradgradcheck: input {k} (shape {checked[k].shape}) at index {index}: analytic second derivative "
               f"{a:.8g} vs numeric {numeric:.8g} (|difference| {abs(a - numeric):.3g} > atol {atol} + rtol {rtol} × "
               f"|numeric|)")
    if total is None:
        message += ("; the first derivative does not require grad (it does not depend on the inputs in the graph), "
                    "so its analytic second derivative is 0")
    broken = _first_broken_second_derivative(_rebuilt_with_sites(fn, xs), eps, atol, rtol, rng)
    if broken is None:
        raise GradcheckError(message + "; every gate's second derivative agrees on the inputs it saw", k, index, a,
                             numeric)
    raise GradcheckError(f"{message}; {broken.args[0]}", k, index, a, numeric, broken.gate, broken.site)


def _first_broken_second_derivative(root, eps, atol, rtol, rng):
    for node in gate_nodes(root):
        found = _check_gate(node, eps, atol, rtol, rng)
        if found is not None:
            i, index, a, numeric, left = found
            site = _site(node)
            where = f" (created at {site})" if site else ""
            why = ""
            if left:
                which = ", ".join(str(j) for j in left)
                why = (f"; its gradient for input{'s' if len(left) > 1 else ''} {which} does not require grad: its "
                       f"backward left the graph (it read .data or .detach() of a Tensor, or an array made from "
                       f"one), so the second derivative sees a constant; write the backward with Tensor operations "
                       f"on ctx.saved_tensors")
            return GradcheckError(
                f"the first gate whose second derivative disagrees is {node._gate.name}{where}: input {i} at index "
                f"{index}, its backward (as a graph) gives {a:.8g} but central differences of its backward give "
                f"{numeric:.8g}{why}", i, index, a, numeric, node._gate.name, site)
    return None


def _projected_sum(grads, directions):
    """Σ ⟨g, u⟩ over the gradients that require grad (a Tensor to differentiate), or None when none does."""
    total = None
    for g, u in zip(grads, directions):
        if isinstance(g, Tensor) and g.requires_grad and u is not None:
            term = (g * u).sum()
            total = term if total is None else total + term
    return total


def _check_gate(node, eps, atol, rtol, rng):
    """The gate's first derivative g(x) = ∂⟨gate(x), w⟩/∂x, built as a graph: ⟨g(x), u⟩ differentiated through it,
    against central differences of the same first derivative computed without create_graph.

    Returns (input, index, analytic, numeric, inputs whose graph gradient does not require grad) or None."""
    gate = node._gate
    if not hasattr(node, "shape") or isinstance(gate, Output) or gate.released or not hasattr(gate, "_options"):
        return None  # a Value, or one output of a gate with several (checked at their joint node)
    cls, options = type(gate), gate._options or {}
    arrays = [x._data.astype(np.float64) if x._data.dtype.kind == "f" else x._data for x in node._inputs]
    wants = [x.requires_grad and x._data.dtype.kind == "f" for x in node._inputs]
    if not any(wants):
        return None

    def call(tensors):
        if gate._positions is None:
            return tuple(tensors)
        args = list(gate._args)  # the new tensors among forward's other positional arguments
        for position, t in zip(gate._positions, tensors):
            args[position] = t
        return tuple(args)

    def outputs(values):
        leaves = [Tensor(v, requires_grad=want) for v, want in zip(values, wants)]
        out = cls()._apply(call(leaves), copy.deepcopy(options))
        return (out if isinstance(out, tuple) else (out,)), [t for t, want in zip(leaves, wants) if want]

    with engine.no_grad():
        shapes = [(y.shape, y.dtype) for y in outputs([a.copy() for a in arrays])[0]]
    if any(dtype != np.float64 for _, dtype in shapes):
        return None  # a cast: its float64 forward is not the gate that ran
    ws = [rng.standard_normal(shape) for shape, _ in shapes]
    us = [rng.standard_normal(a.shape) for a, want in zip(arrays, wants) if want]

    def first(values, graph):
        with engine.enable_grad():
            ys, leaves = outputs(values)
            total = projection(ys, ws)
            if total is None:
                return None, leaves
            return autograd.grad(total, leaves, create_graph=graph, allow_unused=True), leaves

    try:
        grads, leaves = first([a.copy() for a in arrays], graph=True)
    except HigherOrderError:
        return None
    if grads is None:
        return None
    inputs = [i for i, want in enumerate(wants) if want]
    # a gradient that does not require grad gives 0 here; if it should not, the central differences say so
    left = [i for i, g in zip(inputs, grads) if isinstance(g, Tensor) and not g.requires_grad]
    total = _projected_sum(grads, us)
    second = [None] * len(leaves) if total is None else autograd.grad(total, leaves, allow_unused=True)
    for i, analytic in zip(inputs, second):
        values = [a.copy() for a in arrays]
        analytic = np.zeros(values[i].shape) if analytic is None else analytic

        def projected(values=values):
            gs, _ = first(values, graph=False)
            return float(sum(np.sum(g * u) for g, u in zip(gs, us) if g is not None))

        for index, a, numeric in _central_differences(values[i], projected, analytic, eps):
            if _differs(a, numeric, atol, rtol) > 0:
                return i, index, a, numeric, left
    return None
