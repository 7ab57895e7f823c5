"""What a drawing knows: which nodes and edges a graph has, and where their gradients come from.

Nothing here recomputes a gradient. A drawing shows one of

* no frame (before any backward): the forward pass only, no misleading zero gradients;
* :class:`StateFrame`: what the last backward that reached the root recorded (``core/records.py``):
  every node's gradient and what each gate sent on each edge, hooks included -- the arrays after
  ``backward(retain_graph=True)``, their shapes and norms after a plain ``backward()``;
* :class:`StepFrame`: the moment just after one Step of backprop -- only the gradients sent by then.

The Steps come from the same place: :func:`backprop_steps` replays the records of the last backward,
or, for a graph that has not been backpropagated yet, runs the loop as a dry run (``.grad`` and the
records untouched; hooks run, since they are part of what backward computes).
"""
from __future__ import annotations

import numpy as np

from ..core import engine, records
from ..core.step import Step
from ..core.text import plain


# --- which nodes and edges ---------------------------------------------------------------------


def collect(root):
    """Every node that ``root`` depends on, oldest first, and each node's consumer edges.

    Iterative (no recursion); ``consumers[node]`` lists ``(consumer, input_index)``.
    """
    seen = {root}
    stack = [root]
    consumers = {root: []}
    while stack:
        node = stack.pop()
        for i, parent in enumerate(node._inputs):
            if parent not in seen:
                seen.add(parent)
                consumers[parent] = []
                stack.append(parent)
            consumers[parent].append((node, i))
    nodes = sorted(seen, key=lambda n: n._id)
    return nodes, consumers


def is_tensor(node):
    return hasattr(node, "shape")


def is_summary(g):
    """Whether ``g`` is a freed gradient's record (its shape and norm), not the gradient itself."""
    return isinstance(g, records.Summary)


# --- frames: where the gradients come from -----------------------------------------------------


class StateFrame:
    """The gradients the last backward that reached the root recorded, hooks included."""

    current = None

    def __init__(self, root):
        self.mark = records.last_pass(root)
        self._locals = {}
        order, _ = records.reachable(root)  # whether some gradient is known only by its shape and norm:
        self.summaries = any(n._pass == self.mark and is_summary(n._g) for n in order)  # a scalar loss's never is

    def _record(self, node):
        return records.record_of(node, self.mark)

    def grad(self, node):
        """The gradient this backward gave ``node`` (a leaf whose ``.grad`` is just that: its values)."""
        rec = self._record(node)
        if rec is None:
            return None
        g = rec[records.GRAD]
        if is_summary(g) and node._gate is None and self.accumulated(node) is None and _held(node) is not None:
            return _held(node)  # a parameter: its .grad holds the values the record kept only the norm of
        return g

    def accumulated(self, node):
        """A leaf's ``.grad`` when it is not what this backward gave it -- gradients add up over backward
        passes until ``zero_grad()`` -- else None."""
        rec = self._record(node)
        held = _held(node) if node._gate is None else None
        if rec is None or held is None:
            return None
        return None if same_gradient(held, rec[records.GRAD]) else held

    def hook(self, node):
        """(before, after) when a hook replaced this node's gradient, else None."""
        rec = self._record(node)
        if rec is None or rec[records.BEFORE] is None:
            return None
        return rec[records.BEFORE], rec[records.GRAD]

    def edge(self, node, i):
        """(upstream, local, downstream) on the edge into input ``i`` of ``node``'s gate, or None."""
        rec = self._record(node)
        if rec is None or rec[records.SENT] is None:
            return None
        if node not in self._locals:
            self._locals[node] = node._gate.local(node)
        return rec[records.GRAD], self._locals[node][i], rec[records.SENT][i]


def _held(node):
    """A leaf's ``.grad`` as an array or number (a ``create_graph`` pass leaves a Tensor), or None; a Value's
    0.0 before any backward counts as None."""
    grad = getattr(node, "grad", None)
    if grad is None or (isinstance(grad, float) and grad == 0.0 and not is_tensor(node)):
        return None
    return getattr(grad, "_data", grad)


def same_gradient(held, g):
    """Whether ``.grad`` (``held``) is the gradient ``g`` one backward recorded (an array, a number, or a
    freed gradient's norm), to float32's precision."""
    if g is None:
        return False
    if is_summary(g):
        norm = float(np.linalg.norm(np.asarray(held, dtype=np.float64)))
        return abs(norm - g.norm) <= 1e-5 * max(norm, g.norm, 1e-30)
    held, g = np.asarray(held, dtype=np.float64), np.asarray(g, dtype=np.float64)
    return held.shape == g.shape and bool(np.allclose(held, g, rtol=1e-5, atol=1e-30))


class EdgeFrame(StateFrame):
    """What the last backward sent along each edge, but no node's gradient: the explorer's drawings show
    the forward pass on the nodes and let the page reveal each edge's gradient as backprop reaches it."""

    def grad(self, node):
        return None

    def accumulated(self, node):
        return None

    def hook(self, node):
        return None


class StepFrame:
    """The graph just after ``steps[-1]``: gradients known by then, that step's gate highlighted."""

    def __init__(self, steps, run):
        self.current = steps[-1] if steps else None
        self._edges = {}
        self._delivered = {}
        self._hooked = {}
        for step in steps:
            if step.kind == "copy":
                continue
            up = plain(step.upstream)
            if step.kind == "hook":
                self._hooked[step.output] = (up, plain(step.downstream[0]))
                continue
            for i, (parent, g) in enumerate(zip(step.inputs, step.downstream)):
                g = plain(g)
                self._edges[(step.output, i)] = (up, plain(step.local[i]), g)
                if g is not None:
                    self._delivered.setdefault(parent, []).append(g)
        self._root, self._seed = run.root, plain(run.seed)
        self._expected = None
        self.summaries = any(is_summary(g) for gs in self._delivered.values() for g in gs)

    def expect(self, consumers):
        """Learn how many gradient-carrying edges each node has (from the drawing's edge list)."""
        self._expected = {
            node: sum(1 for consumer, i in edges if node.requires_grad and consumer._gate is not None)
            for node, edges in consumers.items()
        }

    def grad(self, node):
        if node in self._hooked:
            return self._hooked[node][1]
        if node is self._root:
            return self._seed
        received = self._delivered.get(node)
        if not received or len(received) < self._expected.get(node, 0):
            return None
        if len(received) == 1:
            return received[0]
        if any(is_summary(g) for g in received):  # norms do not add up: the sum backward recorded
            rec = node._rec
            return None if rec is None else (rec[records.BEFORE] if rec[records.BEFORE] is not None else rec[records.GRAD])
        total = received[0]
        for g in received[1:]:
            total = total + g
        return total

    def accumulated(self, node):
        return None  # the moment of one step: .grad is what backward had added up by then, not drawn

    def hook(self, node):
        return self._hooked.get(node)

    def edge(self, node, i):
        return self._edges.get((node, i))


def backprop_steps(root, grad=None, *, who="draw"):
    """The Steps of backprop from ``root``: replayed from what the last backward recorded, or -- for a
    graph not backpropagated yet, or with another starting gradient ``grad`` -- computed by a dry run
    that leaves ``.grad`` and the records as they were."""
    if grad is None:
        replayed = records.replay(root)
        if replayed is not None:
            return replayed
    try:
        return list(engine.backprop(root, seed(root) if grad is None else seed_for(root, grad), steps=True, dry=True))
    except engine.GraphFreedError as exc:
        raise engine.GraphFreedError(
            f"{who}: this tensor graph's saved arrays were freed by an earlier backward() that recorded nothing "
            f"for it; step through it before calling backward(), or call backward(retain_graph=True)"
        ) from exc


NO_GRADIENTS = "forward pass: no gradients yet (call backward() to see the gradient flow)"
UNRECORDED = ("forward pass only: no backward() recorded its gradients here, though .grad is filled (one under "
              "recording(False), or through another graph); call backward() to draw them (it adds to .grad: "
              "zero it first)")
FREED = ("forward pass only: the backward() through this graph recorded nothing (it ran under recording(False)) "
         "and freed its saved arrays, so it cannot run again; .grad holds its result. To draw the gradients, run "
         "the forward again and call backward() with recording on (the default)")
OTHER_ROOT = "forward pass only: the last backward() started from another tensor and reached this graph only up to {}; {}"
OTHER_FREED = "it freed the saved arrays, so run the forward again and call backward() on this tensor to draw its gradients"
OTHER_KEPT = "call backward() on this tensor to draw its gradients (it adds to .grad: zero it first)"


def missing(nodes):
    """Why a drawing of these nodes (oldest first, the root last) shows no gradient, and how to get them drawn:
    no backward yet; a backward that recorded nothing (``recording(False)``), which may have freed the
    graph; or a backward from another tensor, which reached part of this graph."""
    freed = any(getattr(n._gate, "released", False) for n in nodes)
    reached = [n for n in nodes if n._pass is not None]
    if reached:
        node = reached[-1]  # the newest: where the other backward came in
        what = node.label or (node._gate.name if node._gate is not None else "a leaf")
        where = f"{what} {tuple(node.shape)}" if is_tensor(node) else what
        return OTHER_ROOT.format(where, OTHER_FREED if freed else OTHER_KEPT)
    if freed:
        return FREED
    if any(n._gate is None and _has_grad(n) for n in nodes):
        return UNRECORDED
    return NO_GRADIENTS


def _has_grad(node):
    grad = getattr(node, "grad", None)
    if grad is None:
        return False
    return bool(grad) if isinstance(grad, float) else True  # a Value's .grad starts at 0.0


def frame_for(root, step):
    """The frame to draw: None before any backward, the state after one, or the frame of a step."""
    if step is None:
        return StateFrame(root) if records.last_pass(root) is not None else None
    if isinstance(step, Step):
        return StepFrame(step._run.steps[: step.index + 1], step._run)
    if not isinstance(step, int) or isinstance(step, bool):
        raise TypeError(f"draw: step must be an int (a step number) or a Step, got {type(step).__name__}")
    steps = backprop_steps(root)
    if not -len(steps) <= step < len(steps):
        raise IndexError(
            f"draw: step {step} is out of range: this graph's backprop has {len(steps)} steps "
            f"(0 to {len(steps) - 1})"
        )
    index = step % len(steps)
    return StepFrame(steps[: index + 1], steps[0]._run)


def seed(root):
    """The gradient backprop starts from: 1 for a scalar root."""
    if is_tensor(root):
        return root._seed_grad(None)
    return 1.0


def seed_for(root, grad):
    if is_tensor(root):
        return root._seed_grad(grad)
    return float(grad)
