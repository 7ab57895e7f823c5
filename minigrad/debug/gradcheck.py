"""``gradcheck``: analytic gradients against float64 central differences at every index -- and, when
they disagree, the first gate whose own rule disagrees.

A whole-model check only says that some gradient is off. Every gate can be checked on its own, though:
run its forward again on the inputs it actually saw (in float64), perturbed one element at a time, and
compare with what its backward sends for the same upstream gradient. :func:`gradcheck_gates` does that
for every gate of a graph, oldest first, and names the first one that disagrees, with the line that
created it; :func:`gradcheck` runs it by itself when the whole function fails.
"""
from __future__ import annotations

import copy
import math

import numpy as np

from ..core import engine
from ..core.engine import GraphFreedError, no_grad
from ..core.outputs import Output
from ..core.tensor import Tensor


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with central differences.

    ``input`` (index) and ``index`` (element) say where, with ``analytic`` and ``numeric``; when a gate
    was found whose own rule disagrees, ``gate`` is its name and ``site`` the line that created it
    ("file:line: code", or None when it was not recorded).
    """

    def __init__(self, message, input=None, index=None, analytic=None, numeric=None, gate=None, site=None):
        super().__init__(message)
        self.input, self.index, self.analytic, self.numeric = input, index, analytic, numeric
        self.gate, self.site = gate, site


def _differs(a, numeric, atol, rtol):
    """How far ``a`` is past the tolerance (> 0: a mismatch). Two NaNs agree; one NaN does not."""
    if math.isnan(a) or math.isnan(numeric):
        return 0.0 if math.isnan(a) and math.isnan(numeric) else math.inf
    if a == numeric:  # also equal infinities
        return 0.0
    return abs(a - numeric) - (atol + rtol * abs(numeric))


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check ``fn``'s gradients against float64 central differences at every index of every input.

    ``inputs`` are Tensors (those with ``requires_grad`` are checked) or arrays (all checked);
    they are copied to float64 first. ``fn`` returns a Tensor of any shape: its gradient is
    taken against a fixed random upstream gradient v (1 for a one-element output), and the numeric derivative of
    ⟨fn(x), v⟩ is (⟨fn(x + eps·eᵢ), v⟩ − ⟨fn(x − eps·eᵢ), v⟩) / 2eps for every index i.
    An index passes when |analytic − numeric| ≤ atol + rtol·|numeric| (two NaNs agree).

    Returns True, or raises ``GradcheckError`` naming the worst index with both values and, when
    it finds one, the first gate whose own rule disagrees with central differences (its name, the
    line that created it, the input and element, both values).
    """
    if not callable(fn):
        raise TypeError(f"gradcheck: fn must be a function of the inputs, got {type(fn).__name__}")
    check_tolerances("gradcheck", eps, atol, rtol)
    xs = _float64_inputs(inputs)
    checked = [k for k, x in enumerate(xs) if x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; pass arrays, or Tensors with requires_grad=True")

    out = fn(*xs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    if not out.requires_grad:
        raise ValueError("gradcheck: the output does not depend on any input that requires grad")
    if not np.all(np.isfinite(out.data)):
        raise ValueError("gradcheck: fn's output is not finite at the given inputs")
    upstream = _upstream(out.shape, seed)
    out.backward(upstream.astype(out.dtype))

    def projected():
        with no_grad():
            return float(np.sum(np.asarray(fn(*xs).data, dtype=np.float64) * upstream))

    worst = worst_mismatch(((k, xs[k].data, xs[k].grad) for k in checked), projected, eps, atol, rtol)
    if worst is None:
        return True
    k, index, a, numeric = worst
    message = (
        f"gradcheck: input {k} (shape {xs[k].shape}) at index {index}: analytic {a:.8g} vs numeric {numeric:.8g} "
        f"(|difference| {abs(a - numeric):.3g} > atol {atol} + rtol {rtol} × |numeric|)"
    )
    broken = _first_broken_gate(_rebuilt_with_sites(fn, xs), eps, atol, rtol, seed)
    if broken is None:
        raise GradcheckError(
            message + "; every gate's own rule agrees with central differences on the inputs it saw, so look for "
            "randomness that differs from call to call (dropout draws a new mask), a point where fn is not "
            "differentiable (a kink, a tie), or an eps too large for fn's curvature",
            k, index, a, numeric)
    raise GradcheckError(f"{message}; {broken.args[0]}", k, index, a, numeric, broken.gate, broken.site)


def gradcheck_gates(root, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check every gate of the graph below ``root`` on its own: its backward against float64 central
    differences of its forward, on the inputs it saw, at every index. Returns True, or raises
    ``GradcheckError`` naming the first gate (oldest first) whose rule disagrees.

    Creation lines are known for graphs built inside ``mg.detect_anomaly()`` (``gradcheck`` rebuilds
    the graph to find them). A gate with several outputs is checked on all of them at once; outputs
    that are NaN or infinite take no part; gates whose float64 forward does not give a float64 result
    (a cast) are not checked. A tensor graph's gates must still hold what they saved: check before
    ``backward()`` or after ``backward(retain_graph=True)`` (a freed gate raises ``GraphFreedError``).
    """
    if not hasattr(root, "_inputs"):
        raise TypeError(f"gradcheck_gates: expected a minigrad Value or Tensor, got {type(root).__name__}")
    check_tolerances("gradcheck_gates", eps, atol, rtol)
    broken = _first_broken_gate(root, eps, atol, rtol, seed)
    if broken is not None:
        raise broken
    return True


# --- checking one gate ---------------------------------------------------------------------------------


def gate_nodes(root):
    """The nodes made by a gate in ``root``'s graph, oldest first (iterative: no recursion)."""
    nodes, seen, stack = [], {root}, [root]
    while stack:
        node = stack.pop()
        if node._gate is not None:
            nodes.append(node)
        for parent in node._inputs:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return sorted(nodes, key=lambda n: n._id)


def _first_broken_gate(root, eps, atol, rtol, seed):
    """A GradcheckError for the first gate (in creation order) whose rule disagrees, or None."""
    rng = np.random.default_rng(seed)
    for node in gate_nodes(root):
        check = _check_tensor_gate if hasattr(node, "shape") else _check_scalar_gate
        found = check(node, eps, atol, rtol, rng)
        if found is not None:
            i, index, a, numeric = found
            site = _site(node)
            where = f" (created at {site})" if site else ""
            return GradcheckError(
                f"the first gate whose rule disagrees is {node._gate.name}{where}: input {i} at index {index}, "
                f"its backward sends {a:.8g} but central differences of its forward give {numeric:.8g}; "
                f"its rule: {node._gate.formula}",
                i, index, a, numeric, node._gate.name, site)
    return None


def _check_tensor_gate(node, eps, atol, rtol, rng):
    gate = node._gate
    if isinstance(gate, Output):
        return None  # one output of a gate with several: the gate itself is checked at its joint node
    if gate.released:
        raise GraphFreedError(
            f"gradcheck_gates: {gate.name} (output shape {node.shape}) freed what it saved when backward() ran, "
            f"so it cannot be run again; call gradcheck_gates before backward(), or after backward(retain_graph=True)"
        )
    cls, options = type(gate), gate._options or {}
    arrays = [x._data.astype(np.float64) if x._data.dtype.kind == "f" else x._data for x in node._inputs]
    wants = [x.requires_grad and x._data.dtype.kind == "f" for x in node._inputs]

    def call(tensors):
        if gate._positions is None:
            return tuple(tensors)
        args = list(gate._args)  # put the (new) tensors back among forward's other positional arguments
        for position, t in zip(gate._positions, tensors):
            args[position] = t
        return tuple(args)

    def run(tensors):
        out = cls()._apply(call(tensors), copy.deepcopy(options))
        return out if isinstance(out, tuple) else (out,)

    def forward(values):
        with no_grad():
            return [t._data for t in run([Tensor(v) for v in values])]

    ys = forward(arrays)
    if any(y.dtype != np.float64 for y in ys):
        return None  # a cast: its float64 forward is not the gate that ran
    # an output that is NaN or infinite takes no part (its gradient is whatever propagates, as in PyTorch)
    finite = [np.isfinite(y) for y in ys]
    partial = not all(f.all() for f in finite)
    upstream = [np.where(f, rng.standard_normal(y.shape), 0.0) for y, f in zip(ys, finite)]
    leaves = [Tensor(a.copy(), requires_grad=w) for a, w in zip(arrays, wants)]
    with engine.enable_grad():
        total = projection(run(leaves), upstream)
    if total is None:
        return None
    total.backward()
    for i, (leaf, want) in enumerate(zip(leaves, wants)):
        if not want:
            continue
        values = [a.copy() for a in arrays]
        analytic = leaf.grad if leaf.grad is not None else np.zeros_like(values[i])

        def projected(values=values):
            return float(sum(np.sum(np.where(f, y * u, 0.0)) for y, u, f in zip(forward(values), upstream, finite)))

        for index, a, numeric in _central_differences(values[i], projected, analytic, eps):
            if partial and math.isnan(a) and numeric == 0.0:
                continue  # the gradient of a NaN output is NaN, as PyTorch's; the finite outputs do not move
            if _differs(a, numeric, atol, rtol) > 0:
                return i, index, a, numeric
    return None


def projection(outputs, directions):
    """Σₖ ⟨yₖ, wₖ⟩ over the outputs that require grad, as a Tensor to backprop from (None if none does)."""
    total = None
    for y, w in zip(outputs, directions):
        if y.requires_grad:
            term = (y * Tensor(w)).sum()
            total = term if total is None else total + term
    return total


def _check_scalar_gate(node, eps, atol, rtol, rng):
    gate = node._gate
    values = [x.data for x in node._inputs]
    analytic = gate.send(node, 1.0)
    for i in range(len(values)):
        if analytic[i] is None:
            continue  # a plain number (a Constant): it takes no gradient

        def at(delta, i=i):
            moved = list(values)
            moved[i] += delta
            try:
                return gate.forward(*moved)
            except (ValueError, ZeroDivisionError, OverflowError):
                return math.nan
        numeric = (at(eps) - at(-eps)) / (2 * eps)
        if _differs(float(analytic[i]), numeric, atol, rtol) > 0:
            return i, (), float(analytic[i]), numeric
    return None


# --- helpers -------------------------------------------------------------------------------------------


def worst_mismatch(inputs, projected, eps, atol, rtol):
    """(input, index, analytic, numeric) where an analytic gradient is furthest past the tolerance, or None.
    ``inputs``: (input number, array, analytic gradient or None for zeros) for each input checked."""
    worst = None
    for k, x, analytic in inputs:
        analytic = analytic if analytic is not None else np.zeros(x.shape)
        for index, a, numeric in _central_differences(x, projected, analytic, eps):
            excess = _differs(a, numeric, atol, rtol)
            if excess > 0 and (worst is None or excess > worst[0]):
                worst = (excess, k, index, a, numeric)
    return None if worst is None else worst[1:]


def _central_differences(x, projected, analytic, eps):
    """(index, analytic, numeric) at every index of ``x`` (perturbed in place and put back)."""
    flat = x.reshape(-1)  # a view: perturbing it perturbs x
    grads = np.asarray(analytic).reshape(-1)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + eps
        plus = projected()
        flat[i] = saved - eps
        minus = projected()
        flat[i] = saved
        yield tuple(int(j) for j in np.unravel_index(i, x.shape)), float(grads[i]), (plus - minus) / (2 * eps)


def check_tolerances(where, eps, atol, rtol):
    """eps a positive finite number, atol and rtol finite and not negative: else an error naming them."""
    for name, value, positive in (("eps", eps, True), ("atol", atol, False), ("rtol", rtol, False)):
        if not isinstance(value, (int, float, np.floating, np.integer)) or isinstance(value, bool):
            raise TypeError(f"{where}: {name} must be a number, got {value!r} ({type(value).__name__})")
        if not math.isfinite(value) or value < 0 or (positive and value == 0):
            need = "a positive finite number (the step of the central differences, e.g. 1e-6)" if positive \
                else "a finite number ≥ 0"
            raise ValueError(f"{where}: {name} must be {need}, got {value!r}")


def _float64_inputs(inputs, who="gradcheck"):
    """The inputs as float64 Tensors (a single Tensor or array is one input, as in PyTorch)."""
    if isinstance(inputs, (Tensor, np.ndarray)):
        inputs = (inputs,)
    elif not isinstance(inputs, (list, tuple)):
        raise TypeError(
            f"{who}: inputs must be a Tensor, an array, or a list or tuple of them, got {type(inputs).__name__}"
        )
    xs = []
    for k, x in enumerate(inputs):
        wants = x.requires_grad if isinstance(x, Tensor) else True
        array = np.array(x.data if isinstance(x, Tensor) else x, copy=True)
        if array.dtype.kind == "f" or (wants and array.dtype.kind in "iu" and not isinstance(x, Tensor)):
            array = array.astype(np.float64)
            bad = ~np.isfinite(array)
            if bad.any():
                where = tuple(int(i) for i in np.argwhere(bad)[0])
                raise ValueError(
                    f"{who}: input {k} holds {array[where]} at index {where}; central differences need finite inputs"
                )
        xs.append(Tensor(array, requires_grad=wants and array.dtype.kind == "f"))
    return xs


def _upstream(shape, seed):
    """1 for a one-element output (so the numbers are plain derivatives), else a fixed random gradient,
    which mixes every output element into the check."""
    if math.prod(shape) == 1:
        return np.ones(shape)
    return np.random.default_rng(seed).standard_normal(shape)


def _rebuilt_with_sites(fn, xs):
    """fn's graph again, each node knowing the line of user code that created it."""
    previous = engine.set_anomaly(SITES)
    try:
        return fn(*[Tensor(x.data.copy(), requires_grad=x.requires_grad) for x in xs])
    finally:
        engine.set_anomaly(previous)


def _site(node):
    from .anomaly import _site_text

    return _site_text(getattr(node, "_site", None))


class SITES:
    """An anomaly checker that only notes where each node is made (no NaN checks): for naming a gate's line."""

    @staticmethod
    def check_forward(node, gate):
        from .anomaly import _user_frame

        node._site = _user_frame()

    @staticmethod
    def check_backward(node, gate, downstream, upstream):
        pass
