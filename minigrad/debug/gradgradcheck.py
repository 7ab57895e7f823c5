"""``gradgradcheck``: second derivatives against float64 central differences of the first, at every index.

The first derivative g(x) = ∂⟨fn(x), v⟩/∂x is computed with ``create_graph=True``, so it is a graph of
gates itself; its own gradient ∂⟨g(x), u⟩/∂x (u a fixed random direction) is compared with
(⟨g(x + eps·eᵢ), u⟩ − ⟨g(x − eps·eᵢ), u⟩) / 2eps for every index i. When they disagree it finds the
first gate whose second derivative is wrong: the gate's backward, run as a graph, is checked against
central differences of its ordinary backward on the inputs it saw.
"""
from __future__ import annotations

import copy

import numpy as np

from ..core import autograd, engine
from ..core.function import HigherOrderError
from ..core.tensor import Tensor
from .gradcheck import (GradcheckError, _central_differences, _differs, _float64_inputs, _rebuilt_with_sites, _site,
                        check_tolerances, gate_nodes)


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check ``fn``'s second derivatives against central differences of its first, at every index.

    ``inputs`` as for :func:`~minigrad.debug.gradcheck.gradcheck` (copied to float64). Returns True, or
    raises ``GradcheckError`` naming the worst index with both values and, when it finds one, the first
    gate whose second derivative disagrees (name, creation line, input, element, both values). A gate
    without second derivatives raises its ``HigherOrderError``, naming it.
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
    terms = [(g * w).sum() for g, w in zip(grads, u) if isinstance(g, Tensor) and g.requires_grad]
    if not terms:
        return True  # the first derivative does not depend on the inputs: the second is 0 everywhere
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    second = autograd.grad(total, checked, allow_unused=True)

    def projected():
        with engine.enable_grad():
            gs = first(create_graph=False)
        return float(sum(np.sum(np.asarray(g, np.float64) * w) for g, w in zip(gs, u) if g is not None))

    worst = None
    for k, x in enumerate(checked):
        analytic = second[k] if second[k] is not None else np.zeros(x.shape)
        for index, a, numeric in _central_differences(x.data, projected, analytic, eps):
            excess = _differs(a, numeric, atol, rtol)
            if excess > 0 and (worst is None or excess > worst[0]):
                worst = (excess, k, index, a, numeric)
    if worst is None:
        return True
    _, k, index, a, numeric = worst
    message = (f"gradgradcheck: input {k} (shape {checked[k].shape}) at index {index}: analytic second derivative "
               f"{a:.8g} vs numeric {numeric:.8g} (|difference| {abs(a - numeric):.3g} > atol {atol} + rtol {rtol} × "
               f"|numeric|)")
    broken = _first_broken_second_derivative(_rebuilt_with_sites(fn, xs), eps, atol, rtol, rng)
    if broken is None:
        raise GradcheckError(message + "; every gate's second derivative agrees on the inputs it saw", k, index, a,
                             numeric)
    raise GradcheckError(f"{message}; {broken.args[0]}", k, index, a, numeric, broken.gate, broken.site)


def _first_broken_second_derivative(root, eps, atol, rtol, rng):
    for node in gate_nodes(root):
        found = _check_gate(node, eps, atol, rtol, rng)
        if found is not None:
            i, index, a, numeric = found
            site = _site(node)
            where = f" (created at {site})" if site else ""
            return GradcheckError(
                f"the first gate whose second derivative disagrees is {node._gate.name}{where}: input {i} at index "
                f"{index}, its backward (as a graph) gives {a:.8g} but central differences of its backward give "
                f"{numeric:.8g}", i, index, a, numeric, node._gate.name, site)
    return None


def _check_gate(node, eps, atol, rtol, rng):
    """⟨backward(x)(w), u⟩ differentiated through the gate's graph backward, against central differences."""
    gate = node._gate
    if not hasattr(node, "shape") or gate.released or getattr(gate, "outputs", None) is not None or \
            not hasattr(gate, "_options"):
        return None
    cls, options = type(gate), gate._options or {}
    arrays = [x._data.astype(np.float64) if x._data.dtype.kind == "f" else x._data for x in node._inputs]
    wants = [x.requires_grad and x._data.dtype.kind == "f" for x in node._inputs]
    w = rng.standard_normal(node.shape)
    us = [rng.standard_normal(a.shape) if want else None for a, want in zip(arrays, wants)]

    def sent(values, graph):
        tensors = tuple(Tensor(v, requires_grad=want) for v, want in zip(values, wants))
        with engine.enable_grad():
            y = cls()._apply(tensors, copy.deepcopy(options))
            if y.dtype != np.float64:
                return None, tensors
            return (y._gate.send_graph(y, Tensor(w)) if graph else y._gate.send(y, w)), tensors

    try:
        grads, leaves = sent([a.copy() for a in arrays], graph=True)
    except HigherOrderError:
        return None
    if grads is None:
        return None
    terms = [(g * u).sum() for g, u in zip(grads, us) if g is not None and u is not None and g.requires_grad]
    if not terms:
        return None
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    second = autograd.grad(total, [t for t, want in zip(leaves, wants) if want], allow_unused=True)
    by_input = iter(second)
    for i, want in enumerate(wants):
        if not want:
            continue
        analytic = next(by_input)
        values = [a.copy() for a in arrays]
        analytic = np.zeros(values[i].shape) if analytic is None else analytic

        def projected(values=values):
            gs, _ = sent(values, graph=False)
            return float(sum(np.sum(g * u) for g, u in zip(gs, us) if g is not None and u is not None))

        for index, a, numeric in _central_differences(values[i], projected, analytic, eps):
            if _differs(a, numeric, atol, rtol) > 0:
                return i, index, a, numeric
    return None
